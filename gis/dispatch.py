"""The daily dispatch (issue 13): the appeals of some categories in an area, sent each day at a
time of day (Kyiv) to an organisation — an e-mail address, with a CSV, XLSX or GeoJSON file
attached, or a webhook, as JSON signed with HMAC-SHA256 (the police gets Kyiv's appeals about
drug advertising every morning, as the city decided in 2017).

A subscription (table dispatch_subscriptions):
- categories: ids of sub-kinds or kinds; a kind (parent_id NULL) stands for its sub-kinds;
- an area, at most one: a district (its KATOTTH code, every version of the district counts),
  an electoral ward (its number), or a polygon drawn on the map or imported (GeoJSON, kept in
  `geom`); none: the whole community;
- a recipient, exactly one: an e-mail address, or a webhook URL (http or https) with a secret
  generated here, shown to the administrator once, that signs each delivery;
- a time of day (Kyiv) and a format (csv, xlsx, geojson).

Each day, once the subscription's time has passed in Kyiv (gis/clock.kyiv_now), the periodic
task `dispatch.run` (every 5 minutes) makes the day's batch in ONE transaction: the batch
row (unique per subscription and day, so a second worker or a second run makes none), the
items — every matching appeal not yet sent to this subscription (`INSERT … SELECT … ON
CONFLICT DO NOTHING` on the items' key (subscription, appeal): an appeal goes to a
subscription once, whatever restarts or workers), an internal event in each appeal's history
saying where it was sent (action 'dispatch', staff only), and the delivery job
(gis/jobs.defer_in). The delivery `dispatch.deliver` sends the file or the JSON; a failure
raises, so procrastinate runs it again after a growing wait; after the last attempt the
batch is 'failed', listed for the administrator, who may retry it.

Which appeals: those created before today's send time, matching the categories and the area,
not yet sent — so each morning the previous day's new ones, plus any earlier one not sent yet.
A new subscription starts from the day before it was made (created_at − 1 day): its first
file holds about one day, not the whole history.

What the files hold: number, type, category, kind, address, district, ward, status, dates,
longitude and latitude, and the text only when its author consented to publish it — read from
the view `appeal_features`, as the public feed does (gis/public_feed.py). Never the author.
"""

from __future__ import annotations

import asyncio
import csv
import datetime as dt
import hashlib
import hmac
import io
import json
import logging
import secrets
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import Any

import procrastinate
import psycopg
from procrastinate.retry import RetryDecision
from psycopg.rows import dict_row

from gis import clock, councils, jobs
from gis.accounts import normalise_email
from gis.audit import record_directory_change
from gis.errors import Conflict, InvalidInput, NotFound
from gis.jsonable import iso_row
from gis.lifecycle import write_event
from gis.scope import council_of, council_scope
from gis.texts import N_, tr

log = logging.getLogger("hromada.dispatch")

FORMATS = ("csv", "xlsx", "geojson")
NAME_MAX = 200
URL_MAX = 2000
MAX_CATEGORIES = 200
AREA_MAX_BYTES = 2_000_000  # a drawn or imported polygon, as GeoJSON text
EVENT_ACTION = "dispatch"  # gis/lifecycle.STAFF_ONLY_ACTIONS: never in the public history
FIRST_RUN_SPAN = dt.timedelta(days=1)
SIGNATURE_HEADER = "X-Hromada-Signature"


# --- subscriptions ---------------------------------------------------------------------------

_COLUMNS = """s.id, s.name, s.category_ids, s.district_code, s.ward_number,
    CASE WHEN s.geom IS NOT NULL THEN ST_AsGeoJSON(s.geom, 6)::json END AS area,
    s.recipient_email AS email, s.webhook_url, s.send_at, s.format, s.is_active, s.created_at,
    (SELECT json_build_object('id', b.id, 'day', b.day, 'status', b.status,
            'attempts', b.attempts, 'last_error', b.last_error, 'sent_at', b.sent_at,
            'appeals', (SELECT count(*) FROM dispatch_items i WHERE i.batch_id = b.id))
       FROM dispatch_batches b WHERE b.subscription_id = s.id
      ORDER BY b.day DESC, b.id DESC LIMIT 1) AS last_batch"""


# What the audit trail keeps of a subscription (gis/audit.py, as the administrator's other
# changes): the recipient by its kind only — an address may be a person's.
_AUDITED = ("name", "category_ids", "district_code", "ward_number", "send_at", "format",
            "is_active")  # fmt: skip


def _audited(sub: dict) -> dict:
    return {**{k: sub.get(k) for k in _AUDITED}, "area": sub.get("area") is not None,
            "recipient": "email" if sub.get("email") else "webhook"}  # fmt: skip


def _out(row: dict) -> dict:
    row = iso_row(row)
    send_at = row.get("send_at")
    if isinstance(send_at, dt.time):
        row["send_at"] = send_at.strftime("%H:%M")
    row["category_ids"] = list(row.get("category_ids") or [])
    return row


async def _one(conn, query: str, params) -> dict | None:
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(query, params)
        return await cur.fetchone()


def _scope(principal: Any) -> tuple[str, list[Any]]:
    """The subscriptions an administrator manages (issue 17): their councils'; None is the
    system (a job, a test's direct call), which sees every one."""
    if principal is None:
        return "true", []
    return council_scope(principal, "s")


async def list_subscriptions(conn, principal: Any) -> list[dict]:
    scope_sql, scope_params = _scope(principal)
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(
            f"SELECT {_COLUMNS} FROM dispatch_subscriptions s WHERE {scope_sql} ORDER BY s.id",
            scope_params,
        )
        return [_out(r) for r in await cur.fetchall()]


async def get_subscription(conn, subscription_id: int, principal: Any = None) -> dict:
    """One subscription of the administrator's councils (another council's: 404)."""
    scope_sql, scope_params = _scope(principal)
    row = await _one(conn, f"SELECT {_COLUMNS} FROM dispatch_subscriptions s WHERE s.id = %s"
                     f" AND {scope_sql}", (subscription_id, *scope_params))  # fmt: skip
    if row is None:
        raise NotFound("dispatch_not_found", id=subscription_id)
    return _out(row)


def _name(name: str | None) -> str:
    name = (name or "").strip()
    if not name:
        raise InvalidInput("field_required", parameter="name")
    if len(name) > NAME_MAX:
        raise InvalidInput("field_too_long", parameter="name", max=NAME_MAX)
    return name


def _send_at(value: dt.time | str | None) -> dt.time:
    if isinstance(value, dt.time):
        return value.replace(second=0, microsecond=0, tzinfo=None)
    try:
        return dt.time.fromisoformat(str(value or "").strip()).replace(second=0, microsecond=0)
    except ValueError:
        raise InvalidInput("invalid_value", parameter="send_at", value=str(value)[:20]) from None


def _format(value: str | None) -> str:
    if value not in FORMATS:
        raise InvalidInput("invalid_value", parameter="format", value=str(value)[:20])
    return value


def _webhook_url(url: str) -> str:
    url = url.strip()
    parts = urllib.parse.urlsplit(url)
    if (parts.scheme not in ("http", "https") or not parts.hostname or len(url) > URL_MAX
            or any(c.isspace() for c in url)):  # fmt: skip
        raise InvalidInput("invalid_value", parameter="webhook_url", value=url[:100])
    return url


def _recipient(email: str | None, webhook_url: str | None) -> tuple[str | None, str | None]:
    email = (email or "").strip() or None
    webhook_url = (webhook_url or "").strip() or None
    if (email is None) == (webhook_url is None):
        raise InvalidInput("dispatch_one_recipient")
    if email is not None:
        return normalise_email(email), None
    assert webhook_url is not None
    return None, _webhook_url(webhook_url)


async def _categories(conn, ids: list[int] | None) -> list[int]:
    ids = sorted(set(ids or []))
    if not ids:
        raise InvalidInput("field_required", parameter="category_ids")
    if len(ids) > MAX_CATEGORIES:
        raise InvalidInput("too_many_values", parameter="category_ids", max=MAX_CATEGORIES)
    async with conn.cursor() as cur:
        await cur.execute("SELECT id FROM categories WHERE id = ANY(%s)", (ids,))
        known = {r[0] for r in await cur.fetchall()}
    unknown = [i for i in ids if i not in known]
    if unknown:
        raise InvalidInput("unknown_category", value=unknown[0])
    return ids


def _polygon(g: Any) -> dict:
    if (not isinstance(g, dict) or g.get("type") not in ("Polygon", "MultiPolygon")
            or not isinstance(g.get("coordinates"), list)):  # fmt: skip
        raise InvalidInput("dispatch_area_invalid")
    return {"type": g["type"], "coordinates": g["coordinates"]}


def _area_geometry(area: Any) -> dict | None:
    """A GeoJSON geometry, Feature or FeatureCollection → one geometry (polygons only); what
    the polygons' coordinates hold, PostGIS checks (_area)."""
    if area is None:
        return None
    if isinstance(area, dict) and area.get("type") == "FeatureCollection":
        features = area.get("features")
        if not isinstance(features, list) or not features:
            raise InvalidInput("dispatch_area_invalid")
        polys: list = []
        for f in features:
            g = _polygon(f.get("geometry") if isinstance(f, dict) else None)
            polys.extend([g["coordinates"]] if g["type"] == "Polygon" else g["coordinates"])
        return {"type": "MultiPolygon", "coordinates": polys}
    if isinstance(area, dict) and area.get("type") == "Feature":
        return _polygon(area.get("geometry"))
    return _polygon(area)


async def _area(conn, district_code: str | None, ward_number: int | None, area: Any,
                council_id: int) -> tuple[str | None, int | None, str | None]:  # fmt: skip
    """(district code, ward number, the polygon as GeoJSON text): at most one of them."""
    district_code = (district_code or "").strip() or None
    geometry = _area_geometry(area)
    if sum(x is not None for x in (district_code, ward_number, geometry)) > 1:
        raise InvalidInput("dispatch_one_area")
    if district_code is not None and await _one(
        conn, "SELECT 1 FROM districts WHERE code = %s AND council_id = %s LIMIT 1",
        (district_code, council_id),
    ) is None:  # fmt: skip
        raise InvalidInput("unknown_district", value=district_code[:64])
    if ward_number is not None and await _one(
        conn, "SELECT 1 FROM wards WHERE number = %s AND council_id = %s LIMIT 1",
        (ward_number, council_id),
    ) is None:  # fmt: skip
        raise InvalidInput("unknown_ward", value=ward_number)
    if geometry is None:
        return district_code, ward_number, None
    text = json.dumps(geometry)
    if len(text) > AREA_MAX_BYTES:
        raise InvalidInput("dispatch_area_invalid")
    try:
        async with conn.transaction():
            row = await _one(
                conn,
                "SELECT ST_AsGeoJSON(ST_Multi(ST_CollectionExtract(ST_MakeValid("
                "ST_SetSRID(ST_GeomFromGeoJSON(%s), 4326)), 3))) AS g,"
                " ST_Area(ST_MakeValid(ST_SetSRID(ST_GeomFromGeoJSON(%s), 4326))) AS area,"
                " ST_XMin(b) >= -180 AND ST_XMax(b) <= 180 AND ST_YMin(b) >= -90"
                " AND ST_YMax(b) <= 90 AS in_range"
                " FROM (SELECT ST_GeomFromGeoJSON(%s)::box2d AS b) x",
                (text, text, text),
            )
    except psycopg.Error:  # a malformed GeoJSON: PostGIS says so
        raise InvalidInput("dispatch_area_invalid") from None
    if row is None or not row["g"] or not row["area"] or not row["in_range"]:
        raise InvalidInput("dispatch_area_invalid")
    return None, None, row["g"]


async def create_subscription(
    conn, *, name: str, category_ids: list[int], district_code: str | None = None,
    ward_number: int | None = None, area: Any = None, email: str | None = None,
    webhook_url: str | None = None, send_at: dt.time | str = "07:00", format: str = "csv",
    is_active: bool = True, council: str | None = None, actor: Any = None,
) -> dict:  # fmt: skip
    """A new subscription; with a webhook, its secret is in the answer (this once). It
    belongs to the administrator's council; an oblast administrator names one (`council`,
    slug or code; the only one when there is one), and its area must lie in it."""
    name = _name(name)
    council_id = await _council_of_new(conn, actor, council)
    categories = await _categories(conn, category_ids)
    if council_id is None:  # no council yet: the default one (made now, gis/models.py)
        default = await _one(conn, "SELECT default_council_id() AS id", ())
        assert default is not None  # a function's one row
        council_id = int(default["id"])
    district_code, ward_number, geom = await _area(conn, district_code, ward_number, area,
                                                   council_id)  # fmt: skip
    email, webhook_url = _recipient(email, webhook_url)
    secret = secrets.token_hex(32) if webhook_url else None
    async with conn.transaction():
        row = await _one(
            conn,
            "INSERT INTO dispatch_subscriptions (name, category_ids, district_code, ward_number,"
            " geom, recipient_email, webhook_url, webhook_secret, send_at, format, is_active,"
            " created_at, created_by, council_id) VALUES (%s, %s, %s, %s,"
            " ST_SetSRID(ST_GeomFromGeoJSON(%s), 4326), %s, %s, %s, %s, %s, %s, %s, %s, %s)"
            " RETURNING id",
            (name, categories, district_code, ward_number, geom, email, webhook_url, secret,
             _send_at(send_at), _format(format), is_active, clock.now(),
             getattr(actor, "user_id", None), council_id),
        )  # fmt: skip
        assert row is not None  # INSERT … RETURNING
        out = await get_subscription(conn, row["id"], actor)
        await record_directory_change(conn, table="dispatch_subscriptions", row_id=row["id"],
                                      actor=actor, action="created", old=None,
                                      new=_audited(out))  # fmt: skip
    if secret:
        out["webhook_secret"] = secret
    return out


async def _council_of_new(conn, actor: Any, council: str | None) -> int | None:
    """The council of a new subscription: the administrator's own (naming another:
    `council_mismatch`); an oblast administrator's (or the system's) choice `council`, else
    the only council, else `council_required` (None: no council exists yet)."""
    own = council_of(actor) if actor is not None else None
    if council is not None:
        chosen = (await councils.resolve(conn, council)).id
        if own is not None and chosen != own:
            raise InvalidInput("council_mismatch")
        return chosen
    if own is not None:
        return own
    only = await councils.only(conn)
    if only is not None:
        return only.id
    if await _one(conn, "SELECT 1 AS x FROM councils LIMIT 1", ()) is not None:
        raise InvalidInput("council_required")
    return None


async def update_subscription(
    conn, subscription_id: int, *, name: str | None = None, is_active: bool | None = None,
    send_at: dt.time | str | None = None, format: str | None = None, email: str | None = None,
    webhook_url: str | None = None, actor: Any = None,
) -> dict:  # fmt: skip
    """Switch on or off, another time, format or recipient (a new webhook gets a new secret,
    in the answer this once). Another council's: 404."""
    scope_sql, scope_params = _scope(actor)
    changes: dict[str, Any] = {}
    if name is not None:
        changes["name"] = _name(name)
    if is_active is not None:
        changes["is_active"] = is_active
    if send_at is not None:
        changes["send_at"] = _send_at(send_at)
    if format is not None:
        changes["format"] = _format(format)
    secret = None
    if email is not None or webhook_url is not None:
        changes["recipient_email"], changes["webhook_url"] = _recipient(email, webhook_url)
        current = await _one(conn, "SELECT webhook_url FROM dispatch_subscriptions s"
                             f" WHERE id = %s AND {scope_sql}",
                             (subscription_id, *scope_params))  # fmt: skip
        if changes["webhook_url"] is None:
            changes["webhook_secret"] = None
        elif current is None or current["webhook_url"] != changes["webhook_url"]:
            changes["webhook_secret"] = secret = secrets.token_hex(32)
    async with conn.transaction():
        found = await _one(conn, "SELECT id FROM dispatch_subscriptions s WHERE id = %s"
                           f" AND {scope_sql} FOR UPDATE",
                           (subscription_id, *scope_params))  # fmt: skip
        if found is None:
            raise NotFound("dispatch_not_found", id=subscription_id)
        before = _audited(await get_subscription(conn, subscription_id, actor))
        if changes:
            sets = ", ".join(f"{k} = %s" for k in changes)
            await conn.execute(f"UPDATE dispatch_subscriptions SET {sets} WHERE id = %s",
                               [*changes.values(), subscription_id])  # fmt: skip
        out = await get_subscription(conn, subscription_id, actor)
        after = _audited(out)
        changed = [k for k in after if after[k] != before[k]]
        if changed or secret:
            await record_directory_change(
                conn, table="dispatch_subscriptions", row_id=subscription_id, actor=actor,
                action="changed", old={k: before[k] for k in changed},
                new={**{k: after[k] for k in changed}, **({"new_secret": True} if secret else {})},
            )  # fmt: skip
    if secret:
        out["webhook_secret"] = secret
    return out


async def delete_subscription(conn, subscription_id: int, *, actor: Any = None) -> None:
    """The subscription, its batches and items go; the appeals' history keeps the events."""
    async with conn.transaction():
        gone = await get_subscription(conn, subscription_id, actor)  # NotFound
        await conn.execute("DELETE FROM dispatch_subscriptions WHERE id = %s", (subscription_id,))
        await record_directory_change(conn, table="dispatch_subscriptions", row_id=subscription_id,
                                      actor=actor, action="deleted", old=_audited(gone),
                                      new=None)  # fmt: skip


async def list_batches(conn, subscription_id: int, *, limit: int = 30,
                       principal: Any = None) -> list[dict]:  # fmt: skip
    await get_subscription(conn, subscription_id, principal)  # another council's: 404
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(
            "SELECT b.id, b.subscription_id, b.day, b.status, b.attempts, b.last_error,"
            " b.created_at, b.sent_at,"
            " (SELECT count(*) FROM dispatch_items i WHERE i.batch_id = b.id) AS appeals"
            " FROM dispatch_batches b WHERE b.subscription_id = %s"
            " ORDER BY b.day DESC, b.id DESC LIMIT %s",
            (subscription_id, limit),
        )
        return [iso_row(r) for r in await cur.fetchall()]


async def retry_batch(conn, subscription_id: int, batch_id: int, *, actor: Any = None) -> dict:
    """A failed batch is delivered again (a new job, its attempts counted on). Another
    council's: 404."""
    scope_sql, scope_params = _scope(actor)
    async with conn.transaction():
        row = await _one(
            conn,
            "SELECT b.id, b.status FROM dispatch_batches b JOIN dispatch_subscriptions s"
            " ON s.id = b.subscription_id WHERE b.id = %s AND b.subscription_id = %s"
            f" AND {scope_sql} FOR UPDATE OF b",
            (batch_id, subscription_id, *scope_params),
        )
        if row is None:
            raise NotFound("dispatch_batch_not_found", id=batch_id)
        if row["status"] != "failed":
            raise Conflict("dispatch_batch_not_failed", id=batch_id)
        await conn.execute("UPDATE dispatch_batches SET status = 'pending' WHERE id = %s",
                           (batch_id,))  # fmt: skip
        await jobs.defer_in(conn, DELIVER_TASK, {"batch_id": batch_id}, queue=QUEUE)
    batches = await list_batches(conn, subscription_id, limit=1000, principal=actor)
    return next(b for b in batches if b["id"] == batch_id)


# --- the day's batch ---------------------------------------------------------------------------

DELIVER_TASK = "dispatch.deliver"
QUEUE = "dispatch"

# The appeals of one subscription's day: created before the send time and since the
# subscription's start, in its categories (a kind: its sub-kinds too) and area (a district or
# a ward by the appeal's own column, or spatially when the appeal has none; a polygon
# spatially), not sent to it yet (ON CONFLICT: the item exists).
_ITEMS = """
INSERT INTO dispatch_items (subscription_id, appeal_id, batch_id)
SELECT s.id, a.id, %(batch)s
  FROM dispatch_subscriptions s
  JOIN appeals a ON a.created_at < %(until)s AND a.created_at >= s.created_at - %(span)s
 WHERE s.id = %(sub)s
   AND a.council_id = s.council_id
   AND a.category_id IN (SELECT c.id FROM categories c
                          WHERE c.id = ANY(s.category_ids) OR c.parent_id = ANY(s.category_ids))
   AND CASE
       WHEN s.district_code IS NOT NULL THEN
            a.district_id IN (SELECT d.id FROM districts d WHERE d.code = s.district_code)
            OR (a.district_id IS NULL AND EXISTS (
                SELECT 1 FROM districts d WHERE d.code = s.district_code AND d.valid_to IS NULL
                   AND ST_Intersects(d.geom, a.geom)))
       WHEN s.ward_number IS NOT NULL THEN
            a.ward_id IN (SELECT w.id FROM wards w WHERE w.number = s.ward_number
                            AND w.council_id = s.council_id)
            OR (a.ward_id IS NULL AND EXISTS (
                SELECT 1 FROM wards w WHERE w.number = s.ward_number AND w.valid_to IS NULL
                   AND w.council_id = s.council_id
                   AND ST_Intersects(w.geom, a.geom)))
       WHEN s.geom IS NOT NULL THEN ST_Intersects(s.geom, a.geom)
       ELSE true END
ON CONFLICT (subscription_id, appeal_id) DO NOTHING
RETURNING appeal_id
"""


def _recipient_label(row: dict) -> str:
    """Where a batch goes, as the appeal's history names it (a webhook by its host only: its
    path may carry a token)."""
    if row.get("recipient_email"):
        return str(row["recipient_email"])
    return urllib.parse.urlsplit(row.get("webhook_url") or "").hostname or "webhook"


async def run_due(conn, *, now: dt.datetime | None = None) -> list[int]:
    """Make today's batch of every active subscription whose time has passed (Kyiv) and that
    has none yet; each in one transaction with its items, its appeals' events and its
    delivery job. The batches made (a second run, or another worker, makes none)."""
    now = now or clock.now()
    local = now.astimezone(clock.KYIV)
    today = local.date()
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(
            "SELECT s.id FROM dispatch_subscriptions s WHERE s.is_active AND s.send_at <= %s"
            " AND NOT EXISTS (SELECT 1 FROM dispatch_batches b WHERE b.subscription_id = s.id"
            " AND b.day = %s) ORDER BY s.id",
            (local.time().replace(tzinfo=None), today),
        )
        due = [r["id"] for r in await cur.fetchall()]
    made = []
    for sub_id in due:
        batch = await _make_batch(conn, sub_id, today)
        if batch is not None:
            made.append(batch)
    return made


async def _make_batch(conn, sub_id: int, today: dt.date) -> int | None:
    async with conn.transaction():
        sub = await _one(
            conn,
            "SELECT id, name, recipient_email, webhook_url, send_at, is_active"
            " FROM dispatch_subscriptions WHERE id = %s FOR UPDATE",
            (sub_id,),
        )
        if sub is None or not sub["is_active"]:
            return None
        batch = await _one(
            conn,
            "INSERT INTO dispatch_batches (subscription_id, day, created_at) VALUES (%s, %s, %s)"
            " ON CONFLICT (subscription_id, day) DO NOTHING RETURNING id",
            (sub_id, today, clock.now()),
        )
        if batch is None:  # another worker made it
            return None
        until = dt.datetime.combine(today, sub["send_at"], clock.KYIV)
        async with conn.cursor() as cur:
            await cur.execute(_ITEMS, {"batch": batch["id"], "until": until, "sub": sub_id,
                                       "span": FIRST_RUN_SPAN})  # fmt: skip
            appeal_ids = [r[0] for r in await cur.fetchall()]
        to = _recipient_label(sub)
        for appeal_id in appeal_ids:
            await write_event(
                conn, appeal_id, None, EVENT_ACTION, None,
                {"subscription_id": sub_id, "batch_id": batch["id"], "day": today.isoformat(),
                 "to": to},
                comment=f"Розсилка «{sub['name']}» → {to}", internal=True,
            )  # fmt: skip
        await jobs.defer_in(conn, DELIVER_TASK, {"batch_id": batch["id"]}, queue=QUEUE)
    log.info("dispatch %s: batch %s of %s with %d appeals", sub_id, batch["id"], today,
             len(appeal_ids))  # fmt: skip
    return int(batch["id"])


# --- the files -------------------------------------------------------------------------------

# (key, Ukrainian header): the files' columns; GeoJSON and the webhook use the keys.
COLUMNS = (
    ("number", N_("Номер")),
    ("type", N_("Тип")),
    ("category", N_("Категорія")),
    ("kind", N_("Вид")),
    ("address", N_("Адреса")),
    ("district", N_("Район")),
    ("ward", N_("Округ")),
    ("status", N_("Статус")),
    ("created_at", N_("Зареєстровано")),
    ("deadline_at", N_("Строк")),
    ("closed_at", N_("Закрито")),
    ("lon", N_("Довгота")),
    ("lat", N_("Широта")),
    ("text", N_("Текст (оприлюднений)")),
)
TYPE_NAMES = {"complaint": N_("Скарга"), "thanks": N_("Подяка")}


async def batch_rows(conn, batch_id: int) -> list[dict]:
    """The batch's appeals, as the files show them: nothing of their authors (the view
    appeal_features gives the text only when its author consented to publish it)."""
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(
            "SELECT f.number, f.kind AS type, f.category, p.name AS kind, f.address, f.district,"
            " f.ward, f.status_name AS status, f.created_at, f.deadline_at, f.closed_at,"
            " ST_X(f.geom) AS lon, ST_Y(f.geom) AS lat, f.text"
            " FROM dispatch_items i JOIN appeal_features f ON f.id = i.appeal_id"
            " LEFT JOIN categories c ON c.id = f.category_id"
            " LEFT JOIN categories p ON p.id = c.parent_id"
            " WHERE i.batch_id = %s ORDER BY f.created_at, f.id",
            (batch_id,),
        )
        rows = await cur.fetchall()
    for r in rows:
        r["type"] = tr(TYPE_NAMES.get(r["type"], r["type"] or ""), "uk")
        for key in ("created_at", "deadline_at", "closed_at"):
            if r[key] is not None:
                r[key] = r[key].astimezone(clock.KYIV).replace(tzinfo=None)
        for key in ("lon", "lat"):
            if r[key] is not None:
                r[key] = round(float(r[key]), 6)
    return rows


def _cell(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    return "" if value is None else value


def to_csv(rows: list[dict]) -> bytes:
    """UTF-8 with a BOM (so Excel reads the Cyrillic), a header row, one row per appeal."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([tr(title, "uk") for _, title in COLUMNS])
    for r in rows:
        writer.writerow([_cell(r[key]) for key, _ in COLUMNS])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def to_xlsx(rows: list[dict], *, title: str = "Звернення") -> bytes:
    """One sheet: the header frozen, dates as dates, numbers as numbers."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    sheet = book.active
    sheet.title = title[:31]
    sheet.append([tr(t, "uk") for _, t in COLUMNS])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    sheet.freeze_panes = "A2"
    for r in rows:
        sheet.append([r[key] for key, _ in COLUMNS])
    date_columns = [i for i, (key, _) in enumerate(COLUMNS, 1) if key.endswith("_at")]
    for row in sheet.iter_rows(min_row=2):
        for i in date_columns:
            row[i - 1].number_format = "yyyy-mm-dd hh:mm"
    widths = {"number": 14, "category": 40, "kind": 30, "address": 40, "text": 60}
    for i, (key, _) in enumerate(COLUMNS, 1):
        sheet.column_dimensions[sheet.cell(1, i).column_letter].width = widths.get(key, 16)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def feature_collection(rows: list[dict]) -> dict:
    features = []
    for r in rows:
        props = {k: (v.isoformat(timespec="minutes") if isinstance(v, dt.datetime) else v)
                 for k, v in r.items() if k not in ("lon", "lat")}  # fmt: skip
        geometry = ({"type": "Point", "coordinates": [r["lon"], r["lat"]]}
                    if r["lon"] is not None else None)  # fmt: skip
        features.append({"type": "Feature", "geometry": geometry, "properties": props})
    return {"type": "FeatureCollection", "features": features}


def to_geojson(rows: list[dict]) -> bytes:
    return json.dumps(feature_collection(rows), ensure_ascii=False).encode("utf-8")


FILE_TYPES = {
    "csv": ("text/csv", to_csv),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", to_xlsx),
    "geojson": ("application/geo+json", to_geojson),
}


def sign(secret: str, body: bytes) -> str:
    """The webhook's signature header value: sha256=<hex HMAC-SHA256 of the raw body>."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


# --- delivery ----------------------------------------------------------------------------------


class DeliveryFailed(Exception):
    """A batch could not be delivered this time (the job runs again, later)."""


class DeliveryRetry(procrastinate.BaseRetryStrategy):
    """Exponential: settings.dispatch_retry_base_seconds × 2^attempt between the runs, at most
    settings.dispatch_max_attempts runs (read when a run fails, so a test's worker sets them)."""

    def get_retry_decision(self, *, exception: BaseException, job) -> RetryDecision | None:
        conf = jobs.settings()
        if job.attempts + 1 >= conf.dispatch_max_attempts:
            return None
        wait = conf.dispatch_retry_base_seconds * 2**job.attempts
        return RetryDecision(retry_in={"seconds": wait})


@dataclass
class Delivery:
    subscription_id: int
    name: str
    day: dt.date
    email: str | None
    webhook_url: str | None
    secret: str | None
    format: str
    rows: list[dict]


def _webhook_post(url: str, secret: str, body: bytes, timeout: float) -> None:
    request = urllib.request.Request(
        url, data=body, method="POST",
        headers={"Content-Type": "application/json; charset=utf-8",
                 SIGNATURE_HEADER: sign(secret, body), "User-Agent": "Hromada-GIS dispatch"},
    )  # fmt: skip
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 (http/https checked)
            status = response.status
    except urllib.error.HTTPError as exc:
        raise DeliveryFailed(f"HTTP {exc.code}") from None
    except (urllib.error.URLError, OSError) as exc:
        raise DeliveryFailed(f"{type(exc).__name__}: {getattr(exc, 'reason', exc)}") from None
    if not 200 <= status < 300:
        raise DeliveryFailed(f"HTTP {status}")


def dispatch_mail(name: str, day: dt.date, count: int, fmt: str) -> tuple[str, str]:
    from gis.notices import compose

    return compose(
        N_("Розсилка «{name}» за {day}"),
        [
            N_("У вкладенні — звернення розсилки «{name}», зареєстровані до {day}: {count}."),
            N_("Файл не містить персональних даних авторів. Лист надіслано автоматично."),
        ],
        {"name": name, "day": day.isoformat(), "count": count, "format": fmt},
    )


async def send(delivery: Delivery) -> None:
    conf = jobs.settings()
    if delivery.webhook_url:
        payload = {"subscription_id": delivery.subscription_id, "name": delivery.name,
                   "day": delivery.day.isoformat(), "count": len(delivery.rows),
                   "appeals": feature_collection(delivery.rows)}  # fmt: skip
        body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
        await asyncio.to_thread(_webhook_post, delivery.webhook_url, delivery.secret or "",
                                body, conf.gateway_timeout)  # fmt: skip
        return
    from gis.mail import MailError, send_mail

    mime, make = FILE_TYPES[delivery.format]
    filename = f"dispatch-{delivery.subscription_id}-{delivery.day.isoformat()}.{delivery.format}"
    subject, text = dispatch_mail(delivery.name, delivery.day, len(delivery.rows),
                                  delivery.format)  # fmt: skip
    assert delivery.email is not None  # one recipient: the table's check
    try:
        await asyncio.to_thread(send_mail, conf, to=delivery.email, subject=subject, body=text,
                                attachments=[(filename, mime, make(delivery.rows))])  # fmt: skip
    except MailError as exc:
        raise DeliveryFailed(f"mail: {exc.params.get('reason', exc.code)}") from None


async def deliver_batch(conn, batch_id: int, *, attempt: int, max_attempts: int) -> str:
    """Send one batch, under its row's lock (a second job for it waits, then finds it sent).
    'sent', 'already sent', or DeliveryFailed after recording the attempt (the last one marks
    the batch 'failed')."""
    error: str | None = None
    async with conn.transaction():
        batch = await _one(
            conn,
            "SELECT b.id, b.day, b.status, s.id AS subscription_id, s.name,"
            " s.recipient_email, s.webhook_url, s.webhook_secret, s.format"
            " FROM dispatch_batches b JOIN dispatch_subscriptions s ON s.id = b.subscription_id"
            " WHERE b.id = %s FOR UPDATE OF b",
            (batch_id,),
        )
        if batch is None:
            return "gone"
        if batch["status"] == "sent":
            return "already sent"
        delivery = Delivery(batch["subscription_id"], batch["name"], batch["day"],
                            batch["recipient_email"], batch["webhook_url"],
                            batch["webhook_secret"], batch["format"],
                            await batch_rows(conn, batch_id))  # fmt: skip
        try:
            await send(delivery)
        except DeliveryFailed as exc:
            error = str(exc)[:500]
        if error is None:
            await conn.execute(
                "UPDATE dispatch_batches SET status = 'sent', attempts = attempts + 1,"
                " last_error = NULL, sent_at = %s WHERE id = %s",
                (clock.now(), batch_id),
            )
        else:
            await conn.execute(
                "UPDATE dispatch_batches SET attempts = attempts + 1, last_error = %s,"
                " status = %s WHERE id = %s",
                (error, "failed" if attempt >= max_attempts else "pending", batch_id),
            )
    if error is not None:
        log.warning("dispatch batch %s: attempt %d of %d failed: %s", batch_id, attempt,
                    max_attempts, error)  # fmt: skip
        raise DeliveryFailed(error)
    log.info("dispatch batch %s sent (%d appeals)", batch_id, len(delivery.rows))
    return "sent"


# --- the tasks ---------------------------------------------------------------------------------


@jobs.tasks.periodic(cron="*/5 * * * *", periodic_id="dispatch")
@jobs.tasks.task(name="dispatch.run", queue="periodic", pass_context=False)
async def run(timestamp: int) -> int:
    """Every 5 minutes: the batches whose time has come (see run_due)."""
    async with jobs.connect() as conn:
        made = await run_due(conn, now=clock.now())
    return len(made)


@jobs.tasks.task(name=DELIVER_TASK, queue=QUEUE, pass_context=True, retry=DeliveryRetry())
async def deliver(context: procrastinate.JobContext, batch_id: int) -> str:
    conf = jobs.settings()
    attempt = (context.job.attempts if context.job else 0) + 1
    async with jobs.connect() as conn:
        return await deliver_batch(conn, batch_id, attempt=attempt,
                                   max_attempts=conf.dispatch_max_attempts)  # fmt: skip


# --- permit expiry notices ---------------------------------------------------------------------

PERMIT_THRESHOLDS = (30, 7)  # days before a permit ends
PERMIT_LAYERS = ("advertising_structures", "kiosks")

_PERMITS_DUE = """
INSERT INTO permit_notices (layer, feature_id, valid_until, threshold_days, permit_number,
                            sent_at)
SELECT t.layer, t.id, t.permit_valid_until, d.days, t.permit_number, %(now)s
  FROM (SELECT 'advertising_structures' AS layer, id, permit_valid_until, permit_number
          FROM advertising_structures
        UNION ALL
        SELECT 'kiosks', id, permit_valid_until, permit_number FROM kiosks) t
  JOIN unnest(%(thresholds)s::int[]) AS d(days)
    ON t.permit_valid_until >= %(today)s AND t.permit_valid_until <= %(today)s + d.days
ON CONFLICT DO NOTHING
RETURNING layer, feature_id, valid_until, threshold_days
"""


async def permit_notices(conn, *, today: dt.date, now: dt.datetime) -> list[dict]:
    """Record, in the caller's transaction, the permits newly within each threshold (each
    permit and end date once per threshold: the table's key decides), with what a planner
    reads of them; a permit newly within 7 days is listed there only."""
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(_PERMITS_DUE, {"now": now, "today": today,
                                         "thresholds": list(PERMIT_THRESHOLDS)})  # fmt: skip
        new = await cur.fetchall()
        if not new:
            return []
        keys = {(r["layer"], r["feature_id"]) for r in new}
        await cur.execute(
            "SELECT 'advertising_structures' AS layer, id, code, kind, address, permit_number,"
            " owner, council_id FROM advertising_structures WHERE id = ANY(%s)"
            " UNION ALL SELECT 'kiosks', id, code, kind, address, permit_number, owner,"
            " council_id FROM kiosks WHERE id = ANY(%s)",
            ([i for layer, i in keys if layer == "advertising_structures"],
             [i for layer, i in keys if layer == "kiosks"]),
        )  # fmt: skip
        facts = {(r["layer"], r["id"]): r for r in await cur.fetchall()}
    nearest: dict[tuple, dict] = {}
    for r in new:
        key = (r["layer"], r["feature_id"])
        if key not in nearest or r["threshold_days"] < nearest[key]["threshold_days"]:
            nearest[key] = {**facts.get(key, {}), **r}
    return sorted(
        nearest.values(),
        key=lambda r: (r["threshold_days"], r["valid_until"], r["layer"], r.get("code") or ""),
    )


LAYER_NAMES = {"advertising_structures": N_("Рекламна конструкція"), "kiosks": N_("МАФ")}


def permit_mail(items: list[dict], today: dt.date) -> tuple[str, str]:
    from gis.notices import compose

    def lines(threshold: int, lang: str) -> str:
        out = [
            f"- {tr(LAYER_NAMES[r['layer']], lang)} {r.get('code') or r['feature_id']}"
            f" ({r.get('address') or '—'}): {r.get('permit_number') or '—'},"
            f" {r['valid_until'].isoformat()}"
            for r in items if r["threshold_days"] == threshold
        ]  # fmt: skip
        return "\n".join(out) or "—"

    departments = sorted({r["department"] for r in items if r.get("department")})
    unnamed = tr(N_("не вказано"), "uk"), tr(N_("не вказано"), "en")
    return compose(
        N_("Строки дозволів спливають: {count}"),
        [
            N_("Дозволи рекламних конструкцій і МАФ, строк яких спливає (станом на {today})."),
            N_("Відповідальний підрозділ: {department}."),
            N_("Протягом 7 днів:\n{week}"),
            N_("Протягом 30 днів:\n{month}"),
        ],
        {"count": len(items), "today": today.isoformat(), "week": lines(7, "uk"),
         "month": lines(30, "uk"), "department": "; ".join(departments) or unnamed[0]},
        {"week": lines(7, "en"), "month": lines(30, "en"),
         "department": "; ".join(departments) or unnamed[1]},
    )  # fmt: skip


_DEPARTMENT_PLANNERS = """
WITH RECURSIVE org AS (
    SELECT id FROM executors
     WHERE lower(btrim(%(name)s)) IN (lower(btrim(name)), lower(btrim(coalesce(short_name, ''))),
                                      lower(code))
    UNION
    SELECT e.id FROM executors e JOIN org ON e.parent_id = org.id
)
SELECT email, council_id FROM users
 WHERE role = 'planner' AND is_active AND email IS NOT NULL
   AND executor_id IN (SELECT id FROM org)
 ORDER BY id
"""


async def permit_recipients(conn, items: list[dict]) -> dict[str, list[dict]]:
    """Who is told of which permits: each permit's layer names its owning department
    (layers.owner_department); that department's planners (users bound to the organisation of
    that name, or one of its sub-organisations) are told of it; a layer without a department,
    or a department without planners, goes to every active planner. Each item gets its
    `department`. Only planners of the structure's council, or oblast planners (no council),
    are told of it (issue 17). Recipient (e-mail) → their items, in the items' order."""
    async with conn.cursor() as cur:
        await cur.execute("SELECT name, owner_department FROM layers WHERE name = ANY(%s)",
                          (sorted({r["layer"] for r in items}),))  # fmt: skip
        departments = {name: dept for name, dept in await cur.fetchall() if dept}
        await cur.execute("SELECT email, council_id FROM users WHERE role = 'planner'"
                          " AND is_active AND email IS NOT NULL ORDER BY id")  # fmt: skip
        everyone = [(r[0], r[1]) for r in await cur.fetchall()]
        own: dict[str, list[tuple[str, int | None]]] = {}
        for dept in set(departments.values()):
            await cur.execute(_DEPARTMENT_PLANNERS, {"name": dept})
            own[dept] = [(r[0], r[1]) for r in await cur.fetchall()]
    out: dict[str, list[dict]] = {}
    for item in items:
        item["department"] = departments.get(item["layer"])
        council = item.get("council_id")
        for to in _theirs(own.get(item["department"] or "", []), council) or _theirs(
            everyone, council
        ):
            out.setdefault(to, []).append(item)
    return out


def _theirs(planners: list[tuple[str, int | None]], council: int | None) -> list[str]:
    """The planners told of a structure of `council`: its own and the oblast's (no council)."""
    return [to for to, c in planners if c is None or council is None or c == council]


async def notify_permits(conn, *, today: dt.date, now: dt.datetime) -> int:
    """One digest to each planner concerned of the permits newly within 30 and 7 days: the
    planners of the layer's owning department when it has any, else every active planner
    (permit_recipients); the digest names the department. The notices and the mails go
    together (a mail that fails rolls the notices back, so the next run tells them again).
    How many permits were told."""
    from gis.mail import send_mail

    conf = jobs.settings()
    async with conn.transaction():
        items = await permit_notices(conn, today=today, now=now)
        if not items:
            return 0
        planners = await permit_recipients(conn, items)
        for to, theirs in planners.items():
            subject, body = permit_mail(theirs, today)
            await asyncio.to_thread(send_mail, conf, to=to, subject=subject, body=body)
    log.info("permit notices: %d permits told to %d planners", len(items), len(planners))
    return len(items)


@jobs.tasks.periodic(cron="0 5 * * *", periodic_id="permit_notices")
@jobs.tasks.task(name="permits.notify", queue="periodic", pass_context=False,
                 retry=procrastinate.RetryStrategy(max_attempts=3, exponential_wait=60))  # fmt: skip
async def permits(timestamp: int) -> int:
    """Daily (05:00 UTC, the morning in Kyiv): the permits' expiry digest for the planners."""
    async with jobs.connect() as conn:
        return await notify_permits(conn, today=clock.kyiv_today(), now=clock.now())
