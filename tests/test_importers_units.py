"""The importers' pure parts, without a database: values, CRS, repair, readers, reports."""

from __future__ import annotations

import datetime as dt
import math

import pytest
import shapely
from pyproj import CRS

from importers.categories import kind_code, slug, subkind_code
from importers.geometry import (
    check_lonlat_range,
    clean_geometry,
    crs_label,
    geometry_family,
    parse_crs,
    repair,
    to_multipolygon,
    to_wgs84,
)
from importers.readers import parse_number, read_features, read_table
from importers.report import ImportFailed, ImportReport
from importers.streets import map_columns, split_districts
from importers.targets import thematic_target
from importers.values import clean_text, normalise_apostrophes, parse_date, parse_float, parse_size

WGS84 = CRS.from_epsg(4326)


# --- values -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("27379", dt.date(1974, 12, 16)),  # spreadsheet serial, as the street register has it
        ("40738", dt.date(2011, 7, 14)),
        ("14.08.1869", dt.date(1869, 8, 14)),
        ("2026-01-29T21:07:17Z", dt.date(2026, 1, 29)),
        ("-", None),
        ("", None),
        (None, None),
    ],
)
def test_parse_date(raw, expected):
    assert parse_date(raw) == expected


@pytest.mark.parametrize("raw", ["вчора", "32.13.2020", "12"])
def test_parse_date_refuses_what_is_not_a_date(raw):
    with pytest.raises(ValueError):
        parse_date(raw)


def test_text_cleaning():
    assert clean_text("  Пролягає від\n\nХрещатика\u00a0вул.  ") == "Пролягає від Хрещатика вул."
    assert clean_text(" - ") is None
    assert normalise_apostrophes("Солом'янський / Солом`янська / Солом\u02bcянський") == (
        "Солом’янський / Солом’янська / Солом’янський"
    )


def test_numbers_and_sizes():
    assert parse_number(" 30,5234 ") == 30.5234
    assert parse_number("3 393 000") == 3393000.0
    assert parse_number("") is None
    with pytest.raises(ValueError):
        parse_number("abc")
    assert parse_float("12,5 м²") == 12.5
    assert parse_size("6х3") == (6.0, 3.0)  # Cyrillic х
    assert parse_size("1,2 × 1,8 м") == (1.2, 1.8)
    assert parse_size("великий") is None


# --- CRS and geometry ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "label"),
    [
        ({"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::3857"}}, "EPSG:3857"),
        ({"type": "name", "properties": {"name": "EPSG:6384"}}, "EPSG:6384"),
        ({"type": "EPSG", "properties": {"code": 5564}}, "EPSG:5564"),
        ({"type": "name", "properties": {"name": "urn:ogc:def:crs:OGC:1.3:CRS84"}}, "OGC:CRS84"),
        ("5562", "EPSG:5562"),
        (3857, "EPSG:3857"),
    ],
)
def test_parse_crs(value, label):
    assert crs_label(parse_crs(value)) == label


def test_parse_crs_refuses_unknown():
    from importers.geometry import CRSNotUnderstood

    with pytest.raises(CRSNotUnderstood):
        parse_crs({"type": "link", "properties": {"href": "http://example.org/crs"}})
    with pytest.raises(CRSNotUnderstood):
        parse_crs("EPSG:999999")


def test_web_mercator_by_the_formula():
    """EPSG:3857 back to degrees, checked against the spherical Mercator formula (not pyproj)."""
    lon, lat = 30.5234, 50.4501
    r = 6378137.0
    x = r * math.radians(lon)
    y = r * math.log(math.tan(math.pi / 4 + math.radians(lat) / 2))
    [back] = to_wgs84([shapely.Point(x, y)], parse_crs("EPSG:3857"))
    assert back.x == pytest.approx(lon, abs=1e-9) and back.y == pytest.approx(lat, abs=1e-9)


def test_ucs2000_gauss_kruger_zone_6_has_its_zone_prefix():
    """EPSG:5564 eastings carry the zone number (6 500 000 at 33°E): Kyiv, west of 33°E, is
    at about 6 32x xxx. EPSG:5562 is zone 4 (22-24°E, Zakarpattia and Lviv): the same numbers
    read in it land some 15° east of Kyiv, which is why the CRS must be named right."""
    [p] = to_wgs84([shapely.Point(6325442.21, 5591989.98)], parse_crs("EPSG:5564"))
    assert (round(p.x, 4), round(p.y, 4)) == (30.5414, 50.4328)
    [q] = to_wgs84([shapely.Point(6325442.21, 5591989.98)], parse_crs("EPSG:5562"))
    assert q.x - p.x > 10


def test_lonlat_range():
    assert check_lonlat_range(shapely.Point(30.5, 50.4)) is None
    assert "out of range" in check_lonlat_range(shapely.Point(3399855.9, 6521573.6))
    assert "not finite" in check_lonlat_range(shapely.Point(math.inf, 50))


def test_repair_bowtie_keeps_polygons():
    bowtie = shapely.Polygon([(0, 0), (1, 1), (1, 0), (0, 1), (0, 0)])
    fixed, reason = repair(bowtie)
    assert reason.startswith("Self-intersection")
    assert fixed.geom_type == "MultiPolygon" and fixed.is_valid and len(fixed.geoms) == 2
    assert fixed.area == pytest.approx(0.5)
    valid = shapely.Point(1, 2)
    assert repair(valid) == (valid, None)


def test_repair_drops_collapsed_parts_of_lower_dimension():
    # A polygon with a zero-width spike: make_valid gives a polygon and a line.
    spiky = shapely.Polygon([(0, 0), (2, 0), (2, 1), (3, 1), (2, 1), (2, 2), (0, 2), (0, 0)])
    assert shapely.make_valid(spiky).geom_type == "GeometryCollection"
    fixed, reason = repair(spiky)
    assert reason and fixed.geom_type == "Polygon" and fixed.area == pytest.approx(4)


def test_to_multipolygon():
    square = shapely.box(0, 0, 1, 1)
    assert to_multipolygon(square).geom_type == "MultiPolygon"
    mixed = shapely.GeometryCollection([square, shapely.LineString([(5, 5), (6, 6)])])
    assert to_multipolygon(mixed).equals(shapely.MultiPolygon([square]))
    assert to_multipolygon(shapely.Point(0, 0)) is None


def test_clean_geometry():
    assert clean_geometry(None, WGS84).rejected == "no geometry"
    assert clean_geometry(shapely.Polygon(), WGS84).rejected.startswith("empty geometry")
    z = clean_geometry(shapely.Point(30.5, 50.4, 120.0), WGS84)
    assert z.geom.has_z is False and z.rejected is None
    merc = clean_geometry(shapely.Point(3399855.91, 6521573.57), parse_crs("EPSG:3857"))
    assert merc.geom.x == pytest.approx(30.5414253, abs=1e-6)
    assert merc.geom.y == pytest.approx(50.4328244, abs=1e-6)


def test_geometry_family():
    assert geometry_family({"Point"}) == "POINT"
    assert geometry_family({"Polygon", "MultiPolygon"}) == "MULTIPOLYGON"
    assert geometry_family({"Polygon", "LineString"}) == "GEOMETRY"


# --- readers ------------------------------------------------------------------------------


def test_csv_semicolons_cp1251_decimal_comma(tmp_path):
    path = tmp_path / "points.csv"
    path.write_bytes("Назва;Довгота;Широта\nАптека;30,5234;50,4501\nШкола;;\n".encode("cp1251"))
    source = read_features(path)
    first, second = source.features
    assert first.properties == {"Назва": "Аптека"} and (first.geom.x, first.geom.y) == (
        30.5234,
        50.4501,
    )
    assert second.geom is None and second.label == "row 2"


def test_csv_wkt_column_and_given_columns(tmp_path):
    path = tmp_path / "shapes.csv"
    path.write_text('id,the_geom\n1,"LINESTRING (30.5 50.4, 30.6 50.5)"\n2,NOT WKT\n')
    a, b = read_features(path).features
    assert a.geom.geom_type == "LineString"
    assert b.geom is None and b.error.startswith("unparseable WKT")
    path2 = tmp_path / "xy.csv"
    path2.write_text("E,N\n6325442.21,5591989.98\n")
    with pytest.raises(ImportFailed, match="no geometry columns"):
        read_features(path2)
    [f] = read_features(path2, lon="E", lat="N", source_crs="EPSG:5564").features
    assert f.geom.x == 6325442.21
    with pytest.raises(ImportFailed, match="no column 'lng'"):
        read_features(path2, lon="lng", lat="N")


def test_multiline_quoted_fields(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text('code,comment\n1,"first line\n\nsecond"\n2,plain\n')
    table = read_table(path)
    assert [r["comment"] for r in table.rows] == ["first line\n\nsecond", "plain"]


def test_geojson_single_geometry_and_bad_crs(tmp_path):
    path = tmp_path / "g.geojson"
    path.write_text('{"type": "Point", "coordinates": [30.5, 50.4]}')
    [f] = read_features(path).features
    assert f.geom.geom_type == "Point" and f.label == "feature #1"
    path.write_text(
        '{"type": "FeatureCollection", "crs": {"type": "name", "properties": {"name": "EPSG:0"}}, "features": []}'
    )
    with pytest.raises(ImportFailed, match="--crs"):
        read_features(path)
    path.write_text('{"type": "Topology"}')
    with pytest.raises(ImportFailed, match="not GeoJSON"):
        read_features(path)


# --- streets, categories, layer names, report ---------------------------------------------


def test_street_register_headers():
    header = ["№ п/п", "Унікальний цифровий код об'єкта", "Повне офіційне найменування об'єкта",
              "Категорія (тип) об'єкта", "Адміністративний район",
              "Документ про присвоєння найменування об'єкта",
              "Дата документу про присвоєння найменування об'єкта",
              "Номер документу про присвоєння найменування об'єкта",
              "Заголовок документу про присвоєння найменування об'єкта", "Коментар",
              "Колишнє найменування об'єкта", "Колишня категорія (тип) об'єкта"]  # fmt: skip
    mapping = map_columns(header)
    assert {v: k for k, v in mapping.items()} == dict(zip(header[1:], [
        "code", "name", "kind", "districts", "naming_document", "naming_date", "naming_number",
        "naming_title", "comment", "former_name", "former_kind"], strict=True))  # fmt: skip


@pytest.mark.parametrize(
    ("cell", "names", "localities"),
    [
        ("Солом'янський ", ["Солом’янський"], []),
        ("Деснянський,Дніпровський ", ["Деснянський", "Дніпровський"], []),
        ("Голосіївський, Солом’янський", ["Голосіївський", "Солом’янський"], []),
        (
            'Оболонський (СТ "Дніпровський-2", СТ "Фронтовик")',
            ["Оболонський"],
            ['Оболонський: СТ "Дніпровський-2", СТ "Фронтовик"'],
        ),
        ("", [], []),
    ],
)
def test_split_districts(cell, names, localities):
    assert split_districts(cell) == (names, localities)


def test_category_codes_are_stable_and_short():
    assert kind_code("Гаряче водопостачання") == "hariache-vodopostachannia"
    assert slug("Охорона здоров'я", 30) == "okhorona-zdorovia"
    long_kind = "Перевірка наявності дозвільної документації; в разі її відсутності - демонтаж"
    code = kind_code(long_kind)
    assert len(code) <= 30 and code == kind_code(long_kind)
    assert code != kind_code(long_kind.replace("демонтаж", "ремонт"))
    assert len(subkind_code(long_kind, long_kind)) <= 64


@pytest.mark.parametrize("name", ["Bad-Name", "1layer", "шари", "a b", "x" * 65, "drop table"])
def test_unsafe_layer_names(name):
    with pytest.raises(ImportFailed, match="not a safe identifier"):
        thematic_target(name)


def test_report_lines():
    report = ImportReport(layer="districts", source="f.geojson", added=10)
    assert (
        report.summary()
        == "districts: 10 added, 0 changed, 0 unchanged, 0 removed (0 repaired, 0 rejected)"
    )
    report.reject("node/1", "no geometry")
    report.repair("way/2", "invalid geometry made valid")
    assert (report.rejected, report.repaired) == (1, 1)
    assert report.messages() == [
        "rejected node/1: no geometry",
        "repaired way/2: invalid geometry made valid",
    ]
    assert report.as_json(max_messages=1)["messages_left_off"] == 1
