"""Coordinate reference systems and geometry checks: everything is stored in EPSG:4326
(longitude, latitude in degrees), whatever CRS the file came in.

Pure functions; the order an importer applies them in is `clean_geometry`:
2D → not empty → reprojected → finite and within lon/lat range → valid (repaired if not).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import shapely
from pyproj import CRS, Transformer
from pyproj.exceptions import CRSError
from shapely.geometry.base import BaseGeometry

WGS84 = CRS.from_epsg(4326)

#: Reprojected coordinates are rounded to this many decimal degrees (1e-9° ≈ 0.1 mm), so that
#: re-importing the same file after a PROJ upgrade does not report every feature as changed.
DEGREE_DECIMALS = 9

_POLYGONAL = ("Polygon", "MultiPolygon")


class CRSNotUnderstood(ValueError):
    """A CRS name or definition pyproj cannot read."""


def parse_crs(value: str | int | dict | CRS) -> CRS:
    """Read a CRS from what users and files write.

    Parameters
    ----------
    value
        ``"EPSG:3857"``, ``3857``, ``"urn:ogc:def:crs:EPSG::5564"``, ``"urn:ogc:def:crs:OGC:1.3:CRS84"``,
        a WKT or PROJ string, or a GeoJSON (2008) ``crs`` member: ``{"type": "name",
        "properties": {"name": ...}}`` or ``{"type": "EPSG", "properties": {"code": 3857}}``.

    Returns
    -------
    pyproj.CRS

    Raises
    ------
    CRSNotUnderstood
        If the value names no CRS pyproj knows (a ``link`` crs member, a typo...).
    """
    if isinstance(value, CRS):
        return value
    if isinstance(value, dict):
        props = value.get("properties") or {}
        kind = str(value.get("type", "")).lower()
        if kind == "name" and props.get("name"):
            value = props["name"]
        elif kind == "epsg" and props.get("code") is not None:
            value = f"EPSG:{props['code']}"
        else:
            raise CRSNotUnderstood(f"crs member of an unsupported form: {value!r}")
    if isinstance(value, int) or (isinstance(value, str) and value.strip().isdigit()):
        value = f"EPSG:{int(value)}"
    try:
        return CRS.from_user_input(value)
    except (CRSError, TypeError) as exc:
        raise CRSNotUnderstood(f"unknown CRS {value!r}: {exc}") from None


def crs_label(crs: CRS) -> str:
    """A short name for reports: ``EPSG:3857``, else the CRS's own name."""
    authority = crs.to_authority(min_confidence=90)
    if authority:
        return ":".join(authority)
    return crs.name


def is_wgs84_lonlat(crs: CRS) -> bool:
    """True for EPSG:4326 and OGC CRS84 (both read as lon, lat here): no reprojection needed."""
    return crs.is_geographic and crs.equals(WGS84, ignore_axis_order=True)


@lru_cache(maxsize=32)
def _transformer(crs_wkt: str) -> Transformer:
    return Transformer.from_crs(CRS.from_wkt(crs_wkt), WGS84, always_xy=True)


def to_wgs84(geoms: np.ndarray | list, crs: CRS) -> np.ndarray:
    """Reproject geometries to EPSG:4326.

    Parameters
    ----------
    geoms
        Shapely geometries whose coordinates are in `crs`, in x, y order (easting, northing
        for a projected CRS; longitude, latitude for a geographic one), as GeoJSON, Shapefile
        and GeoPackage store them whatever the CRS's official axis order.
    crs
        Their CRS.

    Returns
    -------
    numpy.ndarray of shapely geometries
        In EPSG:4326, x = longitude, y = latitude, degrees, rounded to `DEGREE_DECIMALS`.
        A point PROJ cannot transform comes out with infinite coordinates (and is rejected by
        `check_lonlat_range`).
    """
    geoms = np.asarray(geoms, dtype=object)
    if is_wgs84_lonlat(crs):
        return geoms
    transformer = _transformer(crs.to_wkt())

    def transform(xy: np.ndarray) -> np.ndarray:
        lon, lat = transformer.transform(xy[:, 0], xy[:, 1], errcheck=False)
        return np.round(np.column_stack([lon, lat]), DEGREE_DECIMALS)

    return shapely.transform(geoms, transform)


def check_lonlat_range(geom: BaseGeometry) -> str | None:
    """Why `geom` (EPSG:4326) cannot be a place on Earth, or None if it can.

    Coordinates must be finite, longitude in [-180, 180] and latitude in [-90, 90] degrees.
    """
    coords = shapely.get_coordinates(geom)
    if not np.isfinite(coords).all():
        return "coordinates are not finite numbers (could not be transformed)"
    lon_min, lat_min, lon_max, lat_max = geom.bounds
    if lon_min < -180 or lon_max > 180 or lat_min < -90 or lat_max > 90:
        return (
            f"coordinates out of range for longitude/latitude "
            f"(x {lon_min:.6g}..{lon_max:.6g}, y {lat_min:.6g}..{lat_max:.6g}); "
            "if the file is in a projected CRS, name it with --crs (e.g. EPSG:3857)"
        )
    return None


def _dimension_of(geom: BaseGeometry) -> int:
    """Highest topological dimension among the parts: 0 points, 1 lines, 2 areas."""
    dims = shapely.get_dimensions(shapely.get_parts(geom))
    return int(dims.max()) if len(dims) else -1


def keep_dimension(geom: BaseGeometry, dimension: int) -> BaseGeometry:
    """The parts of `geom` of the given topological dimension, as a single or multi geometry.

    Parameters
    ----------
    geom
        Any geometry (a GeometryCollection from `shapely.make_valid`, typically).
    dimension
        0 points, 1 lines, 2 polygons.

    Returns
    -------
    shapely geometry
        A Point/LineString/Polygon when one part is left, a Multi* when several, an empty
        GeometryCollection when none.
    """
    parts = [p for p in shapely.get_parts(geom) if shapely.get_dimensions(p) == dimension]
    flat: list[BaseGeometry] = []
    for part in parts:  # a Multi* inside a collection: take its members
        flat.extend(shapely.get_parts(part) if part.geom_type.startswith("Multi") else [part])
    if not flat:
        return shapely.GeometryCollection()
    if len(flat) == 1:
        return flat[0]
    # Every part has this dimension: the isinstance filters keep them all.
    if dimension == 0:
        return shapely.MultiPoint([g for g in flat if isinstance(g, shapely.Point)])
    if dimension == 1:
        return shapely.MultiLineString([g for g in flat if isinstance(g, shapely.LineString)])
    return shapely.MultiPolygon([g for g in flat if isinstance(g, shapely.Polygon)])


def repair(geom: BaseGeometry) -> tuple[BaseGeometry, str | None]:
    """Make an invalid geometry valid, keeping the kind of geometry it was meant to be.

    `shapely.make_valid` may turn a self-intersecting polygon into a collection of polygons
    and stray lines; the parts of lower dimension than the original are dropped, so a
    polygon layer stays polygons.

    Returns
    -------
    (geometry, reason)
        `reason` is None when `geom` was already valid (and returned as it is), else GEOS's
        reason why it was not, e.g. ``"Self-intersection[30.48 50.47]"``. The geometry may be
        empty when nothing of the original dimension survives.
    """
    if shapely.is_valid(geom):
        return geom, None
    reason = shapely.is_valid_reason(geom)
    fixed = shapely.make_valid(geom)
    dimension = _dimension_of(geom)
    if fixed.geom_type == "GeometryCollection" or _dimension_of(fixed) != dimension:
        fixed = keep_dimension(fixed, dimension)
    return fixed, reason


def to_multipolygon(geom: BaseGeometry) -> shapely.MultiPolygon | None:
    """The polygonal part of `geom` as a MultiPolygon (what area tables store), or None."""
    if isinstance(geom, shapely.MultiPolygon):
        return geom
    if isinstance(geom, shapely.Polygon):
        return shapely.MultiPolygon([geom])
    polygonal = keep_dimension(geom, 2)
    if polygonal.is_empty:
        return None
    if isinstance(polygonal, shapely.MultiPolygon):
        return polygonal
    assert isinstance(polygonal, shapely.Polygon)  # keep_dimension's only part
    return shapely.MultiPolygon([polygonal])


@dataclass(frozen=True)
class Cleaned:
    """A geometry ready to store (EPSG:4326, 2D, valid), or why there is none."""

    geom: BaseGeometry | None
    rejected: str | None = None  # why the feature cannot be imported
    repaired: str | None = None  # what was wrong and has been fixed


def clean_geometry(geom: BaseGeometry | None, crs: CRS) -> Cleaned:
    """Take one geometry as read from a file to one fit to store, or say why not.

    Parameters
    ----------
    geom
        As read, in `crs` (x, y order); None when the feature has no geometry.
    crs
        The file's CRS.

    Returns
    -------
    Cleaned
        `geom` in EPSG:4326 (degrees), 2D, valid; `repaired` says what `shapely.make_valid`
        fixed, `rejected` why the feature cannot be imported (no geometry, empty, out of
        range, nothing left after repair).
    """
    if geom is None:
        return Cleaned(None, rejected="no geometry")
    if geom.is_empty:
        return Cleaned(None, rejected=f"empty geometry ({geom.geom_type})")
    if shapely.has_z(geom):
        geom = shapely.force_2d(geom)
    geom = to_wgs84([geom], crs)[0]
    problem = check_lonlat_range(geom)
    if problem:
        return Cleaned(None, rejected=problem)
    fixed, reason = repair(geom)
    if reason is None:
        return Cleaned(geom)
    if fixed.is_empty:
        return Cleaned(None, rejected=f"invalid geometry that cannot be repaired: {reason}")
    return Cleaned(fixed, repaired=f"invalid geometry ({reason}) made valid as {fixed.geom_type}")


def geometry_family(types: set[str]) -> str:
    """The `layers.geometry_type` of a layer with features of these (GeoJSON) types.

    ``{"Point"}`` → ``"POINT"``; ``{"Polygon", "MultiPolygon"}`` → ``"MULTIPOLYGON"``; a mix of
    dimensions → ``"GEOMETRY"``.
    """
    if len(types) == 1:
        return next(iter(types)).upper()
    for single in ("Point", "LineString", "Polygon"):
        if types <= {single, "Multi" + single}:
            return ("Multi" + single).upper()
    return "GEOMETRY"


def is_polygonal(geom: BaseGeometry) -> bool:
    return geom.geom_type in _POLYGONAL
