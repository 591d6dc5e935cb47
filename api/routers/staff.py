"""Staff's work on appeals: the queue, one appeal's card, its author (personal data, logged),
taking an appeal into work; and a citizen's own appeals.

Each route declares who may call it (api/policy.py); within a role, what an appeal's number
may reach is the scope of gis/scope.py, added to every query: outside it an appeal is not
found (404), so a guessed number tells nothing.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from fastapi import APIRouter, Query

from api import schemas
from api.deps import ConnDep
from api.policy import Principal, allow
from api.security import csrf_required
from gis import councils, staff_queue
from gis.scope import AUTHOR_READERS
from gis.values import Id, check_date, parse_rank_cursor, parse_time_cursor

router = APIRouter(prefix="/api/v1", tags=["staff"])

QUEUE_ROLES = ("operator", "curator", "executor", "manager", "deputy", "admin")
TAKE_ROLES = ("executor", "manager")
TAKEABLE = ("registered", "rework")
MAX_LIMIT = 200


def _parse_cursor(after: str | None) -> tuple[int, int] | None:
    """The `next` of a queue page: "<privileged 0|1>-<id>" of its last row."""
    return None if after is None else parse_rank_cursor(after, "after", ranks=(0, 1))


@router.get("/queue", response_model=schemas.Queue, name="staff_queue")
async def queue(
    principal: Annotated[Principal, allow(*QUEUE_ROLES)],
    conn: ConnDep,
    status: Annotated[
        str | None, Query(description="a status, or open: registered, in work or rework")
    ] = None,
    category: Annotated[Id | None, Query(description="category id (a kind or a sub-kind)")] = None,
    district: Annotated[str | None, Query(description="district code (KATOTTH)")] = None,
    overdue: Annotated[bool | None, Query(description="only overdue (true) or not")] = None,
    created_from: Annotated[dt.date | None, Query(description="created on or after")] = None,
    created_to: Annotated[dt.date | None, Query(description="created on or before")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 50,
    after: Annotated[str | None, Query(description="the `next` of the previous page")] = None,
    order: Annotated[
        Literal["newest", "deadline"],
        Query(description="newest first (privileged first), or the soonest deadline first"),
    ] = "newest",
    count: Annotated[bool, Query(description="also count all the filter matches")] = False,
    council: Annotated[
        str | None,
        Query(
            description="only these councils (slugs or KATOTTH codes, comma-separated)",
            max_length=2000,
        ),
    ] = None,  # fmt: skip
) -> dict:
    """Appeals in the caller's scope, newest first or by deadline; no personal data;
    `council` narrows it to some councils (oblast staff)."""
    chosen = None
    if council is not None:
        chosen = [k.id for k in await councils.resolve_many(conn, council)]
    cursor: tuple | None = None
    if after is not None:
        cursor = parse_time_cursor(after, "after") if order == "deadline" else _parse_cursor(after)
    return await staff_queue.queue(
        conn, principal, limit=limit, after=cursor, status=status,
        category=category, district=district, overdue=overdue,
        created_from=created_from and check_date(created_from, "created_from"),
        created_to=created_to and check_date(created_to, "created_to"),
        order=order, count=count, councils=chosen,
    )  # fmt: skip


@router.get("/queue/{number}", response_model=schemas.StaffAppeal, name="staff_appeal")
async def appeal_card(
    number: str, principal: Annotated[Principal, allow(*QUEUE_ROLES)], conn: ConnDep
) -> dict:
    """One appeal in the caller's scope, as staff see it: its text and history, no author."""
    return await staff_queue.card(conn, principal, number)


# A read that writes the access log: a cookie session must send its CSRF token (a link from
# another site cannot).
@router.get(
    "/appeals/{number}/author",
    response_model=schemas.AppealAuthor,
    name="staff_appeal_author",
    dependencies=[csrf_required()],
)
async def appeal_author(
    number: str,
    principal: Annotated[Principal, allow(*AUTHOR_READERS)],
    conn: ConnDep,
    purpose: Annotated[str, Query(max_length=200)] = "handling",
) -> dict:
    """The author's name, contacts and address, for those who handle the appeal. Every read
    is logged in personal_data_access (who, when, which appeal, why)."""
    return await staff_queue.author(conn, principal, number, purpose)


# Taking an appeal into work (POST /appeals/{number}/take) lives with the rest of the
# lifecycle: api/routers/lifecycle.py, gis/lifecycle.py.


@router.get("/me/executors", response_model=schemas.MyExecutors, name="my_executors")
async def my_executors(principal: Annotated[Principal, allow(*TAKE_ROLES)], conn: ConnDep) -> dict:
    """The caller's organisation and its sub-organisations (the scope of the queue), for the
    cabinet's choice of whom to delegate to: id, code, name, parent."""
    ids = [int(i) for i in (principal.executor_ids or ())]
    return {"items": await staff_queue.executors(conn, ids)}


@router.get("/me/appeals", response_model=schemas.Queue, name="my_appeals")
async def my_appeals(
    principal: Annotated[Principal, allow("citizen")],
    conn: ConnDep,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 50,
    after: Annotated[str | None, Query()] = None,
) -> dict:
    """The citizen's own appeals (filed signed in), newest first."""
    return await staff_queue.queue(conn, principal, limit=limit, after=_parse_cursor(after))
