"""Pre-printed codes of the paper fallback pack: volunteer codes and form numbers."""
from __future__ import annotations

import pytest

from dvc.core import codes
from dvc.fallback import numbers

SECRET = "s3cret"


def test_preprinted_volunteer_codes_are_ordinary_valid_codes():
    tokens = [codes.preprinted_token(SECRET, 7, s) for s in range(1, 501)]
    assert len(set(tokens)) == 500
    for serial, token in enumerate(tokens[:50], start=1):
        assert codes.normalize(token) == token and len(token) == codes.TOKEN_LEN
        assert codes.preprinted_serial(SECRET, 7, token) == serial


def test_a_preprinted_code_belongs_to_one_operation_and_one_secret():
    token = codes.preprinted_token(SECRET, 7, 12)
    assert codes.preprinted_serial(SECRET, 8, token) is None
    assert codes.preprinted_serial("other", 7, token) is None


def test_random_codes_are_never_taken_for_preprinted_ones():
    for _ in range(500):
        assert codes.preprinted_serial(SECRET, 7, codes.new_token()) is None


def test_a_forged_serial_with_a_valid_checksum_is_not_preprinted():
    token = codes.preprinted_token(SECRET, 7, 12)
    body = token[:1] + "00013" + token[6:codes.BODY_LEN]
    assert codes.preprinted_serial(SECRET, 7, body + codes._check(body)) is None


def test_a_typo_in_a_preprinted_code_is_caught_by_the_checksum():
    token = codes.preprinted_token(SECRET, 7, 12)
    typo = token[:10] + ("A" if token[10] != "A" else "B") + token[11:]
    with pytest.raises(codes.CodeError):
        codes.normalize(typo)


@pytest.mark.parametrize("kind", ["need", "dispatch"])
def test_form_numbers_read_back_scanned_or_typed(kind):
    number = numbers.form_number(SECRET, 7, kind, 42)
    assert number.code.startswith("DVCP") and number.code.isalnum() and number.code.isupper()
    assert number.label.count("-") == 2
    for text in (number.code, number.label, number.label.lower(), f"  {number.code}\n"):
        assert numbers.read_number(SECRET, 7, text) == number


def test_form_numbers_catch_typos_and_other_operations():
    number = numbers.form_number(SECRET, 7, "need", 42)
    with pytest.raises(numbers.NumberError) as other:
        numbers.read_number(SECRET, 8, number.code)
    assert other.value.reason == "checksum"
    with pytest.raises(numbers.NumberError) as typo:
        numbers.read_number(SECRET, 7, number.code.replace("000042", "000043"))
    assert typo.value.reason == "checksum"
    with pytest.raises(numbers.NumberError) as junk:
        numbers.read_number(SECRET, 7, "hello")
    assert junk.value.reason == "malformed"
    with pytest.raises(ValueError):
        numbers.form_number(SECRET, 7, "team", 1)
