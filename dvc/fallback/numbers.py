"""Pre-printed numbers of paper need forms and dispatch sheets: pure, no Flask, no database.

A number is a kind letter and a serial with four check characters, an HMAC of the operation,
kind and serial: a typo or a form of another centre is caught, and nothing needs storing to
recognise one. The QR holds DVCP + kind + serial + check (QR alphanumeric, and every
character survives a keyboard-wedge scanner on a JIS layout); people read N-000012-K3QZ.
"""
from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass

from dvc.core.codes import ALPHABET

PREFIX = "DVCP"
KINDS = {"N": "need", "D": "dispatch"}
LETTERS = {kind: letter for letter, kind in KINDS.items()}
CHECK_LEN = 4
MAX_SERIAL = 999_999
_NUMBER = re.compile(r"(?:%s)?([ND])(\d{6})([0-9A-Z]{%d})" % (PREFIX, CHECK_LEN))
_CONFUSABLE = str.maketrans({"O": "0", "I": "1", "L": "1", "U": "V"})


class NumberError(ValueError):
    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason  # "empty", "malformed" or "checksum"


@dataclass(frozen=True)
class FormNumber:
    kind: str    # "need" or "dispatch"
    serial: int
    check: str

    @property
    def letter(self) -> str:
        return LETTERS[self.kind]

    @property
    def code(self) -> str:
        """The QR's text."""
        return f"{PREFIX}{self.letter}{self.serial:06d}{self.check}"

    @property
    def label(self) -> str:
        """What people read and write: N-000012-K3QZ."""
        return f"{self.letter}-{self.serial:06d}-{self.check}"


def _check(secret: str, operation_id: int, letter: str, serial: int) -> str:
    msg = f"paper-form:{operation_id}:{letter}:{serial}".encode()
    value = int.from_bytes(hmac.new(secret.encode(), msg, hashlib.sha256).digest()[:3], "big")
    value >>= 24 - 5 * CHECK_LEN
    return "".join(ALPHABET[(value >> (5 * i)) & 31] for i in reversed(range(CHECK_LEN)))


def form_number(secret: str, operation_id: int, kind: str, serial: int) -> FormNumber:
    """Return the number printed on paper form `serial` of a kind ("need" or "dispatch")."""
    letter = LETTERS.get(kind)
    if letter is None or not 1 <= serial <= MAX_SERIAL:
        raise ValueError(f"no paper form {kind} {serial}")
    return FormNumber(kind, serial, _check(secret, operation_id, letter, serial))


def read_number(secret: str, operation_id: int, text: str | None) -> FormNumber:
    """Read a scanned or typed form number (DVCPN000012K3QZ, n-000012-k3qz, ...)."""
    cleaned = re.sub(r"[\s\-]", "", text or "").upper()
    if not cleaned:
        raise NumberError("empty")
    found = _NUMBER.fullmatch(cleaned) or _NUMBER.fullmatch(
        cleaned[:len(cleaned) - CHECK_LEN] + cleaned[-CHECK_LEN:].translate(_CONFUSABLE))
    if not found:
        raise NumberError("malformed")
    letter, serial, check = found.group(1), int(found.group(2)), found.group(3)
    if serial < 1 or not hmac.compare_digest(_check(secret, operation_id, letter, serial), check):
        raise NumberError("checksum")
    return FormNumber(KINDS[letter], serial, check)
