"""Values from the database made ready for JSON answers: dates and times as ISO 8601."""

from __future__ import annotations

import datetime as dt
from typing import Any


def iso(value: Any) -> Any:
    """A date or datetime as ISO 8601 text; anything else unchanged.

    >>> iso(dt.date(2026, 3, 1)), iso(None), iso(7)
    ('2026-03-01', None, 7)
    """
    return value.isoformat() if isinstance(value, dt.datetime | dt.date) else value


def iso_row(row: dict) -> dict:
    """Every date and datetime of a row as ISO 8601 text."""
    return {key: iso(value) for key, value in row.items()}
