"""Importers: files as cities have them → the PostGIS schema, with a diff against what is
already there.

Public API
----------
run_import(url, path, layer, *, key=None, source_crs=None, lon=None, lat=None, wkt=None,
           title=None) -> ImportReport
    Import one file into one layer, in ONE transaction:

    * ``districts``, ``hromadas``, ``wards``: versioned areas (a moved boundary closes the
      current row and adds version+1; an area the file no longer has is closed, not deleted);
      only the polygonal parts of geometries are kept, stored as MultiPolygon;
    * ``advertising_structures``, ``kiosks``: the city's registries of point objects;
    * ``streets``: the official street register (CSV, no geometry);
    * ``categories``: 1551's kinds and sub-kinds (profile JSON, records JSON or a CSV);
    * any other safe name: a thematic layer (features in layer_features, a row in layers).

    Any file GeoJSON, CSV (lon/lat or WKT columns) or GDAL reads, in any CRS (reprojected to
    EPSG:4326). Invalid geometries are repaired and reported, unusable ones rejected and
    named. Raises `ImportFailed` (and changes nothing) when the file cannot be read, every
    feature is rejected, or the database refuses.
load_reference_data(url, shared_dir) -> list[ImportReport]
    Import the real Kyiv files of shared/data (see importers/reference.py).
ImportReport
    Counts (added, changed, unchanged, removed, repaired, rejected), `summary()`,
    `messages()`.
ImportFailed
    The exception; its message names the problem and the feature.

Modules: readers (files → features), geometry (CRS, reprojection, repair), targets (features
→ rows of each spatial table), streets, categories, sync (the set-based diff), pipeline (the
transaction), reference (shared/data), report; registers (a city's register of advertising
structures or kiosks, CSV or XLSX, previewed then applied through gis/structures.py).
"""

from importers.pipeline import run_import
from importers.reference import load_reference_data
from importers.report import ImportFailed, ImportReport

__all__ = ["ImportFailed", "ImportReport", "load_reference_data", "run_import"]
