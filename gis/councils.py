"""Councils — the tenants (issue 17): the one home of council lookups.

A council (table `councils`, migration 0018) is a hromada's council, stable across boundary
versions: its area is the current `hromadas` row of its KATOTTH `code`. Every tenant table
carries `council_id`; who may see which council's rows is gis/scope.council_scope.

- `resolve(conn, ref)`: a council by slug or KATOTTH code (any case); NotFound
  `council_not_found`. `resolve_many` for a comma list. `only(conn)`: the council of a
  one-council install, else None. `choose(conn, ref)`: the named one, else the only one, else
  InvalidInput `council_required`.
- `COUNCIL_AT_POINT_SQL`: the council covering a point — the lowest KATOTTH code wins on a
  shared border (routing, the demo and gis/routing_bulk.py must agree on this rule). The
  placeholder council (code '', made by `default_council_id()` before any boundary is
  loaded) covers every current hromada.
- `check_open(council)`: InvalidInput `council_occupied` for an occupied council.
- `CATEGORIES_OF_COUNCIL`: what a council offers, with its own deadline and keywords.
- `APPEAL_COUNCIL_SQL`: an appeal's council {code, slug, name, name_en} (the staff's cards).
- `format_number(prefix, initial, seq)`: «ЗП-П-6714»; Kyiv's prefix '' keeps «П-6714».
- `list_public(conn)`: every council as the API shows it.
- `ensure_single(conn, code, name, …)`: a one-community install's council after its boundary
  is loaded (importers/pipeline.run_import after a hromadas import, the Kyiv demo).
- `home_extent(conn, council_ids)`: the portal maps' home (bbox and centre) — the councils'
  boundaries, else every current hromada's (the portal caches it per hromadas generation).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

from psycopg import AsyncConnection, Connection
from psycopg.rows import dict_row

from gis.errors import InvalidInput, NotFound

KYIV_CODE = "UA80000000000093317"  # KATOTTH of the city of Kyiv
PLACEHOLDER_CODE = ""  # default_council_id()'s council before any boundary is loaded
SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{1,39}$")
MAX_REF_LENGTH = 64
MAX_REFS = 100

_COLUMNS = "id, code, slug, name, name_en, number_prefix, occupied_since, occupied_source"

# p.geom: the point (a row or a subquery aliased p). The placeholder (code '') covers any.
COUNCIL_AT_POINT_SQL = (
    "SELECT k.id FROM hromadas h JOIN councils k ON k.code = h.code OR k.code = ''"
    " WHERE h.valid_to IS NULL AND ST_Covers(h.geom, p.geom) ORDER BY h.code, k.id LIMIT 1"
)

# What a council (%(council)s) offers: the shared catalogue it chose and its own sub-kinds,
# with its deadline override and extra keywords.
CATEGORIES_OF_COUNCIL = """
SELECT c.*, coalesce(cc.deadline_days, c.deadline_days) AS deadline_days_effective,
       c.keywords || coalesce(cc.keywords, '{}') AS keywords_effective
  FROM council_categories cc JOIN categories c ON c.id = cc.category_id
 WHERE cc.council_id = %(council)s AND cc.is_active AND c.is_active
   AND (c.council_id IS NULL OR c.council_id = cc.council_id)
"""

# An appeal's (alias a) council as the staff's cards name it: {code, slug, name, name_en}.
APPEAL_COUNCIL_SQL = (
    "(SELECT json_build_object('code', k.code, 'slug', k.slug, 'name', k.name,"
    " 'name_en', k.name_en) FROM councils k WHERE k.id = a.council_id)"
)


@dataclass(frozen=True)
class Council:
    id: int
    code: str
    slug: str
    name: str
    name_en: str | None = None
    number_prefix: str = ""
    occupied_since: dt.date | None = None
    occupied_source: str | None = None

    @property
    def occupied(self) -> bool:
        return self.occupied_since is not None

    def public(self) -> dict[str, Any]:
        """The JSON shape of a council everywhere (PLAN17 §4, the contract)."""
        return {
            "code": self.code,
            "slug": self.slug,
            "name": self.name,
            "name_en": self.name_en,
            "number_prefix": self.number_prefix,
            "occupied": self.occupied,
            "occupied_since": self.occupied_since.isoformat() if self.occupied_since else None,
        }


def _council(row: dict | None) -> Council | None:
    return Council(**row) if row is not None else None


def _ref(ref: object) -> str:
    if not isinstance(ref, str) or not ref.strip() or len(ref) > MAX_REF_LENGTH:
        raise NotFound("council_not_found", council=str(ref)[:MAX_REF_LENGTH])
    return ref.strip()


async def resolve(conn: AsyncConnection, ref: str) -> Council:
    """The council named by slug or KATOTTH code, in any case; NotFound otherwise."""
    ref = _ref(ref)
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(
            f"SELECT {_COLUMNS} FROM councils WHERE lower(slug) = lower(%s)"
            " OR upper(code) = upper(%s) AND code <> '' ORDER BY id LIMIT 1",
            (ref, ref),
        )
        council = _council(await cur.fetchone())
    if council is None:
        raise NotFound("council_not_found", council=ref)
    return council


async def resolve_many(conn: AsyncConnection, refs: str) -> list[Council]:
    """A comma list of slugs or codes (the `council` query parameter), each resolved once."""
    parts = [p.strip() for p in (refs or "").split(",") if p.strip()]
    if not parts or len(parts) > MAX_REFS:
        raise NotFound("council_not_found", council=(refs or "")[:MAX_REF_LENGTH])
    found: dict[int, Council] = {}
    for part in parts:
        council = await resolve(conn, part)
        found.setdefault(council.id, council)
    return list(found.values())


async def only(conn: AsyncConnection) -> Council | None:
    """The council of a one-council install; None when there are none or several."""
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(f"SELECT {_COLUMNS} FROM councils ORDER BY id LIMIT 2")
        rows = await cur.fetchall()
    return _council(rows[0]) if len(rows) == 1 else None


async def choose(conn: AsyncConnection, ref: str | None) -> Council:
    """The council a request names (slug or code), else the only one; with several and none
    named, InvalidInput `council_required`."""
    if ref is not None and str(ref).strip():
        return await resolve(conn, ref)
    council = await only(conn)
    if council is None:
        raise InvalidInput("council_required")
    return council


async def at_point(conn: AsyncConnection, lon: float, lat: float) -> Council | None:
    """The council covering the point (the lowest code on a border), or None."""
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(
            f"SELECT {_COLUMNS} FROM councils WHERE id = ("
            f"{COUNCIL_AT_POINT_SQL.replace('p.geom', 'ST_SetSRID(ST_MakePoint(%s, %s), 4326)')})",
            (lon, lat),
        )
        return _council(await cur.fetchone())


def check_open(council: Council) -> Council:
    """The council, unless it is occupied: InvalidInput `council_occupied` {council, since}."""
    if council.occupied_since is not None:
        raise InvalidInput(
            "council_occupied", council=council.name, since=council.occupied_since.isoformat()
        )
    return council


def format_number(prefix: str, initial: str, sequence_value: int) -> str:
    """An appeal's number: 1551's «П-6714», after the council's prefix when it has one
    («ЗП-П-6714»). The sequence is global, so the number is unique across councils."""
    number = f"{initial}-{sequence_value}"
    return f"{prefix}-{number}" if prefix else number


async def list_public(conn: AsyncConnection) -> list[Council]:
    """Every council, by name (occupied ones included: they are listed and mapped)."""
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(f"SELECT {_COLUMNS} FROM councils WHERE code <> '' ORDER BY name, code")
        return [Council(**r) for r in await cur.fetchall()]


def slug_for(code: str) -> str:
    """A council's default slug: `kyiv` for Kyiv, else its code in lower case."""
    if code == KYIV_CODE:
        return "kyiv"
    slug = re.sub(r"[^a-z0-9-]", "-", code.lower()).strip("-")[:40]
    return slug if SLUG.match(slug) else "h-" + slug[:38] if slug else "council"


def ensure_single(
    conn: Connection, code: str, name: str, slug: str | None = None, name_en: str | None = None
) -> int | None:
    """A one-community install's council, once its boundary is loaded: the placeholder (or the
    only council, of this code) takes the code, slug and name; with no council, one is made;
    with several, or one of another code, nothing changes. Its id, or None."""
    slug = slug or slug_for(code)
    rows = conn.execute("SELECT id, code FROM councils ORDER BY id LIMIT 2").fetchall()
    if len(rows) > 1:
        return None
    if not rows:
        row = conn.execute(
            "INSERT INTO councils (code, slug, name, name_en) VALUES (%s, %s, %s, %s)"
            " ON CONFLICT DO NOTHING RETURNING id",
            (code, slug, name, name_en),
        ).fetchone()
        return int(row[0]) if row else None
    council_id, current = rows[0]
    if current not in (PLACEHOLDER_CODE, code):
        return None
    conn.execute(
        "UPDATE councils SET code = %s, slug = %s, name = %s,"
        " name_en = coalesce(%s, name_en) WHERE id = %s"
        " AND (code, slug, name, name_en) IS DISTINCT FROM (%s, %s, %s, coalesce(%s, name_en))",
        (code, slug, name, name_en, council_id, code, slug, name, name_en),
    )
    return int(council_id)


# The home extent's SQL: the current boundaries of the councils %(ids)s (NULL: every current
# hromada; the placeholder council, code '', covers every one): their bbox and centroid.
_HOME_SQL = """
SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e), ST_X(c), ST_Y(c) FROM (
  SELECT ST_Extent(h.geom) AS e, ST_Centroid(ST_Collect(h.geom)) AS c FROM hromadas h
   WHERE h.valid_to IS NULL
     AND (%(ids)s::int[] IS NULL OR EXISTS (
          SELECT 1 FROM councils k WHERE k.id = ANY(%(ids)s::int[]) AND k.code IN (h.code, '')))
) x WHERE e IS NOT NULL
"""


async def home_extent(
    conn: AsyncConnection, council_ids: tuple[int, ...] | None = None
) -> dict[str, list[float]] | None:
    """The maps' home: {bbox: [west, south, east, north], centre: [lon, lat]} (the centroid)
    of the current boundaries of these councils (a staff member's), else — None, or none of
    theirs loaded — of every current hromada (the installation's territory: an oblast's, or
    Kyiv's in a one-council install); None while no boundary is loaded."""
    for ids in ([list(council_ids)] if council_ids else []) + [None]:
        async with conn.cursor() as cur:
            await cur.execute(_HOME_SQL, {"ids": ids})
            row = await cur.fetchone()
        if row is not None:
            values = [round(float(v), 6) for v in row]
            return {"bbox": values[:4], "centre": values[4:]}
    return None
