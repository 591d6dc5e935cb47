"""The contact centre's curator (gis/curator.py): the queues with their counts and an appeal's
card for the check. The actions themselves are the lifecycle's routes (api/routers/
lifecycle.py): POST /appeals/{number}/check and /appeals/{number}/redirect."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from api import schemas
from api.deps import ConnDep
from api.policy import Principal, allow
from gis import curator

router = APIRouter(prefix="/api/v1/curator", tags=["curator"])

CURATOR = ("curator",)


@router.get("/queues", response_model=schemas.CuratorCounts, name="curator_counts")
async def counts(principal: Annotated[Principal, allow(*CURATOR)], conn: ConnDep) -> dict:
    """How many appeals each queue holds: check (answers awaiting the curator), not_competent
    (returned to 1551), no_location, no_executor."""
    return await curator.counts(conn, principal)


@router.get("/queues/{queue}", response_model=schemas.CuratorQueue, name="curator_queue")
async def queue(
    queue: str,
    principal: Annotated[Principal, allow(*CURATOR)],
    conn: ConnDep,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=100_000)] = 0,
) -> dict:
    """One queue, oldest first (privileged authors first), with its count."""
    return await curator.items(conn, principal, queue, limit=limit, offset=offset)


@router.get("/appeals/{number}", response_model=schemas.CuratorCard, name="curator_card")
async def card(
    number: str, principal: Annotated[Principal, allow(*CURATOR)], conn: ConnDep
) -> dict:
    """An appeal as the curator checks it: the answer and its photos beside the appeal's, the
    routing reason, the latest return as not in competence."""
    return await curator.card(conn, principal, number)
