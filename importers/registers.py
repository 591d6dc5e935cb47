"""Bulk import of the city's registers of advertising structures and kiosks (issue 16, item 6):
a CSV or XLSX table, one row per structure, keyed by its `code`, placed by coordinates in any
CRS or by its address; a preview of what would be added, changed, removed or could not be
placed, then the same run applied.

How a register becomes the layer
--------------------------------
1. **Reading** (`read_register`): the bytes of a CSV (UTF-8 with or without BOM, else
   Windows-1251; `;`, `,`, tab or `|` sniffed — readers.parse_table) or of an XLSX workbook
   (its first sheet; readers.parse_xlsx_table). The first non-empty row is the header. At most
   MAX_BYTES and MAX_ROWS; a file that is not a table, or has no code column, is refused (400).
2. **Columns**: the code by the existing target's key names (`code`, `код`, `id`, `номер`),
   coordinates by readers.LON_COLUMNS / LAT_COLUMNS (`x`/`y`, `lon`/`lat`, `longitude`/
   `latitude`, `довгота`/`широта`), the address and every property of gis/structures.py's
   FIELDS by targets.PROPERTY_ALIASES. Only the properties the file has a column for are the
   register's: the others (a planner's `sides`, say) are left as they are. An empty cell
   empties its property (but `kind`, which is required: a new structure gets "unknown").
3. **Placing** each row: its coordinates, in the CRS given (EPSG code), reprojected to WGS 84;
   x and y swapped when only the swapped point is in the community (surveyors write X for the
   northing). Without coordinates, its address through the operators' intake geocoder
   (gis/intake.locate_address: a house of the points of interest, else interpolated between
   its street's known houses) — except for a structure the layer already has at the same
   address, which keeps its point (a planner may have placed it more precisely). A point
   outside the community is not placed.
4. **The diff** against the layer's current (not retired) structures, by code: `added`;
   `changed` (each property old → new, the point moved by more than MOVE_TOLERANCE_M); the
   `unchanged` count; `removed` (the layer has it, the file does not — retired only when asked,
   `retire_missing`); `unplaced` rows (row number and why: no code, a repeated code, a bad value,
   bad coordinates, an address not found, outside the community, the code of a retired
   structure, or a placement rule that refuses it — gis/placement.py, named).
5. **Writing**, in ONE transaction holding the layer's import lock (importers/pipeline.py's):
   retirements, then changes, then additions, each through gis/structures.py (`retire`, `patch`
   with the version just read, `create`), so each is validated, checked against the placement
   rules as the structures before it left the layer, written to the audit trail (the actor:
   the planner, or the command line's user) and marks the layer updated. A refused row becomes
   `unplaced` and the rest go on. A **preview** is the very same run, rolled back: what it
   lists is what applying would do. An applied run is also an import_runs row.

Councils (issue 17): a planner bound to a council imports into that council only — the diff
is against its rows (another council's structures are neither changed nor `removed`), and a
row placed in another council is `unplaced` (`place_outside_council`, gis/structures.py), as
is a new row whose code another council's structure has (`code_taken`). Oblast staff and the
command line: every council, each new structure in the council of its point.

Re-importing the same file changes nothing: every row is then unchanged (codes, values and
points compare equal; a point reprojected from the same coordinates is the same point).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
import shapely
from psycopg import AsyncConnection, sql
from pyproj import CRS, Geod
from shapely.geometry import shape
from shapely.ops import nearest_points

from gis import geocode, intake, placement, structures
from gis.error_messages import MESSAGES
from gis.errors import DomainError, InvalidInput, PayloadTooLarge
from gis.texts import tr
from importers.geometry import CRSNotUnderstood, crs_label, parse_crs, to_wgs84
from importers.pipeline import LOCK_SQL, RECORD_RUN_SQL, run_values
from importers.readers import (
    LAT_COLUMNS,
    LON_COLUMNS,
    Table,
    parse_number,
    parse_table,
    parse_xlsx_table,
)
from importers.report import ImportFailed, ImportReport
from importers.targets import CORE_TARGETS, PROPERTY_ALIASES
from importers.values import clean_text, parse_date, parse_float, parse_size

LAYERS = structures.LAYERS
MAX_BYTES = 5 * 1024 * 1024
MAX_ROWS = 20_000
MOVE_TOLERANCE_M = 0.5  # less is the rounding of coordinates, not a move
COORDINATE_DECIMALS = 7  # ≈ 1 cm
LISTED_MAX = 1000  # items of each list in a result (the counts are complete)

_GEOD = Geod(ellps="WGS84")
_XLSX_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # .xls (Excel 97–2003), .doc …
_TRUE = {"true", "так", "1", "yes", "y", "т", "+", "фізична особа", "фо", "фоп"}
_FALSE = {"false", "ні", "0", "no", "n", "юридична особа", "юо"}


# --- reading -------------------------------------------------------------------------------


def read_register(data: bytes, filename: str | None) -> Table:
    """The table of an uploaded register; 4xx (InvalidInput, PayloadTooLarge) naming the
    problem when it is too large, not a CSV or XLSX table, empty, or too long."""
    name = Path(filename or "register.csv").name[:200] or "register.csv"
    if len(data) > MAX_BYTES:
        raise PayloadTooLarge(limit=MAX_BYTES)
    if not data.strip():
        raise InvalidInput("register_empty", parameter="file", name=name)
    suffix = Path(name).suffix.lower()
    try:
        if data.startswith(_XLSX_MAGIC):
            table = parse_xlsx_table(data, Path(name), max_rows=MAX_ROWS)
        elif data.startswith(_OLE_MAGIC) or suffix == ".xls":
            raise InvalidInput("register_old_excel", parameter="file", name=name)
        elif b"\x00" in data[:65536] or suffix in (".xlsx", ".ods", ".pdf", ".zip", ".docx"):
            raise InvalidInput("register_not_a_table", parameter="file", name=name)
        else:
            table = parse_table(data, Path(name))
    except ImportFailed:
        raise InvalidInput("register_not_a_table", parameter="file", name=name) from None
    if not any(table.columns):
        raise InvalidInput("register_empty", parameter="file", name=name)
    if len(table.rows) > MAX_ROWS:
        raise InvalidInput("register_too_many_rows", parameter="file", max=MAX_ROWS)
    return table


def read_crs(value: str | int | None) -> CRS:
    """A CRS the coordinates may be in (an EPSG code, or `EPSG:…`); 400 otherwise."""
    text = str(value if value is not None else "4326").strip()
    try:
        crs = parse_crs(text) if 0 < len(text) <= 64 else None
    except CRSNotUnderstood:
        crs = None
    if crs is None or not (crs.is_projected or crs.is_geographic) or crs.is_geocentric:
        raise InvalidInput("register_unknown_crs", parameter="crs", value=text[:64])
    return crs


@dataclass(frozen=True)
class Columns:
    """Which column of the file holds what."""

    code: str
    x: str | None
    y: str | None
    properties: dict[str, str]  # property of structures.FIELDS → its column

    @property
    def address(self) -> str | None:
        return self.properties.get("address")


def map_columns(layer: str, table: Table) -> Columns:
    """The file's columns for the layer's code, coordinates, address and properties; 400 when
    it has no code column, or neither coordinates nor an address."""
    by_lower = {c.lower().strip(): c for c in table.columns}

    def find(names: tuple[str, ...]) -> str | None:
        return next((by_lower[n] for n in names if n in by_lower), None)

    shown = ", ".join(table.columns)[:300]
    key_names = tuple(n for n in CORE_TARGETS[layer].key_names if not n.startswith("@"))
    code = find(key_names)
    if code is None:
        raise InvalidInput("register_no_code_column", parameter="file",
                           expected=", ".join(key_names), columns=shown)  # fmt: skip
    x, y = find(LON_COLUMNS), find(LAT_COLUMNS)
    if x is None or y is None:
        x = y = None
    properties = {}
    for name in structures.FIELDS[layer]:
        if name in PROPERTY_ALIASES and (column := find(PROPERTY_ALIASES[name])):
            properties[name] = column
    if x is None and "address" not in properties:
        raise InvalidInput("register_no_place_columns", parameter="file",
                           x="/".join(LON_COLUMNS[:5]), y="/".join(LAT_COLUMNS[:5]),
                           address="/".join(PROPERTY_ALIASES["address"][:2]), columns=shown)  # fmt: skip
    return Columns(code, x, y, properties)


# --- rows ----------------------------------------------------------------------------------


@dataclass
class Row:
    """One row of the register as the layer would hold it."""

    number: int  # the header is row 1
    code: str | None
    props: dict[str, Any]  # the register's properties, as JSON values (dates ISO)
    xy: tuple[float, float] | None = None  # as written, in the file's CRS
    point: tuple[float, float] | None = None  # lon, lat
    placed_by: str | None = None  # "coordinates", "address", "kept"
    approximate: bool = False
    refused: dict | None = None  # why it cannot be placed: {reason, params, rule?}


def _refuse(row: Row, reason: str, rule: dict | None = None, **params: Any) -> None:
    row.refused = {"reason": reason, "params": params, "rule": rule}


def _convert(field: structures.Field, text: str | None) -> Any:
    """A cell as the JSON value gis/structures.py validates; a cell that cannot be read is
    passed on as written, for the validation to refuse naming it."""
    value = clean_text(text)
    if value is None:
        return None
    try:
        if field.type == "number":
            return parse_float(value)
        if field.type == "integer":
            number = parse_float(value)
            return int(number) if number is not None and number.is_integer() else value
        if field.type == "date":
            day = parse_date(value)
            return day.isoformat() if day else None
    except ValueError:
        return value
    if field.type == "boolean":
        low = value.lower()
        return True if low in _TRUE else False if low in _FALSE else value
    return value


def read_rows(layer: str, table: Table, columns: Columns) -> list[Row]:
    """Each row's code, properties (validated) and coordinates as written."""
    fields = structures.FIELDS[layer]
    derive_size = (
        "size" in columns.properties
        and "width_m" in fields
        and "width_m" not in columns.properties
        and "height_m" not in columns.properties
    )
    rows: list[Row] = []
    for i, cells in enumerate(table.rows, start=2):
        code = clean_text(cells.get(columns.code))
        row = Row(i, code, {})
        rows.append(row)
        if code is None:
            _refuse(row, "register_no_code", column=columns.code)
            continue
        props = {name: _convert(fields[name], cells.get(col))
                 for name, col in columns.properties.items()}  # fmt: skip
        if props.get("kind") is None:
            props.pop("kind", None)  # required: kept as it is (a new one: "unknown")
        if derive_size:
            parsed = parse_size(props.get("size"))
            props["width_m"], props["height_m"] = parsed if parsed else (None, None)
        try:
            structures.validate_properties(layer, {"code": code, **props}, partial=True)
        except InvalidInput as exc:
            _refuse(row, exc.code, **exc.params)
            continue
        row.props = props
        if columns.x and columns.y:
            raw_x, raw_y = cells.get(columns.x), cells.get(columns.y)
            try:
                x, y = parse_number(raw_x), parse_number(raw_y)
            except ValueError:
                x = y = math.nan
            if x is not None and y is not None and math.isfinite(x) and math.isfinite(y):
                row.xy = (x, y)
            elif x is not None or y is not None:
                _refuse(row, "register_bad_coordinates", x=str(raw_x or "")[:40],
                        y=str(raw_y or "")[:40])  # fmt: skip
        if row.refused is None and row.xy is None and not props.get("address"):
            _refuse(row, "register_no_place")
    return rows


# --- placing -------------------------------------------------------------------------------

_INSIDE_SQL = """
SELECT NOT EXISTS (SELECT 1 FROM hromadas WHERE valid_to IS NULL)
    OR EXISTS (SELECT 1 FROM hromadas h WHERE h.valid_to IS NULL
               AND ST_Covers(h.geom, ST_SetSRID(ST_MakePoint(p.lon, p.lat), 4326)))
  FROM unnest(%s::float8[], %s::float8[]) WITH ORDINALITY AS p(lon, lat, i)
 ORDER BY p.i
"""


async def _inside(conn: AsyncConnection, points: list[tuple[float, float]]) -> list[bool]:
    """Whether each (lon, lat) is in the served community (any, when none is loaded)."""
    ok = [
        math.isfinite(lon) and math.isfinite(lat) and -180 <= lon <= 180 and -90 <= lat <= 90
        for lon, lat in points
    ]
    lons = [p[0] if good else 0.0 for p, good in zip(points, ok, strict=True)]
    lats = [p[1] if good else 0.0 for p, good in zip(points, ok, strict=True)]
    if not points:
        return []
    found = await (await conn.execute(_INSIDE_SQL, (lons, lats))).fetchall()
    return [good and bool(r[0]) for good, r in zip(ok, found, strict=True)]


def _lonlat(xys: list[tuple[float, float]], crs: CRS) -> list[tuple[float, float]]:
    if not xys:
        return []
    moved = to_wgs84([shapely.Point(x, y) for x, y in xys], crs)
    out = []
    for p in moved:
        x, y = float(p.x), float(p.y)
        if math.isfinite(x) and math.isfinite(y):
            x, y = round(x, COORDINATE_DECIMALS), round(y, COORDINATE_DECIMALS)
        out.append((x, y))
    return out


async def place(conn: AsyncConnection, rows: list[Row], crs: CRS, current: dict[str, dict]) -> None:
    """Give each row its point (lon, lat), or the reason it has none."""
    with_xy = [r for r in rows if r.refused is None and r.xy is not None]
    given = _lonlat([r.xy for r in with_xy if r.xy], crs)
    swapped = _lonlat([(r.xy[1], r.xy[0]) for r in with_xy if r.xy], crs)
    inside = await _inside(conn, given + swapped)
    n = len(with_xy)
    for k, row in enumerate(with_xy):
        if inside[k]:
            row.point = given[k]
        elif inside[n + k]:
            row.point = swapped[k]
        else:
            lon, lat = given[k]
            _refuse(row, "register_outside_city", lon=f"{lon:.6f}", lat=f"{lat:.6f}",
                    crs=crs_label(crs))  # fmt: skip
            continue
        row.placed_by = "coordinates"

    by_address = [r for r in rows if r.refused is None and r.xy is None]
    geocoded: list[Row] = []
    for row in by_address:
        address = str(row.props.get("address"))
        existing = current.get(row.code or "")
        if existing and existing["properties"].get("address") == address:
            row.placed_by = "kept"  # the layer's own point stays
            continue
        street, house = geocode.split_query(address)
        if not house:
            _refuse(row, "register_address_not_found", address=address[:120])
            continue
        try:
            lon, lat, _label = await intake.locate_address(conn, street, house)
        except InvalidInput:
            _refuse(row, "register_address_not_found", address=address[:120])
            continue
        row.point = (round(lon, COORDINATE_DECIMALS), round(lat, COORDINATE_DECIMALS))
        row.placed_by = "address"
        geocoded.append(row)
    for row, ok in zip(geocoded, await _inside(conn, [r.point for r in geocoded if r.point]),
                       strict=True):  # fmt: skip
        if not ok and row.point:
            _refuse(row, "register_outside_city", lon=f"{row.point[0]:.6f}",
                    lat=f"{row.point[1]:.6f}", crs="WGS 84")  # fmt: skip


# --- the layer as it is --------------------------------------------------------------------


async def current_features(
    conn: AsyncConnection, layer: str, actor: Any = None
) -> tuple[dict[str, dict], set[str]]:
    """The layer's current structures by code ({id, version, properties, geometry}) and the
    codes of its retired ones — of `actor`'s councils (a planner bound to a council: its
    rows only, placement.editor_scope; None: all)."""
    scope, params = placement.editor_scope(actor, "t")
    props = sql.SQL(", ").join(
        sql.SQL("{}, t.{}").format(sql.Literal(c), sql.Identifier(c))
        for c in structures.FIELDS[layer]
    )
    query = sql.SQL(
        "SELECT t.code, t.id, t.version, t.retired_at IS NOT NULL, json_build_object({props}),"
        " ST_AsGeoJSON(t.geom)::json FROM {table} AS t WHERE {scope} ORDER BY t.code"
    ).format(props=props, table=sql.Identifier(layer), scope=sql.SQL(scope))
    current: dict[str, dict] = {}
    retired: set[str] = set()
    for code, fid, version, is_retired, properties, geometry in await (
        await conn.execute(query, params)
    ).fetchall():
        if is_retired:
            retired.add(code)
        else:
            current[code] = {"id": fid, "version": version, "properties": properties,
                             "geometry": geometry}  # fmt: skip
    return current, retired - set(current)


def moved_metres(point: tuple[float, float], geometry: dict | None) -> float | None:
    """How far (metres, on the ellipsoid) `point` is from a stored geometry: 0 inside a kiosk's
    polygon; None when there is no geometry."""
    if not geometry:
        return None
    geom = shape(geometry)
    target = shapely.Point(point)
    if geom.geom_type != "Point":
        if geom.covers(target):
            return 0.0
        geom = nearest_points(geom, target)[0]
    (x, y), *_ = shapely.get_coordinates(geom).tolist()
    _fwd, _back, metres = _GEOD.inv(x, y, point[0], point[1])
    return float(metres)


def _same(old: Any, new: Any) -> bool:
    if isinstance(old, int | float) and isinstance(new, int | float) and not isinstance(old, bool):
        return math.isclose(float(old), float(new), rel_tol=0, abs_tol=1e-9)
    if isinstance(old, str) and isinstance(new, str):
        return old.strip() == new.strip()
    return old == new


# --- the run -------------------------------------------------------------------------------


@dataclass
class Result:
    """What a run adds, changes, removes and cannot place (see the module's docstring)."""

    layer: str
    mode: str  # preview | apply
    retire_missing: bool
    crs: str
    added: list[dict] = field(default_factory=list)
    changed: list[dict] = field(default_factory=list)
    unchanged: int = 0
    removed: list[dict] = field(default_factory=list)
    unplaced: list[dict] = field(default_factory=list)
    applied: bool = False
    run_id: int | None = None

    @property
    def counts(self) -> dict[str, int]:
        return {"added": len(self.added), "changed": len(self.changed),
                "unchanged": self.unchanged, "removed": len(self.removed),
                "unplaced": len(self.unplaced)}  # fmt: skip

    def as_json(self, lang: str = "uk") -> dict:
        """The answer of the API (and what the command line prints): lists capped at
        LISTED_MAX items each, each unplaced row's reason as text in `lang`."""
        unplaced = [{**{k: v for k, v in u.items() if k != "params"},
                     "detail": reason_text(u, lang)} for u in self.unplaced[:LISTED_MAX]]  # fmt: skip
        return {
            "layer": self.layer,
            "mode": self.mode,
            "crs": self.crs,
            "retire_missing": self.retire_missing,
            "counts": self.counts,
            "added": self.added[:LISTED_MAX],
            "changed": self.changed[:LISTED_MAX],
            "removed": self.removed[:LISTED_MAX],
            "unplaced": unplaced,
            "listed_max": LISTED_MAX,
            "applied": self.applied,
        }


def reason_text(item: dict, lang: str) -> str:
    """Why a row was not placed, in `lang` (the error messages' texts, gis/error_messages.py)."""
    text = MESSAGES.get(item["reason"]) or MESSAGES["register_unplaced"]
    return tr(text, lang, **(item.get("params") or {}))


def _unplaced(result: Result, row: Row, refused: dict) -> None:
    result.unplaced.append({"row": row.number, "code": row.code, "reason": refused["reason"],
                            "params": refused["params"], "rule": refused.get("rule")})  # fmt: skip


def _refusal(exc: DomainError) -> dict:
    """A save gis/structures.py refused, as an unplaced row's reason."""
    extra = exc.extra or {}
    if exc.code == "placement_rule_violated" and "rule" in extra:
        rule = extra["rule"]
        near = [
            f["properties"].get("label") for f in extra.get("conflicts", {}).get("features", [])
        ]
        first = next((str(n) for n in near if n), "")
        return {"reason": "register_placement_rule", "rule": rule,
                "params": {"title_uk": rule.get("title"),
                           "title_en": rule.get("title_en") or rule.get("title"),
                           "near": first[:80]}}  # fmt: skip
    params = {k: v for k, v in exc.params.items() if isinstance(v, str | int | float)}
    return {"reason": exc.code, "params": params, "rule": None}


def _feature(row: Row, props: dict) -> dict:
    assert row.point is not None
    return {"type": "Feature", "geometry": {"type": "Point", "coordinates": list(row.point)},
            "properties": props}  # fmt: skip


async def run(
    conn: AsyncConnection,
    layer: str,
    table: Table,
    *,
    crs: CRS,
    actor: Any,
    source: str,
    retire_missing: bool = False,
    apply: bool = False,
) -> Result:
    """Preview (`apply` False: everything rolled back) or apply a register to `layer`; see
    the module's docstring. `conn`: an autocommit connection (the run is one transaction)."""
    if layer not in LAYERS:
        raise InvalidInput("register_unknown_layer", parameter="layer", value=layer[:64])
    columns = map_columns(layer, table)
    rows = read_rows(layer, table, columns)
    result = Result(layer, "apply" if apply else "preview", retire_missing, crs_label(crs))
    async with conn.transaction() as tx:
        await conn.execute(LOCK_SQL, (layer,))
        current, retired = await current_features(conn, layer, actor)
        first_seen: dict[str, int] = {}
        for row in rows:
            if row.refused is None and row.code in first_seen:
                _refuse(row, "register_duplicate_code", value=row.code, first=first_seen[row.code])
            elif row.code is not None:
                first_seen.setdefault(row.code, row.number)
        await place(conn, [r for r in rows if r.refused is None], crs, current)

        to_add: list[Row] = []
        to_change: list[tuple[Row, dict, dict, float | None]] = []
        for row in rows:
            if row.refused is not None:
                _unplaced(result, row, row.refused)
                continue
            assert row.code is not None
            existing = current.get(row.code)
            if existing is None:
                if row.code in retired:
                    _unplaced(result, row, {"reason": "register_code_retired",
                                            "params": {"value": row.code}})  # fmt: skip
                elif row.point is None:  # "kept" needs a structure to keep the point of
                    _unplaced(result, row, {"reason": "register_no_place", "params": {}})
                else:
                    to_add.append(row)
                continue
            old = existing["properties"]
            changes = {k: v for k, v in row.props.items() if not _same(old.get(k), v)}
            moved = moved_metres(row.point, existing["geometry"]) if row.point else None
            if moved is not None and moved <= MOVE_TOLERANCE_M:
                moved = None
            if changes or moved is not None:
                to_change.append((row, existing, changes, moved))
            else:
                result.unchanged += 1

        # What the layer has and the file does not: retired first, when asked (their places
        # free for the rows that follow).
        for code, existing in current.items():
            if code in first_seen:
                continue
            props = existing["properties"]
            result.removed.append({"code": code, "id": existing["id"], "kind": props.get("kind"),
                                   "address": props.get("address")})  # fmt: skip
            if retire_missing:
                await structures.retire(conn, layer, existing["id"], existing["version"], actor)

        for row, existing, changes, moved in to_change:
            patch: dict[str, Any] = {"properties": changes}
            if moved is not None:
                patch["geometry"] = {"type": "Point", "coordinates": list(row.point or ())}
            try:
                await structures.patch(conn, layer, existing["id"], patch, existing["version"],
                                       actor)  # fmt: skip
            except DomainError as exc:
                _unplaced(result, row, _refusal(exc))
                continue
            old = existing["properties"]
            result.changed.append({
                "row": row.number, "code": row.code, "id": existing["id"],
                "changes": [{"property": k, "old": old.get(k), "new": v}
                            for k, v in changes.items()],
                "moved_m": round(moved, 1) if moved is not None else None,
            })  # fmt: skip

        for row in to_add:
            props = {"kind": "unknown", **row.props, "code": row.code}
            try:
                stored, _version = await structures.create(conn, layer, _feature(row, props),
                                                           actor)  # fmt: skip
            except DomainError as exc:
                _unplaced(result, row, _refusal(exc))
                continue
            assert row.point is not None
            result.added.append({
                "row": row.number, "code": row.code, "id": stored["id"] if apply else None,
                "kind": props.get("kind"), "address": props.get("address"),
                "lon": row.point[0], "lat": row.point[1], "placed_by": row.placed_by,
            })  # fmt: skip

        result.unplaced.sort(key=lambda u: u["row"])
        if not apply:
            raise psycopg.Rollback(tx)
        report = ImportReport(layer=layer, source=source, added=len(result.added),
                              changed=len(result.changed), unchanged=result.unchanged,
                              removed=len(result.removed) if retire_missing else 0,
                              read=len(rows), crs=result.crs)  # fmt: skip
        for item in result.unplaced:
            report.reject(f"row {item['row']}", reason_text(item, "en"))
        row_id = await (await conn.execute(RECORD_RUN_SQL, run_values(report))).fetchone()
        result.run_id = row_id[0] if row_id else None
        result.applied = True
    return result


def summary(result: Result, lang: str = "en") -> list[str]:
    """The command line's lines: the counts, then one line per item of each list."""
    c = result.counts
    verb = "applied" if result.applied else "preview (nothing changed)"
    removed = "retired" if result.retire_missing else "not in the file, kept"
    lines = [
        f"{result.layer}: {verb}: {c['added']} added, {c['changed']} changed, "
        f"{c['unchanged']} unchanged, {c['removed']} {removed}, {c['unplaced']} not placed "
        f"(CRS {result.crs})"
    ]
    for a in result.added:
        lines.append(f"  + {a['code']} (row {a['row']}) at {a['lon']:.6f}, {a['lat']:.6f}"
                     f" by {a['placed_by']}")  # fmt: skip
    for ch in result.changed:
        parts = [f"{x['property']}: {x['old']!r} → {x['new']!r}" for x in ch["changes"]]
        if ch["moved_m"] is not None:
            parts.append(f"moved {ch['moved_m']} m")
        lines.append(f"  ~ {ch['code']} (row {ch['row']}): {'; '.join(parts)}")
    for r in result.removed:
        lines.append(f"  - {r['code']}: {removed}")
    for u in result.unplaced:
        lines.append(f"  ! row {u['row']} {u['code'] or ''}: {reason_text(u, lang)}")
    return lines
