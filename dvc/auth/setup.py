"""First run: the head of the centre creates the first account at /setup.

The page opens only while the database has no account, and only with a one-time token kept in
instance/setup_token: the server listens on the centre's Wi-Fi, where volunteers' phones are
too, so whoever reaches it first must not become admin. `serve` and `user setup-link` print the
link; the token is removed once the account exists. No account ever has a default password
(the demo accounts are the demo's, see dvc/demo.py).
"""
from __future__ import annotations

import hmac
import secrets
from pathlib import Path

from flask import current_app

TOKEN_FILE = "setup_token"


def _path() -> Path:
    return Path(current_app.instance_path) / TOKEN_FILE


def setup_token() -> str:
    """Return the first-run token, creating it (readable by its owner only) when missing."""
    path = _path()
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600)
        path.write_text(secrets.token_urlsafe(24))
    return path.read_text().strip()


def token_valid(given: str | None) -> bool:
    """Tell whether `given` is the first-run token (never true before one was made)."""
    path = _path()
    if not given or not path.exists():
        return False
    return hmac.compare_digest(path.read_text().strip().encode(), given.strip().encode())


def forget_token() -> None:
    """Remove the token: setup is done."""
    _path().unlink(missing_ok=True)


def setup_path() -> str:
    """Return the setup page's path with the token, for the server's first-run message."""
    return f"/setup?token={setup_token()}"
