"""The contact centre's caller: a person found by phone or e-mail among the authors of earlier
appeals, for the operator taking a call (their earlier appeals; their name, address and
privilege to confirm rather than type again). No HTTP.

This is a read of personal data: every appeal whose author is shown is logged in
personal_data_access (who, when, which appeal, purpose "caller:<purpose>"), in the same
transaction, as gis/staff_queue.py author() logs the author of one appeal. Only the
contact centre's roles (operator, curator, admin: city-wide, gis/scope.py) call it.
"""

from __future__ import annotations

import re
from typing import Any

from psycopg.rows import dict_row

from gis.errors import InvalidInput
from gis.jsonable import iso_row
from gis.scope import council_scope

PHONE_DIGITS_MIN = 5
PHONE_DIGITS_COMPARED = 9  # the subscriber's number without the country and operator prefix
LIMIT = 20

_SQL = """
SELECT a.id, a.number, a.status, a.created_at, a.deadline_at, a.address, a.privileged,
       c.name AS category, k.name AS kind, c.name_en AS category_en, k.name_en AS kind_en,
       x.full_name, x.email, x.phone, x.postal_address,
       x.privilege
  FROM appeal_authors x JOIN appeals a ON a.id = x.appeal_id
  JOIN categories c ON c.id = a.category_id LEFT JOIN categories k ON k.id = c.parent_id
 WHERE ((%(digits)s::text IS NOT NULL
        AND right(regexp_replace(x.phone, '\\D', '', 'g'), %(n)s) = %(digits)s)
    OR (%(email)s::text IS NOT NULL AND lower(x.email) = %(email)s))
   AND {council}
 ORDER BY a.created_at DESC, a.id DESC
 LIMIT %(limit)s
"""


def _query(phone: str | None, email: str | None) -> tuple[str | None, str | None]:
    digits = re.sub(r"\D", "", phone or "")
    mail = (email or "").strip().lower()
    if len(digits) < PHONE_DIGITS_MIN and "@" not in mail:
        raise InvalidInput("caller_query_required", parameter="phone")
    return (digits[-PHONE_DIGITS_COMPARED:] if len(digits) >= PHONE_DIGITS_MIN else None,
            mail if "@" in mail else None)  # fmt: skip


async def find(conn, principal: Any, *, phone: str | None = None, email: str | None = None,
               purpose: str = "intake") -> dict:  # fmt: skip
    """{caller, appeals}: the latest author data given with that phone or e-mail (name,
    e-mail, phone, postal address, privilege) and their appeals, newest first (at most
    LIMIT); each appeal shown is logged as a read of its author's data."""
    digits, mail = _query(phone, email)
    params = {"digits": digits, "n": len(digits or ""), "email": mail, "limit": LIMIT}
    # Only the appeals of the operator's councils (issue 17): another council's callers are
    # not theirs to read.
    council_sql, council_params = council_scope(principal, "a")
    if council_params:
        params["councils"] = council_params[0]
    sql = _SQL.format(council=council_sql.replace("%s", "%(councils)s"))
    async with conn.transaction():
        async with conn.cursor(row_factory=dict_row) as cur:
            await cur.execute(sql, params)
            rows = await cur.fetchall()
            if rows:
                await cur.executemany(
                    "INSERT INTO personal_data_access (user_id, appeal_id, purpose)"
                    " VALUES (%s, %s, %s)",
                    [(principal.user_id, r["id"], f"caller:{purpose}") for r in rows],
                )
    caller = None
    if rows:
        first = rows[0]
        caller = {key: first[key] for key in ("full_name", "email", "phone", "postal_address")}
        caller["privilege"] = next((r["privilege"] for r in rows if r["privilege"]), None)
    appeals = [
        iso_row({
            "number": r["number"], "status": r["status"],
            "category": r["category"], "kind": r["kind"], "category_en": r["category_en"],
            "kind_en": r["kind_en"], "created_at": r["created_at"],
            "deadline_at": r["deadline_at"], "address": r["address"],
        })
        for r in rows
    ]  # fmt: skip
    return {"caller": caller, "appeals": appeals, "returned": len(appeals)}
