"""`GET /api/v1/layers`: every public layer with its owner department, update regime (as
Pokrovsk's regulation sets them for its web services), last update, and whether it is
overdue. The layers' features are served by /ogc; this is the catalogue of who keeps them."""

from __future__ import annotations

import json

from fastapi import APIRouter
from psycopg.rows import dict_row

from api.deps import ConnDep
from api.policy import PrincipalDep
from gis.jsonable import iso_row
from layers import CORE_LAYERS

router = APIRouter(prefix="/api/v1", tags=["layers"])

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


@router.get("/layers", name="layer_catalogue")
async def layer_catalogue(conn: ConnDep, principal: PrincipalDep) -> dict:
    """The layers the caller may see (internal ones for staff only): owner department, update
    regime, last update, due date, overdue, and where their features and tiles are served."""
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(_CATALOGUE_SQL, (json.dumps(REGIME_INTERVALS),))
        rows = await cur.fetchall()
    layers = [
        iso_row(row)
        | {
            "collection": f"/ogc/collections/{row['name']}",
            "tilejson": f"/tiles/{row['name']}/tilejson.json",
        }
        for row in rows
        if row["name"] not in CORE_LAYERS or CORE_LAYERS[row["name"]].visible_to(principal.role)
    ]
    return {"layers": layers, "returned": len(layers)}
