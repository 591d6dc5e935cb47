"""Open data (issue 14, item 3): the public appeals as Kyiv's published 1551 records.

- `GET /api/v1/opendata/appeals.csv` — UTF-8 CSV with a BOM, Kyiv's field names.
- `GET /api/v1/opendata/appeals.geojson` — a FeatureCollection, the same fields as properties.

Public (no sign-in), the public feed's filters (gis/public_feed.py), period `all` by default;
streamed from a server-side cursor (gis/opendata.py), so the whole table costs flat memory.
No personal data, the text only with the author's consent (the view appeal_features).

And the portal's page `/opendata` (webmap/templates/opendata.html): the fields, the licence,
when the data last changed, the two downloads.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response, StreamingResponse

from api.deps import ConnDep, ReadDep
from api.policy import public
from api.routers.portal import render
from api.urls import path_for
from gis import opendata
from gis import public_feed as feed

router = APIRouter(prefix="/api/v1/opendata", tags=["open data"])
page_router = APIRouter(tags=["portal"], include_in_schema=False, dependencies=[public()])

CSV = "text/csv; charset=utf-8"
GEOJSON = "application/geo+json"


async def _query(request: Request, reads: ReadDep) -> feed.PublicQuery:
    q = opendata.parse_query(request.query_params.multi_items())
    async with reads.connection() as conn:
        return await feed.resolve(conn, q)


@router.get(
    "/appeals.csv",
    name="opendata_appeals_csv",
    dependencies=[public()],
    response_class=Response,  # streamed (a StreamingResponse); the media types below
    responses={200: {"content": {CSV: {}}, "description": "The public appeals, 1551's fields"}},
)
async def appeals_csv(request: Request, reads: ReadDep) -> StreamingResponse:
    q = await _query(request, reads)
    return StreamingResponse(
        opendata.csv_chunks(reads, q),
        media_type=CSV,
        headers={"Content-Disposition": 'attachment; filename="appeals.csv"'},
    )


@router.get(
    "/appeals.geojson",
    name="opendata_appeals_geojson",
    dependencies=[public()],
    response_class=Response,  # streamed (a StreamingResponse); the media types below
    responses={
        200: {"content": {GEOJSON: {}}, "description": "The public appeals as GeoJSON points"}
    },
)
async def appeals_geojson(request: Request, reads: ReadDep) -> StreamingResponse:
    q = await _query(request, reads)
    return StreamingResponse(
        opendata.geojson_chunks(reads, q),
        media_type=GEOJSON,
        headers={"Content-Disposition": 'attachment; filename="appeals.geojson"'},
    )


@page_router.get("/opendata", response_class=HTMLResponse, name="portal_opendata")
async def opendata_page(request: Request, conn: ConnDep) -> HTMLResponse:
    updated = await opendata.last_updated(conn)
    context = {
        "updated": updated.astimezone(feed.KYIV).strftime("%Y-%m-%d %H:%M") if updated else None,
        "csv_url": path_for(request, "opendata_appeals_csv"),
        "geojson_url": path_for(request, "opendata_appeals_geojson"),
        "empty_fields": opendata.EMPTY_FIELDS,
    }
    return render(request, "opendata.html", context)
