"""How the small files beside this script were made (run it to remake them; the tests read
the committed files). Every feature comes from the real shared data (kyiv_osm_pois and
kyiv_abandoned_buildings), reprojected with pyproj into a projected CRS, so a test can
compare what the importer brings back to EPSG:4326 with the original.

    .venv/bin/python tests/data/make_fixtures.py /work/shared/data
"""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

import shapely
from pyproj import Transformer
from shapely.geometry import mapping, shape

HERE = Path(__file__).resolve().parent
POI_IDS = ["node/256193823", "node/373776410", "node/504234922", "node/983689083"]
BUILDING_IDS = ["way/140102523", "relation/2144719"]  # a LineString, a MultiPolygon


def pick(shared: Path) -> list[dict]:
    pois = json.loads((shared / "kyiv_osm_pois_2026-01-29.geojson").read_text())["features"]
    buildings = json.loads((shared / "kyiv_abandoned_buildings_osm_2016.geojson").read_text())[
        "features"
    ]
    by_id = {f["id"]: f for f in pois + buildings}
    return [by_id[i] for i in POI_IDS + BUILDING_IDS]


def project(feature: dict, epsg: int, decimals: int = 2) -> dict:
    to = Transformer.from_crs(4326, epsg, always_xy=True)
    geom = shapely.transform(
        shape(feature["geometry"]),
        lambda xy: shapely.get_coordinates(shapely.points(*to.transform(xy[:, 0], xy[:, 1]))).round(
            decimals
        ),
    )
    return {"type": "Feature", "id": feature["id"], "properties": feature["properties"],
            "geometry": mapping(geom)}  # fmt: skip


def write_geojson(name: str, features: list[dict], crs_name: str) -> None:
    doc = {"type": "FeatureCollection", "name": name,
           "crs": {"type": "name", "properties": {"name": crs_name}}, "features": features}  # fmt: skip
    (HERE / f"{name}.geojson").write_text(json.dumps(doc, ensure_ascii=False, indent=1) + "\n")


def main(shared: Path) -> None:
    features = pick(shared)
    # Web Mercator, with the legacy GeoJSON crs member as GDAL writes it.
    write_geojson("kyiv_sample_3857", [project(f, 3857) for f in features],
                  "urn:ogc:def:crs:EPSG::3857")  # fmt: skip
    # UCS-2000 / Ukraine TM zone 10 (EPSG:6384, central meridian 30°E: Kyiv is in it).
    write_geojson("kyiv_sample_ucs2000_tm10", [project(f, 6384) for f in features], "EPSG:6384")
    # UCS-2000 / Gauss-Kruger zone 6 (EPSG:5564), points as x/y columns of a CSV whose CRS the
    # user names with --crs (a CSV cannot say it).
    with open(HERE / "kyiv_pois_ucs2000_gk6.csv", "w", newline="", encoding="utf-8") as f:
        out = csv.writer(f)
        out.writerow(["id", "name", "x", "y"])
        for feature in features[: len(POI_IDS)]:
            p = project(feature, 5564)["geometry"]["coordinates"]
            out.writerow([feature["id"], feature["properties"].get("name", ""), p[0], p[1]])


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "/work/shared/data"))
