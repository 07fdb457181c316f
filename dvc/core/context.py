"""The application's clock and service day, read from the app so drills and tests can swap it."""
from __future__ import annotations

from datetime import date, datetime

from flask import current_app

from dvc.core.clock import RealClock, local_day


def clock():
    """Return the clock of the running app (a RealClock unless a test or drill set another)."""
    return current_app.extensions.setdefault("dvc.clock", RealClock())


def now() -> datetime:
    """Return the current time on the app's clock, aware UTC."""
    return clock().now()


def today() -> date:
    """Return today's service day in the centre's time zone."""
    return local_day(now(), current_app.config["TIMEZONE"])
