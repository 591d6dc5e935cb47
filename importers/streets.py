"""Kyiv's official street register (CSV, no geometry) → the `streets` table.

The register as the city publishes it: Ukrainian column headers, one row per street keyed by
its unique digital code, naming dates typed into a spreadsheet (serial numbers such as
27379, a few as dd.mm.yyyy), quoted fields spanning lines, district cells spelled
inconsistently (two apostrophes, trailing spaces, several districts in one cell, a garden
society in brackets). Text is cleaned (whitespace collapsed, apostrophes as U+2019) so the
same street compares equal whoever typed it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from importers.readers import read_table
from importers.report import ImportFailed, ImportReport
from importers.sync import Audit, Target, sync
from importers.values import clean_text, normalise_apostrophes, parse_date

TARGET = Target(
    "streets", "code",
    ("name", "kind", "districts", "naming_document", "naming_date", "naming_number",
     "naming_title", "comment", "former_name", "former_kind"),
    geom=None, hash_column="content_hash",
)  # fmt: skip

# (test on the lower-cased header, column) in the order tried: the first match wins, so the
# more specific headers ("Колишнє найменування", "Дата документу") come before the general.
_HEADER_RULES: list[tuple[Callable[[str], bool], str]] = [
    (lambda h: "колишн" in h and "найменування" in h, "former_name"),
    (lambda h: "колишн" in h and ("категорія" in h or "тип" in h), "former_kind"),
    (lambda h: h.startswith("дата"), "naming_date"),
    (lambda h: h.startswith("номер") and "документ" in h, "naming_number"),
    (lambda h: h.startswith("заголовок"), "naming_title"),
    (lambda h: h.startswith("документ"), "naming_document"),
    (lambda h: "код" in h, "code"),
    (lambda h: "найменування" in h, "name"),
    (lambda h: "категорія" in h or h.startswith("тип"), "kind"),
    (lambda h: "район" in h, "districts"),
    (lambda h: h.startswith("коментар"), "comment"),
]
_FIELDS = ("code", *TARGET.columns)


def map_columns(header: list[str]) -> dict[str, str]:
    """Which CSV column holds which field: Ukrainian headers of the city's register, or the
    table's own (English) column names."""
    mapping: dict[str, str] = {}
    for column in header:
        h = column.strip().lower()
        if h in _FIELDS:
            field: str | None = h
        else:
            field = next((f for test, f in _HEADER_RULES if test(h)), None)
        if field and field not in mapping:
            mapping[field] = column
    return mapping


def split_districts(cell: str | None) -> tuple[list[str], list[str]]:
    """District names in a register cell, and the localities some of them name in brackets.

    ``"Солом'янський, Голосіївський "`` → ``(["Солом’янський", "Голосіївський"], [])``;
    ``'Оболонський (КДТ "Чорнобилець")'`` → ``(["Оболонський"], ['Оболонський: КДТ "Чорнобилець"'])``.
    Commas inside brackets do not split.
    """
    text = normalise_apostrophes(clean_text(cell))
    if not text:
        return [], []
    parts, depth, current = [], 0, ""
    for ch in text:
        depth += (ch == "(") - (ch == ")")
        if ch == "," and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += ch
    parts.append(current)
    names, localities = [], []
    for part in (p.strip() for p in parts):
        if not part:
            continue
        match = re.fullmatch(r"(.*?)\s*\((.*)\)", part)
        name = match.group(1).strip() if match else part
        if match and match.group(2).strip():
            localities.append(f"{name}: {match.group(2).strip()}")
        if name and name not in names:
            names.append(name)
    return names, localities


def prepare(path: Path, report: ImportReport):
    """Read and clean the register; return the function that writes it in a transaction."""
    table = read_table(path)
    columns = map_columns(table.columns)
    for needed in ("code", "name"):
        if needed not in columns:
            raise ImportFailed(
                f"{path.name} is not a street register: no column for the street {needed} "
                f"(columns are: {', '.join(table.columns)})"
            )
    report.read = len(table.rows)
    rows = []
    seen: dict[str, int] = {}  # code -> the row it first appeared in
    for i, raw in enumerate(table.rows, start=1):

        def cell(field: str, raw: dict = raw) -> str | None:
            return raw.get(columns[field]) if field in columns else None

        code = clean_text(cell("code"))
        who = f"row {i}" + (f" (code {code})" if code else "")
        if not code:
            report.reject(who, "no street code")
            continue
        if len(code) > 16:
            report.reject(who, "street code longer than 16 characters")
            continue
        if code in seen:
            report.reject(
                who, f"duplicate code {code} (first in row {seen[code]}); the first is kept"
            )
            continue
        name = normalise_apostrophes(clean_text(cell("name")))
        if not name:
            report.reject(who, "no street name")
            continue
        try:
            naming_date = parse_date(cell("naming_date"))
        except ValueError:
            report.repair(who, f"unreadable naming date {cell('naming_date')!r} left empty")
            naming_date = None
        districts, localities = split_districts(cell("districts"))
        comment = " ".join(
            filter(None, [clean_text(cell("comment")), *(f"({loc})" for loc in localities)])
        )
        seen[code] = i
        rows.append((
            code,
            name,
            clean_text(cell("kind")) or "",
            districts,
            clean_text(cell("naming_document")),
            naming_date,
            clean_text(cell("naming_number")),
            normalise_apostrophes(clean_text(cell("naming_title"))),
            comment or None,
            normalise_apostrophes(clean_text(cell("former_name"))),
            clean_text(cell("former_kind")),
        ))  # fmt: skip
    if not rows:
        raise ImportFailed(f"{path.name}: no street could be read ({len(table.rows)} rows)")

    def store(conn, audit: Audit | None = None) -> dict[str, int]:
        return sync(conn, TARGET, rows, audit)

    return store
