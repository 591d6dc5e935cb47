"""The placement rules of advertising structures and kiosks (issue 16 item 3), as the
administrator keeps them: list, create, change (title, distance, on/off), delete. Checking a
save against them is gis/placement.py's; this module only keeps the table `placement_rules`.

A rule belongs to one layer (`advertising_structures` or `kiosks`) and is of one kind:
- min_distance_same: at least distance_m metres from another feature of the same layer;
- min_distance_layer: not within distance_m metres of the features of `other_layer`;
- not_inside_layer: not inside the polygons of `other_layer` (a protected zone, a historic
  area) — no distance.
`other_layer` names a layer of the catalogue (/api/v1/layers) that gis/placement.py can read:
one of the two editable core layers, or a thematic one (its features in layer_features); for
not_inside_layer its geometry must be polygons.

Councils (issue 17): the rules are the installation's, shared by every council (the table
has no council): every administrator reads them, only one of every council (the oblast's,
or any in a one-council install) changes them — a council's own administrator gets 403
`placement_rules_shared`.

Every change is audited like the administrator's other ones (gis/audit.py
`record_directory_change`, layer 'placement_rules'), in its own transaction.
"""

from __future__ import annotations

import math
from typing import Any

from psycopg.rows import dict_row

from gis.audit import record_directory_change
from gis.errors import Forbidden, InvalidInput, NotFound
from gis.jsonable import iso_row
from gis.placement import editor_councils

LAYERS = ("advertising_structures", "kiosks")
KINDS = ("min_distance_same", "min_distance_layer", "not_inside_layer")
DISTANCE_KINDS = ("min_distance_same", "min_distance_layer")
OTHER_LAYER_KINDS = ("min_distance_layer", "not_inside_layer")
DISTANCE_MAX = 5000
TITLE_MAX = 200
POLYGON_TYPES = ("Polygon", "MultiPolygon")

_COLUMNS = """r.id, r.layer, r.kind, r.distance_m::float8 AS distance_m, r.other_layer, r.title,
    r.title_en, r.enabled, r.created_at, r.created_by"""
_AUDITED = ("layer", "kind", "distance_m", "other_layer", "title", "title_en", "enabled")


def _audited(rule: dict) -> dict:
    return {k: rule.get(k) for k in _AUDITED}


async def _one(conn, query: str, params) -> dict | None:
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(query, params)
        return await cur.fetchone()


async def list_rules(conn) -> list[dict]:
    """Every rule, by layer then id."""
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(f"SELECT {_COLUMNS} FROM placement_rules r ORDER BY r.layer, r.id")
        return [iso_row(r) for r in await cur.fetchall()]


async def get_rule(conn, rule_id: int) -> dict:
    row = await _one(conn, f"SELECT {_COLUMNS} FROM placement_rules r WHERE r.id = %s",
                     (rule_id,))  # fmt: skip
    if row is None:
        raise NotFound("placement_rule_not_found", id=rule_id)
    return iso_row(row)


async def layer_geometry(conn, name: str) -> str | None:
    """The geometry type of a layer a rule may name (a public `layers` row: a thematic layer
    or one of the two editable core layers — what gis/placement.py can read), None when it
    is not one."""
    row = await _one(conn, "SELECT geometry_type FROM layers WHERE name = %s AND is_public"
                     " AND (kind = 'thematic' OR name = ANY(%s))", (name, list(LAYERS)))  # fmt: skip
    if row is None:
        return None
    return str(row["geometry_type"] or "Geometry")


def _check_shared(actor: Any) -> None:
    """The rules hold for every council: a council's own administrator may not change them."""
    if editor_councils(actor) is not None:
        raise Forbidden("placement_rules_shared")


def _title(value: str | None, parameter: str = "title", required: bool = True) -> str | None:
    value = (value or "").strip()
    if not value:
        if required:
            raise InvalidInput("field_required", parameter=parameter)
        return None
    if len(value) > TITLE_MAX:
        raise InvalidInput("field_too_long", parameter=parameter, max=TITLE_MAX)
    return value


def _distance(kind: str, value: float | None) -> float:
    if value is None or not math.isfinite(value) or not 1 <= value <= DISTANCE_MAX:
        raise InvalidInput("placement_rule_distance", kind=kind,
                           value="" if value is None else value, max=DISTANCE_MAX)  # fmt: skip
    return round(float(value), 2)


async def _other_layer(conn, kind: str, layer: str, other: str | None) -> str | None:
    if kind not in OTHER_LAYER_KINDS:
        return None
    other = (other or "").strip()
    if not other:
        raise InvalidInput("placement_rule_other_layer_required", kind=kind)
    geometry = await layer_geometry(conn, other)
    if geometry is None:
        raise InvalidInput("placement_rule_unknown_layer", value=other[:64])
    if kind == "not_inside_layer" and geometry not in POLYGON_TYPES:
        raise InvalidInput("placement_rule_not_polygons", value=other, geometry_type=geometry)
    return other


async def create_rule(
    conn, *, layer: str, kind: str, title: str | None, title_en: str | None = None,
    distance_m: float | None = None, other_layer: str | None = None, enabled: bool = True,
    actor: Any = None,
) -> dict:  # fmt: skip
    """A new rule; its facts checked (400 naming what is wrong)."""
    _check_shared(actor)
    if layer not in LAYERS:
        raise InvalidInput("placement_rule_layer", value=str(layer)[:64])
    if kind not in KINDS:
        raise InvalidInput("placement_rule_kind", value=str(kind)[:64])
    title = _title(title)
    title_en = _title(title_en, "title_en", required=False)
    if kind in DISTANCE_KINDS:
        distance = _distance(kind, distance_m)
    elif distance_m is not None:
        raise InvalidInput("placement_rule_no_distance", kind=kind)
    else:
        distance = None
    other = await _other_layer(conn, kind, layer, other_layer)
    async with conn.transaction():
        row = await _one(
            conn,
            "INSERT INTO placement_rules (layer, kind, distance_m, other_layer, title, title_en,"
            " enabled, created_by) VALUES (%s, %s, %s, %s, %s, %s, %s, %s) RETURNING id",
            (layer, kind, distance, other, title, title_en, enabled,
             getattr(actor, "user_id", None)),
        )  # fmt: skip
        assert row is not None  # INSERT … RETURNING
        out = await get_rule(conn, row["id"])
        await record_directory_change(conn, table="placement_rules", row_id=row["id"],
                                      actor=actor, action="created", old=None,
                                      new=_audited(out))  # fmt: skip
    return out


async def change_rule(
    conn, rule_id: int, *, title: str | None = None, title_en: str | None = None,
    distance_m: float | None = None, enabled: bool | None = None, actor: Any = None,
) -> dict:  # fmt: skip
    """Rename, another distance (distance kinds only), switch on or off; None leaves a field."""
    _check_shared(actor)
    async with conn.transaction():
        found = await _one(conn, "SELECT id FROM placement_rules WHERE id = %s FOR UPDATE",
                           (rule_id,))  # fmt: skip
        if found is None:
            raise NotFound("placement_rule_not_found", id=rule_id)
        current = await get_rule(conn, rule_id)
        changes: dict[str, Any] = {}
        if title is not None:
            changes["title"] = _title(title)
        if title_en is not None:
            changes["title_en"] = _title(title_en, "title_en", required=False)
        if distance_m is not None:
            if current["kind"] not in DISTANCE_KINDS:
                raise InvalidInput("placement_rule_no_distance", kind=current["kind"])
            changes["distance_m"] = _distance(current["kind"], distance_m)
        if enabled is not None:
            changes["enabled"] = enabled
        if changes:
            sets = ", ".join(f"{k} = %s" for k in changes)
            await conn.execute(f"UPDATE placement_rules SET {sets} WHERE id = %s",
                               [*changes.values(), rule_id])  # fmt: skip
        out = await get_rule(conn, rule_id)
        before, after = _audited(current), _audited(out)
        changed = [k for k in after if after[k] != before[k]]
        if changed:
            action = "updated"
            if changed == ["enabled"]:
                action = "enabled" if out["enabled"] else "disabled"
            await record_directory_change(
                conn, table="placement_rules", row_id=rule_id, actor=actor, action=action,
                old={k: before[k] for k in changed}, new={k: after[k] for k in changed},
            )  # fmt: skip
    return out


async def delete_rule(conn, rule_id: int, *, actor: Any = None) -> None:
    _check_shared(actor)
    async with conn.transaction():
        gone = await get_rule(conn, rule_id)  # NotFound
        await conn.execute("DELETE FROM placement_rules WHERE id = %s", (rule_id,))
        await record_directory_change(conn, table="placement_rules", row_id=rule_id,
                                      actor=actor, action="deleted", old=_audited(gone),
                                      new=None)  # fmt: skip


async def layer_choices(conn) -> list[dict]:
    """The catalogue's layers a rule may name as other_layer (public `layers` rows: the
    thematic ones and the two editable core ones): name, kind, titles, geometry type, core
    before thematic, and `polygons` when a not_inside_layer rule may use it."""
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(
            "SELECT name, kind, title, title_en, coalesce(geometry_type, 'Geometry')"
            " AS geometry_type FROM layers WHERE is_public"
            " AND (kind = 'thematic' OR name = ANY(%s)) ORDER BY kind, name",
            (list(LAYERS),),
        )
        rows = await cur.fetchall()
    return [{**r, "polygons": r["geometry_type"] in POLYGON_TYPES} for r in rows]
