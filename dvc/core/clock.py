"""The one clock: nothing else in dvc reads the wall clock.

A real centre runs on `RealClock`; drills and tests run on a `VirtualClock` that can be
frozen, sped up, paused and jumped, so the same code replays a day deterministically.
"""
from __future__ import annotations

import threading
import time as _time
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo


def wall_now() -> datetime:
    """Return the real time, aware, in UTC."""
    return datetime.now(timezone.utc)


def monotonic() -> float:
    """Return a monotonic reading in seconds, for measuring durations."""
    return _time.perf_counter()


class RealClock:
    """The wall clock."""

    def now(self) -> datetime:
        return wall_now()


class VirtualClock:
    """A clock that runs at `speed` times real time from `start`; speed 0 freezes it."""

    def __init__(self, start: datetime, speed: float = 0.0, *, real=wall_now):
        if start.tzinfo is None:
            raise ValueError("a virtual clock needs an aware start time")
        self._real = real
        self._lock = threading.Lock()
        self._anchor_virtual = start
        self._anchor_real = real()
        self._speed = float(speed)
        self._paused = False

    @classmethod
    def anchored(cls, virtual: datetime, real_at: datetime, speed: float, paused: bool, *,
                 real=wall_now) -> "VirtualClock":
        """Rebuild a clock from its saved anchor: it read `virtual` when `real()` read
        `real_at` (a drill's clock lives in the database between requests)."""
        clock = cls(virtual, speed, real=real)
        clock._anchor_real = real_at
        clock._paused = paused
        return clock

    def anchor(self) -> tuple[datetime, datetime]:
        """Return (virtual, real) now, to save and rebuild the clock with `anchored`."""
        with self._lock:
            self._reanchor()
            return self._anchor_virtual, self._anchor_real

    def now(self) -> datetime:
        with self._lock:
            return self._now_locked()

    def _now_locked(self) -> datetime:
        if self._paused or self._speed == 0:
            return self._anchor_virtual
        elapsed = (self._real() - self._anchor_real) * self._speed
        return self._anchor_virtual + elapsed

    def _reanchor(self) -> None:
        self._anchor_virtual = self._now_locked()
        self._anchor_real = self._real()

    @property
    def speed(self) -> float:
        return self._speed

    @property
    def paused(self) -> bool:
        return self._paused

    def set_speed(self, speed: float) -> None:
        with self._lock:
            self._reanchor()
            self._speed = float(speed)

    def pause(self) -> None:
        with self._lock:
            self._reanchor()
            self._paused = True

    def resume(self) -> None:
        with self._lock:
            self._anchor_real = self._real()
            self._paused = False

    def jump(self, to: datetime) -> None:
        with self._lock:
            self._anchor_virtual = to
            self._anchor_real = self._real()

    def advance(self, delta: timedelta) -> None:
        with self._lock:
            self._reanchor()
            self._anchor_virtual += delta


def local_day(moment: datetime, tz: str) -> date:
    """Return the service day (the local calendar date) of an aware moment."""
    return moment.astimezone(ZoneInfo(tz)).date()
