"""The planners' workbench: permits over time: the structures whose permits expire or have expired (issue 16, item 4)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query

from api import schemas
from api.deps import ConnDep
from api.policy import Principal, allow
from gis import clock, permits

router = APIRouter(prefix="/api/v1/planner", tags=["planner"])

PLANNERS = ("planner", "admin")


@router.get("/permits", response_model=schemas.PermitsDue, name="planner_permits")
async def permits_due(
    principal: Annotated[Principal, allow(*PLANNERS)],
    conn: ConnDep,
    status: Annotated[Literal["expiring", "expired"], Query()] = "expiring",
    layer: Annotated[Literal["advertising_structures", "kiosks"] | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> dict:
    """The advertising structures and kiosks (not retired) whose permits expire within 30
    days (`expiring`, the soonest first) or have expired (`expired`, the latest first), by
    Kyiv's day; each with its holder and the layer's owning department; `counts`: both
    lists' sizes (of `layer`, if given). A planner of a council: that council's only."""
    today = clock.kyiv_today()
    items = await permits.listing(conn, status, today=today, layer=layer, limit=limit,
                                  actor=principal)  # fmt: skip
    counts = await permits.counts(conn, today=today, layer=layer, actor=principal)
    return {"today": today, "status": status, "items": items, "returned": len(items),
            "counts": counts}  # fmt: skip
