"""The volunteer registration page speaks English, Japanese and plain Japanese (?lang=...).

Needs the compiled catalogues: `make i18n` (which `make test` runs first)."""
from __future__ import annotations

from pathlib import Path

import pytest

CATALOGS = Path(__file__).resolve().parents[2] / "translations" / "ja" / "LC_MESSAGES"


@pytest.fixture(autouse=True)
def _compiled_catalogues():
    missing = [name for name in ("messages.mo", "easy.mo") if not (CATALOGS / name).exists()]
    if missing:
        pytest.fail(f"translations/ja/LC_MESSAGES/{', '.join(missing)} not compiled: run "
                    f"`make i18n` first")


def test_register_page_in_each_language(client, operation):
    url = f"/o/{operation[0]}/register"

    english = client.get(f"{url}?lang=en")
    assert english.status_code == 200
    assert "Volunteer registration" in english.text

    japanese = client.get(f"{url}?lang=ja")
    assert japanese.status_code == 200
    assert "ボランティア登録" in japanese.text
    assert "Volunteer registration" not in japanese.text

    plain = client.get(f"{url}?lang=ja-easy")
    assert plain.status_code == 200
    assert "ボランティアの 登録（とうろく）" in plain.text
    assert "Volunteer registration" not in plain.text


def test_language_choice_sticks_for_the_session(client, operation):
    url = f"/o/{operation[0]}/register"
    client.get(f"{url}?lang=ja-easy")
    assert "ボランティアの 登録（とうろく）" in client.get(url).text
