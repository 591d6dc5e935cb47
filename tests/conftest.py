"""Fixtures: every test that touches data runs on a real PostgreSQL + PostGIS.

One throwaway cluster per test session (initdb in a temporary directory, a free port, fsync
off), or the server named by TEST_DATABASE_URL. A database migrated to head serves as the
template; `db_url` hands each test its own copy, made in a few hundred milliseconds.
"""

from __future__ import annotations

import datetime as dt
import itertools
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest

from gis.embedded import EmbeddedCluster, free_port
from gis.migrate import upgrade
from gis.settings import get_settings

# The browser tests' fixtures (pytest-playwright with Debian's chromium, a live demo city,
# signed_in(role)): tests/browser.py.
pytest_plugins = ("browser",)

# No test reaches the internet: the portal's online background (OpenStreetMap's tiles by
# default) is off unless a test serves its own (tests/test_portal_basemap.py).
os.environ["HROMADA_BASEMAP_URL"] = "off"

TEMPLATE = "hromada_template"
_counter = itertools.count()


def _with_db(url: str, name: str) -> str:
    base, _, _ = url.rpartition("/")
    return f"{base}/{name}"


@pytest.fixture(scope="session")
def server_url():
    """URL of a maintenance database on a server we may create databases on."""
    if os.environ.get("TEST_DATABASE_URL"):
        yield _with_db(os.environ["TEST_DATABASE_URL"], "postgres")
        return
    base = Path(tempfile.mkdtemp(prefix="hromada-test-"))
    os.chmod(base, 0o755)
    cluster = EmbeddedCluster(base_dir=base, port=free_port(), database="postgres", throwaway=True)
    cluster.start()
    yield cluster.url
    cluster.destroy()


def create_database(server_url: str, name: str, template: str | None = None) -> str:
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        tpl = f' TEMPLATE "{template}"' if template else ""
        conn.execute(f'CREATE DATABASE "{name}"{tpl}')
    return _with_db(server_url, name)


def drop_database(server_url: str, name: str) -> None:
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def demo_city(
    server_url: str, template_url: str, shared_data: Path, prefix: str, *,
    seed: int, appeals: int, now: dt.datetime | None, years: int | None = None,
) -> Iterator[str]:  # fmt: skip
    """A database of its own holding the demo city (`importers.demo.generate` with this seed,
    size, `now` and span in years; None: a year ending today), dropped afterwards."""
    from importers.demo import generate

    name = f"t_{prefix}_{os.getpid()}_{next(_counter)}"
    url = create_database(server_url, name, template=template_url.rpartition("/")[2])
    try:
        generate(url, seed=seed, appeals=appeals, shared_dir=shared_data, now=now, years=years)
        yield url
    finally:
        drop_database(server_url, name)


@pytest.fixture(scope="module")
def demo_url(request, server_url, template_url, shared_data) -> Iterator[str]:
    """The module's own demo city, shared by its tests: demo_city with the module's DEMO dict
    (prefix, seed, appeals; `now`: the year's end, today by default; `accounts`: the demo's
    accounts too). A module may define its own instead."""
    demo = dict(request.module.DEMO)
    accounts, _ = demo.pop("accounts", False), demo.pop("demo_mode", None)
    with demo_city(server_url, template_url, shared_data, **{"now": None, **demo}) as url:
        if accounts:
            from importers.demo import accounts as demo_accounts

            demo_accounts.create(url, demo["seed"], demo_mode=True)
        yield url


# Issue 17: two neighbouring councils of Zaporizhzhia oblast sharing a border — Запорізька
# and Кушугумська (prefixes ЗП and КШ).
TWO_COUNCILS = ("UA23060070000082704", "UA23060110000049870")


@pytest.fixture(scope="module")
def two_councils(server_url, template_url) -> Iterator[str]:
    """A database of its own holding the region demo restricted to TWO_COUNCILS (seed 17,
    ~400 appeals each; importers.demo.region, slice D of issue 17): skipped until it exists."""
    region = pytest.importorskip("importers.demo.region")
    name = f"t_two_councils_{os.getpid()}_{next(_counter)}"
    url = create_database(server_url, name, template=template_url.rpartition("/")[2])
    try:
        region.generate_region(
            url, "zaporizka", seed=17, appeals=800, now=None, councils=TWO_COUNCILS
        )
        yield url
    finally:
        drop_database(server_url, name)


@pytest.fixture(scope="module")
def client(request, demo_url, tmp_path_factory):
    """The app on the module's demo city (demo_url) in a TestClient, without rate limits; in
    demo mode when DEMO says `demo_mode`."""
    from fastapi.testclient import TestClient

    from api import create_app
    from gis.settings import Settings

    data_dir = tmp_path_factory.mktemp(request.module.DEMO["prefix"])
    settings = Settings(
        database_url=demo_url,
        data_dir=data_dir,
        rate_limits_enabled=False,
        demo_mode=request.module.DEMO.get("demo_mode", False),
    )
    with TestClient(create_app(settings)) as c:
        yield c


@pytest.fixture(scope="session")
def template_url(server_url):
    url = create_database(server_url, TEMPLATE)
    upgrade(url)
    yield url
    drop_database(server_url, TEMPLATE)


@pytest.fixture
def empty_db_url(server_url):
    """A database with nothing in it, not even PostGIS (for migration tests)."""
    name = f"t_empty_{os.getpid()}_{next(_counter)}"
    yield create_database(server_url, name)
    drop_database(server_url, name)


@pytest.fixture
def db_url(server_url, template_url):
    """A fresh database at the head migration, all tables empty."""
    name = f"t_{os.getpid()}_{next(_counter)}"
    yield create_database(server_url, name, template=TEMPLATE)
    drop_database(server_url, name)


@pytest.fixture(scope="session")
def shared_data() -> Path:
    path = get_settings().shared_data
    assert (path / "README.md").exists(), f"the real Kyiv data is expected in {path}"
    return path


@pytest.fixture
def smtp_server():
    """A local SMTP server on a free port, keeping what it receives (gis.mail.LocalSmtpServer);
    apps under test use Settings(smtp_host="127.0.0.1", smtp_port=smtp_server.port)."""
    from gis.mail import LocalSmtpServer

    with LocalSmtpServer() as server:
        yield server


# Every screenshot a browser test (marked `browser`) saves in its tmp_path is kept with the test output, in one
# folder: $HROMADA_SCREENSHOTS, else test-output/screenshots/ in the checkout (gitignored),
# named <test module>__<picture>. The run's summary says where they are.
SCREENSHOTS = Path(
    os.environ.get("HROMADA_SCREENSHOTS")
    or Path(__file__).resolve().parent.parent / "test-output" / "screenshots"
)


@pytest.fixture(autouse=True)
def _keep_screenshots(request):
    # Taken before the test runs, so that tmp_path is still there when this fixture ends.
    browser = request.node.get_closest_marker("browser") is not None
    tmp_path = (
        request.getfixturevalue("tmp_path")
        if browser and "tmp_path" in request.fixturenames
        else None
    )
    yield
    if tmp_path is None:
        return
    pictures = sorted(tmp_path.rglob("*.png"))
    if pictures:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        for png in pictures:
            shutil.copyfile(png, SCREENSHOTS / f"{request.module.__name__}__{png.name}")


def pytest_terminal_summary(terminalreporter):
    if SCREENSHOTS.is_dir():
        count = len(list(SCREENSHOTS.glob("*.png")))
        terminalreporter.write_line(f"screenshots of the portal ({count}): {SCREENSHOTS}")
