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

import re
import secrets
from typing import Any

import psycopg
from psycopg.rows import dict_row

from gis import accounts, category_search, councils
from gis.audit import record_directory_change
from gis.errors import Conflict, InvalidInput, NotFound
from gis.jsonable import iso_row
from gis.models import ROLES
from gis.scope import council_of, council_scope

EXECUTOR_BOUND = ("executor", "manager")
CONTACT_CENTRE_ROLES = ("operator", "curator")

_USER_COLUMNS = """u.id, u.email, u.full_name, u.role, u.executor_id, e.code AS executor_code,
    e.short_name AS executor, u.ward_number, u.is_active, u.is_demo, u.created_at,
    u.email_confirmed_at, k.code AS council"""
_USER_FROM = """FROM users u LEFT JOIN executors e ON e.id = u.executor_id
    LEFT JOIN councils k ON k.id = u.council_id"""

_RULE_COLUMNS = """r.id, r.priority, r.category_id, c.name AS category, r.district_code,
    r.ward_number, r.territory_code, r.executor_id, e.code AS executor_code,
    e.short_name AS executor, r.is_active, r.note"""
_RULE_FROM = """FROM routing_rules r JOIN executors e ON e.id = r.executor_id
    LEFT JOIN categories c ON c.id = r.category_id"""
# What the trail keeps of an account and of a rule (no e-mail, no name: see the docstring).
_USER_AUDITED = ("role", "executor_id", "ward_number", "is_active", "council")
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


async def _executor(
    conn, principal: Any, executor_id: int | None, executor_code: str | None
) -> int | None:
    """An executor by id or code; one of a council the administrator does not administer is
    `council_mismatch` (issue 17)."""
    if executor_id is None and executor_code is None:
        return None
    scope_sql, scope_params = council_scope(principal, "executors")
    row = await _one(
        conn,
        f"SELECT id, {scope_sql} AS mine FROM executors WHERE id = %s OR code = %s",
        (*scope_params, executor_id, executor_code),
    )
    if row is None:
        raise InvalidInput("unknown_executor", value=executor_code or executor_id)
    if not row["mine"]:
        raise InvalidInput("council_mismatch")
    return row["id"]


async def _council(conn, principal: Any, ref: str | None) -> int | None:
    """The council a new row belongs to: the one named (an oblast administrator; a council's
    administrator may name only their own, else `council_mismatch`), else the
    administrator's own (None: an oblast administrator naming none)."""
    own = council_of(principal)
    if ref is None:
        return own
    council = await councils.resolve(conn, ref)
    scope_sql, _ = council_scope(principal, "x")
    if (own is not None and council.id != own) or (
        scope_sql != "true" and council.id not in principal.council_ids
    ):
        raise InvalidInput("council_mismatch")
    return council.id


async def _check_binding(
    conn, role: str, executor_id: int | None, ward: int | None, council_id: int | None
) -> None:
    if role in EXECUTOR_BOUND and executor_id is None:
        raise InvalidInput("executor_required", role=role)
    if role == "deputy":
        if ward is None:
            raise InvalidInput("ward_required")
        if await _one(
            conn,
            "SELECT 1 FROM wards WHERE number = %s AND (%s::int IS NULL OR council_id = %s)",
            (ward, council_id, council_id),
        ) is None:  # fmt: skip
            raise InvalidInput("unknown_ward", value=ward)


# --- users ---------------------------------------------------------------------------------


async def list_users(
    conn, principal: Any, *, role: str | None, limit: int, after: int | None,
    council: str | None = None, q: str | None = None,
) -> dict:  # fmt: skip
    """Accounts (not erased) by id, of one role or all: {items, next}. A council's
    administrator lists its council's staff only; citizens (no council) the oblast's.
    `council` (slug or code) narrows to one council's accounts; `q` finds a part of the
    e-mail or the name, in any case."""
    if role is not None and role not in ROLES:
        raise InvalidInput("invalid_role", value=role, allowed=", ".join(ROLES))
    council_id = None if council is None else (await councils.resolve(conn, council)).id
    pattern = None if not q else "%" + re.sub(r"([\\%_])", r"\\\1", q.strip()) + "%"
    scope_sql, scope_params = council_scope(principal, "u")
    return await _page(
        conn,
        f"SELECT {_USER_COLUMNS} {_USER_FROM}"
        " WHERE (%s::text IS NULL OR u.role = %s) AND (%s::int IS NULL OR u.id > %s)"
        " AND (%s::int IS NULL OR u.council_id = %s)"
        " AND (%s::text IS NULL OR u.email ILIKE %s OR u.full_name ILIKE %s)"
        f" AND u.erased_at IS NULL AND {scope_sql} ORDER BY u.id LIMIT %s",
        (role, role, after, after, council_id, council_id, pattern, pattern, pattern,
         *scope_params, limit + 1),
        limit,
    )  # fmt: skip


async def get_user(conn, principal: Any, user_id: int) -> dict:
    scope_sql, scope_params = council_scope(principal, "u")
    row = await _one(
        conn,
        f"SELECT {_USER_COLUMNS} {_USER_FROM} WHERE u.id = %s AND {scope_sql}",
        (user_id, *scope_params),
    )
    if row is None:
        raise NotFound("user_not_found", id=user_id)
    return iso_row(row)


async def create_user(
    conn, principal: Any, *, email: str, full_name: str, role: str, password: str | None = None,
    executor_id: int | None = None, executor_code: str | None = None,
    ward_number: int | None = None, council: str | None = None, actor: Any = None,
) -> dict:  # fmt: skip
    """A staff account bound to an executor organisation (executors, managers), a ward
    (deputies), or the contact centre (operators, curators), in a council: `council` (slug or
    code; an oblast administrator's choice), else the administrator's own; the executor and
    the ward must be of it (`council_mismatch`). Without `password` one is generated and
    returned once, as "password"."""
    council_id = None if role == "citizen" else await _council(conn, principal, council)
    bound = await _executor(conn, principal, executor_id, executor_code)
    if bound is None and role in CONTACT_CENTRE_ROLES:
        # The council's contact centre; an oblast operator (no council, several councils)
        # belongs to none.
        row = await _one(
            conn,
            "SELECT id FROM executors WHERE kind = 'contact_centre' AND council_id ="
            " coalesce(%s, (SELECT min(id) FROM councils HAVING count(*) = 1))"
            " ORDER BY id LIMIT 1",
            (council_id,),
        )
        bound = row["id"] if row else None
    await _check_binding(conn, role, bound, ward_number, council_id)
    given = password
    password = given or secrets.token_urlsafe(12)
    async with conn.transaction():
        user_id = await accounts.create_user(
            conn, email=email, password=password, full_name=full_name, role=role,
            executor_id=bound, ward_number=ward_number if role == "deputy" else None,
            confirmed=True, council_id=council_id,
        )  # fmt: skip
        user = await get_user(conn, principal, user_id)
        await record_directory_change(conn, table="users", row_id=user_id, actor=actor,
                                      action="created", old=None,
                                      new=_audited(user, _USER_AUDITED))  # fmt: skip
    if given is None:
        user["password"] = password  # shown once
    return user


async def change_user(
    conn, principal: Any, user_id: int, *, acting_user_id: int | None, full_name: str | None = None,
    role: str | None = None, executor_id: int | None = None, executor_code: str | None = None,
    ward_number: int | None = None, is_active: bool | None = None, council: str | None = None,
    actor: Any = None,
) -> dict:  # fmt: skip
    """Rename, rebind, change the role, move to another council, or deactivate (is_active
    false also ends every session of the account; so does a change of role). None leaves a
    field as it is. Only an account of the administrator's councils (else 404); a new
    executor of another council is `council_mismatch`; executors and managers move to their
    executor's council. `council` (slug or code; issue 17) moves the account: an oblast
    administrator's choice (a council's administrator may name only their own); one that is
    not the executor's (executors, managers) or a citizen's is `council_mismatch`; operators
    and curators follow to the new council's contact centre."""
    current = await get_user(conn, principal, user_id)
    if is_active is False and user_id == acting_user_id:
        raise Conflict("cannot_deactivate_self")
    role = role or current["role"]
    moved = None if council is None else await _council(conn, principal, council)
    if moved is not None and role == "citizen":
        raise InvalidInput("council_mismatch")
    bound = await _executor(conn, principal, executor_id, executor_code)
    if bound is None:
        bound = current["executor_id"]
    if moved is not None and role in CONTACT_CENTRE_ROLES and executor_id is None \
            and executor_code is None:  # fmt: skip
        # The new council's contact centre (none: the account stays without one).
        centre = await _one(
            conn,
            "SELECT id FROM executors WHERE kind = 'contact_centre' AND council_id = %s"
            " ORDER BY id LIMIT 1",
            (moved,),
        )
        bound = centre["id"] if centre else None
    row = await _one(
        conn,
        "SELECT coalesce((SELECT council_id FROM executors WHERE id = %s AND %s), %s::int,"
        " (SELECT council_id FROM users WHERE id = %s), %s::int) AS council_id",
        (bound, role in EXECUTOR_BOUND, moved, user_id, council_of(principal)),
    )
    council_id = None if role == "citizen" else (row or {}).get("council_id")
    if moved is not None and council_id != moved:
        raise InvalidInput("council_mismatch")  # an organisation's staff follow its council
    ward = ward_number if ward_number is not None else current["ward_number"]
    await _check_binding(conn, role, bound, ward, council_id)
    full_name = full_name.strip() if full_name else current["full_name"]
    active = current["is_active"] if is_active is None else is_active
    async with conn.transaction():
        await conn.execute(
            "UPDATE users SET full_name = %s, role = %s, executor_id = %s, ward_number = %s,"
            " is_active = %s, council_id = %s WHERE id = %s",
            (full_name, role, bound, ward if role == "deputy" else None, active, council_id,
             user_id),
        )  # fmt: skip
        if not active or role != current["role"]:
            await conn.execute(
                "UPDATE auth_sessions SET revoked_at = now()"
                " WHERE user_id = %s AND revoked_at IS NULL",
                (user_id,),
            )
        changed = await get_user(conn, principal, user_id)
        old, new = _audited(current, _USER_AUDITED), _audited(changed, _USER_AUDITED)
        if changed["full_name"] != current["full_name"]:
            old["full_name_changed"], new["full_name_changed"] = False, True
        action = "deactivated" if current["is_active"] and not active else "updated"
        await record_directory_change(conn, table="users", row_id=user_id, actor=actor,
                                      action=action, old=old, new=new)  # fmt: skip
    return changed


# --- the directory's lists (the administrator's page) ----------------------------------------


async def list_executors(conn, principal: Any) -> list[dict]:
    """Every executor organisation of the administrator's councils (the bindings of accounts
    and routing rules), parents before their sub-organisations' names in order."""
    scope_sql, scope_params = council_scope(principal, "e")
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(
            "SELECT e.id, e.code, e.name, e.short_name, e.kind, e.parent_id, e.district_code,"
            " (SELECT count(*) FROM executor_territories t WHERE t.executor_id = e.id"
            "   AND t.valid_to IS NULL) AS territories"
            f" FROM executors e WHERE {scope_sql}"
            " ORDER BY e.kind, coalesce(e.short_name, e.name), e.id",
            scope_params,
        )
        return [iso_row(r) for r in await cur.fetchall()]


def _own_council(principal: Any) -> int | None:
    """The council whose choice of the catalogue a council's administrator edits (issue 17);
    None: the shared catalogue (an oblast administrator, a one-council install)."""
    scope_sql, _ = council_scope(principal, "x")
    return None if scope_sql == "true" else council_of(principal)


async def list_categories(conn, principal: Any) -> list[dict]:
    """Every category, active or not: kinds (parent_id NULL) and their sub-kinds, with the
    kind's name beside each sub-kind. A council's administrator sees its council's choice
    (council_categories): its deadlines, whether offered, the catalogue's keywords and its
    own."""
    council_id = _own_council(principal)
    async with conn.cursor(row_factory=dict_row) as cur:
        if council_id is not None:
            await cur.execute(
                "SELECT c.id, c.code, c.name, c.name_en, c.parent_id, k.name AS kind,"
                " k.name_en AS kind_en, coalesce(cc.deadline_days, c.deadline_days)"
                " AS deadline_days, c.needs_study, cc.is_active AND c.is_active AS is_active,"
                " c.keywords || coalesce(cc.keywords, '{}') AS keywords"
                " FROM council_categories cc JOIN categories c ON c.id = cc.category_id"
                " LEFT JOIN categories k ON k.id = c.parent_id WHERE cc.council_id = %s"
                " ORDER BY coalesce(k.sort_order, c.sort_order), coalesce(k.name, c.name),"
                " coalesce(k.id, c.id), c.parent_id NULLS FIRST, c.sort_order, c.name, c.id",
                (council_id,),
            )
            return [iso_row(r) for r in await cur.fetchall()]
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
    conn, principal: Any, category_id: int, *, deadline_days: int | None = None,
    is_active: bool | None = None, keywords: list[str] | None = None, actor: Any = None,
) -> dict:  # fmt: skip
    """A category's deadline (1..45 days), whether citizens may pick it, or its keywords (the
    words callers use, gis/category_search.py; the list given replaces the old one). A
    council's administrator changes its council's row (council_categories: its deadline,
    whether offered, its own keywords); an oblast administrator the shared catalogue."""
    if deadline_days is not None and not 1 <= deadline_days <= 45:
        raise InvalidInput("invalid_deadline_days", value=deadline_days)
    if keywords is not None:
        keywords = category_search.clean_keywords(keywords)
    council_id = _own_council(principal)
    if council_id is not None:
        return await _change_council_category(
            conn, council_id, category_id, deadline_days=deadline_days, is_active=is_active,
            keywords=keywords, actor=actor,
        )  # fmt: skip
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


async def _change_council_category(
    conn, council_id: int, category_id: int, *, deadline_days: int | None,
    is_active: bool | None, keywords: list[str] | None, actor: Any,
) -> dict:  # fmt: skip
    async with conn.transaction():
        before = await _one(
            conn,
            "SELECT is_active, deadline_days, keywords FROM council_categories"
            " WHERE council_id = %s AND category_id = %s FOR UPDATE",
            (council_id, category_id),
        )
        if before is None:
            raise NotFound("category_not_found", id=category_id)
        after = await _one(
            conn,
            "UPDATE council_categories SET deadline_days = coalesce(%s, deadline_days),"
            " is_active = coalesce(%s, is_active), keywords = coalesce(%s, keywords)"
            " WHERE council_id = %s AND category_id = %s"
            " RETURNING is_active, deadline_days, keywords",
            (deadline_days, is_active, keywords, council_id, category_id),
        )
        await record_directory_change(
            conn, table="council_categories", row_id=f"{council_id}:{category_id}",
            actor=actor, action="updated", old=dict(before), new=dict(after or {}),
        )  # fmt: skip
        row = await _one(
            conn,
            "SELECT c.id, c.code, c.name, c.parent_id,"
            " coalesce(cc.deadline_days, c.deadline_days) AS deadline_days, c.needs_study,"
            " cc.is_active AND c.is_active AS is_active,"
            " c.keywords || coalesce(cc.keywords, '{}') AS keywords"
            " FROM council_categories cc JOIN categories c ON c.id = cc.category_id"
            " WHERE cc.council_id = %s AND cc.category_id = %s",
            (council_id, category_id),
        )
    return iso_row(row or {})


# --- routing rules -------------------------------------------------------------------------


async def list_rules(
    conn, principal: Any, *, category_id: int | None, executor_id: int | None, limit: int,
    after: int | None,
) -> dict:  # fmt: skip
    """Routing rules of the administrator's councils by id, of one category or executor or
    all: {items, next}."""
    scope_sql, scope_params = council_scope(principal, "r")
    return await _page(
        conn,
        f"SELECT {_RULE_COLUMNS} {_RULE_FROM} WHERE (%s::int IS NULL OR r.category_id = %s)"
        " AND (%s::int IS NULL OR r.executor_id = %s) AND (%s::int IS NULL OR r.id > %s)"
        f" AND {scope_sql} ORDER BY r.id LIMIT %s",
        (category_id, category_id, executor_id, executor_id, after, after, *scope_params,
         limit + 1),
        limit,
    )  # fmt: skip


async def create_rule(
    conn, principal: Any, *, executor_id: int | None = None, executor_code: str | None = None,
    category_id: int | None = None, priority: int = 100, district_code: str | None = None,
    ward_number: int | None = None, territory_code: str | None = None, note: str | None = None,
    actor: Any = None,
) -> dict:  # fmt: skip
    """A rule sending a category (or any) in one area (a district, a ward, a territory, or
    anywhere) to an executor. The rule belongs to the executor's council, which must be the
    administrator's (`council_mismatch`); its category must be offered there
    (`category_not_in_council`) and its area, when it names one, lie there."""
    bound = await _executor(conn, principal, executor_id, executor_code)
    if bound is None:
        raise InvalidInput("executor_required", role="routing rule")
    row = await _one(
        conn,
        "SELECT e.council_id, k.name, k.slug FROM executors e"
        " JOIN councils k ON k.id = e.council_id WHERE e.id = %s",
        (bound,),
    )
    assert row is not None  # found by _executor; council_id is NOT NULL
    council_id = int(row["council_id"])
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
    if category_id is not None and await _one(
        conn,
        "SELECT 1 FROM council_categories WHERE council_id = %s AND category_id = %s",
        (council_id, category_id),
    ) is None:  # fmt: skip
        raise InvalidInput("category_not_in_council", value=category_id, council=row["name"],
                           slug=row["slug"])  # fmt: skip
    # An area known only in another council (ward numbers repeat; codes do not).
    for table, column, value in (
        ("districts", "code", district_code), ("wards", "number", ward_number),
    ):  # fmt: skip
        if value is None:
            continue
        found = await _one(
            conn,
            f"SELECT count(*) AS n, bool_or(council_id = %s) AS mine FROM {table}"
            f" WHERE {column} = %s",
            (council_id, value),
        )
        if found and found["n"] and not found["mine"]:
            raise InvalidInput("council_mismatch")
    if territory_code is not None:
        found = await _one(
            conn,
            "SELECT count(*) AS n, bool_or(e.council_id = %s) AS mine FROM executor_territories t"
            " JOIN executors e ON e.id = t.executor_id WHERE t.code = %s",
            (council_id, territory_code),
        )
        if found and found["n"] and not found["mine"]:
            raise InvalidInput("council_mismatch")
    async with conn.transaction():
        row = await _one(
            conn,
            "INSERT INTO routing_rules (priority, category_id, district_code, ward_number,"
            " territory_code, executor_id, note, council_id)"
            " VALUES (%s, %s, %s, %s, %s, %s, %s, %s) RETURNING id",
            (priority, category_id, district_code, ward_number, territory_code, bound, note,
             council_id),
        )  # fmt: skip
        assert row is not None  # INSERT ... RETURNING
        created = await _one(conn, f"SELECT {_RULE_COLUMNS} {_RULE_FROM} WHERE r.id = %s",
                             (row["id"],))  # fmt: skip
        assert created is not None  # inserted just now
        await record_directory_change(conn, table="routing_rules", row_id=row["id"],
                                      actor=actor, action="created", old=None,
                                      new=_audited(created, _RULE_AUDITED))  # fmt: skip
    return iso_row(created)


async def delete_rule(conn, principal: Any, rule_id: int, *, actor: Any = None) -> None:
    """Appeals routed by the rule keep their executor and reason; only the link is dropped.
    Another council's rule: 404."""
    scope_sql, scope_params = council_scope(principal, "r")
    async with conn.transaction():
        gone = await _one(conn, f"SELECT {_RULE_COLUMNS} {_RULE_FROM} WHERE r.id = %s"
                          f" AND {scope_sql} FOR UPDATE OF r",
                          (rule_id, *scope_params))  # fmt: skip
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


async def replace_territory(conn, principal: Any, code: str, geom_hex: str, *, apply: bool,
                            actor: Any = None) -> dict:  # fmt: skip
    """A new outline (hex EWKB, a MultiPolygon in EPSG:4326) for the current territory
    `code`: without `apply`, both outlines to compare; with it, the current version is closed
    (valid_to) and the next one added, so appeals keep the areas they were routed by. Audited
    with both versions' ids and areas. Only a territory of the administrator's councils'
    executors (else 404)."""
    scope_sql, scope_params = council_scope(principal, "e")
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
            " WHERE t.code = %s AND t.valid_to IS NULL AND EXISTS (SELECT 1 FROM executors e"
            f" WHERE e.id = t.executor_id AND {scope_sql}) FOR UPDATE OF t",
            (geom_hex, code, *scope_params),
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


# --- councils (issue 17) ---------------------------------------------------------------------

_COUNCIL_COLUMNS = """k.id, k.code, k.slug, k.name, k.name_en, k.number_prefix, k.occupied_since,
    k.occupied_source, EXISTS (SELECT 1 FROM appeals a WHERE a.council_id = k.id) AS has_appeals"""
_COUNCIL_AUDITED = ("name", "number_prefix", "occupied_since", "occupied_source")
PREFIX = re.compile(r"^[А-ЯІЇЄҐA-Z0-9]{0,6}$")


def _council_out(row: dict) -> dict:
    council = councils.Council(**{k: v for k, v in row.items() if k != "has_appeals"})
    return {**council.public(), "occupied_source": council.occupied_source,
            "has_appeals": bool(row["has_appeals"])}  # fmt: skip


async def list_councils(conn, principal: Any) -> list[dict]:
    """The councils an administrator administers (an oblast administrator: every one), by
    name, with their numbers' prefix and whether they have appeals."""
    scope_sql, scope_params = council_scope(principal, "k", column="id")
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(
            f"SELECT {_COUNCIL_COLUMNS} FROM councils k WHERE k.code <> '' AND {scope_sql}"
            " ORDER BY k.name, k.code",
            scope_params,
        )
        return [_council_out(r) for r in await cur.fetchall()]


async def change_council(
    conn, principal: Any, code: str, *, name: str | None = None,
    number_prefix: str | None = None, occupied_since: Any = None,
    occupied_source: str | None = None, occupied: bool | None = None, actor: Any = None,
) -> dict:  # fmt: skip
    """An oblast administrator renames a council, sets its numbers' prefix (only while it has
    no appeals: numbers already given stay as they are), or marks it occupied since a date
    with the source (`occupied` false clears both). A council's own administrator: 404 (the
    administrator of a one-council install administers every council, its own)."""
    if not getattr(principal, "every_council", False):
        raise NotFound("council_not_found", council=code)
    council = await councils.resolve(conn, code)
    if name is not None:
        name = " ".join(name.split())
        if not name or len(name) > 200:
            raise InvalidInput("invalid_value", parameter="name", value=name[:50])
    if number_prefix is not None:
        number_prefix = number_prefix.strip().upper()
        if not PREFIX.match(number_prefix):
            raise InvalidInput("invalid_value", parameter="number_prefix",
                               value=number_prefix[:50])  # fmt: skip
    if occupied_source is not None:
        occupied_source = " ".join(occupied_source.split())[:500] or None
    async with conn.transaction():
        before = await _one(conn, f"SELECT {_COUNCIL_COLUMNS} FROM councils k WHERE k.id = %s"
                            " FOR UPDATE", (council.id,))  # fmt: skip
        assert before is not None  # resolved above
        if number_prefix is not None and number_prefix != before["number_prefix"]:
            if before["has_appeals"]:
                raise Conflict("council_prefix_in_use", council=council.name)
            taken = await _one(conn, "SELECT name FROM councils WHERE number_prefix = %s"
                               " AND id <> %s", (number_prefix, council.id))  # fmt: skip
            if taken is not None:
                raise Conflict("council_prefix_taken", value=number_prefix,
                               council=taken["name"])  # fmt: skip
        clear = occupied is False
        await conn.execute(
            "UPDATE councils SET name = coalesce(%s, name),"
            " number_prefix = coalesce(%s, number_prefix),"
            " occupied_since = CASE WHEN %s THEN NULL ELSE coalesce(%s, occupied_since) END,"
            " occupied_source = CASE WHEN %s THEN NULL ELSE coalesce(%s, occupied_source) END"
            " WHERE id = %s",
            (name, number_prefix, clear, occupied_since, clear, occupied_source, council.id),
        )
        after = await _one(conn, f"SELECT {_COUNCIL_COLUMNS} FROM councils k WHERE k.id = %s",
                           (council.id,))  # fmt: skip
        assert after is not None
        old, new = _audited(before, _COUNCIL_AUDITED), _audited(after, _COUNCIL_AUDITED)
        changed = [k for k in new if new[k] != old[k]]
        if changed:
            await record_directory_change(
                conn, table="councils", row_id=council.code, actor=actor, action="updated",
                old={k: iso_row({k: old[k]})[k] for k in changed},
                new={k: iso_row({k: new[k]})[k] for k in changed},
            )  # fmt: skip
    return _council_out(after)


# --- a council's choice of the catalogue (issue 17) --------------------------------------------

OWN_CATEGORY_MAX = 200  # a council's own sub-kinds added at once


async def _administered(conn, principal: Any, code: str) -> councils.Council:
    """The council `code` (slug or KATOTTH) if the administrator administers it; else 404."""
    council = await councils.resolve(conn, code)
    if not getattr(principal, "every_council", False) and council.id not in (
        getattr(principal, "council_ids", ()) or ()
    ):
        raise NotFound("council_not_found", council=code)
    return council


async def council_categories(conn, principal: Any, code: str) -> dict:
    """The sub-kinds a council may offer — every shared one and its own — with whether it
    offers each, its deadline override (null: the catalogue's) and the catalogue's deadline."""
    council = await _administered(conn, principal, code)
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(
            "SELECT c.id, c.code, c.name, c.name_en, c.parent_id, k.name AS kind,"
            " c.council_id IS NOT NULL AS own, c.deadline_days AS catalogue_deadline_days,"
            " cc.deadline_days, coalesce(cc.is_active, false) AS offered,"
            " c.is_active AS catalogue_active"
            " FROM categories c JOIN categories k ON k.id = c.parent_id"
            " LEFT JOIN council_categories cc ON cc.category_id = c.id AND cc.council_id = %s"
            " WHERE c.council_id IS NULL OR c.council_id = %s"
            " ORDER BY k.sort_order, k.name, k.id, c.sort_order, c.name, c.id",
            (council.id, council.id),
        )
        items = [iso_row(r) for r in await cur.fetchall()]
    return {"council": council.public(), "items": items, "returned": len(items)}


# The fields of a choice and of an own sub-kind: name → (type, required).
_CHOICE = {"category_id": (int, True), "offered": (bool, False), "deadline_days": (int, False)}
_OWN = {"parent_id": (int, True), "name": (str, True), "deadline_days": (int, False)}


def _choice(item: Any, parameter: str, fields: dict[str, tuple[type, bool]]) -> dict:
    """One element of `items` or `add`, checked: an object of those fields only, each of its
    type (a bool is no integer here); a deadline 1..45."""
    if not isinstance(item, dict) or set(item) - set(fields):
        raise InvalidInput("invalid_value", parameter=parameter, value=str(item)[:50])
    for name, (kind, required) in fields.items():
        value = item.get(name)
        if value is None:
            if required:
                raise InvalidInput("invalid_value", parameter=f"{parameter}.{name}", value="null")
            continue
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise InvalidInput("invalid_value", parameter=f"{parameter}.{name}",
                               value=str(value)[:50])  # fmt: skip
        if kind is int and name != "deadline_days" and not 0 < int(str(value)) < 2**31:
            raise InvalidInput("invalid_value", parameter=f"{parameter}.{name}", value=value)
    days = item.get("deadline_days")
    if days is not None and not 1 <= days <= 45:
        raise InvalidInput("invalid_deadline_days", value=days)
    return item


async def choose_categories(
    conn, principal: Any, code: str, *, items: list[dict] | None = None,
    add: list[dict] | None = None, actor: Any = None,
) -> dict:  # fmt: skip
    """A council's choice: `items` [{category_id, offered, deadline_days}] switches shared (or
    its own) sub-kinds on or off with a deadline override (1..45, null: the catalogue's);
    `add` [{parent_id, name, deadline_days}] adds its own sub-kinds under a shared kind (code
    `<slug>-<n>`). Audited as one change of the council's choice."""
    council = await _administered(conn, principal, code)
    items = [_choice(i, "items", _CHOICE) for i in items or []]
    add = [_choice(a, "add", _OWN) for a in add or []]
    if len(add) > OWN_CATEGORY_MAX or len(items) > 5000:
        raise InvalidInput("invalid_value", parameter="items", value=len(items) + len(add))
    async with conn.transaction():
        changed, added = [], []
        for item in items:
            cat = await _one(
                conn,
                "SELECT id FROM categories WHERE id = %s AND parent_id IS NOT NULL"
                " AND (council_id IS NULL OR council_id = %s)",
                (item["category_id"], council.id),
            )
            if cat is None:
                raise InvalidInput("category_not_in_council", value=item["category_id"],
                                   council=council.name, slug=council.slug)  # fmt: skip
            await conn.execute(
                "INSERT INTO council_categories (council_id, category_id, is_active, deadline_days)"
                " VALUES (%s, %s, %s, %s) ON CONFLICT (council_id, category_id) DO UPDATE"
                " SET is_active = EXCLUDED.is_active, deadline_days = EXCLUDED.deadline_days",
                (council.id, cat["id"], bool(item.get("offered", True)),
                 item.get("deadline_days")),
            )  # fmt: skip
            changed.append(cat["id"])
        for item in add:
            name = " ".join(str(item.get("name") or "").split())
            if not name or len(name) > 200:
                raise InvalidInput("invalid_value", parameter="name", value=name[:50])
            kind = await _one(
                conn,
                "SELECT id FROM categories WHERE id = %s AND parent_id IS NULL"
                " AND council_id IS NULL",
                (item.get("parent_id"),),
            )
            if kind is None:
                raise InvalidInput("unknown_category", value=item.get("parent_id"))
            n = await _one(conn, "SELECT count(*) AS n FROM categories WHERE council_id = %s",
                           (council.id,))  # fmt: skip
            number = int((n or {"n": 0})["n"]) + 1
            while await _one(conn, "SELECT 1 AS x FROM categories WHERE code = %s",
                             (f"{council.slug}-{number}",)) is not None:  # fmt: skip
                number += 1
            try:
                async with conn.transaction():
                    row = await _one(
                        conn,
                        "INSERT INTO categories (code, name, parent_id, deadline_days,"
                        " council_id) SELECT %s, %s, k.id, coalesce(%s, k.deadline_days), %s"
                        " FROM categories k WHERE k.id = %s RETURNING id",
                        (f"{council.slug}-{number}", name, item.get("deadline_days"),
                         council.id, kind["id"]),
                    )  # fmt: skip
            except psycopg.errors.UniqueViolation:
                raise Conflict("council_category_exists", name=name) from None
            assert row is not None  # INSERT … RETURNING
            added.append(row["id"])
        await record_directory_change(
            conn, table="council_categories", row_id=council.code, actor=actor,
            action="updated", old=None, new={"changed": changed, "added": added},
        )  # fmt: skip
    return await council_categories(conn, principal, code)
