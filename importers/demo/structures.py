"""Generated advertising structures and kiosks (МАФ) at plausible places.

No public register of either with coordinates exists for Kyiv, so the demo places them
where they stand in real cities: beside shops, markets and transport stops, a few metres off
a real OSM point of interest. Owners and permits are invented; about one in six permits has
expired and a few structures have none, which is what a planner's map is for. A city that
imported its real register keeps it: then nothing is generated.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import shapely

from importers.demo.geometry import METRES_PER_DEGREE
from importers.demo.reference import Reference

ADS = 2000
KIOSKS = 800

# (kind, size, width_m, height_m, share)
AD_KINDS = (
    ("billboard", "6x3", 6.0, 3.0, 0.36),
    ("citylight", "1.2x1.8", 1.2, 1.8, 0.30),
    ("scroller", "2.3x3.2", 2.3, 3.2, 0.10),
    ("backlight", "6x3", 6.0, 3.0, 0.08),
    ("led_screen", "6x4", 6.0, 4.0, 0.06),
    ("prismatron", "6x3", 6.0, 3.0, 0.04),
    ("firewall", "10x15", 10.0, 15.0, 0.04),
    ("roof", "12x4", 12.0, 4.0, 0.02),
)
AD_OWNERS = (
    'ТОВ "Демо Медіа Сіті"', 'ТОВ "Зовнішня реклама Поділля (демо)"', 'ТОВ "Київ Бордс Демо"',
    'ТОВ "Лівобережна рекламна група (демо)"', 'ТОВ "Світлові вітрини (демо)"',
    'ТОВ "Демо Аутдор Україна"', 'ТОВ "Міські щити (демо)"', 'ТОВ "Демо Сіті Лайт"',
    'ФОП Демченко О. В. (демо)', 'ТОВ "Дніпровські горизонти (демо)"',
)  # fmt: skip
# (kind, min m², max m², share, specialisations)
KIOSK_KINDS = (
    ("кіоск", 4.0, 12.0, 0.55, ("преса", "кава та напої", "квіти", "хлібобулочні вироби",
                               "морозиво", "лотерея", "ремонт взуття", "тютюнові вироби")),
    ("павільйон", 15.0, 40.0, 0.25, ("продовольчі товари", "овочі та фрукти",
                                     "кулінарія (шаурма, хот-доги)", "мобільний зв'язок",
                                     "аптечний пункт")),
    ("літній майданчик", 20.0, 60.0, 0.08, ("кафе", "кава та напої")),
    ("пересувна тимчасова споруда", 3.0, 8.0, 0.07, ("кава та напої", "морозиво", "квас")),
    ("торговельний автомат", 1.0, 2.0, 0.05, ("кава та напої", "снеки")),
)  # fmt: skip
GROUP_WEIGHTS_ADS = {"transport": 5.0, "market": 6.0, "shop": 3.0, "other": 0.6}
GROUP_WEIGHTS_KIOSKS = {"transport": 6.0, "market": 10.0, "shop": 3.0, "other": 0.25}


def _places(ref: Reference, n: int, weights: dict[str, float], rng: np.random.Generator,
            near: float, far: float):  # fmt: skip
    """n points `near`..`far` metres from weighted random POIs, kept inside the city."""
    w = np.array([weights[g] for g in ref.pois.group])
    poi = rng.choice(len(w), size=n, p=w / w.sum())
    dist = rng.uniform(near, far, size=n)
    angle = rng.uniform(0, 2 * np.pi, size=n)
    lat0 = ref.pois.lat[poi]
    lat = lat0 + dist * np.sin(angle) / METRES_PER_DEGREE
    lon = ref.pois.lon[poi] + dist * np.cos(angle) / (METRES_PER_DEGREE * np.cos(np.radians(lat0)))
    outside = ~shapely.contains_xy(ref.city, lon, lat)
    lon[outside], lat[outside] = ref.pois.lon[poi][outside], ref.pois.lat[poi][outside]
    return poi, np.round(lon, 7), np.round(lat, 7)


def _permits(rng: np.random.Generator, n: int, today: dt.date, years: int, missing: float):
    """Issue dates over the last years+1 years, valid `years`: about 1/(years+1) expired."""
    issued_days_ago = rng.integers(30, 365 * (years + 1), size=n)
    serial = rng.integers(10_000, 99_999, size=n)
    has = rng.random(n) >= missing
    out: list[tuple[str | None, dt.date | None]] = []
    for ago, num, ok in zip(issued_days_ago.tolist(), serial.tolist(), has.tolist(), strict=True):
        if not ok:
            out.append((None, None))
            continue
        issued = today - dt.timedelta(days=ago)
        until = (
            issued.replace(year=issued.year + years)
            if not (issued.month == 2 and issued.day == 29)
            else issued + dt.timedelta(days=365 * years)
        )
        out.append((f"{num}/{issued.year}", until))
    return out


def clear(conn, rewind: bool) -> tuple[bool, bool]:
    """Delete generated structures; say for each table whether to generate (no real rows)."""
    from importers.demo.city import rewind_identity

    for table in ("advertising_structures", "kiosks"):
        conn.execute(f"DELETE FROM {table} WHERE generated")
        if rewind:
            rewind_identity(conn, table)
    ads = conn.execute("SELECT NOT EXISTS (SELECT 1 FROM advertising_structures)").fetchone()[0]
    kiosks = conn.execute("SELECT NOT EXISTS (SELECT 1 FROM kiosks)").fetchone()[0]
    return ads, kiosks


def build_ads(conn, ref: Reference, rng: np.random.Generator, today: dt.date) -> int:
    poi, lon, lat = _places(ref, ADS, GROUP_WEIGHTS_ADS, rng, 6.0, 25.0)
    share = np.array([k[4] for k in AD_KINDS])
    kind = rng.choice(len(AD_KINDS), size=ADS, p=share / share.sum())
    owner = rng.integers(len(AD_OWNERS), size=ADS)
    permits = _permits(rng, ADS, today, years=5, missing=0.04)
    with conn.cursor().copy(
        "COPY advertising_structures (code, kind, size, width_m, height_m, owner, permit_number,"
        " permit_valid_until, address, generated, geom) FROM STDIN"
    ) as copy:
        for i in range(ADS):
            k = AD_KINDS[kind[i]]
            copy.write_row((
                f"DEMO-RK-{i + 1:05d}", k[0], k[1], k[2], k[3], AD_OWNERS[owner[i]],
                permits[i][0], permits[i][1], ref.pois.address[poi[i]], True,
                f"SRID=4326;POINT({float(lon[i])!r} {float(lat[i])!r})",
            ))  # fmt: skip
    return ADS


def build_kiosks(conn, ref: Reference, rng: np.random.Generator, today: dt.date) -> int:
    from importers.demo.city import person_names

    poi, lon, lat = _places(ref, KIOSKS, GROUP_WEIGHTS_KIOSKS, rng, 8.0, 40.0)
    share = np.array([k[3] for k in KIOSK_KINDS])
    kind = rng.choice(len(KIOSK_KINDS), size=KIOSKS, p=share / share.sum())
    u_area, u_spec = rng.random(KIOSKS), rng.random(KIOSKS)
    rotation = rng.uniform(0, np.pi, size=KIOSKS)
    owners = person_names(rng, KIOSKS)
    legal = rng.random(KIOSKS) < 0.3
    permits = _permits(rng, KIOSKS, today, years=3, missing=0.08)
    kx = np.cos(np.radians(lat))
    with conn.cursor().copy(
        "COPY kiosks (code, kind, specialization, owner, area_m2, permit_number,"
        " permit_valid_until, address, generated, geom) FROM STDIN"
    ) as copy:
        for i in range(KIOSKS):
            name, lo, hi, _, specs = KIOSK_KINDS[kind[i]]
            area = round(lo + (hi - lo) * float(u_area[i]), 1)
            # A rectangle of that area, 3:2, turned by `rotation`: the footprint on the map.
            w, h = np.sqrt(area * 1.5), np.sqrt(area / 1.5)
            corners = np.array([(-w, -h), (w, -h), (w, h), (-w, h), (-w, -h)]) / 2
            c, s = np.cos(rotation[i]), np.sin(rotation[i])
            xy = corners @ np.array([[c, s], [-s, c]])
            ring = ", ".join(
                f"{round(float(lon[i] + x / (METRES_PER_DEGREE * kx[i])), 8)!r}"
                f" {round(float(lat[i] + y / METRES_PER_DEGREE), 8)!r}"
                for x, y in xy
            )
            surname, first, patronymic = owners[i].split()
            owner = (f'ТОВ "{surname} і партнери (демо)"' if legal[i]
                     else f"ФОП {surname} {first[0]}. {patronymic[0]}. (демо)")  # fmt: skip
            copy.write_row((
                f"DEMO-MAF-{i + 1:05d}", name, specs[int(u_spec[i] * len(specs))], owner,
                f"{area:.2f}", f"ПП-{permits[i][0]}" if permits[i][0] else None, permits[i][1],
                ref.pois.address[poi[i]], True, f"SRID=4326;POLYGON(({ring}))",
            ))  # fmt: skip
    return KIOSKS
