"""`hromada demo --region zaporizka`: Zaporizhzhia oblast's 67 hromadas as councils (issue 17).

`generate_region(url, region, seed, appeals, now, councils=None)`:

1. refuses when real (non-generated) appeals exist — a demo never mixes with live data;
2. loads the shared 1551 catalogue when no category exists, and imports the oblast's
   boundary file (Мінрегіон's ATU atlas; importers/pipeline.run_import, its own transaction:
   67 versioned `hromadas` rows, the 'hromadas' layers row credits «© Мінрегіон»; another
   oblast's or Kyiv's boundary stays current);
3. in one transaction: clears what the demo generated before (the Kyiv demo's appeals and
   directory included), then per council (all 67, or the `councils` codes given):
   - the `councils` row: slug transliterated from `name_uk` (KMU 2010 rules; unique), a
     2–3 letter number prefix (unique: «ЗП», «КШ»), occupied from
     importers/demo/data/zaporizka_occupied.csv — a DEMO EXAMPLE, not the official list;
   - a non-occupied council gets generated executors (contact centre, executive committee,
     communal utility, housing company, police; codes `<slug>-…`), ~70% of the shared
     catalogue's sub-kinds plus one own sub-kind «… (демо)», one council-wide routing rule per
     kind, 3 wards (numbers 1–3 in every council: seeded Voronoi cells clipped to the
     polygon) with a generated deputy each, and its share of `appeals` (weights: Запорізька
     40%, the others share 60% equally) over the year before `now`, at seeded points inside
     its polygon (ST_GeneratePoints), routed by the council's own rule, numbered with the
     council's prefix («ЗП-К-17»).

Everything made here is `generated = true` (rules: the «[demo]» note). Same seed, `now` and
`councils` → the same rows (numpy PCG64 streams from the seed, PostGIS's seeded point
generator, stable ordering, no wall clock but `now`).
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import json
import re
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import psycopg

from gis.db import libpq_url
from importers.demo import appeals as appeals_mod
from importers.demo import city
from importers.demo.city import person_names
from importers.demo.organisations import RULE_NOTE_PREFIX
from importers.demo.regions import BOUNDARY_FILES, REGIONS

__all__ = ["generate_region", "slug_from", "prefix_candidates", "read_occupied", "digest"]

LOCK_KEY = 1551_0017  # pg_advisory_xact_lock: one region generation at a time
OCCUPIED_FILE = Path(__file__).parent / "data" / "zaporizka_occupied.csv"
OBLAST_CENTRE = "UA23060070000082704"  # Запорізька міська громада: 40% of the appeals
CENTRE_SHARE = 0.40
WARDS_PER_COUNCIL = 3
GENERATED_NOTE = "Демо: згенеровано (issue 17, регіональне демо)."

# KMU resolution 55 of 27.01.2010: Ukrainian → Latin (word-initial forms for є ї й ю я).
_LATIN = {
    "а": "a", "б": "b", "в": "v", "г": "h", "ґ": "g", "д": "d", "е": "e", "є": "ie",
    "ж": "zh", "з": "z", "и": "y", "і": "i", "ї": "i", "й": "i", "к": "k", "л": "l",
    "м": "m", "н": "n", "о": "o", "п": "p", "р": "r", "с": "s", "т": "t", "у": "u",
    "ф": "f", "х": "kh", "ц": "ts", "ч": "ch", "ш": "sh", "щ": "shch", "ь": "", "ю": "iu",
    "я": "ia", "'": "", "’": "", "ʼ": "",
}  # fmt: skip
_INITIAL = {"є": "ye", "ї": "yi", "й": "y", "ю": "yu", "я": "ya"}
_CONSONANTS = set("БВГҐДЖЗКЛМНПРСТФХЦЧШЩ")

# The generated organisations of a council: code suffix, name pattern, short name, kind.
ORGANISATIONS = (
    ("cc", "Контактний центр ({name})", "Контактний центр", "contact_centre"),
    ("vk", "Виконавчий комітет ({name})", "Виконком", "department"),
    ("kp", "КП «Благоустрій» ({name})", "КП «Благоустрій»", "utility"),
    ("zhk", "КП «Житлокомсервіс» ({name})", "Житлокомсервіс", "housing_office"),
    ("police", "Відділ поліції ({name})", "Поліція", "police"),
)  # fmt: skip
SHORT_NAMES = {suffix: short for suffix, _, short, _ in ORGANISATIONS}
# Which organisation a kind of appeal goes to, by words in the kind's name (else the
# executive committee).
_KIND_WORDS = (
    (("поліц", "правопоруш", "порядок", "наркот"), "police"),
    (("житл", "будин", "ліфт", "опален", "водопостач", "гаряч"), "zhk"),
    (("благоустр", "дорог", "освітл", "сміт", "озелен", "прибиран", "транспорт"), "kp"),
)


@dataclass(frozen=True)
class Hromada:
    code: str
    name_uk: str
    full_name: str  # «Запорізька міська територіальна громада»
    raion: str


def slug_from(name: str) -> str:
    """Latin, lower case, hyphens: «Запорізька» → `zaporizka`, «Кам'янсько-Дніпровська» →
    `kamiansko-dniprovska`."""
    out: list[str] = []
    previous = ""
    for ch in name.lower():
        if ch == "г" and previous == "з":
            out.append("gh")  # «зг» → «zgh» (KMU 2010)
        elif ch in _INITIAL and (not previous or not previous.isalpha()):
            out.append(_INITIAL[ch])
        elif ch in _LATIN:
            out.append(_LATIN[ch])
        elif ch.isascii() and ch.isalnum():
            out.append(ch)
        else:
            out.append("-")
        if ch not in "'’ʼ":
            previous = ch
    return re.sub(r"-+", "-", "".join(out)).strip("-")[:40]


def prefix_candidates(name: str) -> Iterable[str]:
    """Number prefixes for a council, best first: its first letter and one consonant of the
    rest («ЗП» for Запорізька), then two consonants, then the first letters."""
    letters = [c for c in name.upper() if c.isalpha()]
    first, rest = letters[0], [c for c in letters[1:] if c in _CONSONANTS]
    seen: set[str] = set()
    for candidate in (
        [first + c for c in rest]
        + [first + a + b for i, a in enumerate(rest) for b in rest[i + 1 :]]
        + [first + a + b for a in letters[1:] for b in letters[2:]]
    ):
        if candidate not in seen and re.fullmatch(r"[А-ЯІЇЄҐ]{2,3}", candidate):
            seen.add(candidate)
            yield candidate


def council_name(h: Hromada) -> str:
    """«Запорізька міська громада» (the full name without «територіальна»)."""
    return h.full_name.replace(" територіальна", "")


def read_occupied(path: Path = OCCUPIED_FILE) -> dict[str, tuple[dt.date, str]]:
    """code → (since, source) from the occupied list (lines starting with # are comments)."""
    with path.open(encoding="utf-8", newline="") as f:
        rows = csv.DictReader(line for line in f if not line.startswith("#"))
        return {
            r["code"].strip(): (dt.date.fromisoformat(r["since"].strip()), r["source"].strip())
            for r in rows
        }


def _hromadas(conn, region: str) -> list[Hromada]:
    prefix = {"zaporizka": "UA23"}[region]
    rows = conn.execute(
        "SELECT code, name FROM hromadas WHERE valid_to IS NULL AND left(code, 4) = %s"
        " ORDER BY code",
        (prefix,),
    ).fetchall()
    out = []
    for code, full in rows:
        short = full.split(" ")[0]
        out.append(Hromada(code, short, full, ""))
    return out


def _raions(path: Path) -> dict[str, str]:
    with path.open(encoding="utf-8") as f:
        data = json.load(f)
    return {
        ft["properties"]["katottg"]: ft["properties"].get("raion") or "" for ft in data["features"]
    }


def _clear(conn) -> tuple[int, int]:
    """What any demo generated before: appeals, rules, territories, deputies (city.clear),
    and this region's wards."""
    bases = appeals_mod.clear(conn)
    city.clear(conn, rewind=False)
    conn.execute("DELETE FROM wards WHERE generated")
    return bases


def _councils(
    conn, hromadas: list[Hromada], wanted: set[str] | None, occupied: dict
) -> list[tuple[int, Hromada, str, str]]:
    """Upsert the councils (the `wanted` codes, else all); (id, hromada, slug, prefix) each,
    the oblast centre first. Slugs and prefixes are assigned over the whole region, so a
    council's are the same whichever subset is built."""
    ordered = sorted(hromadas, key=lambda h: (h.code != OBLAST_CENTRE, h.code))
    taken_slugs = {
        r[0] for r in conn.execute("SELECT slug FROM councils WHERE left(code, 4) <> 'UA23'")
    }
    taken_prefixes = {
        r[0]
        for r in conn.execute("SELECT number_prefix FROM councils WHERE left(code, 4) <> 'UA23'")
    }
    # Names shared by two hromadas (Михайлівська) take the raion in their slug.
    counts: dict[str, int] = {}
    for h in ordered:
        counts[h.name_uk] = counts.get(h.name_uk, 0) + 1
    # Prefixes in rounds: everyone's first choice where free, then the second…, so one
    # council's second choice never takes another's first (Кушугумська «КШ», not «КГ»).
    options = {h.code: list(prefix_candidates(h.name_uk)) for h in ordered}
    prefixes: dict[str, str] = {}
    for depth in range(max(len(o) for o in options.values())):
        for h in ordered:
            choice = options[h.code][depth] if depth < len(options[h.code]) else None
            if h.code not in prefixes and choice and choice not in taken_prefixes:
                prefixes[h.code] = choice
                taken_prefixes.add(choice)
    out = []
    for h in ordered:
        slug = slug_from(h.name_uk)
        if counts[h.name_uk] > 1 or slug in taken_slugs:
            slug = (
                f"{slug}-{slug_from(h.raion.split(' ')[0])}" if h.raion else f"{slug}-{h.code[-5:]}"
            )
        n = 2
        base = slug
        while slug in taken_slugs:
            slug, n = f"{base}-{n}", n + 1
        taken_slugs.add(slug)
        prefix = prefixes[h.code]
        if wanted is not None and h.code not in wanted:
            continue
        since, source = occupied.get(h.code, (None, None))
        # A re-run may reshuffle prefixes: free them first (the unique index is not deferrable).
        conn.execute(
            "UPDATE councils SET number_prefix = '' || id WHERE code = %s AND number_prefix <> %s",
            (h.code, prefix),
        )
        row = conn.execute(
            "INSERT INTO councils (code, slug, name, name_en, number_prefix, occupied_since,"
            " occupied_source) VALUES (%s, %s, %s, %s, %s, %s, %s)"
            " ON CONFLICT (code) DO UPDATE SET slug = EXCLUDED.slug, name = EXCLUDED.name,"
            " name_en = EXCLUDED.name_en, number_prefix = EXCLUDED.number_prefix,"
            " occupied_since = EXCLUDED.occupied_since, occupied_source = EXCLUDED.occupied_source"
            " RETURNING id",
            (h.code, slug, council_name(h), f"{slug_from(h.name_uk).title()} hromada", prefix,
             since, source),
        ).fetchone()  # fmt: skip
        out.append((int(row[0]), h, slug, prefix))
    return out


def _drop_placeholder(conn) -> None:
    """The placeholder council (code '') would cover every hromada: drop it when nothing
    refers to it (a savepoint, since its rows' foreign keys may refuse)."""
    try:
        with conn.transaction():
            conn.execute("DELETE FROM councils WHERE code = ''")
    except psycopg.errors.IntegrityError:
        pass


def _executors(conn, council_id: int, slug: str, name: str) -> dict[str, int]:
    """The council's generated organisations (upserted by code): suffix → id."""
    ids = {}
    for suffix, pattern, short, kind in ORGANISATIONS:
        row = conn.execute(
            "INSERT INTO executors (code, name, short_name, kind, generated, council_id)"
            " VALUES (%s, %s, %s, %s, true, %s) ON CONFLICT (code) DO UPDATE SET"
            " name = EXCLUDED.name, short_name = EXCLUDED.short_name, kind = EXCLUDED.kind,"
            " council_id = EXCLUDED.council_id RETURNING id",
            (f"{slug}-{suffix}"[:64], pattern.format(name=name), short, kind, council_id),
        ).fetchone()
        assert row is not None  # INSERT … RETURNING
        ids[suffix] = int(row[0])
    return ids


def _categories(conn, council_id: int, slug: str, rng: np.random.Generator) -> None:
    """~70% of the shared sub-kinds stay on; one own sub-kind «… (демо)»."""
    leaves = [r[0] for r in conn.execute(
        "SELECT id FROM categories WHERE council_id IS NULL AND parent_id IS NOT NULL ORDER BY id"
    )]  # fmt: skip
    off = [c for c, u in zip(leaves, rng.random(len(leaves)).tolist(), strict=True) if u >= 0.7]
    conn.execute(
        "UPDATE council_categories SET is_active = NOT (category_id = ANY(%s))"
        " WHERE council_id = %s",
        (off, council_id),
    )
    kinds = conn.execute(
        "SELECT id, name FROM categories WHERE council_id IS NULL AND parent_id IS NULL"
        " AND is_active ORDER BY id"
    ).fetchall()
    if kinds:
        kind_id, kind_name = kinds[int(rng.integers(len(kinds)))]
        conn.execute(
            "INSERT INTO categories (parent_id, code, name, deadline_days, source, council_id)"
            " VALUES (%s, %s, %s, 15, 'hromada demo (generated)', %s)"
            " ON CONFLICT (code) DO UPDATE SET parent_id = EXCLUDED.parent_id,"
            " name = EXCLUDED.name",
            (kind_id, f"{slug}-1"[:64], f"Місцеве питання: {kind_name.lower()} (демо)", council_id),
        )


def _organisation_of(kind_name: str) -> str:
    low = kind_name.lower()
    for words, suffix in _KIND_WORDS:
        if any(w in low for w in words):
            return suffix
    return "vk"


def _rules(conn, council_id: int, executors: dict[str, int]) -> dict[int, tuple[int, int]]:
    """One council-wide rule per kind → (rule id, executor id) by kind id."""
    out = {}
    for kind_id, name in conn.execute(
        "SELECT id, name FROM categories WHERE parent_id IS NULL AND is_active"
        " AND (council_id IS NULL OR council_id = %s) ORDER BY id",
        (council_id,),
    ).fetchall():
        executor = executors[_organisation_of(name)]
        row = conn.execute(
            "INSERT INTO routing_rules (priority, category_id, executor_id, note, council_id)"
            " VALUES (100, %s, %s, %s, %s) RETURNING id",
            (kind_id, executor, f"{RULE_NOTE_PREFIX}{GENERATED_NOTE}", council_id),
        ).fetchone()
        out[kind_id] = (int(row[0]), executor)
    return out


def _wards(conn, council_id: int, h: Hromada, seed: int, valid_from: dt.datetime,
           rng: np.random.Generator) -> None:  # fmt: skip
    """3 wards: Voronoi cells of 3 seeded points clipped to the hromada; a deputy each."""
    conn.execute(
        """
        INSERT INTO wards (number, name, hromada_id, generated, description, geom, version,
                           valid_from, council_id)
        SELECT row_number() OVER (ORDER BY ST_Y(ST_Centroid(cell)) DESC, ST_X(ST_Centroid(cell))),
               '', h.id, true, %(note)s, ST_Multi(ST_CollectionExtract(ST_Intersection(cell, h.geom), 3)),
               1, %(from)s, %(council)s
          FROM hromadas h,
               LATERAL (SELECT (ST_Dump(ST_VoronoiPolygons(ST_GeneratePoints(h.geom, 3, %(seed)s),
                                                            0, ST_Expand(h.geom, 1)))).geom AS cell) v
         WHERE h.code = %(code)s AND h.valid_to IS NULL
           AND NOT ST_IsEmpty(ST_CollectionExtract(ST_Intersection(cell, h.geom), 3))
        """,
        {"note": GENERATED_NOTE, "from": valid_from, "council": council_id, "seed": seed,
         "code": h.code},
    )  # fmt: skip
    conn.execute(
        "UPDATE wards SET name = 'Виборчий округ №' || number WHERE council_id = %s AND generated",
        (council_id,),
    )
    numbers = [r[0] for r in conn.execute(
        "SELECT number FROM wards WHERE council_id = %s AND generated AND valid_to IS NULL"
        " ORDER BY number", (council_id,))]  # fmt: skip
    for number, name in zip(numbers, person_names(rng, len(numbers)), strict=True):
        conn.execute(
            "INSERT INTO deputies (ward_number, full_name, generated, council_id)"
            " VALUES (%s, %s, true, %s)",
            (number, name, council_id),
        )


STAGE_SQL = """
CREATE TEMP TABLE region_stage (
  seq int, number text, council_id int, category_id int, executor_id int, rule_id int,
  reason text, text text, is_public bool, channel text, status text, result text,
  lon float8, lat float8, created_at timestamptz, deadline_at timestamptz,
  closed_at timestamptz, author text) ON COMMIT DROP
"""
INSERT_SQL = """
INSERT INTO appeals (number, category_id, kind, text, is_public, channel, status, result,
                     geom, ward_id, executor_id, routing_rule_id, routing_reason, created_at,
                     deadline_at, closed_at, updated_at, answered_at, generated, council_id)
SELECT s.number, s.category_id, 'complaint', s.text, s.is_public, s.channel, s.status, s.result,
       ST_SetSRID(ST_MakePoint(s.lon, s.lat), 4326),
       (SELECT w.id FROM wards w WHERE w.council_id = s.council_id AND w.valid_to IS NULL
           AND ST_Covers(w.geom, ST_SetSRID(ST_MakePoint(s.lon, s.lat), 4326))
         ORDER BY w.number LIMIT 1),
       s.executor_id, s.rule_id, s.reason, s.created_at, s.deadline_at, s.closed_at,
       coalesce(s.closed_at, s.created_at), s.closed_at, true, s.council_id
  FROM region_stage s ORDER BY s.seq
"""
AUTHORS_SQL = """
INSERT INTO appeal_authors (appeal_id, full_name)
SELECT a.id, s.author FROM region_stage s JOIN appeals a ON a.number = s.number ORDER BY s.seq
"""
EVENTS_SQL = """
INSERT INTO appeal_events (appeal_id, at, actor, action, old, new)
SELECT a.id, a.created_at, 'demo', 'registered', NULL,
       jsonb_build_object('status', 'registered', 'category_id', a.category_id,
                          'channel', a.channel, 'executor_id', a.executor_id,
                          'routing_rule_id', a.routing_rule_id)
  FROM region_stage s JOIN appeals a ON a.number = s.number ORDER BY s.seq
"""
CLOSED_EVENTS_SQL = """
INSERT INTO appeal_events (appeal_id, at, actor, action, old, new)
SELECT a.id, a.closed_at, 'demo', 'closed', '{"status": "on_check"}',
       jsonb_build_object('status', 'closed', 'result', a.result)
  FROM region_stage s JOIN appeals a ON a.number = s.number
 WHERE a.closed_at IS NOT NULL ORDER BY s.seq
"""
CHANNELS = ("phone_1551", "site", "email", "letter")
CHANNEL_P = (0.5, 0.35, 0.1, 0.05)
R_CLOSED = ("Виконано / Підтверджено заявником", "Роз`яснено / Перевірено куратором")


def _appeals(conn, council_id: int, h: Hromada, prefix: str, n: int, seed: int,
             now: dt.datetime, number_base: int, routes: dict[int, tuple[int, int]],
             executor_names: dict[int, str], rng: np.random.Generator) -> int:  # fmt: skip
    """`n` appeals of one council into region_stage; returns the next number base."""
    if n <= 0:
        return number_base
    leaves = conn.execute(
        "SELECT c.id, c.name, c.parent_id, p.name, coalesce(cc.deadline_days, c.deadline_days)"
        "  FROM council_categories cc JOIN categories c ON c.id = cc.category_id"
        "  JOIN categories p ON p.id = c.parent_id"
        " WHERE cc.council_id = %s AND cc.is_active AND c.is_active AND c.parent_id IS NOT NULL"
        "   AND (c.council_id IS NULL OR c.council_id = %s) ORDER BY c.id",
        (council_id, council_id),
    ).fetchall()
    leaves = [r for r in leaves if r[2] in routes]
    if not leaves:
        return number_base
    points = conn.execute(
        "SELECT ST_X(d.geom), ST_Y(d.geom) FROM hromadas h,"
        " LATERAL ST_Dump(ST_GeneratePoints(h.geom, %s, %s)) d"
        " WHERE h.code = %s AND h.valid_to IS NULL ORDER BY d.path",
        (n, seed, h.code),
    ).fetchall()
    n = len(points)
    pick = rng.integers(len(leaves), size=n).tolist()
    age = rng.random(n) * 365.0
    u_status = rng.random(n).tolist()
    u_result = rng.integers(len(R_CLOSED), size=n).tolist()
    closing = rng.random(n).tolist()
    channels = rng.choice(len(CHANNELS), size=n, p=CHANNEL_P).tolist()
    public = (rng.random(n) < 0.6).tolist()
    authors = person_names(rng, n)
    with conn.cursor().copy(
        "COPY region_stage (seq, number, council_id, category_id, executor_id, rule_id, reason,"
        " text, is_public, channel, status, result, lon, lat, created_at, deadline_at,"
        " closed_at, author) FROM STDIN"
    ) as copy:
        for i in range(n):
            leaf_id, leaf_name, kind_id, kind_name, deadline = leaves[pick[i]]
            rule_id, executor = routes[kind_id]
            created = now - dt.timedelta(days=float(age[i]))
            created = created.replace(microsecond=0)
            deadline_at = created + dt.timedelta(days=int(deadline))
            old = age[i] > 30
            u = u_status[i]
            closed_at = None
            if (old and u < 0.85) or (not old and u < 0.2):
                status, result = "closed", R_CLOSED[u_result[i]]
                closed_at = min(created + dt.timedelta(days=1 + closing[i] * int(deadline)), now)
            elif u < 0.93:
                status, result = "in_work", "Прийнято в роботу"
            else:
                status, result = "registered", None
            seq = number_base + i + 1
            author = authors[i]
            copy.write_row((
                seq, f"{prefix}-{author[0]}-{seq}", council_id, leaf_id, executor, rule_id,
                f"Громада «{council_name(h)}». Правило громади: «{kind_name}» → "
                f"{executor_names[executor]}",
                f"{leaf_name}. Звернення згенеровано для демо.", public[i],
                CHANNELS[channels[i]], status, result, points[i][0], points[i][1], created,
                deadline_at, closed_at, author,
            ))  # fmt: skip
    return number_base + n


def _weights(
    chosen: list[tuple[int, Hromada, str, str]], occupied: dict, total_open: int
) -> list[float]:
    """Appeal weights: the oblast centre 40%, the other open councils 60% equally (of the
    whole oblast's open councils, so a subset keeps each council's own share)."""
    others = max(total_open - 1, 1)
    return [
        0.0 if h.code in occupied else (CENTRE_SHARE if h.code == OBLAST_CENTRE
                                        else (1 - CENTRE_SHARE) / others)
        for _, h, _, _ in chosen
    ]  # fmt: skip


def digest(url: str) -> str:
    """SHA-256 over the generated rows that matter (councils, executors, wards, appeals):
    the same seed, `now` and councils give the same digest."""
    h = hashlib.sha256()
    with psycopg.connect(libpq_url(url)) as conn:
        for sql in (
            "SELECT code, slug, name, number_prefix, occupied_since FROM councils ORDER BY code",
            "SELECT code, name, kind FROM executors WHERE generated ORDER BY code",
            "SELECT council_id, number, ST_AsText(ST_SnapToGrid(geom, 1e-6)) FROM wards"
            " WHERE generated ORDER BY council_id, number",
            "SELECT number, category_id, status, result, channel, created_at, closed_at,"
            " ST_AsText(ST_SnapToGrid(geom, 1e-6)), ward_id IS NOT NULL FROM appeals"
            " WHERE generated ORDER BY number",
        ):
            for row in conn.execute(sql):
                h.update(repr(tuple(row)).encode())
    return h.hexdigest()


def generate_region(url: str, region: str, seed: int = 17, appeals: int = 20_000,
                    now: dt.datetime | None = None, councils: Iterable[str] | None = None,
                    shared_dir: Path | None = None) -> dict:  # fmt: skip
    """Build the region demo (see the module's docstring); a JSON-able summary."""
    from importers import run_import
    from importers.demo import default_now
    from importers.report import ImportFailed

    if region not in BOUNDARY_FILES:
        raise ImportFailed(f"unknown region {region!r}; one of: {', '.join(REGIONS)}")
    if shared_dir is None:
        from gis.settings import get_settings

        shared_dir = get_settings().shared_data
    shared_dir = Path(shared_dir)
    now = (now or default_now()).astimezone(dt.UTC)
    started = time.monotonic()
    with psycopg.connect(libpq_url(url)) as conn:
        row = conn.execute(
            "SELECT EXISTS (SELECT 1 FROM appeals WHERE NOT generated),"
            " EXISTS (SELECT 1 FROM categories)"
        ).fetchone()
        assert row is not None  # a SELECT without FROM returns one row
        real, has_categories = row
        if real:
            raise ImportFailed("real (non-generated) appeals exist: the region demo refuses")
    summary: dict = {"region": region, "seed": seed, "now": now.isoformat()}
    if not has_categories:
        run_import(url, shared_dir / "kyiv_1551_profile.json", "categories")
    boundary = shared_dir / BOUNDARY_FILES[region]
    summary["import"] = run_import(url, boundary, "hromadas").summary()
    raions = _raions(boundary)
    occupied = read_occupied()
    wanted = set(councils) if councils else None
    streams = [np.random.Generator(np.random.PCG64(s))
               for s in np.random.SeedSequence(seed).spawn(3)]  # fmt: skip
    rng_cat, rng_people, rng_appeals = streams
    valid_from = now - dt.timedelta(days=366)

    with psycopg.connect(libpq_url(url)) as conn:
        conn.execute("SET TimeZone = 'UTC'")
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (LOCK_KEY,))
        _, number_base = _clear(conn)
        all_h = [
            Hromada(h.code, h.name_uk, h.full_name, raions.get(h.code, ""))
            for h in _hromadas(conn, region)
        ]
        made = _councils(conn, all_h, wanted, occupied)
        _drop_placeholder(conn)
        total_open = sum(1 for h in all_h if h.code not in occupied)
        weights = np.array(_weights(made, occupied, total_open))
        shares = weights / weights.sum() if weights.sum() else weights
        counts = np.floor(shares * appeals).astype(int)
        if counts.sum() < appeals and weights.sum():
            counts[int(np.argmax(weights))] += appeals - int(counts.sum())
        conn.execute(STAGE_SQL)
        executors_made = 0
        for i, (council_id, h, slug, prefix) in enumerate(sorted(made, key=lambda m: m[1].code)):
            if h.code in occupied:
                continue
            ex = _executors(conn, council_id, slug, council_name(h))
            executors_made += len(ex)
            executor_names = {v: SHORT_NAMES[k] for k, v in ex.items()}
            _categories(conn, council_id, slug, rng_cat)
            routes = _rules(conn, council_id, ex)
            _wards(conn, council_id, h, seed + i, valid_from, rng_people)
            index = next(j for j, m in enumerate(made) if m[0] == council_id)
            number_base = _appeals(conn, council_id, h, prefix, int(counts[index]), seed + i, now,
                                   number_base, routes, executor_names, rng_appeals)  # fmt: skip
        inserted = conn.execute(INSERT_SQL).rowcount
        conn.execute(AUTHORS_SQL)
        conn.execute(EVENTS_SQL)
        conn.execute(CLOSED_EVENTS_SQL)
        if number_base:
            conn.execute("SELECT setval('appeal_number_seq', greatest(%s::bigint, (SELECT CASE"
                         " WHEN is_called THEN last_value ELSE 0 END FROM appeal_number_seq)))",
                         (number_base,))  # fmt: skip
        summary.update(
            councils=len(made),
            occupied=sorted(h.code for _, h, _, _ in made if h.code in occupied),
            executors=executors_made,
            appeals=inserted,
        )
    summary["seconds"] = round(time.monotonic() - started, 2)
    return summary
