"""Volunteer codes: 128 random bits written in QR alphanumeric mode, stored only as a hash.

The alphabet is Crockford's base32 (digits and upper-case letters without I, L, O, U): every
character survives a keyboard-wedge scanner on a Japanese (JIS) layout, where symbols move
but letters and digits do not, and people can read it aloud. Two check characters catch typos
and damaged codes before any database lookup.
"""
from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import unicodedata
from datetime import date

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
BODY_LEN = 26  # ceil(128 / 5)
CHECK_LEN = 2
TOKEN_LEN = BODY_LEN + CHECK_LEN
# Letters people and scanners confuse map back to the characters they stand for.
_CONFUSABLE = str.maketrans({"O": "0", "I": "1", "L": "1", "U": "V"})
_CANDIDATE = re.compile(r"[0-9A-Z]{%d}" % TOKEN_LEN)


class CodeError(ValueError):
    """The text is not a well-formed volunteer code."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason  # "empty", "malformed" or "checksum"


def _encode(value: int, length: int) -> str:
    chars = []
    for _ in range(length):
        value, digit = divmod(value, 32)
        chars.append(ALPHABET[digit])
    return "".join(reversed(chars))


def _check(body: str) -> str:
    digest = hashlib.sha256(body.encode("ascii")).digest()
    return _encode(int.from_bytes(digest[:2], "big") >> 6, CHECK_LEN)


def new_token() -> str:
    """Return a fresh volunteer code."""
    body = _encode(secrets.randbits(128), BODY_LEN)
    return body + _check(body)


def normalize(text: str | None) -> str:
    """Return the code inside `text` (any case, padded, or inside a URL), or raise CodeError."""
    if not text or not text.strip():
        raise CodeError("empty")
    # NFKC: a scanner typing through a Japanese IME in full-width mode sends ＡＢＣ１２３.
    cleaned = unicodedata.normalize("NFKC", text).strip().upper()
    # Inside a URL such as https://centre.example/v/<code>: take the last path segment.
    if "/" in cleaned:
        cleaned = cleaned.split("?", 1)[0].split("#", 1)[0].rstrip("/").rsplit("/", 1)[-1]
    cleaned = cleaned.replace("-", "").replace(" ", "").translate(_CONFUSABLE)
    if not _CANDIDATE.fullmatch(cleaned) or any(c not in ALPHABET for c in cleaned):
        raise CodeError("malformed")
    body, check = cleaned[:BODY_LEN], cleaned[BODY_LEN:]
    if not hmac.compare_digest(_check(body), check):
        raise CodeError("checksum")
    return cleaned


def token_hash(token: str) -> str:
    """Return the stored form of a code; 128 random bits need no slow hash."""
    return hashlib.sha256(token.encode("ascii")).hexdigest()


def daily_poster_code(secret: str, operation_id: int, site_id: int, day: date) -> str:
    """Return the code printed on today's self check-in poster for one site."""
    msg = f"{operation_id}:{site_id}:{day.isoformat()}".encode()
    digest = hmac.new(secret.encode(), msg, hashlib.sha256).digest()
    return _encode(int.from_bytes(digest[:8], "big") >> 4, 12)


def poster_code_valid(secret: str, operation_id: int, site_id: int, day: date, code: str) -> bool:
    """Tell whether a poster code is today's for that site."""
    expected = daily_poster_code(secret, operation_id, site_id, day)
    # As bytes: compare_digest refuses str with non-ASCII characters (a TypeError, a 500).
    return hmac.compare_digest(expected.encode(), (code or "").strip().upper().encode())


# --- pre-printed codes (the paper fallback pack) ---------------------------------------------
# A random code's body holds 128 bits in 26 characters of 5 bits, so its first character is
# 0-3. A body starting with G is pre-printed: G, a 5-character serial, and 100 bits of HMAC of
# the operation and serial. The server recognises one without having stored it, and it becomes
# a volunteer's ordinary code (stored hashed) when the paper form is entered.
PREPRINTED_MARK = "G"
SERIAL_LEN = 5
MAX_SERIAL = 32 ** SERIAL_LEN - 1


def _decode(text: str) -> int:
    value = 0
    for char in text:
        value = value * 32 + ALPHABET.index(char)
    return value


def preprinted_token(secret: str, operation_id: int, serial: int) -> str:
    """Return the volunteer code printed on paper registration form number `serial`."""
    if not 1 <= serial <= MAX_SERIAL:
        raise ValueError(f"serial must be 1..{MAX_SERIAL}")
    msg = f"preprinted-volunteer:{operation_id}:{serial}".encode()
    mac = int.from_bytes(hmac.new(secret.encode(), msg, hashlib.sha256).digest()[:13], "big") >> 4
    body = PREPRINTED_MARK + _encode(serial, SERIAL_LEN) + _encode(mac, BODY_LEN - 1 - SERIAL_LEN)
    return body + _check(body)


def preprinted_serial(secret: str, operation_id: int, token: str) -> int | None:
    """Return the serial of a normalised code pre-printed for this operation, or None."""
    if not token.startswith(PREPRINTED_MARK) or len(token) != TOKEN_LEN:
        return None
    serial = _decode(token[1:1 + SERIAL_LEN])
    if serial < 1:
        return None
    expected = preprinted_token(secret, operation_id, serial)
    return serial if hmac.compare_digest(expected, token) else None
