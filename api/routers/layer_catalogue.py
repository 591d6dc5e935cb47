"""`GET /api/v1/layers`: every public layer with its owner department, update regime (as
Pokrovsk's regulation sets them for its web services), last update, and whether it is
overdue. The layers' features are served by /ogc; this is the catalogue of who keeps them."""

from __future__ import annotations

from fastapi import APIRouter

from api import schemas
from api.deps import ConnDep
from api.policy import PrincipalDep
from layers import catalogue

router = APIRouter(prefix="/api/v1", tags=["layers"])


@router.get("/layers", response_model=schemas.LayerCatalogue, name="layer_catalogue")
async def layer_catalogue(conn: ConnDep, principal: PrincipalDep) -> dict:
    """The layers the caller may see (internal ones for staff only): owner department, update
    regime, last update, due date, overdue, and where their features and tiles are served."""
    layers = [
        row
        | {
            "collection": f"/ogc/collections/{row['name']}",
            "tilejson": f"/tiles/{row['name']}/tilejson.json",
        }
        for row in await catalogue.catalogue(conn, principal.role)
    ]
    return {"layers": layers, "returned": len(layers)}
