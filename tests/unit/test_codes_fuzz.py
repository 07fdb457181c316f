"""The code parsers against anything a scanner, a keyboard or a damaged QR can send (issue 9):
volunteer codes (dvc/core/codes.py), dispatch sheet codes and fallback form numbers either give
a well-formed result or refuse with one of their own reasons, never another exception.

Derandomised (a fixed sequence of examples), so that a run is the same everywhere."""
from __future__ import annotations

import string

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from dvc.core import codes
from dvc.fallback import numbers
from dvc.teams import sheets

SECRET = "test-secret"
FUZZ = settings(max_examples=400, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow])
REASONS = {"empty", "malformed", "checksum"}

# What arrives instead of a code: any text (emoji, control characters, NUL, surrogates are not
# text), bytes read in the wrong encoding, and near-misses of real codes.
ANY_TEXT = st.text(alphabet=st.characters(codec="utf-8"), max_size=200)
WRONG_ENCODING = st.builds(
    lambda token, codec, reader: token.encode(codec).decode(reader, errors="replace"),
    st.just(codes.new_token()), st.sampled_from(["utf-16", "utf-16-be", "utf-32", "shift_jis",
                                                 "cp1252", "utf-8"]),
    st.sampled_from(["latin-1", "shift_jis", "utf-8", "cp932"]))
RANDOM_BYTES = st.binary(max_size=200).map(lambda b: b.decode("latin-1"))
ALPHABET_TEXT = st.text(alphabet=codes.ALPHABET + string.ascii_lowercase + "-/ ", max_size=60)
INPUTS = st.one_of(ANY_TEXT, WRONG_ENCODING, RANDOM_BYTES, ALPHABET_TEXT)


def _well_formed(token: str) -> bool:
    body, check = token[:codes.BODY_LEN], token[codes.BODY_LEN:]
    return (len(token) == codes.TOKEN_LEN and set(token) <= set(codes.ALPHABET)
            and codes._check(body) == check)


@FUZZ
@given(INPUTS)
@example("\x00" * 28)
@example("🙂" * 28)
@example(codes.new_token().encode("utf-16").decode("latin-1"))
@example("０１２３４５６７８９ＡＢＣＤＥＦＧＨＪＫＭＮＰＱＲＳ")
def test_normalize_gives_a_code_or_a_reason(text):
    try:
        token = codes.normalize(text)
    except codes.CodeError as err:
        assert err.reason in REASONS
    else:
        assert _well_formed(token)


@FUZZ
@given(st.data())
def test_a_wrong_check_is_always_caught(data):
    token = codes.new_token()
    body = token[:codes.BODY_LEN]
    check = data.draw(st.text(alphabet=codes.ALPHABET, min_size=2, max_size=2)
                      .filter(lambda c: c != token[codes.BODY_LEN:]))
    with pytest.raises(codes.CodeError) as err:
        codes.normalize(body + check)
    assert err.value.reason == "checksum"


@FUZZ
@given(st.data())
def test_one_mistyped_character_is_almost_always_caught(data):
    """10 check bits miss one mistake in 1,024; a miss is still a valid-looking code that no
    volunteer owns (the lookup says "unknown code"), never a crash."""
    token = codes.new_token()
    at = data.draw(st.integers(0, codes.BODY_LEN - 1))
    other = data.draw(st.sampled_from([c for c in codes.ALPHABET if c != token[at]]))
    typo = token[:at] + other + token[at + 1:]
    try:
        assert codes.normalize(typo) != token
    except codes.CodeError as err:
        assert err.reason == "checksum"


@FUZZ
@given(st.sampled_from([lambda t: t.lower(), lambda t: f" {t} ",
                        lambda t: f"https://centre.example/v/{t}?x=1",
                        lambda t: "-".join(t[i:i + 4] for i in range(0, len(t), 4)),
                        lambda t: t.translate(str.maketrans(
                            "0123456789ABCDEFGHJKMNPQRSTVWXYZ",
                            "０１２３４５６７８９ＡＢＣＤＥＦＧＨＪＫＭＮＰＱＲＳＴＶＷＸＹＺ"))]))
def test_a_real_code_survives_how_it_arrives(dress):
    token = codes.new_token()
    assert codes.normalize(dress(token)) == token


def test_a_megabyte_is_refused_quickly():
    with pytest.raises(codes.CodeError) as err:
        codes.normalize("A" * 1_000_000)
    assert err.value.reason == "malformed"


@FUZZ
@given(INPUTS)
def test_sheet_codes_give_a_team_or_a_reason(text):
    try:
        ref = sheets.read_sheet_code(SECRET, 1, text)
    except sheets.SheetCodeError as err:
        assert err.reason in REASONS
    else:
        assert ref.team_id >= 1


@FUZZ
@given(INPUTS)
def test_form_numbers_give_a_number_or_a_reason(text):
    try:
        number = numbers.read_number(SECRET, 1, text)
    except numbers.NumberError as err:
        assert err.reason in REASONS
    else:
        assert number.serial >= 1


@FUZZ
@given(INPUTS)
def test_poster_codes_refuse_anything_but_todays(text):
    from datetime import date
    day = date(2026, 11, 22)
    expected = codes.daily_poster_code(SECRET, 1, 2, day)
    assert codes.poster_code_valid(SECRET, 1, 2, day, text) == (text.strip().upper() == expected)
