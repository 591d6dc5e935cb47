"""Cleaning attribute values as real files write them: apostrophes, whitespace, dates typed
into spreadsheets, numbers with a decimal comma, sizes like "6х3"."""

from __future__ import annotations

import datetime as dt
import re

#: Ukrainian apostrophe, as OSM and the city's own district names write it (U+2019). The
#: street register and 1551 data mix it with ASCII ', the backtick ` and U+02BC.
APOSTROPHE = "\u2019"
_APOSTROPHES = re.compile("['`\u02bc\u2018\u00b4\u2032]")
_SPACES = re.compile(r"\s+")

#: Day 0 of spreadsheet serial dates (Excel and LibreOffice, for dates after 1900-03-01).
EXCEL_EPOCH = dt.date(1899, 12, 30)

#: Cells that mean "nothing here".
PLACEHOLDERS = {"", "-", "—", "–", "null", "none", "n/a"}


def clean_text(value: object) -> str | None:
    """Whitespace collapsed (newlines and no-break spaces included) and trimmed; None when
    nothing or only a placeholder such as "-" is left."""
    if value is None:
        return None
    text = _SPACES.sub(" ", str(value).replace("\u00a0", " ")).strip()
    return None if text.lower() in PLACEHOLDERS else text


def normalise_apostrophes(text: str | None) -> str | None:
    """Every apostrophe-like character as U+2019: ``Солом'янський`` → ``Солом’янський``."""
    return _APOSTROPHES.sub(APOSTROPHE, text) if text else text


def parse_date(value: object) -> dt.date | None:
    """A date as spreadsheets and registers write it.

    Accepts a spreadsheet serial number (``27379`` → 1974-12-16, counted in days from
    1899-12-30), ``dd.mm.yyyy``, ISO ``yyyy-mm-dd`` (a time part is ignored) and date objects.
    Returns None for an empty cell or a placeholder; raises ValueError for anything else.
    """
    if value is None or isinstance(value, dt.date):
        return value.date() if isinstance(value, dt.datetime) else value
    text = clean_text(value)
    if text is None:
        return None
    if re.fullmatch(r"\d{1,5}(\.0+)?", text):
        serial = int(float(text))
        if serial < 61:  # before 1900-03-01 the serials are off by the 1900 leap-year bug
            raise ValueError(f"spreadsheet serial date too small: {text}")
        return EXCEL_EPOCH + dt.timedelta(days=serial)
    match = re.fullmatch(r"(\d{1,2})[./](\d{1,2})[./](\d{4})", text)
    if match:
        day, month, year = map(int, match.groups())
        return dt.date(year, month, day)
    match = re.match(r"(\d{4})-(\d{2})-(\d{2})", text)
    if match:
        return dt.date(*map(int, match.groups()))
    raise ValueError(f"not a date: {text!r}")


def parse_float(value: object) -> float | None:
    """A number from an attribute (``12.5``, ``"12,5"``, ``"12.5 м"``); None when empty."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    text = clean_text(value)
    if text is None:
        return None
    match = re.search(r"-?\d+(?:[.,]\d+)?", text.replace(" ", ""))
    if not match:
        raise ValueError(f"not a number: {text!r}")
    return float(match.group().replace(",", "."))


def parse_size(text: str | None) -> tuple[float, float] | None:
    """Width and height in metres from a size such as ``"6x3"``, ``"6х3"`` (Cyrillic х),
    ``"1,2 × 1,8"``; None if the text is not of that form."""
    if not text:
        return None
    match = re.fullmatch(
        r"\s*(\d+(?:[.,]\d+)?)\s*[xх×*]\s*(\d+(?:[.,]\d+)?)\s*(?:м|m)?\s*", text, re.IGNORECASE
    )
    if not match:
        return None
    width, height = (float(g.replace(",", ".")) for g in match.groups())
    return width, height


def lookup(properties: dict, *names: str) -> object | None:
    """The first non-empty value among properties `names`, compared case-insensitively."""
    by_lower = {str(k).lower(): k for k in properties}
    for name in names:
        key = by_lower.get(name.lower())
        if key is not None:
            value = properties[key]
            if value is not None and not (isinstance(value, str) and not value.strip()):
                return value
    return None
