"""The author's links: the pages a notification sends the author of an appeal to, signed so that
whoever holds the mail (or the SMS) acts as the author of that one appeal without an account.

    links = await author_links(conn, settings, appeal_id=7, number="М-50202")
    links["card"]         # https://…/a/%D0%9C-50202?t=TOKEN           the appeal's page
                          #   (…&lang=en when the author's language is English)
    links["confirm"]      # …/a/%D0%9C-50202?t=TOKEN#confirm            the same, at "Підтверджую"
    links["reject"]       # …/a/%D0%9C-50202?t=TOKEN#reject             the same, at "Не виконано"
    links["unsubscribe"]  # …/a/%D0%9C-50202/unsubscribe?t=TOKEN        one button: no more messages
    appeal_id = await verify(conn, "М-50202", token)                   # None when not valid

**The token** is HMAC-SHA256 over f"author:{appeal_id}" with the key of `service_keys` row
'author' (migration 0012: 32 random bytes made once in the database, so every machine of the
service signs and checks alike), in base64url, its first 32 characters (192 bits). It names
the appeal, not the number, and is checked with `hmac.compare_digest`. It never expires: an
answer's links must work until the appeal closes, and afterwards they only show the card.
The key is read once per process (per database) and kept.

What the token allows is narrow (api/policy.py `author_by_token`, gis/scope.py
`AuthorByToken`): to see the appeal's public card and answer, to confirm or reject the answer
as its author (gis/lifecycle.author_action's rules for the role 'author'), and to unsubscribe
from its notifications. Nothing else: no personal data, no other appeal.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
from typing import Any
from urllib.parse import quote

from gis import clock
from gis.errors import Forbidden, InvalidInput, NotFound
from gis.jsonable import iso
from gis.scope import AuthorByToken

KEY_NAME = "author"
TOKEN_LENGTH = 32  # characters of base64url: 192 bits of the 256

_keys: dict[str, bytes] = {}  # per database (host, port, name), read once


def forget() -> None:
    """Drop the cached keys (a test that makes a database anew under the same name)."""
    _keys.clear()


def _cache_key(conn) -> str:
    info = conn.info
    return f"{info.host}:{info.port}/{info.dbname}"


async def _key(conn) -> bytes:
    cache = _cache_key(conn)
    key = _keys.get(cache)
    if key is None:
        cur = await conn.execute("SELECT key FROM service_keys WHERE name = %s", (KEY_NAME,))
        row = await cur.fetchone()
        if row is None:  # migration 0012 makes it: a database without it is not migrated
            raise RuntimeError("service_keys has no 'author' key (run the migrations)")
        key = bytes(row[0] if not isinstance(row, dict) else row["key"])
        _keys[cache] = key
    return key


def sign(key: bytes, appeal_id: int) -> str:
    digest = hmac.new(key, f"author:{appeal_id}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode("ascii")[:TOKEN_LENGTH]


async def token(conn, appeal_id: int) -> str:
    return sign(await _key(conn), appeal_id)


def card_path(number: str) -> str:
    """The author's page of an appeal, root-relative (api/routers/portal.py `portal_author`)."""
    return f"/a/{quote(number, safe='')}"


async def author_links(conn, settings, appeal_id: int, number: str) -> dict[str, str]:
    """Absolute links (settings.public_base_url) to the author's pages of the appeal."""
    base = str(settings.public_base_url).rstrip("/")
    signed = await token(conn, appeal_id)
    # The pages open in the author's language (the portal keeps a ?lang= for its other pages).
    cur = await conn.execute(
        "SELECT language FROM appeal_authors WHERE appeal_id = %s", (appeal_id,)
    )
    row = await cur.fetchone()
    language = None if row is None else (row[0] if not isinstance(row, dict) else row["language"])
    query = f"t={signed}" + ("&lang=en" if language == "en" else "")
    card = f"{base}{card_path(number)}?{query}"
    return {
        "card": card,
        "confirm": f"{card}#confirm",
        "reject": f"{card}#reject",
        "unsubscribe": f"{base}{card_path(number)}/unsubscribe?{query}",
    }


async def verify(conn, number: str, token: str) -> int | None:
    """The appeal's id when `token` is its author's token, else None (no such appeal too)."""
    if not isinstance(token, str) or len(token) != TOKEN_LENGTH or not token.isascii():
        return None
    cur = await conn.execute("SELECT id FROM appeals WHERE number = %s", (number,))
    row = await cur.fetchone()
    if row is None:
        return None
    appeal_id = int(row[0] if not isinstance(row, dict) else row["id"])
    expected = sign(await _key(conn), appeal_id)
    return appeal_id if hmac.compare_digest(expected, token) else None


async def unsubscribe(conn, appeal_id: int, number: str) -> dt.datetime:
    """Stop every notification of the appeal to its author: when they unsubscribed (the first
    time's moment kept on a second click). NotFound when the appeal has no author's row (an
    imported appeal)."""
    cur = await conn.execute(
        "UPDATE appeal_authors SET unsubscribed_at = coalesce(unsubscribed_at, %s)"
        " WHERE appeal_id = %s RETURNING unsubscribed_at",
        (clock.now(), appeal_id),
    )
    row = await cur.fetchone()
    if row is None:
        raise NotFound("appeal_not_found", number=number)
    return row[0] if not isinstance(row, dict) else row["unsubscribed_at"]


# --- what the link's holder does (api/routers/author.py) ---------------------------------------

ACTIONS = ("confirm", "reject", "unsubscribe")
COMMENT_MAX = 2000


async def principal(conn, number: str, body: dict[str, Any]) -> AuthorByToken:
    """The author of appeal `number` by the token of `body`; Forbidden for a missing, wrong
    or another appeal's token (the same answer for an unknown number)."""
    signed = body.get("token")
    if signed is None or signed == "":
        raise InvalidInput("field_required", parameter="token")
    appeal_id = await verify(conn, number, signed) if isinstance(signed, str) else None
    if appeal_id is None:
        raise Forbidden("author_link_invalid", number=number)
    return AuthorByToken(appeal_id)


async def act(conn, settings, number: str, action: str, body: dict[str, Any]) -> dict:
    """confirm or reject the answer {token, comment?} as the appeal's author, by the rules of
    gis/lifecycle (on_check only: else 409 as it answers); a rejection says why (comment)."""
    if action not in ("confirm", "reject"):
        raise ValueError(action)
    author = await principal(conn, number, body)
    comment = body.get("comment")
    if action == "reject" and (not isinstance(comment, str) or not comment.strip()):
        raise InvalidInput("author_comment_required", parameter="comment")
    payload = {} if comment is None else {"comment": comment}
    # Imported here: gis/lifecycle → gis/notify → this module (the links of its messages).
    from gis import lifecycle

    return await lifecycle.author_action(conn, author, number, action, payload, settings)


async def unsubscribe_by_token(conn, number: str, body: dict[str, Any]) -> dict:
    """{token}: no more notifications of this appeal to its author."""
    author = await principal(conn, number, body)
    at = await unsubscribe(conn, author.appeal_id, number)
    return {"number": number, "unsubscribed": True, "unsubscribed_at": iso(at)}


async def page_state(conn, number: str, token: str | None) -> dict:
    """What an author's page needs beyond the public card: whether the appeal exists, whether
    the token is its author's, and whether the author has unsubscribed."""
    cur = await conn.execute(
        "SELECT a.id, au.unsubscribed_at, au.appeal_id IS NOT NULL AS has_author"
        " FROM appeals a"
        " LEFT JOIN appeal_authors au ON au.appeal_id = a.id WHERE a.number = %s",
        (number,),
    )
    row = await cur.fetchone()
    if row is None:
        return {"found": False, "valid": False, "unsubscribed": False}
    appeal_id, unsubscribed_at, has_author = (
        (row["id"], row["unsubscribed_at"], row["has_author"]) if isinstance(row, dict) else row
    )
    valid = bool(token) and await verify(conn, number, token or "") == appeal_id
    return {"found": True, "valid": valid, "has_author": has_author,
            "unsubscribed": valid and unsubscribed_at is not None}  # fmt: skip
