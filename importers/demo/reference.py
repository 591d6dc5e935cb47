"""The real data the demo city stands on, read back from the database after
`load_reference_data`: the city boundary, districts, categories, OSM points of interest and
the street register. Everything is read in a stable order, so that one seed gives one city.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

KYIV_CODE = "UA80000000000093317"  # KATOTTH of the city of Kyiv


class ReferenceDataMissing(RuntimeError):
    """The reference data the demo needs is not in the database."""


@dataclass(frozen=True)
class District:
    id: int
    code: str
    name: str
    geom: BaseGeometry


@dataclass(frozen=True)
class Category:
    id: int
    parent_id: int | None
    name: str
    deadline_days: int


@dataclass
class Pois:
    """Points of interest inside the city, as parallel arrays/lists (index = POI)."""

    lon: np.ndarray
    lat: np.ndarray
    name: list[str | None]
    address: list[str | None]  # «вулиця Хрещатик, 22», or «біля «Name»», or None
    group: np.ndarray  # 'shop', 'transport', 'market', 'other'
    covered: np.ndarray  # inside the city AND inside a district: where appeals may be


@dataclass
class Reference:
    hromada_id: int
    city: BaseGeometry
    districts: list[District]
    categories: list[Category]
    pois: Pois
    streets: list[str]  # «вул. Роздільна»: for authors' postal addresses
    coverage: BaseGeometry  # city ∩ union of districts


def _clean(value: object) -> str | None:
    """Text safe for COPY's text format (no tabs, newlines or backslashes)."""
    if value is None:
        return None
    s = " ".join(str(value).replace("\\", "/").split())
    return s or None


def _group(props: dict) -> str:
    if props.get("amenity") == "marketplace" or props.get("shop") in ("mall", "marketplace"):
        return "market"
    if (
        "public_transport" in props
        or props.get("railway") in ("station", "halt", "tram_stop", "subway_entrance")
        or props.get("highway") == "bus_stop"
        or props.get("amenity") == "bus_station"
    ):
        return "transport"
    if "shop" in props:
        return "shop"
    return "other"


def read_reference(conn) -> Reference:
    from importers.demo.names import STREET_ABBREVIATIONS

    row = conn.execute(
        "SELECT id, ST_AsBinary(geom) FROM hromadas WHERE valid_to IS NULL"
        " ORDER BY (code = %s) DESC, id LIMIT 1",
        (KYIV_CODE,),
    ).fetchone()
    if row is None:
        raise ReferenceDataMissing("no hromada (city boundary) in the database")
    hromada_id, city = row[0], shapely.from_wkb(bytes(row[1]))
    districts = [
        District(r[0], r[1], r[2], shapely.from_wkb(bytes(r[3])))
        for r in conn.execute(
            "SELECT id, code, name, ST_AsBinary(geom) FROM districts WHERE valid_to IS NULL"
            " ORDER BY code, id"
        )
    ]
    if not districts:
        raise ReferenceDataMissing("no districts in the database")
    categories = [
        Category(*r)
        for r in conn.execute(
            "SELECT id, parent_id, name, deadline_days FROM categories WHERE is_active"
            " ORDER BY sort_order, id"
        )
    ]
    if not categories:
        raise ReferenceDataMissing("no categories in the database")

    coverage = shapely.intersection(city, shapely.union_all([d.geom for d in districts]))
    shapely.prepare(city)
    shapely.prepare(coverage)
    rows = conn.execute(
        "SELECT ST_X(geom), ST_Y(geom), properties FROM layer_features"
        " WHERE layer_name = 'pois' AND GeometryType(geom) = 'POINT' ORDER BY feature_key"
    ).fetchall()
    lon = np.array([r[0] for r in rows], dtype=float)
    lat = np.array([r[1] for r in rows], dtype=float)
    inside = shapely.contains_xy(city, lon, lat) if rows else np.zeros(0, bool)
    names: list[str | None] = []
    addresses: list[str | None] = []
    groups: list[str] = []
    for (_, _, props), keep in zip(rows, inside, strict=True):
        if not keep:
            continue
        props = props or {}
        name = _clean(props.get("name:uk") or props.get("name"))
        street, house = _clean(props.get("addr:street")), _clean(props.get("addr:housenumber"))
        names.append(name)
        groups.append(_group(props))
        if street and house:
            addresses.append(f"{street}, {house}")
        elif name:
            addresses.append(f"біля «{name}»")
        else:
            addresses.append(None)
    lon, lat = lon[inside], lat[inside]
    if len(lon) < 200:
        raise ReferenceDataMissing(
            f"only {len(lon)} points of interest (layer 'pois') inside the city: load the "
            "reference data first"
        )
    pois = Pois(
        lon=lon, lat=lat, name=names, address=addresses, group=np.array(groups),
        covered=shapely.contains_xy(coverage, lon, lat),
    )  # fmt: skip
    streets = []
    for name, kind in conn.execute("SELECT name, kind FROM streets ORDER BY code"):
        name, kind = _clean(name), _clean(kind)
        if name:
            abbr = STREET_ABBREVIATIONS.get((kind or "").lower(), kind or "вул.")
            streets.append(f"{abbr} {name}")
    return Reference(hromada_id, city, districts, categories, pois, streets, coverage)
