"""The administrator's directory: staff accounts, categories' deadlines, routing rules.

Callers (api/routers/admin.py) have checked the role; these functions apply the rules of
each change and raise gis.errors on what breaks them. Answers are plain dicts, dates as
ISO 8601 text, in the shape the API returns.

Every change is audited in its own transaction (gis/audit.py `record_directory_change`):
a feature_events row of the chain 'features' whose layer names the table (users,
categories, routing_rules), with the acting administrator and the changed fields. An
account's e-mail and name are personal data and stay out of the trail (its id names it).
"""

from __future__ import annotations

import secrets
from typing import Any

from psycopg.rows import dict_row

from gis import accounts, category_search
from gis.audit import record_directory_change
from gis.errors import Conflict, InvalidInput, NotFound
from gis.jsonable import iso_row
from gis.models import ROLES

EXECUTOR_BOUND = ("executor", "manager")
CONTACT_CENTRE_ROLES = ("operator", "curator")

_USER_COLUMNS = """u.id, u.email, u.full_name, u.role, u.executor_id, e.code AS executor_code,
    e.short_name AS executor, u.ward_number, u.is_active, u.is_demo, u.created_at,
    u.email_confirmed_at"""
_USER_FROM = "FROM users u LEFT JOIN executors e ON e.id = u.executor_id"

_RULE_COLUMNS = """r.id, r.priority, r.category_id, c.name AS category, r.district_code,
    r.ward_number, r.territory_code, r.executor_id, e.code AS executor_code,
    e.short_name AS executor, r.is_active, r.note"""
_RULE_FROM = """FROM routing_rules r JOIN executors e ON e.id = r.executor_id
    LEFT JOIN categories c ON c.id = r.category_id"""
# What the trail keeps of an account and of a rule (no e-mail, no name: see the docstring).
_USER_AUDITED = ("role", "executor_id", "ward_number", "is_active")
_RULE_AUDITED = ("priority", "category_id", "district_code", "ward_number", "territory_code",
                 "executor_id", "is_active", "note")  # fmt: skip


def _audited(row: dict, keys: tuple[str, ...]) -> dict:
    return {k: row.get(k) for k in keys}


async def _one(conn, query: str, params) -> dict | None:
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(query, params)
        return await cur.fetchone()


async def _page(conn, query: str, params, limit: int) -> dict:
    """Keyset page by id: `query` must ask for limit + 1 rows ordered by id."""
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(query, params)
        rows = [iso_row(r) for r in await cur.fetchall()]
    more = len(rows) > limit
    rows = rows[:limit]
    return {"items": rows, "next": str(rows[-1]["id"]) if more else None}


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


async def list_users(conn, *, role: str | None, limit: int, after: int | None) -> dict:
    """Accounts (not erased) by id, of one role or all: {items, next}."""
    if role is not None and role not in ROLES:
        raise InvalidInput("invalid_role", value=role, allowed=", ".join(ROLES))
    return await _page(
        conn,
        f"SELECT {_USER_COLUMNS} {_USER_FROM}"
        " WHERE (%s::text IS NULL OR u.role = %s) AND (%s::int IS NULL OR u.id > %s)"
        " AND u.erased_at IS NULL ORDER BY u.id LIMIT %s",
        (role, role, after, after, limit + 1),
        limit,
    )


async def get_user(conn, user_id: int) -> dict:
    row = await _one(conn, f"SELECT {_USER_COLUMNS} {_USER_FROM} WHERE u.id = %s", (user_id,))
    if row is None:
        raise NotFound("user_not_found", id=user_id)
    return iso_row(row)


async def create_user(
    conn, *, email: str, full_name: str, role: str, password: str | None = None,
    executor_id: int | None = None, executor_code: str | None = None,
    ward_number: int | None = None, actor: Any = None,
) -> dict:  # fmt: skip
    """A staff account bound to an executor organisation (executors, managers), a ward
    (deputies), or the contact centre (operators, curators). Without `password` one is
    generated and returned once, as "password"."""
    bound = await _executor(conn, executor_id, executor_code)
    if bound is None and role in CONTACT_CENTRE_ROLES:
        row = await _one(
            conn, "SELECT id FROM executors WHERE kind = 'contact_centre' ORDER BY id LIMIT 1", ()
        )
        bound = row["id"] if row else None
    await _check_binding(conn, role, bound, ward_number)
    given = password
    password = given or secrets.token_urlsafe(12)
    async with conn.transaction():
        user_id = await accounts.create_user(
            conn, email=email, password=password, full_name=full_name, role=role,
            executor_id=bound, ward_number=ward_number if role == "deputy" else None,
            confirmed=True,
        )  # fmt: skip
        user = await get_user(conn, user_id)
        await record_directory_change(conn, table="users", row_id=user_id, actor=actor,
                                      action="created", old=None,
                                      new=_audited(user, _USER_AUDITED))  # fmt: skip
    if given is None:
        user["password"] = password  # shown once
    return user


async def change_user(
    conn, user_id: int, *, acting_user_id: int | None, full_name: str | None = None,
    role: str | None = None, executor_id: int | None = None, executor_code: str | None = None,
    ward_number: int | None = None, is_active: bool | None = None, actor: Any = None,
) -> dict:  # fmt: skip
    """Rename, rebind, change the role, or deactivate (is_active false also ends every
    session of the account; so does a change of role). None leaves a field as it is."""
    current = await get_user(conn, user_id)
    if is_active is False and user_id == acting_user_id:
        raise Conflict("cannot_deactivate_self")
    role = role or current["role"]
    bound = await _executor(conn, executor_id, executor_code)
    if bound is None:
        bound = current["executor_id"]
    ward = ward_number if ward_number is not None else current["ward_number"]
    await _check_binding(conn, role, bound, ward)
    full_name = full_name.strip() if full_name else current["full_name"]
    active = current["is_active"] if is_active is None else is_active
    async with conn.transaction():
        await conn.execute(
            "UPDATE users SET full_name = %s, role = %s, executor_id = %s, ward_number = %s,"
            " is_active = %s WHERE id = %s",
            (full_name, role, bound, ward if role == "deputy" else None, active, user_id),
        )
        if not active or role != current["role"]:
            await conn.execute(
                "UPDATE auth_sessions SET revoked_at = now()"
                " WHERE user_id = %s AND revoked_at IS NULL",
                (user_id,),
            )
        changed = await get_user(conn, user_id)
        old, new = _audited(current, _USER_AUDITED), _audited(changed, _USER_AUDITED)
        if changed["full_name"] != current["full_name"]:
            old["full_name_changed"], new["full_name_changed"] = False, True
        action = "deactivated" if current["is_active"] and not active else "updated"
        await record_directory_change(conn, table="users", row_id=user_id, actor=actor,
                                      action=action, old=old, new=new)  # fmt: skip
    return changed


# --- the directory's lists (the administrator's page) ----------------------------------------


async def list_executors(conn) -> list[dict]:
    """Every executor organisation (the bindings of accounts and routing rules), parents
    before their sub-organisations' names in order."""
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(
            "SELECT e.id, e.code, e.name, e.short_name, e.kind, e.parent_id, e.district_code,"
            " (SELECT count(*) FROM executor_territories t WHERE t.executor_id = e.id"
            "   AND t.valid_to IS NULL) AS territories"
            " FROM executors e ORDER BY e.kind, coalesce(e.short_name, e.name), e.id"
        )
        return [iso_row(r) for r in await cur.fetchall()]


async def list_categories(conn) -> list[dict]:
    """Every category, active or not: kinds (parent_id NULL) and their sub-kinds, with the
    kind's name beside each sub-kind."""
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(
            "SELECT c.id, c.code, c.name, c.name_en, c.parent_id, k.name AS kind,"
            " k.name_en AS kind_en, c.deadline_days, c.needs_study, c.is_active, c.keywords"
            " FROM categories c LEFT JOIN categories k ON k.id = c.parent_id"
            " ORDER BY coalesce(k.sort_order, c.sort_order), coalesce(k.name, c.name),"
            " coalesce(k.id, c.id), c.parent_id NULLS FIRST, c.sort_order, c.name, c.id"
        )
        return [iso_row(r) for r in await cur.fetchall()]


# --- categories ----------------------------------------------------------------------------


async def change_category(
    conn, category_id: int, *, deadline_days: int | None = None, is_active: bool | None = None,
    keywords: list[str] | None = None, actor: Any = None,
) -> dict:  # fmt: skip
    """A category's deadline (1..45 days), whether citizens may pick it, or its keywords (the
    words callers use, gis/category_search.py; the list given replaces the old one)."""
    if deadline_days is not None and not 1 <= deadline_days <= 45:
        raise InvalidInput("invalid_deadline_days", value=deadline_days)
    if keywords is not None:
        keywords = category_search.clean_keywords(keywords)
    async with conn.transaction():
        before = await _one(conn, "SELECT * FROM categories WHERE id = %s FOR UPDATE",
                            (category_id,))  # fmt: skip
        row = await _one(
            conn,
            "UPDATE categories SET deadline_days = coalesce(%s, deadline_days),"
            " is_active = coalesce(%s, is_active), keywords = coalesce(%s, keywords)"
            " WHERE id = %s RETURNING id, code, name, parent_id, deadline_days, needs_study,"
            " is_active, keywords",
            (deadline_days, is_active, keywords, category_id),
        )
        if row is None or before is None:
            raise NotFound("category_not_found", id=category_id)
        after = await _one(conn, "SELECT * FROM categories WHERE id = %s", (category_id,))
        await record_directory_change(conn, table="categories", row_id=category_id, actor=actor,
                                      action="updated", old=dict(before),
                                      new=dict(after or {}))  # fmt: skip
    return iso_row(row)


# --- routing rules -------------------------------------------------------------------------


async def list_rules(
    conn, *, category_id: int | None, executor_id: int | None, limit: int, after: int | None
) -> dict:
    """Routing rules by id, of one category or executor or all: {items, next}."""
    return await _page(
        conn,
        f"SELECT {_RULE_COLUMNS} {_RULE_FROM} WHERE (%s::int IS NULL OR r.category_id = %s)"
        " AND (%s::int IS NULL OR r.executor_id = %s) AND (%s::int IS NULL OR r.id > %s)"
        " ORDER BY r.id LIMIT %s",
        (category_id, category_id, executor_id, executor_id, after, after, limit + 1),
        limit,
    )


async def create_rule(
    conn, *, executor_id: int | None = None, executor_code: str | None = None,
    category_id: int | None = None, priority: int = 100, district_code: str | None = None,
    ward_number: int | None = None, territory_code: str | None = None, note: str | None = None,
    actor: Any = None,
) -> dict:  # fmt: skip
    """A rule sending a category (or any) in one area (a district, a ward, a territory, or
    anywhere) to an executor."""
    bound = await _executor(conn, executor_id, executor_code)
    if bound is None:
        raise InvalidInput("executor_required", role="routing rule")
    # Blank codes name no area; the table allows at most one area that is not NULL (0 and ""
    # included), so count as it does.
    district_code = (district_code or "").strip() or None
    territory_code = (territory_code or "").strip() or None
    areas = [a for a in (district_code, ward_number, territory_code) if a is not None]
    if len(areas) > 1:
        raise InvalidInput("rule_one_area")
    if category_id is not None and await _one(
        conn, "SELECT 1 FROM categories WHERE id = %s", (category_id,)
    ) is None:  # fmt: skip
        raise InvalidInput("unknown_category", value=category_id)
    async with conn.transaction():
        row = await _one(
            conn,
            "INSERT INTO routing_rules (priority, category_id, district_code, ward_number,"
            " territory_code, executor_id, note) VALUES (%s, %s, %s, %s, %s, %s, %s)"
            " RETURNING id",
            (priority, category_id, district_code, ward_number, territory_code, bound, note),
        )
        assert row is not None  # INSERT ... RETURNING
        created = await _one(conn, f"SELECT {_RULE_COLUMNS} {_RULE_FROM} WHERE r.id = %s",
                             (row["id"],))  # fmt: skip
        assert created is not None  # inserted just now
        await record_directory_change(conn, table="routing_rules", row_id=row["id"],
                                      actor=actor, action="created", old=None,
                                      new=_audited(created, _RULE_AUDITED))  # fmt: skip
    return iso_row(created)


async def delete_rule(conn, rule_id: int, *, actor: Any = None) -> None:
    """Appeals routed by the rule keep their executor and reason; only the link is dropped."""
    async with conn.transaction():
        gone = await _one(conn, f"SELECT {_RULE_COLUMNS} {_RULE_FROM} WHERE r.id = %s FOR UPDATE"
                          " OF r", (rule_id,))  # fmt: skip
        if gone is None:
            raise NotFound("routing_rule_not_found", id=rule_id)
        await conn.execute(
            "UPDATE appeals SET routing_rule_id = NULL WHERE routing_rule_id = %s", (rule_id,)
        )
        await conn.execute("DELETE FROM routing_rules WHERE id = %s", (rule_id,))
        await record_directory_change(conn, table="routing_rules", row_id=rule_id, actor=actor,
                                      action="deleted", old=_audited(gone, _RULE_AUDITED),
                                      new=None)  # fmt: skip


# --- executor territories ------------------------------------------------------------------

_TERRITORY_GEOJSON = "ST_AsGeoJSON(%s, 6)::json"


async def replace_territory(conn, code: str, geom_hex: str, *, apply: bool,
                            actor: Any = None) -> dict:  # fmt: skip
    """A new outline (hex EWKB, a MultiPolygon in EPSG:4326) for the current territory
    `code`: without `apply`, both outlines to compare; with it, the current version is closed
    (valid_to) and the next one added, so appeals keep the areas they were routed by. Audited
    with both versions' ids and areas."""
    async with conn.transaction():
        old = await _one(
            conn,
            "SELECT t.id, t.code, t.name, t.executor_id, t.version,"
            f" {_TERRITORY_GEOJSON % 't.geom'} AS old,"
            " round(ST_Area(t.geom::geography)) AS old_area_m2,"
            f" {_TERRITORY_GEOJSON % 'n.geom'} AS new,"
            " round(ST_Area(n.geom::geography)) AS new_area_m2"
            " FROM executor_territories t,"
            " (SELECT ST_Multi(ST_GeomFromEWKB(decode(%s, 'hex'))) AS geom) n"
            " WHERE t.code = %s AND t.valid_to IS NULL FOR UPDATE OF t",
            (geom_hex, code),
        )
        if old is None:
            raise NotFound("territory_not_found", value=code)
        answer = {**old, "applied": False}
        if not apply:
            return answer
        row = await _one(
            conn,
            "WITH closed AS (UPDATE executor_territories SET valid_to = now() WHERE id = %s"
            " RETURNING executor_id, code, name, version)"
            " INSERT INTO executor_territories (executor_id, code, name, version, valid_from,"
            " geom) SELECT executor_id, code, name, version + 1, now(),"
            " ST_Multi(ST_GeomFromEWKB(decode(%s, 'hex'))) FROM closed"
            " RETURNING id, version",
            (old["id"], geom_hex),
        )
        assert row is not None  # the current version was locked above
        await record_directory_change(
            conn, table="executor_territories", row_id=code, actor=actor, action="replaced",
            old={"id": old["id"], "version": old["version"], "area_m2": old["old_area_m2"]},
            new={"id": row["id"], "version": row["version"], "area_m2": old["new_area_m2"]},
        )  # fmt: skip
    return {**answer, "id": row["id"], "version": row["version"], "applied": True}
