"""The demo's regions (`hromada demo --region …`): Kyiv, one city council on OSM data (the
default, importers/demo/__init__.generate), and Zaporizhzhia oblast, its 67 hromadas as
councils on Мінрегіон's boundaries (importers/demo/region.generate_region)."""

from __future__ import annotations

REGIONS = ("kyiv", "zaporizka")
DEFAULT_REGION = "kyiv"

#: A region's boundary file in the shared data directory (see /work/shared/data/README.md).
BOUNDARY_FILES = {
    "zaporizka": "zaporizka_hromadas_minregion_atu_simplified_2024-04-28.geojson",
}
