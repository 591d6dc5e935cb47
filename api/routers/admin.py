"""Administration: staff accounts, categories' deadlines, routing rules (admin); thematic
layers' metadata (planner and admin). Each route declares its policy next to it."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, ConfigDict, Field

from api import schemas
from api.deps import ConnDep
from api.policy import Principal, allow
from gis import admin, notify
from gis.models import Role
from gis.values import Id, IdCursor, Int32
from importers import territory
from layers import catalogue

router = APIRouter(prefix="/api/v1", tags=["admin"])

ADMIN = ("admin",)
LAYER_EDITORS = ("planner", "admin")


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class NewUser(_Body):
    email: str
    full_name: str
    role: Role
    password: str | None = None  # none: one is generated and returned once
    executor_id: Id | None = None
    executor_code: str | None = None
    ward_number: Id | None = None
    council: str | None = None  # slug or KATOTTH code (an oblast administrator's choice)


class UserChange(_Body):
    full_name: str | None = None
    role: Role | None = None
    executor_id: Id | None = None
    executor_code: str | None = None
    ward_number: Id | None = None
    is_active: bool | None = None
    council: str | None = Field(default=None, max_length=64)  # slug or KATOTTH code


class CategoryChange(_Body):
    deadline_days: Int32 | None = None
    is_active: bool | None = None
    keywords: list[str] | None = None  # replaces the list (gis/category_search.py)


class NewRule(_Body):
    executor_id: Id | None = None
    executor_code: str | None = None
    category_id: Id | None = None
    priority: Int32 = 100
    district_code: str | None = None
    ward_number: Id | None = None
    territory_code: str | None = None
    note: str | None = None


class CouncilChange(_Body):
    name: str | None = Field(default=None, max_length=200)
    number_prefix: str | None = Field(default=None, max_length=6)  # only while no appeals
    occupied: bool | None = None  # false: no longer occupied (clears the date and source)
    occupied_since: dt.date | None = None
    occupied_source: str | None = Field(default=None, max_length=500)


class CouncilCategoriesChange(_Body):
    # [{category_id, offered (true), deadline_days (null: the catalogue's)}]
    items: list[dict[str, Any]] = Field(default_factory=list, max_length=5000)
    # [{parent_id (a shared kind), name, deadline_days}]: the council's own sub-kinds
    add: list[dict[str, Any]] = Field(default_factory=list, max_length=200)


class LayerChange(_Body):
    title: str | None = None
    title_en: str | None = None
    description: str | None = None
    owner_department: str | None = None
    update_regime: str | None = None


# --- users ---------------------------------------------------------------------------------


@router.get("/users", response_model=schemas.Users, name="admin_users")
async def list_users(
    principal: Annotated[Principal, allow(*ADMIN)],
    conn: ConnDep,
    role: Annotated[str | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    after: Annotated[IdCursor | None, Query()] = None,
    council: Annotated[str | None, Query(max_length=64, description="slug or KATOTTH code")] = None,
    q: Annotated[
        str | None, Query(max_length=200, description="part of the e-mail or name")
    ] = None,
) -> dict:
    return await admin.list_users(
        conn, principal, role=role, limit=limit, after=after, council=council, q=q
    )


@router.post("/users", response_model=schemas.User, name="admin_create_user", status_code=201)
async def create_user(
    body: NewUser, principal: Annotated[Principal, allow(*ADMIN)], conn: ConnDep
) -> dict:
    """A staff account bound to an executor organisation (executors, managers), a ward
    (deputies), or the contact centre (operators, curators)."""
    return await admin.create_user(conn, principal, **body.model_dump(), actor=principal)


@router.get("/users/{user_id}", response_model=schemas.User, name="admin_user")
async def get_user(
    user_id: Id, principal: Annotated[Principal, allow(*ADMIN)], conn: ConnDep
) -> dict:
    return await admin.get_user(conn, principal, user_id)


@router.patch("/users/{user_id}", response_model=schemas.User, name="admin_change_user")
async def change_user(
    user_id: Id, body: UserChange, principal: Annotated[Principal, allow(*ADMIN)], conn: ConnDep
) -> dict:
    """Rename, rebind, change the role, move to another council (`council`: slug or code; an
    oblast administrator's; executors and managers follow their organisation's), or
    deactivate (is_active false also ends every session of the account)."""
    return await admin.change_user(
        conn,
        principal,
        user_id,
        acting_user_id=principal.user_id,
        **body.model_dump(),
        actor=principal,
    )


# --- the directory's lists ------------------------------------------------------------------


@router.get(
    "/directory/executors", response_model=schemas.DirectoryExecutors, name="admin_executors"
)
async def list_executors(principal: Annotated[Principal, allow(*ADMIN)], conn: ConnDep) -> dict:
    """Every executor organisation, to bind accounts and routing rules to."""
    items = await admin.list_executors(conn, principal)
    return {"items": items, "returned": len(items)}


@router.get(
    "/directory/categories", response_model=schemas.DirectoryCategories,
    name="admin_categories",
)  # fmt: skip
async def list_categories(principal: Annotated[Principal, allow(*ADMIN)], conn: ConnDep) -> dict:
    """Every category, inactive ones too (the public /categories lists the active only)."""
    items = await admin.list_categories(conn, principal)
    return {"items": items, "returned": len(items)}


TERRITORY_FILE = {
    "requestBody": {
        "required": True,
        "description": "The file itself: GeoJSON or GeoPackage with the territory's polygons",
        "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
    }
}


@router.post(
    "/directory/territories/{code}", response_model=schemas.TerritoryReplacement,
    name="admin_replace_territory", openapi_extra=TERRITORY_FILE,
)  # fmt: skip
async def replace_territory(
    code: str,
    request: Request,
    principal: Annotated[Principal, allow(*ADMIN)],
    conn: ConnDep,
    filename: Annotated[str, Query(max_length=255)],
    apply: bool = False,
) -> dict:
    """A new outline of an executor territory from a file (the body), read by the importer:
    without `apply` both outlines to compare, with it a new version of the territory."""
    data = await request.body()
    geom = await run_in_threadpool(territory.read_territory, data, filename)
    return await admin.replace_territory(conn, principal, code, geom, apply=apply, actor=principal)


# --- categories ----------------------------------------------------------------------------


@router.patch(
    "/categories/{category_id}", response_model=schemas.CategoryRow, name="admin_change_category"
)
async def change_category(
    category_id: Id,
    body: CategoryChange,
    principal: Annotated[Principal, allow(*ADMIN)],
    conn: ConnDep,
) -> dict:
    return await admin.change_category(
        conn, principal, category_id, **body.model_dump(), actor=principal
    )


# --- routing rules -------------------------------------------------------------------------


@router.get("/routing-rules", response_model=schemas.RoutingRules, name="admin_routing_rules")
async def list_rules(
    principal: Annotated[Principal, allow(*ADMIN)],
    conn: ConnDep,
    category_id: Annotated[Id | None, Query()] = None,
    executor_id: Annotated[Id | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
    after: Annotated[IdCursor | None, Query()] = None,
) -> dict:
    return await admin.list_rules(
        conn, principal, category_id=category_id, executor_id=executor_id, limit=limit, after=after
    )


@router.post(
    "/routing-rules",
    response_model=schemas.RoutingRule,
    name="admin_create_routing_rule",
    status_code=201,
)
async def create_rule(
    body: NewRule, principal: Annotated[Principal, allow(*ADMIN)], conn: ConnDep
) -> dict:
    return await admin.create_rule(conn, principal, **body.model_dump(), actor=principal)


@router.delete("/routing-rules/{rule_id}", name="admin_delete_routing_rule", status_code=204)
async def delete_rule(
    rule_id: Id, principal: Annotated[Principal, allow(*ADMIN)], conn: ConnDep
) -> None:
    """Appeals routed by the rule keep their executor and reason; only the link is dropped."""
    await admin.delete_rule(conn, principal, rule_id, actor=principal)


# --- thematic layers -----------------------------------------------------------------------


@router.patch("/layers/{name}", response_model=schemas.LayerRow, name="planner_change_layer")
async def change_layer(
    name: str, body: LayerChange, principal: Annotated[Principal, allow(*LAYER_EDITORS)],
    conn: ConnDep,
) -> dict:  # fmt: skip
    """A thematic layer's title, description, owner department and update regime."""
    return await catalogue.change_layer(conn, name, **body.model_dump())


# --- notifications (gis/notify.py) ---------------------------------------------------------


@router.get(
    "/admin/notifications", response_model=schemas.Notifications, name="admin_notifications"
)
async def list_notifications(
    principal: Annotated[Principal, allow(*ADMIN)],
    conn: ConnDep,
    status: Annotated[Literal["failed", "pending", "sent"], Query()] = "failed",
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    after: Annotated[IdCursor | None, Query()] = None,
) -> dict:
    """The authors' and supporters' notifications of one status (failed: given up after
    settings.notify_max_attempts tries), by id; the recipient masked (a…@…, +380…67)."""
    return await notify.list_for_admin(conn, principal, status=status, limit=limit, after=after)


@router.post(
    "/admin/notifications/{notification_id}/retry",
    response_model=schemas.NotificationRow,
    name="admin_retry_notification",
)
async def retry_notification(
    notification_id: Id, principal: Annotated[Principal, allow(*ADMIN)], conn: ConnDep
) -> dict:
    """Try a failed notification again: pending, its tries counted from zero, a delivery job
    deferred. A notification already sent is left as it is."""
    return await notify.retry(conn, principal, notification_id)


# --- councils (issue 17) ---------------------------------------------------------------------


@router.get("/admin/councils", response_model=schemas.AdminCouncils, name="admin_councils")
async def list_councils(principal: Annotated[Principal, allow(*ADMIN)], conn: ConnDep) -> dict:
    """The councils the administrator administers (an oblast administrator: every one), with
    their numbers' prefix, occupation and whether they have appeals."""
    items = await admin.list_councils(conn, principal)
    return {"items": items, "returned": len(items)}


@router.patch(
    "/admin/councils/{code}", response_model=schemas.AdminCouncil, name="admin_change_council"
)
async def change_council(
    code: str, body: CouncilChange, principal: Annotated[Principal, allow(*ADMIN)],
    conn: ConnDep,
) -> dict:  # fmt: skip
    """An oblast administrator's change of a council (slug or KATOTTH code): its name, its
    numbers' prefix (409 once it has appeals), occupied since a date with the source, or no
    longer (`occupied: false`). A council's own administrator: 404. Audited."""
    return await admin.change_council(conn, principal, code, **body.model_dump(),
                                      actor=principal)  # fmt: skip


@router.get(
    "/directory/councils/{code}/categories", response_model=schemas.CouncilCategories,
    name="admin_council_categories",
)  # fmt: skip
async def council_categories(
    code: str, principal: Annotated[Principal, allow(*ADMIN)], conn: ConnDep
) -> dict:
    """The sub-kinds a council may offer (the shared catalogue's and its own): whether it
    offers each and its deadline override. Another council's (a council's administrator): 404."""
    return await admin.council_categories(conn, principal, code)


@router.put(
    "/directory/councils/{code}/categories", response_model=schemas.CouncilCategories,
    name="admin_choose_council_categories",
)  # fmt: skip
async def choose_council_categories(
    code: str, body: CouncilCategoriesChange, principal: Annotated[Principal, allow(*ADMIN)],
    conn: ConnDep,
) -> dict:  # fmt: skip
    """Switch sub-kinds on or off for the council with a deadline override (`items`), or add
    its own sub-kinds under a shared kind (`add`). Audited."""
    return await admin.choose_categories(
        conn, principal, code, items=body.items, add=body.add, actor=principal
    )
