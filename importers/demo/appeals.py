"""A year of generated appeals with the real shape of Kyiv's 1551 data.

Columns are drawn with numpy from one seeded generator, in a fixed order, and streamed to a
temporary staging table with COPY in chunks. Everything that depends on the map is then
decided in SQL, set-based, from the staging table:

1. each located appeal is matched to the current districts, wards and the executor
   territories that routing rules name: `ST_Covers` (a point on a border still matches)
   between polygons cut small by `ST_Subdivide` and the GiST-indexed points, walked polygon
   by polygon so that PostGIS tests every point against one small, cached polygon;
2. routing is decided once per distinct (category, districts, wards, territories) — a few
   thousand combinations rather than millions of appeals — by gis/routing.py's
   DECISION_SQL, the same SQL text that `decide()` runs for a single appeal (the first
   active rule by priority, then specificity, then id, whose category is the appeal's or its
   parent kind and whose area covers the point; the contact centre if none);
3. one INSERT … SELECT writes the appeals with their district, ward, executor, rule,
   reason and matched areas; authors and events follow the same way.

For big loads the secondary indexes and foreign keys of the appeal tables are dropped first
and restored after (the same definitions, read from the catalogue), all in the caller's
transaction.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import shapely
from psycopg.copy import QueuedLibpqWriter

from gis import partitions
from gis.routing import DECISION_SQL
from importers.demo import names as N
from importers.demo.geometry import jitter
from importers.demo.organisations import normalise
from importers.demo.reference import Reference

CHUNK = 100_000  # rows drawn and streamed at a time (part of the seed's contract: keep fixed)
BULK = 20_000  # from this many appeals on, indexes and foreign keys are rebuilt after
APPEALS_PER_YEAR = 1_000_000  # the default span of `hromada demo --appeals N` (years_for)
NULL = "\\N"
DAY = 86_400

# Appeals a month through the year, in thousands: March, August and September are Kyiv's
# real 2026-03, 2026-08 and 2025-09 volumes; the rest follow the heating season between them.
MONTH_VOLUME = (112, 108, 119, 92, 72, 62, 58, 54, 70.5, 88, 100, 108)
# How much a month looks like the heating season (the profile's March) rather than summer.
HEATING = (1, 1, 1, 0.5, 0, 0, 0, 0, 0, 0.5, 1, 1)
WEEKDAY = (1.0, 1.0, 0.98, 0.97, 0.93, 0.74, 0.70)  # Monday … Sunday
HOURS = (0.5, 0.3, 0.2, 0.2, 0.3, 0.6, 1.4, 2.8, 4.6, 6.0, 6.4, 6.4, 6.1, 6.0, 5.9, 5.8, 5.6,
         5.4, 5.2, 4.8, 4.1, 3.3, 2.2, 1.2)  # fmt: skip
KYIV_UTC_OFFSET = (2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 2, 2)  # hours, by month (DST, roughly)

CHANNELS = {  # the profile's names → our codes (GUIDE §2)
    "Дзвінок в 1551": "phone_1551", "Сайт/моб. додаток": "site", "УГЛ": "government_hotline",
    "E-mail": "email", "Телеефір": "tv", "112": "112",
}  # fmt: skip
STATUSES = ("registered", "in_work", "on_check", "rework", "closed")
OPEN_RESULTS = {  # 1551's results that go with a status other than «Закрито»
    "registered": ("Очікує прийому в роботу",
                   "Очікує прийому в роботу / Перенаправлено за належністю"),
    "in_work": ("Прийнято в роботу",),
    "on_check": ("Роз`яснено / Потребує перевірки куратором",
                 "Виконано / Очікує підтвердження заявником"),
    "rework": ("На доопрацювання / Виконання не підтверджено заявником",
               "На доопрацювання / Спростовано куратором",
               "Повернуто виконавцю / Перенаправлено за належністю"),
}  # fmt: skip
THANKS_KIND = "Подяки"
# A sub-kind that only says «general questions» is titled by its kind in the appeal's text.
GENERAL_SUBKINDS = {"загальні питання", "інше", "інші питання"}
THANKS_RESULT = "Прийнято до відома / Ознайомився"

STAGE_COLUMNS = (
    "seq", "lon", "lat", "category_id", "kind", "text", "is_public", "channel", "status",
    "result", "privileged", "address", "created_at", "extended", "closed_at", "updated_at",
    "author_name", "author_email", "author_phone", "author_address", "author_privilege",
)  # fmt: skip
STAGE_SQL = """
CREATE TEMP TABLE demo_stage (
    seq bigint, lon float8, lat float8, category_id int, kind text, text text, is_public bool,
    channel text, status text, result text, privileged bool, address text,
    created_at bigint, extended bool, closed_at bigint, updated_at bigint,
    author_name text, author_email text, author_phone text, author_address text,
    author_privilege text
) ON COMMIT DROP
"""

# Which current districts, wards and rule-named territories cover each located appeal.
# The polygons are cut small (MapIt's trick) and the points indexed, so that the join walks
# polygon by polygon and PostGIS tests each point against one small, cached polygon.
AREAS_SQL = """
CREATE TEMP TABLE demo_area_parts ON COMMIT DROP AS
SELECT 'district'::text AS type, id, code::text AS key, ST_Subdivide(geom, 64) AS geom
  FROM districts WHERE valid_to IS NULL
UNION ALL
SELECT 'ward', id, number::text, ST_Subdivide(geom, 64) FROM wards WHERE valid_to IS NULL
UNION ALL
SELECT 'territory', id, code, ST_Subdivide(geom, 64) FROM executor_territories
 WHERE valid_to IS NULL
   AND code IN (SELECT territory_code FROM routing_rules WHERE is_active)  -- RULE_TERRITORY
UNION ALL  -- the councils' hromadas, when there are several (one: every appeal is its own)
SELECT 'council', k.id, h.code, ST_Subdivide(h.geom, 64)
  FROM hromadas h JOIN councils k ON k.code = h.code OR k.code = ''
 WHERE h.valid_to IS NULL AND (SELECT count(*) FROM councils) > 1;

CREATE TEMP TABLE demo_points ON COMMIT DROP AS
SELECT seq, category_id, ST_SetSRID(ST_MakePoint(lon, lat), 4326) AS geom
  FROM demo_stage WHERE lon IS NOT NULL;
CREATE INDEX ON demo_points USING gist (geom);
ANALYZE demo_points;

CREATE TEMP TABLE demo_hits ON COMMIT DROP AS
SELECT seq, category_id,
       coalesce(array_agg(id ORDER BY id) FILTER (WHERE type = 'district'), '{}')
           AS district_ids,
       coalesce(array_agg(id ORDER BY id) FILTER (WHERE type = 'ward'), '{}') AS ward_ids,
       coalesce(array_agg(id ORDER BY id) FILTER (WHERE type = 'territory'), '{}')
           AS territory_ids,
       -- the lowest KATOTTH code covering the point (gis/councils.COUNCIL_AT_POINT_SQL)
       (array_agg(id ORDER BY key, id) FILTER (WHERE type = 'council'))[1] AS council_id
  FROM (SELECT DISTINCT pt.seq, pt.category_id, p.type, p.id, p.key
          FROM demo_area_parts p
          JOIN demo_points pt ON ST_Covers(p.geom, pt.geom)) AS covered
 GROUP BY seq, category_id;
ANALYZE demo_hits;
"""

# A staged appeal's council: the one covering its point when there are several (demo_hits),
# else the only council.
STAGE_COUNCIL = "coalesce(h.council_id, (SELECT min(id) FROM councils HAVING count(*) = 1))"

# The routing decision, once per distinct (council, category, located, covering districts,
# wards and territories): gis/routing.py's DECISION_SQL — the very text decide() runs for one
# point. (With several councils the areas of a border point are not narrowed to its council
# here; the rules and the contact centre are.)
ROUTES_SQL = (
    """
CREATE TEMP TABLE demo_routes ON COMMIT DROP AS
"""
    + DECISION_SQL.format(
        combos="""(
    SELECT DISTINCT """
        + STAGE_COUNCIL
        + """ AS council_id, s.category_id, s.lon IS NOT NULL AS located,
           coalesce(h.district_ids, '{}') AS district_ids, coalesce(h.ward_ids, '{}') AS ward_ids,
           coalesce(h.territory_ids, '{}') AS territory_ids
      FROM demo_stage s LEFT JOIN demo_hits h ON h.seq = s.seq)"""
    )
    + """;
ANALYZE demo_routes;
ANALYZE demo_stage;
"""
)

INSERT_APPEALS_SQL = (
    """
INSERT INTO appeals (id, number, category_id, kind, text, is_public, channel, status, result,
                     privileged, geom, address, district_id, ward_id, executor_id,
                     routing_rule_id, routing_reason, areas, created_at, deadline_at,
                     extended_until, closed_at, updated_at, generated, council_id)
SELECT %(base)s + s.seq, left(s.author_name, 1) || '-' || (%(number_base)s + s.seq),
       s.category_id, s.kind, s.text, s.is_public, s.channel, s.status, s.result,
       s.privileged, ST_SetSRID(ST_MakePoint(s.lon, s.lat), 4326), s.address,
       r.district_id, r.ward_id, r.executor_id, r.rule_id, r.reason, r.areas,
       to_timestamp(s.created_at),
       to_timestamp(s.created_at) + make_interval(days => c.deadline_days),
       CASE WHEN s.extended THEN to_timestamp(s.created_at) + interval '45 days' END,
       to_timestamp(s.closed_at), to_timestamp(s.updated_at), true,
       coalesce(r.council_id, default_council_id())
  FROM demo_stage s
  JOIN categories c ON c.id = s.category_id
  LEFT JOIN demo_hits h ON h.seq = s.seq
  JOIN demo_routes r ON r.category_id = s.category_id
                    AND r.located = (s.lon IS NOT NULL)
                    AND r.district_ids = coalesce(h.district_ids, '{}')
                    AND r.ward_ids = coalesce(h.ward_ids, '{}')
                    AND r.territory_ids = coalesce(h.territory_ids, '{}')
                    AND r.council_id IS NOT DISTINCT FROM """
    + STAGE_COUNCIL
    + """
"""
)
INSERT_AUTHORS_SQL = """
INSERT INTO appeal_authors (appeal_id, full_name, email, phone, postal_address, privilege)
SELECT %(base)s + seq, author_name, author_email, author_phone, author_address,
       author_privilege
  FROM demo_stage
"""
# The audit trail: a 'registered' event for every appeal, a 'closed' one for closed appeals.
INSERT_EVENTS_SQL = """
INSERT INTO appeal_events (appeal_id, at, actor, action, old, new)
SELECT id, created_at, 'demo', 'registered', NULL,
       jsonb_build_object('status', 'registered', 'category_id', category_id,
                          'channel', channel, 'executor_id', executor_id,
                          'routing_rule_id', routing_rule_id)
  FROM appeals WHERE generated AND id > %(base)s
"""
INSERT_CLOSED_EVENTS_SQL = """
INSERT INTO appeal_events (appeal_id, at, actor, action, old, new)
SELECT id, closed_at, 'demo', 'closed', '{"status": "on_check"}',
       jsonb_build_object('status', 'closed', 'result', result)
  FROM appeals WHERE generated AND id > %(base)s AND closed_at IS NOT NULL
"""


@dataclass
class Mix:
    """What the profile says, mapped onto the categories in the database."""

    kinds: list[str]  # the profile's kind names found in the database
    month_cum: np.ndarray  # (12, K): cumulative kind shares for each calendar month
    leaf_cum: np.ndarray  # (K, L): cumulative sub-kind shares within each kind
    leaf_count: np.ndarray  # (K,)
    leaf_id: np.ndarray  # (K, L) category ids
    leaf_deadline: np.ndarray  # (K, L) deadline days
    leaf_pool: list[list[list[str]]]  # [k][l] → texts
    thanks: np.ndarray  # (K,) bool
    channels: list[str]
    channel_cum: np.ndarray
    closed_results: list[str]
    closed_cum: np.ndarray
    open_results: dict[str, tuple[list[str], np.ndarray]]
    fill_rate: float
    unmatched: list[str]


def _cum(weights) -> np.ndarray:
    w = np.asarray(weights, dtype=float)
    c = np.cumsum(w / w.sum())
    c[-1] = 1.0
    return c


def _pick(cum: np.ndarray, u: np.ndarray) -> np.ndarray:
    return np.minimum(np.searchsorted(cum, u, side="right"), len(cum) - 1)


def read_profile(shared_dir: Path) -> dict:
    return json.loads((Path(shared_dir) / "kyiv_1551_profile.json").read_text(encoding="utf-8"))


def build_mix(profile: dict, ref: Reference) -> Mix:
    roots = {normalise(c.name): c for c in ref.categories if c.parent_id is None}
    children: dict[int, list] = {}
    for c in ref.categories:
        if c.parent_id is not None:
            children.setdefault(c.parent_id, []).append(c)

    months = profile["kinds_top40"]
    kinds: list[str] = []
    for rows in months.values():
        for r in rows:
            if r["kind"] not in kinds:
                kinds.append(r["kind"])
    unmatched = [k for k in kinds if normalise(k) not in roots]
    kinds = [k for k in kinds if normalise(k) in roots]
    if not kinds:
        raise ValueError("none of the profile's 1551 kinds is among the categories")

    def shares(month: str) -> np.ndarray:
        counts = {r["kind"]: r["count"] for r in months[month]}
        v = np.array([counts.get(k, 0) for k in kinds], dtype=float)
        return v / v.sum()

    # The year's mix is the average of the profile's months; within the year it leans towards
    # the heating-season month in winter and the summer months in summer, as far as it can
    # without any share going negative, so that the year as a whole keeps the average.
    per_month = {m: shares(m) for m in months}
    heat = [HEATING[int(m[5:7]) - 1] for m in months]
    avg = np.mean(list(per_month.values()), axis=0)
    hot = (sum(h * v for h, v in zip(heat, per_month.values(), strict=True)) / sum(heat)
           if sum(heat) else avg)  # fmt: skip
    cold = (sum((1 - h) * v for h, v in zip(heat, per_month.values(), strict=True)) / sum(1 - h for h in heat)
            if sum(1 - h for h in heat) else avg)  # fmt: skip
    h = np.array(HEATING, dtype=float)
    lean = np.outer(h - np.average(h, weights=MONTH_VOLUME), hot - cold)  # (12, K)
    limits = [avg[k] / -lean[m, k] for m in range(12) for k in range(len(kinds)) if lean[m, k] < 0]
    amplitude = min([1.0, *limits])
    month_cum = np.array([_cum(np.maximum(avg + amplitude * lean[m], 0)) for m in range(12)])

    leaves = [children.get(roots[normalise(k)].id) or [roots[normalise(k)]] for k in kinds]
    width = max(len(x) for x in leaves)
    leaf_cum = np.ones((len(kinds), width))
    leaf_id = np.zeros((len(kinds), width), dtype=np.int64)
    leaf_deadline = np.full((len(kinds), width), 15, dtype=np.int64)
    pools = []
    for k, (kind, ls) in enumerate(zip(kinds, leaves, strict=True)):
        leaf_cum[k, : len(ls)] = _cum([1 / (j + 1) for j in range(len(ls))])  # first is commonest
        leaf_id[k, : len(ls)] = [c.id for c in ls]
        leaf_deadline[k, : len(ls)] = [c.deadline_days for c in ls]
        templates = N.PHRASES.get(kind) or N.GENERIC_PHRASES
        phrases = N.phrase_variants(templates)
        titles = [kind if normalise(c.name) in GENERAL_SUBKINDS else c.name for c in ls]
        pools.append([[f"{title}. {p}" for p in phrases] for title in titles])

    ch_names = [c for c in CHANNELS]
    ch_shares = np.zeros(len(ch_names))
    for rows in profile["channels"].values():
        counts = {r["channel"]: r["count"] for r in rows}
        total = sum(counts.values())
        ch_shares += np.array([counts.get(c, 0) / total for c in ch_names])

    results: dict[str, int] = {}
    for key, rows in profile.items():
        if key.startswith("results"):
            for r in rows:
                results[r["result"]] = results.get(r["result"], 0) + r["count"]
    by_norm = {normalise(r): r for r in results}
    open_norm = {normalise(r) for rs in OPEN_RESULTS.values() for r in rs}
    closed = [r for r in results if normalise(r) not in open_norm]
    open_results = {}
    for status, rs in OPEN_RESULTS.items():
        names = [by_norm.get(normalise(r), r) for r in rs]
        open_results[status] = (names, _cum([results.get(n, 0) or 1 for n in names]))
    fill = profile.get("address_fill_rate") or {"": 0.82}
    return Mix(
        kinds=kinds, month_cum=month_cum, leaf_cum=leaf_cum,
        leaf_count=np.array([len(x) for x in leaves]), leaf_id=leaf_id,
        leaf_deadline=leaf_deadline, leaf_pool=pools,
        thanks=np.array([normalise(k) == normalise(THANKS_KIND) for k in kinds]),
        channels=[CHANNELS[c] for c in ch_names], channel_cum=_cum(ch_shares),
        closed_results=closed, closed_cum=_cum([results[r] for r in closed]),
        open_results=open_results, fill_rate=float(np.mean(list(fill.values()))),
        unmatched=unmatched,
    )  # fmt: skip


def draw_created(n: int, now: dt.datetime, rng: np.random.Generator, years: int = 1) -> np.ndarray:
    """`n` registration times (epoch seconds, ascending) over the `years` × 365 days before
    `now`: the monthly volumes of MONTH_VOLUME, fewer at weekends, by Kyiv's hours of the day."""
    span = 365 * years
    start = now - dt.timedelta(days=span)
    days = [start.date() + dt.timedelta(days=i) for i in range(span)]
    per_day = np.array([
        MONTH_VOLUME[d.month - 1] / _days_in_month(d) * WEEKDAY[d.weekday()] for d in days
    ])  # fmt: skip
    offset = np.array([KYIV_UTC_OFFSET[d.month - 1] for d in days]) * 3600
    day = rng.choice(span, size=n, p=per_day / per_day.sum())
    hour = rng.choice(24, size=n, p=np.array(HOURS) / sum(HOURS))
    second = rng.integers(0, 3600, size=n)
    t0 = int(start.timestamp())
    created = t0 + day * DAY + hour * 3600 + second - offset[day]
    return np.sort(np.clip(created, t0, int(now.timestamp()) - 1), kind="stable")


def _days_in_month(d: dt.date) -> int:
    nxt = (d.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return (nxt - dt.timedelta(days=1)).day


class Vocabulary:
    """Object arrays for fast elementwise string building."""

    def __init__(self, ref: Reference, mix: Mix):
        self.sur = np.array([[s[0] for s in N.SURNAMES], [s[1] for s in N.SURNAMES]], dtype=object)
        self.sur_initial = np.array([s[0][0] for s in N.SURNAMES], dtype=object)
        self.sur_latin = np.array(
            [[N.translit(s[0]) for s in N.SURNAMES], [N.translit(s[1]) for s in N.SURNAMES]],
            dtype=object,
        )
        self.first = np.array([N.MALE_FIRST, N.FEMALE_FIRST], dtype=object)
        self.first_latin = np.array(
            [[N.translit(f)[0] for f in N.MALE_FIRST], [N.translit(f)[0] for f in N.FEMALE_FIRST]],
            dtype=object,
        )
        self.patronymic = np.array(
            [[p[0] for p in N.PATRONYMICS], [p[1] for p in N.PATRONYMICS]], dtype=object
        )
        self.domains = np.array(N.EMAIL_DOMAINS, dtype=object)
        self.small = np.array([str(i) for i in range(1000)], dtype=object)
        self.streets = np.array(ref.streets or ["вул. Хрещатик"], dtype=object)
        self.privileges = np.array([p for p, _ in N.PRIVILEGES], dtype=object)
        self.privilege_cum = _cum([w for _, w in N.PRIVILEGES])
        self.poi_address = np.array([a if a else NULL for a in ref.pois.address], dtype=object)
        self.channels = np.array(mix.channels, dtype=object)
        self.closed_results = np.array(mix.closed_results, dtype=object)
        self.statuses = np.array(STATUSES, dtype=object)
        flat: list[str] = []
        self.pool_start, self.pool_len = {}, {}
        for k, leaves in enumerate(mix.leaf_pool):
            for leaf, pool in enumerate(leaves):
                self.pool_start[k, leaf], self.pool_len[k, leaf] = len(flat), len(pool)
                flat.extend(pool)
        self.texts = np.array(flat, dtype=object)
        width = mix.leaf_id.shape[1]
        self.pool_start_arr = np.zeros((len(mix.kinds), width), dtype=np.int64)
        self.pool_len_arr = np.ones((len(mix.kinds), width), dtype=np.int64)
        for (k, leaf), s in self.pool_start.items():
            self.pool_start_arr[k, leaf] = s
            self.pool_len_arr[k, leaf] = self.pool_len[k, leaf]


def _ints(a: np.ndarray) -> np.ndarray:
    return np.array(list(map(str, a.tolist())), dtype=object)


def _nullable(values: np.ndarray, present: np.ndarray) -> np.ndarray:
    out = np.full(len(present), NULL, dtype=object)
    out[present] = values[present]
    return out


def draw_lifecycle(rng: np.random.Generator, mix: Mix, created: np.ndarray,
                   deadline_days: np.ndarray, thanks: np.ndarray, now: int) -> tuple:  # fmt: skip
    """Where each appeal registered at `created` (epoch seconds) is at `now`, by the
    profile's mix: a time to close drawn for each, what is not closed by then somewhere on
    the way. Returns (status index into STATUSES, result, closed, closed_at, extended,
    updated_at) as arrays (draw_chunk's lifecycle; the region demo draws its councils'
    appeals with it too)."""
    n = len(created)
    days_to_close = np.where(thanks, np.exp(rng.normal(0.0, 0.5, size=n)),
                             np.exp(rng.normal(math.log(5.0), 1.0, size=n)))  # fmt: skip
    days_to_close = np.clip(days_to_close, 0.02, 120.0)
    stuck = (rng.random(n) < 0.02) & ~thanks
    closed_at = created + (days_to_close * DAY).astype(np.int64)
    closed = ~stuck & (closed_at < now)
    closed_names = np.array(mix.closed_results, dtype=object)
    closed_result = closed_names[_pick(mix.closed_cum, rng.random(n))]
    closed_result[thanks] = THANKS_RESULT
    elapsed = np.where(stuck, 1.0, (now - created) / (days_to_close * DAY))
    u_status, u_result = rng.random(n), rng.random(n)
    status = np.where(elapsed < 0.3, 0, np.where(elapsed < 0.36, 1, np.where(u_status < 0.8, 2, 3)))
    stuck_status = np.where(
        u_status < 0.1, 0, np.where(u_status < 0.2, 1, np.where(u_status < 0.6, 2, 3))
    )
    status = np.where(stuck, stuck_status, status)
    status = np.where(closed, 4, status)
    result = closed_result.copy()
    for code, (names, cum) in mix.open_results.items():
        mask = status == STATUSES.index(code)
        result[mask] = np.array(names, dtype=object)[_pick(cum, u_result[mask])]
    extend = (
        (deadline_days < 45) & ((days_to_close > deadline_days) | stuck) & (rng.random(n) < 0.35)
    )
    touched = created + ((now - created) * rng.uniform(0.3, 1.0, size=n)).astype(np.int64)
    updated_at = np.where(closed, closed_at, np.where(status == 0, created, touched))
    return status, result, closed, closed_at, extend, updated_at


def draw_chunk(rng: np.random.Generator, mix: Mix, ref: Reference, voc: Vocabulary,
               created: np.ndarray, first_seq: int, now: int) -> bytes:  # fmt: skip
    """COPY text for the staging rows of one chunk (`created` sorted, seq from first_seq)."""
    n = len(created)
    # Category: the kind by the month's mix, then one of its sub-kinds.
    local = created + 2 * 3600
    month = local.astype("datetime64[s]").astype("datetime64[M]").astype(np.int64) % 12
    kind = np.minimum((rng.random(n)[:, None] >= mix.month_cum[month]).sum(1), len(mix.kinds) - 1)
    leaf = np.minimum(
        (rng.random(n)[:, None] >= mix.leaf_cum[kind]).sum(1), mix.leaf_count[kind] - 1
    )
    category = mix.leaf_id[kind, leaf]
    deadline_days = mix.leaf_deadline[kind, leaf]
    thanks = mix.thanks[kind]
    channel = _pick(mix.channel_cum, rng.random(n))
    channel_code = voc.channels[channel]
    electronic = (channel_code == "site") | (channel_code == "email")

    # Place: a real POI inside a district, moved by ~30 m; some appeals have no address.
    located = rng.random(n) < mix.fill_rate
    covered = np.flatnonzero(ref.pois.covered)
    poi = covered[rng.integers(len(covered), size=n)]
    lon, lat = jitter(ref.pois.lon[poi], ref.pois.lat[poi], 20.0, rng)
    stray = ~shapely.contains_xy(ref.coverage, lon, lat)
    lon[stray], lat[stray] = ref.pois.lon[poi][stray], ref.pois.lat[poi][stray]

    # The author.
    female = (rng.random(n) < 0.56).astype(np.int64)
    sur = rng.integers(voc.sur.shape[1], size=n)
    first = rng.integers(voc.first.shape[1], size=n)
    patr = rng.integers(voc.patronymic.shape[1], size=n)
    has_email = electronic | (rng.random(n) < 0.35)
    email_no = rng.integers(1, 100, size=n)
    domain = rng.integers(len(voc.domains), size=n)
    has_phone = ~electronic | (rng.random(n) < 0.6)
    phone_no = rng.integers(0, 10_000_000, size=n)
    street = rng.integers(len(voc.streets), size=n)
    house = rng.integers(1, 160, size=n)
    flat = rng.integers(1, 320, size=n)
    privileged = rng.random(n) < 0.04
    privilege = _pick(voc.privilege_cum, rng.random(n))
    public = (rng.random(n) < 0.88) | thanks
    text_u = rng.random(n)

    # Lifecycle: a time to close; what is not closed by `now` is somewhere on the way.
    status, result, closed, closed_at, extend, updated_at = draw_lifecycle(
        rng, mix, created, deadline_days, thanks, now
    )

    seq = np.arange(first_seq, first_seq + n)
    text_ix = voc.pool_start_arr[kind, leaf] + (text_u * voc.pool_len_arr[kind, leaf]).astype(
        np.int64
    )
    cols = [
        _ints(seq),
        _nullable(np.array(list(map(repr, np.round(lon, 7).tolist())), dtype=object), located),
        _nullable(np.array(list(map(repr, np.round(lat, 7).tolist())), dtype=object), located),
        _ints(category),
        np.where(thanks, "thanks", "complaint").astype(object),
        voc.texts[text_ix],
        np.where(public, "t", "f").astype(object),
        channel_code,
        voc.statuses[status],
        result,
        np.where(privileged, "t", "f").astype(object),
        _nullable(voc.poi_address[poi], located),
        _ints(created),
        np.where(extend, "t", "f").astype(object),
        _nullable(_ints(closed_at), closed),
        _ints(updated_at),
        voc.sur[female, sur] + " " + voc.first[female, first] + " " + voc.patronymic[female, patr],
        _nullable(voc.first_latin[female, first] + "." + voc.sur_latin[female, sur]
                  + voc.small[email_no] + "@" + voc.domains[domain], has_email),
        _nullable("+38000" + np.array([f"{p:07d}" for p in phone_no.tolist()], dtype=object),
                  has_phone),
        "м. Київ, " + voc.streets[street] + ", " + voc.small[house] + ", кв. " + voc.small[flat],
        _nullable(voc.privileges[privilege], privileged),
    ]  # fmt: skip
    lines = "\n".join(map("\t".join, zip(*[c.tolist() for c in cols], strict=True)))
    return (lines + "\n").encode()


def clear(conn) -> tuple[int, int]:
    """Remove generated appeals. Returns (id base, number base): when only generated
    appeals existed and nothing else refers to them, the tables are truncated and ids and
    numbers restart at 1; otherwise new ids and numbers continue after the ones used."""
    live = conn.execute("SELECT EXISTS (SELECT 1 FROM appeals WHERE NOT generated)").fetchone()[0]
    # The generated appeals' links to structures: made afresh after loading (generate()).
    conn.execute(
        "DELETE FROM appeal_structures l USING appeals a WHERE a.id = l.appeal_id AND a.generated"
    )
    # Other tables that refer to appeals (say, the personal-data access log) must be empty
    # for TRUNCATE's cascade to lose nothing; otherwise their own ON DELETE rules apply.
    dependents = [r[0] for r in conn.execute(
        "SELECT DISTINCT conrelid::regclass::text FROM pg_constraint WHERE contype = 'f'"
        " AND confrelid IN ('appeals'::regclass, 'appeal_ids'::regclass) AND conparentid = 0"
        " AND conrelid NOT IN ('appeal_authors'::regclass, 'appeal_events'::regclass)"
    )]  # fmt: skip
    if any(conn.execute(f"SELECT EXISTS (SELECT 1 FROM {t})").fetchone()[0] for t in dependents):
        live = True
    if not live:
        conn.execute(
            "TRUNCATE appeals, appeal_ids, appeal_authors, appeal_events RESTART IDENTITY CASCADE"
        )
        return 0, 0
    conn.execute(
        "DELETE FROM appeal_events e USING appeals a WHERE a.id = e.appeal_id AND a.generated"
    )
    conn.execute(
        "DELETE FROM appeal_authors x USING appeals a WHERE a.id = x.appeal_id AND a.generated"
    )
    conn.execute("DELETE FROM appeals WHERE generated")
    id_base = conn.execute(
        f"SELECT greatest(coalesce(max(id), 0), (SELECT last_value FROM {_id_sequence(conn)}"
        " WHERE is_called)) FROM appeals"
    ).fetchone()[0]
    number_base = conn.execute(
        "SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM appeal_number_seq"
    ).fetchone()[0]
    return int(id_base or 0), int(number_base)


def _id_sequence(conn) -> str:
    return conn.execute("SELECT pg_get_serial_sequence('appeals', 'id')").fetchone()[0]


def detach_indexes(conn, tables: list[str]) -> list[str]:
    """Drop the foreign keys touching `tables` and their indexes that back no constraint;
    return the statements that put them back, indexes first."""
    restore_fk, restore_ix = [], []
    for table, name, definition in conn.execute(
        "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint"
        " WHERE contype = 'f' AND (conrelid = ANY(%s::regclass[]) OR confrelid = ANY(%s::regclass[]))"
        " ORDER BY 1, 2",
        (tables, tables),
    ).fetchall():  # fmt: skip
        conn.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
        restore_fk.append(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
    for name, definition in conn.execute(
        "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) FROM pg_index i"
        " WHERE i.indrelid = ANY(%s::regclass[]) AND NOT EXISTS (SELECT 1 FROM pg_constraint c"
        " WHERE c.conindid = i.indexrelid AND c.conrelid = i.indrelid) ORDER BY 1",
        (tables,),
    ).fetchall():  # fmt: skip
        conn.execute(f"DROP INDEX {name}")
        # A partitioned table's index (0020) is made again on the parent and its partitions.
        restore_ix.append(definition.replace(" ON ONLY ", " ON "))
    return restore_ix + restore_fk


def years_for(n: int) -> int:
    """How many years `n` demo appeals span by default: Kyiv's volume, about a million a
    year (974,316 a year over the profiled months), so 10 million are a city's decade."""
    return max(1, -(-n // APPEALS_PER_YEAR))


def load(conn, ref: Reference, mix: Mix, rng: np.random.Generator, n: int,
         now: dt.datetime, bases: tuple[int, int], timings: dict,
         years: int = 1) -> dict:  # fmt: skip
    """Generate and insert `n` appeals over `years` (after `clear`, whose id and number bases
    it takes)."""
    import time

    def lap(name: str, t0: float) -> float:
        t1 = time.monotonic()
        timings[name] = round(t1 - t0, 2)
        return t1

    t = time.monotonic()
    id_base, number_base = bases
    restore = (
        detach_indexes(conn, ["appeals", "appeal_authors", "appeal_events"]) if n >= BULK else []
    )
    t = lap("appeals_detach_indexes", t)

    created = draw_created(n, now, rng, years)
    # Every month gets its own partition before the rows come: rows of a month without one
    # would land in DEFAULT and be copied out of it again by the next `partitions.ensure`.
    if n:
        first = dt.datetime.fromtimestamp(int(created[0]), dt.UTC)
        partitions.ensure(conn, now=now, since=first.date())
    t = lap("appeals_partitions", t)
    voc = Vocabulary(ref, mix)
    now_s = int(now.timestamp())
    conn.execute(STAGE_SQL)
    cur = conn.cursor()
    # The queued writer sends a chunk from a thread while the next one is being drawn.
    with cur.copy(f"COPY demo_stage ({', '.join(STAGE_COLUMNS)}) FROM STDIN",
                  writer=QueuedLibpqWriter(cur)) as copy:  # fmt: skip
        for i in range(0, n, CHUNK):
            copy.write(draw_chunk(rng, mix, ref, voc, created[i : i + CHUNK], i + 1, now_s))
    t = lap("appeals_draw_and_copy", t)

    conn.execute(AREAS_SQL)
    t = lap("appeals_areas", t)
    # A few thousand combinations: compiling the plan (JIT) would cost more than running it.
    conn.execute("SET LOCAL jit = off")
    conn.execute(ROUTES_SQL)
    conn.execute("RESET jit")
    t = lap("appeals_routes", t)
    inserted: dict[str, int] = {}
    params = {"base": id_base, "number_base": number_base}
    # The planner cannot estimate the join on the routes' composite key and would sort every
    # staged row for a merge join; hashing the few thousand routes is what fits.
    conn.execute("SET LOCAL enable_mergejoin = off")
    conn.execute("SET LOCAL enable_nestloop = off")
    for key, sql in (("appeals", INSERT_APPEALS_SQL), ("appeal_authors", INSERT_AUTHORS_SQL),
                     ("appeal_events", INSERT_EVENTS_SQL),
                     ("appeal_events", INSERT_CLOSED_EVENTS_SQL)):  # fmt: skip
        inserted[key] = inserted.get(key, 0) + conn.execute(sql, params).rowcount
        t = lap(f"insert_{key}", t)
    conn.execute("RESET enable_mergejoin")
    conn.execute("RESET enable_nestloop")
    for statement in restore:
        conn.execute(statement)
        t = lap(
            "restore "
            + statement.split('"')[1 if "CONSTRAINT" in statement else 0]
            .removeprefix("CREATE INDEX ")
            .split(" ON ")[0],
            t,
        )
    conn.execute(f"SELECT setval('{_id_sequence(conn)}', max(id)) FROM appeals HAVING max(id) > 0")
    conn.execute(
        "SELECT setval('appeal_number_seq', greatest(%s::bigint, (SELECT CASE WHEN is_called"
        " THEN last_value ELSE 0 END FROM appeal_number_seq)), true) WHERE %s::bigint > 0",
        (number_base + n, number_base + n),
    )
    return {**inserted, "routes": conn.execute("SELECT count(*) FROM demo_routes").fetchone()[0]}
