"""The Open311 client applications' keys (gis/open311_clients.py), administrator only: list,
create (the key is in the answer this once), revoke, and an application's latest calls."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field

from api import schemas
from api.deps import ConnDep
from api.policy import Principal, allow
from gis import open311_clients
from gis.values import Id

router = APIRouter(prefix="/api/v1/admin/open311/keys", tags=["admin"])

ADMIN = ("admin",)


class NewClient(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(max_length=open311_clients.NAME_MAX * 2)


@router.get("", response_model=schemas.Open311Clients, name="admin_open311_keys")
async def list_keys(principal: Annotated[Principal, allow(*ADMIN)], conn: ConnDep) -> dict:
    """Every application: name, created (when, by whom), last used, revoked, calls in the
    last 30 days; never the key."""
    items = await open311_clients.list_clients(conn, principal)
    return {"items": items, "returned": len(items)}


@router.post("", response_model=schemas.Open311NewClient, name="admin_open311_key_create",
             status_code=201)  # fmt: skip
async def create_key(
    body: NewClient, principal: Annotated[Principal, allow(*ADMIN)], conn: ConnDep
) -> dict:
    """A new application and its key: `key` is in this answer only (409: the name is taken)."""
    return await open311_clients.create_client(conn, body.name, actor=principal)


@router.delete("/{client_id}", response_model=schemas.Open311Client,
               name="admin_open311_key_revoke")  # fmt: skip
async def revoke_key(
    client_id: Id, principal: Annotated[Principal, allow(*ADMIN)], conn: ConnDep
) -> dict:
    """Revoke the application's key: its calls get 403 from now on; the application stays
    listed, and its appeals keep naming it."""
    return await open311_clients.revoke(conn, client_id=client_id, actor=principal)


@router.get("/{client_id}/calls", response_model=schemas.Open311Calls,
            name="admin_open311_key_calls")  # fmt: skip
async def key_calls(
    client_id: Id, principal: Annotated[Principal, allow(*ADMIN)], conn: ConnDep,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> dict:  # fmt: skip
    """The application's latest calls, newest first: when, method, path, status."""
    await open311_clients.get_client(conn, client_id, principal)
    items = await open311_clients.calls(conn, client_id, limit=limit)
    return {"items": items, "returned": len(items)}
