"""Open data (issue 14, item 3): the public appeals as Kyiv publishes its 1551 records.

`GET /api/v1/opendata/appeals.csv` and `.geojson` (api/routers/opendata.py) stream every
public appeal matching the public feed's filters (gis/public_feed.py: `parse_query`,
`resolve`, `where` — the same parameters, `council` included, with period `all` by default)
in the field names and value formats of the records of data.1551.gov.ua (../shared/data/
kyiv_1551_appeals_sample.json), plus the point (`lon`, `lat`) and, only when its author
consented to publish it, the appeal's own text (`text`). The city (`addressAdminUnitL2`,
`addressPostName`) is the name of the appeal's council (issue 17: one council per hromada).

Like the feed, everything is read from the view `appeal_features`, which never reads
`appeal_authors` and gives the text only when `is_public`: no author's name, e-mail, phone or
postal address can reach the export.

The GeoJSON's rows come from a server-side cursor in batches of BATCH, the CSV as the
database writes it (COPY … TO STDOUT, COPY_SQL), so memory stays flat for the whole table;
each batch of BATCH rows becomes one chunk of the response. The CSV's lon and
lat are rounded to 6 decimals by the database (its rounding of a tie can differ from Python's,
which the GeoJSON uses, by 0.000001).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
from collections.abc import AsyncIterator, Iterable
from typing import Any

from psycopg import AsyncConnection

from gis import public_feed as feed
from gis.errors import InvalidParameter
from gis.replica import Connections

BATCH = 2000

# Kyiv's record, field by field, in its order; then ours.
KYIV_FIELDS = (
    "Id", "uid", "receivedDateTime", "type", "kind", "content", "accrualMethod", "CATUTTC",
    "addressPostCode", "addressAdminUnitL1", "addressAdminUnitL2", "addressAdminUnitL3",
    "addressAdminUnitL4", "addressPostName", "addressThoroughfare", "addressLocatorDesignator",
    "addressLocatorBuilding", "status", "organizationName", "organizationId", "result",
)  # fmt: skip
EXTRA_FIELDS = ("lon", "lat", "text")
FIELDS = KYIV_FIELDS + EXTRA_FIELDS
# Fields we have no data for: always empty (the page says so).
EMPTY_FIELDS = ("addressPostCode", "addressAdminUnitL3", "addressAdminUnitL4",
                "addressLocatorBuilding")  # fmt: skip

# Our channels (gis/models.CHANNELS) in 1551's words for `accrualMethod`.
ACCRUAL_METHODS = {
    "phone_1551": "Дзвінок в 1551", "site": "Сайт/моб. додаток", "government_hotline": "УГЛ",
    "email": "E-mail", "tv": "Телеефір", "112": "112", "letter": "Лист",
    "open311": "Сайт/моб. додаток",
}  # fmt: skip
APPEAL_TYPE = "Звернення"  # 1551 publishes every record as «Звернення» (thanks: kind «Подяки»)
COUNTRY = "Україна"

# A house number at the end of an address: "вул. Роздільна, 5" → ("вул. Роздільна", "5").
_HOUSE = re.compile(r"^(?P<street>.+?),\s*(?P<house>\d[\w/\-]*)\s*$")

SQL = """
SELECT f.id, f.number, f.created_at, coalesce(p.name, c.name) AS kind,
       CASE WHEN p.id IS NULL THEN NULL ELSE c.name END AS content, f.channel, d.code,
       k.name AS city, f.address,
       f.status_name, x.name AS organization, f.executor_id, f.result,
       ST_X(f.geom), ST_Y(f.geom), f.text
  FROM (SELECT * FROM appeal_features WHERE {where}) f
  LEFT JOIN categories c ON c.id = f.category_id
  LEFT JOIN categories p ON p.id = c.parent_id
  LEFT JOIN districts d ON d.id = f.district_id
  LEFT JOIN councils k ON k.id = f.council_id
  LEFT JOIN executors x ON x.id = f.executor_id
 ORDER BY f.id
"""


# The CSV's rows as PostgreSQL writes them (COPY … TO STDOUT (FORMAT csv)): the same fields
# and values as `record()` gives the GeoJSON, formatted by the database, so that no Python
# object is made per value (3 million appeals: 26 thousand rows/s through record() and the csv
# module, bench/reports_3m.py). Empty strings become NULL, written as nothing, as the csv
# module writes None; the records end in LF (COPY's line end), where the csv module wrote CRLF.
_ACCRUAL_SQL = " ".join(f"WHEN '{k}' THEN '{v}'" for k, v in ACCRUAL_METHODS.items())
COPY_SQL = f"""
SELECT f.id, f.number, to_char(f.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI"Z"'),
       '{APPEAL_TYPE}', nullif(coalesce(p.name, c.name), ''),
       CASE WHEN p.id IS NULL THEN NULL ELSE nullif(c.name, '') END,
       CASE f.channel {_ACCRUAL_SQL} ELSE f.channel END, d.code, NULL, '{COUNTRY}',
       nullif(k.name, ''), NULL, NULL, nullif(k.name, ''),
       nullif(coalesce(m[1], f.address), ''), m[2], NULL,
       nullif(f.status_name, ''), nullif(x.name, ''), f.executor_id, nullif(f.result, ''),
       round(ST_X(f.geom)::numeric, 6)::float8, round(ST_Y(f.geom)::numeric, 6)::float8,
       nullif(f.text, '')
  FROM (SELECT * FROM appeal_features WHERE {{where}}) f
  LEFT JOIN categories c ON c.id = f.category_id
  LEFT JOIN categories p ON p.id = c.parent_id
  LEFT JOIN districts d ON d.id = f.district_id
  LEFT JOIN councils k ON k.id = f.council_id
  LEFT JOIN executors x ON x.id = f.executor_id
  LEFT JOIN LATERAL regexp_match(f.address, '^(.+?),\\s*(\\d[\\w/-]*)\\s*$') m ON true
 ORDER BY f.id
"""


def parse_query(
    params: Iterable[tuple[str, str]], now: dt.datetime | None = None
) -> feed.PublicQuery:
    """The feed's filters (only those: no paging), period `all` unless one is given."""
    params = list(params)
    for name, _ in params:
        if name not in feed.FILTER_PARAMS:
            raise InvalidParameter(
                "unknown_parameter", name, allowed=", ".join(sorted(feed.FILTER_PARAMS))
            )
    names = {n for n, _ in params}
    if not names & {"period", "date_from", "date_to"}:
        params.append(("period", "all"))
    return feed.parse_query(params, statistics=True, now=now)


def _received(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%MZ")  # as 1551: "2025-09-01T00:42Z"


def record(row: tuple) -> dict[str, Any]:
    """One appeal as a 1551 record (None where we have nothing)."""
    (id_, number, created_at, kind, content, channel, code, city, address, status, org,
     org_id, result, lon, lat, text) = row  # fmt: skip
    street, house = address, None
    if address and (m := _HOUSE.match(address)):
        street, house = m["street"], m["house"]
    return {
        "Id": id_, "uid": number, "receivedDateTime": _received(created_at), "type": APPEAL_TYPE,
        "kind": kind, "content": content, "accrualMethod": ACCRUAL_METHODS.get(channel, channel),
        "CATUTTC": code, "addressPostCode": None, "addressAdminUnitL1": COUNTRY,
        "addressAdminUnitL2": city, "addressAdminUnitL3": None, "addressAdminUnitL4": None,
        "addressPostName": city, "addressThoroughfare": street,
        "addressLocatorDesignator": house, "addressLocatorBuilding": None, "status": status,
        "organizationName": org, "organizationId": org_id, "result": result,
        "lon": round(lon, 6) if lon is not None else None,
        "lat": round(lat, 6) if lat is not None else None,
        "text": text,
    }  # fmt: skip


async def rows(pool: Connections, q: feed.PublicQuery) -> AsyncIterator[list[tuple]]:
    """The matching appeals in batches, from a server-side cursor (flat memory)."""
    clause, args = feed.where(q)
    async with pool.connection() as conn, conn.transaction():
        async with conn.cursor(name="opendata_appeals") as cur:
            await cur.execute(SQL.format(where=clause), args)
            while batch := await cur.fetchmany(BATCH):
                yield batch


async def csv_chunks(pool: Connections, q: feed.PublicQuery) -> AsyncIterator[bytes]:
    """UTF-8 with a BOM (spreadsheets read the Cyrillic), a header, then COPY's own CSV as the
    database sends it (a row a message), BATCH rows a chunk."""
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerow(FIELDS)
    yield ("\ufeff" + buf.getvalue()).encode()
    clause, args = feed.where(q)
    query = f"COPY ({COPY_SQL.format(where=clause)}) TO STDOUT (FORMAT csv)"
    async with pool.connection() as conn, conn.cursor() as cur:
        async with cur.copy(query, args) as copy:
            parts: list[bytes] = []
            async for data in copy:
                parts.append(bytes(data))
                if len(parts) >= BATCH:
                    yield b"".join(parts)
                    parts = []
            if parts:
                yield b"".join(parts)


async def geojson_chunks(pool: Connections, q: feed.PublicQuery) -> AsyncIterator[bytes]:
    """A FeatureCollection written feature by feature (properties: the 1551 record)."""
    yield b'{"type":"FeatureCollection","features":['
    first = True
    async for batch in rows(pool, q):
        parts = []
        for r in batch:
            props = record(r)
            lon, lat = props["lon"], props["lat"]
            geometry = {"type": "Point", "coordinates": [lon, lat]} if lon is not None else None
            parts.append(
                ("" if first else ",")
                + json.dumps(
                    {
                        "type": "Feature",
                        "id": props["Id"],
                        "geometry": geometry,
                        "properties": props,
                    },
                    ensure_ascii=False,
                    separators=(",", ":"),
                )  # fmt: skip
            )
            first = False
        yield "".join(parts).encode()
    yield b"]}"


async def last_updated(conn: AsyncConnection) -> dt.datetime | None:
    """When the data last changed: the newest appeal's updated_at."""
    cur = await conn.execute("SELECT max(updated_at) FROM appeals")
    row = await cur.fetchone()
    return row[0] if row else None
