"""The generated structure of the demo city: executors and their territories, routing rules,
electoral wards and their deputies.

Territories and wards are Voronoi tilings: seeded sites chosen by k-means over the real OSM
points of interest (a proxy for where people live and work) plus uniform points (so that
forests and outskirts get their share), each cell clipped to the district or city it
divides. The tiles therefore cover their district or the city exactly, without overlaps.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np
import psycopg
import shapely

from importers.demo import organisations as orgs
from importers.demo.geometry import kmeans_sites, lon_scale, random_points_in, voronoi_tiles
from importers.demo.names import FEMALE_FIRST, MALE_FIRST, PATRONYMICS, SURNAMES
from importers.demo.reference import Reference

WARDS = 110
WARDS_DESCRIPTION = (
    "Згенеровано для демо: публічних полігонів виборчих округів Києва немає, тому межі — "
    "комірки Вороного навколо згенерованих точок (k-середні по реальних POI OpenStreetMap), "
    "обрізані межею міста. Замініть справжніми межами імпортом шару wards."
)
DEPUTY_TERM_FROM = dt.date(2020, 12, 1)


@dataclass
class Executors:
    ids: dict[str, int] = field(default_factory=dict)  # org key → executors.id
    names: dict[str, str] = field(default_factory=dict)
    offices: dict[str, list[tuple[str, object]]] = field(
        default_factory=dict
    )  # district → (key, tile)


def _wkb(geom) -> bytes:
    return shapely.to_wkb(geom, include_srid=False)


def rewind_identity(conn, table: str) -> None:
    """Let the next id follow the highest one left, so that a re-run over a database that
    holds only demo rows gives the same ids again. Only called when no real appeal exists,
    so no id handed out before can still be referred to."""
    conn.execute(
        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), coalesce(max(id), 0) + 1,"
        f" false) FROM {table}"
    )


def clear(conn, rewind: bool) -> None:
    """Remove what the demo made before, except rows that real (non-generated) appeals still
    point to. Appeals are cleared separately (appeals.py)."""
    conn.execute(
        "UPDATE appeals SET routing_rule_id = NULL WHERE NOT generated AND routing_rule_id IN"
        " (SELECT id FROM routing_rules WHERE note LIKE %s)",
        (orgs.RULE_NOTE_PREFIX + "%",),
    )
    conn.execute("DELETE FROM routing_rules WHERE note LIKE %s", (orgs.RULE_NOTE_PREFIX + "%",))
    conn.execute(
        "DELETE FROM executor_territories t USING executors e"
        " WHERE t.executor_id = e.id AND e.generated"
    )
    conn.execute("DELETE FROM deputies WHERE generated")
    if rewind:
        for table in ("routing_rules", "executor_territories", "deputies"):
            rewind_identity(conn, table)


def build_executors(conn, ref: Reference, rng: np.random.Generator) -> Executors:
    """Upsert the executors by code (ids stay stable across runs), then drop generated ones
    that this run no longer has, unless something still refers to them."""
    ex = Executors()

    def upsert(org: orgs.Org, parent: str | None = None, district_code: str | None = None):
        row = conn.execute(
            "INSERT INTO executors (parent_id, code, name, short_name, kind, district_code,"
            " phone, email, generated) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, true)"
            " ON CONFLICT (code) DO UPDATE SET parent_id = EXCLUDED.parent_id,"
            " name = EXCLUDED.name, short_name = EXCLUDED.short_name, kind = EXCLUDED.kind,"
            " district_code = EXCLUDED.district_code, phone = EXCLUDED.phone,"
            " email = EXCLUDED.email, generated = true RETURNING id",
            (ex.ids.get(parent) if parent else None, orgs.CODE_PREFIX + org.key, org.name,
             org.short_name, org.kind, district_code, org.phone, org.email),
        ).fetchone()  # fmt: skip
        ex.ids[org.key] = row[0]
        ex.names[org.key] = org.short_name

    upsert(orgs.CONTACT_CENTRE)
    for org in orgs.CITY_ORGS:
        upsert(org)
    kx = lon_scale(ref.city)
    pois_xy = np.column_stack([ref.pois.lon, ref.pois.lat])
    for ordinal, d in enumerate(ref.districts, start=1):
        n_offices = int(rng.integers(3, 7))
        rda, kk, offices = orgs.district_orgs(d.name, d.code, ordinal, n_offices)
        upsert(rda, district_code=d.code)
        upsert(kk, parent=rda.key, district_code=d.code)
        for office in offices:
            upsert(office, parent=kk.key, district_code=d.code)
        shapely.prepare(d.geom)
        own = pois_xy[shapely.contains_xy(d.geom, pois_xy[:, 0], pois_xy[:, 1])]
        points = np.vstack([own, random_points_in(d.geom, 150, rng)])
        tiles = voronoi_tiles(d.geom, kmeans_sites(points, n_offices, rng, kx))
        ex.offices[d.code] = [(o.key, t) for o, t in zip(offices, tiles, strict=True)]

    codes = [orgs.CODE_PREFIX + k for k in ex.ids]
    stale = [r[0] for r in conn.execute(
        "SELECT id FROM executors WHERE generated AND NOT (code = ANY(%s)) ORDER BY id DESC",
        (codes,),
    )]  # fmt: skip
    for executor_id in stale:  # children (higher ids) first; keep what is still referred to
        try:
            with conn.transaction():
                conn.execute("DELETE FROM executors WHERE id = %s", (executor_id,))
        except psycopg.errors.ForeignKeyViolation:
            pass
    return ex


def _multi(geom):
    return geom if geom.geom_type == "MultiPolygon" else shapely.MultiPolygon([geom])


def build_territories(conn, ref: Reference, ex: Executors, valid_from: dt.datetime) -> int:
    rows = []
    city = _wkb(_multi(ref.city))
    for org in (orgs.CONTACT_CENTRE, *orgs.CITY_ORGS):
        rows.append(
            (ex.ids[org.key], orgs.CODE_PREFIX + org.key, f"{org.short_name}: усе місто", city)
        )
    for d in ref.districts:
        for key, label in ((f"rda-{d.code}", d.name), (f"kk-{d.code}", d.name)):
            rows.append((ex.ids[key], orgs.CODE_PREFIX + key, f"{ex.names[key]}: {label}",
                         _wkb(_multi(d.geom))))  # fmt: skip
        for key, tile in ex.offices[d.code]:
            rows.append((ex.ids[key], orgs.CODE_PREFIX + key,
                         f"{ex.names[key]} ({d.name})", _wkb(tile)))  # fmt: skip
    with conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO executor_territories (executor_id, code, name, geom, version, valid_from)"
            " VALUES (%s, %s, %s, ST_Multi(ST_GeomFromWKB(%s, 4326)), 1, %s)",
            [(*r, valid_from) for r in rows],
        )
    return len(rows)


def build_rules(conn, ref: Reference, ex: Executors) -> int:
    """Routing rules per leaf category (a sub-kind, or a kind without sub-kinds), so that a
    router that matches categories exactly and one that also tries the parent kind agree."""
    by_parent: dict[int | None, list] = {}
    for c in ref.categories:
        by_parent.setdefault(c.parent_id, []).append(c)
    housing = {orgs.normalise(k) for k in orgs.HOUSING_KINDS}
    district = {orgs.normalise(k) for k in orgs.DISTRICT_KINDS}
    city = {orgs.normalise(k): v for k, v in orgs.CITY_KINDS.items()}
    rules: list[
        tuple
    ] = []  # (priority, category_id, district_code, territory_code, executor_id, note)
    for kind in by_parent.get(None, []):
        leaves = by_parent.get(kind.id) or [kind]
        key = orgs.normalise(kind.name)
        for leaf in leaves:
            if orgs.DRUG_ADVERTISING.search(leaf.name):
                rules.append((orgs.PRIORITY_DRUGS, leaf.id, None, None, ex.ids["police"],
                              "реклама наркотиків — поліції (рішення Києва 2017 р.)"))  # fmt: skip
            if key in housing:
                for d in ref.districts:
                    for office, _ in ex.offices[d.code]:
                        rules.append((orgs.PRIORITY_TERRITORY, leaf.id, None,
                                      orgs.CODE_PREFIX + office, ex.ids[office],
                                      "житлове питання — ЖЕД своєї території"))  # fmt: skip
                    rules.append((orgs.PRIORITY_DISTRICT_CATEGORY, leaf.id, d.code, None,
                                  ex.ids[f"kk-{d.code}"],
                                  "житлове питання — керуюча компанія району"))  # fmt: skip
            elif key in district:
                for d in ref.districts:
                    rules.append((orgs.PRIORITY_DISTRICT_CATEGORY, leaf.id, d.code, None,
                                  ex.ids[f"rda-{d.code}"], "питання району — РДА"))  # fmt: skip
            elif key in city:
                org = city[key]
                rules.append((orgs.PRIORITY_CITY_CATEGORY, leaf.id, None, None, ex.ids[org],
                              f"міська мережа — {ex.names[org]}"))  # fmt: skip
    for d in ref.districts:
        rules.append((orgs.PRIORITY_DISTRICT_FALLBACK, None, d.code, None,
                      ex.ids[f"rda-{d.code}"], "інше в районі — РДА"))  # fmt: skip
    rules.append((orgs.PRIORITY_CITY_FALLBACK, None, None, None, ex.ids["kbu-1551"],
                  "без району — контакт-центр перенаправляє вручну"))  # fmt: skip
    with conn.cursor().copy(
        "COPY routing_rules (priority, category_id, district_code, territory_code,"
        " executor_id, note) FROM STDIN"
    ) as copy:
        for p, cat, dcode, tcode, executor_id, note in rules:
            copy.write_row((p, cat, dcode, tcode, executor_id, orgs.RULE_NOTE_PREFIX + note))
    return len(rules)


def person_names(rng: np.random.Generator, n: int) -> list[str]:
    female = rng.random(n) < 0.5
    s = rng.integers(len(SURNAMES), size=n)
    f = rng.integers(len(FEMALE_FIRST), size=n)
    m = rng.integers(len(MALE_FIRST), size=n)
    p = rng.integers(len(PATRONYMICS), size=n)
    return [
        f"{SURNAMES[si][1]} {FEMALE_FIRST[fi]} {PATRONYMICS[pi][1]}" if fem
        else f"{SURNAMES[si][0]} {MALE_FIRST[mi]} {PATRONYMICS[pi][0]}"
        for fem, si, fi, mi, pi in zip(female.tolist(), s.tolist(), f.tolist(), m.tolist(), p.tolist(), strict=True)
    ]  # fmt: skip


def build_wards(conn, ref: Reference, rng: np.random.Generator, valid_from: dt.datetime) -> int:
    """Generated wards tiling the city, one generated deputy each. A city that imported its
    real wards keeps them: then nothing is generated."""
    real = conn.execute("SELECT count(*) FROM wards WHERE NOT generated AND valid_to IS NULL")
    if real.fetchone()[0]:
        return 0
    kx = lon_scale(ref.city)
    points = np.vstack([
        np.column_stack([ref.pois.lon, ref.pois.lat]), random_points_in(ref.city, 2000, rng)
    ])  # fmt: skip
    sites = kmeans_sites(points, WARDS, rng, kx)
    tiles = voronoi_tiles(ref.city, sites)
    # Number the wards district by district, north to south, like a real ward map.
    ordinal = np.full(len(sites), len(ref.districts))
    for i, d in reversed(list(enumerate(ref.districts))):
        ordinal[shapely.contains_xy(d.geom, sites[:, 0], sites[:, 1])] = i
    order = np.lexsort((sites[:, 0], -sites[:, 1], ordinal))
    numbers = list(range(1, WARDS + 1))
    for number, i in zip(numbers, order.tolist(), strict=True):
        values = {
            "number": number,
            "name": f"Виборчий округ №{number}",
            "hromada": ref.hromada_id,
            "description": WARDS_DESCRIPTION,
            "geom": _wkb(tiles[i]),
            "from": valid_from,
        }
        # A generated ward is regenerated in place, so real appeals that refer to it keep
        # their ward; a new number starts after any closed versions it may have.
        updated = conn.execute(
            "UPDATE wards SET name = %(name)s, hromada_id = %(hromada)s,"
            " description = %(description)s, geom = ST_Multi(ST_GeomFromWKB(%(geom)s, 4326)),"
            " valid_from = %(from)s WHERE number = %(number)s AND generated AND valid_to IS NULL",
            values,
        ).rowcount
        if not updated:
            conn.execute(
                "INSERT INTO wards (number, name, hromada_id, generated, description, geom,"
                " version, valid_from) SELECT %(number)s, %(name)s, %(hromada)s, true,"
                " %(description)s, ST_Multi(ST_GeomFromWKB(%(geom)s, 4326)),"
                " coalesce(max(version), 0) + 1, %(from)s FROM wards WHERE number = %(number)s",
                values,
            )
    conn.execute(
        "DELETE FROM wards w WHERE generated AND NOT (number = ANY(%s))"
        " AND NOT EXISTS (SELECT 1 FROM appeals a WHERE a.ward_id = w.id)",
        (numbers,),
    )
    names = person_names(rng, WARDS)
    with conn.cursor().copy(
        "COPY deputies (ward_number, full_name, public_email, term_from, generated) FROM STDIN"
    ) as copy:
        for n, name in zip(numbers, names, strict=True):
            copy.write_row((n, name, f"okrug{n}@deputaty.example.org", DEPUTY_TERM_FROM, True))
    return WARDS
