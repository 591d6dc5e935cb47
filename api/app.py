"""The web application: `create_app(settings)` wires the pool, the routers, the error mapping
and the portal's static files. Nothing is built at import time."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from psycopg_pool import AsyncConnectionPool

from api import errors, schemas
from api.compression import CompressPortal
from api.guard import CatchAll, RequestGuard
from api.headers import SecurityHeaders
from api.limits import RequestSizeLimit
from api.ratelimit import RateLimiter
from api.reads import ReadYourWrites, open_reads
from api.routers import (
    admin,
    appeals,
    auth,
    author,
    councils,
    curator,
    dispatch,
    geocode,
    health,
    layer_catalogue,
    lifecycle,
    manager,
    me,
    ogc,
    ogc_edit,
    open311,
    open311_keys,
    open311_post,
    opendata,
    operator,
    permit_documents,
    placement_rules,
    planner_permits,
    portal,
    public_feed,
    reports,
    routing,
    staff,
    structure_appeals,
    structure_import,
    tiles,
    wards,
)
from gis.db import ServicePool, libpq_url
from gis.redact import install_log_redaction
from gis.settings import Settings
from layers.changes import LayerChanges
from layers.features import CountCache, ExtentCache
from tiles.cache import TileCache
from webmap import STATIC_DIR, VENDOR_DIR

log = logging.getLogger("hromada.api")


# How long a request waits for a free connection before answering 503; and the longest a single
# statement may run, so that one runaway query cannot hold a connection for ever.
POOL_TIMEOUT = 10.0
STATEMENT_TIMEOUT_MS = 30_000


def make_pool(settings: Settings) -> AsyncConnectionPool:
    """The app's pool of autocommit connections (every API read is one statement or a few
    independent ones, so no transaction is ever left open)."""
    if not settings.database_url:
        raise ValueError("settings.database_url must be set before the app is created")
    return ServicePool(
        libpq_url(settings.database_url),
        open=False,
        name="hromada-api",
        min_size=settings.pool_min_size,
        max_size=settings.pool_max_size,
        timeout=POOL_TIMEOUT,
        check=AsyncConnectionPool.check_connection,  # survive a database restart
        kwargs={
            "autocommit": True,
            # libpq counts whole seconds, and at least 2.
            "connect_timeout": max(2, math.ceil(settings.db_connect_timeout)),
            "application_name": "hromada-api",
            "options": f"-c statement_timeout={STATEMENT_TIMEOUT_MS}",
        },
    )


def create_app(settings: Settings) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        install_log_redaction()  # uvicorn's handlers exist only now
        pool = make_pool(settings)
        assert settings.database_url  # make_pool refused to start without it
        # Without waiting: the app starts (and /healthz says 503) while the database is down.
        await pool.open(wait=False)
        app.state.pool = pool
        # Reads that may lag: from the read replica when there is one (api/reads.py).
        reads = open_reads(app, settings, pool, f"-c statement_timeout={STATEMENT_TIMEOUT_MS}")
        await reads.__aenter__()
        listener = asyncio.create_task(
            app.state.layer_changes.listen(libpq_url(settings.database_url)),
            name="layer-change-listener",
        )
        try:
            yield
        finally:
            listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await listener
            await reads.__aexit__(None, None, None)
            await pool.close(timeout=5)

    app = FastAPI(
        title="Hromada GIS",
        summary="Звернення громадян на мапі: портал, OGC API – Features.",
        version="0.1.0",
        lifespan=lifespan,
        responses=schemas.ERROR_RESPONSES,  # every 4xx and 5xx: {code, detail}
        docs_url=None,  # /docs below, from the app's own files (a deployment may be offline)
        redoc_url=None,
    )

    @app.get("/docs", include_in_schema=False)
    async def docs() -> HTMLResponse:
        vendor = "/static/vendor/swagger-ui"
        return get_swagger_ui_html(
            openapi_url="/openapi.json",
            title="Hromada GIS — API",
            swagger_js_url=f"{vendor}/swagger-ui-bundle.js",
            swagger_css_url=f"{vendor}/swagger-ui.css",
            swagger_favicon_url=f"{vendor}/favicon-32x32.png",
        )

    app.state.settings = settings
    app.state.limiter = RateLimiter(settings)
    app.state.layer_changes = LayerChanges()  # heard from the database; caches subscribe
    app.state.tile_cache = TileCache(settings.tile_cache_size, settings.tile_cache_max_mb << 20)
    app.state.layer_changes.subscribe(app.state.tile_cache.changed)
    app.state.ogc_counts, app.state.ogc_extents = CountCache(), ExtentCache()
    # Innermost first: values are checked once the size is known to be within bounds, and
    # CatchAll, outermost of ours, answers whatever failure the others let through.
    app.add_middleware(RequestGuard)
    app.add_middleware(RequestSizeLimit, settings=settings)
    app.add_middleware(CompressPortal)
    app.add_middleware(CatchAll)
    app.add_middleware(ReadYourWrites)  # a write's answer carries the primary's position
    # Outermost: every answer carries the security headers, error answers too.
    app.add_middleware(SecurityHeaders, settings=settings)
    install_log_redaction()
    errors.install(app)
    app.include_router(health.router)
    app.include_router(ogc.router)
    app.include_router(ogc_edit.router)  # Part 4: editing structures and kiosks (issue 16)
    app.include_router(portal.router)
    app.include_router(councils.router)  # issue 17: the councils, public
    app.include_router(staff.router)
    app.include_router(curator.router)
    app.include_router(manager.router)
    app.include_router(lifecycle.router)  # before appeals: /appeals/nearby is no number
    app.include_router(author.router)  # an author's links: /appeals/{number}/author-…
    app.include_router(admin.router)
    app.include_router(dispatch.router)  # /admin/dispatch: the daily dispatch
    app.include_router(open311_keys.router)  # /admin/open311/keys: Open311 applications
    app.include_router(placement_rules.router)  # /admin/placement-rules (issue 16)
    app.include_router(permit_documents.router)  # a permit's files (issue 16)
    app.include_router(planner_permits.router)  # permits expiring and expired (issue 16)
    app.include_router(structure_appeals.router)  # appeals about structures (issue 16)
    app.include_router(structure_import.router)  # register import, preview/apply (issue 16)
    app.include_router(open311_post.router)  # POST /open311/v2/requests, tokens/{token}
    app.include_router(auth.router)
    app.include_router(me.router)
    app.include_router(opendata.router)
    app.include_router(opendata.page_router)  # the page /opendata
    app.include_router(public_feed.router)  # before appeals: /appeals/public is no number
    app.include_router(operator.router)  # before appeals: /categories/search
    app.include_router(appeals.router)
    app.include_router(routing.router)
    app.include_router(geocode.router)
    app.include_router(layer_catalogue.router)
    app.include_router(tiles.router)
    app.include_router(wards.router)
    app.include_router(reports.router)
    app.include_router(open311.router)  # /open311/v2/…: GeoReport v2, the read side
    if not (VENDOR_DIR / "leaflet" / "leaflet.js").exists():
        log.warning("Leaflet is not installed in %s: run `make assets`", VENDOR_DIR)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    return app
