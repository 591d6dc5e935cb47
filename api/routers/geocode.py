"""Addresses for the appeal form: what is at a pin, and where an address is.

- `GET /api/v1/geocode/reverse?lon=&lat=`: the nearest house address (a point of interest
  with addr:street and addr:housenumber, as gis/intake.py's nearest_address) within
  gis.geocode.REVERSE_METRES, and the district the point lies in;
- `GET /api/v1/geocode/search?q=`: streets of the register and house addresses of the points
  of interest whose names contain the query (an optional house number after a comma or a
  last word starting with a digit), at most 10, each with a point to move the pin to;
  `&council=` (slug or KATOTTH code, issue 17; unknown: 404 `council_not_found`): only
  those inside that council's area — a council's appeal form proposes no other's streets.

Both read only public data (gis/geocode.py); bad input is a 400 naming the parameter.
"""

from __future__ import annotations

from fastapi import APIRouter

from api import schemas
from api.deps import ConnDep
from api.policy import public
from gis import geocode, routing
from gis.errors import InvalidInput

router = APIRouter(prefix="/api/v1/geocode", tags=["geocode"])


@router.get(
    "/reverse",
    response_model=schemas.ReverseGeocode,
    name="geocode_reverse",
    dependencies=[public()],
)
async def reverse(conn: ConnDep, lon: str | None = None, lat: str | None = None) -> dict:
    """The address nearest to a point (within 150 m) and its district."""
    point = routing.check_point(lon, lat)
    if point is None:
        raise InvalidInput("coordinate_missing", parameter="lon")
    return await geocode.reverse(conn, point[0], point[1])


@router.get(
    "/search", response_model=schemas.GeocodeSearch, name="geocode_search", dependencies=[public()]
)
async def search(conn: ConnDep, q: str | None = None, council: str | None = None) -> dict:
    """Streets and house addresses whose name contains `q` (at most 10); with `council`
    (slugs or KATOTTH codes) only those inside its area."""
    return await geocode.search(conn, q, council)
