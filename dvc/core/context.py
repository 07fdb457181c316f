"""The application's clock and service day, read from the app so drills and tests can swap it."""
from __future__ import annotations

from contextlib import contextmanager
from datetime import date, datetime

from flask import current_app, g

from dvc.core.clock import RealClock, local_day


def base_clock():
    """Return the app's own clock (a RealClock unless a test set another)."""
    return current_app.extensions.setdefault("dvc.clock", RealClock())


def clock():
    """Return the clock of this request or command: a drill's virtual clock while working on a
    drill operation (set by `use_clock`), else the app's own clock."""
    return g.get("dvc_clock") or base_clock()


def use_clock(value) -> None:
    """Run the rest of this request (or app context) on `value`; None: the app's own clock."""
    g.dvc_clock = value


@contextmanager
def clock_in_use(value):
    """Run a block on `value`, then restore the clock that was in use."""
    before = g.get("dvc_clock")
    g.dvc_clock = value
    try:
        yield value
    finally:
        g.dvc_clock = before


def now() -> datetime:
    """Return the current time on the clock in use, aware UTC."""
    return clock().now()


def today() -> date:
    """Return today's service day in the centre's time zone."""
    return local_day(now(), current_app.config["TIMEZONE"])
