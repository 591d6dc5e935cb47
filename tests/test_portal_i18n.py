"""The portal's two languages (webmap/i18n.py): every marked text has its English, the page's
language follows the switch, then the cookie it leaves, then the browser; the scripts get the
catalogue and the same language."""

from __future__ import annotations

import json
import re

import pytest
from fastapi.testclient import TestClient

from api import create_app
from gis.settings import Settings
from webmap import i18n

PAGES = [
    "/",
    "/login",
    "/register",
    "/account/confirm",
    "/account/reset",
    "/appeal/new",
    "/planner",
    "/cabinet",
    "/cabinet/appeals",
    "/cabinet/ward",
]


def test_every_marked_text_has_its_english():
    result = i18n.check("en")
    assert not result.missing, "no English for: " + "; ".join(
        f"{text!r} ({', '.join(where)})" for text, where in sorted(result.missing.items())
    )
    assert not result.conflicting
    assert not result.placeholders


def test_the_pages_mark_their_texts():
    """Ukrainian letters outside _() in a template, or a Cyrillic string literal in a script
    that t()/plural() do not take, would stay Ukrainian on an English page."""
    marked = i18n.marked_texts()
    assert len(marked) > 300  # the portal's ten pages and seven scripts
    cyrillic = re.compile(r"[А-Яа-яЇїІіЄєҐґ]")
    untranslatable = []
    for path in sorted(i18n.TEMPLATES_DIR.glob("*.html")):
        text = path.read_text()
        # Leave out _("…") calls, comments and the language switch's own name.
        text = re.sub(r'_\("(?:[^"\\]|\\.)*"', "", text)
        text = re.sub(r"\{#.*?#\}|<!--.*?-->", "", text, flags=re.S)
        for lineno, line in enumerate(text.splitlines(), 1):
            if cyrillic.search(line):
                untranslatable.append(f"{path.name}:{lineno}: {line.strip()}")
    for path in sorted((i18n.STATIC_DIR / "js").glob("*.js")):
        for lineno, line in enumerate(path.read_text().splitlines(), 1):
            code = line.split("//", 1)[0]
            code = re.sub(r'\b(?:t|plural)\((?:[^,()]*,\s*)?"(?:[^"\\]|\\.)*"', "", code)
            if cyrillic.search(code) and path.name != "i18n.js":
                untranslatable.append(f"{path.name}:{lineno}: {line.strip()}")
    assert not untranslatable, "\n".join(untranslatable)


def test_placeholders_and_plural_forms():
    uk = i18n.catalogue("uk")
    assert uk.gettext("Округ № {number}", number=7) == "Округ № 7"
    assert i18n.format_text("{a} і {b}", {"a": 1}) == "1 і {b}"
    assert i18n.catalogue("xx").lang == "uk"


@pytest.mark.parametrize(
    ("query", "cookie", "accept", "expected"),
    [
        (None, None, None, "uk"),
        (None, None, "en-US,en;q=0.9", "en"),
        (None, None, "uk-UA,uk;q=0.9,en;q=0.8", "uk"),
        # A Kyiv browser in Russian lists English second: its reader reads Ukrainian.
        (None, None, "ru-RU,ru;q=0.9,en-US;q=0.8,en;q=0.7", "uk"),
        (None, None, "de-DE,de;q=0.9,en;q=0.8", "en"),
        (None, None, "en;q=0,uk;q=0.1", "uk"),
        ("en", None, "uk", "en"),
        ("uk", "en", "en", "uk"),
        (None, "en", "uk", "en"),
        ("de", None, None, "uk"),  # unknown: ignored, not refused
        ("de", "en", None, "en"),
    ],
)
def test_language_negotiation(query, cookie, accept, expected):
    assert i18n.negotiate(query, cookie, accept) == expected


@pytest.fixture
def client(db_url):
    with TestClient(create_app(Settings(database_url=db_url))) as c:
        yield c


@pytest.mark.parametrize("path", PAGES)
def test_each_page_switches_to_english_and_back(client, path):
    r = client.get(path)
    assert r.status_code == 200
    assert '<html lang="uk">' in r.text
    assert 'data-lang="en"' in r.text and "page-i18n" not in r.text
    assert "js/i18n.js" in r.text

    r = client.get(path, params={"lang": "en"})
    assert r.status_code == 200 and r.headers["content-language"] == "en"
    assert '<html lang="en">' in r.text and 'data-lang="uk"' in r.text
    assert "hromada_lang=en" in r.headers["set-cookie"]
    title = re.search(r"<title>(.*?)</title>", r.text).group(1)
    assert not re.search(r"[А-Яа-яЇїІіЄєҐґ]", title.replace("Київ", "")), title
    catalogue = json.loads(re.search(r'id="page-i18n">(.*?)</script>', r.text, re.S).group(1))
    assert catalogue == dict(i18n.catalogue("en").messages)

    # The cookie keeps English on the next page, until the switch asks for Ukrainian.
    assert '<html lang="en">' in client.get(path).text
    r = client.get(path, params={"lang": "uk"})
    assert '<html lang="uk">' in r.text and "hromada_lang=uk" in r.headers["set-cookie"]
    assert '<html lang="uk">' in client.get(path).text


def test_the_browsers_language_is_the_default(client):
    r = client.get("/", headers={"Accept-Language": "en-GB,en;q=0.9"})
    assert '<html lang="en">' in r.text and "set-cookie" not in r.headers
    assert "Vary" in r.headers and "Cookie" in r.headers["Vary"]


def test_the_catalogue_cannot_close_its_script_element(client):
    from api.routers.portal import _script_json

    text = str(_script_json({"a": "</script><b>&"}))
    assert "</script>" not in text and json.loads(text) == {"a": "</script><b>&"}


def test_every_1551_result_has_its_english(shared_data):
    """The results the lifecycle sets and those of the real 1551 profile are all named in
    English (the English cards show result_en)."""
    from gis import lifecycle
    from gis.models import RESULTS, result_en

    profile = json.loads((shared_data / "kyiv_1551_profile.json").read_text())
    real = {r["result"] for r in profile["results_2025-09"]}
    ours = {v for k, v in vars(lifecycle).items() if k.startswith("R_") and isinstance(v, str)}
    assert len(ours) >= 10 and len(real) >= 15
    assert not (real | ours) - set(RESULTS)
    assert all(result_en(r) and not re.search(r"[А-Яа-яЇїІіЄєҐґ]", result_en(r))
               for r in RESULTS)  # fmt: skip
    assert result_en("Виконано / щось інше") is None and result_en(None) is None


def test_the_public_card_names_its_result_in_english(db_url, shared_data):
    import psycopg

    from gis.models import result_en
    from importers.demo import generate

    generate(db_url, seed=5, appeals=200, shared_dir=shared_data)
    with psycopg.connect(db_url) as conn:
        number, result = conn.execute(
            "SELECT number, result FROM appeals WHERE status = 'closed' LIMIT 1"
        ).fetchone()
    with TestClient(create_app(Settings(database_url=db_url))) as c:
        card = c.get(f"/api/v1/appeals/{number}").json()
        assert card["result"] == result and card["result_en"] == result_en(result)
        item = c.get("/api/v1/appeals/public", params={"period": "all", "limit": 50}).json()
        closed = [i for i in item["items"] if i["status"] == "closed"]
        assert closed and all(i["result_en"] == result_en(i["result"]) for i in closed)
