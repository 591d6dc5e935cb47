"""The catalogue of layers: who keeps each one, how often it must be updated, and whether it
is overdue; and the planner's changes to a thematic layer's metadata (the `layers` table)."""

from __future__ import annotations

import json

from psycopg.rows import dict_row

from gis.errors import Conflict, InvalidInput, NotFound
from gis.jsonable import iso_row
from gis.models import UPDATE_REGIMES
from layers.registry import CORE_LAYERS

# How long each regime lets a layer go without an update ('on_change': as long as it takes).
REGIME_INTERVALS = {
    "daily": "1 day",
    "weekly": "7 days",
    "monthly": "1 month",
    "quarterly": "3 months",
}

_CATALOGUE_SQL = """
SELECT l.name, l.title, l.title_en, l.description, l.kind, l.geometry_type,
       l.owner_department, l.update_regime, l.last_updated, l.source, l.attribution,
       CASE WHEN r.interval IS NULL THEN false
            WHEN l.last_updated IS NULL THEN true
            ELSE l.last_updated + r.interval::interval < now() END AS overdue,
       CASE WHEN r.interval IS NULL OR l.last_updated IS NULL THEN NULL
            ELSE l.last_updated + r.interval::interval END AS due_by
  FROM layers l
  LEFT JOIN (SELECT key AS regime, value AS interval FROM jsonb_each_text(%s::jsonb)) r
         ON r.regime = l.update_regime
 WHERE l.is_public
 ORDER BY l.kind, l.name
"""


async def catalogue(conn, role: str | None) -> list[dict]:
    """The public layers `role` may see (internal core layers for staff only), with their
    keeper, regime, last update, due date and whether they are overdue."""
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(_CATALOGUE_SQL, (json.dumps(REGIME_INTERVALS),))
        rows = await cur.fetchall()
    return [
        iso_row(row)
        for row in rows
        if row["name"] not in CORE_LAYERS or CORE_LAYERS[row["name"]].visible_to(role)
    ]


async def change_layer(
    conn, name: str, *, title: str | None = None, title_en: str | None = None,
    description: str | None = None, owner_department: str | None = None,
    update_regime: str | None = None,
) -> dict:  # fmt: skip
    """A thematic layer's title, description, owner department and update regime (None
    leaves a field as it is). Core layers are declared in code: Conflict."""
    if update_regime is not None and update_regime not in UPDATE_REGIMES:
        raise InvalidInput("invalid_update_regime", value=update_regime,
                           allowed=", ".join(UPDATE_REGIMES))  # fmt: skip
    if title is not None and not title.strip():
        raise InvalidInput("title_required")
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute("SELECT kind FROM layers WHERE name = %s", (name,))
        layer = await cur.fetchone()
        if layer is None:
            raise NotFound("layer_not_found", name=name)
        if layer["kind"] != "thematic":
            raise Conflict("layer_is_core", name=name)
        await cur.execute(
            "UPDATE layers SET title = coalesce(%s, title), title_en = coalesce(%s, title_en),"
            " description = coalesce(%s, description),"
            " owner_department = coalesce(%s, owner_department),"
            " update_regime = coalesce(%s, update_regime) WHERE name = %s"
            " RETURNING name, title, title_en, description, kind, owner_department,"
            " update_regime, last_updated, is_public",
            (title, title_en, description, owner_department, update_regime, name),
        )
        row = await cur.fetchone()
    if row is None:  # removed since the SELECT above
        raise NotFound("layer_not_found", name=name)
    return iso_row(row)
