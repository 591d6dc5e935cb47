"""A new outline of one executor territory from a spatial file, for the administrator's
replacement of a territory (gis/admin.py `replace_territory`): read by the importer's own
readers (GeoJSON, or a GeoPackage and whatever else GDAL reads in one file) and cleaned as any
import is (CRS to EPSG:4326, 2D, repaired), every polygon of the file united into one
MultiPolygon."""

from __future__ import annotations

import tempfile
from pathlib import Path

import shapely
from shapely.geometry import MultiPolygon, Polygon

from gis.errors import InvalidInput
from importers.geometry import clean_geometry
from importers.readers import read_features
from importers.report import ImportFailed
from importers.targets import ewkb_hex

SUFFIXES = (".geojson", ".json", ".gpkg")
MAX_BYTES = 20 * 1024 * 1024


def read_territory(data: bytes, filename: str) -> str:
    """The file's polygons, united, as hex EWKB (SRID 4326). InvalidInput
    ('territory_file_invalid') names what is wrong: the file's kind, no polygon, a reader's
    refusal."""
    suffix = Path(filename or "").suffix.lower()
    if suffix not in SUFFIXES:
        raise InvalidInput("territory_file_invalid", parameter="filename",
                           reason=f"{suffix or filename!r}: " + ", ".join(SUFFIXES))  # fmt: skip
    if not data or len(data) > MAX_BYTES:
        raise InvalidInput("territory_file_invalid", reason=f"{len(data)} B")
    with tempfile.TemporaryDirectory(prefix="hromada-territory-") as tmp:
        path = Path(tmp) / f"territory{suffix}"
        path.write_bytes(data)
        try:
            source = read_features(path)
        except (ImportFailed, ValueError, OSError) as exc:
            raise InvalidInput("territory_file_invalid", reason=str(exc)[:300]) from None
        except Exception as exc:  # GDAL's and the CRS library's own errors
            raise InvalidInput("territory_file_invalid", reason=type(exc).__name__) from None
    polygons: list[Polygon] = []
    for feature in source.features:
        cleaned = clean_geometry(feature.geom, source.crs)
        geom = cleaned.geom
        if geom is None:
            continue
        if isinstance(geom, Polygon):
            polygons.append(geom)
        elif isinstance(geom, MultiPolygon):
            polygons.extend(geom.geoms)
        else:  # a collection: its polygons
            polygons.extend(g for g in getattr(geom, "geoms", ()) if isinstance(g, Polygon))
    if not polygons:
        raise InvalidInput("territory_file_invalid", reason="no polygon")
    united = shapely.union_all(polygons)
    if isinstance(united, Polygon):
        united = MultiPolygon([united])
    if not isinstance(united, MultiPolygon) or united.is_empty:
        raise InvalidInput("territory_file_invalid", reason="no polygon")
    return ewkb_hex(united)
