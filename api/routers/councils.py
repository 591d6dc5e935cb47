"""Councils (issue 17): the public list and one council.

- `GET /api/v1/councils` — every council (occupied ones included, flagged), with the credit
  of the boundaries the portal draws: `{items, attribution}`.
- `GET /api/v1/councils/{code}` — one council by KATOTTH code or slug (any case), with its
  boundary's bbox and area; 404 `council_not_found` otherwise.

Public: councils, their names and the occupied flag are public facts (no personal data).
Lookups: gis/councils.py; extent and credit: gis/council_map.py.
"""

from __future__ import annotations

from fastapi import APIRouter

from api import schemas
from api.deps import ConnDep
from api.policy import public
from gis import council_map, councils

router = APIRouter(prefix="/api/v1/councils", tags=["councils"])


@router.get("", response_model=schemas.CouncilList, name="councils", dependencies=[public()])
async def list_councils(conn: ConnDep) -> dict:
    items = [c.public() for c in await councils.list_public(conn)]
    return {"items": items, "attribution": await council_map.attribution(conn)}


@router.get(
    "/{code}", response_model=schemas.CouncilDetail, name="council", dependencies=[public()]
)
async def get_council(code: str, conn: ConnDep) -> dict:
    council = await councils.resolve(conn, code)
    return {
        **council.public(),
        "occupied_source": council.occupied_source,
        "extent": await council_map.extent(conn, council),
        "attribution": await council_map.attribution(conn),
    }
