"""`/healthz`: is the app up, and can it reach PostgreSQL + PostGIS? For load balancers,
`make run` and people; answers within a few seconds even when the database is gone."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from psycopg import OperationalError
from psycopg.errors import UndefinedFunction
from psycopg_pool import PoolTimeout

from api import schemas
from api.deps import PoolDep, SettingsDep
from api.errors import error_response
from api.policy import public
from gis.db import server_versions

router = APIRouter(tags=["health"], dependencies=[public("anyone: load balancers, people")])


@router.get("/healthz", response_model=schemas.Health, summary="Стан сервісу і бази даних")
async def healthz(request: Request, pool: PoolDep, settings: SettingsDep) -> Response:
    wait = settings.db_connect_timeout
    try:
        # The pool's own timeout bounds waiting for a connection; the outer one also bounds a
        # server that accepts the connection and then does not answer.
        async with asyncio.timeout(wait + 2):
            async with pool.connection(timeout=wait) as conn:
                server, postgis = await server_versions(conn)
    except UndefinedFunction:
        return error_response(request, 503, "postgis_missing", extra={"status": "unavailable"})
    except (PoolTimeout, OperationalError, TimeoutError):
        return error_response(request, 503, "database_unavailable", extra={"status": "unavailable"})
    return JSONResponse(
        {"status": "ok", "database": {"server_version": server, "postgis_version": postgis}}
    )
