"""Pure helpers behind duplicate detection and insurance."""
from __future__ import annotations

from datetime import date

import pytest

from dvc.volunteers.operations import fiscal_year, person_key, phone_key


@pytest.mark.parametrize("raw, key", [
    ("090-1234-5678", "09012345678"), ("０９０１２３４５６７８", "09012345678"),
    ("+81 90 1234 5678", "09012345678"), ("(03) 1234-5678", "0312345678"),
])
def test_phone_key(raw, key):
    assert phone_key(raw) == key


def test_person_key_ignores_spaces_width_and_kana_script():
    assert person_key("山田 太郎", "やまだ たろう") == person_key("山田　太郎", "ヤマダタロウ")
    assert person_key("山田 太郎", "やまだ たろう") != person_key("山田 次郎", "やまだ じろう")


@pytest.mark.parametrize("day, year", [(date(2026, 4, 1), 2026), (date(2026, 3, 31), 2025),
                                       (date(2027, 1, 15), 2026)])
def test_insurance_fiscal_year_runs_april_to_march(day, year):
    assert fiscal_year(day) == year
