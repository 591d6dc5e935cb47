"""The daily dispatch subscriptions (gis/dispatch.py), administrator only: list, create,
change, delete; a subscription's batches and the retry of a failed one."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field

from api import schemas
from api.deps import ConnDep
from api.policy import Principal, allow
from gis import dispatch
from gis.values import Id

router = APIRouter(prefix="/api/v1/admin/dispatch", tags=["admin"])

ADMIN = ("admin",)
Format = Literal["csv", "xlsx", "geojson"]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class NewSubscription(_Body):
    name: str = Field(max_length=200)
    category_ids: list[Id] = Field(max_length=dispatch.MAX_CATEGORIES)
    district_code: str | None = Field(default=None, max_length=64)
    ward_number: Id | None = None
    area: dict[str, Any] | None = None  # GeoJSON: Polygon, MultiPolygon, Feature(Collection)
    email: str | None = Field(default=None, max_length=320)
    webhook_url: str | None = Field(default=None, max_length=dispatch.URL_MAX)
    send_at: dt.time = dt.time(7, 0)
    format: Format = "csv"
    is_active: bool = True
    council: str | None = Field(default=None, max_length=64)  # an oblast administrator's


class SubscriptionChange(_Body):
    name: str | None = Field(default=None, max_length=200)
    is_active: bool | None = None
    send_at: dt.time | None = None
    format: Format | None = None
    email: str | None = Field(default=None, max_length=320)
    webhook_url: str | None = Field(default=None, max_length=dispatch.URL_MAX)


@router.get("", response_model=schemas.DispatchSubscriptions, name="admin_dispatch_list")
async def list_subscriptions(principal: Annotated[Principal, allow(*ADMIN)],
                             conn: ConnDep) -> dict:  # fmt: skip
    """Every subscription with its last batch (status, attempts, error)."""
    items = await dispatch.list_subscriptions(conn, principal)
    return {"items": items, "returned": len(items)}


@router.post("", response_model=schemas.DispatchSubscription, name="admin_dispatch_create",
             status_code=201)  # fmt: skip
async def create_subscription(
    body: NewSubscription, principal: Annotated[Principal, allow(*ADMIN)], conn: ConnDep
) -> dict:
    """Categories (a kind: its sub-kinds) × at most one area (district_code, ward_number or a
    GeoJSON polygon `area`) × one recipient (email or webhook_url; a webhook's secret is in
    this answer only) × a time of day (Kyiv) × a format."""
    return await dispatch.create_subscription(conn, **body.model_dump(), actor=principal)


@router.get("/{subscription_id}", response_model=schemas.DispatchSubscription,
            name="admin_dispatch_get")  # fmt: skip
async def get_subscription(
    subscription_id: Id, principal: Annotated[Principal, allow(*ADMIN)], conn: ConnDep
) -> dict:
    return await dispatch.get_subscription(conn, subscription_id, principal)


@router.patch("/{subscription_id}", response_model=schemas.DispatchSubscription,
              name="admin_dispatch_change")  # fmt: skip
async def change_subscription(
    subscription_id: Id, body: SubscriptionChange,
    principal: Annotated[Principal, allow(*ADMIN)], conn: ConnDep,
) -> dict:  # fmt: skip
    """Switch on or off, another time, format or recipient (give email or webhook_url)."""
    return await dispatch.update_subscription(conn, subscription_id, **body.model_dump(),
                                              actor=principal)  # fmt: skip


@router.delete("/{subscription_id}", name="admin_dispatch_delete", status_code=204)
async def delete_subscription(
    subscription_id: Id, principal: Annotated[Principal, allow(*ADMIN)], conn: ConnDep
) -> None:
    await dispatch.delete_subscription(conn, subscription_id, actor=principal)


@router.get("/{subscription_id}/batches", response_model=schemas.DispatchBatches,
            name="admin_dispatch_batches")  # fmt: skip
async def list_batches(
    subscription_id: Id, principal: Annotated[Principal, allow(*ADMIN)], conn: ConnDep,
    limit: Annotated[int, Query(ge=1, le=365)] = 30,
) -> dict:  # fmt: skip
    """The subscription's days, newest first: status (pending, sent, failed), attempts, the
    last error, how many appeals."""
    items = await dispatch.list_batches(conn, subscription_id, limit=limit, principal=principal)
    return {"items": items, "returned": len(items)}


@router.post("/{subscription_id}/batches/{batch_id}/retry", response_model=schemas.DispatchBatch,
             name="admin_dispatch_retry")  # fmt: skip
async def retry_batch(
    subscription_id: Id, batch_id: Id, principal: Annotated[Principal, allow(*ADMIN)],
    conn: ConnDep,
) -> dict:  # fmt: skip
    """Deliver a failed batch again (409 unless it failed)."""
    return await dispatch.retry_batch(conn, subscription_id, batch_id, actor=principal)
