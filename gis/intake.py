"""Appeal intake: validation, the registration number, the deadline, and storing — no HTTP.

The API (api/routers/appeals.py) parses a request into a `Submission`, and calls
`validate()` (pure checks, nothing touched) and then `submit()` (one transaction). Every
refusal is a domain error with a stable code (api/errors.py words it in Ukrainian or
English); when one is raised, nothing is stored: the transaction rolls back and the photo
files written for it are removed.

Rules (GUIDE §2–3):

- **Category**: a sub-kind (підвид), by id or code. A kind that has sub-kinds is refused with
  the list of its sub-kinds; a kind without any is accepted as it is.
- **Text**: not empty, at most `appeal_text_max_chars`, no obscene language (gis/obscene.py).
- **Author** (art. 5, 8 of the Law on Citizens' Appeals): a name and a postal address are
  required (an appeal without them is anonymous and not considered), and a contact, an
  e-mail and/or a phone. The name is written in Cyrillic letters, apostrophes, hyphens and
  spaces only (Kyiv's rule: a name in Latin script is not accepted). A legal ground of
  priority (`privilege`) marks the appeal privileged: it is handled first.
- **Place**: a point (lon, lat) inside the served community, an address (a street of the
  register and a house number: a point of interest's, or interpolated along the street), or
  explicitly `no_location` (1551 allows a problem with no territorial binding). With none of
  these, the EXIF GPS position of the first photo is used when it has one (`location_source`
  "photo_exif"), else the place is asked for. A point within 30 m of a known house gets
  that house's address (`nearest_address`).
- **Channel**: citizens file through the site; operators, curators and administrators
  register appeals received by any channel (phone 1551, the government hotline, e-mail, TV,
  112) on a citizen's behalf.

The number is 1551's: the first letter of the author's surname (the first word of the full
name, upper case) and the next value of the `appeal_number_seq` sequence, e.g. «П-6714». The
sequence makes it unique under any concurrency and never hands a value out twice (a refused
submission leaves a gap, never a reuse). The deadline is `deadline_for()`.

An `Idempotency-Key` is claimed in the same transaction (INSERT … ON CONFLICT DO NOTHING): a
retry with the same key, owner and body waits for the first to finish and gets its answer; the
same key with another body is refused; a refused submission stores no key, so its retry is
checked afresh.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import math
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from psycopg.rows import dict_row

from gis import councils, geocode, notify, obscene, photos, routing, structure_links
from gis.errors import Conflict, Forbidden, InvalidInput, NotFound
from gis.jsonable import iso
from gis.models import CHANNELS, result_en, status_name
from gis.scope import appeal_scope

# Roles that register appeals on a citizen's behalf, by any channel.
OPERATOR_ROLES = ("operator", "curator", "admin")
CITIZEN_CHANNEL = "site"
OPEN311_CHANNEL = "open311"  # an Open311 client application's (api/routers/open311_post.py)

# Art. 20: 15 days when no additional study is needed, one month otherwise (counted here as
# 30 calendar days); an extension (up to 45 days in total) is a separate act with notice.
DAYS_WITHOUT_STUDY = 15
DAYS_WITH_STUDY = 30

# Cyrillic letters, apostrophes, hyphens, spaces; full stops of initials ("Петренко І. М.")
# and brackets of a note ("Мешканка Києва (демо)", the demo citizen's own account name).
_NAME_ALLOWED = re.compile(r"^[\u0400-\u04ff\u0500-\u052f'’ʼ\-.() ]+$")
_LATIN = re.compile(r"[A-Za-z]")
_CYRILLIC_LETTER = re.compile(r"[\u0400-\u04ff]")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_PHONE_CHARS = re.compile(r"^\+?[\d\s()\-]+$")
_APOSTROPHES = str.maketrans({"’": "'", "ʼ": "'", "`": "'", "´": "'", "‘": "'"})
_KEY_ALLOWED = re.compile(r"^[\x21-\x7e]{1,128}$")
MAX_FIELD = 500  # name, e-mail, phone, postal address, privilege, street, house
NOTIFY_CHANNELS = ("email", "sms", "viber", "none")
CHANNEL_NAMES = {"sms": "SMS", "viber": "Viber"}  # the channels to a phone, as people name them


@dataclass
class Author:
    full_name: str | None = None
    email: str | None = None
    phone: str | None = None
    postal_address: str | None = None
    privilege: str | None = None
    # How they want to hear of the appeal (gis/notify.py) and in which language.
    notify_channel: str | None = None  # email (default), sms, viber, none
    language: str | None = None  # uk (default), en


@dataclass
class Submission:
    category: int | str | None
    text: str | None
    author: Author
    lon: object = None
    lat: object = None
    street: str | None = None
    house: str | None = None
    no_location: bool = False
    consent_to_publish: bool = False
    channel: str | None = None
    photos: list[photos.Photo] = field(default_factory=list)
    # The council (slug or KATOTTH code) of an appeal with no place: needed when there are
    # several; a located appeal is the council's covering the point (gis/routing.py).
    council: str | None = None


@dataclass(frozen=True)
class Submitter:
    """Who sends the submission: anonymous (user_id None), a citizen, or staff."""

    user_id: int | None = None
    role: str | None = None
    full_name: str | None = None
    email: str | None = None
    # An Open311 client application filing on a citizen's behalf (gis/open311_clients.py):
    # its appeals come by the channel 'open311' and name it.
    open311_client_id: int | None = None
    open311_client_name: str | None = None

    @property
    def is_operator(self) -> bool:
        return self.role in OPERATOR_ROLES

    @property
    def actor(self) -> str:
        if self.is_operator:
            return self.full_name or self.email or f"user {self.user_id}"
        if self.open311_client_id is not None:
            return f"Open311: {self.open311_client_name}"
        return "citizen"


@dataclass(frozen=True)
class Idempotency:
    key: str
    owner: str  # "user:<id>" or "ip:<address>"
    request_hash: str


@dataclass
class Outcome:
    status_code: int
    body: dict
    replayed: bool = False
    created_files: list[Path] = field(default_factory=list)


# --- pure rules ------------------------------------------------------------------------------


def deadline_for(created_at: dt.datetime, *, deadline_days: int, needs_study: bool) -> dt.datetime:
    """The deadline of an appeal registered at `created_at` in a category with `deadline_days`.

    Art. 20 of the Law «Про звернення громадян»: an appeal that needs no additional study is
    considered without delay and within 15 days; any other within one month (30 calendar days
    here). The category's own term applies when it is shorter. An extension (the head sets
    the needed term and tells the author; 45 days in total at most) is not decided here: it
    is `appeals.extended_until`.

    >>> t = dt.datetime(2026, 3, 1, 10, tzinfo=dt.UTC)
    >>> deadline_for(t, deadline_days=15, needs_study=False).date().isoformat()
    '2026-03-16'
    >>> deadline_for(t, deadline_days=45, needs_study=True).date().isoformat()
    '2026-03-31'
    """
    ceiling = DAYS_WITH_STUDY if needs_study else DAYS_WITHOUT_STUDY
    days = min(int(deadline_days or ceiling), ceiling)
    return created_at + dt.timedelta(days=days)


def surname_initial(full_name: str) -> str:
    """The first Cyrillic letter of the name's first word (the surname), upper case.

    >>> surname_initial("петренко Іван"), surname_initial("  Ґалаґан-Коваль Ірина")
    ('П', 'Ґ')
    """
    first = full_name.strip().split()[0] if full_name.strip() else ""
    found = _CYRILLIC_LETTER.search(first) or _CYRILLIC_LETTER.search(full_name)
    if not found:
        raise InvalidInput("author_name_invalid", parameter="author.full_name")
    letter = found.group(0).upper()
    return {"Ё": "Е", "Ъ": "Б", "Ь": "Б"}.get(letter, letter)


def format_number(initial: str, sequence_value: int) -> str:
    """1551's registration number: «П-6714»."""
    return f"{initial}-{sequence_value}"


def _clean(value: object, name: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        value = str(value)
    value = " ".join(value.split())
    if len(value) > MAX_FIELD:
        raise InvalidInput("field_too_long", parameter=name, max=MAX_FIELD)
    return value or None


def check_text(text: object, max_chars: int) -> str:
    if not isinstance(text, str) or not text.strip():
        raise InvalidInput("text_required", parameter="text")
    text = text.strip()
    if len(text) > max_chars:
        raise InvalidInput("text_too_long", parameter="text", max=max_chars, length=len(text))
    if obscene.is_obscene(text):
        raise InvalidInput("text_obscene", parameter="text")
    return text


def check_author(author: Author, submitter: Submitter) -> Author:
    """The author's data cleaned, or the first rule it breaks. A signed-in citizen's name and
    e-mail are taken from the account when the form leaves them out."""
    own = submitter.role == "citizen"
    name = _clean(author.full_name, "author.full_name") or (submitter.full_name if own else None)
    email = _clean(author.email, "author.email") or (submitter.email if own else None)
    phone = _clean(author.phone, "author.phone")
    address = _clean(author.postal_address, "author.postal_address")
    privilege = _clean(author.privilege, "author.privilege")
    if not name:
        raise InvalidInput("author_name_required", parameter="author.full_name")
    if _LATIN.search(name):
        raise InvalidInput("author_name_latin", parameter="author.full_name")
    if not _NAME_ALLOWED.match(name) or not _CYRILLIC_LETTER.search(name):
        raise InvalidInput("author_name_invalid", parameter="author.full_name")
    if not address:
        raise InvalidInput("author_address_required", parameter="author.postal_address")
    if not email and not phone:
        raise InvalidInput("author_contact_required", parameter="author.email")
    if email and not _EMAIL.match(email):
        raise InvalidInput("invalid_email", parameter="author.email", value=email)
    if author.notify_channel not in (None, *NOTIFY_CHANNELS):
        raise InvalidInput("invalid_value", parameter="author.notify_channel",
                           value=str(author.notify_channel)[:50])  # fmt: skip
    if author.language not in (None, "uk", "en"):
        raise InvalidInput("invalid_value", parameter="author.language",
                           value=str(author.language)[:50])  # fmt: skip
    if phone:
        digits = re.sub(r"\D", "", phone)
        if not _PHONE_CHARS.match(phone) or not 10 <= len(digits) <= 15:
            raise InvalidInput("invalid_phone", parameter="author.phone", value=phone)
    # The channel chosen must reach them: SMS and Viber a phone, e-mail an address.
    if author.notify_channel in CHANNEL_NAMES and not phone:
        raise InvalidInput("notify_channel_needs_phone", parameter="author.phone",
                           channel=CHANNEL_NAMES[author.notify_channel])  # fmt: skip
    if author.notify_channel == "email" and not email:
        raise InvalidInput("notify_channel_needs_email", parameter="author.email")
    return Author(name, email, phone, address, privilege, author.notify_channel, author.language)


def check_notify_offered(author: Author, offered: list[str] | tuple[str, ...]) -> None:
    """SMS or Viber chosen where its gateway is not configured (gis/notify.offered_channels):
    400, rather than an author who believes they will get messages they never get."""
    if author.notify_channel in CHANNEL_NAMES and author.notify_channel not in offered:
        raise InvalidInput("notify_channel_not_offered", parameter="author.notify_channel",
                           channel=CHANNEL_NAMES[author.notify_channel])  # fmt: skip


def check_channel(channel: object, submitter: Submitter) -> str:
    if submitter.open311_client_id is not None:
        return OPEN311_CHANNEL  # an Open311 client's appeals come by its own channel only
    channel = CITIZEN_CHANNEL if channel in (None, "") else channel
    if channel == OPEN311_CHANNEL:
        raise Forbidden("channel_not_allowed", parameter="channel", value=channel)
    if channel not in CHANNELS:
        raise InvalidInput("unknown_channel", parameter="channel", value=channel,
                           allowed=", ".join(CHANNELS))  # fmt: skip
    if channel != CITIZEN_CHANNEL and not submitter.is_operator:
        raise Forbidden("channel_not_allowed", parameter="channel", value=channel)
    return channel


def check_idempotency_key(key: str | None) -> str | None:
    if key is None:
        return None
    key = key.strip()
    if not _KEY_ALLOWED.match(key):
        raise InvalidInput("invalid_idempotency_key", parameter="Idempotency-Key")
    return key


def validate(sub: Submission, submitter: Submitter, *, max_chars: int, max_photos: int) -> None:
    """Every check that needs no database, in the order a person filling the form meets
    them; the first broken rule is raised. Cleans `sub` in place."""
    if sub.category in (None, ""):
        raise InvalidInput("category_required", parameter="category")
    sub.text = check_text(sub.text, max_chars)
    sub.author = check_author(sub.author, submitter)
    sub.channel = check_channel(sub.channel, submitter)
    if len(sub.photos) > max_photos:
        raise InvalidInput("too_many_photos", parameter="photos", max=max_photos,
                           count=len(sub.photos))  # fmt: skip
    sub.street = _clean(sub.street, "location.street")
    sub.house = _clean(sub.house, "location.house")
    given = [
        name
        for name, present in (
            ("point", sub.lon is not None or sub.lat is not None),
            ("address", bool(sub.street or sub.house)),
            ("no_location", bool(sub.no_location)),
        )
        if present
    ]
    if len(given) > 1:
        raise InvalidInput("location_ambiguous", parameter="location", given=", ".join(given))
    if given == ["point"]:
        point = routing.check_point(sub.lon, sub.lat)
        assert point is not None  # a point was given
        sub.lon, sub.lat = point
    elif given == ["address"] and not (sub.street and sub.house):
        raise InvalidInput("address_incomplete", parameter="location.street")
    elif not given and not (sub.photos and sub.photos[0].gps):
        raise InvalidInput("location_required", parameter="location")


# --- the database ----------------------------------------------------------------------------


_CATEGORY_SQL = """
SELECT c.id, c.code, c.name, c.name_en, c.parent_id, c.deadline_days, c.needs_study,
       p.name AS kind_name, p.name_en AS kind_name_en,
       (SELECT string_agg(s.id || ' «' || s.name || '»', ', ' ORDER BY s.sort_order, s.id)
          FROM categories s WHERE s.parent_id = c.id AND s.is_active) AS subkinds
  FROM categories c LEFT JOIN categories p ON p.id = c.parent_id
 WHERE c.is_active AND (c.id = %(id)s OR c.code = %(code)s)
 ORDER BY c.id = %(id)s DESC LIMIT 1
"""


async def council_category(conn, category: dict, council: councils.Council) -> dict:
    """The category as `council` offers it (its deadline override), else InvalidInput
    `category_not_in_council`."""
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(
            "SELECT o.deadline_days_effective FROM (" + councils.CATEGORIES_OF_COUNCIL
            + ") o WHERE o.id = %(id)s",
            {"council": council.id, "id": category["id"]},
        )  # fmt: skip
        row = await cur.fetchone()
    if row is None:
        raise InvalidInput("category_not_in_council", parameter="category",
                           value=category["name"], council=council.name,
                           slug=council.slug)  # fmt: skip
    return {**category, "deadline_days": row["deadline_days_effective"]}


async def resolve_subkind(conn, category: int | str) -> dict:
    text = str(category).strip()
    params = {"id": int(text) if text.isdigit() and len(text) < 10 else None, "code": text}
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(_CATEGORY_SQL, params)
        row = await cur.fetchone()
    if row is None:
        raise InvalidInput("unknown_category", parameter="category", value=category)
    if row["parent_id"] is None and row["subkinds"]:
        raise InvalidInput("category_not_subkind", parameter="category", value=category,
                           name=row["name"], subkinds=row["subkinds"])  # fmt: skip
    return row


def _words(value: str) -> list[str]:
    return re.findall(r"[\w']+", value.lower().translate(_APOSTROPHES))


def _house_key(value: str) -> str:
    return re.sub(r"[\s\-/.,]", "", value.lower().translate(_APOSTROPHES))


async def locate_address(conn, street: str, house: str) -> tuple[float, float, str]:
    """(lon, lat, address) of a house: the street must be in the register (by its code, or
    its name with or without its kind, in any word order); a point of interest carrying that
    street and house number (addr:street, addr:housenumber) gives the point, else the house is
    interpolated between the street's known houses (gis/geocode.py interpolate_house)."""
    async with conn.cursor() as cur:
        await cur.execute("SELECT DISTINCT lower(kind) FROM streets")
        kinds = {r[0] for r in await cur.fetchall()}
        words = _words(street)
        given_kinds = {w for w in words if w in kinds}
        name_words = [w for w in words if w not in kinds]
        if street.strip().isdigit():
            await cur.execute("SELECT name, kind FROM streets WHERE code = %s", (street.strip(),))
        elif name_words:
            longest = max(name_words, key=len).replace("'", "_")
            await cur.execute(
                "SELECT name, kind FROM streets WHERE translate(lower(name), '’ʼ', '''''') LIKE %s",
                (f"%{longest}%",),
            )
        else:
            raise InvalidInput("unknown_street", parameter="location.street", street=street)
        candidates = [
            (name, kind) for name, kind in await cur.fetchall()
            if street.strip().isdigit() or (
                sorted(_words(name)) == sorted(name_words)
                and (not given_kinds or given_kinds == {kind.lower()})
            )
        ]  # fmt: skip
        if not candidates:
            raise InvalidInput("unknown_street", parameter="location.street", street=street)
        wanted = {tuple(sorted(_words(n) + _words(k))) for n, k in candidates}
        longest = max(_words(candidates[0][0]), key=len).replace("'", "_")
        await cur.execute(
            "SELECT ST_X(ST_PointOnSurface(geom)), ST_Y(ST_PointOnSurface(geom)),"
            " properties->>'addr:street', properties->>'addr:housenumber'"
            "  FROM layer_features WHERE layer_name = 'pois'"
            "   AND properties ? 'addr:housenumber'"
            "   AND translate(lower(properties->>'addr:street'), '’ʼ', '''''') LIKE %s"
            # A house of the served community first (a village nearby may have the street).
            " ORDER BY EXISTS (SELECT 1 FROM hromadas h WHERE h.valid_to IS NULL"
            "                   AND ST_Covers(h.geom, layer_features.geom)) DESC, feature_key",
            (f"%{longest}%",),
        )
        for lon, lat, poi_street, poi_house in await cur.fetchall():
            if tuple(sorted(_words(poi_street))) in wanted and _house_key(poi_house) == _house_key(
                house
            ):
                return float(lon), float(lat), f"{poi_street}, {poi_house}"
    # No point of interest holds that house: placed between its street's known houses.
    for hit in await geocode.interpolate_house(conn, candidates, house):
        return float(hit["lon"]), float(hit["lat"]), hit["label"]
    shown = f"{candidates[0][1]} {candidates[0][0]}"
    raise InvalidInput("address_not_found", parameter="location.house", street=shown, house=house)


NEAREST_ADDRESS_METRES = 30

_NEAREST_SQL = """
SELECT (properties->>'addr:street') || ', ' || (properties->>'addr:housenumber'),
       ST_Distance(geom::geography, p.g::geography)
  FROM layer_features, (SELECT ST_SetSRID(ST_MakePoint(%s, %s), 4326) AS g) p
 WHERE layer_name = 'pois' AND properties ? 'addr:street' AND properties ? 'addr:housenumber'
   AND ST_DWithin(geom, p.g, 0.001)
 ORDER BY geom <-> p.g LIMIT 1
"""


async def nearest_address(conn, lon: float, lat: float) -> str | None:
    """The address of the nearest house (a point of interest with addr:street and
    addr:housenumber) within NEAREST_ADDRESS_METRES of a point, for an appeal given as a
    point; None when there is none that close."""
    async with conn.cursor() as cur:
        await cur.execute(_NEAREST_SQL, (lon, lat))
        row = await cur.fetchone()
    return row[0] if row and row[1] <= NEAREST_ADDRESS_METRES else None


async def place(conn, *, lon: float | None, lat: float | None, category_id: int,
                address: str | None = None,
                council: councils.Council | int | None = None,
                ) -> tuple[routing.RoutingDecision, str | None]:  # fmt: skip
    """What an appeal stores of its place: routing's decision at the point (with the district
    and the ward covering it; InvalidInput 'outside_service_area' outside the community) and
    the address — the one given, else the nearest house's. At filing, and when a curator or an
    operator gives a place to an appeal filed without one (gis/lifecycle.py locate). With no
    point, the decision is `council`'s (else the only council's)."""
    decision = await routing.decide(conn, lon=lon, lat=lat, category_id=category_id,
                                    council=council)  # fmt: skip
    if address is None and lon is not None and lat is not None:
        address = await nearest_address(conn, lon, lat)
    return decision, address


async def _claim(conn, idem: Idempotency) -> Outcome | None:
    """Claim the key for this transaction, or return the first answer given under it."""
    async with conn.cursor() as cur:
        await cur.execute(
            "INSERT INTO idempotency_keys (key, owner, request_hash, status_code, response)"
            " VALUES (%s, %s, %s, 0, '{}') ON CONFLICT DO NOTHING RETURNING key",
            (idem.key, idem.owner, idem.request_hash),
        )
        if await cur.fetchone() is not None:
            return None
        await cur.execute(
            "SELECT request_hash, status_code, response FROM idempotency_keys"
            " WHERE key = %s AND owner = %s",
            (idem.key, idem.owner),
        )
        row = await cur.fetchone()
        assert row is not None  # the key exists: the INSERT above conflicted
        request_hash, status_code, response = row
    if request_hash != idem.request_hash:
        raise Conflict("idempotency_key_reused", parameter="Idempotency-Key")
    return Outcome(status_code, response, replayed=True)


def photo_url(sha256: str) -> str:
    return f"/api/v1/photos/{sha256}"


@dataclass
class _Registered:
    """An appeal stored but for its 'registered' event, which _seal inserts last."""

    body: dict
    appeal_id: int
    council_id: int
    event: tuple  # the event's id, appeal_id, at, actor, actor_user_id, new, comment


async def _seal(conn, event: tuple) -> None:
    """The 'registered' event, as the transaction's last statement. Inserting an event takes
    the audit chain's lock (hromada_appeal_events_seal: one chain for the whole service), held
    until the commit: filings wait for one another only over this row and the commit, not
    over the notice, the similar appeals and the idempotency record before it."""
    await conn.execute(
        "INSERT INTO appeal_events (id, appeal_id, at, actor, actor_user_id, action, old, new,"
        " comment) VALUES (%s, %s, %s, %s, %s, 'registered', NULL, %s, %s)",
        event,
    )


async def _register(conn, sub: Submission, submitter: Submitter, data_dir: Path,
                    created_files: list[Path], settings=None) -> _Registered:  # fmt: skip
    assert sub.category is not None  # validate() required it
    category = await resolve_subkind(conn, sub.category)
    address = None
    lon: float | None
    lat: float | None
    if sub.street:
        lon, lat, address = await locate_address(conn, sub.street, sub.house or "")
        source = "address"
    elif sub.no_location:
        lon = lat = None
        source = "none"
    elif sub.lon is not None:
        assert isinstance(sub.lon, float) and isinstance(sub.lat, float)  # validate() parsed them
        lon, lat, source = sub.lon, sub.lat, "point"
    else:
        gps = sub.photos[0].gps
        assert gps is not None  # validate() required a location or a photo with one
        lon, lat = gps
        source = "photo_exif"
    # No place: the council the submission names (else the only one; several → 400).
    named = await councils.choose(conn, sub.council) if lon is None else None
    try:
        decision, address = await place(conn, lon=lon, lat=lat, category_id=category["id"],
                                        address=address, council=named)  # fmt: skip
    except InvalidInput as exc:
        if source == "photo_exif" and exc.code == "outside_service_area":
            # The author gave no place: say where the proposal came from, and what to do.
            raise InvalidInput("photo_location_outside", parameter="location", lon=lon,
                               lat=lat) from None  # fmt: skip
        raise
    assert decision.council_id is not None  # decide() refused an appeal of no council
    council = councils.check_open(
        named if named is not None else await routing.council_by_id(conn, decision.council_id)
    )  # occupied → 400 council_occupied, naming it
    category = await council_category(conn, category, council)

    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(
            "SELECT now() AS now, nextval('appeal_number_seq') AS seq,"
            " nextval(pg_get_serial_sequence('appeal_events', 'id')) AS event_id,"
            " (SELECT jsonb_build_object('id', id, 'code', code, 'name', name)"
            "    FROM districts WHERE id = %s) AS district,"
            " (SELECT jsonb_build_object('id', id, 'number', number, 'name', name)"
            "    FROM wards WHERE id = %s) AS ward",
            (decision.district_id, decision.ward_id),
        )
        head = await cur.fetchone()
    created_at: dt.datetime = head["now"]
    deadline_at = deadline_for(created_at, deadline_days=category["deadline_days"],
                               needs_study=category["needs_study"])  # fmt: skip
    number = councils.format_number(
        council.number_prefix, surname_initial(sub.author.full_name or ""), head["seq"]
    )
    privileged = bool(sub.author.privilege)
    async with conn.cursor() as cur:
        await cur.execute(
            "INSERT INTO appeals (number, category_id, text, is_public, channel, status,"
            " privileged, geom, address, district_id, ward_id, executor_id, routing_rule_id,"
            " routing_reason, areas, created_at, updated_at, deadline_at, open311_client_id,"
            " council_id)"
            " VALUES (%s, %s, %s, %s, %s, 'registered', %s,"
            " CASE WHEN %s::float8 IS NULL THEN NULL"
            "      ELSE ST_SetSRID(ST_MakePoint(%s::float8, %s::float8), 4326) END,"
            " %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) RETURNING id",
            (number, category["id"], sub.text, sub.consent_to_publish, sub.channel, privileged,
             lon, lon, lat, address, decision.district_id, decision.ward_id,
             decision.executor_id, decision.rule_id, decision.reason,
             json.dumps(decision.areas, ensure_ascii=False), created_at, created_at,
             deadline_at, submitter.open311_client_id, council.id),
        )  # fmt: skip
        appeal_id = (await cur.fetchone())[0]
        # An appeal about advertising or a kiosk: linked to its structure (or marked as
        # having none nearby), in this transaction.
        await structure_links.link(
            conn, appeal_id,
            distance_m=settings.structure_link_distance_m if settings is not None else None,
        )  # fmt: skip
        a = sub.author
        await cur.execute(
            "INSERT INTO appeal_authors (appeal_id, full_name, email, phone, postal_address,"
            " privilege, user_id, notify_channel, language)"
            " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
            (appeal_id, a.full_name, a.email, a.phone, a.postal_address, a.privilege,
             submitter.user_id if submitter.role == "citizen" else None,
             a.notify_channel or "email", a.language or "uk"),
        )  # fmt: skip
        seen: set[str] = set()
        stored = []
        for position, photo in enumerate(sub.photos):
            if photo.sha256 in seen:
                continue
            seen.add(photo.sha256)
            stored.append(photo)
            await cur.execute(
                "INSERT INTO appeal_photos (appeal_id, sha256, content_type, bytes, width,"
                " height, kind, position) VALUES (%s, %s, %s, %s, %s, %s, 'appeal', %s)",
                (appeal_id, photo.sha256, photo.content_type, len(photo.data), photo.width,
                 photo.height, position),
            )  # fmt: skip
        new = {
            "status": "registered", "number": number, "category_id": category["id"],
            "channel": sub.channel, "executor_id": decision.executor_id,
            "routing_rule_id": decision.rule_id, "deadline_at": iso(deadline_at),
            "privileged": privileged, "location_source": source,
        }  # fmt: skip
    # The event's row is inserted last (_seal), under its id taken now.
    event_id = head["event_id"]
    event = (event_id, appeal_id, created_at, submitter.actor, submitter.user_id,
             json.dumps(new, ensure_ascii=False), decision.reason)  # fmt: skip
    # The author's registration notice (number, term, link), in this transaction: the outbox.
    await notify.enqueue(conn, appeal_id=appeal_id, event_id=event_id, kind="registered",
                         settings=settings)  # fmt: skip

    # The files last, still inside the transaction: a failure here rolls everything back.
    for photo in stored:
        path = await asyncio.to_thread(photos.store, data_dir, photo)
        if path is not None:
            created_files.append(path)

    body = {
        "number": number,
        "status": "registered",
        "created_at": iso(created_at),
        "deadline_at": iso(deadline_at),
        "category": {
            "id": category["id"], "code": category["code"], "name": category["name"],
            "kind": category["kind_name"], "deadline_days": category["deadline_days"],
            "needs_study": category["needs_study"],
        },
        "channel": sub.channel,
        "privileged": privileged,
        "is_public": sub.consent_to_publish,
        "location": None if lon is None else {"lon": lon, "lat": lat},
        "location_source": source,
        "address": address,
        "council": council.public(),
        "district": head["district"],
        "ward": head["ward"],
        "executor": {"id": decision.executor_id, "code": decision.executor_code,
                     "name": decision.executor_name},
        "routing": {"rule_id": decision.rule_id, "reason": decision.reason,
                    "areas": decision.areas},
        "routing_reason": decision.reason,
        "photos": [
            {"sha256": p.sha256, "url": photo_url(p.sha256), "content_type": p.content_type,
             "width": p.width, "height": p.height}
            for p in stored
        ],
    }  # fmt: skip
    return _Registered(body, appeal_id, council.id, event)


async def _remove_orphans(conn, files: list[Path]) -> None:
    """Remove files written for a submission that was rolled back, unless another appeal
    (committed meanwhile) refers to the same picture."""
    for path in files:
        sha = path.stem
        try:
            async with conn.cursor() as cur:
                await cur.execute("SELECT 1 FROM appeal_photos WHERE sha256 = %s LIMIT 1", (sha,))
                if await cur.fetchone() is None:
                    path.unlink(missing_ok=True)
        except Exception:
            path.unlink(missing_ok=True)


async def submit(conn, sub: Submission, submitter: Submitter, *, data_dir: Path,
                 idempotency: Idempotency | None = None,
                 duplicate_radius_m: float = 100.0, settings=None,
                 on_registered: Callable[[Any, dict], Awaitable[None]] | None = None,
                 ) -> Outcome:  # fmt: skip
    """Register a validated submission in one transaction (see the module's docstring).
    `conn` is an autocommit connection; the answer is 201 with the new appeal, or the first
    answer under the same Idempotency-Key. `on_registered(conn, body)` runs in the same
    transaction once the appeal is stored, and may add to the answer (an Open311 token)."""
    created: list[Path] = []
    try:
        async with conn.transaction():
            if idempotency is not None:
                replay = await _claim(conn, idempotency)
                if replay is not None:
                    return replay
            reg = await _register(conn, sub, submitter, Path(data_dir), created, settings)
            body = reg.body
            body["similar_open_appeals"] = await _similar_open(conn, body, duplicate_radius_m,
                                                               reg.council_id)  # fmt: skip
            if on_registered is not None:
                await on_registered(conn, body)
            if idempotency is not None:
                await conn.execute(
                    "UPDATE idempotency_keys SET status_code = 201, response = %s,"
                    " appeal_id = %s WHERE key = %s AND owner = %s",
                    (json.dumps(body, ensure_ascii=False), reg.appeal_id, idempotency.key,
                     idempotency.owner),
                )  # fmt: skip
            await _seal(conn, reg.event)
    except BaseException:
        if created:
            await _remove_orphans(conn, created)
        raise
    return Outcome(201, body, created_files=created)


# The shortest degree of latitude on the WGS 84 ellipsoid (at the equator), in metres; a degree
# of longitude is at least 111,319 m × cos(latitude).
_SHORTEST_DEGREE_M = 110_574.0


async def _similar_open(conn, body: dict, radius_m: float, council_id: int) -> list[dict]:
    """Open appeals of the same category near the new one: the author may support one of
    them instead (and the executor sees the cluster)."""
    if body["location"] is None:
        return []
    lon, lat = body["location"]["lon"], body["location"]["lat"]
    # `a.geom::geography` can use no index: the box around the point (in degrees, wider than
    # the circle) lets each partition's GiST index on geom find the few candidates, which
    # ST_DWithin then measures — rather than every open appeal of the category in the city.
    dy = radius_m / _SHORTEST_DEGREE_M * 1.05
    cos_lat = math.cos(math.radians(lat))
    dx = dy / cos_lat if cos_lat > 0.01 else 360.0
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(
            "WITH p AS (SELECT ST_SetSRID(ST_MakePoint(%(lon)s, %(lat)s), 4326) AS g)"
            " SELECT a.number, a.status, a.address,"
            " round(ST_Distance(a.geom::geography, p.g::geography)::numeric, 1)::float"
            " AS distance_m"
            " FROM appeals a, p WHERE a.category_id = %(c)s AND a.status <> 'closed'"
            " AND a.number <> %(n)s AND a.geom && ST_Expand(p.g, %(dx)s, %(dy)s)"
            " AND ST_DWithin(a.geom::geography, p.g::geography, %(r)s)"
            " AND a.council_id = %(council)s"
            " ORDER BY distance_m, a.id LIMIT 5",
            {"lon": lon, "lat": lat, "c": body["category"]["id"], "n": body["number"],
             "r": radius_m, "dx": dx, "dy": dy, "council": council_id},
        )  # fmt: skip
        return await cur.fetchall()


# --- the public view ---------------------------------------------------------------------------


# Only these columns are read: the author's table is not joined at all.
_PUBLIC_SQL = """
SELECT a.id, a.number, a.status, a.kind, a.is_public, a.text, a.result, a.address,
       a.created_at, a.deadline_at, a.extended_until, a.closed_at, a.support_count,
       ST_X(a.geom) AS lon, ST_Y(a.geom) AS lat,
       (a.status <> 'closed' AND coalesce(a.extended_until, a.deadline_at) < now()) AS overdue,
       (SELECT e.new ->> 'answer' FROM appeal_events e
         WHERE e.appeal_id = a.id AND e.action = 'answer'
         ORDER BY e.id DESC LIMIT 1) AS answer,
       c.id AS category_id, c.code AS category_code, c.name AS category_name,
       c.name_en AS category_name_en, p.name AS kind_name, p.name_en AS kind_name_en,
       d.code AS district_code, d.name AS district_name, w.number AS ward_number,
       coalesce(e.short_name, e.name) AS executor_name
  FROM appeals a
  JOIN categories c ON c.id = a.category_id
  LEFT JOIN categories p ON p.id = c.parent_id
  LEFT JOIN districts d ON d.id = a.district_id
  LEFT JOIN wards w ON w.id = a.ward_id
  LEFT JOIN executors e ON e.id = a.executor_id
 WHERE a.number = %s
"""


async def public_appeal(conn, number: str) -> dict:
    """What anyone may see of an appeal: never the author's name, contacts or address; the
    text and photos only when the author consented to publish them."""
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(_PUBLIC_SQL, (number,))
        row = await cur.fetchone()
        if row is None:
            raise NotFound("appeal_not_found", number=number)
        await cur.execute(
            "SELECT sha256, kind, content_type, width, height FROM appeal_photos"
            " WHERE appeal_id = %s AND (kind = 'answer' OR %s) ORDER BY kind, position, id",
            (row["id"], row["is_public"]),
        )
        shown = await cur.fetchall()
    uk, en = status_name(row["status"]), status_name(row["status"], "en")
    kind = (
        {"name": row["kind_name"], "name_en": row["kind_name_en"]}
        if row["kind_name"] else None
    )  # fmt: skip
    return {
        "number": row["number"],
        "status": row["status"],
        "status_name": uk,
        "status_name_en": en,
        "kind": row["kind"],
        "category": {
            "id": row["category_id"],
            "code": row["category_code"],
            "kind": kind,
            "name": row["category_name"],
            "name_en": row["category_name_en"],
        },  # fmt: skip
        "address": row["address"],
        "location": None if row["lon"] is None else {"lon": row["lon"], "lat": row["lat"]},
        "created_at": iso(row["created_at"]),
        "deadline_at": iso(row["extended_until"] or row["deadline_at"]),
        "closed_at": iso(row["closed_at"]),
        "district": (
            {"code": row["district_code"], "name": row["district_name"]}
            if row["district_code"]
            else None
        ),  # fmt: skip
        "ward_number": row["ward_number"],
        "executor": row["executor_name"],
        "result": row["result"],
        "result_en": result_en(row["result"]),
        "answer": row["answer"],  # the executor's latest answer: public by law and by 1551
        "overdue": row["overdue"],
        "is_public": row["is_public"],
        "text": row["text"] if row["is_public"] else None,
        "support_count": row["support_count"],
        "photos": [
            {
                "url": photo_url(p["sha256"]),
                "kind": p["kind"],
                "content_type": p["content_type"],
                "width": p["width"],
                "height": p["height"],
            }
            for p in shown
        ],  # fmt: skip
    }


async def visible_photo(conn, sha256: str, principal: object = None) -> tuple[str, bool] | None:
    """(content type, public) of a photo `principal` may see, or None: anyone sees a photo of
    a published appeal or of an executor's answer; staff and the author see the photos of
    the appeals in their scope (gis/scope.py)."""
    scope_sql, scope_params = appeal_scope(principal)
    async with conn.cursor() as cur:
        await cur.execute(
            "SELECT p.content_type, bool_or(a.is_public OR p.kind = 'answer') AS public"
            "  FROM appeal_photos p JOIN appeals a ON a.id = p.appeal_id"
            f" WHERE p.sha256 = %s AND (a.is_public OR p.kind = 'answer' OR {scope_sql})"
            " GROUP BY p.content_type LIMIT 1",
            [sha256, *scope_params],
        )
        row = await cur.fetchone()
    return (row[0], bool(row[1])) if row else None


async def categories(conn, council: councils.Council | None = None) -> list[dict]:
    """The active kinds, each with its active sub-kinds, with their deadlines; with `council`,
    what that council offers, with its own deadlines."""
    async with conn.cursor(row_factory=dict_row) as cur:
        if council is None:
            await cur.execute(
                "SELECT id, parent_id, code, name, name_en, deadline_days, needs_study"
                " FROM categories WHERE is_active ORDER BY sort_order, name, id"
            )
        else:
            await cur.execute(
                "SELECT o.id, o.parent_id, o.code, o.name, o.name_en,"
                " o.deadline_days_effective AS deadline_days, o.needs_study"
                " FROM (" + councils.CATEGORIES_OF_COUNCIL + ") o"
                " ORDER BY o.sort_order, o.name, o.id",
                {"council": council.id},
            )
        rows = await cur.fetchall()
    kinds: dict[int, dict] = {}
    for r in rows:
        if r["parent_id"] is None:
            kinds[r["id"]] = {**{k: v for k, v in r.items() if k != "parent_id"}, "subkinds": []}
    for r in rows:
        if r["parent_id"] in kinds:
            kinds[r["parent_id"]]["subkinds"].append(
                {k: v for k, v in r.items() if k != "parent_id"}
            )
    return list(kinds.values())
