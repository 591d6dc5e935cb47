"""Open311 GeoReport v2, the read side (issue 15): discovery, services, services/{code},
requests, requests/{id} and servicerequestupdates, each in XML (`.xml` and no suffix) and
JSON (`.json`), field by field against the spec; the filters (comma lists, the 90-day
window, paging) against SQL counts; every error case in the spec's format in both formats,
Ukrainian and English; and never any personal data, neither the demo authors' nor a new
appeal's.

Runs on a small demo city (seed 5, 600 appeals over a year ending today) shared by the
module, plus two appeals filed here through the API (one public with a photo, answered by
its executor with a photo through the lifecycle API; one private).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import io
import json
import re
import xml.etree.ElementTree as ET
from zoneinfo import ZoneInfo

import psycopg
import pytest
from PIL import Image

from gis import accounts
from gis.db import libpq_url

DEMO = {"prefix": "o311", "seed": 5, "appeals": 600}
V2 = "/open311/v2"
KYIV = ZoneInfo("Europe/Kyiv")
ISO_WITH_ZONE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d$")
POINT = {"lon": 30.5234, "lat": 50.4501}  # Майдан Незалежності
SECRET_AUTHOR = {
    "full_name": "Тимошенко-Скоропадська Мирослава Ярославівна",
    "email": "myroslava.secret.o311@example.org",
    "phone": "+380 67 111 22 33",
    "postal_address": "м. Київ, вулиця Потаємна, 77, кв. 707",
}
PUBLIC_TEXT = "Open311 публічний опис: на зупинці розбито скло павільйону Щїґ."
SECRET_TEXT = "Open311 приватний опис: сусід у квартирі 5 заливає підвал Ґжц."
ANSWER_TEXT = "Скло павільйону замінено 06.12, територію прибрано."

REQUEST_FIELDS = {
    "service_request_id", "status", "status_notes", "service_name", "service_code",
    "description", "agency_responsible", "service_notice", "requested_datetime",
    "updated_datetime", "expected_datetime", "address", "address_id", "zipcode", "lat", "long",
    "media_url", "detailed_status", "detailed_status_name",
}  # fmt: skip
SERVICE_FIELDS = {
    "service_code", "service_name", "description", "metadata", "type", "keywords", "group",
}  # fmt: skip
UPDATE_FIELDS = {
    "update_id", "service_request_id", "status", "updated_datetime", "description",
    "media_url", "detailed_status", "detailed_status_name",
}  # fmt: skip
ATTRIBUTE_FIELDS = {
    "variable", "code", "datatype", "required", "datatype_description", "order", "description",
}  # fmt: skip


# --- helpers ----------------------------------------------------------------------------------


def sql(url: str, query: str, params=None) -> list[tuple]:
    with psycopg.connect(url) as conn:
        return conn.execute(query, params).fetchall()


def _run(url: str, fn):
    async def main():
        async with await psycopg.AsyncConnection.connect(libpq_url(url), autocommit=True) as c:
            return await fn(c)

    return asyncio.run(main())


def png(colour=(10, 120, 200)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), colour).save(out, "PNG")
    return out.getvalue()


def get_xml(client, path: str, params: dict | None = None, status: int = 200, **kw) -> ET.Element:
    r = client.get(path, params=params, **kw)
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "text/xml; charset=utf-8"
    assert r.content.startswith(b"<?xml version='1.0' encoding='utf-8'?>")
    r.content.decode("utf-8")  # well-formed UTF-8
    return ET.fromstring(r.content)


def get_json(client, path: str, params: dict | None = None, status: int = 200, **kw):
    r = client.get(path, params=params, **kw)
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/json; charset=utf-8"
    return r.json()


def children(element: ET.Element) -> dict[str, str | None]:
    """An element's children as {tag: text} (every child tag once)."""
    tags = [c.tag for c in element]
    assert len(tags) == len(set(tags)), tags
    return {c.tag: c.text for c in element}


def items(root: ET.Element, root_tag: str, item_tag: str) -> list[dict[str, str | None]]:
    assert root.tag == root_tag
    assert all(c.tag == item_tag for c in root), [c.tag for c in root]
    return [children(c) for c in root]


def as_text(value) -> str | None:
    """A JSON value as the XML writes it (None or "": an empty element)."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def same(xml_items: list[dict], json_items: list[dict]) -> None:
    """The XML and the JSON answer say the same, field by field."""
    assert len(xml_items) == len(json_items)
    for x, j in zip(xml_items, json_items, strict=True):
        assert set(x) == set(j)
        for key in x:
            assert x[key] == as_text(j[key]), (key, x[key], j[key])


def moment(text: str) -> dt.datetime:
    assert ISO_WITH_ZONE.match(text), text
    return dt.datetime.fromisoformat(text)


def assert_errors(client, path: str, params: dict | None, status: int, lang: str = "uk") -> str:
    """The error in both formats (XML by .xml and by no suffix, JSON by .json); its
    description (the same in each)."""
    headers = {"Accept-Language": lang}
    descriptions = set()
    for suffix in (".xml", ""):
        root = get_xml(client, f"{path}{suffix}", params, status, headers=headers)
        assert root.tag == "errors" and [c.tag for c in root] == ["error"]
        error = children(root[0])
        assert set(error) == {"code", "description"}
        assert error["code"] == str(status) and error["description"]
        descriptions.add(error["description"])
    body = get_json(client, f"{path}.json", params, status, headers=headers)
    assert isinstance(body, list) and len(body) == 1
    assert set(body[0]) == {"code", "description"} and body[0]["code"] == status
    descriptions.add(body[0]["description"])
    assert len(descriptions) == 1, descriptions
    return descriptions.pop()


def requests_both(client, params: dict | None = None) -> list[dict]:
    """GET requests in XML and JSON, checked equal; the JSON items."""
    root = get_xml(client, f"{V2}/requests.xml", params)
    body = get_json(client, f"{V2}/requests.json", params)
    same(items(root, "service_requests", "request"), body)
    return body


# --- the module's appeals ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def filed(client, demo_url) -> dict:
    """A public appeal with a photo, taken and answered (with a photo) by its executor through
    the lifecycle API, and a private one; both by SECRET_AUTHOR."""
    category = sql(demo_url, "SELECT id FROM categories WHERE parent_id IS NOT NULL AND is_active"
                             " ORDER BY id LIMIT 1")[0][0]  # fmt: skip
    numbers = {}
    for name, text, public in (("public", PUBLIC_TEXT, True), ("private", SECRET_TEXT, False)):
        data = {"category": category, "text": text, "location": dict(POINT),
                "author": dict(SECRET_AUTHOR), "consent_to_publish": public}  # fmt: skip
        r = client.post("/api/v1/appeals", data={"data": json.dumps(data, ensure_ascii=False)},
                        files=[("photos", ("p.png", png(), "image/png"))])  # fmt: skip
        assert r.status_code == 201, r.text
        numbers[name] = r.json()["number"]
    (executor_id,) = sql(demo_url, "SELECT executor_id FROM appeals WHERE number = %s",
                         (numbers["public"],))[0]  # fmt: skip

    async def executor_token(conn):
        user = await accounts.create_user(
            conn, email="executor@o311.test", password=None, full_name="Виконавець Тест",
            role="executor", confirmed=True, executor_id=executor_id,
        )  # fmt: skip
        s = await accounts.create_session(conn, user_id=user, kind="bearer", ip=None,
                                          user_agent="pytest", ttl=dt.timedelta(hours=1))  # fmt: skip
        return s.token

    headers = {"Authorization": f"Bearer {_run(demo_url, executor_token)}"}
    r = client.post(f"/api/v1/appeals/{numbers['public']}/take", headers=headers)
    assert r.status_code == 200, r.text
    r = client.post(f"/api/v1/appeals/{numbers['public']}/answer", headers=headers,
                    data={"text": ANSWER_TEXT, "kind": "done"},
                    files=[("photos", ("a.png", png((200, 10, 10)), "image/png"))])  # fmt: skip
    assert r.status_code == 200, r.text
    return {**numbers, "category": category, "executor_id": executor_id}


# --- discovery --------------------------------------------------------------------------------


def test_discovery_in_both_formats(client):
    for path in (f"{V2}/discovery.xml", f"{V2}/discovery"):
        root = get_xml(client, path)
        assert root.tag == "discovery"
        top = {c.tag for c in root}
        assert top == {"changeset", "contact", "key_service", "endpoints"}
        moment(root.findtext("changeset"))
        endpoints = root.findall("endpoints/endpoint")
        assert len(endpoints) == 1
        e = endpoints[0]
        assert e.findtext("specification") == "http://wiki.open311.org/GeoReport_v2"
        assert e.findtext("url") == "http://127.0.0.1:8000/open311/v2"
        assert e.findtext("type") == "production"
        moment(e.findtext("changeset"))
        assert [f.text for f in e.findall("formats/format")] == ["text/xml", "application/json"]
    body = get_json(client, f"{V2}/discovery.json")
    assert set(body) == {"changeset", "contact", "key_service", "endpoints"}
    (endpoint,) = body["endpoints"]
    assert endpoint["formats"] == ["text/xml", "application/json"]
    assert endpoint["url"] == "http://127.0.0.1:8000/open311/v2"
    assert body["changeset"] == root.findtext("changeset")
    en = get_json(client, f"{V2}/discovery.json", headers={"Accept-Language": "en"})
    assert "contact centre" in en["contact"] and "Контакт-центр" in body["contact"]


# --- services ---------------------------------------------------------------------------------


def test_services_one_per_category_field_by_field(client, demo_url):
    sql(demo_url, "UPDATE categories SET keywords = '{яма,вибоїна}' WHERE id = ("
                  "SELECT id FROM categories c WHERE parent_id IS NOT NULL AND is_active"
                  " ORDER BY id LIMIT 1 OFFSET 1) RETURNING id")  # fmt: skip
    expected = {
        str(r[0]): r[1:]
        for r in sql(demo_url, """
            SELECT c.id, coalesce(p.name, c.name), c.keywords FROM categories c
              LEFT JOIN categories p ON p.id = c.parent_id
             WHERE c.is_active AND NOT EXISTS
                   (SELECT 1 FROM categories s WHERE s.parent_id = c.id AND s.is_active)""")
    }  # fmt: skip
    root = get_xml(client, f"{V2}/services.xml")
    xml_services = items(root, "services", "service")
    assert items(get_xml(client, f"{V2}/services"), "services", "service") == xml_services
    body = get_json(client, f"{V2}/services.json")
    same(xml_services, body)
    assert {s["service_code"] for s in body} == set(expected)
    assert len(body) == len(expected)
    for s in xml_services:
        assert set(s) == SERVICE_FIELDS
        group, keywords = expected[s["service_code"]]
        assert s["metadata"] == "true" and s["type"] == "realtime"
        assert s["group"] == group
        assert s["service_name"] and s["service_name"] in s["description"]
        assert (s["keywords"] or "") == ",".join(keywords)
    assert any(s["keywords"] == "яма,вибоїна" for s in xml_services)


def test_a_service_definition_with_its_attribute(client, filed):
    code = str(filed["category"])
    for path in (f"{V2}/services/{code}.xml", f"{V2}/services/{code}"):
        root = get_xml(client, path)
        assert root.tag == "service_definition"
        assert {c.tag for c in root} == {"service_code", "attributes"}
        assert root.findtext("service_code") == code
        address, consent = root.findall("attributes/attribute")
        values = consent.find("values")
        assert values is not None
        consent.remove(values)
        attribute = children(address)
        assert set(attribute) == ATTRIBUTE_FIELDS
        assert attribute["code"] == "author_address"
        assert attribute["variable"] == "true" and attribute["required"] == "true"
        assert attribute["datatype"] == "string" and attribute["order"] == "1"
        assert "ст. 5 Закону «Про звернення громадян»" in attribute["description"]
        attribute = children(consent)
        assert set(attribute) == ATTRIBUTE_FIELDS
        assert attribute["code"] == "consent_to_publish" and attribute["required"] == "false"
        assert attribute["datatype"] == "singlevaluelist" and attribute["order"] == "2"
        assert [children(v) for v in values] == [
            {"key": "true", "name": "Так"}, {"key": "false", "name": "Ні"}
        ]  # fmt: skip
    body = get_json(client, f"{V2}/services/{code}.json")
    assert body["service_code"] == code
    address, consent = body["attributes"]
    assert address["required"] is True and address["variable"] is True
    assert address["order"] == 1 and address["code"] == "author_address"
    assert consent["required"] is False and consent["code"] == "consent_to_publish"
    assert consent["values"] == [{"key": "true", "name": "Так"}, {"key": "false", "name": "Ні"}]
    en = get_json(client, f"{V2}/services/{code}.json", headers={"Accept-Language": "en"})
    assert "art. 5" in en["attributes"][0]["description"]
    assert [v["name"] for v in en["attributes"][1]["values"]] == ["Yes", "No"]


# --- requests ---------------------------------------------------------------------------------


def test_one_request_field_by_field(client, demo_url, filed):
    number = filed["public"]
    root = get_xml(client, f"{V2}/requests/{number}.xml")
    (x,) = items(root, "service_requests", "request")
    assert items(get_xml(client, f"{V2}/requests/{number}"), "service_requests", "request") == [x]
    (j,) = get_json(client, f"{V2}/requests/{number}.json")
    same([x], [j])
    assert set(x) == REQUEST_FIELDS
    (row,) = sql(demo_url, """
        SELECT a.category_id, a.created_at, coalesce(a.extended_until, a.deadline_at),
               coalesce(x.short_name, x.name), a.address, a.status,
               (SELECT p.sha256 FROM appeal_photos p WHERE p.appeal_id = a.id
                 AND p.kind = 'appeal'), ST_X(a.geom), ST_Y(a.geom)
          FROM appeals a JOIN executors x ON x.id = a.executor_id WHERE a.number = %s""",
        (number,))  # fmt: skip
    category, created, deadline, executor, address, status, photo, lon, lat = row
    assert status == "on_check"
    assert x["service_request_id"] == number
    assert x["status"] == "open"
    assert x["status_notes"] == ANSWER_TEXT
    assert x["service_code"] == str(category) and x["service_name"]
    assert x["description"] == PUBLIC_TEXT
    assert x["agency_responsible"] == executor
    assert x["service_notice"] == f"Строк розгляду — до {deadline.astimezone(KYIV):%d.%m.%Y}"
    assert moment(x["requested_datetime"]) == created.replace(microsecond=0)
    assert moment(x["expected_datetime"]) == deadline.replace(microsecond=0)
    assert moment(x["updated_datetime"]) >= moment(x["requested_datetime"])
    assert x["requested_datetime"].endswith(("+02:00", "+03:00"))  # Kyiv's offset
    assert x["address"] == address
    assert x["address_id"] is None and x["zipcode"] is None
    assert float(x["lat"]) == pytest.approx(lat, abs=1e-6)
    assert float(x["long"]) == pytest.approx(lon, abs=1e-6)
    assert x["media_url"] == f"http://127.0.0.1:8000/api/v1/photos/{photo}"
    assert client.get(f"/api/v1/photos/{photo}").status_code == 200
    assert x["detailed_status"] == "on_check" and x["detailed_status_name"] == "На перевірці"
    assert isinstance(j["lat"], float) and isinstance(j["long"], float)
    en = get_json(client, f"{V2}/requests/{number}.json", headers={"Accept-Language": "en"})
    assert en[0]["service_notice"].startswith("To be considered by ")


def test_a_private_appeal_has_no_description_nor_photo(client, filed):
    (x,) = get_json(client, f"{V2}/requests/{filed['private']}.json")
    assert x["description"] is None and x["media_url"] is None
    assert x["status"] == "open" and x["detailed_status"] == "registered"
    root = get_xml(client, f"{V2}/requests/{filed['private']}.xml")
    assert root.find("request/description").text is None


def test_status_open_and_closed(client, demo_url, filed):
    window = {"page_size": 1000}
    every = requests_both(client, window)
    closed = requests_both(client, {**window, "status": "closed"})
    opened = requests_both(client, {**window, "status": "open"})
    both = requests_both(client, {**window, "status": "open,closed"})
    assert closed and opened
    assert {r["status"] for r in closed} == {"closed"}
    assert {r["detailed_status"] for r in closed} == {"closed"}
    assert {r["status"] for r in opened} == {"open"}
    assert {r["detailed_status"] for r in opened} <= {"registered", "in_work", "on_check", "rework"}
    assert len(closed) + len(opened) == len(every) == len(both)
    since = dt.datetime.now(dt.UTC) - dt.timedelta(days=90)
    n_closed = sql(demo_url, "SELECT count(*) FROM appeals WHERE status = 'closed'"
                             " AND created_at >= %s", (since,))[0][0]  # fmt: skip
    assert abs(len(closed) - n_closed) <= 1  # the window's start moves between the two reads


def test_default_window_is_the_last_90_days_newest_first(client, demo_url, filed):
    body = requests_both(client, {"page_size": 1000})
    now = dt.datetime.now(dt.UTC)
    times = [moment(r["requested_datetime"]) for r in body]
    assert times == sorted(times, reverse=True)
    assert all(now - dt.timedelta(days=90, seconds=5) <= t <= now for t in times)
    since = now - dt.timedelta(days=90)
    n = sql(demo_url, "SELECT count(*) FROM appeals WHERE created_at >= %s", (since,))[0][0]
    assert abs(len(body) - n) <= 1 and n > 20
    assert body[0]["service_request_id"] in (filed["public"], filed["private"])


def test_dates_window_and_service_codes(client, demo_url):
    start = (dt.datetime.now(KYIV) - dt.timedelta(days=200)).replace(microsecond=0)
    end = start + dt.timedelta(days=60)
    params = {"start_date": start.isoformat(), "end_date": end.isoformat(), "page_size": 1000}
    body = requests_both(client, params)
    n = sql(demo_url, "SELECT count(*) FROM appeals WHERE created_at BETWEEN %s AND %s",
            (start, end))[0][0]  # fmt: skip
    assert len(body) == n > 0
    assert all(start <= moment(r["requested_datetime"]) <= end for r in body)
    # Dates alone: Kyiv's midnight; start alone: the 90 days after it.
    day = start.date()
    alone = requests_both(client, {"start_date": day.isoformat(), "page_size": 1000})
    first = dt.datetime.combine(day, dt.time(), KYIV)
    n = sql(demo_url, "SELECT count(*) FROM appeals WHERE created_at BETWEEN %s AND %s",
            (first, first + dt.timedelta(days=90)))[0][0]  # fmt: skip
    assert len(alone) == n
    # A "+" a client forgot to percent-encode (it arrives as a space) is still the offset.
    raw = f"{V2}/requests.json?page_size=1000&start_date={start.isoformat()}"
    assert "+" in raw
    assert get_json(client, raw) == requests_both(client, {"start_date": start.isoformat(),
                                                           "page_size": 1000})  # fmt: skip
    # service_code: a comma-separated list.
    codes = [r[0] for r in sql(demo_url, "SELECT category_id FROM appeals WHERE created_at"
                                         " BETWEEN %s AND %s GROUP BY 1 ORDER BY count(*) DESC"
                                         " LIMIT 2", (start, end))]  # fmt: skip
    some = requests_both(client, {**params, "service_code": ",".join(map(str, codes))})
    n = sql(demo_url, "SELECT count(*) FROM appeals WHERE created_at BETWEEN %s AND %s"
                      " AND category_id = ANY(%s)", (start, end, codes))[0][0]  # fmt: skip
    assert len(some) == n > 0
    assert {r["service_code"] for r in some} == {str(c) for c in codes}


def test_service_request_ids_ignore_the_other_filters(client, demo_url, filed):
    old = [r[0] for r in sql(demo_url, "SELECT number FROM appeals WHERE status <> 'closed'"
                                       " AND created_at < now() - interval '120 days'"
                                       " ORDER BY id LIMIT 2")]  # fmt: skip
    wanted = [filed["public"], *old]
    body = requests_both(client, {"service_request_id": ",".join(wanted), "status": "closed",
                                  "service_code": "999999"})  # fmt: skip
    assert sorted(r["service_request_id"] for r in body) == sorted(wanted)
    assert requests_both(client, {"service_request_id": f"{filed['public']},NO-1"})[0][
        "service_request_id"] == filed["public"]  # fmt: skip


def test_paging(client):
    whole = requests_both(client, {"page_size": 21})
    pages = [requests_both(client, {"page_size": 7, "page": p}) for p in (1, 2, 3)]
    ids = [r["service_request_id"] for page in pages for r in page]
    assert ids == [r["service_request_id"] for r in whole] and len(set(ids)) == 21
    assert requests_both(client, {"page_size": 100, "page": 999}) == []
    assert len(requests_both(client, {})) == 100  # the default page size (over 100 in 90 days)


def test_jurisdiction_id_the_hromada_code(client, demo_url):
    (code,) = sql(demo_url, "SELECT code FROM hromadas LIMIT 1")[0]
    assert get_json(client, f"{V2}/services.json", {"jurisdiction_id": code})
    assert requests_both(client, {"jurisdiction_id": code, "page_size": 3})
    for path in ("discovery", "services", "requests", "servicerequestupdates"):
        text = assert_errors(client, f"{V2}/{path}", {"jurisdiction_id": "nowhere.example"}, 404)
        assert "nowhere.example" in text


# --- updates ----------------------------------------------------------------------------------


def test_service_request_updates(client, demo_url, filed):
    start = (dt.datetime.now(KYIV) - dt.timedelta(hours=1)).isoformat()
    params = {"start_date": start, "page_size": 1000}
    root = get_xml(client, f"{V2}/servicerequestupdates.xml", params)
    xml_updates = items(root, "service_request_updates", "request_update")
    body = get_json(client, f"{V2}/servicerequestupdates.json", params)
    same(xml_updates, body)
    assert all(set(u) == UPDATE_FIELDS for u in xml_updates)
    ours = [u for u in body if u["service_request_id"] == filed["public"]]
    events = sql(demo_url, "SELECT e.id, e.action, e.new ->> 'status' FROM appeal_events e"
                           " JOIN appeals a ON a.id = e.appeal_id WHERE a.number = %s"
                           " ORDER BY e.at, e.id", (filed["public"],))  # fmt: skip
    assert [u["update_id"] for u in ours] == [str(e[0]) for e in events]
    assert [u["detailed_status"] for u in ours] == ["registered", "in_work", "on_check"]
    assert {u["status"] for u in ours} == {"open"}
    answer = ours[-1]
    assert answer["description"] == ANSWER_TEXT
    (photo,) = sql(demo_url, "SELECT p.sha256 FROM appeal_photos p JOIN appeals a"
                             " ON a.id = p.appeal_id WHERE a.number = %s AND p.kind = 'answer'",
                   (filed["public"],))[0]  # fmt: skip
    assert answer["media_url"] == f"http://127.0.0.1:8000/api/v1/photos/{photo}"
    assert ours[0]["description"] == "Зареєстровано" and ours[0]["media_url"] is None
    times = [moment(u["updated_datetime"]) for u in body]
    assert times == sorted(times)
    assert len({u["update_id"] for u in body}) == len(body)
    en = get_json(client, f"{V2}/servicerequestupdates.json", {**params},
                  headers={"Accept-Language": "en"})  # fmt: skip
    assert [u for u in en if u["service_request_id"] == filed["public"]][0]["description"] == (
        "Registered"
    )


def test_updates_of_closed_appeals_over_a_window(client, demo_url):
    end = dt.datetime.now(KYIV).replace(microsecond=0)
    start = end - dt.timedelta(days=90)
    params = {"start_date": start.isoformat(), "end_date": end.isoformat(), "page_size": 1000}
    body = get_json(client, f"{V2}/servicerequestupdates.json", params)
    assert body and all(start <= moment(u["updated_datetime"]) <= end for u in body)
    closed = [u for u in body if u["detailed_status"] == "closed"]
    assert closed and {u["status"] for u in closed} == {"closed"}
    staff_only = sql(demo_url, "SELECT count(*) FROM appeal_events WHERE at BETWEEN %s AND %s"
                               " AND action IN ('ask_extension', 'decline_extension', 'control',"
                               " 'dispatch')", (start, end))[0][0]  # fmt: skip
    n = sql(demo_url, "SELECT count(*) FROM appeal_events WHERE at BETWEEN %s AND %s",
            (start, end))[0][0]  # fmt: skip
    assert len(body) == min(1000, n - staff_only)
    page2 = get_json(client, f"{V2}/servicerequestupdates.json", {**params, "page_size": 5,
                                                                  "page": 2})  # fmt: skip
    assert [u["update_id"] for u in page2] == [u["update_id"] for u in body[5:10]]


# --- errors -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "params", "status", "needle_uk", "needle_en"),
    [
        ("requests", {"start_date": "2026-13-01"}, 400, "ISO 8601", "ISO 8601"),
        ("requests", {"end_date": "вчора"}, 400, "end_date", "end_date"),
        ("requests", {"start_date": "2026-01-01", "end_date": "2026-06-01"}, 400, "90 днів",
         "90 days"),
        ("requests", {"start_date": "2026-06-01", "end_date": "2026-05-01"}, 400, "пізніший",
         "later"),
        ("requests", {"status": "pending"}, 400, "pending", "pending"),
        ("requests", {"service_code": "abc"}, 400, "abc", "abc"),
        ("requests", {"page_size": "0"}, 400, "page_size", "page_size"),
        ("requests", {"page_size": "1001"}, 400, "1000", "1000"),
        ("requests", {"page": "x"}, 400, "page", "page"),
        ("requests", {"service_request_id": ",".join(f"N-{i}" for i in range(51))}, 400, "50",
         "50"),
        ("servicerequestupdates", {"start_date": "2026-01-01T00:00:00+02:00",
                                   "end_date": "2026-12-01T00:00:00+02:00"}, 400, "90", "90"),
        ("servicerequestupdates", {"end_date": "no"}, 400, "end_date", "end_date"),
        ("requests/НЕМАЄ-1", None, 404, "НЕМАЄ-1", "НЕМАЄ-1"),
        ("services/999999", None, 404, "999999", "999999"),
        ("services/ліфт", None, 404, "ліфт", "ліфт"),
        ("nothing-here", None, 404, "не знайдено", "not found"),
    ],
)  # fmt: skip
def test_errors_in_the_spec_format(client, path, params, status, needle_uk, needle_en):
    uk = assert_errors(client, f"{V2}/{path}", params, status, "uk")
    en = assert_errors(client, f"{V2}/{path}", params, status, "en")
    assert needle_uk in uk and needle_en in en.lower() or needle_en in en
    assert uk != en


# --- personal data ----------------------------------------------------------------------------


def test_no_personal_data_in_any_answer(client, demo_url, filed):
    """Neither the demo authors' names, e-mails, phones and postal addresses nor the new
    appeals' author appear in any answer, nor the private appeal's text."""
    bodies: list[str] = []
    now = dt.datetime.now(KYIV).replace(microsecond=0)
    numbers = [r[0] for r in sql(demo_url, "SELECT number FROM appeals ORDER BY id DESC LIMIT 50")]
    for suffix in (".xml", ".json"):
        for path, params in (
            ("discovery", None), ("services", None),
            (f"services/{filed['category']}", None),
            ("requests", {"page_size": 1000}),
            ("requests", {"page_size": 1000, "end_date": (now - dt.timedelta(days=90)).isoformat()}),
            ("requests", {"page_size": 1000, "end_date": (now - dt.timedelta(days=180)).isoformat()}),
            ("requests", {"page_size": 1000, "end_date": (now - dt.timedelta(days=270)).isoformat()}),
            ("requests", {"service_request_id": ",".join(numbers)}),
            (f"requests/{filed['public']}", None), (f"requests/{filed['private']}", None),
            ("servicerequestupdates", {"page_size": 1000}),
            ("servicerequestupdates", {"page_size": 1000,
                                       "end_date": (now - dt.timedelta(days=90)).isoformat()}),
        ):  # fmt: skip
            r = client.get(f"{V2}/{path}{suffix}", params=params)
            assert r.status_code == 200, (path, r.text)
            bodies.append(r.content.decode("utf-8"))
            if suffix == ".json":
                bodies.append(json.dumps(r.json(), ensure_ascii=False))
    authors = sql(demo_url, "SELECT full_name, email, phone, postal_address FROM appeal_authors")
    assert len(authors) > 500
    secrets = {v for row in authors for v in row if v and len(v) >= 6}
    secrets |= {*SECRET_AUTHOR.values(), SECRET_TEXT, "Тимошенко-Скоропадська", "111 22 33",
                "380671112233", "Потаємна"}  # fmt: skip
    text = "\n".join(bodies)
    leaked = sorted(s for s in secrets if s in text)
    assert not leaked, leaked[:5]
    for tag in ("full_name", "email", "phone", "postal_address", "first_name", "last_name",
                "author", "account_id"):  # fmt: skip
        assert f"<{tag}>" not in text and f'"{tag}"' not in text
