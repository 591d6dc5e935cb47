"""Importers on a real PostGIS, with the real Kyiv files of shared/data read as they are."""

from __future__ import annotations

import copy
import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import psycopg
import pyogrio
import pytest
import shapely
import shapely.affinity
import shapely.geometry
from shapely.geometry import shape

import importers.pipeline
from importers import ImportFailed, load_reference_data, run_import

DATA = Path(__file__).parent / "data"
DISTRICTS = "kyiv_districts_osm_overpass_2026-01-29.geojson"
CITY = "kyiv_city_boundary_osm_2026-07-29.geojson"
POIS = "kyiv_osm_pois_2026-01-29.geojson"
BUILDINGS = "kyiv_abandoned_buildings_osm_2016.geojson"
STREETS = "kyiv_streets_register.csv"
PROFILE = "kyiv_1551_profile.json"

DISTRICT_NAMES = {
    "Голосіївський район", "Дарницький район", "Деснянський район", "Дніпровський район",
    "Оболонський район", "Печерський район", "Подільський район", "Святошинський район",
    "Солом’янський район", "Шевченківський район",
}  # fmt: skip

#: Tolerance for "lands where it should": 1e-6° is about 10 cm in Kyiv; the projected
#: fixtures were written rounded to 1 cm.
TOLERANCE_DEG = 1e-6


def q(url: str, query: str, *params) -> list[tuple]:
    with psycopg.connect(url) as conn:
        return conn.execute(query, params or None).fetchall()


def q1(url: str, query: str, *params):
    return q(url, query, *params)[0][0]


def snapshot(url: str) -> dict:
    """Everything an import could touch, summarised so any change shows."""
    tables = ["hromadas", "districts", "wards", "layers", "layer_features", "streets",
              "categories", "advertising_structures", "kiosks", "import_runs"]  # fmt: skip
    state = {}
    for table in tables:
        state[table] = q1(
            url,
            f"SELECT md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) FROM {table} t",
        )
    return state


def load_geojson(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def write_geojson(path: Path, doc: dict) -> Path:
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    return path


# --- the real files ----------------------------------------------------------------------


def test_districts_and_city_boundary(db_url, shared_data):
    city = run_import(db_url, shared_data / CITY, "hromadas")
    assert (city.added, city.rejected) == (1, 1)
    assert (
        city.summary()
        == "hromadas: 1 added, 0 changed, 0 unchanged, 0 removed (0 repaired, 1 rejected)"
    )
    [line] = city.messages()
    assert "node/26150422" in line and "not an area" in line
    assert q(
        db_url, "SELECT code, name, name_en, ST_GeometryType(geom), ST_NRings(geom) FROM hromadas"
    ) == [("UA80000000000093317", "Київ", "Kyiv", "ST_MultiPolygon", 3)]

    report = run_import(db_url, shared_data / DISTRICTS, "districts")
    assert (
        report.summary()
        == "districts: 10 added, 0 changed, 0 unchanged, 0 removed (0 repaired, 0 rejected)"
    )
    rows = q(db_url, "SELECT code, name, name_en, version, valid_to, ST_GeometryType(geom), ST_IsValid(geom), "
                     "hromada_id, properties->>'@id' FROM districts")  # fmt: skip
    assert {r[1] for r in rows} == DISTRICT_NAMES
    assert all(r[3] == 1 and r[4] is None and r[5] == "ST_MultiPolygon" and r[6] for r in rows)
    assert all(r[7] is not None for r in rows), "each district is linked to the city it lies in"
    by_code = {r[0]: r for r in rows}
    assert by_code["UA80000000000126643"][1:3] == ("Голосіївський район", "Holosiivskyi District")
    assert by_code["UA80000000000126643"][8] == "relation/1754513"
    # Two districts have holes: the rings survive.
    assert (
        q1(db_url, "SELECT count(*) FROM districts WHERE ST_NRings(geom) > ST_NumGeometries(geom)")
        == 2
    )
    # The districts tile the city: their union is (nearly) the city.
    ratio = q1(
        db_url,
        "SELECT ST_Area(ST_Union(d.geom)) / ST_Area(h.geom) FROM districts d, hromadas h GROUP BY h.geom",
    )
    assert 0.98 < ratio < 1.02
    runs = q(
        db_url, "SELECT layer, added, rejected, report->'messages' FROM import_runs ORDER BY id"
    )
    assert runs[0][:3] == ("hromadas", 1, 1) and "node/26150422" in runs[0][3][0]
    assert runs[1][:3] == ("districts", 10, 0)


def test_abandoned_buildings_mixed_geometry(db_url, shared_data):
    report = run_import(
        db_url, shared_data / BUILDINGS, "abandoned_buildings", title="Покинуті будівлі"
    )
    assert (report.added, report.rejected, report.repaired) == (310, 0, 1)
    [line] = report.messages()
    assert line.startswith("repaired relation/6247313:") and "Self-intersection" in line
    types = dict(q(db_url, "SELECT GeometryType(geom), count(*) FROM layer_features "
                           "WHERE layer_name = 'abandoned_buildings' GROUP BY 1"))  # fmt: skip
    # 305 Polygons, 2 MultiPolygons, 3 LineStrings in the file; the repaired MultiPolygon
    # is a single polygon once made valid.
    assert types == {"POLYGON": 306, "MULTIPOLYGON": 1, "LINESTRING": 3}
    assert q1(db_url, "SELECT bool_and(ST_IsValid(geom)) FROM layer_features") is True
    layer = q(db_url, "SELECT title, geometry_type, kind, update_regime, owner_department, "
                      "last_updated IS NOT NULL, source, attribution FROM layers")  # fmt: skip
    assert layer == [("Покинуті будівлі", "GEOMETRY", "thematic", "monthly", None, True, BUILDINGS,
                      "© OpenStreetMap contributors")]  # fmt: skip
    props = q1(db_url, "SELECT properties FROM layer_features WHERE feature_key = 'way/325782448'")
    assert props["addr:street"] == "Нагірна вулиця" and props["abandoned:building:levels"] == "2"


def test_pois_all_kept_and_reimport_unchanged(db_url, shared_data):
    first = run_import(db_url, shared_data / POIS, "pois")
    assert (first.added, first.rejected) == (5294, 0)
    original = {f["id"]: f for f in load_geojson(shared_data / POIS)["features"]}
    stored = dict(
        q(db_url, "SELECT feature_key, properties FROM layer_features WHERE layer_name = 'pois'")
    )
    assert stored.keys() == original.keys()
    assert all(stored[k] == original[k]["properties"] for k in original)
    x, y = q(
        db_url,
        "SELECT ST_X(geom), ST_Y(geom) FROM layer_features WHERE feature_key = 'node/256193823'",
    )[0]
    assert (x, y) == tuple(original["node/256193823"]["geometry"]["coordinates"])
    stamp = q1(db_url, "SELECT last_updated FROM layers WHERE name = 'pois'")

    again = run_import(db_url, shared_data / POIS, "pois")
    assert (
        again.summary()
        == "pois: 0 added, 0 changed, 5294 unchanged, 0 removed (0 repaired, 0 rejected)"
    )
    assert q1(db_url, "SELECT last_updated FROM layers WHERE name = 'pois'") > stamp
    assert q1(db_url, "SELECT count(*) FROM import_runs WHERE layer = 'pois'") == 2


def test_streets_register(db_url, shared_data):
    report = run_import(db_url, shared_data / STREETS, "streets")
    assert (report.added, report.rejected) == (2843, 0)
    row = q(
        db_url,
        "SELECT name, kind, districts, naming_date, naming_number FROM streets WHERE code = '10411'",
    )
    assert row == [("9-го Травня", "вулиця", ["Святошинський"], dt.date(1974, 12, 16), "1476")]
    # A quoted field that spans lines, and no-break spaces, come out as single-line text.
    comment, title = q(db_url, "SELECT comment, naming_title FROM streets WHERE code = '11792'")[0]
    assert comment == "Пролягає від Вінграновського Миколи, вул. до Старобориспільської вул."
    assert title == "Про найменування вулиць у Дарницькому районі м. Києва"
    # Cells with two apostrophes, trailing spaces and several districts: ten clean names.
    names = {r[0] for r in q(db_url, "SELECT DISTINCT unnest(districts) FROM streets")}
    assert names == {n.removesuffix(" район") for n in DISTRICT_NAMES}
    assert q1(db_url, "SELECT count(*) FROM streets WHERE cardinality(districts) > 1") > 50
    assert q1(db_url, "SELECT count(*) FROM streets WHERE name ~ '[''`ʼ]'") == 0
    # A garden society named in the district cell is kept, in the comment.
    assert (
        q1(
            db_url,
            "SELECT count(*) FROM streets WHERE comment LIKE '%(Оболонський: КДТ \"Чорнобилець\")%'",
        )
        == 3
    )
    # The two dates typed as dd.mm.yyyy, and "-" for no document.
    assert (
        q1(db_url, "SELECT count(*) FROM streets WHERE naming_date IN ('1869-08-14', '2014-01-15')")
        >= 2
    )
    assert q1(db_url, "SELECT count(*) FROM streets WHERE naming_document IS NULL") >= 1000

    again = run_import(db_url, shared_data / STREETS, "streets")
    assert (again.added, again.changed, again.unchanged, again.removed) == (0, 0, 2843, 0)


def test_categories_from_1551(db_url, shared_data):
    report = run_import(db_url, shared_data / PROFILE, "categories")
    assert report.rejected == 0
    kinds = {
        r[0]: r[1:]
        for r in q(
            db_url,
            "SELECT name, code, deadline_days, needs_study, id FROM categories WHERE parent_id IS NULL",
        )
    }
    assert len(kinds) == 44  # the union of three months' top 40, plus 'Робота аптек' of the records
    assert kinds["Гаряче водопостачання"][:3] == ("hariache-vodopostachannia", 15, False)
    assert kinds["Опалення"][1:3] == (15, False)
    assert kinds["Архітектура; капітальне будівництво та реконструкція"][1:3] == (30, True)
    subs = q(db_url, "SELECT k.name, s.name, s.deadline_days, s.needs_study = k.needs_study "
                     "FROM categories s JOIN categories k ON k.id = s.parent_id")  # fmt: skip
    by_kind: dict[str, set] = {}
    for kind, sub, days, same in subs:
        by_kind.setdefault(kind, set()).add(sub)
        assert days in (15, 30) and same
    assert by_kind.keys() == kinds.keys(), "every kind has at least one sub-kind"
    assert {"Недостатній тиск ГВП", "Відсутність ГВП"} <= by_kind["Гаряче водопостачання"]
    assert by_kind["Ліфт"] == {"Не працює пасажирський ліфт"}
    assert by_kind["Утримання будинку"] == {
        "Утримання підвалів та технічних поверхів",
        "Ремонт дахів; покрівель; технічних поверхів",
    }
    assert by_kind["Робота аптек"] == {"Відпуск лікарських засобів за пільговим рецептом"}
    assert by_kind["Опалення"] == {"Загальні питання"}
    assert report.added == len(kinds) + len(subs)
    # Every 1551 kind has its English from the catalogue (gis/locale/en/categories.po).
    english = dict(q(db_url, "SELECT name, name_en FROM categories WHERE parent_id IS NULL"))
    assert all(english.values()) and english["Опалення"] == "Heating"
    assert q(db_url, "SELECT DISTINCT name_en FROM categories WHERE name = 'Загальні питання'") == [
        ("General",)
    ]
    # So has every sub-kind of the real records and profile.
    assert q(db_url, "SELECT name FROM categories WHERE name_en IS NULL") == []
    assert q(
        db_url, "SELECT name_en FROM categories WHERE name = 'Не працює пасажирський ліфт'"
    ) == [("Passenger lift out of order",)]
    codes = dict(q(db_url, "SELECT code, name FROM categories"))
    # The words callers use, per kind (importers/categories.py KIND_KEYWORDS).
    words = dict(q(db_url, "SELECT name, keywords FROM categories WHERE parent_id IS NULL"))
    assert "яма" in words["Ремонт та укладання асфальтного покриття"]
    assert "ліфт" in words["Ліфт"] and "сміття" in words["Сміття"]
    # The administrator's own keywords survive a re-import.
    with psycopg.connect(db_url) as conn:
        conn.execute("UPDATE categories SET keywords = '{омела}' WHERE name = 'Ліфт'")

    again = run_import(db_url, shared_data / PROFILE, "categories")
    assert (again.added, again.changed, again.removed, again.unchanged) == (0, 0, 0, len(codes))
    assert dict(q(db_url, "SELECT code, name FROM categories")) == codes, "codes are stable"
    assert q(db_url, "SELECT keywords FROM categories WHERE name = 'Ліфт'") == [(["омела"],)]


def test_load_reference_data_twice(db_url, shared_data):
    first = load_reference_data(db_url, shared_data)
    assert [r.layer for r in first] == ["hromadas", "districts", "streets", "categories",
                                        "abandoned_buildings", "pois"]  # fmt: skip
    assert [r.added for r in first][:3] == [1, 10, 2843] and first[-1].added == 5294
    second = load_reference_data(db_url, shared_data)
    for report in second:
        assert (report.added, report.changed, report.removed) == (0, 0, 0), report.summary()
        assert report.unchanged == next(r.added for r in first if r.layer == report.layer)
    assert q1(db_url, "SELECT count(*) FROM import_runs") == 12


# --- CRS ----------------------------------------------------------------------------------


def _originals(shared_data: Path) -> dict:
    feats = (
        load_geojson(shared_data / POIS)["features"]
        + load_geojson(shared_data / BUILDINGS)["features"]
    )
    return {f["id"]: shape(f["geometry"]) for f in feats}


def _assert_lands_on_originals(db_url, layer, originals, expected_count):
    rows = q(
        db_url,
        "SELECT feature_key, ST_AsBinary(geom) FROM layer_features WHERE layer_name = %s",
        layer,
    )
    assert len(rows) == expected_count
    for key, wkb in rows:
        got, want = shapely.from_wkb(wkb), originals[key]
        assert got.geom_type == want.geom_type
        assert got.hausdorff_distance(want) < TOLERANCE_DEG, key


@pytest.mark.parametrize(
    ("fixture", "options", "crs"),
    [
        ("kyiv_sample_3857.geojson", {}, "EPSG:3857"),  # legacy crs member, URN form
        ("kyiv_sample_ucs2000_tm10.geojson", {}, "EPSG:6384"),  # UCS-2000 / Ukraine TM zone 10
        ("kyiv_pois_ucs2000_gk6.csv", {"source_crs": "EPSG:5564"}, "EPSG:5564"),  # GK zone 6
    ],
)
def test_projected_files_land_where_they_should(db_url, shared_data, fixture, options, crs):
    report = run_import(db_url, DATA / fixture, "sample", **options)
    assert report.crs == crs and report.rejected == 0
    expected = 4 if fixture.endswith(".csv") else 6
    assert report.added == expected
    _assert_lands_on_originals(db_url, "sample", _originals(shared_data), expected)
    # And inside the district it is in in reality (Велика Кишеня at Lybidska, in Pechersk).
    run_import(db_url, shared_data / DISTRICTS, "districts")
    assert q1(db_url, "SELECT d.name FROM districts d JOIN layer_features f ON ST_Covers(d.geom, f.geom) "
                      "WHERE f.feature_key = 'node/256193823'") == "Печерський район"  # fmt: skip


def test_geopackage_in_national_crs(db_url, shared_data, tmp_path):
    """Anything GDAL reads: a GeoPackage in UCS-2000 / Ukraine TM zone 10."""
    doc = load_geojson(DATA / "kyiv_sample_ucs2000_tm10.geojson")
    points = [f for f in doc["features"] if f["geometry"]["type"] == "Point"]
    gpkg = tmp_path / "pois.gpkg"
    pyogrio.raw.write(
        gpkg,
        geometry=np.array([shapely.to_wkb(shape(f["geometry"])) for f in points], dtype=object),
        field_data=[np.array([f["id"] for f in points], dtype=object),
                    np.array([f["properties"].get("name") for f in points], dtype=object)],
        fields=["osm_id", "name"], geometry_type="Point", crs="EPSG:6384", driver="GPKG",
    )  # fmt: skip
    report = run_import(db_url, gpkg, "gpkg_pois", key="osm_id")
    assert (report.added, report.crs) == (4, "EPSG:6384")
    _assert_lands_on_originals(db_url, "gpkg_pois", _originals(shared_data), 4)
    assert (
        q1(
            db_url,
            "SELECT properties->>'name' FROM layer_features WHERE feature_key = 'node/373776410'",
        )
        == "Medicum"
    )


def test_projected_file_without_its_crs_is_refused(db_url, tmp_path):
    doc = load_geojson(DATA / "kyiv_sample_3857.geojson")
    del doc["crs"]
    before = snapshot(db_url)
    with pytest.raises(ImportFailed, match=r"all 6 features .* rejected.*out of range.*--crs"):
        run_import(db_url, write_geojson(tmp_path / "no_crs.geojson", doc), "sample")
    assert snapshot(db_url) == before
    # Named on the command line, the same file imports.
    report = run_import(db_url, tmp_path / "no_crs.geojson", "sample", source_crs="EPSG:3857")
    assert report.added == 6


# --- validation ---------------------------------------------------------------------------


def test_bowtie_polygon_is_repaired_and_reported(db_url):
    report = run_import(db_url, DATA / "bowtie.geojson", "bowtie")
    assert (report.added, report.repaired, report.rejected) == (2, 1, 0)
    [line] = report.messages()
    assert line.startswith("repaired bowtie-1:") and "Self-intersection" in line
    kind, valid, parts, area = q(
        db_url, "SELECT GeometryType(geom), ST_IsValid(geom), ST_NumGeometries(geom), ST_Area(geom) "
                "FROM layer_features WHERE feature_key = 'bowtie-1'")[0]  # fmt: skip
    assert (kind, valid, parts) == ("MULTIPOLYGON", True, 2)
    assert area == pytest.approx(2 * 0.01 * 0.005 / 2)  # two triangles meeting in the middle
    assert q1(db_url, "SELECT report->'messages' FROM import_runs")[0] == line


def test_bowtie_ward_is_stored_as_valid_multipolygon(db_url, tmp_path):
    doc = load_geojson(DATA / "bowtie.geojson")
    for n, feature in enumerate(doc["features"], start=1):
        feature["properties"]["number"] = n
    report = run_import(db_url, write_geojson(tmp_path / "wards.geojson", doc), "wards")
    assert (report.added, report.repaired) == (2, 1)
    assert q(
        db_url,
        "SELECT number, name, ST_GeometryType(geom), ST_IsValid(geom) FROM wards ORDER BY number",
    ) == [
        (1, "Виборчий округ № 1", "ST_MultiPolygon", True),
        (2, "Виборчий округ № 2", "ST_MultiPolygon", True),
    ]


def test_features_without_usable_geometry_are_rejected_by_id(db_url):
    report = run_import(db_url, DATA / "missing_geometry.geojson", "checks")
    assert (report.added, report.rejected) == (1, 4)
    lines = report.messages()
    assert "rejected no-geom-7: no geometry" in lines
    assert any(line.startswith("rejected bad-coords-8: unparseable geometry") for line in lines)
    assert any(
        line.startswith("rejected out-of-range-9: coordinates out of range") for line in lines
    )
    assert any(line.startswith("rejected empty-10: empty geometry") for line in lines)
    assert q(db_url, "SELECT feature_key FROM layer_features") == [("ok-1",)]
    assert q1(db_url, "SELECT rejected FROM import_runs") == 4


def test_point_is_not_an_area(db_url, tmp_path):
    doc = load_geojson(DATA / "missing_geometry.geojson")
    doc["features"] = doc["features"][:1]
    doc["features"][0]["properties"]["katotth"] = "UA80000000000000001"
    with pytest.raises(
        ImportFailed, match=r"ok-1 \(key UA80000000000000001\): a Point is not an area"
    ):
        run_import(db_url, write_geojson(tmp_path / "point.geojson", doc), "districts")


# --- re-import with a diff -----------------------------------------------------------------


def test_district_changes_make_versions(db_url, shared_data, tmp_path):
    run_import(db_url, shared_data / DISTRICTS, "districts")
    original = load_geojson(shared_data / DISTRICTS)
    old_geom = q1(
        db_url, "SELECT ST_AsEWKB(geom) FROM districts WHERE code = 'UA80000000000126643'"
    )

    doc = copy.deepcopy(original)
    moved, dropped, template = doc["features"][0], doc["features"][1], doc["features"][2]
    assert moved["properties"]["katotth"] == "UA80000000000126643"  # Голосіївський
    moved["geometry"] = shapely.geometry.mapping(
        shapely.affinity.translate(shape(moved["geometry"]), xoff=0.001)
    )
    doc["features"].remove(dropped)  # Солом’янський
    new = copy.deepcopy(template)
    new["id"] = new["properties"]["@id"] = "relation/999"
    new["properties"].update({"katotth": "UA80000000000999999", "name:uk": "Новий район"})
    new["geometry"] = shapely.geometry.mapping(
        shapely.affinity.translate(shape(new["geometry"]), yoff=1.0)
    )
    doc["features"].append(new)
    changed_file = write_geojson(tmp_path / "districts.geojson", doc)

    report = run_import(db_url, changed_file, "districts")
    assert (
        report.summary()
        == "districts: 1 added, 1 changed, 8 unchanged, 1 removed (0 repaired, 0 rejected)"
    )
    versions = q(db_url, "SELECT version, valid_from, valid_to, ST_AsEWKB(geom) FROM districts "
                         "WHERE code = 'UA80000000000126643' ORDER BY version")  # fmt: skip
    assert [v[0] for v in versions] == [1, 2]
    (_, _, v1_to, v1_geom), (_, v2_from, v2_to, _) = versions
    assert v1_to is not None and v1_to == v2_from and v2_to is None
    assert bytes(v1_geom) == bytes(old_geom), "the past is kept as it was"
    assert q(db_url, "SELECT version, valid_to IS NOT NULL FROM districts WHERE code = %s",
             dropped["properties"]["katotth"]) == [(1, True)], "removed: closed, not deleted"  # fmt: skip
    assert q1(db_url, "SELECT count(*) FROM districts") == 12
    assert q1(db_url, "SELECT count(*) FROM districts WHERE valid_to IS NULL") == 10

    again = run_import(db_url, changed_file, "districts")
    assert (again.added, again.changed, again.unchanged, again.removed) == (0, 0, 10, 0)

    # A renamed district (same boundary) is corrected in place: no new version.
    doc["features"][0]["properties"]["name:uk"] = "Голосіївський район м. Києва"
    renamed = run_import(db_url, write_geojson(tmp_path / "renamed.geojson", doc), "districts")
    assert (renamed.changed, renamed.unchanged) == (1, 9)
    assert q(
        db_url,
        "SELECT version, name FROM districts WHERE code = 'UA80000000000126643' AND valid_to IS NULL",
    ) == [(2, "Голосіївський район м. Києва")]

    # Back to the original file: the removed district returns as version 2, the new one closes.
    back = run_import(db_url, shared_data / DISTRICTS, "districts")
    assert (back.added, back.changed, back.unchanged, back.removed) == (1, 1, 8, 1)
    assert q(db_url, "SELECT version FROM districts WHERE code = %s AND valid_to IS NULL",
             dropped["properties"]["katotth"]) == [(2,)]  # fmt: skip
    assert q1(db_url, "SELECT count(*) FROM import_runs WHERE layer = 'districts'") == 5


def test_thematic_changes_are_exact(db_url, shared_data, tmp_path):
    run_import(db_url, shared_data / BUILDINGS, "abandoned_buildings")
    before = dict(q(db_url, "SELECT feature_key, content_hash FROM layer_features"))
    doc = load_geojson(shared_data / BUILDINGS)
    doc["features"][0]["properties"]["note"] = "Відновлено у 2025 році"
    removed = doc["features"].pop(1)["id"]
    doc["features"].append({"type": "Feature", "id": "way/1", "properties": {"name": "нова"},
                            "geometry": {"type": "Point", "coordinates": [30.5, 50.45]}})  # fmt: skip
    report = run_import(db_url, write_geojson(tmp_path / "b.geojson", doc), "abandoned_buildings")
    assert (report.added, report.changed, report.unchanged, report.removed) == (1, 1, 308, 1)
    after = dict(q(db_url, "SELECT feature_key, content_hash FROM layer_features"))
    assert removed not in after, "a removed feature of a thematic layer is deleted"
    changed = doc["features"][0]["id"]
    assert after[changed] != before[changed]
    assert (
        q1(db_url, "SELECT properties->>'note' FROM layer_features WHERE feature_key = %s", changed)
        == "Відновлено у 2025 році"
    )
    assert sum(after[k] == before.get(k) for k in after) == 308
    assert (
        q1(db_url, "SELECT geometry_type FROM layers WHERE name = 'abandoned_buildings'")
        == "GEOMETRY"
    )


def test_layers_do_not_touch_each_other(db_url, shared_data):
    run_import(db_url, DATA / "bowtie.geojson", "one")
    run_import(db_url, DATA / "missing_geometry.geojson", "two")
    again = run_import(db_url, DATA / "bowtie.geojson", "one")
    assert (again.unchanged, again.removed) == (2, 0)
    assert dict(q(db_url, "SELECT layer_name, count(*) FROM layer_features GROUP BY 1")) == {
        "one": 2,
        "two": 1,
    }


# --- failures leave the database as it was -------------------------------------------------


@pytest.mark.parametrize(
    ("file", "layer", "message"),
    [
        ("truncated.geojson", "pois", r"truncated.geojson is not valid JSON \(line 1, column \d+"),
        (
            "no_geometry_columns.csv",
            "pois",
            r"no_geometry_columns.csv has no geometry columns.*columns are: id, name, address",
        ),
        ("bowtie.geojson", "Bad-Name", r"not a safe identifier"),
        ("bowtie.geojson", "import_runs", r"taken by the schema"),
        ("no_such_file.geojson", "pois", r"file not found"),
        ("no_geometry_columns.csv", "streets", r"not a street register"),
        ("truncated.geojson", "categories", r"not valid JSON"),
    ],
)
def test_broken_input_changes_nothing(db_url, shared_data, file, layer, message):
    run_import(db_url, shared_data / DISTRICTS, "districts")
    run_import(db_url, DATA / "bowtie.geojson", "pois")
    before = snapshot(db_url)
    with pytest.raises(ImportFailed, match=message):
        run_import(db_url, DATA / file, layer)
    assert snapshot(db_url) == before


def test_database_error_rolls_back_everything(db_url, shared_data, tmp_path, monkeypatch):
    """A failure after the diff was applied (here: recording the run) undoes all of it."""
    run_import(db_url, shared_data / DISTRICTS, "districts")
    doc = load_geojson(shared_data / DISTRICTS)
    doc["features"] = doc["features"][:5]  # would close five districts
    before = snapshot(db_url)

    def failing_record(conn, report):
        conn.execute("SELECT 1 / 0")

    monkeypatch.setattr(importers.pipeline, "_record_run", failing_record)
    with pytest.raises(ImportFailed, match="database error: division by zero"):
        run_import(db_url, write_geojson(tmp_path / "five.geojson", doc), "districts")
    with pytest.raises(ImportFailed, match="database error"):
        run_import(db_url, shared_data / BUILDINGS, "new_layer")  # its layers row too
    assert snapshot(db_url) == before


# --- registries ---------------------------------------------------------------------------


def test_advertising_structures_and_kiosks(db_url, tmp_path):
    (tmp_path / "ads.csv").write_text(
        "code;kind;size;owner;permit_number;permit_valid_until;address;lon;lat\n"
        "A-1;billboard;6х3;ТОВ Борд;123/24;31.12.2026;вул. Хрещатик, 1;30,5234;50,4501\n"
        "A-2;citylight;1,2x1,8;;;46022;просп. Берестейський, 5;30.4720;50.4550\n",
        encoding="cp1251",
    )
    with psycopg.connect(db_url) as conn:  # what the demo generates until the real registry comes
        conn.execute("INSERT INTO advertising_structures (code, kind, generated, geom) "
                     "VALUES ('GEN-1', 'billboard', true, 'SRID=4326;POINT(30.5 50.4)')")  # fmt: skip
    report = run_import(db_url, tmp_path / "ads.csv", "advertising_structures")
    assert (report.added, report.removed, report.rejected) == (2, 1, 0)
    rows = q(db_url, "SELECT code, kind, size, width_m, height_m, owner, permit_number, permit_valid_until, "
                     "address, generated, ST_X(geom) FROM advertising_structures ORDER BY code")  # fmt: skip
    assert rows == [
        ("A-1", "billboard", "6х3", 6.0, 3.0, "ТОВ Борд", "123/24", dt.date(2026, 12, 31), "вул. Хрещатик, 1", False, 30.5234),
        ("A-2", "citylight", "1,2x1,8", 1.2, 1.8, None, None, dt.date(2025, 12, 31), "просп. Берестейський, 5", False, 30.472),
    ]  # fmt: skip
    assert run_import(db_url, tmp_path / "ads.csv", "advertising_structures").unchanged == 2

    (tmp_path / "kiosks.csv").write_text(
        "code,kind,specialization,area_m2,wkt\n"
        'K-1,кіоск,преса,"6,5",POINT (30.52 50.45)\n'
        'K-2,павільйон,кава,12,"POLYGON ((30.50 50.40, 30.5001 50.40, 30.5001 50.4001, 30.50 50.40))"\n'
        "K-3,кіоск,квіти,4,\n",
        encoding="utf-8",
    )
    report = run_import(db_url, tmp_path / "kiosks.csv", "kiosks")
    assert (report.added, report.rejected) == (2, 1)
    assert report.messages() == ["rejected row 3 (key K-3): no geometry"]
    assert q(
        db_url,
        "SELECT code, kind, specialization, area_m2::float, GeometryType(geom) FROM kiosks ORDER BY code",
    ) == [("K-1", "кіоск", "преса", 6.5, "POINT"), ("K-2", "павільйон", "кава", 12.0, "POLYGON")]


# --- the command line ----------------------------------------------------------------------


def test_cli_import_end_to_end(db_url, shared_data):
    hromada = Path(sys.executable).parent / "hromada"
    env = {**os.environ, "DATABASE_URL": db_url}
    done = subprocess.run([str(hromada), "import", str(shared_data / DISTRICTS), "--layer", "districts"],
                          check=False, capture_output=True, text=True, env=env, timeout=120)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert (
        done.stdout.strip()
        == "districts: 10 added, 0 changed, 0 unchanged, 0 removed (0 repaired, 0 rejected)"
    )
    assert q1(db_url, "SELECT count(*) FROM districts") == 10

    failed = subprocess.run([str(hromada), "import", str(DATA / "truncated.geojson"), "--layer", "pois"],
                            check=False, capture_output=True, text=True, env=env, timeout=120)  # fmt: skip
    assert failed.returncode == 1
    assert (
        "import failed, nothing was changed: truncated.geojson is not valid JSON" in failed.stderr
    )

    csv_run = subprocess.run(
        [str(hromada), "import", str(DATA / "kyiv_pois_ucs2000_gk6.csv"), "--layer", "gk6",
         "--crs", "EPSG:5564", "--lon", "x", "--lat", "y", "--key", "id", "--title", "Точки"],
        check=False, capture_output=True, text=True, env=env, timeout=120)  # fmt: skip
    assert csv_run.returncode == 0, csv_run.stderr
    assert q1(db_url, "SELECT title FROM layers WHERE name = 'gk6'") == "Точки"
