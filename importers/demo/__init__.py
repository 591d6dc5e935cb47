"""`hromada demo`: the demo city of Kyiv, generated on top of the real Kyiv data.

`generate(url, seed, appeals, shared_dir)` loads the real reference data (city and district
boundaries, 1551's categories, OSM points of interest, the street register), then builds, in
one transaction that replaces whatever it generated before:

- executors: the contact centre, a district administration per district with its housing
  company and 3–6 housing offices (ЖЕД), the city utilities, departments and the police,
  with territories (housing offices tile their district; utilities cover the city);
- routing rules from category and territory to executor, most specific first;
- 110 electoral wards tiling the city, one deputy each (no public ward polygons of Kyiv
  exist, so these are generated and say so);
- about 2,000 advertising structures and 800 kiosks near real shops, markets and stops;
- `appeals` appeals over the 365 days before `now`, with the category, channel, status,
  result and address-fill mix of Kyiv's published 1551 profile, at real points of interest,
  routed set-based in SQL (see appeals.py);
- each appeal about advertising or a kiosk linked to its nearest structure
  (gis/structure_links.py, one set-based statement);
- the police's daily dispatch of the appeals about drug advertising (dispatch.py; the
  sub-kind added to the categories, labelled so, when the city's list lacks it).
- the placement rules of structures and kiosks, one of each kind, and the protected zone
  they need: a thematic layer «Охоронна зона (згенеровано)» with one drawn polygon
  (placement.py).

Everything generated carries `generated = true` (routing rules, which have no such column,
a «[demo]» note; territories belong to generated executors), so real data loaded later sits
beside it and a re-run replaces only what the demo made. The same seed and the same `now`
give the same rows, to the byte: numpy's PCG64 streams spawned from the seed, stable
ordering everywhere, and no wall clock but `now`.
"""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path

import numpy as np
import psycopg

from gis import councils, structure_links
from gis.db import libpq_url
from importers.demo import appeals as appeals_mod
from importers.demo import city, dispatch, placement, structures
from importers.demo.reference import read_reference

__all__ = ["generate", "city_is_loaded", "default_now"]

LOCK_KEY = 1551_0001  # pg_advisory_xact_lock: one demo generation at a time

LAYERS = (
    # name, title, title_en, geometry type, owner department, update regime, generated?, description
    ("districts", "Райони", "Districts", "MultiPolygon",
     "Департамент містобудування та архітектури", "on_change", False,
     "Адміністративні райони міста (OpenStreetMap)."),
    ("wards", "Виборчі округи", "Electoral wards", "MultiPolygon",
     "Секретаріат Київської міської ради", "on_change", True,
     "Виборчі округи Київради. Демо: межі згенеровано (публічних полігонів округів немає)."),
    ("executor_territories", "Території виконавців", "Executor territories", "MultiPolygon",
     'КБУ "Контактний центр міста Києва"', "monthly", True,
     "Хто за яку територію відповідає. Демо: поділ районів між ЖЕД згенеровано."),
    ("advertising_structures", "Рекламні конструкції", "Advertising structures", "Point",
     'КП "Київреклама"', "weekly", True,
     "Рекламні конструкції та дозволи. Демо: згенеровано біля реальних POI, власники і "
     "дозволи вигадані."),
    ("kiosks", "МАФ і тимчасові споруди", "Kiosks and temporary structures", "Polygon",
     "Департамент промисловості та розвитку підприємництва", "weekly", True,
     "Кіоски, павільйони та інші тимчасові споруди. Демо: згенеровано біля реальних POI, "
     "власники і паспорти прив'язки вигадані."),
    ("appeals", "Звернення", "Appeals", "Point", 'КБУ "Контактний центр міста Києва"',
     "daily", True,
     "Звернення громадян. Демо: записи з generated = true згенеровано за реальним профілем "
     "відкритих даних 1551 (категорії, канали, статуси, результати); місця — реальні POI "
     "OpenStreetMap зі зсувом ~30 м."),
)  # fmt: skip


def default_now() -> dt.datetime:
    """Today at 00:00 UTC: the end of the demo's year unless the caller fixes another."""
    return dt.datetime.now(dt.UTC).replace(hour=0, minute=0, second=0, microsecond=0)


def city_is_loaded(url: str) -> bool:
    """True when the city is there: districts and appeals exist (real or generated)."""
    try:
        with psycopg.connect(libpq_url(url), connect_timeout=10) as conn:
            row = conn.execute(
                "SELECT to_regclass('districts') IS NOT NULL AND to_regclass('appeals') IS NOT NULL"
            ).fetchone()
            assert row is not None  # a SELECT without FROM returns one row
            if not row[0]:
                return False
            row = conn.execute(
                "SELECT EXISTS (SELECT 1 FROM districts) AND EXISTS (SELECT 1 FROM appeals)"
            ).fetchone()
            assert row is not None
            return bool(row[0])
    except psycopg.OperationalError:
        return False


def _load_reference(url: str, shared_dir: Path) -> list:
    from importers import load_reference_data

    result = load_reference_data(url, shared_dir)
    reports = list(result) if result is not None and not isinstance(result, dict) else [result]
    return [r.summary() if hasattr(r, "summary") else r for r in reports if r is not None]


def _upsert_layers(conn, now: dt.datetime, seed: int) -> None:
    for name, title, title_en, gtype, owner, regime, generated, description in LAYERS:
        if generated:
            description = f"{description} Seed {seed}."
        conn.execute(
            "INSERT INTO layers (name, title, title_en, description, geometry_type, kind,"
            " owner_department, update_regime, last_updated, source, attribution, is_public)"
            " VALUES (%s, %s, %s, %s, %s, 'core', %s, %s, %s, %s, %s, true)"
            " ON CONFLICT (name) DO " + (
                "UPDATE SET title = EXCLUDED.title, title_en = EXCLUDED.title_en,"
                " description = EXCLUDED.description, geometry_type = EXCLUDED.geometry_type,"
                " kind = 'core', owner_department = EXCLUDED.owner_department,"
                " update_regime = EXCLUDED.update_regime, last_updated = EXCLUDED.last_updated,"
                " source = EXCLUDED.source, attribution = EXCLUDED.attribution"
                if generated else "NOTHING"
            ),
            (name, title, title_en, description, gtype, owner, regime,
             now if generated else conn.execute(
                 f"SELECT max(valid_from) FROM {name}").fetchone()[0],
             "hromada demo (generated)" if generated else "OpenStreetMap",
             "© OpenStreetMap contributors (ODbL)"
             if name in ("districts", "advertising_structures", "kiosks", "appeals") else None),
        )  # fmt: skip


def _name_council(conn, hromada_id: int) -> None:
    """The demo city's council (issue 17): Kyiv, slug `kyiv`, whatever the boundary file
    calls the city (gis/councils.ensure_single; nothing when the install has several)."""
    row = conn.execute("SELECT code FROM hromadas WHERE id = %s", (hromada_id,)).fetchone()
    if row is not None:
        councils.ensure_single(conn, row[0], "Київ", slug="kyiv", name_en="Kyiv")


def generate(url: str, seed: int = 1551, appeals: int = 50_000, shared_dir: Path | None = None,
             *, now: dt.datetime | None = None, reference: bool = True,
             years: int | None = None) -> dict:  # fmt: skip
    """Load the reference data and (re)build the demo city; return a JSON-able summary.

    `now` ends the span of appeals (default: today 00:00 UTC); pass the same seed and `now`
    to get the same data. The span is `years` (default: a year per million appeals, so
    that 10 million are a decade of Kyiv's volume, appeals.years_for). `reference=False` skips `load_reference_data` (it must have run).
    """
    if shared_dir is None:
        from gis.settings import get_settings

        shared_dir = get_settings().shared_data
    now = (now or default_now()).astimezone(dt.UTC)
    timings: dict[str, float] = {}
    started = t = time.monotonic()
    summary: dict = {"seed": seed, "now": now.isoformat()}
    if reference:
        summary["reference"] = _load_reference(url, Path(shared_dir))
        timings["reference_data"] = round(time.monotonic() - t, 2)
    profile = appeals_mod.read_profile(Path(shared_dir))
    streams = [np.random.Generator(np.random.PCG64(s))
               for s in np.random.SeedSequence(seed).spawn(5)]  # fmt: skip
    rng_exec, rng_wards, rng_ads, rng_kiosks, rng_appeals = streams
    years = years or appeals_mod.years_for(appeals)
    summary["years"] = years
    valid_from = now - dt.timedelta(days=365 * years + 1)

    with psycopg.connect(libpq_url(url)) as conn:
        conn.execute("SET TimeZone = 'UTC'")
        conn.execute("SET temp_buffers = '256MB'")
        conn.execute("SET work_mem = '256MB'")
        conn.execute("SET maintenance_work_mem = '512MB'")
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (LOCK_KEY,))
        t = time.monotonic()
        drug_categories = dispatch.ensure_drug_category(conn)  # before the mix reads them
        ref = read_reference(conn)
        _name_council(conn, ref.hromada_id)
        mix = appeals_mod.build_mix(profile, ref)
        timings["read_reference"] = round(time.monotonic() - t, 2)

        t = time.monotonic()
        bases = appeals_mod.clear(conn)  # first: appeals refer to rules, executors, wards
        only_demo = bases[0] == 0  # no real appeal: the ids of demo rows may be reused
        city.clear(conn, rewind=only_demo)
        ex = city.build_executors(conn, ref, rng_exec)
        summary["executors"] = len(ex.ids)
        summary["executor_territories"] = city.build_territories(conn, ref, ex, valid_from)
        summary["routing_rules"] = city.build_rules(conn, ref, ex)
        summary["wards"] = city.build_wards(conn, ref, rng_wards, valid_from)
        summary["deputies"] = summary["wards"]
        gen_ads, gen_kiosks = structures.clear(conn, rewind=only_demo)
        summary["advertising_structures"] = (
            structures.build_ads(conn, ref, rng_ads, now.date()) if gen_ads else 0
        )
        summary["kiosks"] = (
            structures.build_kiosks(conn, ref, rng_kiosks, now.date()) if gen_kiosks else 0
        )
        _upsert_layers(conn, now, seed)
        summary["protected_zone"] = placement.build_zone(conn, now)
        summary["placement_rules"] = placement.build_rules(conn, now)
        timings["city"] = round(time.monotonic() - t, 2)

        loaded = appeals_mod.load(conn, ref, mix, rng_appeals, appeals, now, bases, timings, years)
        summary.update(loaded)
        t = time.monotonic()
        summary["appeal_structures"] = structure_links.relink_all(conn)
        timings["appeal_structures"] = round(time.monotonic() - t, 2)
        summary["dispatch_subscription"] = dispatch.build_subscription(conn, drug_categories, now)
        summary["statuses"] = dict(conn.execute(
            "SELECT status, count(*) FROM appeals WHERE generated GROUP BY 1 ORDER BY 1"
        ).fetchall())  # fmt: skip
        located = conn.execute(
            "SELECT count(*) FROM appeals WHERE generated AND geom IS NOT NULL"
        ).fetchone()
        assert located is not None  # an aggregate returns one row
        summary["located"] = located[0]
        if mix.unmatched:
            summary["kinds_not_in_categories"] = mix.unmatched
        t = time.monotonic()
    timings["commit"] = round(time.monotonic() - t, 2)

    t = time.monotonic()
    with psycopg.connect(libpq_url(url), autocommit=True) as conn:
        for table in ("appeals", "appeal_authors", "appeal_events", "executors",
                      "executor_territories", "routing_rules", "wards", "deputies",
                      "advertising_structures", "kiosks"):  # fmt: skip
            conn.execute(f"ANALYZE {table}")
    timings["analyze"] = round(time.monotonic() - t, 2)
    timings["total"] = round(time.monotonic() - started, 2)
    summary["timings"] = timings
    return summary
