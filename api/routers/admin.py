"""Administration: staff accounts, categories' deadlines, routing rules (admin); thematic
layers' metadata (planner and admin). Each route declares its policy next to it."""

from __future__ import annotations

import secrets
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from psycopg.rows import dict_row
from pydantic import BaseModel, ConfigDict

from api.deps import ConnDep
from api.policy import Principal, allow
from gis.errors import Conflict, InvalidInput, NotFound
from gis.jsonable import iso_row
from gis.models import ROLES, UPDATE_REGIMES

router = APIRouter(prefix="/api/v1", tags=["admin"])

ADMIN = ("admin",)
LAYER_EDITORS = ("planner", "admin")
EXECUTOR_BOUND = ("executor", "manager")
CONTACT_CENTRE_ROLES = ("operator", "curator")
_USER_COLUMNS = """u.id, u.email, u.full_name, u.role, u.executor_id, e.code AS executor_code,
    e.short_name AS executor, u.ward_number, u.is_active, u.is_demo, u.created_at,
    u.email_confirmed_at"""


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class NewUser(_Body):
    email: str
    full_name: str
    role: Literal[ROLES]  # type: ignore[valid-type]
    password: str | None = None  # none: one is generated and returned once
    executor_id: int | None = None
    executor_code: str | None = None
    ward_number: int | None = None


class UserChange(_Body):
    full_name: str | None = None
    role: Literal[ROLES] | None = None  # type: ignore[valid-type]
    executor_id: int | None = None
    executor_code: str | None = None
    ward_number: int | None = None
    is_active: bool | None = None


class CategoryChange(_Body):
    deadline_days: int | None = None
    is_active: bool | None = None


class NewRule(_Body):
    executor_id: int | None = None
    executor_code: str | None = None
    category_id: int | None = None
    priority: int = 100
    district_code: str | None = None
    ward_number: int | None = None
    territory_code: str | None = None
    note: str | None = None


class LayerChange(_Body):
    title: str | None = None
    title_en: str | None = None
    description: str | None = None
    owner_department: str | None = None
    update_regime: str | None = None


def _json(row: dict | None) -> dict | None:
    if row is None:
        return None
    return iso_row(row)


async def _one(conn, sql: str, params) -> dict | None:
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(sql, params)
        return await cur.fetchone()


async def _all(conn, sql: str, params) -> list[dict]:
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(sql, params)
        return [_json(r) for r in await cur.fetchall()]


async def _executor(conn, executor_id: int | None, executor_code: str | None) -> int | None:
    if executor_id is None and executor_code is None:
        return None
    row = await _one(
        conn, "SELECT id FROM executors WHERE id = %s OR code = %s", (executor_id, executor_code)
    )
    if row is None:
        raise InvalidInput("unknown_executor", value=executor_code or executor_id)
    return row["id"]


async def _check_binding(conn, role: str, executor_id: int | None, ward: int | None) -> None:
    if role in EXECUTOR_BOUND and executor_id is None:
        raise InvalidInput("executor_required", role=role)
    if role == "deputy":
        if ward is None:
            raise InvalidInput("ward_required")
        if await _one(conn, "SELECT 1 FROM wards WHERE number = %s", (ward,)) is None:
            raise InvalidInput("unknown_ward", value=ward)


# --- users ---------------------------------------------------------------------------------


@router.get("/users", name="admin_users")
async def list_users(
    principal: Annotated[Principal, allow(*ADMIN)],
    conn: ConnDep,
    role: Annotated[str | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    after: Annotated[int | None, Query()] = None,
) -> dict:
    if role is not None and role not in ROLES:
        raise InvalidInput("invalid_role", value=role, allowed=", ".join(ROLES))
    rows = await _all(
        conn,
        f"SELECT {_USER_COLUMNS} FROM users u LEFT JOIN executors e ON e.id = u.executor_id"
        " WHERE (%s::text IS NULL OR u.role = %s) AND (%s::int IS NULL OR u.id > %s)"
        " AND u.erased_at IS NULL ORDER BY u.id LIMIT %s",
        (role, role, after, after, limit + 1),
    )
    more = len(rows) > limit
    rows = rows[:limit]
    return {"items": rows, "next": str(rows[-1]["id"]) if more else None}


async def _user(conn, user_id: int) -> dict:
    row = await _one(
        conn,
        f"SELECT {_USER_COLUMNS} FROM users u LEFT JOIN executors e ON e.id = u.executor_id"
        " WHERE u.id = %s",
        (user_id,),
    )
    if row is None:
        raise NotFound("user_not_found", id=user_id)
    return _json(row)


@router.post("/users", name="admin_create_user", status_code=201)
async def create_user(
    body: NewUser, principal: Annotated[Principal, allow(*ADMIN)], conn: ConnDep
) -> dict:
    """A staff account bound to an executor organisation (executors, managers), a ward
    (deputies), or the contact centre (operators, curators)."""
    executor_id = await _executor(conn, body.executor_id, body.executor_code)
    if executor_id is None and body.role in CONTACT_CENTRE_ROLES:
        row = await _one(
            conn, "SELECT id FROM executors WHERE kind = 'contact_centre' ORDER BY id LIMIT 1", ()
        )
        executor_id = row["id"] if row else None
    await _check_binding(conn, body.role, executor_id, body.ward_number)
    from gis import accounts  # the auth module: rules for e-mails, names, passwords

    password = body.password or secrets.token_urlsafe(12)
    user_id = await accounts.create_user(
        conn, email=body.email, password=password, full_name=body.full_name, role=body.role,
        executor_id=executor_id, ward_number=body.ward_number if body.role == "deputy" else None,
        confirmed=True,
    )  # fmt: skip
    user = await _user(conn, user_id)
    if body.password is None:
        user["password"] = password  # shown once
    return user


@router.get("/users/{user_id}", name="admin_user")
async def get_user(
    user_id: int, principal: Annotated[Principal, allow(*ADMIN)], conn: ConnDep
) -> dict:
    return await _user(conn, user_id)


@router.patch("/users/{user_id}", name="admin_change_user")
async def change_user(
    user_id: int, body: UserChange, principal: Annotated[Principal, allow(*ADMIN)], conn: ConnDep
) -> dict:
    """Rename, rebind, change the role, or deactivate (is_active false also ends every
    session of the account)."""
    current = await _user(conn, user_id)
    if body.is_active is False and user_id == principal.user_id:
        raise Conflict("cannot_deactivate_self")
    role = body.role or current["role"]
    executor_id = await _executor(conn, body.executor_id, body.executor_code)
    if executor_id is None:
        executor_id = current["executor_id"]
    ward = body.ward_number if body.ward_number is not None else current["ward_number"]
    await _check_binding(conn, role, executor_id, ward)
    full_name = body.full_name.strip() if body.full_name else current["full_name"]
    is_active = current["is_active"] if body.is_active is None else body.is_active
    async with conn.transaction():
        await conn.execute(
            "UPDATE users SET full_name = %s, role = %s, executor_id = %s, ward_number = %s,"
            " is_active = %s WHERE id = %s",
            (full_name, role, executor_id, ward if role == "deputy" else None, is_active,
             user_id),
        )  # fmt: skip
        if not is_active or role != current["role"]:
            await conn.execute(
                "UPDATE auth_sessions SET revoked_at = now()"
                " WHERE user_id = %s AND revoked_at IS NULL",
                (user_id,),
            )
    return await _user(conn, user_id)


# --- categories ----------------------------------------------------------------------------


@router.patch("/categories/{category_id}", name="admin_change_category")
async def change_category(
    category_id: int,
    body: CategoryChange,
    principal: Annotated[Principal, allow(*ADMIN)],
    conn: ConnDep,
) -> dict:
    if body.deadline_days is not None and not 1 <= body.deadline_days <= 45:
        raise InvalidInput("invalid_deadline_days", value=body.deadline_days)
    row = await _one(
        conn,
        "UPDATE categories SET deadline_days = coalesce(%s, deadline_days),"
        " is_active = coalesce(%s, is_active) WHERE id = %s"
        " RETURNING id, code, name, parent_id, deadline_days, needs_study, is_active",
        (body.deadline_days, body.is_active, category_id),
    )
    if row is None:
        raise NotFound("category_not_found", id=category_id)
    return _json(row)


# --- routing rules -------------------------------------------------------------------------

_RULE_COLUMNS = """r.id, r.priority, r.category_id, c.name AS category, r.district_code,
    r.ward_number, r.territory_code, r.executor_id, e.code AS executor_code,
    e.short_name AS executor, r.is_active, r.note"""
_RULE_FROM = """FROM routing_rules r JOIN executors e ON e.id = r.executor_id
    LEFT JOIN categories c ON c.id = r.category_id"""


@router.get("/routing-rules", name="admin_routing_rules")
async def list_rules(
    principal: Annotated[Principal, allow(*ADMIN)],
    conn: ConnDep,
    category_id: Annotated[int | None, Query()] = None,
    executor_id: Annotated[int | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
    after: Annotated[int | None, Query()] = None,
) -> dict:
    rows = await _all(
        conn,
        f"SELECT {_RULE_COLUMNS} {_RULE_FROM} WHERE (%s::int IS NULL OR r.category_id = %s)"
        " AND (%s::int IS NULL OR r.executor_id = %s) AND (%s::int IS NULL OR r.id > %s)"
        " ORDER BY r.id LIMIT %s",
        (category_id, category_id, executor_id, executor_id, after, after, limit + 1),
    )
    more = len(rows) > limit
    rows = rows[:limit]
    return {"items": rows, "next": str(rows[-1]["id"]) if more else None}


@router.post("/routing-rules", name="admin_create_routing_rule", status_code=201)
async def create_rule(
    body: NewRule, principal: Annotated[Principal, allow(*ADMIN)], conn: ConnDep
) -> dict:
    executor_id = await _executor(conn, body.executor_id, body.executor_code)
    if executor_id is None:
        raise InvalidInput("executor_required", role="routing rule")
    areas = [a for a in (body.district_code, body.ward_number, body.territory_code) if a]
    if len(areas) > 1:
        raise InvalidInput("rule_one_area")
    if body.category_id is not None and await _one(
        conn, "SELECT 1 FROM categories WHERE id = %s", (body.category_id,)
    ) is None:  # fmt: skip
        raise InvalidInput("unknown_category", value=body.category_id)
    row = await _one(
        conn,
        "INSERT INTO routing_rules (priority, category_id, district_code, ward_number,"
        " territory_code, executor_id, note) VALUES (%s, %s, %s, %s, %s, %s, %s) RETURNING id",
        (body.priority, body.category_id, body.district_code, body.ward_number,
         body.territory_code, executor_id, body.note),
    )  # fmt: skip
    return _json(await _one(conn, f"SELECT {_RULE_COLUMNS} {_RULE_FROM} WHERE r.id = %s",
                            (row["id"],)))  # fmt: skip


@router.delete("/routing-rules/{rule_id}", name="admin_delete_routing_rule", status_code=204)
async def delete_rule(
    rule_id: int, principal: Annotated[Principal, allow(*ADMIN)], conn: ConnDep
) -> None:
    """Appeals routed by the rule keep their executor and reason; only the link is dropped."""
    async with conn.transaction():
        await conn.execute(
            "UPDATE appeals SET routing_rule_id = NULL WHERE routing_rule_id = %s", (rule_id,)
        )
        cur = await conn.execute("DELETE FROM routing_rules WHERE id = %s", (rule_id,))
        if cur.rowcount == 0:
            raise NotFound("routing_rule_not_found", id=rule_id)


# --- thematic layers -----------------------------------------------------------------------


@router.patch("/layers/{name}", name="planner_change_layer")
async def change_layer(
    name: str, body: LayerChange, principal: Annotated[Principal, allow(*LAYER_EDITORS)],
    conn: ConnDep,
) -> dict:  # fmt: skip
    """A thematic layer's title, description, owner department and update regime."""
    if body.update_regime is not None and body.update_regime not in UPDATE_REGIMES:
        raise InvalidInput("invalid_update_regime", value=body.update_regime,
                           allowed=", ".join(UPDATE_REGIMES))  # fmt: skip
    if body.title is not None and not body.title.strip():
        raise InvalidInput("title_required")
    layer = await _one(conn, "SELECT kind FROM layers WHERE name = %s", (name,))
    if layer is None:
        raise NotFound("layer_not_found", name=name)
    if layer["kind"] != "thematic":
        raise Conflict("layer_is_core", name=name)
    row = await _one(
        conn,
        "UPDATE layers SET title = coalesce(%s, title), title_en = coalesce(%s, title_en),"
        " description = coalesce(%s, description),"
        " owner_department = coalesce(%s, owner_department),"
        " update_regime = coalesce(%s, update_regime) WHERE name = %s"
        " RETURNING name, title, title_en, description, kind, owner_department, update_regime,"
        " last_updated, is_public",
        (body.title, body.title_en, body.description, body.owner_department,
         body.update_regime, name),
    )  # fmt: skip
    return _json(row)
