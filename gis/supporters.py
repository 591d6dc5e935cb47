"""Supporting an open appeal instead of filing a duplicate (`POST /api/v1/appeals/{n}/support`).

- A signed-in citizen supports it themself, once per account (no body).
- The contact centre (an operator, or a curator) records that a CALLER supports it: the body
  names the caller {phone?, email?, full_name?, channel?}, a phone or an e-mail at least; the
  same phone (its digits, "+380 44 …" and "044 …" alike) or e-mail (any case) supports an
  appeal once (migration 0011's unique indexes), else 409 appeal_already_supported.

The caller's phone, e-mail and name are personal data: they stay in appeal_supporters (read by
staff only; the e-mail is told when the appeal closes, gis/notify.py). The appeal's
history records only the change of support_count, never who supported it.
"""

from __future__ import annotations

import re
from typing import Any

from psycopg import errors as pg_errors

from gis.errors import Conflict, InvalidInput
from gis.intake import MAX_FIELD
from gis.lifecycle import lock_appeal, refuse, write_event
from gis.models import CHANNELS
from gis.values import check_string

STAFF = ("operator", "curator")  # who may record a caller's support
DEFAULT_CHANNEL = "phone_1551"  # the contact centre's usual channel
CITIZEN_CHANNEL = "site"

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_PHONE_CHARS = re.compile(r"^\+?[\d\s()\-]+$")
_NAME_ALLOWED = re.compile(r"^[\u0400-\u04ff\u0500-\u052f'’ʼ\-.() ]+$")
_CYRILLIC_LETTER = re.compile(r"[\u0400-\u04ff]")


class _Everyone:
    role = "admin"  # support reaches any appeal by number (as the public view does)
    every_council = True  # … of any council (gis/scope.council_scope)


def _field(body: dict, name: str) -> str | None:
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidInput("invalid_field", parameter=name)
    value = " ".join(check_string(value, name).split())
    if len(value) > MAX_FIELD:
        raise InvalidInput("field_too_long", parameter=name, max=MAX_FIELD)
    return value or None


def normal_phone(phone: str) -> str:
    """The phone as +<digits>, a Ukrainian number written nationally (0XX…) in full:
    "044 123-45-67" and "+380 (44) 123 45 67" are both "+380441234567"."""
    digits = re.sub(r"\D", "", phone)
    if len(digits) == 10 and digits.startswith("0"):
        digits = "38" + digits
    return "+" + digits


def check_caller(body: dict[str, Any]) -> dict[str, str | None]:
    """The caller's {phone, email, full_name, channel} cleaned, or the first rule it breaks."""
    phone, email = _field(body, "phone"), _field(body, "email")
    name, channel = _field(body, "full_name"), _field(body, "channel") or DEFAULT_CHANNEL
    if not phone and not email:
        raise InvalidInput("supporter_contact_required", parameter="phone")
    if phone:
        digits = re.sub(r"\D", "", phone)
        if not _PHONE_CHARS.match(phone) or not 10 <= len(digits) <= 15:
            raise InvalidInput("invalid_phone", parameter="phone", value=phone)
        phone = normal_phone(phone)
    if email:
        if not _EMAIL.match(email):
            raise InvalidInput("invalid_email", parameter="email", value=email)
        email = email.lower()
    if name and (not _NAME_ALLOWED.match(name) or not _CYRILLIC_LETTER.search(name)):
        raise InvalidInput("author_name_invalid", parameter="full_name")
    if channel not in CHANNELS or channel == CITIZEN_CHANNEL:
        raise InvalidInput("unknown_channel", parameter="channel", value=channel,
                           allowed=", ".join(c for c in CHANNELS if c != CITIZEN_CHANNEL))  # fmt: skip
    return {"phone": phone, "email": email, "full_name": name, "channel": channel}


async def support(conn, principal, number: str, body: dict[str, Any] | None = None) -> dict:
    """Support an open appeal: a citizen for themself (the body is ignored), the contact
    centre for a caller named in the body. Closed: 409; supported before: 409."""
    by_staff = principal.role in STAFF
    caller = check_caller(body or {}) if by_staff else None
    try:
        async with conn.transaction():
            # The contact centre supports only its councils' appeals (issue 17: the lock
            # goes through appeal_scope, so another council's number is 404); a citizen
            # supports any public appeal, as they file anywhere.
            appeal = await lock_appeal(conn, principal if by_staff else _Everyone(), number)
            if appeal["status"] == "closed":
                raise refuse(number, appeal["status"], "cancel")
            if caller is None:
                cur = await conn.execute(
                    "INSERT INTO appeal_supporters (appeal_id, user_id, email, channel)"
                    " SELECT %s, id, email, %s FROM users WHERE id = %s"
                    " ON CONFLICT DO NOTHING RETURNING id",
                    (appeal["id"], CITIZEN_CHANNEL, principal.user_id),
                )
            else:
                cur = await conn.execute(
                    "INSERT INTO appeal_supporters (appeal_id, phone, email, full_name,"
                    " recorded_by, channel) VALUES (%s, %s, %s, %s, %s, %s)"
                    " ON CONFLICT DO NOTHING RETURNING id",
                    (appeal["id"], caller["phone"], caller["email"], caller["full_name"],
                     principal.user_id, caller["channel"]),
                )  # fmt: skip
            if await cur.fetchone() is None:
                raise Conflict("appeal_already_supported", number=number)
            cur = await conn.execute(
                "UPDATE appeals SET support_count = support_count + 1 WHERE id = %s"
                " RETURNING support_count",
                (appeal["id"],),
            )
            count = (await cur.fetchone())[0]
            # Only the count: who supported it (a caller's phone, e-mail, name) is never in
            # the trail, which the public history reads.
            await write_event(conn, appeal["id"], principal, "support",
                              {"support_count": count - 1}, {"support_count": count})  # fmt: skip
    except pg_errors.UniqueViolation:  # a race past ON CONFLICT: the same caller, twice at once
        raise Conflict("appeal_already_supported", number=number) from None
    return {"number": number, "support_count": count, "supported": True}
