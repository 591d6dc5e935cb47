"""The planners' workbench: appeals linked to advertising structures and kiosks (issue 16, item 5).

- `GET /api/v1/structures/{layer}/{feature_id}/appeals` — anyone: the appeals linked to a
  structure, with the public feed's fields only (as the public map shows them; never an
  author's data, the text only when its author consented).
- `GET /api/v1/planner/complaints?layer=&date_from=&date_to=` — planners and admins: the
  structures with the most complaints and the complaints about places with no registered
  structure nearby. The fields are public ones, but «no registered structure nearby — likely
  unpermitted» is the planners' working assessment, not a published finding: their tool.

The linking itself: gis/structure_links.py.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from api import schemas
from api.deps import ConnDep, SettingsDep
from api.policy import Principal, allow, public
from gis import structure_links
from gis.values import parse_date, parse_int

router = APIRouter(prefix="/api/v1", tags=["planner"])

PLANNERS = ("planner", "admin")
Text = str | None


@router.get(
    "/structures/{layer}/{feature_id}/appeals",
    response_model=schemas.StructureAppeals,
    name="structure_appeals",
    dependencies=[public()],
)
async def structure_appeals(layer: str, feature_id: str, conn: ConnDep) -> dict:
    """The appeals linked to an advertising structure or a kiosk (not retired), newest first
    (at most 200): number, category, status, dates, address, the text only with consent."""
    structure_links.check_layer(layer)
    fid = parse_int(feature_id, "feature_id", lo=1, hi=2**31 - 1)
    items = await structure_links.structure_appeals(conn, layer, fid)
    return {
        "layer": layer, "feature_id": fid, "count": len(items),
        "items": [{**item, "href": f"/api/v1/appeals/{item['number']}"} for item in items],
    }  # fmt: skip


@router.get("/planner/complaints", response_model=schemas.PlannerComplaints,
            name="planner_complaints")  # fmt: skip
async def planner_complaints(
    principal: Annotated[Principal, allow(*PLANNERS)],
    conn: ConnDep,
    settings: SettingsDep,
    layer: Annotated[Text, Query(description="advertising_structures or kiosks")] = None,
    date_from: Annotated[Text, Query(description="registered on or after (YYYY-MM-DD, Kyiv)")] = None,
    date_to: Annotated[Text, Query(description="registered on or before (YYYY-MM-DD, Kyiv)")] = None,
) -> dict:  # fmt: skip
    """The 100 structures with the most linked appeals (registered within the dates), most
    first, as GeoJSON points with their counts; the appeals with no registered structure
    nearby (likely unpermitted ones), newest first."""
    if layer is not None:
        structure_links.check_layer(layer)
    day_from = None if date_from is None else parse_date(date_from, "date_from")
    day_to = None if date_to is None else parse_date(date_to, "date_to")
    found = await structure_links.complaints(conn, layer=layer, date_from=day_from,
                                             date_to=day_to, actor=principal)  # fmt: skip
    return {"layer": layer, "date_from": day_from, "date_to": day_to,
            "distance_m": settings.structure_link_distance_m, **found}  # fmt: skip
