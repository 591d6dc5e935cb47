"""The public feed of appeals, as map.1551.gov.ua shows them, and its statistics.

- `GET /api/v1/appeals/public` — appeals newest first, with map.1551's filters (type, period,
  status, category, district) plus bbox and council (slugs or KATOTTH codes, issue 17), paged
  by an opaque `after` cursor.
- `GET /api/v1/appeals/public/statistics` — for the same filters: the total, counts by type,
  by status, by category (the top N) and by district.

Both are public and never carry an author's personal data (gis/public_feed.py reads only the
view appeal_features). Parameters and defaults: gis/public_feed.py. Included in the app
before the appeals router, whose `/appeals/{number}` would otherwise take `public` for a
number.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar, cast

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from api import schemas
from api.deps import ReadConnDep, data_generation
from api.policy import public
from api.urls import absolute_url
from gis import public_feed as feed

router = APIRouter(prefix="/api/v1/appeals/public", tags=["public feed"])

CACHE_CONTROL = f"public, max-age={int(feed.STATS_TTL)}"

T = TypeVar("T")


def _cache(request: Request) -> feed.TtlCache:
    cache = getattr(request.app.state, "public_feed_cache", None)
    if cache is None:
        cache = request.app.state.public_feed_cache = feed.TtlCache()
    return cache


async def _cached(
    request: Request, kind: str, q: feed.PublicQuery, compute: Callable[[], Awaitable[T]]
) -> T:
    cache = _cache(request)
    key = (kind, q.key(), data_generation(request))
    hit = cache.get(key)
    if hit is not None:
        return cast(T, hit)  # put below under the same kind, so by the same compute
    value = await compute()
    cache.put(key, value)
    return value


@router.get(
    "",
    response_model=schemas.Feed,
    openapi_extra=schemas.FEED_QUERY,
    name="public_feed",
    dependencies=[public()],
)
async def public_appeals(request: Request, conn: ReadConnDep) -> JSONResponse:
    q = feed.parse_query(request.query_params.multi_items())
    q = await feed.resolve(conn, q)
    items, next_cursor = await feed.feed_page(conn, q)
    # The total for the filter (not what is left after the cursor), cached like statistics.
    total = await _cached(request, "count", q, lambda: feed.count(conn, q))
    base = absolute_url(request, "public_feed")
    body: dict[str, object] = {
        "filters": q.filters(),
        "total": total,
        "limit": q.limit,
        "count": len(items),
        "next": next_cursor.encode() if next_cursor else None,
        "links": {
            "self": f"{base}?{q.query_string(limit=q.limit, after=request.query_params.get('after'))}",
            "next": (
                f"{base}?{q.query_string(limit=q.limit, after=next_cursor.encode())}"
                if next_cursor
                else None
            ),
            "statistics": f"{absolute_url(request, 'public_feed_statistics')}?{q.query_string()}",
        },
        "items": [{**item, "href": f"/api/v1/appeals/{item['number']}"} for item in items],
    }
    return JSONResponse(body)


@router.get(
    "/statistics",
    response_model=schemas.FeedStatistics,
    openapi_extra=schemas.FEED_STATISTICS_QUERY,
    name="public_feed_statistics",
    dependencies=[public()],
)
async def public_statistics(request: Request, conn: ReadConnDep) -> JSONResponse:
    q = feed.parse_query(request.query_params.multi_items(), statistics=True)
    q = await feed.resolve(conn, q)
    stats = await _cached(request, "statistics", q, lambda: feed.statistics(conn, q))
    body = {"filters": q.filters(), "top": q.top, **stats}
    body["by_category"] = body["by_category"][: q.top]
    return JSONResponse(body, headers={"Cache-Control": CACHE_CONTROL})
