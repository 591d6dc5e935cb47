"""Vector tiles of every layer: `/tiles/{collection}/{z}/{x}/{y}.mvt` and its TileJSON.

Public routes serving each caller the layers and properties of their role (anonymous: the
public ones): a layer the role may not see is a 404, as in the OGC API. The tiles take the
items endpoint's filters (`datetime`, and the layer's queryables such as `status`,
`category`, `district`, `executor`, and `council` — a council's slug or KATOTTH code, an
unknown one a 404 as on the public feed). An empty tile is a 200 with an empty body. A council's
own staff (issue 17) get their council's rows of a `tenant_rows` layer (executor
territories), and the role-only properties of their council's rows only: such a tile is
keyed by their councils and never kept by shared caches.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from psycopg import AsyncConnection

from api import schemas
from api.deps import ReadDep
from api.policy import PrincipalDep
from api.reads import Reads
from api.urls import absolute_url
from layers import Layer
from layers.errors import UnknownCollection
from layers.features import (
    Filters,
    check_parameters,
    fetch_extents,
    filter_parameters,
    needs_lookup,
    parse_filters,
    resolve_filters,
    tile_scope,
    viewer_councils,
)
from layers.registry import list_layers
from tiles.cache import CachedTile, TileCache, TileKey, etag_of
from tiles.mvt import fetch_tile, is_cluster_tile, parse_tile_address, tile_properties
from tiles.tilejson import tilejson

router = APIRouter(prefix="/tiles", tags=["Vector tiles"])

MVT = "application/vnd.mapbox-vector-tile"
# Layers written by the API itself, every few minutes: short client caching.
LIVE_LAYERS = frozenset({"appeals"})


async def _layer(request: Request, conn: AsyncConnection | None, layer_id: str, role, reads: Reads):
    cache: TileCache = request.app.state.tile_cache
    layers = cache.layers(role)
    if layers is None:
        if conn is None:
            async with reads.connection() as c:
                layers = await list_layers(c, role)
        else:
            layers = await list_layers(conn, role)
        cache.put_layers(role, layers)
    for layer in layers:
        if layer.id == layer_id:
            return layer
    raise UnknownCollection(layer_id)


async def _resolved(request: Request, layer: Layer, filters: Filters, reads: Reads) -> Filters:
    """The filters with their looked-up values (a council's slug) as ids, so that a tile's
    cache key names the council however it was spelt; kept a few seconds by the tile cache."""
    if not needs_lookup(layer, filters):
        return filters
    cache: TileCache = request.app.state.tile_cache
    key = (layer.id, filters.key())
    found = cache.lookup(key)
    if isinstance(found, Filters):
        return found
    async with reads.connection() as conn:
        resolved = await resolve_filters(conn, layer, filters)
    cache.put_lookup(key, resolved)
    return resolved


def _cache_control(
    request: Request, layer: Layer, role: str | None, scope: tuple[int, ...] | None = None
) -> str:
    settings = request.app.state.settings
    max_age = (
        settings.tile_cache_max_age
        if layer.id in LIVE_LAYERS or layer.datetime_column
        else settings.tile_cache_max_age_static
    )
    # A tile that shows more than the public one (a staff layer or staff properties) is
    # never kept by shared caches.
    personal = (
        layer.roles is not None
        or scope is not None
        or tile_properties(layer, role) != tile_properties(layer, None)
    )
    return f"{'private' if personal else 'public'}, max-age={max_age}"


def _not_modified(request: Request, etag: str) -> bool:
    given = request.headers.get("if-none-match")
    if not given:
        return False
    tags = {t.strip().removeprefix("W/") for t in given.split(",")}
    return etag in tags or "*" in tags


@router.get(
    "/{collection_id}/{z}/{x}/{y}.mvt",
    name="tile",
    summary="Векторна плитка шару (Mapbox Vector Tile)",
    response_class=Response,
    responses={200: {"content": {MVT: {}}}, 304: {"description": "Not modified"}},
    openapi_extra=schemas.TILE_QUERY,
)
async def tile(
    request: Request,
    collection_id: str,
    z: str,
    x: str,
    y: str,
    principal: PrincipalDep,
    reads: ReadDep,
) -> Response:
    role = principal.role
    address = parse_tile_address(z, x, y)
    layer = await _layer(request, None, collection_id, role, reads)
    given = check_parameters(request.query_params.multi_items(), filter_parameters(layer))
    filters = await _resolved(request, layer, parse_filters(layer, given), reads)
    props = () if is_cluster_tile(layer, address.z) else tile_properties(layer, role)
    councils = viewer_councils(principal)
    # The tile's properties are the role's whatever the council, unless they are role-only
    # properties of a tenant layer (nulled for another council's rows): then it is keyed too.
    scope = tile_scope(layer, councils)
    if (
        scope is None
        and layer.tenant
        and councils is not None
        and set(props) - set(layer.properties)
    ):
        scope = councils
    key = TileKey(layer.id, address.z, address.x, address.y, filters.key(), props, scope)
    cache: TileCache = request.app.state.tile_cache
    # Past the cache for a reader whose own write the cache may not show yet (a replica).
    found = cache.get(key) if cache.enabled and not reads.fresh else None
    if found is None:
        token = cache.token(layer.id)
        settings = request.app.state.settings
        async with reads.connection() as conn:
            body = await fetch_tile(
                conn, layer, address, filters, role, max_features=settings.tile_max_features,
                councils=councils,
            )  # fmt: skip
        found = CachedTile(body, etag_of(body))
        cache.put(key, found, token)
    headers = {"ETag": found.etag, "Cache-Control": _cache_control(request, layer, role, scope)}
    if _not_modified(request, found.etag):
        return Response(status_code=304, headers=headers)
    return Response(found.body, media_type=MVT, headers=headers)


@router.get(
    "/{collection_id}/tilejson.json",
    response_model=schemas.TileJSON,
    openapi_extra=schemas.TILE_QUERY,
    name="tilejson",
    summary="Опис плиток шару (TileJSON 3.0)",
)
async def tilejson_document(
    request: Request, collection_id: str, principal: PrincipalDep, reads: ReadDep
) -> JSONResponse:
    role = principal.role
    async with reads.connection() as conn:
        layer = await _layer(request, conn, collection_id, role, reads)
        given = check_parameters(request.query_params.multi_items(), filter_parameters(layer))
        # refuse what the tiles would refuse (an unknown council too)
        await resolve_filters(conn, layer, parse_filters(layer, given))
        # The OGC API's extent cache: the appeals' extent is a scan of every appeal.
        cache = request.app.state.ogc_extents
        generation = request.app.state.layer_changes.generation(layer.id)
        extent = cache.get(layer.id, generation)
        if extent is None:
            extent = (await fetch_extents(conn, [layer])).get(layer.id, (None, None))
            cache.put(layer.id, generation, extent)
    base = absolute_url(request, "tilejson", collection_id=layer.id).removesuffix("tilejson.json")
    url = base + "{z}/{x}/{y}.mvt"
    if request.url.query:
        url += "?" + request.url.query
    spatial, _temporal = extent
    return JSONResponse(tilejson(layer, url, role, spatial))
