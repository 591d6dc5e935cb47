"""Editing advertising structures and kiosks (issue 16): the planners' workbench and OGC API –
Features Part 4 both call these.

Each change — `create`, `replace` (PUT), `patch` (merge-patch), `retire` (DELETE) — runs in one
transaction of the caller's connection:

1. the feature is locked (SELECT … FOR UPDATE) and its `version` compared with the client's
   If-Match (`expected`, from `parse_if_match`): a stale edit is PreconditionFailed (412)
   carrying the current feature, so the other planner's change is shown, never lost;
2. the properties and the geometry are validated (400 naming the property);
3. the placement rules are checked (gis/placement.py; 409 `placement_rule_violated`);
4. the row is written with version + 1 and updated_at; a retired row keeps its data
   (`retired_at`) and disappears from OGC items, tiles and the planner;
5. a feature_events row records the old and the new values (gis/audit.py, hash-chained);
6. the layer's `layers.last_updated` becomes now() (the catalogue's freshness, item 7).

Councils (issue 17): a structure belongs to the council of its point (`council_id`, set on
create and when it is moved: gis/councils.COUNCIL_AT_POINT_SQL). A planner or administrator
bound to a council reads and edits that council's rows only: another council's row, or a
place in another council, is 404 (`feature_not_found`, `place_outside_council`), so nothing
leaks; oblast staff and every planner of a one-council install edit them all
(gis/placement.editor_councils). `actor` None (the system) is not limited.

The holder (`owner`) of a permit may be a private person (`holder_is_person`): the public
layers never show it then (layers/features.py); this module serves planners and admins only.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import AsyncConnection, sql

from gis import placement, structure_links
from gis.audit import record_feature_change
from gis.councils import COUNCIL_AT_POINT_SQL
from gis.errors import (
    Conflict,
    InvalidInput,
    NotFound,
    PreconditionFailed,
    PreconditionRequired,
)
from gis.texts import N_, tr
from gis.values import bad_character

LAYERS = placement.EDITABLE
PRECISION = 6


@dataclass(frozen=True)
class Field:
    type: str  # text, number, integer, boolean, date
    required: bool = False
    max_length: int = 500
    lo: float | None = None
    hi: float | None = None


_PERMIT: dict[str, Field] = {
    "owner": Field("text"),
    "holder_is_person": Field("boolean"),
    "permit_number": Field("text", max_length=100),
    "permit_type": Field("text", max_length=200),
    "permit_valid_from": Field("date"),
    "permit_valid_until": Field("date"),
    "address": Field("text"),
}
FIELDS: dict[str, dict[str, Field]] = {
    "advertising_structures": {
        "code": Field("text", required=True, max_length=64),
        "kind": Field("text", required=True, max_length=100),
        "size": Field("text", max_length=32),
        "width_m": Field("number", lo=0, hi=1000),
        "height_m": Field("number", lo=0, hi=1000),
        "sides": Field("integer", lo=1, hi=8),
        **_PERMIT,
    },
    "kiosks": {
        "code": Field("text", required=True, max_length=64),
        "kind": Field("text", required=True, max_length=100),
        "specialization": Field("text", max_length=200),
        "area_m2": Field("number", lo=0, hi=100_000),
        **_PERMIT,
    },
}
# What a client may send back as it got it (a GET's feature): read, never written.
READ_ONLY = frozenset({"id", "generated", "version", "updated_at", "retired_at", "last_change"})
GEOMETRY_TYPES = {
    "advertising_structures": ("Point",),
    "kiosks": ("Point", "Polygon", "MultiPolygon"),
}
HINTS = {
    "text": N_("текст в один рядок, щонайбільше {max} символів"),
    "number": N_("число від {lo} до {hi}"),
    "integer": N_("ціле число від {lo} до {hi}"),
    "boolean": N_("true або false"),
    "date": N_("дата РРРР-ММ-ДД"),
}


def parse_if_match(value: str | None) -> int | None:
    """The version an If-Match header names: `"3"` or `W/"3"` → 3, `*` → None (any version);
    missing → PreconditionRequired (428); anything else matches no version (-1 → 412)."""
    if value is None or not value.strip():
        raise PreconditionRequired()
    text = value.strip()
    if text == "*":
        return None
    match = re.fullmatch(r'(?:W/)?"([0-9]{1,9})"', text) or re.fullmatch(r"([0-9]{1,9})", text)
    return int(match.group(1)) if match else -1


def etag(version: int) -> str:
    return f'"{version}"'


def _check_layer(layer: str) -> None:
    if layer not in LAYERS:
        raise Conflict("collection_not_editable", collection=layer)


def _bad(name: str, value: Any, field: Field) -> InvalidInput:
    hint = HINTS[field.type]
    params = {"max": field.max_length, "lo": _num(field.lo), "hi": _num(field.hi)}
    return InvalidInput(
        "invalid_property",
        parameter=name,
        value=str(value)[:64],
        hint_uk=tr(hint, "uk", **params),
        hint_en=tr(hint, "en", **params),
    )


def _num(x: float | None) -> str:
    return "" if x is None else f"{x:g}"


def _value(name: str, value: Any, field: Field) -> Any:
    if value is None:
        if field.required:
            raise InvalidInput("property_required", parameter=name)
        return False if field.type == "boolean" else None
    if field.type == "text":
        if not isinstance(value, str) or len(value) > field.max_length or bad_character(value):
            raise _bad(name, value, field)
        value = value.strip()
        if field.required and not value:
            raise InvalidInput("property_required", parameter=name)
        return value or None
    if field.type == "boolean":
        if not isinstance(value, bool):
            raise _bad(name, value, field)
        return value
    if field.type in ("number", "integer"):
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        if ok and field.type == "integer":
            ok = isinstance(value, int) or (isinstance(value, float) and value.is_integer())
        if not ok or not math.isfinite(value) or not (field.lo or 0) <= value <= (field.hi or 0):
            raise _bad(name, value, field)
        return int(value) if field.type == "integer" else float(value)
    # date
    try:
        day = dt.date.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        day = None
    if day is None or not dt.date(1991, 8, 24) <= day <= dt.date(2999, 12, 31):
        raise _bad(name, value, field)
    return day


def validate_properties(layer: str, props: Any, *, partial: bool) -> dict[str, Any]:
    """The columns to write from a feature's `properties` (all of them; with `partial`, only
    those given). Unknown names, wrong types and missing required ones are 400s."""
    fields = FIELDS[layer]
    if not isinstance(props, dict):
        raise InvalidInput("invalid_feature_json")
    out: dict[str, Any] = {}
    for name, value in props.items():
        if not isinstance(name, str) or name in READ_ONLY:
            continue
        if name not in fields:
            raise InvalidInput("unknown_property", parameter=name[:64], allowed=", ".join(fields))
        out[name] = _value(name, value, fields[name])
    if not partial:
        for name, field in fields.items():
            if name not in out:
                out[name] = _value(name, None, field)
    if out.get("permit_valid_from") and out.get("permit_valid_until"):
        if out["permit_valid_from"] > out["permit_valid_until"]:
            raise _bad(
                "permit_valid_until", out["permit_valid_until"], fields["permit_valid_until"]
            )
    return out


def _geometry_shape(layer: str, geometry: Any) -> str:
    allowed = GEOMETRY_TYPES[layer]
    ok = (
        isinstance(geometry, dict)
        and geometry.get("type") in allowed
        and isinstance(geometry.get("coordinates"), list)
    )
    if ok:
        text = json.dumps({"type": geometry["type"], "coordinates": geometry["coordinates"]})
        if len(text) <= 200_000 and re.fullmatch(r"[\[\]{}\",:0-9eE.+\- a-zA-Z]*", text):
            return text
    raise InvalidInput("invalid_geometry", parameter="geometry", allowed=", ".join(allowed))


_GEOMETRY_OK = """
WITH g AS (SELECT ST_SetSRID(ST_GeomFromGeoJSON(%s), 4326) AS geom)
SELECT ST_IsValid(geom) AND NOT ST_IsEmpty(geom)
       AND ST_XMin(geom) >= -180 AND ST_XMax(geom) <= 180
       AND ST_YMin(geom) >= -90 AND ST_YMax(geom) <= 90
  FROM g
"""


async def validate_geometry(conn: AsyncConnection, layer: str, geometry: Any) -> str:
    """The geometry as GeoJSON text if it is of the layer's kinds, valid and in lon/lat;
    else 400 invalid_geometry. Runs in a savepoint: a refusal leaves the transaction alive."""
    text = _geometry_shape(layer, geometry)
    try:
        async with conn.transaction():
            row = await (await conn.execute(_GEOMETRY_OK, (text,))).fetchone()
    except psycopg.Error:
        row = None
    if row is None or not row[0]:
        raise InvalidInput(
            "invalid_geometry", parameter="geometry", allowed=", ".join(GEOMETRY_TYPES[layer])
        )
    return text


def _columns(layer: str) -> list[str]:
    return list(FIELDS[layer])


def _select(layer: str, *, lock: bool, scope: str = "true") -> sql.Composed:
    props = sql.SQL(", ").join(
        sql.SQL("{}, t.{}").format(sql.Literal(c), sql.Identifier(c)) for c in _columns(layer)
    )
    return sql.SQL(
        "SELECT json_build_object('type', 'Feature', 'id', t.id, "
        "'geometry', ST_AsGeoJSON(t.geom, {precision})::json, "
        "'properties', json_build_object({props}, 'generated', t.generated, "
        "'version', t.version, 'updated_at', t.updated_at)), t.version "
        "FROM {table} AS t WHERE t.id = %s AND t.retired_at IS NULL AND {scope}{lock}"
    ).format(
        precision=sql.Literal(PRECISION),
        props=props,
        table=sql.Identifier(layer),
        scope=sql.SQL(scope),  # placement.editor_scope's: trusted
        lock=sql.SQL(" FOR UPDATE") if lock else sql.SQL(""),
    )


_LAST_CHANGE = """
SELECT json_build_object('actor', actor, 'at', at, 'action', action)
  FROM feature_events WHERE layer = %s AND feature_id = %s ORDER BY id DESC LIMIT 1
"""


def _fid(feature_id: Any) -> int | None:
    if isinstance(feature_id, int):
        return feature_id
    text = str(feature_id)
    return int(text) if re.fullmatch(r"[0-9]{1,9}", text) else None


async def read(
    conn: AsyncConnection, layer: str, feature_id: Any, *, lock: bool = False,
    actor: Any = None,
) -> tuple[dict, int]:  # fmt: skip
    """A feature (not retired) with every editable property, its version and who changed it
    last (`properties.last_change`: actor, at, action); NotFound otherwise — also for a row
    of a council that is not `actor`'s (None: any council)."""
    _check_layer(layer)
    fid = _fid(feature_id)
    row = None
    if fid is not None:
        scope, params = placement.editor_scope(actor, "t")
        query = _select(layer, lock=lock, scope=scope)
        row = await (await conn.execute(query, (fid, *params))).fetchone()
    if row is None:
        raise NotFound("feature_not_found", collection=layer, feature_id=str(feature_id)[:64])
    feature, version = row
    last = await (await conn.execute(_LAST_CHANGE, (layer, str(fid)))).fetchone()
    feature["properties"]["last_change"] = last[0] if last else None
    return feature, version


async def version_of(
    conn: AsyncConnection, layer: str, feature_id: Any, actor: Any = None
) -> int | None:
    """The current version of a feature (its ETag), None if there is none (or it is retired,
    or of a council `actor` does not edit: no ETag, nothing to edit)."""
    if layer not in LAYERS or (fid := _fid(feature_id)) is None:
        return None
    scope, params = placement.editor_scope(actor, "t")
    query = sql.SQL(
        "SELECT version FROM {} AS t WHERE t.id = %s AND t.retired_at IS NULL AND {}"
    ).format(sql.Identifier(layer), sql.SQL(scope))
    row = await (await conn.execute(query, (fid, *params))).fetchone()
    return None if row is None else row[0]


def _snapshot(feature: dict) -> dict:
    """What the audit trail keeps of a feature: its editable properties and geometry."""
    props = {k: v for k, v in feature["properties"].items() if k not in READ_ONLY}
    return {**props, "geometry": feature["geometry"]}


async def _touch_layer(conn: AsyncConnection, layer: str) -> None:
    await conn.execute("UPDATE layers SET last_updated = now() WHERE name = %s", (layer,))


def _check_version(layer: str, fid: int, current: dict, version: int, expected: int | None) -> None:
    if expected is not None and expected != version:
        err = PreconditionFailed(feature_id=fid, given=expected, current=version)
        err.extra = {"current": current, "etag": etag(version)}
        raise err


async def _audit(conn, layer, fid, actor, action, old, new) -> None:
    from gis.lifecycle import actor_label  # the appeals' trail names its actors the same way

    await record_feature_change(
        conn,
        layer=layer,
        feature_id=fid,
        actor=actor_label(actor),
        actor_user_id=getattr(actor, "user_id", None),
        action=action,
        old=old,
        new=new,
    )


def _feature_parts(feature: Any) -> tuple[Any, Any]:
    if not isinstance(feature, dict) or feature.get("type", "Feature") != "Feature":
        raise InvalidInput("invalid_feature_json")
    return feature.get("geometry"), feature.get("properties", {})


async def _code_free(conn: AsyncConnection, layer: str, code: str, fid: int | None) -> None:
    query = sql.SQL("SELECT 1 FROM {} WHERE code = %s AND id IS DISTINCT FROM %s").format(
        sql.Identifier(layer)
    )
    if await (await conn.execute(query, (code, fid))).fetchone():
        raise Conflict("code_taken", value=code)


# The council of a place (its point on the surface) and how many councils there are.
_PLACE_COUNCIL = (
    "SELECT (" + COUNCIL_AT_POINT_SQL + "), (SELECT count(*) FROM councils)"
    " FROM (SELECT ST_PointOnSurface(ST_SetSRID(ST_GeomFromGeoJSON(%s), 4326)) AS geom) p"
)


async def council_of_place(conn: AsyncConnection, geom: str, actor: Any) -> int | None:
    """The council of a feature placed at `geom` (GeoJSON text): the council of its point.
    NotFound `place_outside_council` when that council is not one `actor` edits, or when the
    installation serves several councils and the place lies in none; None in a one-council
    install for a place outside its boundary (the column's default council, as before)."""
    row = await (await conn.execute(_PLACE_COUNCIL, (geom,))).fetchone()
    assert row is not None  # a SELECT without FROM rows of its own
    council, count = row
    ids = placement.editor_councils(actor)
    if council is None:
        if count > 1:
            raise NotFound("place_outside_council")
        return None
    if ids is not None and council not in ids:
        raise NotFound("place_outside_council")
    return int(council)


async def create(conn: AsyncConnection, layer: str, feature: Any, actor: Any) -> tuple[dict, int]:
    """A new structure from a GeoJSON Feature: (the stored feature, its version 1)."""
    _check_layer(layer)
    geometry, props = _feature_parts(feature)
    values = validate_properties(layer, props, partial=False)
    async with conn.transaction():
        geom = await validate_geometry(conn, layer, geometry)
        council = await council_of_place(conn, geom, actor)
        await _code_free(conn, layer, values["code"], None)
        await placement.check(conn, layer, geom, None)
        if council is not None:
            values = {**values, "council_id": council}
        cols = list(values)
        query = sql.SQL(
            "INSERT INTO {table} ({cols}, geom, version, updated_at) "
            "VALUES ({vals}, ST_SetSRID(ST_GeomFromGeoJSON(%(geom)s), 4326), 1, now()) "
            "RETURNING id"
        ).format(
            table=sql.Identifier(layer),
            cols=sql.SQL(", ").join(map(sql.Identifier, cols)),
            vals=sql.SQL(", ").join(sql.Placeholder(c) for c in cols),
        )
        row = await (await conn.execute(query, {**values, "geom": geom})).fetchone()
        assert row is not None
        fid = row[0]
        stored, version = await read(conn, layer, fid)
        await _audit(conn, layer, fid, actor, "create", None, _snapshot(stored))
        await _touch_layer(conn, layer)
        await structure_links.relink_around(conn, layer, fid)  # the open appeals near it
    stored, version = await read(conn, layer, fid)
    return stored, version


async def _update(
    conn: AsyncConnection,
    layer: str,
    feature_id: Any,
    expected: int | None,
    actor: Any,
    *,
    geometry: Any,
    values: dict[str, Any],
) -> tuple[dict, int]:
    async with conn.transaction():
        current, version = await read(conn, layer, feature_id, lock=True, actor=actor)
        fid = current["id"]
        _check_version(layer, fid, current, version, expected)
        geom = None
        if geometry is not None:
            geom = await validate_geometry(conn, layer, geometry)
            council = await council_of_place(conn, geom, actor)  # moved: its new council
            if council is not None:
                values = {**values, "council_id": council}
        if "code" in values:
            await _code_free(conn, layer, values["code"], fid)
        await placement.check(conn, layer, geom or json.dumps(current["geometry"]), fid)
        sets: list[sql.Composable] = [
            sql.SQL("{} = {}").format(sql.Identifier(c), sql.Placeholder(c)) for c in values
        ]
        if geom is not None:
            sets.append(sql.SQL("geom = ST_SetSRID(ST_GeomFromGeoJSON(%(geom)s), 4326)"))
        sets += [sql.SQL("version = version + 1"), sql.SQL("updated_at = now()")]
        query = sql.SQL("UPDATE {} SET {} WHERE id = %(fid)s").format(
            sql.Identifier(layer), sql.SQL(", ").join(sets)
        )
        await conn.execute(query, {**values, "geom": geom, "fid": fid})
        stored, new_version = await read(conn, layer, fid)
        await _audit(conn, layer, fid, actor, "update", _snapshot(current), _snapshot(stored))
        await _touch_layer(conn, layer)
        if geom is not None:  # moved: the open appeals near its old and new places
            await structure_links.relink_around(conn, layer, fid, current["geometry"])
    return stored, new_version


async def replace(
    conn: AsyncConnection, layer: str, feature_id: Any, feature: Any, expected: int | None,
    actor: Any,
) -> tuple[dict, int]:  # fmt: skip
    """PUT: the whole feature replaced (properties not given become empty)."""
    _check_layer(layer)
    geometry, props = _feature_parts(feature)
    values = validate_properties(layer, props, partial=False)
    if geometry is None:
        raise InvalidInput("invalid_geometry", parameter="geometry",
                           allowed=", ".join(GEOMETRY_TYPES[layer]))  # fmt: skip
    return await _update(conn, layer, feature_id, expected, actor, geometry=geometry, values=values)


async def patch(
    conn: AsyncConnection, layer: str, feature_id: Any, change: Any, expected: int | None,
    actor: Any,
) -> tuple[dict, int]:  # fmt: skip
    """PATCH (JSON merge patch of a Feature): only the properties given change (null empties
    one), the geometry when given."""
    _check_layer(layer)
    if not isinstance(change, dict):
        raise InvalidInput("invalid_feature_json")
    geometry = change.get("geometry")
    props = change.get("properties") or {}
    values = validate_properties(layer, props, partial=True)
    return await _update(conn, layer, feature_id, expected, actor, geometry=geometry, values=values)


async def retire(
    conn: AsyncConnection, layer: str, feature_id: Any, expected: int | None, actor: Any
) -> None:
    """DELETE: the structure is retired — gone from the map, kept for the audit trail."""
    _check_layer(layer)
    async with conn.transaction():
        current, version = await read(conn, layer, feature_id, lock=True, actor=actor)
        fid = current["id"]
        _check_version(layer, fid, current, version, expected)
        query = sql.SQL(
            "UPDATE {} SET retired_at = now(), updated_at = now(), version = version + 1 "
            "WHERE id = %s"
        ).format(sql.Identifier(layer))
        await conn.execute(query, (fid,))
        await _audit(conn, layer, fid, actor, "retire", _snapshot(current), None)
        await _touch_layer(conn, layer)
        await structure_links.relink_around(conn, layer, fid)  # its open appeals elsewhere
