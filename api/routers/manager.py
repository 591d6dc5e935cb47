"""The manager's АРМ (gis/manager.py): counts by sub-organisation, the lists behind them and
their CSV, and the personal control of an appeal. Resolutions (main executor, co-executors)
are the lifecycle's routes: POST /appeals/{number}/delegate and /appeals/{number}/resolutions."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from api import schemas
from api.bodies import read_json_object
from api.deps import ConnDep
from api.errors import preferred_language
from api.policy import Principal, allow
from gis import manager
from gis.values import Id

router = APIRouter(prefix="/api/v1", tags=["manager"])

MANAGER = ("manager",)
BucketQuery = Annotated[
    str,
    Query(
        description="open | overdue | due_2d | due_later | control | extension (unexecuted"
        " ones; extension: an executor's request for a longer term awaits a decision)"
    ),
]
ExecutorQuery = Annotated[Id | None, Query(description="one sub-organisation's id")]


@router.get("/manager/summary", response_model=schemas.ManagerSummary, name="manager_summary")
async def summary(principal: Annotated[Principal, allow(*MANAGER)], conn: ConnDep) -> dict:
    """Unexecuted appeals of the manager's organisation by sub-organisation: all, overdue, due
    within 2 days, due later, under personal control, with a request for a longer term awaiting
    a decision."""
    return await manager.summary(conn, principal)


@router.get("/manager/appeals", response_model=schemas.ManagerList, name="manager_appeals")
async def appeals(
    principal: Annotated[Principal, allow(*MANAGER)],
    conn: ConnDep,
    bucket: BucketQuery = "open",
    executor: ExecutorQuery = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=100_000)] = 0,
) -> dict:
    """One bucket's appeals, the earliest due first, with its count."""
    return await manager.items(conn, principal, bucket=bucket, executor=executor, limit=limit,
                               offset=offset)  # fmt: skip


@router.get(
    "/manager/appeals.csv",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}}},
    name="manager_appeals_csv",
)
async def appeals_csv(
    request: Request,
    principal: Annotated[Principal, allow(*MANAGER)],
    conn: ConnDep,
    bucket: BucketQuery = "open",
    executor: ExecutorQuery = None,
) -> Response:
    """The same list as CSV (UTF-8), its headers in the caller's language."""
    lang = preferred_language(request.headers.get("accept-language"))
    body = await manager.export_csv(conn, principal, bucket=bucket, executor=executor, lang=lang)
    return Response(
        body,
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="appeals-{bucket}.csv"',
            "Cache-Control": "private, no-store",
            "Content-Language": lang,
        },
    )


@router.post(
    "/appeals/{number}/control",
    response_model=schemas.ControlSet,
    openapi_extra=schemas.CONTROL_BODY,
    name="appeal_control",
)
async def control(
    number: str, request: Request,
    principal: Annotated[Principal, allow(*MANAGER)], conn: ConnDep,
) -> dict:  # fmt: skip
    """Personal control {until: "YYYY-MM-DD"} (not in the past), or {until: null} to lift it;
    audited as the appeal's event 'control'."""
    return await manager.set_control(conn, principal, number, await read_json_object(request))
