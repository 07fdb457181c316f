"""Volunteer codes: format, normalisation, checksums, daily poster codes."""
from __future__ import annotations

from datetime import date

import pytest

from dvc.core import codes


def test_new_token_is_qr_alphanumeric_and_unique():
    tokens = {codes.new_token() for _ in range(2000)}
    assert len(tokens) == 2000
    for token in list(tokens)[:50]:
        assert len(token) == codes.TOKEN_LEN == 28
        assert set(token) <= set(codes.ALPHABET)
        assert codes.normalize(token) == token


@pytest.mark.parametrize("dress", [
    lambda t: t.lower(),
    lambda t: f"  {t}\n",
    lambda t: f"https://dvc.example/v/{t}",
    lambda t: f"https://dvc.example/v/{t.lower()}/?utm=x",
    lambda t: t.replace("0", "O").replace("1", "I"),
    lambda t: f"{t[:7]}-{t[7:14]}-{t[14:21]}-{t[21:]}",
])
def test_normalize_accepts_the_ways_a_code_arrives(dress):
    token = "0123456789ABCDEFGHJKMNPQRS"
    token += codes._check(token)
    assert codes.normalize(dress(token)) == token


@pytest.mark.parametrize("text, reason", [
    ("", "empty"), ("   ", "empty"), ("hello", "malformed"), ("A" * 27, "malformed"),
    ("あいうえお", "malformed"), ("A" * 5000, "malformed"),
])
def test_normalize_refuses_what_is_not_a_code(text, reason):
    with pytest.raises(codes.CodeError) as err:
        codes.normalize(text)
    assert err.value.reason == reason


def test_single_character_changes_are_caught_by_the_checksum():
    # A 10-bit check misses about 1 change in 1,024: measured over many tokens so that the
    # figure, not the luck of one random token, is what is tested.
    caught = trials = 0
    for _ in range(50):
        token = codes.new_token()
        for i in range(codes.BODY_LEN):
            for c in codes.ALPHABET[:8]:
                if c == token[i]:
                    continue
                trials += 1
                try:
                    codes.normalize(token[:i] + c + token[i + 1:])
                except codes.CodeError as err:
                    caught += err.reason == "checksum"
    assert caught / trials > 0.99


def test_daily_poster_code_changes_every_day_and_per_site():
    a = codes.daily_poster_code("s", 1, 1, date(2026, 11, 22))
    assert codes.poster_code_valid("s", 1, 1, date(2026, 11, 22), a.lower())
    assert not codes.poster_code_valid("s", 1, 1, date(2026, 11, 23), a)
    assert not codes.poster_code_valid("s", 1, 2, date(2026, 11, 22), a)
    assert not codes.poster_code_valid("other-secret", 1, 1, date(2026, 11, 22), a)
