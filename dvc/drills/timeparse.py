"""Scenario times and durations: '+01:30' after the start, '10:15' on the start day, ISO times."""
from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

_DURATION = re.compile(r"^(\d{1,3}):([0-5]\d)(?::([0-5]\d))?$")
_OFFSET = re.compile(r"^\+(\d{1,3}):([0-5]\d)(?::([0-5]\d))?$")
_CLOCK = re.compile(r"^(\d{1,2}):([0-5]\d)(?::([0-5]\d))?$")


def parse_duration(text: str) -> timedelta:
    """Return the length written 'H:MM' or 'HH:MM:SS'."""
    match = _DURATION.match(text)
    if not match:
        raise ValueError(f"'{text}' is not a duration: write H:MM, e.g. 0:30 or 02:00")
    hours, minutes, seconds = (int(g or 0) for g in match.groups())
    return timedelta(hours=hours, minutes=minutes, seconds=seconds)


def parse_instant(text: str) -> datetime:
    """Return an aware datetime from ISO 8601 text that carries its UTC offset."""
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"'{text}' is not a date and time") from None
    if moment.tzinfo is None:
        raise ValueError(f"'{text}' has no UTC offset: add one, e.g. +09:00")
    return moment


def resolve_time(text: str, start: datetime, tz: str) -> datetime:
    """Return the scenario time `text` means: an offset from `start`, a clock time, or ISO."""
    match = _OFFSET.match(text)
    if match:
        hours, minutes, seconds = (int(g or 0) for g in match.groups())
        return start + timedelta(hours=hours, minutes=minutes, seconds=seconds)
    match = _CLOCK.match(text)
    if match:
        hours, minutes, seconds = (int(g or 0) for g in match.groups())
        if hours > 23:
            raise ValueError(f"'{text}' is not a clock time: write +{text} for a time after "
                             "the start")
        day = start.astimezone(ZoneInfo(tz)).date()
        local = datetime(day.year, day.month, day.day, hours, minutes, seconds,
                         tzinfo=ZoneInfo(tz))
        return local.astimezone(start.tzinfo)
    return parse_instant(text).astimezone(start.tzinfo)


def offset_text(delta: timedelta) -> str:
    """Write a length as '+H:MM' (or '+H:MM:SS' when it has seconds)."""
    total = int(delta.total_seconds())
    sign = "-" if total < 0 else "+"
    hours, rest = divmod(abs(total), 3600)
    minutes, seconds = divmod(rest, 60)
    return f"{sign}{hours:02d}:{minutes:02d}" + (f":{seconds:02d}" if seconds else "")
