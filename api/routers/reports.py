"""The reports (gis/reports.py): GET /api/v1/reports/{name}?format=json|csv|xlsx with the filters
date_from, date_to (Kyiv days, inclusive, by registration), district (KATOTTH code), ward
(number), category (id; a kind stands for its sub-kinds), executor (code, with its
sub-organisations), channel, council (slugs or KATOTTH codes, comma separated: the appeals of
those councils); `by=kind|category` for districts-by-category, `date` for daily,
`size` (the hexagon's edge in ground metres, 200..5000, default 1000) for hexagons, which also
comes as `format=geojson` (a FeatureCollection of WGS 84 polygons), as does `councils` (each
council's current hromada: the oblast's choropleth, issue 17).

Scoped by role (gis/scope.py): an executor or manager its organisations, a deputy their ward,
the contact centre (operator, curator) and admin the city (their council's, where several
councils share the install; oblast staff every council's). The public reports
(gis/reports.PUBLIC_REPORTS: aggregates) anyone else may read too — anonymous, citizens,
planners — city-wide, cached for five minutes (`Cache-Control: public, max-age=300`); the
others (overdue, daily) are the readers' alone: 401 anonymous, 403 another role. Answers in a
reader's scope are `private, no-store`. The JSON says which: "scope" public, city, council,
oblast, organisations or ward.
Titles in the request's language (Accept-Language); CSV in UTF-8 with a BOM, XLSX with a frozen
header row. This module only reads the values and renders; the SQL is gis/reports.py's.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Annotated, cast

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from api import schemas
from api.deps import ReadConnDep, data_generation
from api.policy import Principal, allow
from gis import reports
from gis.errors import InvalidParameter
from gis.public_feed import TtlCache
from gis.texts import preferred_language
from gis.values import ID, check_string, parse_date, parse_int

router = APIRouter(prefix="/api/v1/reports", tags=["reports"])


def _public_report(request: Request) -> bool:
    return request.path_params.get("name") in reports.PUBLIC_REPORTS


Reader = Annotated[
    Principal,
    allow(*reports.READERS, public_when=_public_report, public_label="the public reports"),
]
PUBLIC_CACHE = "public, max-age=300"
PRIVATE_CACHE = "private, no-store"
Text = str | None
MEDIA = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "geojson": "application/geo+json",
}


def _code(value: str | None, name: str) -> str | None:
    if value is None:
        return None
    value = check_string(value.strip(), name, query=True)
    if not value or len(value) > 64:
        raise InvalidParameter("invalid_value", name, value=value[:64])
    return value


def _date(value: str | None, name: str) -> dt.date | None:
    return None if value is None else parse_date(value, name)


MAX_COUNCILS = 100


def _councils(value: str | None) -> tuple[str, ...] | None:
    """`council`: slugs or KATOTTH codes, comma separated — canonical (lower case, sorted,
    once each), so the public cache keys one filter once."""
    if value is None:
        return None
    value = check_string(value, "council", query=True)
    parts = sorted({p.strip().lower() for p in value.split(",") if p.strip()})
    if not parts or len(parts) > MAX_COUNCILS or any(len(p) > 64 for p in parts):
        raise InvalidParameter("invalid_value", "council", value=value[:64])
    return tuple(parts)


def filters(
    date_from: Text, date_to: Text, district: Text, ward: Text, category: Text,
    executor: Text, channel: Text, by: Text, date: Text, size: Text = None,
    council: Text = None, shapes: bool = False,
) -> reports.Filters:  # fmt: skip
    return reports.Filters(
        date_from=_date(date_from, "date_from"),
        date_to=_date(date_to, "date_to"),
        district=_code(district, "district"),
        ward=None if ward is None else parse_int(ward, "ward", lo=1, hi=ID[1]),
        category=None if category is None else parse_int(category, "category", lo=ID[0], hi=ID[1]),
        executor=_code(executor, "executor"),
        channel=_code(channel, "channel"),
        by=_code(by, "by") or "kind",
        day=_date(date, "date"),
        size=None if size is None else parse_int(size, "size", lo=reports.HEX_SIZE[0],
                                                 hi=reports.HEX_SIZE[1],
                                                 code="invalid_hexagon_size"),
        council=_councils(council),
        shapes=shapes,
    )  # fmt: skip


def _public_cache(request: Request) -> TtlCache:
    cache = getattr(request.app.state, "public_reports_cache", None)
    if cache is None:
        cache = request.app.state.public_reports_cache = TtlCache(ttl=300, size=256)
    return cache


async def _build(request: Request, conn, principal: Principal, name: str, f: reports.Filters,
                 lang: str) -> dict:  # fmt: skip
    """The report's table; a public one from a 5-minute cache keyed by the filters and the data's
    generation (any write to the appeals starts afresh), so that many visitors of the public
    dashboard cost the database one computation."""
    if name not in reports.PUBLIC_REPORTS or reports.scope_of(principal) != "public":
        return await reports.build(conn, principal, name, f, lang)
    cache = _public_cache(request)
    layers = ("appeals", "categories", "districts", "wards", "councils")
    key = (name, f, lang, data_generation(request, layers))
    table = cache.get(key)
    if table is None:
        table = await reports.build(conn, principal, name, f, lang)
        cache.put(key, table)
    return cast(dict, table)


@router.get(
    "/{name}",
    response_model=schemas.Report,
    responses={200: {"content": {"text/csv": {}, MEDIA["xlsx"]: {}, MEDIA["geojson"]: {}}}},
    summary="Звіт за зверненнями (JSON, CSV, XLSX; hexagons, councils також GeoJSON)",
)
async def report(
    name: str,
    principal: Reader,
    conn: ReadConnDep,
    request: Request,
    response: Response,
    format: Annotated[
        Text, Query(description="json (default), csv, xlsx; geojson for hexagons, councils")
    ] = None,  # noqa: A002
    date_from: Annotated[
        Text, Query(description="registered on or after (YYYY-MM-DD, Kyiv)")
    ] = None,
    date_to: Annotated[
        Text, Query(description="registered on or before (YYYY-MM-DD, Kyiv)")
    ] = None,
    district: Annotated[Text, Query(description="district code (KATOTTH)")] = None,
    ward: Annotated[Text, Query(description="ward number")] = None,
    category: Annotated[Text, Query(description="category id; a kind: its sub-kinds")] = None,
    executor: Annotated[Text, Query(description="executor code (with sub-organisations)")] = None,
    channel: Annotated[Text, Query(description="channel of receipt")] = None,
    council: Annotated[
        Text, Query(description="councils: slugs or KATOTTH codes, comma separated")
    ] = None,
    by: Annotated[Text, Query(description="districts-by-category: kind or category")] = None,
    date: Annotated[Text, Query(description="daily: the day (default: yesterday, Kyiv)")] = None,
    size: Annotated[
        Text,
        Query(
            description="hexagons: the hexagon's edge in metres on the ground at the city's"
            " centre, 200..5000 (default 1000); in EPSG:3857 it is size / cos(latitude)"
        ),
    ] = None,
) -> Response | dict:
    """One report for the caller's scope: {name, scope, date_from, date_to, columns, rows,
    totals}."""
    fmt = format or "json"
    if fmt not in reports.FORMATS:
        raise InvalidParameter("invalid_report_format", "format", value=fmt[:64],
                               allowed=", ".join(reports.FORMATS))  # fmt: skip
    if fmt == "geojson" and name in reports.REPORTS and name not in reports.GEOJSON_REPORTS:
        raise InvalidParameter("report_format_not_applicable", "format", value=fmt, name=name,
                               allowed="json, csv, xlsx")  # fmt: skip
    f = filters(date_from, date_to, district, ward, category, executor, channel, by, date, size,
                council, shapes=fmt == "geojson" and name == "councils")  # fmt: skip
    lang = preferred_language(request.headers.get("accept-language"))
    table = dict(await _build(request, conn, principal, name, f, lang))
    day = table.pop("date", None)
    geometries = table.pop("geometries", None)
    headers = {
        "Cache-Control": PUBLIC_CACHE if table["scope"] == "public" else PRIVATE_CACHE,
        "Content-Language": lang,
        # A shared cache keeps the public answer apart from a signed-in reader's own.
        "Vary": "Accept-Language, Authorization, Cookie",
    }
    if fmt == "json":
        response.headers.update(headers)
        return {"name": name, "date_from": f.date_from, "date_to": f.date_to, "date": day,
                "language": lang, **table}  # fmt: skip
    scope = table.pop("scope")
    if fmt == "geojson":
        body = reports.to_geojson({**table, "geometries": geometries, "scope": scope})
        return Response(body, media_type=MEDIA[fmt], headers={**headers, "X-Report-Scope": scope})
    table.pop("size", None)
    if fmt == "csv":
        body = reports.to_csv(table, lang)
    else:
        body = await asyncio.to_thread(reports.to_xlsx, table, lang, name)
    return Response(
        body,
        media_type=MEDIA[fmt],
        headers={
            "Content-Disposition": f'attachment; filename="{reports.filename(name, f, fmt, day)}"',
            **headers,
            "X-Report-Scope": scope,
        },
    )
