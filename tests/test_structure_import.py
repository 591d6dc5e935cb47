"""Bulk import of a register of advertising structures (issue 16, item 6) through
POST /api/v1/planner/import, with a planner's bearer token on a small demo city (its own
structures and rules cleared, one 30 m rule of the test's): a CSV in WGS 84 with a row placed
by its address, rows that cannot be placed (an unknown address, a bad date, a point outside the
city, one too close to another of the file), a preview that changes nothing, the apply (audit
rows naming the planner, import_runs, freshness), the re-import that changes nothing; an XLSX
in a projected CRS (UCS-2000 / Ukraine TM zone 10, X the northing as surveyors write it) that
moves and changes structures, then retires the missing ones when asked; bad files; roles."""

from __future__ import annotations

import datetime as dt
import io
import itertools

import pytest
import staff
from openpyxl import Workbook
from pyproj import Transformer

DEMO = {"prefix": "structimport", "seed": 16, "appeals": 100}
URL = "/api/v1/planner/import"
LAYER = "advertising_structures"
RULE = "Тест імпорту: не ближче 30 м"
# The left bank of Kyiv, in the community; 700 m apart.
P1 = (30.6000, 50.4500)
P2 = (30.6100, 50.4500)
P3 = (30.6200, 50.4500)
_counter = itertools.count(1)


sql = staff.sql


def bearer(url: str, role: str) -> dict:
    return staff.bearer(url, role, label="import", name=f"Імпортер {role}")


@pytest.fixture(scope="module")
def planner(demo_url):
    sql(demo_url, "DELETE FROM placement_rules")
    sql(demo_url, "DELETE FROM advertising_structures")
    sql(
        demo_url,
        "INSERT INTO placement_rules (layer, kind, distance_m, title, title_en)"
        " VALUES ('advertising_structures', 'min_distance_same', 30, %s, 'Import test: 30 m')",
        (RULE,),
    )
    return bearer(demo_url, "planner")


def post(client, headers, name, data: bytes, **form):
    fields = {"layer": LAYER, **{k: str(v).lower() if isinstance(v, bool) else str(v)
                                  for k, v in form.items()}}  # fmt: skip
    return client.post(URL, headers=headers, files={"file": (name, data)}, data=fields)


CSV = (
    "код;вид;розмір;власник;номер дозволу;дійсний до;адреса;довгота;широта\n"
    f"R-1;білборд;6х3;ТОВ «Борд»;Д-1;31.12.2027;;{P1[0]};{P1[1]}\n"
    f"R-2;сітілайт;1,2x1,8;ТОВ «Сіті»;Д-2;2027-06-30;;{P2[0]};{P2[1]}\n"
    "R-3;білборд;6x3;ТОВ «Борд»;Д-3;;Хрещатик, 22;;\n"
    "R-4;білборд;6x3;;;;Неіснуюча вулиця, 5;;\n"
    f"R-5;білборд;6x3;;;;;{P1[0] + 0.0001};{P1[1]}\n"
    f"R-6;білборд;6x3;;;32.13.2027;;{P3[0]};{P3[1]}\n"
    "R-7;білборд;6x3;;;;;24.03;49.84\n"
    ";білборд;;;;;;30.5;50.4\n"
)


def counts(r) -> dict:
    assert r.status_code == 200, r.text
    return r.json()["counts"]


def test_csv_preview_apply_and_reimport(client, demo_url, planner):
    data = ("\ufeff" + CSV).encode("utf-8")  # UTF-8 with a BOM, «;» as a spreadsheet saves it
    events_before = sql(demo_url, "SELECT count(*) FROM feature_events")[0][0]
    fresh_before = sql(demo_url, "SELECT last_updated FROM layers WHERE name = %s", (LAYER,))

    r = post(client, planner, "реєстр.csv", data)
    assert counts(r) == {"added": 3, "changed": 0, "unchanged": 0, "removed": 0, "unplaced": 5}
    body = r.json()
    assert body["mode"] == "preview" and body["applied"] is False
    added = {a["code"]: a for a in body["added"]}
    assert set(added) == {"R-1", "R-2", "R-3"}
    assert added["R-1"]["placed_by"] == "coordinates" and added["R-3"]["placed_by"] == "address"
    assert abs(added["R-3"]["lon"] - 30.52) < 0.02 and abs(added["R-3"]["lat"] - 50.45) < 0.02
    why = {u["row"]: u for u in body["unplaced"]}
    assert why[5]["reason"] == "register_address_not_found"
    assert why[6]["reason"] == "register_placement_rule" and why[6]["rule"]["title"] == RULE
    assert "R-1" in why[6]["detail"]  # what is in the way
    assert why[7]["reason"] == "invalid_property" and "permit_valid_until" in why[7]["detail"]
    assert why[8]["reason"] == "register_outside_city"
    assert why[9]["reason"] == "register_no_code"
    # the preview changed nothing
    assert sql(demo_url, "SELECT count(*) FROM advertising_structures")[0][0] == 0
    assert sql(demo_url, "SELECT count(*) FROM feature_events")[0][0] == events_before

    r = post(client, planner, "реєстр.csv", data, mode="apply")
    assert counts(r)["added"] == 3 and r.json()["applied"] is True
    rows = dict(sql(demo_url, "SELECT code, permit_valid_until FROM advertising_structures"))
    assert rows == {"R-1": dt.date(2027, 12, 31), "R-2": dt.date(2027, 6, 30), "R-3": None}
    width = sql(demo_url, "SELECT width_m, height_m FROM advertising_structures WHERE code = 'R-2'")
    assert [float(v) for v in width[0]] == [1.2, 1.8]  # from the size «1,2x1,8»
    events = sql(
        demo_url,
        "SELECT action, actor, actor_user_id IS NOT NULL FROM feature_events"
        " WHERE layer = %s ORDER BY id",
        (LAYER,),
    )
    assert len(events) == 3
    assert all(a == "create" and actor.startswith("Імпортер planner") and uid
               for a, actor, uid in events)  # fmt: skip
    run = sql(demo_url, "SELECT added, rejected FROM import_runs ORDER BY id DESC LIMIT 1")
    assert run == [(3, 5)]
    fresh = sql(demo_url, "SELECT last_updated FROM layers WHERE name = %s", (LAYER,))
    assert fresh != fresh_before

    # the same file again: nothing to do
    r = post(client, planner, "реєстр.csv", data, mode="apply")
    assert counts(r) == {"added": 0, "changed": 0, "unchanged": 3, "removed": 0, "unplaced": 5}
    assert sql(demo_url, "SELECT count(*) FROM feature_events WHERE layer = %s", (LAYER,)) == [(3,)]

    # English, by Accept-Language
    r = post(client, {**planner, "Accept-Language": "en"}, "r.csv", data)
    detail = {u["row"]: u["detail"] for u in r.json()["unplaced"]}
    assert detail[8].startswith("The point") and "outside the community" in detail[8]


def _xlsx(rows: list[list]) -> bytes:
    book = Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_xlsx_in_a_projected_crs_changes_moves_and_retires(client, demo_url, planner):
    # Starts from the register the CSV test applied; pytest-xdist may have run that test on
    # another worker (another database), so apply it here when it is not there.
    if not sql(demo_url, "SELECT 1 FROM advertising_structures WHERE code = 'R-3'"):
        applied = post(client, planner, "реєстр.csv", ("\ufeff" + CSV).encode(), mode="apply")
        assert counts(applied)["added"] == 3
    to_tm10 = Transformer.from_crs(4326, 6384, always_xy=True)
    e1, n1 = to_tm10.transform(P1[0] + 0.0007, P1[1])  # ≈ 50 m east of R-1
    e3, n3 = to_tm10.transform(*sql(demo_url, "SELECT ST_X(geom), ST_Y(geom) FROM "
                                              "advertising_structures WHERE code = 'R-3'")[0])  # fmt: skip
    # X = northing, Y = easting: the order of Ukraine's surveyors (swapped by the importer)
    data = _xlsx([
        ["Код", "Вид", "Власник", "X", "Y"],
        ["R-1", "білборд", "ТОВ «Борд»", round(n1, 3), round(e1, 3)],
        ["R-3", "білборд", "ТОВ «Нова»", round(n3, 3), round(e3, 3)],
    ])  # fmt: skip
    r = post(client, planner, "реєстр.xlsx", data, crs="6384")
    assert counts(r) == {"added": 0, "changed": 2, "unchanged": 0, "removed": 1, "unplaced": 0}
    changed = {c["code"]: c for c in r.json()["changed"]}
    assert 45 < changed["R-1"]["moved_m"] < 55 and changed["R-1"]["changes"] == []
    assert changed["R-3"]["moved_m"] is None
    assert changed["R-3"]["changes"] == [
        {"property": "owner", "old": "ТОВ «Борд»", "new": "ТОВ «Нова»"}
    ]
    assert [x["code"] for x in r.json()["removed"]] == ["R-2"]

    # applied without retire_missing: R-2 stays
    r = post(client, planner, "реєстр.xlsx", data, crs="6384", mode="apply")
    assert counts(r)["changed"] == 2
    assert (
        sql(demo_url, "SELECT count(*) FROM advertising_structures WHERE retired_at IS NULL")[0][0]
        == 3
    )
    versions = dict(sql(demo_url, "SELECT code, version FROM advertising_structures"))
    assert versions == {"R-1": 2, "R-2": 1, "R-3": 2}
    # the size, permit… the XLSX has no column for are left as they were
    assert sql(demo_url, "SELECT size FROM advertising_structures WHERE code = 'R-1'") == [("6х3",)]

    # again, retiring what the register no longer has
    r = post(client, planner, "реєстр.xlsx", data, crs="6384", mode="apply", retire_missing=True)
    assert counts(r) == {"added": 0, "changed": 0, "unchanged": 2, "removed": 1, "unplaced": 0}
    retired = sql(demo_url, "SELECT code FROM advertising_structures WHERE retired_at IS NOT NULL")
    assert retired == [("R-2",)]
    last = sql(demo_url, "SELECT action FROM feature_events WHERE layer = %s ORDER BY id DESC"
                         " LIMIT 1", (LAYER,))  # fmt: skip
    assert last == [("retire",)]
    # a retired code in a register is not re-created
    r = post(client, planner, "r.csv", f"code,x,y\nR-2,{P2[0]},{P2[1]}\n".encode())
    assert [u["reason"] for u in r.json()["unplaced"]] == ["register_code_retired"]


@pytest.mark.parametrize(
    ("name", "data", "form", "status", "code"),
    [
        ("a.png", b"\x89PNG\r\n\x1a\n\x00\x00\x00IHDR", {}, 400, "register_not_a_table"),
        ("a.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 64, {}, 400, "register_old_excel"),
        ("a.xlsx", b"PK\x03\x04broken", {}, 400, "register_not_a_table"),
        ("a.csv", b"  \n", {}, 400, "register_empty"),
        ("a.csv", b"R-1;30.6;50.45\n", {}, 400, "register_no_code_column"),
        ("a.csv", b"code;kind\nR-1;x\n", {}, 400, "register_no_place_columns"),
        ("a.csv", b"code,x,y\nR-1,1,2\n", {"crs": "99999"}, 400, "register_unknown_crs"),
        ("a.csv", b"code,x,y\nR-1,1,2\n", {"crs": "EPSG:4978"}, 400, "register_unknown_crs"),
        ("a.csv", b"code,x,y\n" + b"R,1,2\n" * 20_001, {}, 400, "register_too_many_rows"),
        ("a.csv", b"code,x,y\n" + b"0" * (5 * 1024 * 1024), {}, 413, "payload_too_large"),
        ("a.csv", b"code,x,y\nR-1,1,2\n", {"layer": "districts"}, 400, "invalid_field_value"),
    ],
)
def test_bad_files_are_refused_naming_the_problem(client, planner, name, data, form, status, code):
    r = post(client, planner, name, data, **form)
    assert r.status_code == status, r.text
    assert r.json()["code"] == code and r.json()["detail"]


def test_only_planners_and_administrators(client, demo_url, planner):
    data = f"code,x,y\nQ-1,{P3[0]},{P3[1]}\n".encode()
    assert post(client, {}, "r.csv", data).status_code == 401
    for role in ("citizen", "operator", "curator"):
        assert post(client, bearer(demo_url, role), "r.csv", data).status_code == 403
    r = post(client, bearer(demo_url, "admin"), "r.csv", data)
    assert counts(r)["added"] == 1


def test_the_command_line_previews_and_applies(demo_url, planner, tmp_path, monkeypatch, capsys):
    from cli.main import main
    from gis.settings import get_settings

    path = tmp_path / "kiosks.csv"
    # Windows-1251, as Ukrainian spreadsheets save a CSV; Web Mercator metres
    to_merc = Transformer.from_crs(4326, 3857, always_xy=True)
    x, y = to_merc.transform(30.63, 50.45)
    path.write_bytes(f'код,вид,площа,x,y\nК-1,кіоск,"6,5",{x:.2f},{y:.2f}\n'.encode("cp1251"))
    monkeypatch.setenv("DATABASE_URL", demo_url)
    get_settings.cache_clear()
    try:
        args = ["import-register", str(path), "--layer", "kiosks", "--crs", "3857"]
        assert main(args) == 0
        preview = capsys.readouterr().out
        assert sql(demo_url, "SELECT count(*) FROM kiosks WHERE code = 'К-1'") == [(0,)]
        assert main([*args, "--apply"]) == 0
        applied = capsys.readouterr().out
        assert main(["import-register", str(path), "--layer", "kiosks", "--crs", "nope"]) == 1
        refused = capsys.readouterr().err
    finally:
        get_settings.cache_clear()
    assert preview.startswith("kiosks: preview (nothing changed): 1 added, 0 changed")
    assert "+ К-1 (row 2) at 30.630000, 50.450000 by coordinates" in preview
    assert applied.startswith("kiosks: applied: 1 added")
    row = sql(demo_url, "SELECT area_m2::float FROM kiosks WHERE code = 'К-1'")
    assert row == [(6.5,)]
    actor = sql(demo_url, "SELECT actor FROM feature_events WHERE layer = 'kiosks'"
                          " ORDER BY id DESC LIMIT 1")[0][0]  # fmt: skip
    assert actor.startswith("import:kiosks.csv")
    assert "Unknown coordinate reference system «nope»" in refused
