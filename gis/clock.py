"""The service's one clock for what runs by time: auto-closing, retention, dispatch, permit
notices, retries. Jobs ask `now()` here — never `datetime.now()` nor SQL `now()` — so that a
test (or a drill) can move time for every process at once.

Two ways to move it, added together:
- `HROMADA_CLOCK_SHIFT_SECONDS` (settings.clock_shift_seconds), read by each process at start:
  a worker started by a test with the variable lives in that test's future;
- `travel(delta)` within one process (a test that runs a job in-process).

In production neither is set, and `now()` is the system's UTC time.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

KYIV = ZoneInfo("Europe/Kyiv")

_shift = dt.timedelta(0)


def configure(shift_seconds: float) -> None:
    """The process's standing shift (from the settings), replacing any travel so far."""
    global _shift
    _shift = dt.timedelta(seconds=shift_seconds)


def travel(delta: dt.timedelta) -> None:
    """Move this process's clock by `delta` (tests)."""
    global _shift
    _shift += delta


def shift() -> dt.timedelta:
    return _shift


def now() -> dt.datetime:
    """The current time, aware, in UTC."""
    return dt.datetime.now(dt.UTC) + _shift


def kyiv_now() -> dt.datetime:
    """The current time in Kyiv, where the law's days and the dispatch's hours are counted."""
    return now().astimezone(KYIV)


def kyiv_today() -> dt.date:
    return kyiv_now().date()
