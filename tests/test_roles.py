"""Roles and scopes: the role × route matrix, and what each role sees of the appeals.

The matrix is a table written out below: every route of the app (method and path) with the
roles allowed to call it (ANYONE: public). The test fails when the app has a route the table
does not list, or the table lists a route the app no longer has; then, for every route and
every role (and an anonymous caller), it sends a real request with a real bearer token of a
real user of that role and checks that a refused caller gets 401 (anonymous) or 403, and an
allowed one neither.

Scopes run on a small demo city (seed 7, 2,000 appeals) with its demo accounts.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools

import psycopg
import pytest
from conftest import demo_city
from fastapi.testclient import TestClient

from api import create_app
from api.policy import iter_api_routes, route_policy
from gis import accounts
from gis.db import libpq_url
from gis.models import ROLES
from gis.settings import Settings
from importers.demo import accounts as demo_accounts

NOW = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
SEED = 7
DOCUMENTATION = {"/openapi.json", "/docs", "/docs/oauth2-redirect", "/redoc"}
ANYONE = "anyone"
STAFF_QUEUE = {"operator", "curator", "executor", "manager", "deputy", "admin"}
AUTHOR_READERS = {"operator", "curator", "executor", "manager"}
ADMIN = {"admin"}
WARD_READERS = {"operator", "curator", "deputy", "admin"}
SIGNED_IN = set(ROLES)

# (method, path) → the roles allowed (ANYONE: everybody, signed in or not).
MATRIX: dict[tuple[str, str], str | set[str]] = {
    # public: health, the OGC API, the portal's pages
    ("GET", "/healthz"): ANYONE,
    ("GET", "/ogc"): ANYONE,
    ("GET", "/ogc/"): ANYONE,  # the same landing page, without a redirect
    ("GET", "/ogc/conformance"): ANYONE,
    ("GET", "/ogc/api"): ANYONE,
    ("GET", "/ogc/collections"): ANYONE,
    ("GET", "/ogc/collections/{collection_id}"): ANYONE,
    ("GET", "/ogc/collections/{collection_id}/items"): ANYONE,
    ("GET", "/ogc/collections/{collection_id}/queryables"): ANYONE,
    ("GET", "/ogc/collections/{collection_id}/items/{feature_id}"): ANYONE,
    # OGC API – Features Part 4 (api/routers/ogc_edit.py): structures and kiosks, planners
    ("POST", "/ogc/collections/{collection_id}/items"): {"planner", "admin"},
    ("PUT", "/ogc/collections/{collection_id}/items/{feature_id}"): {"planner", "admin"},
    ("PATCH", "/ogc/collections/{collection_id}/items/{feature_id}"): {"planner", "admin"},
    ("DELETE", "/ogc/collections/{collection_id}/items/{feature_id}"): {"planner", "admin"},
    # vector tiles: public routes, each role served the layers it may see (api/routers/tiles.py)
    ("GET", "/tiles/{collection_id}/{z}/{x}/{y}.mvt"): ANYONE,
    ("GET", "/tiles/{collection_id}/tilejson.json"): ANYONE,
    ("GET", "/"): ANYONE,
    ("GET", "/login"): ANYONE,
    ("GET", "/cabinet"): ANYONE,  # the page; its data comes from the API below
    ("GET", "/cabinet/ward"): ANYONE,  # the deputy cabinet; its data: /api/v1/wards below
    ("GET", "/register"): ANYONE,
    ("GET", "/account/confirm"): ANYONE,  # the token is in the fragment, read by the page
    ("GET", "/account/reset"): ANYONE,
    ("GET", "/appeal/new"): ANYONE,
    ("GET", "/a/{number}"): ANYONE,  # an author's page from a notification's link (?t=TOKEN)
    ("GET", "/a/{number}/unsubscribe"): ANYONE,
    ("GET", "/operator"): ANYONE,  # the operator's intake; its data: /api/v1/callers and others
    ("GET", "/planner"): ANYONE,  # the layers are public; internal ones come by role from the API
    ("GET", "/cabinet/appeals"): ANYONE,  # the page; its data comes from /me/appeals
    ("GET", "/curator"): ANYONE,  # the curator's desk; its data: /api/v1/curator below
    ("GET", "/manager"): ANYONE,  # the manager's АРМ; its data: /api/v1/manager below
    ("GET", "/dashboard"): ANYONE,  # the reports' dashboard; its data: /api/v1/reports below
    ("GET", "/admin"): ANYONE,  # the administrator's page; its data: the admin API below
    # routing by polygon: areas at a point, a routing dry run (api/routers/routing.py)
    ("GET", "/api/v1/areas"): ANYONE,
    ("GET", "/api/v1/route"): ANYONE,
    ("GET", "/api/v1/geocode/reverse"): ANYONE,
    ("GET", "/api/v1/geocode/search"): ANYONE,
    # signing in and out, one's own account (api/routers/auth.py, me.py)
    ("POST", "/api/v1/auth/register"): ANYONE,
    ("POST", "/api/v1/auth/confirm"): ANYONE,
    ("POST", "/api/v1/auth/login"): ANYONE,
    ("POST", "/api/v1/auth/logout"): SIGNED_IN,
    ("POST", "/api/v1/auth/logout-all"): SIGNED_IN,
    ("POST", "/api/v1/auth/password-reset"): ANYONE,
    ("POST", "/api/v1/auth/password-reset/confirm"): ANYONE,
    ("GET", "/api/v1/me"): SIGNED_IN,
    ("GET", "/api/v1/me/data"): SIGNED_IN,
    ("DELETE", "/api/v1/me"): {"citizen"},
    # staff work on appeals (api/routers/staff.py)
    ("GET", "/api/v1/queue"): STAFF_QUEUE,
    ("GET", "/api/v1/queue/{number}"): STAFF_QUEUE,
    ("GET", "/api/v1/appeals/{number}/author"): AUTHOR_READERS,
    ("POST", "/api/v1/appeals/{number}/take"): {"executor", "manager"},
    ("GET", "/api/v1/me/appeals"): {"citizen"},
    ("GET", "/api/v1/me/executors"): {"executor", "manager"},
    # the lifecycle, duplicates and history (api/routers/lifecycle.py)
    ("POST", "/api/v1/appeals/{number}/answer"): {"executor", "manager"},
    ("POST", "/api/v1/appeals/{number}/return"): {"executor", "manager"},
    ("POST", "/api/v1/appeals/{number}/redirect"): {"curator", "operator"},
    ("POST", "/api/v1/appeals/{number}/locate"): {"curator", "operator"},
    ("POST", "/api/v1/appeals/{number}/delegate"): {"executor", "manager"},
    ("POST", "/api/v1/appeals/{number}/resolutions"): {"executor", "manager"},
    ("GET", "/api/v1/appeals/{number}/resolutions"): AUTHOR_READERS,
    ("POST", "/api/v1/appeals/{number}/extend"): {"manager", "curator"},
    ("POST", "/api/v1/appeals/{number}/extension-request"): {"executor", "manager"},
    ("POST", "/api/v1/appeals/{number}/extension-decline"): {"manager", "curator"},
    ("POST", "/api/v1/appeals/{number}/check"): {"curator"},
    # the curator's queues and card (api/routers/curator.py)
    ("GET", "/api/v1/curator/queues"): {"curator"},
    ("GET", "/api/v1/curator/queues/{queue}"): {"curator"},
    ("GET", "/api/v1/curator/appeals/{number}"): {"curator"},
    # the manager's АРМ and personal control (api/routers/manager.py)
    ("GET", "/api/v1/manager/summary"): {"manager"},
    ("GET", "/api/v1/manager/appeals"): {"manager"},
    ("GET", "/api/v1/manager/appeals.csv"): {"manager"},
    ("POST", "/api/v1/appeals/{number}/control"): {"manager"},
    ("POST", "/api/v1/appeals/{number}/confirm"): {"citizen"},
    ("POST", "/api/v1/appeals/{number}/reject"): {"citizen"},
    ("POST", "/api/v1/appeals/{number}/cancel"): {"citizen"},
    # the holder of an author's link, by its token (api/routers/author.py): no token 400,
    # another's 403 author_link_invalid — whoever is signed in
    ("POST", "/api/v1/appeals/{number}/author-confirm"): ANYONE,
    ("POST", "/api/v1/appeals/{number}/author-reject"): ANYONE,
    ("POST", "/api/v1/appeals/{number}/author-unsubscribe"): ANYONE,
    ("POST", "/api/v1/appeals/{number}/support"): {"citizen", "operator", "curator"},
    ("GET", "/api/v1/appeals/{number}/history"): ANYONE,
    ("GET", "/api/v1/appeals/nearby"): ANYONE,
    # the public feed and its statistics (api/routers/public_feed.py)
    ("GET", "/api/v1/appeals/public"): ANYONE,
    ("GET", "/api/v1/appeals/public/statistics"): ANYONE,
    # open data (api/routers/opendata.py)
    ("GET", "/api/v1/opendata/appeals.csv"): ANYONE,
    ("GET", "/api/v1/opendata/appeals.geojson"): ANYONE,
    ("GET", "/opendata"): ANYONE,
    # Open311 GeoReport v2, the read side (api/routers/open311.py): each path answers with
    # the suffixes .xml and .json and without one (XML)
    **{
        ("GET", f"/open311/v2/{path}{suffix}"): ANYONE
        for path in (
            "discovery",
            "services",
            "services/{service_code}",
            "requests",
            "requests/{service_request_id}",
            "servicerequestupdates",
        )
        for suffix in (".xml", ".json", "")
    },
    # appeal intake and the public view (api/routers/appeals.py)
    ("GET", "/api/v1/categories"): ANYONE,
    # the operator's intake helpers (api/routers/operator.py)
    ("GET", "/api/v1/categories/search"): ANYONE,
    ("GET", "/api/v1/callers"): {"operator", "curator", "admin"},
    ("POST", "/api/v1/appeals"): ANYONE,  # citizens, anonymous too; operators: any channel
    ("GET", "/api/v1/appeals/{number}"): ANYONE,  # never the author's personal data
    ("GET", "/api/v1/photos/{sha256}"): ANYONE,  # published ones; staff: in their scope
    # administration (api/routers/admin.py)
    ("GET", "/api/v1/users"): ADMIN,
    ("POST", "/api/v1/users"): ADMIN,
    ("GET", "/api/v1/users/{user_id}"): ADMIN,
    ("PATCH", "/api/v1/users/{user_id}"): ADMIN,
    ("PATCH", "/api/v1/categories/{category_id}"): ADMIN,
    ("GET", "/api/v1/routing-rules"): ADMIN,
    ("POST", "/api/v1/routing-rules"): ADMIN,
    ("DELETE", "/api/v1/routing-rules/{rule_id}"): ADMIN,
    # the daily dispatch (api/routers/dispatch.py)
    ("GET", "/api/v1/admin/dispatch"): ADMIN,
    ("POST", "/api/v1/admin/dispatch"): ADMIN,
    ("GET", "/api/v1/admin/dispatch/{subscription_id}"): ADMIN,
    ("PATCH", "/api/v1/admin/dispatch/{subscription_id}"): ADMIN,
    ("DELETE", "/api/v1/admin/dispatch/{subscription_id}"): ADMIN,
    ("GET", "/api/v1/admin/dispatch/{subscription_id}/batches"): ADMIN,
    ("POST", "/api/v1/admin/dispatch/{subscription_id}/batches/{batch_id}/retry"): ADMIN,
    # placement rules of structures and kiosks (api/routers/placement_rules.py)
    ("GET", "/api/v1/admin/placement-rules"): ADMIN,
    ("GET", "/api/v1/admin/placement-rules/layers"): ADMIN,
    ("POST", "/api/v1/admin/placement-rules"): ADMIN,
    ("PATCH", "/api/v1/admin/placement-rules/{rule_id}"): ADMIN,
    ("DELETE", "/api/v1/admin/placement-rules/{rule_id}"): ADMIN,
    # the Open311 client applications' keys (api/routers/open311_keys.py)
    ("GET", "/api/v1/admin/open311/keys"): ADMIN,
    ("POST", "/api/v1/admin/open311/keys"): ADMIN,
    ("DELETE", "/api/v1/admin/open311/keys/{client_id}"): ADMIN,
    ("GET", "/api/v1/admin/open311/keys/{client_id}/calls"): ADMIN,
    # Open311, the write side (api/routers/open311_post.py): a client application's api_key
    # (400 without, 403 unknown), not a role; tokens/{token}: anyone who holds one
    **{("POST", f"/open311/v2/requests{suffix}"): ANYONE for suffix in (".xml", ".json", "")},
    **{("GET", f"/open311/v2/tokens/{{token}}{sfx}"): ANYONE for sfx in (".xml", ".json", "")},
    ("GET", "/api/v1/admin/notifications"): ADMIN,
    ("POST", "/api/v1/admin/notifications/{notification_id}/retry"): ADMIN,
    ("GET", "/api/v1/directory/executors"): ADMIN,
    ("GET", "/api/v1/directory/categories"): ADMIN,
    ("POST", "/api/v1/directory/territories/{code}"): ADMIN,
    ("PATCH", "/api/v1/layers/{name}"): {"planner", "admin"},
    # permits over time (api/routers/planner_permits.py): the planners' list
    ("GET", "/api/v1/planner/permits"): {"planner", "admin"},
    # a register's bulk import, preview or apply (api/routers/structure_import.py)
    ("POST", "/api/v1/planner/import"): {"planner", "admin"},
    # appeals about structures (api/routers/structure_appeals.py): a structure's appeals as the
    # public map shows them; the complaints' map the planners' working tool
    ("GET", "/api/v1/structures/{layer}/{feature_id}/appeals"): ANYONE,
    ("GET", "/api/v1/planner/complaints"): {"planner", "admin"},
    # a permit's documents (api/routers/permit_documents.py): planners and administrators
    ("GET", "/api/v1/planner/{layer}/{feature_id}/documents"): {"planner", "admin"},
    ("POST", "/api/v1/planner/{layer}/{feature_id}/documents"): {"planner", "admin"},
    ("GET", "/api/v1/planner/documents/{doc_id}"): {"planner", "admin"},
    ("DELETE", "/api/v1/planner/documents/{doc_id}"): {"planner", "admin"},
    ("GET", "/api/v1/layers"): ANYONE,  # the catalogue: owners, regimes, freshness
    # a ward's statistics and report (api/routers/wards.py): a deputy their own ward only
    ("GET", "/api/v1/wards/{number}/statistics"): WARD_READERS,
    ("GET", "/api/v1/wards/{number}/report.html"): WARD_READERS,
    ("GET", "/api/v1/wards/{number}/report.pdf"): WARD_READERS,
    # the reports (api/routers/reports.py): each role within its scope (tests/test_reports.py);
    # the public reports (aggregates) anyone, city-wide: test_the_public_reports below
    ("GET", "/api/v1/reports/{name}"): STAFF_QUEUE,
    # issue 17, councils as tenants: each slice adds its routes below its own line only
    # --- issue 17: A ---
    # art. 7: to another council (api/routers/lifecycle.py), the contact centre's roles
    ("POST", "/api/v1/appeals/{number}/transfer"): {"operator", "curator"},
    # --- issue 17: B ---
    ("GET", "/api/v1/admin/councils"): ADMIN,
    ("PATCH", "/api/v1/admin/councils/{code}"): ADMIN,
    ("GET", "/api/v1/directory/councils/{code}/categories"): ADMIN,
    ("PUT", "/api/v1/directory/councils/{code}/categories"): ADMIN,
    # --- issue 17: C ---
    # --- issue 17: D ---
    # the councils (api/routers/councils.py): public facts, the portal's council switch
    ("GET", "/api/v1/councils"): ANYONE,
    ("GET", "/api/v1/councils/{code}"): ANYONE,
    ("GET", "/oblast"): ANYONE,  # the oblast's councils on a map (webmap/templates/oblast.html)
    ("GET", "/h/{code}/"): ANYONE,  # a council's public map (index.html fitted to it)
}

# Values for path parameters: existing where that is harmless, absent where a call could
# change what the other requests see (an allowed caller then gets 404, which is neither
# 401 nor 403).
PATH_VALUES = {
    "collection_id": "districts",
    "feature_id": "1",
    "number": "000-no-such-appeal",
    "user_id": "999999999",
    "category_id": "999999999",
    "rule_id": "999999999",
    "notification_id": "999999999",
    "subscription_id": "999999999",
    "batch_id": "999999999",
    "client_id": "999999999",
    "layer": "advertising_structures",
    "doc_id": "999999999",
    "token": "no-such-token",
    "name": "no_such_layer",
    "sha256": "0" * 64,
    "queue": "check",
    "service_code": "999999999",
    "service_request_id": "000-no-such-appeal",
    "code": "no-such-territory",
    "z": "0",
    "x": "0",
    "y": "0",
}

_counter = itertools.count()


def _routes(app) -> dict[tuple[str, str], object]:
    out = {}
    for route in iter_api_routes(app):
        if route.path in DOCUMENTATION:
            continue
        for method in route.methods - {"HEAD", "OPTIONS"}:
            out[(method, route.path)] = route
    return out


# --- fixtures ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def demo_url(server_url, template_url, shared_data):
    """A small demo city with its demo accounts, shared by the tests of this module (they
    change only appeals they pick for themselves)."""
    with demo_city(
        server_url, template_url, shared_data, "roles", seed=SEED, appeals=2000, now=NOW
    ) as url:
        demo_accounts.create(url, SEED, demo_mode=True)
        yield url


@pytest.fixture(scope="module")
def client(demo_url):
    with TestClient(create_app(Settings(database_url=demo_url, demo_mode=True))) as c:
        yield c


def _run(coro_fn, url):
    async def main():
        async with await psycopg.AsyncConnection.connect(libpq_url(url), autocommit=True) as c:
            return await coro_fn(c)

    return asyncio.run(main())


async def _new_user(conn, role: str, **binding) -> int:
    n = next(_counter)
    if role in ("executor", "manager") and "executor_id" not in binding:
        cur = await conn.execute("SELECT id FROM executors WHERE code LIKE 'demo-rda-%' LIMIT 1")
        binding["executor_id"] = (await cur.fetchone())[0]
    if role == "deputy" and "ward_number" not in binding:
        binding["ward_number"] = 1
    return await accounts.create_user(
        conn, email=f"{role}-{n}@roles.test", password=None,
        full_name=f"Тест {role} {n}", role=role, confirmed=True, **binding,
    )  # fmt: skip


async def _token(conn, user_id: int) -> str:
    s = await accounts.create_session(
        conn, user_id=user_id, kind="bearer", ip=None, user_agent="pytest",
        ttl=dt.timedelta(hours=1),
    )  # fmt: skip
    return s.token


def new_user(url: str, role: str, **binding) -> int:
    """A real user of `role`, made by gis.accounts.create_user (no password: tokens below)."""
    return _run(lambda conn: _new_user(conn, role, **binding), url)


def token_for(url: str, user_id: int) -> str:
    """A real bearer token: a session made by gis.accounts.create_session."""
    return _run(lambda conn: _token(conn, user_id), url)


class FreshUsers:
    """new_user and token_for on one connection and event loop kept open, for a walk that
    makes a user and a token before each of its ~1,200 requests (a connection and a loop
    for each were most of its time)."""

    def __init__(self, url: str) -> None:
        self.url = url

    def __enter__(self) -> FreshUsers:
        self.runner = asyncio.Runner()
        self.conn = self.runner.run(
            psycopg.AsyncConnection.connect(libpq_url(self.url), autocommit=True)
        )
        return self

    def __exit__(self, *exc) -> None:
        self.runner.run(self.conn.close())
        self.runner.close()

    def token(self, role: str) -> str:
        """The bearer token of a new user of `role` (as token_for(new_user(role)))."""

        async def make() -> str:
            return await _token(self.conn, await _new_user(self.conn, role))

        return self.runner.run(make())


def demo_user(url: str, login: str) -> int:
    with psycopg.connect(url) as conn:
        return conn.execute("SELECT id FROM users WHERE email = %s", (login,)).fetchone()[0]


def auth(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def as_demo(url: str, login: str) -> dict:
    return auth(token_for(url, demo_user(url, login)))


def sql(url: str, query: str, params=None):
    with psycopg.connect(url) as conn:
        return conn.execute(query, params).fetchall()


# --- the matrix ----------------------------------------------------------------------------


def test_the_matrix_lists_every_route_and_no_other():
    app = create_app(Settings(database_url="postgresql://nobody@127.0.0.1:1/none"))
    routes = _routes(app)
    missing = sorted(set(routes) - set(MATRIX))
    stale = sorted(set(MATRIX) - set(routes))
    assert not missing, f"routes missing from the role × route matrix: {missing}"
    assert not stale, f"the matrix lists routes the app does not have: {stale}"


def test_each_route_declares_the_policy_of_the_matrix():
    app = create_app(Settings(database_url="postgresql://nobody@127.0.0.1:1/none"))
    for key, route in _routes(app).items():
        policy = route_policy(route)
        expected = MATRIX[key]
        declared = ANYONE if policy.roles is None else set(policy.roles)
        assert declared == expected, f"{key}: declares {declared}, the matrix says {expected}"


def test_every_route_for_every_role_and_anonymous(client, demo_url):
    """A real request per route and role with a fresh real user and bearer token."""
    refused, allowed = [], []
    routes = _routes(client.app)
    with FreshUsers(demo_url) as fresh:
        _walk_every_route(client, routes, fresh, refused, allowed)
    assert refused and allowed


def _walk_every_route(client, routes, fresh: FreshUsers, refused: list, allowed: list) -> None:
    for (method, path), expected in sorted(MATRIX.items()):
        if (method, path) not in routes:
            continue  # reported by the test above
        url = path.format(**{k: v for k, v in PATH_VALUES.items() if "{" + k + "}" in path})
        body = {} if method in ("POST", "PATCH", "PUT") else None
        for role in (None, *ROLES):
            headers = {}
            if role is not None:
                headers = auth(fresh.token(role))
            r = client.request(method, url, headers=headers, json=body)
            ok = expected == ANYONE or role in expected
            where = f"{method} {url} as {role or 'anonymous'}: {r.status_code} {r.text[:200]}"
            if ok:
                assert r.status_code not in (401, 403), where
                allowed.append(where)
            else:
                assert r.status_code == (401 if role is None else 403), where
                assert r.json()["code"] == ("not_authenticated" if role is None else "forbidden")
                refused.append(where)


def test_the_public_reports_for_every_role_and_anonymous(client, demo_url):
    """The reports' route admits anyone to the public reports (aggregates; a non-reader gets
    them city-wide) and only its roles to the others (overdue, daily)."""
    from gis.reports import PUBLIC_REPORTS, REPORTS

    assert {"overdue", "daily"} <= set(REPORTS) - PUBLIC_REPORTS
    for role in (None, *ROLES):
        headers = {} if role is None else auth(token_for(demo_url, new_user(demo_url, role)))
        for name in sorted(REPORTS):
            r = client.get(f"/api/v1/reports/{name}", headers=headers)
            where = f"{name} as {role or 'anonymous'}: {r.status_code} {r.text[:200]}"
            if role in STAFF_QUEUE:
                assert r.status_code == 200 and r.json()["scope"] != "public", where
            elif name in PUBLIC_REPORTS:
                assert r.status_code == 200 and r.json()["scope"] == "public", where
            else:
                assert r.status_code == (401 if role is None else 403), where


# --- scopes ----------------------------------------------------------------------------------


def _district_rdas(url: str) -> list[tuple[int, str, str]]:
    """(executor id, code, login) of each district administration with a demo account."""
    rows = sql(url, "SELECT u.executor_id, e.code, u.email FROM users u JOIN executors e"
                    " ON e.id = u.executor_id WHERE u.is_demo AND u.role = 'executor'"
                    " AND e.kind = 'district_administration' ORDER BY e.code")  # fmt: skip
    assert len(rows) == 10
    return rows


def _subtree(url: str, executor_id: int) -> list[int]:
    return [r[0] for r in sql(url, "WITH RECURSIVE t(id) AS (SELECT %s::int UNION"
                                   " SELECT e.id FROM executors e JOIN t ON e.parent_id = t.id)"
                                   " SELECT id FROM t", (executor_id,))]  # fmt: skip


def _appeal(url: str, executor_ids: list[int], status: str | None = None,
            exclude: tuple = ()) -> str:  # fmt: skip
    row = sql(url, "SELECT number FROM appeals WHERE executor_id = ANY(%s)"
                   " AND (%s::text IS NULL OR status = %s) AND NOT (number = ANY(%s))"
                   " ORDER BY id LIMIT 1",
              (executor_ids, status, status, list(exclude)))  # fmt: skip
    assert row, f"no appeal for {executor_ids} {status}"
    return row[0][0]


def test_an_executor_sees_only_its_district_even_guessing_numbers(client, demo_url):
    (a_id, a_code, a_login), (b_id, b_code, _b_login) = _district_rdas(demo_url)[:2]
    a_tree, b_tree = _subtree(demo_url, a_id), _subtree(demo_url, b_id)
    theirs = _appeal(demo_url, b_tree, "registered")
    ours = _appeal(demo_url, a_tree)
    h = as_demo(demo_url, a_login)
    logged = sql(demo_url, "SELECT count(*) FROM personal_data_access")[0][0]

    assert client.get(f"/api/v1/queue/{ours}", headers=h).status_code == 200
    for method, path in (("GET", f"/api/v1/queue/{theirs}"),
                         ("GET", f"/api/v1/appeals/{theirs}/author"),
                         ("POST", f"/api/v1/appeals/{theirs}/take")):  # fmt: skip
        r = client.request(method, path, headers=h)
        assert r.status_code == 404, (method, path, r.text)
        assert r.json()["code"] == "appeal_not_found"
    # A guessed number is answered exactly like one that does not exist.
    nothing = client.get("/api/v1/queue/999-999999", headers=h)
    guessed = client.get(f"/api/v1/queue/{theirs}", headers=h)
    assert nothing.status_code == guessed.status_code == 404
    assert nothing.json()["detail"].replace("999-999999", "N") == guessed.json()["detail"].replace(
        theirs, "N"
    )
    # Nothing was read, nothing changed, nothing was logged.
    assert sql(demo_url, "SELECT status FROM appeals WHERE number = %s", (theirs,))[0][0] == (
        "registered"
    )
    assert sql(demo_url, "SELECT count(*) FROM personal_data_access")[0][0] == logged

    # The queue holds only the district's appeals, and no personal data.
    codes = {r[0] for r in sql(demo_url, "SELECT code FROM executors WHERE id = ANY(%s)",
                               (a_tree,))}  # fmt: skip
    seen, after = 0, None
    while True:
        params = {"limit": 200} | ({"after": after} if after else {})
        r = client.get("/api/v1/queue", headers=h, params=params)
        assert r.status_code == 200, r.text
        page = r.json()
        for item in page["items"]:
            assert item["executor_code"] in codes
            assert not {"full_name", "email", "phone", "postal_address", "author"} & set(item)
        seen += page["returned"]
        after = page["next"]
        if after is None:
            break
    expected = sql(demo_url, "SELECT count(*) FROM appeals WHERE executor_id = ANY(%s)",
                   (a_tree,))[0][0]  # fmt: skip
    assert seen == expected > 0


def test_a_district_administration_sees_its_housing_offices_appeals(client, demo_url):
    """The hierarchy: РДА → КП «Керуюча компанія» → ЖЕД; the РДА's executor sees the ЖЕД's
    appeals, the ЖЕД's executor does not see the РДА's own."""
    zhed_login, zhed_id, rda_id = sql(demo_url, """
        SELECT u.email, u.executor_id, rda.id FROM users u
        JOIN executors z ON z.id = u.executor_id
        JOIN executors kk ON kk.id = z.parent_id JOIN executors rda ON rda.id = kk.parent_id
        WHERE u.is_demo AND u.email LIKE 'zhed-%%'""")[0]  # fmt: skip
    rda_login = sql(demo_url, "SELECT email FROM users WHERE is_demo AND role = 'executor'"
                              " AND executor_id = %s", (rda_id,))[0][0]  # fmt: skip
    zhed_appeal = _appeal(demo_url, [zhed_id])
    rda_appeal = _appeal(demo_url, [rda_id])
    rda, zhed = as_demo(demo_url, rda_login), as_demo(demo_url, zhed_login)
    assert client.get(f"/api/v1/queue/{zhed_appeal}", headers=rda).status_code == 200
    assert client.get(f"/api/v1/queue/{zhed_appeal}", headers=zhed).status_code == 200
    assert client.get(f"/api/v1/queue/{rda_appeal}", headers=zhed).status_code == 404


def test_a_deputy_sees_only_their_ward_and_never_authors(client, demo_url):
    ward, other = sql(
        demo_url,
        "SELECT w.number FROM wards w WHERE EXISTS (SELECT 1 FROM"
        " appeals a WHERE a.ward_id = w.id) ORDER BY number LIMIT 2",
    )
    ward, other = ward[0], other[0]
    h = as_demo(demo_url, f"deputy-{ward}@demo.hromada")
    mine = sql(demo_url, "SELECT a.number FROM appeals a JOIN wards w ON w.id = a.ward_id"
                         " WHERE w.number = %s LIMIT 1", (ward,))[0][0]  # fmt: skip
    theirs = sql(demo_url, "SELECT a.number FROM appeals a JOIN wards w ON w.id = a.ward_id"
                           " WHERE w.number = %s LIMIT 1", (other,))[0][0]  # fmt: skip
    r = client.get(f"/api/v1/queue/{mine}", headers=h)
    assert r.status_code == 200 and r.json()["ward_number"] == ward
    assert client.get(f"/api/v1/queue/{theirs}", headers=h).status_code == 404
    page = client.get("/api/v1/queue", headers=h, params={"limit": 200}).json()
    assert page["items"] and {i["ward_number"] for i in page["items"]} == {ward}
    r = client.get(f"/api/v1/appeals/{mine}/author", headers=h)
    assert r.status_code == 403 and r.json()["code"] == "forbidden"


def test_every_author_read_is_logged(client, demo_url):
    rda_id, _, login = _district_rdas(demo_url)[2]
    number = _appeal(demo_url, _subtree(demo_url, rda_id))
    user_id = demo_user(demo_url, login)
    h = auth(token_for(demo_url, user_id))
    for _ in range(2):
        r = client.get(f"/api/v1/appeals/{number}/author", headers=h)
        assert r.status_code == 200, r.text
        assert r.json()["author"]["full_name"]
    operator = as_demo(demo_url, "operator@demo.hromada")
    assert client.get(f"/api/v1/appeals/{number}/author", headers=operator).status_code == 200
    rows = sql(demo_url, "SELECT p.user_id, p.purpose FROM personal_data_access p"
                         " JOIN appeals a ON a.id = p.appeal_id WHERE a.number = %s ORDER BY p.id",
               (number,))  # fmt: skip
    assert [r[0] for r in rows] == [user_id, user_id, demo_user(demo_url, "operator@demo.hromada")]
    assert all(r[1].startswith("author:") for r in rows)
    # The staff card and the queue carry no personal data.
    card = client.get(f"/api/v1/queue/{number}", headers=h).json()
    assert "author" not in card and "email" not in card and "phone" not in card


def test_a_cookie_session_reads_the_author_only_with_its_csrf_token(client, demo_url):
    """The read writes the access log: a link or an <img> on another site (which sends the
    cookie but cannot know the token) must not trigger it. Bearer callers need no token."""
    login = "operator@demo.hromada"
    number = _appeal(demo_url, _subtree(demo_url, _district_rdas(demo_url)[1][0]))

    def reads() -> int:
        return sql(demo_url, "SELECT count(*) FROM personal_data_access p JOIN appeals a"
                             " ON a.id = p.appeal_id WHERE a.number = %s", (number,))[0][0]  # fmt: skip

    app = create_app(Settings(database_url=demo_url, demo_mode=True))
    with TestClient(app, base_url="https://testserver") as c:  # the cookie is Secure
        r = c.post("/api/v1/auth/login", json={
            "email": login, "password": demo_accounts.password_for(SEED, login),
            "session": "cookie"})  # fmt: skip
        assert r.status_code == 200, r.text
        csrf = r.json()["csrf_token"]
        before = reads()
        for headers in ({}, {"X-CSRF-Token": csrf[:-1] + "x"}):
            r = c.get(f"/api/v1/appeals/{number}/author?purpose=handling", headers=headers)
            assert r.status_code == 403 and r.json()["code"] == "csrf_failed"
        assert reads() == before
        r = c.get(f"/api/v1/appeals/{number}/author", params={"purpose": "handling"},
                  headers={"X-CSRF-Token": csrf})  # fmt: skip
        assert r.status_code == 200 and r.json()["author"]["full_name"]
        assert reads() == before + 1
    r = client.get(f"/api/v1/appeals/{number}/author", headers=as_demo(demo_url, login))
    assert r.status_code == 200 and reads() == before + 2


def test_taking_an_appeal_into_work(client, demo_url):
    rda_id, _, login = _district_rdas(demo_url)[3]
    tree = _subtree(demo_url, rda_id)
    number = _appeal(demo_url, tree, "registered")
    closed = _appeal(demo_url, tree, "closed")
    user_id = demo_user(demo_url, login)
    h = auth(token_for(demo_url, user_id))
    r = client.post(f"/api/v1/appeals/{number}/take", headers=h)
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "in_work"
    ev = sql(demo_url, "SELECT e.actor_user_id, e.action, e.old, e.new FROM appeal_events e"
                       " JOIN appeals a ON a.id = e.appeal_id WHERE a.number = %s"
                       " AND e.action = 'take'", (number,))  # fmt: skip
    ((actor, action, old, new),) = ev
    assert (actor, action, old["status"], new) == (
        user_id, "take", "registered", {"status": "in_work", "result": "Прийнято в роботу"})  # fmt: skip
    again = client.post(f"/api/v1/appeals/{number}/take", headers=h)
    assert again.status_code == 409 and again.json()["code"] == "appeal_wrong_state"
    assert "in_work" in again.json()["detail"]
    r = client.post(f"/api/v1/appeals/{closed}/take", headers=h,
                    params={}, )  # fmt: skip
    assert r.status_code == 409
    en = client.post(f"/api/v1/appeals/{closed}/take", headers={**h, "Accept-Language": "en"})
    assert "only an appeal with status" in en.json()["detail"]


def test_planner_sees_no_appeals_and_citizen_only_their_own(client, demo_url):
    planner = as_demo(demo_url, "planner@demo.hromada")
    assert client.get("/api/v1/queue", headers=planner).status_code == 403
    citizen_id = demo_user(demo_url, "citizen@demo.hromada")
    number = sql(demo_url, "SELECT a.number FROM appeals a JOIN appeal_authors x"
                         " ON x.appeal_id = a.id WHERE x.user_id IS NULL"
                         " ORDER BY a.id DESC LIMIT 1")[0][0]  # fmt: skip
    with psycopg.connect(demo_url) as conn:
        conn.execute(
            "UPDATE appeal_authors SET user_id = %s WHERE appeal_id ="
            " (SELECT id FROM appeals WHERE number = %s)",
            (citizen_id, number),
        )
    citizen = auth(token_for(demo_url, citizen_id))
    page = client.get("/api/v1/me/appeals", headers=citizen).json()
    own = sql(demo_url, "SELECT a.number FROM appeals a JOIN appeal_authors x"
                        " ON x.appeal_id = a.id WHERE x.user_id = %s", (citizen_id,))  # fmt: skip
    assert len(own) == demo_accounts.CITIZEN_APPEALS + 1  # the demo's, and the one above
    assert sorted(i["number"] for i in page["items"]) == sorted(r[0] for r in own)
    assert number in {i["number"] for i in page["items"]}
    assert client.get(f"/api/v1/queue/{number}", headers=citizen).status_code == 403


def test_queue_filters_and_bad_input(client, demo_url):
    h = as_demo(demo_url, "operator@demo.hromada")
    page = client.get("/api/v1/queue", headers=h, params={"status": "closed", "limit": 5}).json()
    assert page["returned"] == 5 and {i["status"] for i in page["items"]} == {"closed"}
    district = sql(demo_url, "SELECT code FROM districts ORDER BY code LIMIT 1")[0][0]
    page = client.get("/api/v1/queue", headers=h, params={"district": district}).json()
    assert page["items"] and {i["district_code"] for i in page["items"]} == {district}
    r = client.get("/api/v1/queue", headers=h, params={"status": "lost"})
    assert r.status_code == 400 and r.json()["code"] == "invalid_status"
    assert "Невідомий статус" in r.json()["detail"]
    r = client.get("/api/v1/queue", headers=h, params={"after": "x"})
    assert r.status_code == 400 and r.json()["code"] == "invalid_cursor"


def test_privileged_authors_come_first_in_the_queue(client, demo_url):
    """Art. 20: appeals of legally privileged authors are considered first."""
    h = as_demo(demo_url, "rda-holosiivskyi@demo.hromada")
    scope = client.get("/api/v1/me", headers=h).json()["executor_ids"]
    oldest = [r[0] for r in sql(
        demo_url, "SELECT number FROM appeals WHERE executor_id = ANY(%s) ORDER BY id LIMIT 3",
        (scope,))]  # fmt: skip
    sql_exec = "UPDATE appeals SET privileged = true WHERE number = ANY(%s) RETURNING 1"
    assert len(sql(demo_url, sql_exec, (oldest,))) == 3
    try:
        seen, after = [], None
        while True:
            params = {"limit": 40} | ({"after": after} if after else {})
            page = client.get("/api/v1/queue", headers=h, params=params).json()
            seen += [(i["number"], i["privileged"]) for i in page["items"]]
            after = page["next"]
            if after is None:
                break
        privileged = {r[0] for r in sql(
            demo_url, "SELECT number FROM appeals WHERE executor_id = ANY(%s) AND privileged",
            (scope,))}  # fmt: skip
        k = len(privileged)
        assert set(oldest) <= privileged
        assert {n for n, _ in seen[:k]} == privileged and not any(p for _, p in seen[k:])
        total = sql(demo_url, "SELECT count(*) FROM appeals WHERE executor_id = ANY(%s)",
                    (scope,))[0][0]  # fmt: skip
        assert len(seen) == len({n for n, _ in seen}) == total
    finally:
        sql(demo_url, "UPDATE appeals SET privileged = false WHERE number = ANY(%s) RETURNING 1",
            (oldest,))  # fmt: skip


# --- administration ----------------------------------------------------------------------------


def test_admin_creates_binds_and_deactivates_staff(client, demo_url):
    admin = as_demo(demo_url, "admin@demo.hromada")
    r = client.post("/api/v1/users", headers=admin, json={
        "email": "new.executor@roles.test", "full_name": "Нова Виконавиця", "role": "executor",
        "executor_code": "demo-teploenergo",
    })  # fmt: skip
    assert r.status_code == 201, r.text
    user = r.json()
    assert user["executor_code"] == "demo-teploenergo" and len(user["password"]) >= 10
    r = client.post(
        "/api/v1/users",
        headers=admin,
        json={"email": "NEW.executor@roles.test", "full_name": "Двійник", "role": "operator"},
    )
    assert r.status_code == 409 and r.json()["code"] == "email_taken"
    r = client.post(
        "/api/v1/users",
        headers=admin,
        json={"email": "m@roles.test", "full_name": "Без організації", "role": "manager"},
    )
    assert r.status_code == 400 and r.json()["code"] == "executor_required"
    r = client.post(
        "/api/v1/users",
        headers=admin,
        json={
            "email": "d@roles.test",
            "full_name": "Депутат",
            "role": "deputy",
            "ward_number": 9999,
        },
    )
    assert r.status_code == 400 and r.json()["code"] == "unknown_ward"

    h = auth(token_for(demo_url, user["id"]))
    page = client.get("/api/v1/queue", headers=h).json()
    assert page["items"] and {i["executor_code"] for i in page["items"]} == {"demo-teploenergo"}
    assert client.get(f"/api/v1/users/{user['id']}", headers=admin).json()["is_active"]
    r = client.patch(f"/api/v1/users/{user['id']}", headers=admin, json={"is_active": False})
    assert r.status_code == 200 and r.json()["is_active"] is False
    assert client.get("/api/v1/queue", headers=h).status_code == 401
    listed = client.get("/api/v1/users", headers=admin, params={"role": "admin"}).json()
    assert "admin@demo.hromada" in [u["email"] for u in listed["items"]]
    assert {u["role"] for u in listed["items"]} == {"admin"}


def test_admin_categories_rules_and_planner_layers(client, demo_url):
    admin = as_demo(demo_url, "admin@demo.hromada")
    planner = as_demo(demo_url, "planner@demo.hromada")
    cat = sql(demo_url, "SELECT id FROM categories ORDER BY id LIMIT 1")[0][0]
    r = client.patch(f"/api/v1/categories/{cat}", headers=admin, json={"deadline_days": 46})
    assert r.status_code == 400 and r.json()["code"] == "invalid_deadline_days"
    r = client.patch(f"/api/v1/categories/{cat}", headers=admin, json={"deadline_days": 30})
    assert r.status_code == 200 and r.json()["deadline_days"] == 30

    r = client.post("/api/v1/routing-rules", headers=admin, json={
        "executor_code": "demo-vodokanal", "category_id": cat, "ward_number": 3,
        "district_code": "x"})  # fmt: skip
    assert r.status_code == 400 and r.json()["code"] == "rule_one_area"
    r = client.post(
        "/api/v1/routing-rules",
        headers=admin,
        json={
            "executor_code": "demo-vodokanal",
            "category_id": cat,
            "ward_number": 3,
            "district_code": " ",  # blank: no district (was a 500 beside a ward)
            "priority": 7,
        },
    )
    assert r.status_code == 201, r.text
    rule = r.json()
    assert rule["executor_code"] == "demo-vodokanal" and rule["district_code"] is None
    assert client.delete(f"/api/v1/routing-rules/{rule['id']}", headers=admin).status_code == 204
    assert client.delete(f"/api/v1/routing-rules/{rule['id']}", headers=admin).status_code == 404

    with psycopg.connect(demo_url) as conn:
        conn.execute(
            "INSERT INTO layers (name, title, geometry_type, kind) VALUES"
            " ('parks', 'Парки', 'Polygon', 'thematic') ON CONFLICT DO NOTHING"
        )
    r = client.patch(
        "/api/v1/layers/parks",
        headers=planner,
        json={"owner_department": "Київзеленбуд", "update_regime": "quarterly"},
    )
    assert r.status_code == 200 and r.json()["update_regime"] == "quarterly"
    r = client.patch("/api/v1/layers/parks", headers=planner, json={"update_regime": "hourly"})
    assert r.status_code == 400 and r.json()["code"] == "invalid_update_regime"
    r = client.patch("/api/v1/layers/districts", headers=planner, json={"title": "X"})
    assert r.status_code == 409 and r.json()["code"] == "layer_is_core"
    executor = as_demo(demo_url, "teploenergo@demo.hromada")
    assert client.patch("/api/v1/layers/parks", headers=executor, json={}).status_code == 403


# --- demo accounts ----------------------------------------------------------------------------


def test_demo_accounts_one_per_role_with_deterministic_passwords(demo_url):
    listed = demo_accounts.listing(demo_url, SEED)
    roles = {a.role for a in listed}
    assert roles == set(ROLES)
    by_role = {r: [a for a in listed if a.role == r] for r in roles}
    wards = sql(demo_url, "SELECT count(*) FROM wards WHERE valid_to IS NULL")[0][0]
    assert len(by_role["deputy"]) == wards >= 100
    logins = {a.login for a in listed}
    assert "rda-holosiivskyi@demo.hromada" in logins and "teploenergo@demo.hromada" in logins
    assert len(logins) == len(listed)
    assert {a.scope for a in by_role["operator"]} == {"contact centre"}
    assert by_role["deputy"][16].scope == "ward 17"
    assert all(a.password == demo_accounts.password_for(SEED, a.login) for a in listed)
    assert sql(demo_url, "SELECT bool_and(is_demo) FROM users WHERE email LIKE '%%@demo.hromada'")
    with pytest.raises(ValueError):
        demo_accounts.listing(demo_url, SEED + 1)
    # The stored hash is argon2 and the project's verifier accepts the derived password.
    a = by_role["executor"][0]
    stored = sql(demo_url, "SELECT password_hash FROM users WHERE email = %s", (a.login,))[0][0]
    assert stored.startswith("$argon2id$") and accounts.verify_password(stored, a.password)
    assert demo_accounts.create(demo_url, SEED, demo_mode=False) == []


def test_demo_accounts_sign_in_through_the_api(client, demo_url):
    paths = {r.path for r in iter_api_routes(client.app)}
    if "/api/v1/auth/login" not in paths:
        pytest.skip("the sign-in route is not wired yet")
    a = next(x for x in demo_accounts.listing(demo_url, SEED) if x.login.startswith("rda-"))
    r = client.post("/api/v1/auth/login", json={"email": a.login, "password": a.password,
                                                 "session": "token"})  # fmt: skip
    assert r.status_code == 200, r.text
    token = r.json().get("token") or r.json().get("access_token")
    page = client.get("/api/v1/queue", headers=auth(token))
    assert page.status_code == 200 and page.json()["items"]


def test_hromada_demo_accounts_prints_json_lines(demo_url, monkeypatch, capsys):
    import json

    from cli.main import main
    from gis.settings import get_settings

    monkeypatch.setenv("DATABASE_URL", demo_url)
    get_settings.cache_clear()
    try:
        assert main(["demo", "accounts", "--seed", str(SEED)]) == 0
        lines = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
        assert main(["demo", "accounts", "--seed", str(SEED + 1)]) == 1
    finally:
        get_settings.cache_clear()
    assert {tuple(sorted(x)) for x in lines} == {("login", "password", "role", "scope")}
    assert {x["role"] for x in lines} == set(ROLES)
    rda = next(x for x in lines if x["login"] == "rda-holosiivskyi@demo.hromada")
    assert rda["scope"] == "Голосіївська районна в місті Києві державна адміністрація"
    assert {"role": "deputy", "login": "deputy-17@demo.hromada",
            "password": demo_accounts.password_for(SEED, "deputy-17@demo.hromada"),
            "scope": "ward 17"} in lines  # fmt: skip


def test_each_demo_role_signs_in_and_sees_only_its_scope(demo_url):
    """Done when: each demo role signs in through the API with its printed password, sees its
    own scope, and is refused outside it."""
    settings = Settings(database_url=demo_url, demo_mode=True, rate_limits_enabled=False)
    listed = demo_accounts.listing(demo_url, SEED)
    firsts = {}
    for a in listed:
        firsts.setdefault(a.role, a)
    total = sql(demo_url, "SELECT count(*) FROM appeals")[0][0]
    with TestClient(create_app(settings)) as c:
        for role, a in sorted(firsts.items()):
            r = c.post("/api/v1/auth/login", json={"email": a.login, "password": a.password})
            assert r.status_code == 200, (role, r.text)
            h = auth(r.json()["access_token"])
            me = c.get("/api/v1/me", headers=h).json()
            assert me["role"] == role and me["email"] == a.login
            queue = c.get("/api/v1/queue", headers=h, params={"limit": 200})
            if role not in STAFF_QUEUE:
                assert queue.status_code == 403, role
                continue
            items = queue.json()["items"]
            assert items, role
            if role in ("executor", "manager"):
                codes = {r[0] for r in sql(demo_url, "SELECT code FROM executors WHERE id ="
                                           " ANY(%s)", (me["executor_ids"],))}  # fmt: skip
                assert {i["executor_code"] for i in items} <= codes
                assert me["executor"]["name"] == a.scope
            elif role == "deputy":
                assert {i["ward_number"] for i in items} == {me["ward_number"]}
                assert a.scope == f"ward {me['ward_number']}"
            else:  # the contact centre and the administrator see the whole city
                assert len(items) == min(200, total)
        r = c.post("/api/v1/auth/login", json={"email": firsts["citizen"].login,
                                               "password": firsts["citizen"].password})  # fmt: skip
        mine = c.get("/api/v1/me/appeals", headers=auth(r.json()["access_token"])).json()
        assert len(mine["items"]) >= demo_accounts.CITIZEN_APPEALS
