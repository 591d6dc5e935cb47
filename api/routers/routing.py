"""Routing by polygon, as public endpoints (MapIt's point lookup and a routing dry run).

- `GET /api/v1/areas?lon=&lat=`: every current area covering the point (hromada, districts,
  wards, executor territories), each with id, type, code or number, name and version;
- `GET /api/v1/route?lon=&lat=&category=`: what a submission at that point would decide —
  executor, rule, reason and the areas an appeal would store. `category` is an id or a code;
  without lon and lat the appeal has no place on the map and goes by category alone, to
  `council` (slug or KATOTTH code; needed when there are several councils).

Both answer the council of the point — the lowest KATOTTH code covering it, as routing decides:
`/areas` as `council` (gis/councils.py's shape), `/route` as `council_id` and `council_code`.

Both read only public data. Bad input is a 400 with a message (gis/routing.py raises it).
"""

from __future__ import annotations

from fastapi import APIRouter

from api import schemas
from api.deps import ConnDep
from api.policy import public
from gis import councils, routing
from gis.errors import InvalidInput

router = APIRouter(prefix="/api/v1", tags=["routing"])


@router.get("/areas", response_model=schemas.Areas, dependencies=[public()])
async def areas(conn: ConnDep, lon: str | None = None, lat: str | None = None) -> dict:
    found = await routing.areas_at(conn, lon, lat)
    point = routing.check_point(lon, lat)
    assert point is not None  # areas_at refused a missing point
    council = await councils.at_point(conn, point[0], point[1])
    return {
        "lon": point[0], "lat": point[1], "areas": found,
        "council": council.public() if council else None,
    }  # fmt: skip


@router.get("/route", response_model=schemas.RouteDecision, dependencies=[public()])
async def route(
    conn: ConnDep,
    category: str | None = None,
    lon: str | None = None,
    lat: str | None = None,
    council: str | None = None,
) -> dict:
    if category is None or not category.strip():
        raise InvalidInput("category_required", parameter="category")
    category_id = await routing.resolve_category(conn, category)
    named = await councils.resolve(conn, council) if council else None
    decision = await routing.decide(
        conn, lon=lon, lat=lat, category_id=category_id, council=named
    )  # fmt: skip
    return {**decision.as_dict(), "reason_en": routing.reason_en(decision.reason)}
