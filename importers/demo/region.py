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
     council's prefix («ЗП-К-17»). Their lifecycle is the Kyiv demo's (appeals.draw_created,
     draw_lifecycle and build_mix over the real 1551 profile: statuses, results, channels,
     no place, privileged authors), plus what the profile leaves to live work — returns as
     not in competence, appeals not routed, personal control, requests for a longer term —
     with every council holding at least FLOORS of each of the curator's and the manager's
     queues; the trail (appeal_events) has each step that put an appeal where it is.

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
from types import SimpleNamespace
from typing import Any, cast

import numpy as np
import psycopg

from gis.curator import CURATOR_RESULTS
from gis.db import libpq_url
from gis.lifecycle import (
    R_DONE_AWAITING,
    R_EXPLAINED_CHECK,
    R_NOT_COMPETENT,
    R_REWORK_AUTHOR,
    R_REWORK_CURATOR,
    R_TAKEN,
)
from importers.demo import appeals as appeals_mod
from importers.demo import city
from importers.demo.appeals import DAY, STATUSES
from importers.demo.city import person_names
from importers.demo.names import PRIVILEGES as PRIVILEGE_SHARES
from importers.demo.organisations import RULE_NOTE_PREFIX, normalise
from importers.demo.reference import Category, Reference
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


# The staging row of an appeal; times are epoch seconds (to_timestamp in SQL), NULL when the
# step did not happen. `routed_id` is the executor routing chose, `executor_id` the one
# holding it now (the contact centre for one returned as not in competence or not routed).
STAGE_SQL = """
CREATE TEMP TABLE region_stage (
  seq int, number text, council_id int, category_id int, kind text, executor_id int,
  routed_id int, rule_id int, reason text, text text, is_public bool, channel text,
  status text, result text, privileged bool, privilege text, lon float8, lat float8,
  created_at bigint, deadline_at bigint, extended_until bigint, taken_at bigint,
  answered_at bigint, answer_result text, rework_at bigint, rework_action text,
  rework_result text, returned_at bigint, closed_at bigint, updated_at bigint,
  control_until date, control_at bigint, ask_at bigint, ask_until date, author text
) ON COMMIT DROP
"""
STAGE_COLUMNS = (
    "seq", "number", "council_id", "category_id", "kind", "executor_id", "routed_id", "rule_id",
    "reason", "text", "is_public", "channel", "status", "result", "privileged", "privilege",
    "lon", "lat", "created_at", "deadline_at", "extended_until", "taken_at", "answered_at",
    "answer_result", "rework_at", "rework_action", "rework_result", "returned_at", "closed_at",
    "updated_at", "control_until", "control_at", "ask_at", "ask_until", "author",
)  # fmt: skip
INSERT_SQL = """
INSERT INTO appeals (number, category_id, kind, text, is_public, channel, status, result,
                     privileged, geom, ward_id, executor_id, routing_rule_id, routing_reason,
                     created_at, deadline_at, extended_until, closed_at, updated_at,
                     answered_at, control_until, generated, council_id)
SELECT s.number, s.category_id, s.kind, s.text, s.is_public, s.channel, s.status, s.result,
       s.privileged, ST_SetSRID(ST_MakePoint(s.lon, s.lat), 4326),
       (SELECT w.id FROM wards w WHERE w.council_id = s.council_id AND w.valid_to IS NULL
           AND ST_Covers(w.geom, ST_SetSRID(ST_MakePoint(s.lon, s.lat), 4326))
         ORDER BY w.number LIMIT 1),
       s.executor_id, s.rule_id, s.reason, to_timestamp(s.created_at),
       to_timestamp(s.deadline_at), to_timestamp(s.extended_until), to_timestamp(s.closed_at),
       to_timestamp(s.updated_at), to_timestamp(coalesce(s.answered_at, s.closed_at)),
       s.control_until, true, s.council_id
  FROM region_stage s ORDER BY s.seq
"""
AUTHORS_SQL = """
INSERT INTO appeal_authors (appeal_id, full_name, privilege)
SELECT a.id, s.author, s.privilege FROM region_stage s JOIN appeals a ON a.number = s.number
 ORDER BY s.seq
"""
# The trail, as the Kyiv demo writes it (importers/demo/appeals.py: 'registered' for every
# appeal, 'closed' for a closed one) and, for the open ones, the lifecycle's steps that put
# them where they are (gis/lifecycle.py's actions and their old/new values): 'take' (in work),
# 'answer' (on check, the answer's text and kind), 'rework' by the curator or 'reject' by the
# author, 'return' as not in competence (to the contact centre), and the staff's own internal
# 'control' (the manager's personal control) and 'ask_extension' (a longer term asked for).
# Every event is the demo's (actor 'demo'; the author's 'заявник', as the lifecycle writes).
_EVENT = """
INSERT INTO appeal_events (appeal_id, at, actor, action, old, new, comment, internal)
SELECT a.id, to_timestamp({at}), {actor}, {action}, {old}, {new}, {comment}, {internal}
  FROM region_stage s JOIN appeals a ON a.number = s.number
 WHERE {where} ORDER BY s.seq
"""
EVENTS_SQL = tuple(
    _EVENT.format(at=at, actor=actor, action=action, old=old, new=new, comment=comment,
                  internal=internal, where=where)
    for at, actor, action, old, new, comment, internal, where in (
        ("s.created_at", "'demo'", "'registered'", "NULL",
         "jsonb_build_object('status', 'registered', 'category_id', s.category_id, 'channel',"
         " s.channel, 'executor_id', s.routed_id, 'routing_rule_id', s.rule_id)",
         "NULL", "false", "true"),
        ("s.taken_at", "'demo'", "'take'", """'{"status": "registered"}'""",
         f"""'{{"status": "in_work", "result": "{R_TAKEN}"}}'""",
         "NULL", "false", "s.taken_at IS NOT NULL"),
        ("s.answered_at", "'demo'", "'answer'",
         f"""'{{"status": "in_work", "result": "{R_TAKEN}"}}'""",
         "jsonb_build_object('status', 'on_check', 'result', s.answer_result, 'answer',"
         " CASE WHEN s.answer_result = %(done)s THEN %(done_text)s::text ELSE %(explained_text)s::text END,"
         " 'answer_kind', CASE WHEN s.answer_result = %(done)s THEN 'done' ELSE 'explained' END)",
         "NULL", "false", "s.answered_at IS NOT NULL AND s.closed_at IS NULL"),
        ("s.rework_at", "CASE WHEN s.rework_action = 'reject' THEN 'заявник' ELSE 'demo' END",
         "s.rework_action",
         "jsonb_build_object('status', 'on_check', 'result', s.answer_result)",
         "jsonb_build_object('status', 'rework', 'result', s.rework_result)",
         "NULL", "false", "s.rework_at IS NOT NULL"),
        ("s.returned_at", "'demo'", "'return'",
         "jsonb_build_object('executor_id', s.routed_id, 'result', NULL)",
         "jsonb_build_object('executor_id', s.executor_id, 'result', %(not_competent)s::text)",
         "%(return_reason)s", "false", "s.returned_at IS NOT NULL"),
        ("s.closed_at", "'demo'", "'closed'", """'{"status": "on_check"}'""",
         "jsonb_build_object('status', 'closed', 'result', s.result)",
         "NULL", "false", "s.closed_at IS NOT NULL"),
        ("s.control_at", "'demo'", "'control'",
         """'{"control_by": null, "control_until": null}'""",
         "jsonb_build_object('control_until', s.control_until, 'control_by', NULL)",
         "NULL", "true", "s.control_at IS NOT NULL"),
        ("s.ask_at", "'demo'", "'ask_extension'", "'{}'",
         "jsonb_build_object('requested_until', s.ask_until)",
         "%(ask_reason)s", "true", "s.ask_at IS NOT NULL"),
    )
)  # fmt: skip
EVENT_PARAMS = {
    "done": R_DONE_AWAITING,
    "done_text": "Роботи виконано. Відповідь згенеровано для демо.",
    "explained_text": "Надано роз'яснення щодо строків і порядку вирішення питання. Відповідь"
    " згенеровано для демо.",
    "not_competent": R_NOT_COMPETENT,
    "return_reason": "Питання не належить до компетенції виконавця (демо).",
    "ask_reason": "Потрібен додатковий час: роботи залежать від погоди (демо).",
}

# The contact centre's day in every council (issue 17): what Kyiv's profile leaves to live
# work — answers returned as not in competence, appeals not routed, the managers' personal
# control and requests for a longer term — drawn at these rates, and every council holds at
# least FLOORS of each queue of the curator's and the manager's pages (taken from its closed
# appeals, the latest first, when the draw gave fewer).
P_RETURNED = 0.35  # of the registered: returned as not in competence (art. 7)
P_UNROUTED = 0.15  # of the other registered: held by the contact centre, no executor yet
P_CONTROL = 0.05  # of the open: under a manager's personal control
P_ASK = 0.05  # of the open in an executor's hands: a longer term asked for
FLOORS = {"check": 2, "author": 2, "returned": 2, "rework": 1, "unrouted": 1, "due_soon": 1,
          "overdue": 2, "no_location": 2, "control": 1, "ask": 1}  # fmt: skip
# «Due within 2 days» all through the demo's day (`now` is its midnight): due 27–45 h on.
DUE_SOON = DAY + DAY // 8
AUTHOR_ANSWER_DAYS = 6  # an answer awaiting the author is this recent at most (autoclose: 10)
THANKS = normalise(appeals_mod.THANKS_KIND)
PRIVILEGES = [p for p, _ in PRIVILEGE_SHARES]
PRIVILEGE_CUM = appeals_mod._cum([w for _, w in PRIVILEGE_SHARES])


def _lifecycle(rng: np.random.Generator, mix: appeals_mod.Mix, created: np.ndarray,
               deadline: np.ndarray, thanks: np.ndarray, own: np.ndarray,
               now: int) -> dict[str, np.ndarray]:  # fmt: skip
    """Each appeal's place in the lifecycle and the times of its steps (epoch seconds, -1 for
    none): Kyiv's profile (appeals.draw_lifecycle), then the contact centre's day (above)."""
    n = len(created)
    status, result, closed, closed_at, extended, updated = appeals_mod.draw_lifecycle(
        rng, mix, created, deadline, thanks, now
    )
    status, result, created = status.copy(), result.copy(), created.copy()
    u_return, u_unrouted, u_control, u_ask, touch_u = rng.random((5, n))
    located = rng.random(n) < mix.fill_rate
    returned = (status == 0) & (u_return < P_RETURNED)
    unrouted = (status == 0) & ~returned & (u_unrouted < P_UNROUTED)
    pool = (status == 4) & ~thanks  # closed appeals a floor may reopen

    def take(
        k: int, extra: np.ndarray | None = None, prefer: np.ndarray | None = None
    ) -> np.ndarray:
        if prefer is not None:  # those first, then any
            first = take(k, prefer if extra is None else extra & prefer)
            return np.concatenate([first, take(k - len(first), extra)])
        idx = np.flatnonzero(pool if extra is None else pool & extra)
        if k <= 0 or not len(idx):
            return idx[:0]
        latest = idx[np.argsort(-created[idx], kind="stable")][: max(4 * k, 8)]
        chosen = rng.choice(latest, size=min(k, len(latest)), replace=False)
        pool[chosen] = False
        return chosen

    def reopen(ix: np.ndarray, code: int, res: str) -> None:
        status[ix], result[ix], closed[ix], extended[ix] = code, res, False, False

    def due() -> np.ndarray:
        return created + np.where(extended, 45, deadline) * DAY

    on_check = status == 2
    curator = np.isin(result, CURATOR_RESULTS)
    reopen(take(FLOORS["check"] - int((on_check & curator).sum())), 2, R_EXPLAINED_CHECK)
    author = (status == 2) & (result == R_DONE_AWAITING)
    reopen(take(FLOORS["author"] - int(author.sum())), 2, R_DONE_AWAITING)
    ix = take(FLOORS["returned"] - int(returned.sum()))
    reopen(ix, 0, R_NOT_COMPETENT)
    returned[ix] = True
    ix = take(FLOORS["unrouted"] - int(unrouted.sum()))
    reopen(ix, 0, appeals_mod.OPEN_RESULTS["registered"][0])
    unrouted[ix] = True
    # The executor's floors: in the executive committee's hands (the demo executor's) when
    # the council gives it appeals.
    mine = own if own.any() else np.ones(n, dtype=bool)
    reopen(take(FLOORS["rework"] - int(((status == 3) & mine).sum()), prefer=own), 3,
           R_REWORK_CURATOR)  # fmt: skip
    open_ = status != 4
    soon = open_ & mine & (due() >= now + DUE_SOON) & (due() < now + 2 * DAY)
    ix = take(FLOORS["due_soon"] - int(soon.sum()), deadline < 45, prefer=own)
    reopen(ix, 1, R_TAKEN)
    created[ix] = now - deadline[ix] * DAY + DUE_SOON + (touch_u[ix] * DAY * 0.75).astype(np.int64)
    open_ = status != 4
    late = open_ & mine & (due() < now)
    reopen(take(FLOORS["overdue"] - int(late.sum()), due() < now - DAY, prefer=own), 1, R_TAKEN)

    # A longer term asked for (art. 20: 45 days at most): of an appeal in an executor's hands
    # whose 45 days are not over; else one taken into work days before its deadline.
    askable = (np.isin(status, (0, 1, 3)) & ~returned & ~unrouted & ~extended
               & (deadline < 45) & (created + 45 * DAY > now + DAY))  # fmt: skip
    ask = askable & (u_ask < P_ASK)
    if FLOORS["ask"] > int((ask & mine).sum()) and (askable & mine & ~ask).any():
        ask[rng.choice(np.flatnonzero(askable & mine & ~ask))] = True
    ix = take(FLOORS["ask"] - int((ask & mine).sum()), deadline < 45, prefer=own)
    reopen(ix, 1, R_TAKEN)
    created[ix] = now - deadline[ix] * DAY + DUE_SOON + (touch_u[ix] * DAY * 0.75).astype(np.int64)
    ask[ix] = True
    open_ = status != 4
    result[returned] = R_NOT_COMPETENT
    unrouted &= ~returned
    located[unrouted] = False  # filed by phone with no place, not yet sent on
    hidden = np.flatnonzero(open_ & located)
    lacking = FLOORS["no_location"] - int((open_ & ~located).sum())
    if lacking > 0 and len(hidden):
        located[rng.choice(hidden, size=min(lacking, len(hidden)), replace=False)] = False

    # The times of the steps, in order, inside (created, now).
    span = np.maximum(now - created, 2)
    touch = created + 1 + ((span - 2) * (0.3 + 0.7 * touch_u)).astype(np.int64)
    none = np.full(n, -1, dtype=np.int64)
    taken, answered, reworked, back = none.copy(), none.copy(), none.copy(), none.copy()
    in_work, on_check, rework = status == 1, status == 2, status == 3
    taken[in_work] = touch[in_work]
    answered[on_check] = touch[on_check]
    author = on_check & (result == R_DONE_AWAITING)
    recent = np.clip(now - AUTHOR_ANSWER_DAYS * DAY, created + 1, now - 1)
    answered[author] = np.maximum(touch, recent)[author]
    reworked[rework] = touch[rework]
    answered[rework] = (created + (touch - created) * 0.6).astype(np.int64)[rework]
    steps = on_check | rework
    taken[steps] = (created + (answered - created) * 0.3).astype(np.int64)[steps]
    back[returned] = np.minimum(touch, created + 4 * DAY)[returned]
    updated = np.where(status == 4, closed_at, np.maximum.reduce([created, taken, answered,
                                                                  reworked, back]))  # fmt: skip
    # The staff's own steps on open appeals: a manager's control, an executor's request.
    open_ = status != 4
    control = open_ & (u_control < P_CONTROL)
    if FLOORS["control"] > int(control.sum()) and open_.any():
        control[rng.choice(np.flatnonzero(open_ & ~control))] = True
    control_at = np.where(
        control, np.clip(np.maximum(updated, now - 3 * DAY), created, now - 1), -1
    )
    ask_at = np.where(ask, np.clip(np.maximum(updated, now - 2 * DAY), created, now - 1), -1)
    updated = np.maximum.reduce([updated, control_at, ask_at])
    return {
        "status": status, "result": result, "closed_at": np.where(status == 4, closed_at, -1),
        "created": created, "extended": extended, "located": located, "returned": returned,
        "unrouted": unrouted, "taken": taken, "answered": answered, "reworked": reworked,
        "back": back, "updated": updated, "control_at": control_at, "ask_at": ask_at,
    }  # fmt: skip


def _appeals(conn, council_id: int, h: Hromada, prefix: str, n: int, seed: int,
             now: dt.datetime, number_base: int, routes: dict[int, tuple[int, int]],
             executor_names: dict[int, str], centre: int, committee: int,
             mix: appeals_mod.Mix, rng: np.random.Generator) -> int:  # fmt: skip
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
    now_s = int(now.timestamp())
    created0 = appeals_mod.draw_created(n, now, rng)
    pick = rng.integers(len(leaves), size=n)
    deadline = np.array([leaves[p][4] for p in pick.tolist()], dtype=np.int64)
    thanks = np.array([normalise(leaves[p][3]) == THANKS for p in pick.tolist()])
    own = np.array([routes[leaves[p][2]][1] == committee for p in pick.tolist()], dtype=bool)
    life = _lifecycle(rng, mix, created0, deadline, thanks, own, now_s)
    channels = np.array(mix.channels, dtype=object)[
        appeals_mod._pick(mix.channel_cum, rng.random(n))
    ]
    privileged = rng.random(n) < 0.04
    privilege = [PRIVILEGES[i] for i in appeals_mod._pick(PRIVILEGE_CUM, rng.random(n)).tolist()]
    public = ((rng.random(n) < 0.88) | thanks).tolist()
    authors = person_names(rng, n)

    def t(a: np.ndarray) -> list[int | None]:
        return [None if v < 0 else v for v in a.tolist()]

    cols: dict[str, list[Any]] = {
        k: (t(v) if v.dtype == np.int64 else v.tolist()) for k, v in life.items()
    }
    with conn.cursor().copy(f"COPY region_stage ({', '.join(STAGE_COLUMNS)}) FROM STDIN") as copy:
        # Numbered in the order of registration (a floor may have moved an appeal's date).
        for j, i in enumerate(np.argsort(life["created"], kind="stable").tolist()):
            leaf_id, leaf_name, kind_id, kind_name, days = leaves[pick[i]]
            rule_id, routed = routes[kind_id]
            created = cols["created"][i]
            status, result = cols["status"][i], cols["result"][i]
            located, unrouted = cols["located"][i], cols["unrouted"][i]
            seq = number_base + j + 1
            author = authors[i]
            if unrouted:
                reason = (f"Громада «{council_name(h)}». Без місця на мапі. Оператор зареєстрував"
                          f" звернення без виконавця: «{executor_names[centre]}» перенаправить"
                          " його належному виконавцю вручну (демо).")  # fmt: skip
            else:
                reason = (f"Громада «{council_name(h)}». {'' if located else 'Без місця на мапі. '}"
                          f"Правило громади: «{kind_name}» → {executor_names[routed]}")  # fmt: skip
            answered, reworked = cols["answered"][i], cols["reworked"][i]
            answer_result = (
                None if answered is None
                else result if status == 2
                else R_DONE_AWAITING if result == R_REWORK_AUTHOR else R_EXPLAINED_CHECK
            )  # fmt: skip
            due = created + int(days) * DAY
            control_at, ask_at = cols["control_at"][i], cols["ask_at"][i]
            copy.write_row((
                seq, f"{prefix}-{author[0]}-{seq}", council_id, leaf_id,
                "thanks" if thanks[i] else "complaint",
                centre if (cols["returned"][i] or unrouted) else routed, routed,
                None if unrouted else rule_id, reason,
                f"{leaf_name}. Звернення згенеровано для демо.", public[i],
                channels[i], STATUSES[status], result, bool(privileged[i]),
                privilege[i] if privileged[i] else None,
                points[i][0] if located else None, points[i][1] if located else None,
                created, due, created + 45 * DAY if cols["extended"][i] else None,
                cols["taken"][i], answered, answer_result, reworked,
                None if reworked is None else ("reject" if result == R_REWORK_AUTHOR else "rework"),
                None if reworked is None else result, cols["back"][i], cols["closed_at"][i],
                cols["updated"][i],
                (now + dt.timedelta(days=3 + seq % 8)).date() if control_at is not None else None,
                control_at, ask_at,
                dt.datetime.fromtimestamp(created + 45 * DAY, dt.UTC).date() if ask_at is not None else None,
                author,
            ))  # fmt: skip
    return number_base + n


def _mix(conn, profile: dict) -> appeals_mod.Mix:
    """The Kyiv demo's mix of the 1551 profile (channels, results, address fill rate; the
    kinds matched to the shared catalogue, as appeals.build_mix does for Kyiv)."""
    categories = [Category(*r) for r in conn.execute(
        "SELECT id, parent_id, name, deadline_days FROM categories WHERE is_active"
        " AND council_id IS NULL ORDER BY id"
    )]  # fmt: skip
    return appeals_mod.build_mix(profile, cast(Reference, SimpleNamespace(categories=categories)))


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
    profile = appeals_mod.read_profile(shared_dir)
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
        mix = _mix(conn, profile)
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
                                   number_base, routes, executor_names, ex["cc"], ex["vk"],
                                   mix, rng_appeals)  # fmt: skip
        inserted = conn.execute(INSERT_SQL).rowcount
        conn.execute(AUTHORS_SQL)
        for sql in EVENTS_SQL:
            conn.execute(sql, EVENT_PARAMS)
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
