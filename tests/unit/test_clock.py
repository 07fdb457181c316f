"""The virtual clock that drills and tests run on."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest

from dvc.core.clock import VirtualClock, local_day

T0 = datetime(2026, 11, 22, 0, 0, tzinfo=timezone.utc)


class FakeReal:
    def __init__(self):
        self.t = datetime(2030, 1, 1, tzinfo=timezone.utc)

    def __call__(self):
        return self.t


def test_speed_pause_resume_and_jump():
    real = FakeReal()
    clock = VirtualClock(T0, speed=60, real=real)
    real.t += timedelta(seconds=10)
    assert clock.now() == T0 + timedelta(minutes=10)
    clock.pause()
    real.t += timedelta(seconds=10)
    assert clock.now() == T0 + timedelta(minutes=10)
    clock.resume()
    real.t += timedelta(seconds=1)
    assert clock.now() == T0 + timedelta(minutes=11)
    clock.set_speed(1)
    real.t += timedelta(seconds=30)
    assert clock.now() == T0 + timedelta(minutes=11, seconds=30)
    clock.jump(T0 + timedelta(hours=5))
    assert clock.now() == T0 + timedelta(hours=5)


def test_frozen_clock_only_moves_when_advanced():
    clock = VirtualClock(T0)
    assert clock.now() == T0
    clock.advance(timedelta(minutes=15))
    assert clock.now() == T0 + timedelta(minutes=15)


def test_naive_start_is_refused():
    with pytest.raises(ValueError):
        VirtualClock(datetime(2026, 1, 1))


def test_service_day_is_the_local_date_in_tokyo():
    assert local_day(datetime(2026, 11, 21, 15, 30, tzinfo=timezone.utc), "Asia/Tokyo") == \
        date(2026, 11, 22)
    assert local_day(datetime(2026, 11, 21, 14, 59, tzinfo=timezone.utc), "Asia/Tokyo") == \
        date(2026, 11, 21)
