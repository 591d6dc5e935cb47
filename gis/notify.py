"""The author's notifications: an outbox in the appeal's own transaction, delivered by jobs.

    await notify.enqueue(conn, appeal_id=7, event_id=41, kind="answered", settings=settings,
                         params={"answer": "Яму засипано"})   # inside the change's transaction

**Enqueue.** The change that causes a notification (registration in gis/intake.py, the
transitions of gis/lifecycle.py) calls `enqueue` inside its transaction: the message is
rendered there (gis/notices.py, in the author's language), one `notifications` row is written
per recipient — `ON CONFLICT (event_id, channel, recipient) DO NOTHING`, so an event never
queues the same recipient twice — and a `notify.deliver` job is deferred with the same
connection (gis/jobs.defer_in). The change, its notifications and their jobs commit or roll
back together: nothing is sent for a change that did not happen, nothing is lost for one that
did. Recipients: the author on the channel they chose (`appeal_authors.notify_channel`),
unless 'none' or unsubscribed; on closing, the supporters with an e-mail too (their language is
not known: their mail is in Ukrainian and English).

**Deliver.** `notify.deliver(notification_id)` takes the row `FOR UPDATE SKIP LOCKED` while
it is pending, sends it and marks it sent in that one transaction: a second job for the same
row (the sweeper's, a stalled job's retry) skips it while the first holds it, and finds it
sent afterwards — two workers never send one twice. A worker killed while sending loses its
transaction (the row stays pending, the lock goes with the connection) and the job runs again
when `jobs.retry_stalled` finds it: delivery is at least once; a mail re-sent after such a
crash carries the same Message-ID (`<notification-ID@domain>`) so a mail client shows it
once.

**Retries.** A failed send counts an attempt, keeps the error and waits
`notify_retry_base_seconds × 2^(attempts − 1)` (30 s, 1 min, 2 min… by default) — the row's
`next_attempt_at`, on gis/clock's time. The next try is a new job deferred, in the same
transaction, for that moment (procrastinate's `scheduled_at`, on the database's clock, which
is the queue's), rather than procrastinate's RetryStrategy: its wait is `base^(n+1)`, fixed
when the task is declared (before the settings are read) and counted per job, while ours is
the settings' formula, counted on the row — so the administrator's retry (attempts back to
0) and the sweeper start the count afresh, and what the admin page shows is what happens.
After `notify_max_attempts` the row is 'failed': listed for the administrator
(GET /api/v1/admin/notifications?status=failed), who retries it by hand.

**Sweep.** Every minute `notify.sweep` defers delivery for pending rows whose
next_attempt_at has passed and which have no job waiting or running: a safety net for a job
lost (deleted by hand, a queue restored from an older backup).

**Channels.** 'email' by SMTP (gis/mail.py); 'sms' and 'viber' are pluggable senders: a POST
of JSON {to, text, id} to settings.sms_gateway_url / viber_gateway_url with
`Authorization: Bearer <token>`, within settings.gateway_timeout; any answer but 2xx is a
failure. A channel whose gateway is not configured is not offered (`offered_channels`) and
an author who chose it gets e-mail, if they gave an address.
"""

from __future__ import annotations

import datetime as dt
import logging
from email.utils import parseaddr
from typing import Any

import httpx
from psycopg.rows import dict_row

from gis import clock, notices
from gis.author_links import author_links
from gis.errors import NotFound
from gis.jobs import connect, defer_in, tasks
from gis.jobs import settings as worker_settings
from gis.jsonable import iso
from gis.models import result_en
from gis.scope import council_scope
from gis.settings import Settings

log = logging.getLogger("hromada.notify")

TASK = "notify.deliver"
QUEUE = "notify"
# What the author hears of; supporters hear of 'closed' only.
KINDS = ("registered", "answered", "rework", "redirected", "extended", "closed")
CHANNELS = ("email", "sms", "viber")
LANGUAGES = ("uk", "en")
STATUSES = ("pending", "sent", "failed")
SMS_MAX = 480  # an SMS or Viber text: the subject, the card's link (a few SMS parts at most)


class SendError(Exception):
    """One delivery failed (the server refused, timed out, or the gateway said no)."""


def _conf(settings: Settings | None) -> Settings:
    if settings is not None:
        return settings
    try:
        return worker_settings()
    except RuntimeError:
        from gis.settings import get_settings

        return get_settings()


# --- channels --------------------------------------------------------------------------------


def _gateway(settings: Settings, channel: str) -> tuple[str, str] | None:
    """(url, token) of the channel's HTTP gateway, or None when it is not configured."""
    if channel == "sms" and settings.sms_gateway_url:
        token = settings.sms_gateway_token
        return settings.sms_gateway_url, token.get_secret_value() if token else ""
    if channel == "viber" and settings.viber_gateway_url:
        token = settings.viber_gateway_token
        return settings.viber_gateway_url, token.get_secret_value() if token else ""
    return None


def offered_channels(settings: Settings) -> list[str]:
    """The channels an author may choose here: e-mail, and SMS/Viber when a gateway is set."""
    return ["email", *(c for c in ("sms", "viber") if _gateway(settings, c))]


def route(settings: Settings, wanted: str | None, email: str | None,
          phone: str | None) -> tuple[str, str] | None:  # fmt: skip
    """(channel, recipient) for an author who wants `wanted`: SMS/Viber to the phone when its
    gateway is configured, else e-mail when there is an address (and, for an author who gave
    only a phone, SMS when that is offered); None when nothing reaches them."""
    email = (email or "").strip().lower() or None  # as the supporters' (one mail per address)
    phone = e164(phone)
    if wanted == "none":
        return None
    if wanted in ("sms", "viber") and phone and _gateway(settings, wanted):
        return wanted, phone
    if email:
        return "email", email
    if phone:
        for channel in (wanted, "sms", "viber"):
            if channel in ("sms", "viber") and _gateway(settings, channel):
                return channel, phone
    return None


def e164(phone: str | None) -> str | None:
    """A phone as gateways take it: +380671234567 (a Ukrainian 0XX XXX XX XX gets +38)."""
    digits = "".join(ch for ch in phone or "" if ch.isdigit())
    if not digits:
        return None
    if len(digits) == 10 and digits.startswith("0"):
        digits = "38" + digits
    return f"+{digits}"


def mask(recipient: str) -> str:
    """A recipient as the admin list shows it: a…@…, +380…67 (personal data)."""
    value = recipient.strip()
    if "@" in value:
        return f"{value[:1]}…@…"
    digits = "".join(ch for ch in value if ch.isdigit() or ch == "+")
    if len(digits) <= 6:
        return "…" + digits[-2:]
    return f"{digits[:4]}…{digits[-2:]}"


# --- links -------------------------------------------------------------------------------------


async def links(conn, settings: Settings, appeal_id: int, number: str) -> dict[str, str]:
    """The portal pages a notification links to (never JSON), signed for the author without
    an account (gis/author_links.py): the appeal's card, where to confirm or reject an
    answer, and to unsubscribe."""
    return dict(await author_links(conn, settings, appeal_id, number))


def public_card(settings: Settings, number: str) -> str:
    """The appeal's card on the public map (webmap/static/js/map.js opens ?number=)."""
    from urllib.parse import quote

    return f"{settings.public_base_url.rstrip('/')}/?number={quote(number)}"


# --- rendering ---------------------------------------------------------------------------------


def _day(value: dt.datetime | None, lang: str) -> str:
    if value is None:
        return ""
    day = value.astimezone(clock.KYIV).date()
    return day.isoformat() if lang == "en" else day.strftime("%d.%m.%Y")


def render(kind: str, lang: str | None, facts: dict, params: dict,
           page: dict[str, str]) -> tuple[str, str]:  # fmt: skip
    """(subject, body) of one notification: the author's (lang given) or a supporter's."""
    number, shown = facts["number"], lang or "uk"
    if kind == "registered":
        return notices.registered_mail(number, _day(facts["deadline_at"], shown), page, lang)
    if kind == "answered":
        closes = facts.get("closes_at")
        return notices.answered_mail(number, params.get("answer") or "",
                                     _day(closes, shown) if closes else None, page, lang)  # fmt: skip
    if kind == "rework":
        return notices.rework_mail(number, page, lang)
    if kind == "redirected":
        return notices.redirected_mail(number, params.get("executor") or "",
                                       params.get("reason") or "", page["card"], lang)  # fmt: skip
    if kind == "extended":
        return notices.extended_mail(number, _day(params.get("until"), shown),
                                     params.get("reason") or "", page["card"], lang)  # fmt: skip
    if kind == "closed":
        result = facts["result"] or ""
        if lang is None:  # a supporter
            return notices.closed_mail(number, result, result_en(result), page["card"])
        return notices.author_closed_mail(number, result, result_en(result), page, lang)
    raise ValueError(f"unknown notification kind {kind!r}")


def short_text(subject: str, page: dict[str, str]) -> str:
    """An SMS's or a Viber message's text: the subject and the card's link."""
    return f"{subject}\n{page['card']}"[:SMS_MAX]


# --- enqueue -----------------------------------------------------------------------------------


async def _facts(conn, appeal_id: int, confirm_days: int) -> dict | None:
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(
            "SELECT a.number, coalesce(a.extended_until, a.deadline_at) AS deadline_at,"
            " a.answered_at, a.result, au.email, au.phone, au.notify_channel, au.language,"
            " au.unsubscribed_at, au.appeal_id IS NOT NULL AS has_author"
            " FROM appeals a LEFT JOIN appeal_authors au ON au.appeal_id = a.id"
            " WHERE a.id = %s",
            (appeal_id,),
        )
        row = await cur.fetchone()
    if row is not None and row["answered_at"] is not None:
        from gis.lifecycle import R_DONE_AWAITING  # only 'done' awaits the author (autoclose)

        if row["result"] == R_DONE_AWAITING:
            row["closes_at"] = row["answered_at"] + dt.timedelta(days=confirm_days)
    return row


async def _supporters(conn, appeal_id: int) -> list[str]:
    cur = await conn.execute(
        "SELECT DISTINCT lower(coalesce(s.email, u.email)) FROM appeal_supporters s"
        " LEFT JOIN users u ON u.id = s.user_id WHERE s.appeal_id = %s"
        " AND coalesce(s.email, u.email) IS NOT NULL ORDER BY 1",
        (appeal_id,),
    )
    return [r[0] for r in await cur.fetchall()]


async def _queue(conn, *, appeal_id: int, event_id: int | None, kind: str, channel: str,
                 recipient: str, lang: str, subject: str, body: str) -> int | None:  # fmt: skip
    cur = await conn.execute(
        "INSERT INTO notifications (appeal_id, event_id, kind, channel, recipient, language,"
        " subject, body, status, attempts, created_at, next_attempt_at)"
        " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, 'pending', 0, %s, %s)"
        " ON CONFLICT (event_id, channel, recipient) DO NOTHING RETURNING id",
        (appeal_id, event_id, kind, channel, recipient, lang, subject, body, clock.now(),
         clock.now()),
    )  # fmt: skip
    row = await cur.fetchone()
    if row is None:
        return None
    await defer_in(conn, TASK, {"notification_id": row[0]}, queue=QUEUE)
    return int(row[0])


async def enqueue(conn, *, appeal_id: int, event_id: int | None, kind: str,
                  settings: Settings | None = None, params: dict[str, Any] | None = None,
                  to_author: bool = True) -> dict:  # fmt: skip
    """Queue the notifications of one event, inside the caller's transaction (see the module's
    docstring): {"author": queued for the author?, "supporters": how many supporters}.
    `to_author` False: the author made the change (confirm, cancel) and is not told of it."""
    if kind not in KINDS:
        raise ValueError(f"unknown notification kind {kind!r}")
    conf = _conf(settings)
    params = params or {}
    facts = await _facts(conn, appeal_id, conf.appeal_confirm_days)
    out = {"author": False, "supporters": 0}
    if facts is None:
        return out
    page = await links(conn, conf, appeal_id, facts["number"])
    if to_author and facts["has_author"] and facts["unsubscribed_at"] is None:
        to = route(conf, facts["notify_channel"], facts["email"], facts["phone"])
        if to is not None:
            channel, recipient = to
            lang = facts["language"] if facts["language"] in LANGUAGES else "uk"
            subject, body = render(kind, lang, facts, params, page)
            if page.get("unsubscribe"):
                body = f"{body}\n{notices.unsubscribe_line(page['unsubscribe'], lang)}\n"
            if channel != "email":
                body = short_text(subject, page)
            queued = await _queue(conn, appeal_id=appeal_id, event_id=event_id, kind=kind,
                                  channel=channel, recipient=recipient, lang=lang,
                                  subject=subject, body=body)  # fmt: skip
            out["author"] = queued is not None
    if kind == "closed":
        # Supporters are not the author: the public map's card, never the signed links.
        public = {"card": public_card(conf, facts["number"])}
        subject, body = render(kind, None, facts, params, public)
        own = (facts["email"] or "").strip().lower() if facts["has_author"] else ""
        for email in await _supporters(conn, appeal_id):
            if email == own:  # the author, told as the author (or not: their own doing)
                continue
            if await _queue(conn, appeal_id=appeal_id, event_id=event_id, kind=kind,
                            channel="email", recipient=email, lang="uk", subject=subject,
                            body=body):  # fmt: skip
                out["supporters"] += 1
    return out


# --- delivery ----------------------------------------------------------------------------------


def message_id(settings: Settings, notification_id: int) -> str:
    """The Message-ID of a notification's mail: the same at every try."""
    domain = parseaddr(settings.mail_from)[1].rpartition("@")[2] or "hromada.localhost"
    return f"<notification-{notification_id}@{domain}>"


async def send(settings: Settings, row: dict) -> None:
    """Hand one notification to its channel; SendError when that fails."""
    if row["channel"] == "email":
        from gis.mail import MailError, asend_mail

        try:
            await asend_mail(settings, to=row["recipient"], subject=row["subject"],
                             body=row["body"],
                             message_id=message_id(settings, row["id"]))  # fmt: skip
        except MailError as exc:
            raise SendError(f"smtp: {exc.params.get('reason', exc.code)}") from exc
        return
    gateway = _gateway(settings, row["channel"])
    if gateway is None:
        raise SendError(f"{row['channel']}: no gateway configured")
    url, token = gateway
    payload = {"to": row["recipient"], "text": row["body"], "id": str(row["id"])}
    try:
        async with httpx.AsyncClient(timeout=settings.gateway_timeout) as client:
            answer = await client.post(url, json=payload,
                                       headers={"Authorization": f"Bearer {token}"})  # fmt: skip
    except httpx.HTTPError as exc:
        raise SendError(f"{row['channel']}: {type(exc).__name__}") from exc
    if not 200 <= answer.status_code < 300:
        raise SendError(f"{row['channel']}: HTTP {answer.status_code}")


def retry_delay(settings: Settings, attempts: int) -> float:
    """Seconds before the next try after `attempts` failed ones: base × 2^(attempts − 1)."""
    return settings.notify_retry_base_seconds * 2 ** max(attempts - 1, 0)


async def deliver_one(conn, settings: Settings, notification_id: int) -> str:
    """Send one pending notification: 'sent', 'retry' (failed, a later try is deferred),
    'failed' (the last try failed) or 'skipped' (not pending, or another worker holds it).
    `conn` is in autocommit: this opens its own transaction."""
    async with conn.transaction():
        async with conn.cursor(row_factory=dict_row) as cur:
            await cur.execute(
                "SELECT id, channel, recipient, subject, body, attempts FROM notifications"
                " WHERE id = %s AND status = 'pending' FOR UPDATE SKIP LOCKED",
                (notification_id,),
            )
            row = await cur.fetchone()
        if row is None:
            return "skipped"
        attempts = row["attempts"] + 1
        try:
            await send(settings, row)
        except SendError as exc:
            error = str(exc)[:500]
            if attempts >= settings.notify_max_attempts:
                await conn.execute(
                    "UPDATE notifications SET status = 'failed', attempts = %s, last_error = %s"
                    " WHERE id = %s",
                    (attempts, error, notification_id),
                )
                log.warning("notification %s failed for good after %d tries: %s",
                            notification_id, attempts, error)  # fmt: skip
                return "failed"
            delay = retry_delay(settings, attempts)
            await conn.execute(
                "UPDATE notifications SET attempts = %s, last_error = %s,"
                " next_attempt_at = %s WHERE id = %s",
                (attempts, error, clock.now() + dt.timedelta(seconds=delay), notification_id),
            )
            # The job waits on the queue's clock (the database's, as procrastinate's fetch), not
            # gis/clock's: a job is fetched once scheduled_at <= the database's now(), so under a
            # shifted clock clock.now() + delay would hold the retry back by the whole shift.
            cur2 = await conn.execute("SELECT now() + make_interval(secs => %s)", (delay,))
            when = (await cur2.fetchone())[0]
            await defer_in(conn, TASK, {"notification_id": notification_id}, queue=QUEUE,
                           scheduled_at=when)  # fmt: skip
            log.info("notification %s: try %d failed (%s), next in %.0f s",
                     notification_id, attempts, error, delay)  # fmt: skip
            return "retry"
        await conn.execute(
            "UPDATE notifications SET status = 'sent', attempts = %s, sent_at = %s,"
            " last_error = NULL WHERE id = %s",
            (attempts, clock.now(), notification_id),
        )
    return "sent"


@tasks.task(name=TASK, queue=QUEUE, pass_context=False)
async def deliver(notification_id: int) -> str:
    """The job: deliver one notification (deliver_one)."""
    async with connect() as conn:
        return await deliver_one(conn, worker_settings(), notification_id)


# Pending rows with no job waiting or running for them (a job in 'doing' of a dead worker is
# jobs.retry_stalled's to run again).
_LOST = (
    "SELECT n.id FROM notifications n WHERE n.status = 'pending' AND n.next_attempt_at <= %s"
    " AND NOT EXISTS (SELECT 1 FROM procrastinate_jobs j WHERE j.task_name = %s"
    " AND j.status IN ('todo', 'doing') AND j.args ->> 'notification_id' = n.id::text)"
    " ORDER BY n.id LIMIT %s FOR UPDATE OF n SKIP LOCKED"
)


async def sweep_lost(conn, *, now: dt.datetime | None = None, limit: int = 1000) -> int:
    """Defer delivery for pending notifications that are due and have no live job."""
    async with conn.transaction():
        cur = await conn.execute(_LOST, (now or clock.now(), TASK, limit))
        ids = [r[0] for r in await cur.fetchall()]
        for notification_id in ids:
            await defer_in(conn, TASK, {"notification_id": notification_id}, queue=QUEUE)
    if ids:
        log.warning("notify.sweep: %d notifications had no job; deferred again", len(ids))
    return len(ids)


@tasks.periodic(cron="* * * * *", periodic_id="notify_sweep")
@tasks.task(name="notify.sweep", queue="periodic", pass_context=False)
async def sweep(timestamp: int) -> int:
    async with connect() as conn:
        return await sweep_lost(conn)


# --- the administrator -------------------------------------------------------------------------

_ADMIN_COLUMNS = (
    "n.id, a.number, n.kind, n.channel, n.recipient, n.language, n.status, n.attempts,"
    " n.last_error, n.created_at, n.next_attempt_at, n.sent_at"
)


def _admin_row(row: dict) -> dict:
    row = {k: iso(v) for k, v in row.items()}
    row["recipient"] = mask(row["recipient"])
    return row


async def list_for_admin(
    conn, principal: Any, *, status: str, limit: int, after: int | None
) -> dict:
    """Notifications of one status by id, recipients masked: {items, next}; those of the
    appeals of the administrator's councils."""
    scope_sql, scope_params = council_scope(principal, "a")
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(
            f"SELECT {_ADMIN_COLUMNS} FROM notifications n JOIN appeals a ON a.id = n.appeal_id"
            f" WHERE n.status = %s AND (%s::bigint IS NULL OR n.id > %s) AND {scope_sql}"
            " ORDER BY n.id LIMIT %s",
            (status, after, after, *scope_params, limit + 1),
        )
        rows = [_admin_row(r) for r in await cur.fetchall()]
    more = len(rows) > limit
    rows = rows[:limit]
    return {"items": rows, "next": str(rows[-1]["id"]) if more else None}


async def retry(conn, principal: Any, notification_id: int) -> dict:
    """The administrator's retry: a failed (or pending) notification is pending again with
    its count from zero, and a job is deferred; a sent one is left as it is. Another
    council's notification: 404."""
    scope_sql, scope_params = council_scope(principal, "a")
    async with conn.transaction():
        cur = await conn.execute(
            "UPDATE notifications n SET status = 'pending', attempts = 0, next_attempt_at = %s"
            " WHERE n.id = %s AND n.status <> 'sent' AND EXISTS (SELECT 1 FROM appeals a"
            f" WHERE a.id = n.appeal_id AND {scope_sql}) RETURNING n.id",
            (clock.now(), notification_id, *scope_params),
        )
        if await cur.fetchone() is not None:
            await defer_in(conn, TASK, {"notification_id": notification_id}, queue=QUEUE)
        async with conn.cursor(row_factory=dict_row) as dcur:
            await dcur.execute(
                f"SELECT {_ADMIN_COLUMNS} FROM notifications n"
                f" JOIN appeals a ON a.id = n.appeal_id WHERE n.id = %s AND {scope_sql}",
                (notification_id, *scope_params),
            )
            row = await dcur.fetchone()
    if row is None:
        raise NotFound("notification_not_found", id=notification_id)
    return _admin_row(row)
