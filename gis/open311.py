"""Open311 GeoReport v2, the read side: services, requests and their updates (issue 15).

No HTTP here: the routes (api/routers/open311.py) parse nothing themselves but call
`parse_requests_query` / `parse_updates_query` and the queries below, and render what they
return (api/open311.py). Values are plain: strings, numbers, aware datetimes, None.

- A **service** is an appeal category that can be filed: a sub-kind, or a kind without
  sub-kinds. `service_code` = the category's stable id (as text), `group` = its kind's name,
  `keywords` = the operator's search keywords (categories.keywords), `metadata` = true for
  every one: each asks the attribute `author_address` (art. 5 of the Law on citizens'
  appeals needs the author's postal address).
- A **request** is an appeal, `service_request_id` its number (П-6714). Read from `appeals`
  and the public tables only, never `appeal_authors`: no name, e-mail, phone, postal address
  or account can reach an answer. The text (`description`) only with the author's consent
  (is_public); `status` open or closed, the 1551 status as `detailed_status` (code) and
  `detailed_status_name`; `status_notes` the executor's latest answer; `expected_datetime`
  the deadline (extended when extended); `service_notice` the sentence naming it;
  `address_id` empty (appeals keep no street-register id), `zipcode` empty (unknown).
- An **update** (mySociety's `servicerequestupdates`, which FixMyStreet polls) is a row of
  `appeal_events`, but the staff's own steps (gis/lifecycle.STAFF_ONLY_ACTIONS): the status
  after it (open/closed), its time, as description the executor's answer for an answer and
  the status's name otherwise; never a comment (staff may write names into those).

Filters (the spec's): `service_request_id` (comma-separated, at most 50; then the others are
ignored, as the spec says), `service_code` (comma-separated ids), `start_date`/`end_date`
(ISO 8601; a time without a zone is Kyiv's, a date alone its midnight; at most 90 days apart;
only one given: the 90 days after the start or before the end; none: the last 90 days),
`status` (open, closed; comma-separated), the paging extension `page` (from 1) and
`page_size` (1..1000, default 100). Requests newest first; updates oldest first, so a poller
reads them in the order they happened. `jurisdiction_id` is optional; given, it must be a
council's KATOTTH code (issue 17: a council is a jurisdiction; its slug is taken too), else
404: then requests, updates and services are that council's (its appeals; the categories it
offers), and a request filed must lie in it. Without it, every council's (services: the
shared catalogue). Other parameters (`api_key`, which
some clients send with every call) are ignored, as Open311 clients expect.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from psycopg import AsyncConnection
from psycopg.rows import dict_row

from gis import councils
from gis.category_names import label_sql
from gis.errors import InvalidParameter, NotFound
from gis.lifecycle import STAFF_ONLY_ACTIONS
from gis.models import status_name
from gis.texts import N_, tr

KYIV = ZoneInfo("Europe/Kyiv")
SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
# When this API last changed (discovery's `changeset`).
CHANGESET = dt.datetime(2026, 12, 6, tzinfo=KYIV)
WINDOW = dt.timedelta(days=90)
MAX_IDS = 50
DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000
MAX_PAGE = 100_000
STATUSES = ("open", "closed")
_CODE = re.compile(r"^[0-9]{1,9}$")

AUTHOR_ADDRESS = "author_address"
AUTHOR_ADDRESS_DESCRIPTION = N_("Місце проживання заявника (ст. 5 Закону «Про звернення громадян»)")
AUTHOR_ADDRESS_DATATYPE = N_("Поштова адреса: населений пункт, вулиця, будинок, квартира")
CONSENT = "consent_to_publish"
CONSENT_DESCRIPTION = N_(
    "Оприлюднити текст звернення на мапі (ім’я та контакти заявника не оприлюднюються ніколи)"
)
CONSENT_DATATYPE = N_("true — оприлюднити опис, false — ні (типово)")
YES, NO = N_("Так"), N_("Ні")
SERVICE_NOTICE = N_("Строк розгляду — до {date}")
CONTACT = N_("Контакт-центр 1551 (телефон 1551); {url}")
KEY_SERVICE = N_(
    "Ключ API для подання звернень видає адміністратор громади (сторінка /admin, розділ Open311)."
)


# --- query parameters -------------------------------------------------------------------------


@dataclass(frozen=True)
class Query:
    """A parsed requests (or updates) query: the window is [start, end], both aware."""

    ids: tuple[str, ...] = ()
    service_codes: tuple[int, ...] = ()
    start: dt.datetime | None = None
    end: dt.datetime | None = None
    statuses: tuple[str, ...] = ()
    page: int = 1
    page_size: int = DEFAULT_PAGE_SIZE
    jurisdiction_id: str | None = None


def _first(params: Iterable[tuple[str, str]]) -> dict[str, str]:
    out: dict[str, str] = {}
    for name, value in params:
        out.setdefault(name, value)
    return out


def _split(value: str) -> list[str]:
    return [part.strip() for part in value.split(",") if part.strip()]


def parse_datetime(value: str, name: str) -> dt.datetime:
    """An ISO 8601 instant (2026-11-30T14:05:00+02:00, …Z), a local time (Kyiv's) or a date
    (its midnight in Kyiv); InvalidParameter otherwise."""
    # A "+" a client forgot to percent-encode arrives as a space: 2026-11-30T14:05:00 02:00.
    text = re.sub(r" ([0-9]{2}(:?[0-9]{2})?)$", r"+\1", value.strip())
    try:
        if len(text) == 10:
            day = dt.date.fromisoformat(text)
            return dt.datetime.combine(day, dt.time(), KYIV)
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        raise InvalidParameter("open311_invalid_datetime", name, value=value[:64]) from None
    if not 1991 <= moment.year <= 2999:
        raise InvalidParameter("open311_invalid_datetime", name, value=value[:64])
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=KYIV)


def _int(value: str, name: str, lo: int, hi: int) -> int:
    text = value.strip()
    if not re.fullmatch(r"[0-9]{1,9}", text) or not lo <= int(text) <= hi:
        raise InvalidParameter("invalid_integer", name, value=value[:64], min=lo, max=hi)
    return int(text)


def _wall(moment: dt.datetime) -> dt.datetime:
    return moment.astimezone(KYIV).replace(tzinfo=None)


def _window(given: Mapping[str, str], now: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    start = parse_datetime(given["start_date"], "start_date") if "start_date" in given else None
    end = parse_datetime(given["end_date"], "end_date") if "end_date" in given else None
    if start is None and end is None:
        end = now
    if start is None:
        assert end is not None
        start = end.astimezone(KYIV) - WINDOW  # aware arithmetic on Kyiv's clocks
    if end is None:
        end = start.astimezone(KYIV) + WINDOW
    if end < start:
        raise InvalidParameter(
            "open311_dates_reversed", "end_date",
            start_date=start.isoformat(), end_date=end.isoformat(),
        )  # fmt: skip
    # Measured on Kyiv's clocks, so that 90 days across a change of summer time are 90 days.
    if _wall(end) - _wall(start) > WINDOW:
        raise InvalidParameter("open311_window_too_long", "end_date", days=WINDOW.days)
    return start, end


def parse_requests_query(
    params: Iterable[tuple[str, str]], *, now: dt.datetime | None = None, updates: bool = False
) -> Query:
    """GET requests' (or, with updates=True, servicerequestupdates') parameters; unknown ones
    are ignored. InvalidParameter for a malformed or out-of-range value."""
    given = _first(params)
    now = now or dt.datetime.now(dt.UTC)
    jurisdiction = given.get("jurisdiction_id", "").strip() or None
    page = _int(given["page"], "page", 1, MAX_PAGE) if "page" in given else 1
    page_size = (
        _int(given["page_size"], "page_size", 1, MAX_PAGE_SIZE)
        if "page_size" in given else DEFAULT_PAGE_SIZE
    )  # fmt: skip
    ids: list[str] = []
    if not updates and "service_request_id" in given:
        ids = list(dict.fromkeys(_split(given["service_request_id"])))
        if not ids:
            raise InvalidParameter("empty_parameter", "service_request_id")
        if len(ids) > MAX_IDS:
            raise InvalidParameter("too_many_values", "service_request_id", max=MAX_IDS)
        for number in ids:
            if len(number) > 32:
                raise NotFound("open311_request_not_found", number=number[:32])
        # The spec: with ids, the other filters are ignored.
        return Query(ids=tuple(ids), page=page, page_size=page_size, jurisdiction_id=jurisdiction)
    codes: list[int] = []
    if not updates and "service_code" in given:
        words = _split(given["service_code"])
        if not words:
            raise InvalidParameter("empty_parameter", "service_code")
        if len(words) > MAX_IDS:
            raise InvalidParameter("too_many_values", "service_code", max=MAX_IDS)
        for word in words:
            if not _CODE.match(word):
                raise InvalidParameter("open311_invalid_service_code", "service_code",
                                       value=word[:64])  # fmt: skip
            codes.append(int(word))
    statuses: list[str] = []
    if not updates and "status" in given:
        words = _split(given["status"])
        if not words:
            raise InvalidParameter("empty_parameter", "status")
        for word in words:
            if word.lower() not in STATUSES:
                raise InvalidParameter("open311_invalid_status", "status", value=word[:64])
            if word.lower() not in statuses:
                statuses.append(word.lower())
    start, end = _window(given, now)
    return Query(
        service_codes=tuple(dict.fromkeys(codes)), start=start, end=end,
        statuses=tuple(statuses) if len(statuses) == 1 else (), page=page,
        page_size=page_size, jurisdiction_id=jurisdiction,
    )  # fmt: skip


async def check_jurisdiction(
    conn: AsyncConnection, jurisdiction_id: str | None
) -> councils.Council | None:
    """The council a `jurisdiction_id` names (its KATOTTH code, or slug), None when not given;
    404 `open311_unknown_jurisdiction` for anything else. A one-council install whose council
    has not taken its hromada's code yet (the placeholder) answers to that hromada's code."""
    if jurisdiction_id is None:
        return None
    value = jurisdiction_id.strip()[:64]
    if not value:
        return None
    try:
        return await councils.resolve(conn, value)
    except NotFound:
        pass
    cur = await conn.execute(
        "SELECT 1 FROM hromadas WHERE upper(code) = upper(%s) LIMIT 1", (value,)
    )
    only = await councils.only(conn) if await cur.fetchone() is not None else None
    if only is None:
        raise NotFound("open311_unknown_jurisdiction", value=value)
    return only


async def jurisdiction_ids(conn: AsyncConnection) -> list[str]:
    """Every council's code: the jurisdictions."""
    return [c.code for c in await councils.list_public(conn)]


def _council_id(council: councils.Council | None) -> int | None:
    return council.id if council is not None else None


# --- discovery and services -------------------------------------------------------------------


def discovery(base_url: str, lang: str = "uk") -> dict[str, Any]:
    """The discovery document: one production endpoint, XML and JSON."""
    return {
        "changeset": CHANGESET,
        "contact": tr(CONTACT, lang, url=base_url),
        "key_service": tr(KEY_SERVICE, lang),
        "endpoints": [
            {
                "specification": SPECIFICATION,
                "url": f"{base_url}/open311/v2",
                "changeset": CHANGESET,
                "type": "production",
                "formats": ["text/xml", "application/json"],
            }
        ],
    }


_SERVICES_SQL = """
SELECT c.id, {label} AS name, c.name AS own_name, coalesce(p.name, c.name) AS kind_name,
       c.keywords, c.deadline_days
  FROM categories c
  LEFT JOIN categories p ON p.id = c.parent_id
 WHERE c.is_active AND (p.id IS NULL OR p.is_active)
   AND NOT EXISTS (SELECT 1 FROM categories s WHERE s.parent_id = c.id AND s.is_active)
   {extra}
 ORDER BY coalesce(p.sort_order, c.sort_order), coalesce(p.name, c.name), c.sort_order,
          c.name, c.id
"""


def _service(row: Mapping[str, Any]) -> dict[str, Any]:
    description = row["name"]
    if row["kind_name"] and row["kind_name"] not in description:
        description = f"{row['kind_name']} — {description}"
    return {
        "service_code": str(row["id"]),
        "service_name": row["name"],
        "description": description,
        "metadata": True,
        "type": "realtime",
        "keywords": ",".join(row["keywords"] or []),
        "group": row["kind_name"],
    }


# The categories a council offers (%(council)s; its own sub-kinds included), or, without a
# council, the shared catalogue.
_OF_COUNCIL = """
   AND CASE WHEN %(council)s::int IS NULL THEN c.council_id IS NULL
       ELSE (c.council_id IS NULL OR c.council_id = %(council)s::int)
            AND EXISTS (SELECT 1 FROM council_categories cc WHERE cc.category_id = c.id
                         AND cc.council_id = %(council)s::int AND cc.is_active) END"""


async def services(conn: AsyncConnection, council_id: int | None = None) -> list[dict[str, Any]]:
    """Every category an appeal can be filed in, as the spec's service list: the council's
    (its jurisdiction) or the shared catalogue."""
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(
            _SERVICES_SQL.format(label=label_sql("c"), extra=_OF_COUNCIL),
            {"council": council_id},
        )
        return [_service(row) for row in await cur.fetchall()]


def attributes(lang: str = "uk") -> list[dict[str, Any]]:
    """The attributes every service asks (spec: variable, code, datatype, required,
    datatype_description, order, description; values for a list): the author's postal
    address (required), and the consent to publish the description (optional, default no;
    read by the POST side, api/routers/open311_post.py)."""
    return [
        {
            "variable": True,
            "code": AUTHOR_ADDRESS,
            "datatype": "string",
            "required": True,
            "datatype_description": tr(AUTHOR_ADDRESS_DATATYPE, lang),
            "order": 1,
            "description": tr(AUTHOR_ADDRESS_DESCRIPTION, lang),
        },
        {
            "variable": True,
            "code": CONSENT,
            "datatype": "singlevaluelist",
            "required": False,
            "datatype_description": tr(CONSENT_DATATYPE, lang),
            "order": 2,
            "description": tr(CONSENT_DESCRIPTION, lang),
            "values": [
                {"key": "true", "name": tr(YES, lang)},
                {"key": "false", "name": tr(NO, lang)},
            ],
        },
    ]


async def service_definition(
    conn: AsyncConnection, service_code: str, lang: str = "uk", council_id: int | None = None
) -> dict[str, Any]:
    """services/{service_code}: the code and its attributes; NotFound for an unknown code (or
    one the jurisdiction's council does not offer)."""
    code = service_code.strip()
    if not _CODE.match(code):
        raise NotFound("open311_unknown_service", value=service_code[:64])
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(
            _SERVICES_SQL.format(label=label_sql("c"), extra="AND c.id = %(id)s" + _OF_COUNCIL),
            {"id": int(code), "council": council_id},
        )
        row = await cur.fetchone()
    if row is None:
        raise NotFound("open311_unknown_service", value=service_code[:64])
    return {"service_code": str(row["id"]), "attributes": attributes(lang)}


# --- requests ---------------------------------------------------------------------------------

# Only appeals' own columns and public tables: the authors' table is never read.
_REQUESTS_SQL = """
SELECT a.id, a.number, a.status, a.is_public, a.text, a.address, a.created_at, a.updated_at,
       coalesce(a.extended_until, a.deadline_at) AS deadline_at, a.category_id,
       ST_X(a.geom) AS lon, ST_Y(a.geom) AS lat,
       {label} AS service_name, coalesce(x.short_name, x.name) AS executor,
       (SELECT e.new ->> 'answer' FROM appeal_events e
         WHERE e.appeal_id = a.id AND e.action = 'answer'
         ORDER BY e.id DESC LIMIT 1) AS answer,
       (SELECT max(e.at) FROM appeal_events e WHERE e.appeal_id = a.id) AS last_event_at,
       (SELECT p.sha256 FROM appeal_photos p
         WHERE p.appeal_id = a.id AND (p.kind = 'answer' OR a.is_public)
         ORDER BY p.kind <> 'appeal', p.position, p.id LIMIT 1) AS photo
  FROM appeals a
  JOIN categories c ON c.id = a.category_id
  LEFT JOIN executors x ON x.id = a.executor_id
 WHERE {where}
 ORDER BY a.created_at DESC, a.id DESC
 LIMIT %s OFFSET %s
"""


def photo_url(base_url: str, sha256: str | None) -> str | None:
    return f"{base_url}/api/v1/photos/{sha256}" if sha256 else None


def service_notice(deadline: dt.datetime, lang: str = "uk") -> str:
    """The legal deadline as a sentence: «Строк розгляду — до 30.12.2026»."""
    return tr(SERVICE_NOTICE, lang, date=deadline.astimezone(KYIV).strftime("%d.%m.%Y"))


def _request(row: Mapping[str, Any], base_url: str, lang: str) -> dict[str, Any]:
    updated = max(t for t in (row["updated_at"], row["last_event_at"]) if t is not None)
    located = row["lon"] is not None
    return {
        "service_request_id": row["number"],
        "status": "closed" if row["status"] == "closed" else "open",
        "status_notes": row["answer"],
        "service_name": row["service_name"],
        "service_code": str(row["category_id"]),
        "description": row["text"] if row["is_public"] else None,
        "agency_responsible": row["executor"],
        "service_notice": service_notice(row["deadline_at"], lang),
        "requested_datetime": row["created_at"],
        "updated_datetime": updated,
        "expected_datetime": row["deadline_at"],
        "address": row["address"],
        "address_id": None,
        "zipcode": None,
        "lat": round(row["lat"], 6) if located else None,
        "long": round(row["lon"], 6) if located else None,
        "media_url": photo_url(base_url, row["photo"]),
        "detailed_status": row["status"],
        "detailed_status_name": status_name(row["status"]),
    }


def _requests_where(q: Query, council_id: int | None = None) -> tuple[str, list[object]]:
    jurisdiction = ["a.council_id = %s"] if council_id is not None else []
    if q.ids:
        return " AND ".join(["a.number = ANY(%s)", *jurisdiction]), [
            list(q.ids), *([council_id] if jurisdiction else []),
        ]  # fmt: skip
    conds = ["a.created_at >= %s", "a.created_at <= %s", *jurisdiction]
    args: list[object] = [q.start, q.end, *([council_id] if jurisdiction else [])]
    if q.service_codes:
        conds.append("a.category_id = ANY(%s)")
        args.append(list(q.service_codes))
    if q.statuses == ("open",):
        conds.append("a.status <> 'closed'")
    elif q.statuses == ("closed",):
        conds.append("a.status = 'closed'")
    return " AND ".join(conds), args


async def requests(
    conn: AsyncConnection, q: Query, *, base_url: str, lang: str = "uk",
    council_id: int | None = None,
) -> list[dict[str, Any]]:  # fmt: skip
    """One page of requests, newest first (of the jurisdiction's council when given)."""
    where, args = _requests_where(q, council_id)
    sql = _REQUESTS_SQL.format(label=label_sql("c"), where=where)
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(sql, [*args, q.page_size, (q.page - 1) * q.page_size])
        return [_request(row, base_url, lang) for row in await cur.fetchall()]


async def request(
    conn: AsyncConnection, number: str, *, base_url: str, lang: str = "uk",
    council_id: int | None = None,
) -> dict[str, Any]:  # fmt: skip
    """requests/{service_request_id}; NotFound for an unknown number (or one of another
    council than the jurisdiction's)."""
    found = await requests(conn, Query(ids=(number[:32],)), base_url=base_url, lang=lang,
                           council_id=council_id)  # fmt: skip
    if not found or len(number) > 32:
        raise NotFound("open311_request_not_found", number=number[:32])
    return found[0]


# --- updates ----------------------------------------------------------------------------------

# The status after each event: its own, or the last one an earlier event of the appeal set.
_UPDATES_SQL = """
SELECT e.id, e.at, e.action, e.new, a.number,
       coalesce(e.new ->> 'status',
                (SELECT p.new ->> 'status' FROM appeal_events p
                  WHERE p.appeal_id = e.appeal_id AND p.id < e.id AND p.new ? 'status'
                  ORDER BY p.id DESC LIMIT 1),
                'registered') AS status
  FROM appeal_events e
  JOIN appeals a ON a.id = e.appeal_id
 WHERE e.at >= %s AND e.at <= %s AND e.action <> ALL(%s)
   AND (%s::int IS NULL OR a.council_id = %s::int)
 ORDER BY e.at, e.id
 LIMIT %s OFFSET %s
"""


def _update(row: Mapping[str, Any], base_url: str, lang: str) -> dict[str, Any]:
    new = row["new"] if isinstance(row["new"], dict) else {}
    answer = new.get("answer") if isinstance(new.get("answer"), str) else None
    photos = new.get("answer_photos")
    photo = (
        photos[0] if isinstance(photos, list) and photos and isinstance(photos[0], str) else None
    )
    status = row["status"]
    return {
        "update_id": str(row["id"]),
        "service_request_id": row["number"],
        "status": "closed" if status == "closed" else "open",
        "updated_datetime": row["at"],
        "description": answer or status_name(status, lang),
        "media_url": photo_url(base_url, photo),
        "detailed_status": status,
        "detailed_status_name": status_name(status),
    }


async def updates(
    conn: AsyncConnection, q: Query, *, base_url: str, lang: str = "uk",
    council_id: int | None = None,
) -> list[dict[str, Any]]:  # fmt: skip
    """One page of the lifecycle's public steps in the window, oldest first (of the
    jurisdiction's council's appeals when given)."""
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(
            _UPDATES_SQL,
            (q.start, q.end, list(STAFF_ONLY_ACTIONS), council_id, council_id, q.page_size,
             (q.page - 1) * q.page_size),
        )  # fmt: skip
        return [_update(row, base_url, lang) for row in await cur.fetchall()]
