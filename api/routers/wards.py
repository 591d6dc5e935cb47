"""A ward's statistics and its printable report, for the deputy cabinet (/cabinet/ward).

A deputy sees only their own ward: another ward's number is not found (404), as an appeal
outside one's scope is (gis/scope.py). Operators, curators and administrators see any ward.
Everything is read from `appeal_features`, which holds no personal data (gis/ward_report.py).

The statistics' status and month names and the reports' texts are in Ukrainian or English: the
one asked for by `?lang=` (the cabinet's report links carry the page's language, since a link
opened in a new tab cannot send a header), else the request's Accept-Language.
"""

from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from api import schemas
from api.deps import ConnDep
from api.errors import preferred_language
from api.headers import inline_page_policy
from api.policy import Principal, allow
from gis import councils, ward_report
from gis.errors import NotFound
from gis.scope import council_of

router = APIRouter(prefix="/api/v1/wards", tags=["wards"])

WARD_ROLES = ("operator", "curator", "deputy", "admin")
WardReader = Annotated[Principal, allow(*WARD_ROLES)]
CouncilQuery = Annotated[
    str | None,
    Query(description="Громада (slug або код КАТОТТГ): для персоналу області, коли громад кілька"
          " (the council, slug or KATOTTH code: oblast staff, when there are several)",
          max_length=64),
]  # fmt: skip
LangQuery = Annotated[
    str | None,
    Query(description="uk або en; інакше — за Accept-Language (uk or en; else Accept-Language)"),
]


def _language(request: Request, lang: str | None) -> str:
    """`?lang=` if it names one of the report's languages (anything else is ignored, as the
    portal ignores it), else the request's Accept-Language."""
    if lang in ward_report.LANGUAGES:
        return lang
    return preferred_language(request.headers.get("accept-language"))


async def _ward(conn, principal: Principal, number: str, council: str | None) -> dict:
    """The current ward `number` of the caller's council (oblast staff: `council`, needed
    when there are several), if the caller may see it; else 404 (a deputy asking for another
    ward, or anyone for another council's, learns nothing about it). Its `council_id` too."""
    if not number.isdigit() or len(number) > 6:
        raise NotFound("ward_not_found", number=number)
    n = int(number)
    if principal.role == "deputy" and principal.ward_number != n:
        raise NotFound("ward_not_found", number=number)
    own = council_of(principal)
    if own is None:
        council_id = (await councils.choose(conn, council)).id
    else:
        if council is not None and (await councils.resolve(conn, council)).id != own:
            raise NotFound("ward_not_found", number=number)
        council_id = own
    info = await ward_report.ward(conn, n, council_id)
    if info is None:
        raise NotFound("ward_not_found", number=number)
    return {**info, "council_id": council_id}


@router.get(
    "/{number}/statistics",
    response_model=schemas.WardStatistics,
    summary="Статистика звернень виборчого округу",
)
async def ward_statistics(
    number: str, principal: WardReader, conn: ConnDep, request: Request, lang: LangQuery = None,
    council: CouncilQuery = None,
) -> dict:  # fmt: skip
    """The ward (number, name, geometry, bbox) and its appeals counted by status, category,
    overdue and month by month (the last 12 months), with its latest appeals."""
    info = await _ward(conn, principal, number, council)
    stats = await ward_report.statistics(conn, info["number"], info["council_id"],
                                         lang=_language(request, lang))  # fmt: skip
    return {"ward": ward_report.report_context(info), **stats}


@router.get("/{number}/report.html", summary="Звіт по округу (HTML для друку)",
            response_class=HTMLResponse)  # fmt: skip
async def ward_report_html(
    number: str, principal: WardReader, conn: ConnDep, request: Request, lang: LangQuery = None,
    council: CouncilQuery = None,
) -> HTMLResponse:  # fmt: skip
    info = await _ward(conn, principal, number, council)
    language = _language(request, lang)
    stats = await ward_report.statistics(conn, info["number"], info["council_id"], lang=language)
    pts = await ward_report.points(conn, info["number"], info["council_id"])
    static = request.app.url_path_for("static", path="vendor/leaflet/leaflet.js")
    css = request.app.url_path_for("static", path="vendor/leaflet/leaflet.css")
    page = await asyncio.to_thread(
        ward_report.render_html, info, stats, pts,
        leaflet_js=str(static), leaflet_css=str(css), lang=language,
    )  # fmt: skip
    # folium writes the map's script inline: the page allows exactly those scripts.
    headers = {**_headers(language), "Content-Security-Policy": inline_page_policy(page)}
    return HTMLResponse(page, headers=headers)


@router.get("/{number}/report.pdf", summary="Звіт по округу (PDF)",
            response_class=Response)  # fmt: skip
async def ward_report_pdf(
    number: str, principal: WardReader, conn: ConnDep, request: Request, lang: LangQuery = None,
    council: CouncilQuery = None,
) -> Response:  # fmt: skip
    info = await _ward(conn, principal, number, council)
    language = _language(request, lang)
    stats = await ward_report.statistics(conn, info["number"], info["council_id"], lang=language)
    pts = await ward_report.points(conn, info["number"], info["council_id"])
    body = await asyncio.to_thread(ward_report.render_pdf, info, stats, pts, lang=language)
    return Response(
        body,
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'inline; filename="ward-{info["number"]}-report.pdf"',
            **_headers(language),
        },
    )


def _headers(lang: str) -> dict[str, str]:
    return {
        "Cache-Control": "private, no-store",
        "Content-Language": lang,
        "Vary": "Accept-Language",
    }
