"""Request values: the one place where what a client sends is checked and parsed before anything
reaches the database.

- Text: `check_string` refuses what no field of this service may hold — NUL and the other
  control characters (a tab, a line feed and a carriage return only in texts of several
  lines), unpaired surrogates (PostgreSQL cannot store them), bidirectional overrides and
  isolates (they make a published text read differently from what it says), and the
  non-characters U+FFFE/U+FFFF. `check_tree` applies it to every key and string of a parsed
  JSON body. api/guard.py runs these over every path, query string and JSON body; routes that
  read forms call them on each field.
- Numbers: `parse_int` with the bounds of the column it is meant for (`INT32`, `ID`), and the
  pydantic types `Int32` and `Id` for route signatures and bodies.
- The shared query parameters: `bbox`, `datetime`, `limit`, dates (`date_from`, `date_to`)
  and the time-ordered cursor, one parser each, for the OGC items, the tiles, the public feed,
  the staff queue and the administrator's listings.

Every refusal is an InvalidParameter (a query parameter) or an InvalidInput (anything else)
naming the field, so the client is told which value to correct.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from typing import Annotated, Any

from pydantic import Field

from gis.errors import InvalidInput, InvalidParameter

# PostgreSQL's integer and the ids drawn from its sequences.
INT32 = (-(2**31), 2**31 - 1)
ID = (1, 2**31 - 1)
Int32 = Annotated[int, Field(ge=INT32[0], le=INT32[1])]
Id = Annotated[int, Field(ge=ID[0], le=ID[1])]
IdCursor = Annotated[int, Field(ge=0, le=ID[1])]  # `after`: the last id seen, 0 before any

# Never accepted: C0 controls but tab/LF/CR, DEL and C1 controls, bidi embeddings, overrides
# and isolates, surrogates, the two non-characters at the end of the BMP.
_NEVER = "\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff\ufffe\uffff"
_REFUSED_IN_TEXT = re.compile(f"[{_NEVER}]")
_REFUSED_IN_LINE = re.compile(f"[{_NEVER}\t\n\r\u2028\u2029]")


def bad_character(value: str, *, multiline: bool = False) -> str | None:
    """The first character `value` may not hold, as U+XXXX; None when it is clean.

    >>> bad_character("Хрещатик, 22"), bad_character("a\\x00b"), bad_character("a\\nb")
    (None, 'U+0000', 'U+000A')
    >>> bad_character("рядок\\nрядок", multiline=True), bad_character("\\u202e", multiline=True)
    (None, 'U+202E')
    """
    found = (_REFUSED_IN_TEXT if multiline else _REFUSED_IN_LINE).search(value)
    return None if found is None else f"U+{ord(found.group()):04X}"


def check_string(value: str, field: str, *, multiline: bool = False, query: bool = False) -> str:
    """`value` itself, or an error naming `field` and the character it may not hold."""
    char = bad_character(value, multiline=multiline)
    if char is not None:
        if query:
            raise InvalidParameter("invalid_characters", field, character=char)
        raise InvalidInput("invalid_characters", parameter=field, character=char)
    return value


def check_tree(value: Any, field: str = "body") -> None:
    """Every key and string of a parsed JSON value (texts of several lines allowed), naming
    the first bad one by its path: `author.email`, `photos[2]`."""
    if isinstance(value, str):
        check_string(value, field, multiline=True)
    elif isinstance(value, dict):
        for key, item in value.items():
            name = key if field == "body" else f"{field}.{key}"
            check_string(str(key), name)
            check_tree(item, name)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            check_tree(item, f"{field}[{i}]")


# --- numbers ------------------------------------------------------------------------------------


def parse_int(
    value: str, name: str, *, lo: int = INT32[0], hi: int = INT32[1], code: str = "invalid_integer"
) -> int:
    """A query parameter's integer within [lo, hi] (by default PostgreSQL's integer)."""
    text = value.strip()
    if not re.fullmatch(r"[+-]?[0-9]{1,19}", text):
        raise InvalidParameter(code, name, value=value[:64], min=lo, max=hi)
    number = int(text)
    if not lo <= number <= hi:
        raise InvalidParameter(code, name, value=value[:64], min=lo, max=hi)
    return number


def parse_limit(
    value: str | None,
    *,
    default: int,
    maximum: int,
    name: str = "limit",
    code: str = "invalid_limit",
) -> int:
    """`limit` (or a count like it): an integer from 1 to `maximum`; `default` when absent."""
    if value is None:
        return default
    return parse_int(value, name, lo=1, hi=maximum, code=code)


# --- places and times --------------------------------------------------------------------------

BBox = tuple[float, float, float, float]
Interval = tuple[dt.datetime | None, dt.datetime | None]
MIN_DATE, MAX_DATE = dt.date(1991, 8, 24), dt.date(2999, 12, 31)


def parse_bbox(value: str | None) -> BBox | None:
    """`bbox`: minLon,minLat,maxLon,maxLat in WGS 84 degrees. Six numbers (OGC API – Features'
    boxes with heights) are accepted everywhere and the heights ignored, since every layer is
    2D. A box across the antimeridian is refused: no Ukrainian city needs one.

    >>> parse_bbox("30.2,50.2,30.8,50.6"), parse_bbox("30.2,50.2,0,30.8,50.6,100")
    ((30.2, 50.2, 30.8, 50.6), (30.2, 50.2, 30.8, 50.6))
    """
    if value is None:
        return None
    try:
        numbers = [float(p) for p in value.split(",")]
    except ValueError:
        numbers = []
    if len(numbers) not in (4, 6) or not all(math.isfinite(n) for n in numbers):
        raise InvalidParameter("invalid_bbox", "bbox", value=value[:200])
    if len(numbers) == 6:
        numbers = [numbers[0], numbers[1], numbers[3], numbers[4]]
    minx, miny, maxx, maxy = numbers
    if not (-180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90):
        raise InvalidParameter("invalid_bbox", "bbox", value=value[:200])
    return minx, miny, maxx, maxy


def parse_instant(text: str) -> dt.datetime:
    """An RFC 3339 date-time, UTC when it names no zone; ValueError otherwise."""
    moment = dt.datetime.fromisoformat(text.strip().upper().replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def _interval_end(text: str, *, end: bool) -> dt.datetime:
    """A date-time, or a date: as the start of an interval its first moment, as the end its
    last."""
    if "T" in text.upper():
        return parse_instant(text)
    day = dt.date.fromisoformat(text)
    moment = dt.datetime.combine(day, dt.time.min, tzinfo=dt.UTC)
    return moment + dt.timedelta(days=1, microseconds=-1) if end else moment


def parse_datetime(value: str | None, name: str = "datetime") -> Interval | None:
    """`datetime`: an instant (`2026-03-01T10:00:00Z` or a whole day `2026-03-01`), or an
    interval `start/end` whose either end may be open (`..` or empty).

    >>> parse_datetime("../2026-01-01")[0] is None
    True
    """
    if value is None:
        return None
    try:
        if "/" not in value:
            return _interval_end(value, end=False), _interval_end(value, end=True)
        start_text, end_text = value.split("/")
        start = None if start_text in ("", "..") else _interval_end(start_text, end=False)
        end = None if end_text in ("", "..") else _interval_end(end_text, end=True)
    except (ValueError, OverflowError):
        raise InvalidParameter("invalid_datetime", name, value=value[:200]) from None
    if (start is None and end is None) or (start and end and start > end):
        raise InvalidParameter("invalid_datetime", name, value=value[:200])
    return start, end


def parse_date(value: str, name: str) -> dt.date:
    """A calendar date YYYY-MM-DD between Ukraine's independence and the year 2999."""
    try:
        day = dt.date.fromisoformat(value.strip())
    except ValueError:
        raise InvalidParameter("invalid_date", name, value=value[:64]) from None
    if not MIN_DATE <= day <= MAX_DATE:
        raise InvalidParameter("invalid_date", name, value=value[:64])
    return day


def check_date(day: dt.date, name: str) -> dt.date:
    """A date already parsed (by pydantic) within the same bounds as parse_date."""
    if not MIN_DATE <= day <= MAX_DATE:
        raise InvalidParameter("invalid_date", name, value=day.isoformat())
    return day


# --- cursors ------------------------------------------------------------------------------------


def format_time_cursor(at: dt.datetime, row_id: int) -> str:
    """A place in a list ordered by (time, id): `<UTC date-time>~<id>`."""
    return at.astimezone(dt.UTC).isoformat().replace("+00:00", "Z") + f"~{row_id}"


def parse_time_cursor(value: str, name: str) -> tuple[dt.datetime, int]:
    moment, sep, row_id = value.partition("~")
    try:
        if not sep:
            raise ValueError(value)
        at = parse_instant(moment)
        return at, parse_int(row_id, name, lo=ID[0], hi=ID[1])
    except (ValueError, OverflowError, InvalidParameter):
        raise InvalidParameter("invalid_after", name, value=value[:200]) from None


def parse_rank_cursor(value: str, name: str, *, ranks: tuple[int, ...]) -> tuple[int, int]:
    """A place in a list ordered by a small rank, then id: `<rank>-<id>`."""
    rank, sep, row_id = value.partition("-")
    try:
        if not sep or rank not in {str(r) for r in ranks}:
            raise ValueError(value)
        return int(rank), parse_int(row_id, name, lo=ID[0], hi=ID[1])
    except (ValueError, InvalidParameter):
        raise InvalidParameter("invalid_cursor", name, value=value[:200]) from None


def parse_id_cursor(value: str, name: str) -> int:
    """A place in a list ordered by id: the last id seen."""
    try:
        return parse_int(value, name, lo=0, hi=ID[1])
    except InvalidParameter:
        raise InvalidParameter("invalid_after", name, value=value[:200]) from None
