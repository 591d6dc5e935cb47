"""Accounts: passwords, sign-in, sessions, one-time e-mail tokens, export and erasure.

The domain of issue 3, with no HTTP in it: every function takes an async psycopg connection
(autocommit, as the app's pool hands them out) and keyword arguments, raises gis.errors, and
returns plain values. The routers (api/routers/auth.py, api/routers/me.py) only translate.

Secrets never stored in clear and never logged: passwords are argon2id hashes; session and
one-time tokens are random (`secrets.token_urlsafe(32)`, 256 bits) and only their SHA-256 is
kept, so a copy of the database does not let anyone sign in.

Retention (gis/settings.py): a cookie session lives `session_ttl_hours`, an API token
`bearer_ttl_days`, a confirmation link `confirm_token_ttl_hours`, a reset link
`reset_token_ttl_minutes`; `purge_expired` deletes what has run out, and anonymises the authors
of appeals closed more than `personal_data_retention_days` ago.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import logging
import secrets
from dataclasses import dataclass
from typing import NamedTuple, Protocol, runtime_checkable

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from psycopg import AsyncConnection
from psycopg.errors import UniqueViolation
from psycopg.rows import dict_row

from gis.errors import (
    Conflict,
    Forbidden,
    InvalidInput,
    NotAuthenticated,
    NotFound,
    RateLimited,
)
from gis.jsonable import iso
from gis.models import ROLES
from gis.scope import OBLAST_ROLES

log = logging.getLogger("hromada.accounts")

PASSWORD_MIN_LENGTH = 10
PASSWORD_MAX_LENGTH = 256  # argon2 takes any length; a bound keeps a request from costing much
EMAIL_MAX_LENGTH = 254
NAME_MAX_LENGTH = 200
ANONYMISED = "Анонімізовано"
SESSION_KINDS = ("cookie", "bearer")
TOKEN_PURPOSES = ("confirm_email", "reset_password")
# last_used_at is written at most this often, so that reads do not turn into writes.
TOUCH_INTERVAL = dt.timedelta(minutes=1)
# A presented token longer than this is not one of ours: refused before hashing.
MAX_TOKEN_LENGTH = 128

# argon2id with the library's defaults (RFC 9106 low-memory profile). When they change,
# `needs_rehash` notices and the next successful sign-in stores a new hash.
_hasher = PasswordHasher()
# Verified against for unknown e-mails and erased accounts, so those take as long as a real
# wrong password and the timing does not tell which accounts exist.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


# --- passwords ------------------------------------------------------------------------------


def check_password_rules(password: str, *, email: str | None = None) -> None:
    """At least PASSWORD_MIN_LENGTH characters, not absurdly long, not the e-mail itself."""
    if not isinstance(password, str) or len(password) < PASSWORD_MIN_LENGTH:
        raise InvalidInput("password_too_short", min=PASSWORD_MIN_LENGTH)
    if len(password) > PASSWORD_MAX_LENGTH:
        raise InvalidInput("password_too_long", max=PASSWORD_MAX_LENGTH)
    if email and password.strip().lower() == email.strip().lower():
        raise InvalidInput("weak_password", min=PASSWORD_MIN_LENGTH)
    if len(set(password)) < 3:
        raise InvalidInput("weak_password", min=PASSWORD_MIN_LENGTH)


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """True when `password` matches; a missing hash is checked against a dummy (same cost)."""
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and bool(password_hash)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def normalise_email(email: str) -> str:
    """Trimmed; compared case-insensitively (the unique index is on lower(email))."""
    email = (email or "").strip()
    local, at, domain = email.rpartition("@")
    if (
        not at
        or not local
        or "." not in domain
        or domain.startswith(".")
        or domain.endswith(".")
        or len(email) > EMAIL_MAX_LENGTH
        or any(c.isspace() for c in email)
    ):
        raise InvalidInput("invalid_email", value=email[:EMAIL_MAX_LENGTH])
    return email


def _check_name(full_name: str) -> str:
    full_name = (full_name or "").strip()
    if not full_name or len(full_name) > NAME_MAX_LENGTH:
        raise InvalidInput("full_name_required", max=NAME_MAX_LENGTH)
    return full_name


def _sha256(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


# --- users ----------------------------------------------------------------------------------


async def create_user(
    conn: AsyncConnection,
    *,
    email: str,
    password: str | None,
    full_name: str,
    role: str,
    executor_id: int | None = None,
    ward_number: int | None = None,
    is_demo: bool = False,
    confirmed: bool = False,
    council_id: int | None = None,
) -> int:
    """A new account; its id. Citizens register themselves (unconfirmed until the e-mailed
    link); staff are created by an administrator, bound to an organisation (executor, manager)
    or a ward (deputy). `password` None: no password sign-in (e.g. an identity-provider user).
    Conflict('email_taken') when the address is registered already, whatever its case."""
    email = normalise_email(email)
    full_name = _check_name(full_name)
    if role not in ROLES:
        raise InvalidInput("invalid_role", value=role, allowed=", ".join(ROLES))
    if role in ("executor", "manager") and executor_id is None:
        raise InvalidInput("executor_required", role=role)
    if role == "deputy" and ward_number is None:
        raise InvalidInput("ward_required")
    password_hash = None
    if password is not None:
        check_password_rules(password, email=email)
        password_hash = hash_password(password)
    if executor_id is not None:
        cur = await conn.execute("SELECT 1 FROM executors WHERE id = %s", (executor_id,))
        if await cur.fetchone() is None:
            raise InvalidInput("unknown_executor", value=executor_id)
    council_id = await _council_of_new_user(conn, role, executor_id, council_id)
    try:
        cur = await conn.execute(
            """INSERT INTO users (email, password_hash, full_name, role, executor_id,
                                  ward_number, is_demo, email_confirmed_at, council_id)
               VALUES (%s, %s, %s, %s, %s, %s, %s, CASE WHEN %s THEN now() END, %s)
               RETURNING id""",
            [email, password_hash, full_name, role, executor_id, ward_number, is_demo]
            + [confirmed, council_id],
        )
    except UniqueViolation:
        raise Conflict("email_taken", email=email) from None
    row = await cur.fetchone()
    assert row is not None  # INSERT ... RETURNING
    (user_id,) = row
    return user_id


async def _council_of_new_user(
    conn: AsyncConnection, role: str, executor_id: int | None, council_id: int | None
) -> int | None:
    """The council a new account belongs to (issue 17): none for a citizen; the executor's for
    executors and managers (another named: `council_mismatch`); else the one named, else the
    only council; with several and none named, oblast staff (OBLAST_ROLES) belong to none and
    a deputy is refused (`council_required`)."""
    if role == "citizen":
        if council_id is not None:
            raise InvalidInput("council_mismatch")
        return None
    if council_id is not None:
        cur = await conn.execute("SELECT 1 FROM councils WHERE id = %s", (council_id,))
        if await cur.fetchone() is None:
            raise NotFound("council_not_found", council=council_id)
    if executor_id is not None:
        cur = await conn.execute("SELECT council_id FROM executors WHERE id = %s", (executor_id,))
        row = await cur.fetchone()
        assert row is not None  # checked by the caller
        if council_id is not None and council_id != row[0]:
            raise InvalidInput("council_mismatch")
        return int(row[0])
    if council_id is not None:
        return council_id
    cur = await conn.execute("SELECT min(id), count(*) FROM councils")
    row = await cur.fetchone()
    assert row is not None  # an aggregate returns one row
    if row[1] == 1:
        return int(row[0])
    if role in OBLAST_ROLES:
        return None
    if row[1] == 0:
        return None  # the users trigger takes the default (placeholder) council
    raise InvalidInput("council_required")


async def find_user_by_email(conn: AsyncConnection, email: str) -> dict | None:
    cur = conn.cursor(row_factory=dict_row)
    await cur.execute(
        "SELECT * FROM users WHERE lower(email) = lower(%s) AND erased_at IS NULL",
        ((email or "").strip(),),
    )
    return await cur.fetchone()


async def get_user(conn: AsyncConnection, user_id: int) -> dict | None:
    cur = conn.cursor(row_factory=dict_row)
    await cur.execute("SELECT * FROM users WHERE id = %s", (user_id,))
    return await cur.fetchone()


# --- sign-in throttling ------------------------------------------------------------------
#
# Wrong passwords are counted per (account, client address): from the `max_failures`-th on,
# that address must wait before its next try on that account — 1 s, then 2, 4, 8… up to
# `lockout_minutes`. Someone guessing from elsewhere never locks the owner out, and a guesser
# gets a handful of tries per address and then one per `lockout_minutes`. A right password
# clears the address's count; a day without failures forgets it. Unknown e-mails are
# counted the same way, so the answers tell nothing about which accounts exist.

FORGET_FAILURES_AFTER = dt.timedelta(days=1)


def _account_hash(email: str | None) -> str:
    return _sha256((email or "").strip().casefold())


async def check_login_wait(conn: AsyncConnection, *, email: str, address: str) -> None:
    """RateLimited('account_locked') while `address` must wait before trying `email` again."""
    cur = await conn.execute(
        """SELECT ceil(extract(epoch FROM blocked_until - now()))::int FROM login_failures
           WHERE account_hash = %s AND address = %s AND blocked_until > now()""",
        (_account_hash(email), address),
    )
    row = await cur.fetchone()
    if row is not None:
        raise RateLimited(row[0], "account_locked")


# The count after this failure (a stale one starts again), as SQL over the existing row `f`.
_NEXT_COUNT = "CASE WHEN f.last_failure_at < now() - %(forget)s THEN 1 ELSE f.failures + 1 END"
_WAIT = (
    "CASE WHEN {count} >= %(free)s THEN now() + make_interval(secs =>"
    " least(power(2, least({count} - %(free)s, 30)), %(longest)s)) END"
)


async def record_login_failure(
    conn: AsyncConnection, *, email: str, address: str, max_failures: int, lockout_minutes: int
) -> None:
    """One more wrong password for `email` from `address` (one statement: concurrent
    failures all count)."""
    await conn.execute(
        f"""INSERT INTO login_failures AS f (account_hash, address, failures, blocked_until)
            VALUES (%(account)s, %(address)s, 1, {_WAIT.format(count="1")})
            ON CONFLICT (account_hash, address) DO UPDATE SET
              failures = {_NEXT_COUNT},
              last_failure_at = now(),
              blocked_until = {_WAIT.format(count=_NEXT_COUNT)}""",
        {
            "account": _account_hash(email),
            "address": address,
            "free": max(1, max_failures),
            "longest": max(1, lockout_minutes) * 60,
            "forget": FORGET_FAILURES_AFTER,
        },
    )


async def clear_login_failures(conn: AsyncConnection, *, email: str, address: str) -> None:
    await conn.execute(
        "DELETE FROM login_failures WHERE account_hash = %s AND address = %s",
        (_account_hash(email), address),
    )


async def _throttled_check(
    conn: AsyncConnection,
    *,
    email: str,
    address: str,
    password: str,
    password_hash: str | None,
    max_failures: int,
    lockout_minutes: int,
) -> bool:
    """Whether `password` matches `password_hash` (None: an unknown account, checked against
    the dummy for the same cost), with the wait applied and the outcome counted. One attempt
    on one account from one address at a time (a transaction-scoped advisory lock, across
    workers too): a burst of parallel guesses cannot all slip past the wait, and an attempt
    that finds another under way is told to wait at once rather than queue on the lock with
    a connection of the pool held (a burst would otherwise starve every other request)."""
    async with conn.transaction():
        cur = await conn.execute(
            "SELECT pg_try_advisory_xact_lock(hashtextextended(%s, 0))",
            (f"login:{_account_hash(email)}:{address}",),
        )
        row = await cur.fetchone()
        if not (row and row[0]):
            raise RateLimited(1, "account_locked")
        await check_login_wait(conn, email=email, address=address)
        ok = verify_password(password_hash, password)
        if ok:
            await clear_login_failures(conn, email=email, address=address)
        else:
            await record_login_failure(
                conn, email=email, address=address,
                max_failures=max_failures, lockout_minutes=lockout_minutes,
            )  # fmt: skip
    return ok


async def check_user_password(
    conn: AsyncConnection,
    *,
    user: dict,
    password: str,
    address: str,
    max_failures: int = 5,
    lockout_minutes: int = 15,
    email: str | None = None,
) -> bool:
    """Verify a known user's password, throttled per (account, address): RateLimited while
    the address must wait; a wrong one counts as a failure; a right one clears the address's
    count and upgrades an old hash. `email` is the address typed (the account's own by
    default)."""
    ok = await _throttled_check(
        conn, email=user["email"] if email is None else email, address=address,
        password=password, password_hash=user.get("password_hash"),
        max_failures=max_failures, lockout_minutes=lockout_minutes,
    )  # fmt: skip
    if ok and _hasher.check_needs_rehash(user["password_hash"]):
        await conn.execute(
            "UPDATE users SET password_hash = %s WHERE id = %s",
            (hash_password(password), user["id"]),
        )
    return ok


async def authenticate(
    conn: AsyncConnection,
    *,
    email: str,
    password: str,
    demo_mode: bool,
    address: str = "unknown",
    max_failures: int = 5,
    lockout_minutes: int = 15,
) -> dict:
    """The user row for a right e-mail and password, or a refusal:
    NotAuthenticated('invalid_credentials') for an unknown e-mail or a wrong password (the
    same answer and about the same time for both); RateLimited('account_locked') while the
    client's `address` must wait after `max_failures` wrong passwords for this e-mail (see
    above); and, only once the password is right (so they tell nothing to someone without
    it), Forbidden('email_not_confirmed'), Forbidden('account_inactive'),
    Forbidden('demo_account_disabled') outside demo mode."""
    email = email if isinstance(email, str) else ""
    user = await find_user_by_email(conn, email) if email else None
    if user is None or user["password_hash"] is None:
        await _throttled_check(
            conn, email=email, address=address, password=password or "", password_hash=None,
            max_failures=max_failures, lockout_minutes=lockout_minutes,
        )  # fmt: skip
        raise NotAuthenticated("invalid_credentials")
    ok = await check_user_password(
        conn, user=user, password=password or "", address=address, email=email,
        max_failures=max_failures, lockout_minutes=lockout_minutes,
    )  # fmt: skip
    if not ok:
        raise NotAuthenticated("invalid_credentials")
    if not user["is_active"] or user["erased_at"] is not None:
        raise Forbidden("account_inactive")
    if user["is_demo"] and not demo_mode:
        raise Forbidden("demo_account_disabled")
    if user["role"] == "citizen" and user["email_confirmed_at"] is None:
        raise Forbidden("email_not_confirmed")
    return user


async def set_password(conn: AsyncConnection, *, user_id: int, password: str) -> None:
    """A new password (rules checked); every session of the user is revoked with it, and the
    waits of its sign-in failures are lifted."""
    user = await get_user(conn, user_id)
    if user is None or user["erased_at"] is not None:
        raise InvalidInput("invalid_token")
    check_password_rules(password, email=user["email"])
    new_hash = hash_password(password)
    async with conn.transaction():
        await conn.execute(
            "UPDATE users SET password_hash = %s WHERE id = %s",
            (new_hash, user_id),
        )
        await revoke_all_sessions(conn, user_id=user_id)
        await conn.execute(
            "DELETE FROM login_failures WHERE account_hash = %s", (_account_hash(user["email"]),)
        )


async def confirm_email(conn: AsyncConnection, *, user_id: int) -> None:
    await conn.execute(
        "UPDATE users SET email_confirmed_at = coalesce(email_confirmed_at, now()) WHERE id = %s",
        (user_id,),
    )


# --- sessions -------------------------------------------------------------------------------


class NewSession(NamedTuple):
    token: str  # give to the client once; only its SHA-256 is stored
    csrf_token: str | None  # cookie sessions only
    expires_at: dt.datetime
    session_id: int


@dataclass(frozen=True)
class SessionUser:
    """What a valid session resolves to: the user, their scope, and the session's CSRF token
    (api/security.py turns it into an api.policy.Principal and checks the CSRF header)."""

    user_id: int
    role: str
    email: str
    full_name: str
    executor_id: int | None
    executor_ids: tuple[int, ...]
    ward_number: int | None
    is_demo: bool
    session_id: int
    session_kind: str
    csrf_token: str | None
    expires_at: dt.datetime
    # The user's council (issue 17; gis/scope.council_scope): () for citizens and oblast staff.
    council_ids: tuple[int, ...] = ()
    oblast: bool = False  # oblast staff: no council, a role of gis/scope.OBLAST_ROLES
    every_council: bool = False  # oblast staff, or the staff of a one-council install

    def csrf_matches(self, presented: str | None) -> bool:
        if not self.csrf_token or not presented:
            return False
        return hmac.compare_digest(self.csrf_token.encode(), presented.encode())


async def create_session(
    conn: AsyncConnection,
    *,
    user_id: int,
    kind: str,
    ip: str | None,
    user_agent: str | None,
    ttl: dt.timedelta,
) -> NewSession:
    """A new session for a signed-in user: (token, csrf_token, expires_at, session_id)."""
    if kind not in SESSION_KINDS:
        raise InvalidInput("invalid_session_kind", kind=kind)
    token = secrets.token_urlsafe(32)
    csrf_token = secrets.token_urlsafe(32) if kind == "cookie" else None
    cur = await conn.execute(
        """INSERT INTO auth_sessions (token_hash, user_id, kind, csrf_token, expires_at,
                                      ip, user_agent)
           VALUES (%s, %s, %s, %s, now() + %s, %s, %s)
           RETURNING id, expires_at""",
        (_sha256(token), user_id, kind, csrf_token, ttl, ip, (user_agent or "")[:400] or None),
    )
    row = await cur.fetchone()
    assert row is not None  # INSERT ... RETURNING
    session_id, expires_at = row
    return NewSession(token, csrf_token, expires_at, session_id)


# The user's organisation first, then its sub-organisations, breadth first (executors.parent_id).
_RESOLVE_SQL = """
SELECT s.id AS session_id, s.kind, s.csrf_token, s.expires_at, s.last_used_at,
       u.id AS user_id, u.role, u.email, u.full_name, u.executor_id, u.ward_number, u.is_demo,
       CASE WHEN u.executor_id IS NULL THEN ARRAY[]::int[] ELSE ARRAY(
           WITH RECURSIVE tree(id, depth) AS (
               SELECT e.id, 0 FROM executors e WHERE e.id = u.executor_id
               UNION
               SELECT c.id, tree.depth + 1 FROM executors c JOIN tree ON c.parent_id = tree.id
           )
           SELECT id FROM tree GROUP BY id ORDER BY min(depth), id
       ) END AS executor_ids,
       u.council_id,
       (u.council_id IS NULL AND u.role = ANY(%(oblast_roles)s)) AS oblast,
       (u.council_id IS NULL AND u.role = ANY(%(oblast_roles)s)
        OR u.council_id IS NOT NULL
           AND NOT EXISTS (SELECT 1 FROM councils k WHERE k.id <> u.council_id)) AS every_council
FROM auth_sessions s
JOIN users u ON u.id = s.user_id
WHERE s.token_hash = %(token_hash)s
  AND s.revoked_at IS NULL
  AND s.expires_at > now()
  AND u.is_active AND u.erased_at IS NULL
"""


async def resolve_session(
    conn: AsyncConnection, token: str, *, kind: str | None = None, demo_mode: bool = True
) -> SessionUser | None:
    """The session a presented token belongs to, or None when it is unknown, expired, revoked,
    of another kind than `kind` (a bearer token is not accepted as a cookie and back), or of a
    demo account outside demo mode."""
    if not token or len(token) > MAX_TOKEN_LENGTH:
        return None
    cur = conn.cursor(row_factory=dict_row)
    await cur.execute(
        _RESOLVE_SQL, {"token_hash": _sha256(token), "oblast_roles": sorted(OBLAST_ROLES)}
    )
    row = await cur.fetchone()
    if row is None or (kind is not None and row["kind"] != kind):
        return None
    if row["is_demo"] and not demo_mode:
        return None
    last = row["last_used_at"]
    if last is None or dt.datetime.now(dt.UTC) - last > TOUCH_INTERVAL:
        await conn.execute(
            "UPDATE auth_sessions SET last_used_at = now() WHERE id = %s", (row["session_id"],)
        )
    return SessionUser(
        user_id=row["user_id"],
        role=row["role"],
        email=row["email"],
        full_name=row["full_name"],
        executor_id=row["executor_id"],
        executor_ids=tuple(row["executor_ids"] or ()),
        ward_number=row["ward_number"],
        is_demo=row["is_demo"],
        session_id=row["session_id"],
        session_kind=row["kind"],
        csrf_token=row["csrf_token"],
        expires_at=row["expires_at"],
        council_ids=(row["council_id"],) if row["council_id"] is not None else (),
        oblast=row["oblast"],
        every_council=row["every_council"],
    )


async def revoke_session(conn: AsyncConnection, *, session_id: int) -> None:
    await conn.execute(
        "UPDATE auth_sessions SET revoked_at = now() WHERE id = %s AND revoked_at IS NULL",
        (session_id,),
    )


async def revoke_all_sessions(conn: AsyncConnection, *, user_id: int) -> int:
    """Sign out everywhere: every open session of the user; how many there were."""
    cur = await conn.execute(
        "UPDATE auth_sessions SET revoked_at = now() WHERE user_id = %s AND revoked_at IS NULL",
        (user_id,),
    )
    return cur.rowcount


# --- one-time tokens (e-mailed links) --------------------------------------------------------


async def issue_token(
    conn: AsyncConnection, *, user_id: int, purpose: str, ttl: dt.timedelta
) -> str:
    """A single-use token for a link (confirm the e-mail, reset the password). A new reset
    token voids the user's earlier unused ones of the same purpose."""
    if purpose not in TOKEN_PURPOSES:
        raise InvalidInput("invalid_token_purpose", purpose=purpose)
    token = secrets.token_urlsafe(32)
    async with conn.transaction():
        await conn.execute(
            """UPDATE user_tokens SET used_at = now()
               WHERE user_id = %s AND purpose = %s AND used_at IS NULL""",
            (user_id, purpose),
        )
        await conn.execute(
            """INSERT INTO user_tokens (token_hash, user_id, purpose, expires_at)
               VALUES (%s, %s, %s, now() + %s)""",
            (_sha256(token), user_id, purpose, ttl),
        )
    return token


async def consume_token(conn: AsyncConnection, *, token: str, purpose: str) -> int:
    """The user id a valid token was issued to; the token is spent (one statement, so two
    concurrent uses cannot both succeed). InvalidInput('invalid_token') otherwise."""
    if not isinstance(token, str) or not token or len(token) > MAX_TOKEN_LENGTH:
        raise InvalidInput("invalid_token")
    cur = await conn.execute(
        """UPDATE user_tokens SET used_at = now()
           WHERE token_hash = %s AND purpose = %s AND used_at IS NULL AND expires_at > now()
           RETURNING user_id""",
        (_sha256(token), purpose),
    )
    row = await cur.fetchone()
    if row is None:
        raise InvalidInput("invalid_token")
    return row[0]


# --- the account itself ----------------------------------------------------------------------


async def get_account(conn: AsyncConnection, *, user_id: int) -> dict | None:
    """The account as its owner sees it (no hashes): with its executor's name."""
    cur = conn.cursor(row_factory=dict_row)
    await cur.execute(
        """SELECT u.id, u.email, u.full_name, u.role, u.executor_id, e.name AS executor_name,
                  u.ward_number, u.is_demo, u.email_confirmed_at, u.created_at
           FROM users u LEFT JOIN executors e ON e.id = u.executor_id
           WHERE u.id = %s AND u.erased_at IS NULL""",
        (user_id,),
    )
    return await cur.fetchone()


async def export_user_data(conn: AsyncConnection, *, user_id: int) -> dict:
    """Everything kept about the user, for them to download: the account, the appeals they
    filed with the author data kept for each, who read that data and when, their sessions (no
    tokens) and bound external identities."""
    cur = conn.cursor(row_factory=dict_row)
    await cur.execute(
        """SELECT id, email, full_name, role, executor_id, ward_number, is_active, is_demo,
                  email_confirmed_at, created_at
           FROM users WHERE id = %s""",
        (user_id,),
    )
    account = await cur.fetchone()
    await cur.execute(
        """SELECT a.id, a.number, a.kind, c.name AS category, a.text, a.address, a.channel,
                  a.status, a.result, a.is_public, a.created_at, a.deadline_at, a.closed_at,
                  ST_X(a.geom) AS lon, ST_Y(a.geom) AS lat,
                  jsonb_build_object('full_name', au.full_name, 'email', au.email,
                                     'phone', au.phone, 'postal_address', au.postal_address,
                                     'privilege', au.privilege) AS author
           FROM appeal_authors au
           JOIN appeals a ON a.id = au.appeal_id
           LEFT JOIN categories c ON c.id = a.category_id
           WHERE au.user_id = %s
           ORDER BY a.created_at, a.id""",
        (user_id,),
    )
    appeals = await cur.fetchall()
    await cur.execute(
        """SELECT a.number AS appeal, p.at, p.purpose
           FROM personal_data_access p
           JOIN appeal_authors au ON au.appeal_id = p.appeal_id
           JOIN appeals a ON a.id = p.appeal_id
           WHERE au.user_id = %s ORDER BY p.at""",
        (user_id,),
    )
    accesses = await cur.fetchall()
    await cur.execute(
        """SELECT kind, created_at, expires_at, last_used_at, revoked_at, ip, user_agent
           FROM auth_sessions WHERE user_id = %s ORDER BY created_at""",
        (user_id,),
    )
    sessions = await cur.fetchall()
    await cur.execute(
        "SELECT provider, subject, verified_at FROM user_identities WHERE user_id = %s",
        (user_id,),
    )
    identities = await cur.fetchall()

    def clean(rows):
        return [{k: iso(v) for k, v in row.items()} for row in rows]

    return {
        "account": {k: iso(v) for k, v in (account or {}).items()},
        "appeals": clean(appeals),
        "personal_data_reads": clean(accesses),
        "sessions": clean(sessions),
        "identities": clean(identities),
        "exported_at": dt.datetime.now(dt.UTC).isoformat(),
    }


async def erase_user(conn: AsyncConnection, *, user_id: int) -> None:
    """Erase the account, in one transaction: the author data of the user's appeals is
    anonymised (the appeals stay, unlinked from the account), the user row is scrubbed and
    deactivated, every session is revoked (its IP and browser forgotten), and the one-time
    tokens and external identities are deleted."""
    async with conn.transaction():
        cur = await conn.execute(
            "SELECT 1 FROM users WHERE id = %s AND erased_at IS NULL FOR UPDATE", (user_id,)
        )
        if await cur.fetchone() is None:
            return
        await conn.execute(
            """UPDATE appeal_authors SET full_name = %s, email = NULL, phone = NULL,
                                         postal_address = NULL, privilege = NULL, user_id = NULL
               WHERE user_id = %s""",
            (ANONYMISED, user_id),
        )
        await conn.execute(
            """UPDATE auth_sessions SET revoked_at = coalesce(revoked_at, now()),
                                        ip = NULL, user_agent = NULL
               WHERE user_id = %s""",
            (user_id,),
        )
        await conn.execute("DELETE FROM user_tokens WHERE user_id = %s", (user_id,))
        await conn.execute("DELETE FROM user_identities WHERE user_id = %s", (user_id,))
        await conn.execute(
            """UPDATE users SET email = 'erased-' || id || '@invalid', password_hash = NULL,
                                full_name = %s, erased_at = now(), is_active = false
               WHERE id = %s""",
            (ANONYMISED, user_id),
        )
    log.info("account %s erased", user_id)


async def purge_expired(
    conn: AsyncConnection, *, personal_data_retention_days: int, now: dt.datetime | None = None
) -> dict:
    """Apply the retention periods as of `now` (gis/clock.py; the database's time by default):
    delete sessions and one-time tokens that ran out (or were revoked/used) over a day ago and
    the log of Open311 calls past 90 days, anonymise the authors of appeals closed more than
    `personal_data_retention_days` ago (0 or less: keep them), and the addresses and texts of
    their delivered notifications. Counts of what was done."""
    at = now or (await (await conn.execute("SELECT now()")).fetchone())[0]  # type: ignore[index]
    done = {}
    cur = await conn.execute(
        """DELETE FROM auth_sessions
           WHERE coalesce(revoked_at, expires_at) < %s - interval '1 day'""",
        (at,),
    )
    done["sessions"] = cur.rowcount
    cur = await conn.execute(
        """DELETE FROM user_tokens
           WHERE coalesce(used_at, expires_at) < %s - interval '1 day'""",
        (at,),
    )
    done["tokens"] = cur.rowcount
    cur = await conn.execute(
        "DELETE FROM login_failures WHERE last_failure_at < %s - %s",
        (at, FORGET_FAILURES_AFTER),
    )
    done["login_failures"] = cur.rowcount
    # The calls made with Open311 keys (gis/open311_clients.py): kept 90 days.
    cur = await conn.execute("DELETE FROM open311_calls WHERE at < %s - interval '90 days'", (at,))
    done["open311_calls"] = cur.rowcount
    done["authors"] = 0
    done["notifications"] = 0
    if personal_data_retention_days > 0:
        cur = await conn.execute(
            """UPDATE appeal_authors au SET full_name = %s, email = NULL, phone = NULL,
                                            postal_address = NULL, privilege = NULL
               FROM appeals a
               WHERE a.id = au.appeal_id AND a.closed_at < %s - make_interval(days => %s)
                 AND au.full_name <> %s""",
            (ANONYMISED, at, personal_data_retention_days, ANONYMISED),
        )
        done["authors"] = cur.rowcount
        cur = await conn.execute(
            """DELETE FROM notifications n USING appeals a
               WHERE a.id = n.appeal_id AND a.closed_at < %s - make_interval(days => %s)""",
            (at, personal_data_retention_days),
        )
        done["notifications"] = cur.rowcount
    return done


# --- national identity providers: the seam -----------------------------------------------------


@dataclass(frozen=True)
class VerifiedIdentity:
    """What a provider vouches for after a successful sign-in with it."""

    provider: str  # e.g. 'id.gov.ua', 'bankid', 'qes'
    subject: str  # the provider's stable id of the person (never their tax number in clear)
    full_name: str
    email: str | None = None


@runtime_checkable
class IdentityProvider(Protocol):
    """A national identity provider (id.gov.ua, BankID NBU, a qualified e-signature), to be
    built later. The flow it plugs into:

    1. `GET /api/v1/auth/idp/{name}` redirects to `authorization_url(state=..., redirect_uri=...)`;
    2. the provider calls back; `verify(callback)` checks the signature/code and returns the
       VerifiedIdentity (or raises NotAuthenticated);
    3. the account is found by (provider, subject) in `user_identities` (`find_identity_user`),
       or a citizen account is created and bound (`bind_identity`), its e-mail counted as
       confirmed when the provider vouches for it; then `create_session` as for a password.
    """

    name: str

    def authorization_url(self, *, state: str, redirect_uri: str) -> str: ...

    async def verify(self, callback: dict[str, str]) -> VerifiedIdentity: ...


async def find_identity_user(conn: AsyncConnection, *, provider: str, subject: str) -> int | None:
    cur = await conn.execute(
        "SELECT user_id FROM user_identities WHERE provider = %s AND subject = %s",
        (provider, subject),
    )
    row = await cur.fetchone()
    return row[0] if row else None


async def bind_identity(conn: AsyncConnection, *, user_id: int, identity: VerifiedIdentity) -> None:
    await conn.execute(
        """INSERT INTO user_identities (provider, subject, user_id) VALUES (%s, %s, %s)
           ON CONFLICT (provider, subject) DO NOTHING""",
        (identity.provider, identity.subject, user_id),
    )
