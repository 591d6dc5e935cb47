"""How far each role sees appeals, as SQL.

`appeal_scope(principal, alias)` returns a WHERE fragment over `appeals AS <alias>` and its
parameters. Routes add it to every query that reads or changes an appeal, so an appeal
outside the caller's scope is simply not found: the answer is 404, never 403, and nobody
learns that an appeal with that number exists.

- executor, manager: appeals routed to their organisation or any of its sub-organisations
  (`Principal.executor_ids` holds the organisation followed by its whole subtree);
- deputy: appeals located in their ward (by ward number, whatever version of the ward);
- operator, curator, admin: every appeal;
- citizen: the appeals they filed signed in (appeal_authors.user_id);
- the holder of an author's link (`AuthorByToken`, gis/author_links.py): that one appeal;
- planner, or anyone else: none.

Councils (issue 17, the tenants): for staff the role's fragment is ANDed with
`council_scope(principal, alias)` — the appeals of the user's council; oblast staff (no
council, a role of OBLAST_ROLES) and the staff of a one-council install (`every_council`) add
nothing, so there the SQL is what it was. Other tenant tables (executors, users, rules…) use
`council_scope` directly. The defaults of api.policy.Principal deny: a principal built without
its councils sees no council's rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

CITY_WIDE = frozenset({"operator", "curator", "admin"})
# Who may be oblast staff (users.council_id NULL); executors, managers and deputies always
# belong to a council, citizens never.
OBLAST_ROLES = frozenset({"operator", "curator", "admin", "planner"})
# The roles whose appeals are limited to their council (citizens: by authorship, anywhere).
_STAFF = frozenset({"operator", "curator", "admin", "executor", "manager", "deputy", "planner"})

# Who may read an appeal's author (name, contacts, address): only those who handle it.
AUTHOR_READERS = ("operator", "curator", "executor", "manager")


@dataclass(frozen=True)
class AuthorByToken:
    """The author of ONE appeal, known by the signed token of their notification's links
    (gis/author_links.verify), not by an account: the lifecycle's rules for the author (the
    role 'citizen' of its table: confirm, reject, cancel) over that appeal alone. No user,
    no e-mail: the trail records the change as the author's («заявник»)."""

    appeal_id: int
    role: str = "citizen"
    user_id: None = None
    email: None = None
    full_name: None = None
    executor_ids: tuple[int, ...] = ()
    ward_number: None = None
    is_anonymous: bool = False
    council_ids: tuple[int, ...] = ()
    oblast: bool = False
    every_council: bool = False


def council_scope(principal: Any, alias: str, column: str = "council_id") -> tuple[str, list[Any]]:
    """(fragment, params): the rows of a tenant table (`<alias>.<column>`) `principal` may
    see — every council's for oblast staff and in a one-council install (`every_council`),
    else its own councils'; none when it has none (anonymous, or a principal built without
    them)."""
    if getattr(principal, "every_council", False):
        return "true", []
    ids = [int(i) for i in (getattr(principal, "council_ids", ()) or ())]
    if not ids:
        return "false", []
    return f"{alias}.{column} = ANY(%s)", [ids]


def council_of(principal: Any) -> int | None:
    """The council a bound principal belongs to; None for oblast staff, citizens, anonymous."""
    ids = getattr(principal, "council_ids", ()) or ()
    return int(ids[0]) if ids and not getattr(principal, "oblast", False) else None


def appeal_scope(principal: Any, alias: str = "a") -> tuple[str, list[Any]]:
    """(fragment, params): the appeals `principal` may see. `principal` is an
    api.policy.Principal (role, user_id, executor_ids, ward_number) or an AuthorByToken."""
    if isinstance(principal, AuthorByToken):
        return f"{alias}.id = %s", [int(principal.appeal_id)]
    sql, params = _role_scope(principal, alias)
    if getattr(principal, "role", None) not in _STAFF or sql == "false":
        return sql, params
    council_sql, council_params = council_scope(principal, alias)
    if council_sql == "true":
        return sql, params
    if council_sql == "false" or sql == "true":
        return council_sql, council_params
    return f"({sql}) AND {council_sql}", [*params, *council_params]


def _role_scope(principal: Any, alias: str) -> tuple[str, list[Any]]:
    role = getattr(principal, "role", None)
    if role in CITY_WIDE:
        return "true", []
    if role in ("executor", "manager"):
        ids = [int(i) for i in (principal.executor_ids or ())]
        if not ids:
            return "false", []
        return f"{alias}.executor_id = ANY(%s)", [ids]
    if role == "deputy":
        if principal.ward_number is None:
            return "false", []
        return (
            f"{alias}.ward_id IN (SELECT w.id FROM wards w WHERE w.number = %s)",
            [int(principal.ward_number)],
        )
    if role == "citizen" and principal.user_id is not None:
        return (
            f"EXISTS (SELECT 1 FROM appeal_authors au WHERE au.appeal_id = {alias}.id"
            " AND au.user_id = %s)",
            [int(principal.user_id)],
        )
    return "false", []


# The organisation and all its sub-organisations, for building Principal.executor_ids.
EXECUTOR_SUBTREE_SQL = """
WITH RECURSIVE tree(id, depth) AS (
    SELECT id, 0 FROM executors WHERE id = %s
    UNION
    SELECT e.id, t.depth + 1 FROM executors e JOIN tree t ON e.parent_id = t.id
    WHERE t.depth < 16
)
SELECT id FROM tree ORDER BY depth, id
"""


async def executor_subtree(conn, executor_id: int | None) -> tuple[int, ...]:
    """The organisation followed by its whole subtree (async psycopg connection)."""
    if executor_id is None:
        return ()
    cur = await conn.execute(EXECUTOR_SUBTREE_SQL, (executor_id,))
    return tuple(r[0] for r in await cur.fetchall())
