"""The client applications of the Open311 GeoReport v2 API and their keys, the calls made with
them, and the tokens of their requests — no HTTP (api/routers/open311_keys.py is the
administrator's API, `hromada open311 key …` the command, api/routers/open311_post.py the
Open311 routes that file requests).

- **A key per application.** `create_client()` makes a random key (32 bytes, URL-safe base64)
  and returns it this once; only its SHA-256 is stored, so a database dump gives nobody a
  key. Names are unique. `revoke()` marks the key revoked (the row stays: the appeals the
  application filed still name it). Creating and revoking are in the administrator's audit
  trail (gis/audit.py), never the key.
- **A call.** `authenticate()` finds the application of a key and marks it used now: a
  missing key is 400 (`open311_key_required`), an unknown or revoked one 403
  (`open311_key_invalid`). `log_call()` records each call made with a key (method, path, the
  answer's status); the retention purge drops them after 90 days (gis/accounts.py).
- **Tokens.** Each request filed gets a token (`new_token()`); `token_request()` resolves it to
  the request's number (GeoReport v2 `tokens/{token}`).
"""

from __future__ import annotations

import hashlib
import secrets
from typing import Any

from psycopg.rows import dict_row

from gis.audit import record_directory_change
from gis.errors import Conflict, Forbidden, InvalidInput, NotFound
from gis.jsonable import iso
from gis.scope import council_of, council_scope

NAME_MAX = 100
KEY_BYTES = 32
TOKEN_BYTES = 16
TOKEN_MAX = 64
CALLS_KEPT_DAYS = 90  # gis/accounts.purge_expired


def key_hash(key: str) -> str:
    """The SHA-256 (hex) under which a key is stored.

    >>> key_hash("abc")[:16]
    'ba7816bf8f01cfea'
    """
    return hashlib.sha256(key.encode()).hexdigest()


def _name(name: object) -> str:
    if not isinstance(name, str) or not " ".join(name.split()):
        raise InvalidInput("open311_client_name_required", parameter="name")
    name = " ".join(name.split())
    if len(name) > NAME_MAX:
        raise InvalidInput("field_too_long", parameter="name", max=NAME_MAX)
    return name


_LIST_SQL = """
SELECT c.id, c.name, c.created_at, c.revoked_at, c.last_used_at,
       u.full_name AS created_by,
       (SELECT count(*) FROM open311_calls k
         WHERE k.client_id = c.id AND k.at > now() - interval '30 days') AS calls_30d
  FROM open311_clients c LEFT JOIN users u ON u.id = c.created_by
"""


def _scope(principal: Any) -> tuple[str, list[Any]]:
    """The keys an administrator manages (issue 17): a council's administrator its council's,
    an oblast administrator every key (oblast-wide ones, council_id NULL, included); None is
    the command line (`hromada open311 key`), which manages every key."""
    if principal is None:
        return "true", []
    return council_scope(principal, "c")


def _out(row: dict) -> dict:
    return {
        "id": row["id"], "name": row["name"], "created_at": iso(row["created_at"]),
        "created_by": row["created_by"], "last_used_at": iso(row["last_used_at"]),
        "revoked_at": iso(row["revoked_at"]), "revoked": row["revoked_at"] is not None,
        "calls_30d": row["calls_30d"],
    }  # fmt: skip


async def list_clients(conn, principal: Any = None) -> list[dict]:
    """Every application (of the administrator's councils): the active ones first, then by
    name."""
    scope_sql, scope_params = _scope(principal)
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(
            _LIST_SQL + f" WHERE {scope_sql}"
            " ORDER BY c.revoked_at IS NOT NULL, lower(c.name), c.id",
            scope_params,
        )
        return [_out(r) for r in await cur.fetchall()]


async def get_client(conn, client_id: int, principal: Any = None) -> dict:
    scope_sql, scope_params = _scope(principal)
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(
            _LIST_SQL + f" WHERE c.id = %s AND {scope_sql}", (client_id, *scope_params)
        )
        row = await cur.fetchone()
    if row is None:
        raise NotFound("open311_client_not_found", id=client_id)
    return _out(row)


async def create_client(conn, name: str, *, actor: Any = None) -> dict:
    """A new application with a new key: the answer holds the key (`key`) this once. It
    belongs to the council of the administrator (`actor`) creating it; an oblast
    administrator's or the command line's key is oblast-wide (council_id NULL)."""
    name = _name(name)
    key = secrets.token_urlsafe(KEY_BYTES)
    council_id = council_of(actor) if actor is not None else None
    async with conn.transaction():
        async with conn.cursor() as cur:
            await cur.execute(
                "INSERT INTO open311_clients (name, key_sha256, created_by, council_id)"
                " VALUES (%s, %s, %s, %s) ON CONFLICT (name) DO NOTHING RETURNING id",
                (name, key_hash(key), getattr(actor, "user_id", None), council_id),
            )
            row = await cur.fetchone()
        if row is None:
            raise Conflict("open311_client_exists", parameter="name", name=name)
        out = await get_client(conn, row[0], actor)
        await record_directory_change(conn, table="open311_clients", row_id=row[0], actor=actor,
                                      action="created", old=None, new={"name": name})  # fmt: skip
    return {**out, "key": key}


async def revoke(conn, *, client_id: int | None = None, name: str | None = None,
                 actor: Any = None) -> dict:  # fmt: skip
    """Revoke an application's key, found by id or by name; revoking it again changes
    nothing. Only a key of the administrator's (`actor`'s) councils: another is 404."""
    scope_sql, scope_params = _scope(actor)
    async with conn.transaction():
        async with conn.cursor() as cur:
            if client_id is not None:
                await cur.execute(
                    f"SELECT id, revoked_at FROM open311_clients c WHERE id = %s AND {scope_sql}"
                    " FOR UPDATE",
                    (client_id, *scope_params),
                )
            else:
                await cur.execute(
                    "SELECT id, revoked_at FROM open311_clients c WHERE name = %s"
                    f" AND {scope_sql} FOR UPDATE",
                    (_name(name), *scope_params),
                )
            row = await cur.fetchone()
            if row is None:
                if client_id is not None:
                    raise NotFound("open311_client_not_found", id=client_id)
                raise NotFound("open311_client_name_not_found", name=_name(name))
            found_id, revoked_at = row
            if revoked_at is None:
                await cur.execute(
                    "UPDATE open311_clients SET revoked_at = now() WHERE id = %s", (found_id,)
                )
                await record_directory_change(conn, table="open311_clients", row_id=found_id,
                                              actor=actor, action="revoked",
                                              old={"revoked": False},
                                              new={"revoked": True})  # fmt: skip
        return await get_client(conn, found_id, actor)


async def authenticate(conn, key: object) -> dict:
    """The application of an active key, marked used now: {id, name}. A missing key is
    InvalidInput, an unknown or revoked one Forbidden."""
    if not isinstance(key, str) or not key.strip():
        raise InvalidInput("open311_key_required", parameter="api_key")
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(
            "UPDATE open311_clients SET last_used_at = now()"
            " WHERE key_sha256 = %s AND revoked_at IS NULL RETURNING id, name",
            (key_hash(key.strip()),),
        )
        row = await cur.fetchone()
    if row is None:
        raise Forbidden("open311_key_invalid", parameter="api_key")
    return dict(row)


async def log_call(conn, client_id: int, *, method: str, path: str, status: int) -> None:
    """One call made with the application's key, and the status it was answered."""
    await conn.execute(
        "INSERT INTO open311_calls (client_id, method, path, status) VALUES (%s, %s, %s, %s)",
        (client_id, method[:8], path[:500], status),
    )


async def calls(conn, client_id: int, *, limit: int = 100) -> list[dict]:
    """The application's latest calls, newest first."""
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(
            "SELECT at, method, path, status FROM open311_calls WHERE client_id = %s"
            " ORDER BY at DESC, id DESC LIMIT %s",
            (client_id, limit),
        )
        return [{**r, "at": iso(r["at"])} for r in await cur.fetchall()]


async def new_token(conn, *, appeal_id: int, client_id: int) -> str:
    """A token for the request just filed (in the caller's transaction)."""
    token = secrets.token_urlsafe(TOKEN_BYTES)
    await conn.execute(
        "INSERT INTO open311_tokens (token, appeal_id, client_id) VALUES (%s, %s, %s)",
        (token, appeal_id, client_id),
    )
    return token


async def new_token_for(conn, *, number: str, client_id: int) -> str:
    """new_token() for the appeal of this number (in the caller's transaction)."""
    async with conn.cursor() as cur:
        await cur.execute("SELECT id FROM appeals WHERE number = %s", (number,))
        row = await cur.fetchone()
    if row is None:
        raise NotFound("appeal_not_found", number=number)
    return await new_token(conn, appeal_id=row[0], client_id=client_id)


async def token_of(conn, appeal_id: int) -> str | None:
    """The token given with an appeal's request, if it was filed through Open311."""
    async with conn.cursor() as cur:
        await cur.execute(
            "SELECT token FROM open311_tokens WHERE appeal_id = %s ORDER BY created_at LIMIT 1",
            (appeal_id,),
        )
        row = await cur.fetchone()
    return row[0] if row else None


async def token_request(conn, token: str) -> dict:
    """{token, service_request_id}: the request a token was given with."""
    if not token or len(token) > TOKEN_MAX:
        raise NotFound("open311_token_not_found", token=token[:TOKEN_MAX])
    async with conn.cursor() as cur:
        await cur.execute(
            "SELECT a.number FROM open311_tokens t JOIN appeals a ON a.id = t.appeal_id"
            " WHERE t.token = %s",
            (token,),
        )
        row = await cur.fetchone()
    if row is None:
        raise NotFound("open311_token_not_found", token=token)
    return {"token": token, "service_request_id": row[0]}


def channel_label(channel: str, client_name: str | None) -> str | None:
    """How the portal names an Open311 appeal's channel: «Open311: NAME» (None: another
    channel, named by the portal's own list).

    >>> channel_label("open311", "FixMyStreet Київ"), channel_label("site", None)
    ('Open311: FixMyStreet Київ', None)
    """
    if channel != "open311":
        return None
    return f"Open311: {client_name}" if client_name else "Open311"
