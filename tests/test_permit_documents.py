"""The files of a permit (issue 16, item 1) through /api/v1/planner, with real bearer tokens
on a small demo city: a PDF attached, listed, downloaded byte for byte with safe headers and
removed; types told by content, size and count limits, retired features, who is refused; the
audit trail (hash chain verified), the layer's freshness, and the feature's version untouched."""

from __future__ import annotations

import asyncio
import itertools
from urllib.parse import quote

import psycopg
import pytest
import staff

from gis import accounts
from gis.audit import verify
from gis.db import libpq_url

DEMO = {"prefix": "permitdocs", "seed": 16, "appeals": 50}
ITEMS = "/ogc/collections/{}/items"
GEOJSON = {"Content-Type": "application/geo+json"}
DOCS = "/api/v1/planner/{}/{}/documents"
PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\n"
    b"trailer<</Root 1 0 R>>\n%%EOF\n"
)
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
_counter = itertools.count(1)
LON, LAT = 30.0, 48.9  # away from the demo city's own structures


sql = staff.sql


def bearer(url: str, role: str) -> dict:
    return staff.bearer(url, role, label="documents", name="Планувальниця")


@pytest.fixture(scope="module")
def planner(demo_url):
    sql(demo_url, "DELETE FROM placement_rules")  # the demo's own rules: not these tests'
    return bearer(demo_url, "planner")


def new_structure(client, headers, code: str) -> int:
    n = next(_counter)
    feature = {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [LON + n * 0.001, LAT]},
        "properties": {"code": code, "kind": "billboard", "permit_number": f"P-{code}"},
    }
    r = client.post(ITEMS.format("advertising_structures"), headers={**headers, **GEOJSON},
                    json=feature)  # fmt: skip
    assert r.status_code == 201, r.text
    return r.json()["id"]


def upload(client, headers, fid, name, data, ctype="application/pdf",
           layer="advertising_structures"):  # fmt: skip
    return client.post(DOCS.format(layer, fid), headers=headers,
                       files={"file": (name, data, ctype)})  # fmt: skip


def test_a_pdf_attached_listed_downloaded_and_removed(client, demo_url, planner):
    fid = new_structure(client, planner, "D-1")
    item = client.get(f"{ITEMS.format('advertising_structures')}/{fid}")
    etag = item.headers["etag"]
    before = sql(demo_url, "SELECT last_updated FROM layers WHERE name = 'advertising_structures'")

    r = upload(client, planner, fid, "C:\\скани\\Дозвіл №5; 2026.pdf", PDF, "text/plain")
    assert r.status_code == 201, r.text
    doc = r.json()
    assert doc["filename"] == "Дозвіл №5; 2026.pdf"  # the folder part gone
    assert doc["media_type"] == "application/pdf" and doc["size"] == len(PDF)
    assert doc["uploaded_by"].startswith("Планувальниця")
    assert doc["url"] == f"/api/v1/planner/documents/{doc['id']}"
    assert r.headers["location"] == doc["url"]

    # listed; a PNG named .txt is stored as a PNG, with a name of its type
    r = upload(client, planner, fid, "photo.txt", PNG, "application/pdf")
    assert r.status_code == 201, r.text
    assert r.json()["media_type"] == "image/png" and r.json()["filename"] == "photo.txt.png"
    listed = client.get(DOCS.format("advertising_structures", fid), headers=planner)
    assert listed.status_code == 200, listed.text
    body = listed.json()
    assert [d["id"] for d in body["items"]] == [doc["id"], r.json()["id"]]
    assert body["max_documents"] == 20 and body["max_bytes"] == 10 * 1024 * 1024

    # downloaded: the same bytes, an attachment under its name, never sniffed or cached
    got = client.get(doc["url"], headers=planner)
    assert got.status_code == 200 and got.content == PDF
    assert got.headers["content-type"] == "application/pdf"
    assert got.headers["x-content-type-options"] == "nosniff"
    assert got.headers["cache-control"] == "private, no-store"
    disposition = got.headers["content-disposition"]
    assert disposition.startswith('attachment; filename="')
    assert f"filename*=UTF-8''{quote(doc['filename'], safe='')}" in disposition
    assert 'filename="______ _5_ 2026.pdf";' in disposition

    # the feature's version (its ETag) did not move: an open form stays current
    item = client.get(f"{ITEMS.format('advertising_structures')}/{fid}")
    assert item.headers["etag"] == etag
    after = sql(demo_url, "SELECT last_updated FROM layers WHERE name = 'advertising_structures'")
    assert after[0][0] is not None and (before[0][0] is None or after[0][0] > before[0][0])

    # removed: gone from the list and the disk (no other document has these bytes)
    sha = doc["sha256"]
    stored = client.app.state.settings.data_dir / "permit_documents" / sha[:2] / f"{sha}.pdf"
    assert stored.read_bytes() == PDF
    r = client.delete(doc["url"], headers=planner)
    assert r.status_code == 204, r.text
    assert not stored.exists()
    assert client.get(doc["url"], headers=planner).status_code == 404
    r = client.delete(doc["url"], headers={**planner, "Accept-Language": "en"})
    assert r.status_code == 404 and r.json() == {
        "code": "document_not_found",
        "detail": f"Document {doc['id']} not found.",
    }
    assert len(client.get(DOCS.format("advertising_structures", fid),
                          headers=planner).json()["items"]) == 1  # fmt: skip

    # the audit trail: added, added, removed — with name, hash and size; the chain holds
    events = sql(
        demo_url,
        "SELECT action, old, new, actor_user_id FROM feature_events"
        " WHERE layer = 'advertising_structures' AND feature_id = %s ORDER BY id",
        (str(fid),),
    )
    assert [e[0] for e in events] == ["create", "document_added", "document_added",
                                      "document_removed"]  # fmt: skip
    assert events[1][1] is None
    assert events[1][2] == {"filename": doc["filename"], "sha256": sha, "size": len(PDF)}
    assert events[3][1] == events[1][2] and events[3][2] is None
    assert all(e[3] for e in events)
    with psycopg.connect(demo_url) as conn:
        assert verify(conn)["ok"]


def test_the_same_bytes_twice_are_stored_once_and_kept_while_listed(client, planner):
    a, b = new_structure(client, planner, "D-2"), new_structure(client, planner, "D-3")
    first = upload(client, planner, a, "a.pdf", PDF).json()
    second = upload(client, planner, b, "b.pdf", PDF).json()
    assert first["sha256"] == second["sha256"]
    assert client.delete(first["url"], headers=planner).status_code == 204
    got = client.get(second["url"], headers=planner)
    assert got.status_code == 200 and got.content == PDF


def test_wrong_type_too_large_too_many_and_bad_names_are_refused(client, demo_url, planner):
    fid = new_structure(client, planner, "D-4")
    en = {**planner, "Accept-Language": "en"}
    # by content: a text file calling itself a PDF
    r = upload(client, en, fid, "permit.pdf", b"not a pdf at all", "application/pdf")
    assert r.status_code == 400, r.text
    assert r.json()["code"] == "document_type_unsupported" and r.json()["parameter"] == "file"
    assert "'permit.pdf' is not a PDF, JPEG or PNG" in r.json()["detail"]
    assert upload(client, planner, fid, "empty.pdf", b"").json()["code"] == (
        "document_type_unsupported"
    )
    # larger than 10 MB
    r = upload(client, planner, fid, "big.pdf", PDF + b"0" * (10 * 1024 * 1024))
    assert r.status_code == 413 and r.json()["code"] == "document_too_large"
    assert "10 МБ" in r.json()["detail"]
    # a control character in the name
    raw = (
        b'--b\r\nContent-Disposition: form-data; name="file"; filename="a\x07b.pdf"\r\n'
        b"Content-Type: application/pdf\r\n\r\n" + PDF + b"\r\n--b--\r\n"
    )
    r = client.post(
        DOCS.format("advertising_structures", fid),
        content=raw,
        headers={**planner, "Content-Type": "multipart/form-data; boundary=b"},
    )
    assert r.status_code == 400 and r.json()["code"] == "invalid_characters"
    # no file at all; JSON instead of a form
    r = client.post(DOCS.format("advertising_structures", fid), headers=planner,
                    data={"other": "x"})  # fmt: skip
    assert r.status_code == 400 and r.json()["code"] == "document_file_required"
    r = client.post(DOCS.format("advertising_structures", fid), headers=planner, json={})
    assert r.status_code == 400 and r.json()["code"] == "document_file_required"
    # 20 per feature, the 21st refused
    for i in range(20):
        assert upload(client, planner, fid, f"{i}.pdf", PDF + bytes([i])).status_code == 201
    r = upload(client, en, fid, "21.pdf", PDF)
    assert r.status_code == 409 and r.json()["code"] == "too_many_documents"
    assert "already has 20 permit documents" in r.json()["detail"]
    count = sql(demo_url, "SELECT count(*) FROM permit_documents WHERE feature_id = %s", (fid,))
    assert count[0][0] == 20


def test_unknown_and_retired_features_are_404(client, planner):
    fid = new_structure(client, planner, "D-5")
    doc = upload(client, planner, fid, "a.pdf", PDF).json()
    url = f"{ITEMS.format('advertising_structures')}/{fid}"
    etag = client.get(url).headers["etag"]
    r = client.delete(url, headers={**planner, "If-Match": etag})
    assert r.status_code == 204, r.text
    for path in (DOCS.format("advertising_structures", fid), DOCS.format("kiosks", 999999999),
                 DOCS.format("districts", 1), DOCS.format("advertising_structures", "x1")):  # fmt: skip
        r = client.get(path, headers=planner)
        assert r.status_code == 404 and r.json()["code"] == "feature_not_found", path
    r = upload(client, planner, fid, "b.pdf", PDF)
    assert r.status_code == 404 and r.json()["code"] == "feature_not_found"
    assert client.get(doc["url"], headers=planner).status_code == 404
    assert client.delete(doc["url"], headers=planner).status_code == 404


def test_citizens_other_staff_and_anonymous_are_refused(client, demo_url, planner):
    fid = new_structure(client, planner, "D-6")
    doc = upload(client, planner, fid, "a.pdf", PDF).json()
    listing = DOCS.format("advertising_structures", fid)
    for headers, status in ((None, 401), (bearer(demo_url, "citizen"), 403),
                            (bearer(demo_url, "operator"), 403)):  # fmt: skip
        headers = headers or {}
        assert client.get(listing, headers=headers).status_code == status
        assert upload(client, headers, fid, "x.pdf", PDF).status_code == status
        assert client.get(doc["url"], headers=headers).status_code == status
        assert client.delete(doc["url"], headers=headers).status_code == status
    admin = bearer(demo_url, "admin")
    assert client.get(doc["url"], headers=admin).content == PDF
    assert client.delete(doc["url"], headers=admin).status_code == 204


def test_the_portal_attaches_with_its_cookie_and_csrf_token(demo_url, client, planner, tmp_path):
    """A cookie session's upload without its CSRF token is refused (another site's form
    cannot attach a file); with it, accepted."""
    from fastapi.testclient import TestClient

    from api import create_app
    from gis.settings import Settings

    email, password = "cookie-planner@documents.test", "планувальник-16-документи"

    async def make():
        async with await psycopg.AsyncConnection.connect(libpq_url(demo_url), autocommit=True) as c:
            await accounts.create_user(
                c, email=email, password=password, full_name="Планувальник Кукі",
                role="planner", confirmed=True,
            )  # fmt: skip

    asyncio.run(make())
    fid = new_structure(client, planner, "D-7")
    settings = Settings(database_url=demo_url, rate_limits_enabled=False, data_dir=tmp_path)
    with TestClient(create_app(settings), base_url="https://testserver") as c:
        r = c.post("/api/v1/auth/login",
                   json={"email": email, "password": password, "session": "cookie"})  # fmt: skip
        assert r.status_code == 200, r.text
        csrf = r.json()["csrf_token"]
        r = upload(c, {}, fid, "a.pdf", PDF)
        assert r.status_code == 403 and r.json()["code"] == "csrf_failed"
        r = upload(c, {"X-CSRF-Token": csrf}, fid, "a.pdf", PDF)
        assert r.status_code == 201, r.text
        assert r.json()["uploaded_by"] == "Планувальник Кукі"
        assert c.get(r.json()["url"]).content == PDF  # a plain link: no token needed to read
