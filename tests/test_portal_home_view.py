"""The maps' one home (issue 17): every portal map starts on the viewer's territory, computed
by the server (api/routers/portal.py `_home`, config.home.bbox; portal.homeView fits it) —
the signed-in staff member's council, else the installation's (every current hromada). On
the Kyiv demo city with two councils of the region demo added (Кушугумська and Запорізька, B,
with their demo accounts): B's operator's /operator map starts inside B, not on Kyiv (nor
on A); the oblast's operator's (no council) and a visitor's / on the union of the three.
(Kyiv's own pages, a one-council install: the other browser tests, on Kyiv's boundary.)
"""

from __future__ import annotations

from browser import DESKTOP, sign_in
from staff import sql

from importers.demo import accounts as demo_accounts
from importers.demo import region

SEED = 31
A, B = "UA23060110000049870", "UA23060070000082704"  # Кушугумська, Запорізька
KYIV = "UA80000000000093317"


def _prepare(url: str) -> None:
    region.generate_region(url, "zaporizka", seed=SEED, appeals=40, councils=(A, B))
    demo_accounts.create(url, SEED, demo_mode=True)  # the councils' and the oblast's accounts


PORTAL = {"seed": SEED, "appeals": 40, "prepare": _prepare}  # browser.portal's demo city


def bbox(url: str, codes: tuple[str, ...] | None = None) -> tuple[float, float, float, float]:
    """[w, s, e, n] of these current hromadas (None: all)."""
    rows = sql(url, "SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM (SELECT"
                    " ST_Extent(geom) e FROM hromadas WHERE valid_to IS NULL"
                    " AND (%(c)s::text[] IS NULL OR code = ANY(%(c)s))) x",
               {"c": list(codes) if codes else None})  # fmt: skip
    assert rows and rows[0][0] is not None, codes
    return rows[0]


def centre(page, name: str) -> tuple[float, float]:
    """The map's centre (lon, lat) once it has its first view."""
    page.wait_for_function(f"() => window.{name} && window.{name}._loaded", timeout=20_000)
    c = page.evaluate(f"() => {{ const c = window.{name}.getCenter(); return [c.lng, c.lat]; }}")
    return c[0], c[1]


def within(point: tuple[float, float], box) -> bool:
    w, s, e, n = box
    return w <= point[0] <= e and s <= point[1] <= n


def test_each_operator_map_starts_on_its_own_council(portal, new_context):
    base, url = portal.base, portal.db
    slug = sql(url, "SELECT slug FROM councils WHERE code = %s", (B,))[0][0]
    b_box, kyiv_box, a_box = bbox(url, (B,)), bbox(url, (KYIV,)), bbox(url, (A,))

    def operator_map(login: str) -> tuple[float, float]:
        page = new_context(viewport=DESKTOP).new_page()
        sign_in(page, base, next(a for a in demo_accounts.listing(url, SEED) if a.login == login))
        page.goto(base + "/operator")
        return centre(page, "hromadaOperatorMap")

    b = operator_map(f"operator-{slug}@demo.hromada")
    assert within(b, b_box) and not within(b, kyiv_box) and not within(b, a_box), b
    # The oblast's operator: the installation's territory, Kyiv to Zaporizhzhia.
    everything = bbox(url)
    oblast = operator_map("oblast-operator@demo.hromada")
    assert within(oblast, everything) and not within(oblast, kyiv_box), oblast
    assert not within(oblast, b_box), oblast

    # A visitor's map: the same territory.
    page = new_context(viewport=DESKTOP).new_page()
    page.goto(base + "/")
    page.wait_for_selector('#map[data-state="ready"]', timeout=20_000)
    page.wait_for_function("() => location.hash.length > 1")
    _, lat, lon = page.evaluate("() => location.hash.slice(1).split('/').map(Number)")
    assert within((lon, lat), everything) and not within((lon, lat), kyiv_box), (lon, lat)
