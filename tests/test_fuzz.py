"""A property-based fuzz of the whole API (schemathesis): every operation of /openapi.json and
of the OGC API's own description (/ogc/api), anonymously and signed in as an administrator, an
operator and an executor, must never answer 5xx, and must answer what its schema says (the
response models of api/schemas.py, the JSON error body of every 4xx).

Each operation gets, in turn: schemathesis' coverage cases (boundaries, wrong types, missing
and extra values), hypothesis' examples with valid and with invalid inputs, and the hostile
values of HOSTILE in each parameter and body field, one at a time, the rest of the request
valid. It runs in-process against create_app() on a small demo city with its demo accounts, a
real local SMTP server and rate limits off. Bounded: 15 examples per operation and mode, the
generation derandomised (the same inputs every run, on a database made afresh), and a time
budget per operation that only a hanging route reaches (the slowest takes a few seconds): an
operation that runs past it fails the test, named, and the fuzz goes on with the next one,
so that a growing API never cuts the last operations off. The cases of an operation are
made once and sent as each of the four callers (`_cases`). About five minutes in all on two
cores.

Environment: HROMADA_FUZZ_EXAMPLES (examples per operation and mode, default 15),
HROMADA_FUZZ_BUDGET (seconds per operation and caller, default 60).
"""

from __future__ import annotations

import copy
import datetime as dt
import itertools
import os
import time

import hypothesis
import hypothesis.errors
import psycopg
import pytest
import schemathesis
from conftest import demo_city
from hypothesis import HealthCheck, Phase
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from api import create_app
from gis import accounts
from gis.mail import LocalSmtpServer
from gis.settings import Settings
from importers.demo import accounts as demo_accounts

NOW = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
SEED = 11
EXAMPLES = int(os.environ.get("HROMADA_FUZZ_EXAMPLES", "15"))
BUDGET = float(os.environ.get("HROMADA_FUZZ_BUDGET", "60"))
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
# Requests that would end the session the fuzz signs in with, or erase the account: sent
# anonymously (401), never with the staff token.
SIGNS_OUT = {"POST /api/v1/auth/logout", "POST /api/v1/auth/logout-all", "DELETE /api/v1/me"}
# The administrator reaches every administration route, an operator the contact centre's, an
# executor (of the appeal whose number the hostile values use) the lifecycle's.
STAFF = ("admin", "operator", "executor")


@pytest.fixture(scope="module")
def app(server_url, template_url, shared_data, tmp_path_factory):
    with (
        demo_city(
            server_url, template_url, shared_data, "fuzz", seed=SEED, appeals=300, now=NOW
        ) as url,
        LocalSmtpServer() as smtp,
    ):
        demo_accounts.create(url, SEED, demo_mode=True)
        settings = Settings(
            database_url=url,
            demo_mode=True,
            rate_limits_enabled=False,
            smtp_host="127.0.0.1",
            smtp_port=smtp.port,
            data_dir=tmp_path_factory.mktemp("fuzz-data"),
        )
        application = create_app(settings)
        application.state.test_url = url
        application.state.fuzz_cases = {}  # _cases: (operation, mode) → the cases sent
        # Path parameters that exist, so that a hostile value elsewhere gets past the lookup.
        with psycopg.connect(url) as conn:
            number, feature, executor = conn.execute(
                "WITH RECURSIVE t(root, id) AS (SELECT executor_id, executor_id FROM users"
                " WHERE role = 'executor' AND is_demo UNION"
                " SELECT t.root, e.id FROM executors e JOIN t ON e.parent_id = t.id)"
                " SELECT a.number, a.id::text, min(u.email) FROM appeals a"
                " JOIN t ON t.id = a.executor_id JOIN users u ON u.executor_id = t.root"
                " AND u.role = 'executor' GROUP BY a.id, a.number, a.status"
                " ORDER BY a.status <> 'registered', a.id LIMIT 1"
            ).fetchone()
            category = conn.execute(
                "SELECT min(id) FROM categories WHERE parent_id IS NOT NULL AND is_active"
            ).fetchone()[0]
        application.state.fuzz_logins = {
            "admin": "admin@demo.hromada",
            "operator": "operator@demo.hromada",
            "executor": executor,
        }
        application.state.fuzz_values = {
            "number": number,
            "collection_id": "appeals",
            "collectionId": "appeals",
            "feature_id": feature,
            "featureId": feature,
            "z": "0",
            "x": "0",
            "y": "0",
            "category": category,
            "executor_code": "demo-vodokanal",
        }
        yield application
        from schemathesis.python import asgi

        asgi.shutdown_lifespans()  # close the app's pool before the database is dropped


def _token(url: str, login: str) -> str:
    import asyncio

    from gis.db import libpq_url

    async def make():
        async with await psycopg.AsyncConnection.connect(libpq_url(url), autocommit=True) as c:
            cur = await c.execute("SELECT id FROM users WHERE email = %s", (login,))
            (user_id,) = await cur.fetchone()
            session = await accounts.create_session(
                c, user_id=user_id, kind="bearer", ip=None, user_agent="fuzz",
                ttl=dt.timedelta(hours=2),
            )  # fmt: skip
            return session.token

    return asyncio.run(make())


def _schemas(app) -> list:
    main = schemathesis.openapi.from_asgi("/openapi.json", app)
    ogc = schemathesis.openapi.from_asgi("/ogc/api", app)
    return [main, ogc]


def _operations(schemas) -> list:
    out = []
    for schema in schemas:
        for result in schema.get_all_operations():
            out.append(result.ok())
    return out


def _check(case, label: str, headers: dict[str, str], found: list[str]) -> None:
    """Sends one case and checks the answer; a failure not seen yet is added to `found`, with
    the request as curl (made only then: for every request it was a tenth of the time)."""
    try:
        response = case.call(headers=headers)
    except Exception as exc:  # the app let an exception out: a 500 without a body
        text = f"{label} raised {type(exc).__name__}"
        if not any(f.startswith(text) for f in found):
            found.append(f"{text}: {exc}\n    request: {case.as_curl_command(headers=headers)}")
        return
    try:
        case.validate_response(response, checks=CHECKS, headers=headers)
    except FailureGroup as group:
        for failure in group.exceptions:
            text = f"{label} {failure.title}: {failure.message}"
            if not any(f.startswith(text) for f in found):
                found.append(
                    f"{text}\n    request: {case.as_curl_command(headers=headers)}"
                    f"\n    answer: {response.status_code} {response.text[:300]!r}"
                )


def _fuzz(operation, mode: GenerationMode, headers: dict[str, str]) -> list[str]:
    """One operation in one mode: schemathesis' coverage cases (boundaries, wrong types,
    missing and extra values), then hypothesis' examples; every distinct failure, as text."""
    found: list[str] = []
    label = f"{operation.label} [{mode.value}]"
    for case in _cases(operation, mode):
        _check(case, label, headers, found)
    return found


def _cases(operation, mode: GenerationMode) -> list:
    """The cases `_fuzz` sends: made once per app and operation and mode, then sent again as
    each caller that runs on this app. Derandomised, the generation does not depend on the
    answers, so every caller got these very cases when each made its own; but making them
    took half the fuzz's time — hypothesis draws and throws away up to hundreds of inputs
    where an operation leaves little to make invalid (a path of plain strings, in the
    negative mode)."""
    made = operation.app.state.fuzz_cases
    key = (operation.label, mode)
    if key in made:
        return made[key]
    schema = operation.schema
    cases = list(
        schema.iter_coverage_cases(
            operation,
            generation_modes=[mode],
            generation_config=schema.config.generation_for(operation=operation),
        )
    )

    @hypothesis.settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
        report_multiple_bugs=False,
    )
    @hypothesis.given(case=operation.as_strategy(generation_mode=mode))
    def generate(case):
        cases.append(case)

    try:
        generate()
    except hypothesis.errors.Unsatisfiable:
        # Nothing to make invalid (an operation without parameters, in the negative mode).
        assert mode is GenerationMode.NEGATIVE, operation.label
    made[key] = cases
    return cases


# Values the issue found reaching PostgreSQL or the pages (NUL, a lone surrogate, control and
# bidirectional characters, integers beyond PostgreSQL's integer, numbers beyond a float),
# sent in every parameter and top-level or nested body field of every operation, one at a time.
HOSTILE = (
    "\x00", "a\x00b", "\x07\x1b[2J", "\u202eevil", "\ufeff", "2147483648", "-2147483649",
    "9" * 40, "1e309", "NaN", " ", "",
)  # fmt: skip
KEYS = itertools.count()
JSON_ONLY = ("\ud800", "x\udfff")  # a URL cannot carry them; JSON's \\u escapes can


def _resolve(schema, definition: dict) -> dict:
    while "$ref" in definition:
        name = definition["$ref"].rpartition("/")[2]
        definition = schema.raw_schema["components"]["schemas"][name]
    return definition


def _fields(schema, definition: dict) -> list[tuple[str, ...]]:
    """Paths of the body's fields: top-level ones and those of objects one level down."""
    definition = _resolve(schema, definition)
    out: list[tuple[str, ...]] = []
    for name, sub in (definition.get("properties") or {}).items():
        out.append((name,))
        for variant in [_resolve(schema, sub), *sub.get("anyOf", [])]:
            for inner in _resolve(schema, variant).get("properties") or {}:
                out.append((name, inner))
    return list(dict.fromkeys(out))


def _bases(app) -> tuple[dict[str, dict], dict[str, dict]]:
    """Valid bodies and queries to put one hostile value in at a time, so that it gets past
    the checks of the other fields (a body missing its required fields is refused first)."""
    k = app.state.fuzz_values
    point = {"lon": "30.5234", "lat": "50.4501"}
    author = {"full_name": "Олена Петренко", "email": "olena@example.com",
              "postal_address": "вулиця Хрещатик, 1, Київ"}  # fmt: skip
    bodies = {
        "POST /api/v1/appeals": {"category": k["category"], "text": "Не світить ліхтар.",
                                 "location": {"lon": 30.5234, "lat": 50.4501}, "author": author},
        "POST /api/v1/appeals/{number}/answer": {"text": "Замінено лампу.", "kind": "done"},
        "POST /api/v1/appeals/{number}/return": {"reason": "Не наша компетенція."},
        "POST /api/v1/appeals/{number}/redirect": {"executor": k["executor_code"], "reason": "За належністю."},
        "POST /api/v1/appeals/{number}/delegate": {"executor": k["executor_code"], "comment": "Доручено."},
        "POST /api/v1/appeals/{number}/resolutions": {"co_executors": [{"executor": k["executor_code"]}], "comment": "Співвиконавці."},
        "POST /api/v1/appeals/{number}/extend": {"days": 1, "reason": "Потрібне вивчення."},
        "POST /api/v1/appeals/{number}/check": {"decision": "return", "comment": "Неповна відповідь."},
        "POST /api/v1/auth/register": {"email": "fuzz@example.com", "password": "Довгий пароль 123", "full_name": "Фаз Тест"},
        "POST /api/v1/auth/login": {"email": "fuzz@example.com", "password": "Довгий пароль 123"},
        "POST /api/v1/auth/password-reset/confirm": {"token": "x" * 20, "password": "Довгий пароль 123"},
        "POST /api/v1/users": {"email": "staff@example.com", "full_name": "Оператор", "role": "operator"},
        "POST /api/v1/routing-rules": {"executor_code": k["executor_code"]},
    }  # fmt: skip
    queries = {
        "GET /api/v1/appeals/nearby": {**point, "category": str(k["category"])},
        "GET /api/v1/route": {**point, "category": str(k["category"])},
        "GET /api/v1/areas": point,
        "GET /api/v1/geocode/reverse": point,
        "GET /api/v1/categories/search": {"q": "яма"},
        "GET /api/v1/callers": {"phone": "+380671234567"},
    }
    return bodies, queries


def _put(document: dict, field: tuple[str, ...], value: object) -> dict:
    out = copy.deepcopy(document)
    inner = out
    for name in field[:-1]:
        if not isinstance(inner.get(name), dict):
            inner[name] = {}
        inner = inner[name]
    inner[field[-1]] = value
    return out


def _hostile(operation, headers: dict[str, str]) -> list[str]:
    found: list[str] = []
    known = operation.app.state.fuzz_values
    bodies, queries = _bases(operation.app)
    base_body = bodies.get(operation.label, {})
    base_query = queries.get(operation.label, {})
    path = {p.name: known.get(p.name, "1") for p in operation.path_parameters}
    # With a key the request is also hashed (a lone surrogate once failed there).
    keyed = any(p.name.lower() == "idempotency-key" for p in operation.headers)
    for param in operation.path_parameters:
        for value in HOSTILE:
            if value.strip():  # an empty segment is another route
                case = operation.Case(path_parameters={**path, param.name: value})
                _check(case, f"{operation.label} [{param.name}]", headers, found)
    for param in operation.query:
        for value in HOSTILE:
            query = {**base_query, param.name: value}
            case = operation.Case(path_parameters=path, query=query)
            _check(case, f"{operation.label} [{param.name}=]", headers, found)
    bodies = [b for b in operation.body if b.media_type == "application/json"]
    for body in bodies[:1]:
        for field in _fields(operation.schema, body.definition.get("schema", {})):
            for value in (*HOSTILE, *JSON_ONLY):
                case = operation.Case(
                    path_parameters=path,
                    headers={"Idempotency-Key": f"fuzz-{next(KEYS)}"} if keyed else None,
                    body=_put(base_body, field, value),
                    media_type="application/json",
                )
                _check(case, f"{operation.label} [{'.'.join(field)}:]", headers, found)
    return found


def _fuzz_all(app, login: str | None, skip: set[str]) -> None:
    operations = [op for op in _operations(_schemas(app)) if op.label not in skip]
    assert len(operations) > 50, [op.label for op in operations]
    failures: list[str] = []
    not_reached: list[str] = []
    headers: dict[str, str] = {}
    for operation in operations:
        if login is not None and not _signed_in(app, headers):
            # First, or the fuzz changed the account's role (which ends its sessions).
            headers = {"Authorization": f"Bearer {_token(app.state.test_url, login)}"}
        deadline = time.monotonic() + BUDGET
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            if time.monotonic() > deadline:
                not_reached.append(f"{operation.label} [{mode.value}]")
                continue
            failures += _fuzz(operation, mode, headers)
        if time.monotonic() <= deadline:
            failures += _hostile(operation, headers)
        else:
            not_reached.append(f"{operation.label} [hostile]")
    message = "\n".join(failures)
    if not_reached:
        message += (
            f"\nran past the time budget ({BUDGET:.0f} s an operation): {', '.join(not_reached)}"
        )
    assert not failures and not not_reached, message


def _signed_in(app, headers: dict[str, str]) -> bool:
    if not headers:
        return False
    from schemathesis.python import asgi

    with asgi.get_client(app) as client:
        return client.get("/api/v1/me", headers=headers).status_code == 200


def test_fuzz_anonymous(app):
    _fuzz_all(app, None, skip=set())


@pytest.mark.parametrize("role", STAFF)
def test_fuzz_signed_in_staff(app, role):
    _fuzz_all(app, app.state.fuzz_logins[role], skip=SIGNS_OUT)


def _sql(url: str, query: str):
    with psycopg.connect(url) as conn:
        return conn.execute(query).fetchone()[0]


def test_real_answers_match_their_schemas(app):
    """The fuzz mostly reaches refusals; here every JSON route answers with real data (a real
    appeal, ward, layer, feature, user), as the role that may read it, and each answer must
    match its declared schema."""
    url = app.state.test_url
    # The fuzz before may have changed the demo accounts as an administrator may (a role, a
    # binding, deactivated): each reads here as the demo made it.
    demo_accounts.create(url, SEED, demo_mode=True)
    number = _sql(url, "SELECT number FROM appeals WHERE is_public ORDER BY id LIMIT 1")
    feature = _sql(url, "SELECT id FROM appeals ORDER BY id LIMIT 1")
    category = _sql(url, "SELECT code FROM categories WHERE parent_id IS NOT NULL LIMIT 1")
    user_id = _sql(url, "SELECT id FROM users ORDER BY id LIMIT 1")
    point = {"lon": "30.5234", "lat": "50.4501"}
    admin, citizen = "admin@demo.hromada", "citizen@demo.hromada"
    executor = _sql(url, "SELECT email FROM users WHERE role = 'executor' ORDER BY id LIMIT 1")
    deputy = "deputy-1@demo.hromada"
    calls = [  # (caller, path, path parameters, query); None: anonymous
        (None, "/healthz", {}, {}),
        (None, "/api/v1/categories", {}, {}),
        (None, "/api/v1/appeals/{number}", {"number": number}, {}),
        (None, "/api/v1/appeals/{number}/history", {"number": number}, {}),
        (None, "/api/v1/appeals/nearby", {}, {**point, "category": category}),
        (None, "/api/v1/appeals/public", {}, {"limit": "5"}),
        (None, "/api/v1/appeals/public/statistics", {}, {}),
        (None, "/api/v1/areas", {}, point),
        (None, "/api/v1/route", {}, {**point, "category": category}),
        (None, "/api/v1/geocode/reverse", {}, point),
        (None, "/api/v1/geocode/search", {}, {"q": "Хрещатик"}),
        (None, "/api/v1/geocode/search", {}, {"q": "Хрещатик, 22"}),  # interpolated
        (None, "/api/v1/categories/search", {}, {"q": "яма"}),
        (admin, "/api/v1/callers", {}, {"email": citizen}),
        (None, "/api/v1/layers", {}, {}),
        (admin, "/api/v1/layers", {}, {}),
        (None, "/tiles/{collection_id}/tilejson.json", {"collection_id": "appeals"}, {}),
        (None, "/ogc", {}, {}),
        (None, "/ogc/conformance", {}, {}),
        (None, "/ogc/collections", {}, {}),
        (None, "/ogc/collections/{collection_id}", {"collection_id": "appeals"}, {}),
        (None, "/ogc/collections/{collection_id}/queryables", {"collection_id": "appeals"}, {}),
        (None, "/ogc/collections/{collection_id}/items", {"collection_id": "appeals"}, {}),
        (
            None,
            "/ogc/collections/{collection_id}/items/{feature_id}",
            {"collection_id": "appeals", "feature_id": str(feature)},
            {},
        ),  # fmt: skip
        (admin, "/api/v1/me", {}, {}),
        (admin, "/api/v1/me/data", {}, {}),
        (admin, "/api/v1/queue", {}, {"limit": "3"}),
        (admin, "/api/v1/queue/{number}", {"number": number}, {}),
        (admin, "/api/v1/users", {}, {"limit": "3"}),
        (admin, "/api/v1/users/{user_id}", {"user_id": user_id}, {}),
        (admin, "/api/v1/routing-rules", {}, {"limit": "3"}),
        (admin, "/api/v1/wards/{number}/statistics", {"number": "1"}, {}),
        (deputy, "/api/v1/wards/{number}/statistics", {"number": "1"}, {"lang": "en"}),
        (citizen, "/api/v1/me/appeals", {}, {}),
        (executor, "/api/v1/me/executors", {}, {}),
        (executor, "/api/v1/queue", {}, {"limit": "3"}),
    ]
    main = schemathesis.openapi.from_asgi("/openapi.json", app)
    tokens: dict[str, str] = {}
    checked = []
    for caller, path, path_parameters, query in calls:
        headers = {}
        if caller is not None:
            tokens.setdefault(caller, _token(url, caller))
            headers = {"Authorization": f"Bearer {tokens[caller]}"}
        case = main[path]["GET"].Case(path_parameters=path_parameters, query=query)
        response = case.call(headers=headers)
        assert response.status_code == 200, (caller, path, response.status_code, response.text)
        case.validate_response(response, checks=CHECKS, headers=headers)
        checked.append(path)
    assert len(checked) == len(calls)

    # Writes: a new appeal (201), supported by the demo citizen, taken into work by the
    # executor it was routed to, and its author read by an operator.
    subkind = _sql(url, "SELECT id FROM categories WHERE parent_id IS NOT NULL AND is_active"
                        " ORDER BY id LIMIT 1")  # fmt: skip
    body = {
        "category": subkind,
        "text": "Не працює вуличне освітлення біля зупинки.",
        "location": {"lon": 30.5234, "lat": 50.4501},
        "author": {"full_name": "Олена Петренко", "email": "olena@example.com",
                   "postal_address": "вулиця Хрещатик, 1, Київ"},
        "consent_to_publish": True,
    }  # fmt: skip
    case = main["/api/v1/appeals"]["POST"].Case(body=body, media_type="application/json")
    response = case.call()
    assert response.status_code == 201, response.text
    case.validate_response(response, checks=CHECKS)
    created = response.json()

    def post(caller: str, path: str, status: int = 200) -> None:
        tokens.setdefault(caller, _token(url, caller))
        headers = {"Authorization": f"Bearer {tokens[caller]}"}
        method = "POST" if path.endswith(("support", "take")) else "GET"
        case = main[path][method].Case(path_parameters={"number": created["number"]})
        response = case.call(headers=headers)
        assert response.status_code == status, (caller, path, response.text)
        case.validate_response(response, checks=CHECKS, headers=headers)

    post(citizen, "/api/v1/appeals/{number}/support")
    taker = _sql(url, "SELECT coalesce(min(email), '') FROM users WHERE role = 'executor'"
                      f" AND executor_id = {int(created['executor']['id'])}")  # fmt: skip
    if taker:
        post(taker, "/api/v1/appeals/{number}/take")
    post("operator@demo.hromada", "/api/v1/appeals/{number}/author")
    post("operator@demo.hromada", "/api/v1/queue/{number}")


def test_every_json_route_declares_its_answer():
    """A new route without a response model would go unchecked by the fuzz: each route of the
    schema declares one, or answers something other than JSON (tiles, photos, the ward's
    report), or nothing (204)."""
    from fastapi.responses import HTMLResponse, Response

    from api.policy import iter_api_routes

    app = create_app(Settings(database_url="postgresql://nobody@127.0.0.1:1/none"))
    not_json = (HTMLResponse, Response)
    missing, checked = [], 0
    for route in iter_api_routes(app):
        if not route.include_in_schema:
            continue
        checked += 1
        if route.status_code == 204 or route.response_class in not_json:
            continue
        if route.response_model is None:
            missing.append(f"{sorted(route.methods)} {route.path}")
    assert checked > 50 and not missing, f"routes without a response model: {missing}"
    document = app.openapi()
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            errors = operation["responses"].get("4XX", {}).get("content", {})
            # Open311's errors are the spec's errors/error, in XML unless the path ends .json.
            xml = path.startswith("/open311/") and not path.endswith(".json")
            assert ("text/xml" if xml else "application/json") in errors, (method, path)
