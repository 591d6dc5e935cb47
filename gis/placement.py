"""Placement rules (issue 16, item 3): where an advertising structure or a kiosk may stand.

The administrator keeps the rules in `placement_rules` (gis/placement_rules.py: their CRUD);
every save of a structure (gis/structures.py) calls `check()` in its own transaction, before
the row is written. Three kinds:

- `min_distance_same`: at least `distance_m` metres from every other (not retired) feature of
  the same layer;
- `min_distance_layer`: not within `distance_m` metres of the features of `other_layer`;
- `not_inside_layer`: not inside (nor touching) the polygons of `other_layer`.

`other_layer` is a layer of the catalogue: one of the two editable core tables, or a thematic
layer (its rows in `layer_features`). Distances are measured on the spheroid (geography).
The first enabled rule broken, in id order, refuses the save: Conflict
`placement_rule_violated`, whose `extra` names the rule and carries what it is too close to
(or inside) as a GeoJSON FeatureCollection, so that the map can draw it.
"""

from __future__ import annotations

import json
from typing import Any

from psycopg import AsyncConnection, sql

from gis.errors import Conflict
from gis.scope import council_scope

EDITABLE = ("advertising_structures", "kiosks")
# Who keeps the structures and kiosks (gis/structures.py, gis/permits.py, the documents…).
EDITORS = ("planner", "admin")
KINDS = ("min_distance_same", "min_distance_layer", "not_inside_layer")
MAX_CONFLICTS = 50
PRECISION = 6


def editor_councils(actor: Any) -> list[int] | None:
    """The councils whose structures and kiosks `actor` sees and edits (issue 17: their
    `council_id`): None for every council — oblast staff and a one-council install
    (`every_council`), and a caller that is no planner nor administrator (the command line's
    register import, the system's jobs); else the planner's or administrator's own councils
    (none for a principal built without them: gis.scope.council_scope's default denies)."""
    if getattr(actor, "role", None) not in EDITORS:
        return None
    scope, params = council_scope(actor, "t")
    if scope == "true":
        return None
    return [int(i) for i in params[0]] if params else []


def editor_scope(actor: Any, alias: str) -> tuple[str, list[Any]]:
    """(fragment, params) over a structures/kiosks table aliased `alias`: the rows of
    `editor_councils(actor)` ("true" for every council)."""
    ids = editor_councils(actor)
    if ids is None:
        return "true", []
    return f"{alias}.council_id = ANY(%s)", [ids]


_RULES = """
SELECT id, kind, distance_m::float8, other_layer, title, title_en
  FROM placement_rules WHERE layer = %s AND enabled ORDER BY id
"""


def _source(layer: str) -> tuple[sql.Composable, sql.Composable, sql.Composable]:
    """(FROM, its condition, the feature's label) of a layer's features, as `f`."""
    if layer in EDITABLE:
        return (
            sql.Identifier(layer),
            sql.SQL("f.retired_at IS NULL"),
            sql.SQL("f.code"),
        )
    return (
        sql.Identifier("layer_features"),
        sql.SQL("f.layer_name = {}").format(sql.Literal(layer)),
        sql.SQL("coalesce(f.properties->>'name', f.properties->>'title', f.feature_key)"),
    )


def _conflicts_query(rule_kind: str, other: str, *, same: bool) -> sql.Composed:
    table, condition, label = _source(other)
    if rule_kind == "not_inside_layer":
        near = sql.SQL("ST_Dimension(f.geom) = 2 AND ST_Intersects(f.geom, g.geom)")
    else:
        near = sql.SQL("ST_DWithin(f.geom::geography, g.geom::geography, %(distance)s)")
    exclude = sql.SQL(" AND f.id IS DISTINCT FROM %(exclude)s") if same else sql.SQL("")
    return sql.SQL(
        "WITH g AS (SELECT ST_SetSRID(ST_GeomFromGeoJSON(%(geom)s), 4326) AS geom) "
        "SELECT json_build_object('type', 'Feature', 'id', f.id, "
        "'geometry', ST_AsGeoJSON(f.geom, {precision})::json, "
        "'properties', json_build_object('layer', {layer}, 'label', {label}, "
        "'distance_m', round(ST_Distance(f.geom::geography, g.geom::geography)::numeric, 1)))"
        " FROM {table} AS f, g WHERE {condition} AND {near}{exclude}"
        " ORDER BY ST_Distance(f.geom::geography, g.geom::geography), f.id LIMIT {limit}"
    ).format(
        precision=sql.Literal(PRECISION),
        layer=sql.Literal(other),
        label=label,
        table=table,
        condition=condition,
        near=near,
        exclude=exclude,
        limit=sql.Literal(MAX_CONFLICTS),
    )


async def check(
    conn: AsyncConnection, layer: str, geometry: dict | str, exclude_id: int | None = None
) -> None:
    """Refuse (Conflict `placement_rule_violated`) a feature of `layer` placed at `geometry`
    (GeoJSON, lon/lat) that breaks an enabled rule; `exclude_id`: the feature itself, when it
    is being moved or changed."""
    if layer not in EDITABLE:
        return
    geom = geometry if isinstance(geometry, str) else json.dumps(geometry)
    cur = await conn.execute(_RULES, (layer,))
    for rule_id, kind, distance, other, title, title_en in await cur.fetchall():
        same = kind == "min_distance_same"
        other_layer = layer if same else other
        if kind not in KINDS or other_layer is None:
            continue
        if kind != "not_inside_layer" and (distance is None or distance <= 0):
            continue
        query = _conflicts_query(kind, other_layer, same=same or other_layer == layer)
        args: dict[str, Any] = {"geom": geom, "distance": distance, "exclude": exclude_id}
        rows = await (await conn.execute(query, args)).fetchall()
        if not rows:
            continue
        err = Conflict(
            "placement_rule_violated",
            title_uk=title,
            title_en=title_en or title,
        )
        err.extra = {
            "rule": {
                "id": rule_id,
                "kind": kind,
                "title": title,
                "title_en": title_en,
                "distance_m": distance,
                "other_layer": other_layer,
            },
            "conflicts": {"type": "FeatureCollection", "features": [r[0] for r in rows]},
        }
        raise err
