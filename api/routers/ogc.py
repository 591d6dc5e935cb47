"""OGC API – Features, Part 1 (Core, GeoJSON, OpenAPI 3.0) under /ogc.

What QGIS, GDAL's OAPIF driver and any other OGC client read: a landing page, the conformance
classes, the catalogue of collections (one per layer of the registry) and their features. The
routers only speak HTTP: layers.registry says what a collection is, layers.features reads it.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import replace
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from api import schemas
from api.deps import ConnDep, ReadConnDep
from api.ogc_openapi import openapi_document
from api.policy import PrincipalDep, public
from api.urls import absolute_url, self_url
from gis import structures
from layers import Layer, get_layer, list_layers
from layers.features import (
    DEFAULT_LIMIT,
    MAX_LIMIT,
    CountCache,
    ExtentCache,
    check_parameters,
    fetch_extents,
    fetch_feature,
    fetch_items,
    parse_items_query,
    resolve_filters,
    viewer_councils,
)

router = APIRouter(
    prefix="/ogc",
    tags=["OGC API – Features"],
    # Anyone; what each caller sees — which layers, which properties — follows their role
    # (Layer.roles, Layer.role_properties).
    dependencies=[public("anyone: the layers and properties of their role")],
)

JSON = "application/json"
GEOJSON = "application/geo+json"
OPENAPI_30 = "application/vnd.oai.openapi+json;version=3.0"
CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
CONFORMANCE = [
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
    # Part 4 (api/routers/ogc_edit.py): advertising_structures and kiosks, for planners
    "http://www.opengis.net/spec/ogcapi-features-4/1.0/conf/create-replace-delete",
    "http://www.opengis.net/spec/ogcapi-features-4/1.0/conf/update",
    "http://www.opengis.net/spec/ogcapi-features-4/1.0/conf/features",
]
NO_PARAMETERS: frozenset[str] = frozenset({"f"})
JSON_SCHEMA = "application/schema+json"
REL_QUERYABLES = "http://www.opengis.net/def/rel/ogc/1.0/queryables"
GEOMETRY_SCHEMAS = {
    "Point": "https://geojson.org/schema/Point.json",
    "MultiPolygon": "https://geojson.org/schema/MultiPolygon.json",
}


def _link(href: object, rel: str, type_: str, title: str | None = None) -> dict[str, str]:
    link = {"href": str(href), "rel": rel, "type": type_}
    if title:
        link["title"] = title
    return link


def _no_parameters(request: Request) -> None:
    check_parameters(request.query_params.multi_items(), NO_PARAMETERS)


def _role(principal) -> str | None:
    return principal.role


def _caches(request: Request) -> tuple[CountCache, ExtentCache]:
    return request.app.state.ogc_counts, request.app.state.ogc_extents


def _generation(request: Request, layer: Layer) -> object:
    return request.app.state.layer_changes.generation(layer.id)


async def _extents(request: Request, conn, layers: list[Layer]) -> dict:
    """Extents from the cache where it still holds them; the rest in one round trip."""
    _, cache = _caches(request)
    known, missing = {}, []
    for layer in layers:
        extent = cache.get(layer.id, _generation(request, layer))
        if extent is None:
            missing.append(layer)
        else:
            known[layer.id] = extent
    for layer_id, extent in (await fetch_extents(conn, missing)).items():
        layer = next(la for la in missing if la.id == layer_id)
        cache.put(layer_id, _generation(request, layer), extent)
        known[layer_id] = extent
    return known


def _collection(request: Request, layer: Layer, extent: tuple | None) -> dict:
    url = absolute_url(request, "ogc_collection", collection_id=layer.id)
    items = absolute_url(request, "ogc_items", collection_id=layer.id)
    queryables = absolute_url(request, "ogc_queryables", collection_id=layer.id)
    doc: dict[str, object] = {
        "id": layer.id,
        "title": layer.title,
        "description": layer.description or layer.title,
        "itemType": "feature",
        "crs": [CRS84],
        "links": [
            _link(url, "self", JSON, "Опис колекції"),
            _link(items, "items", GEOJSON, "Об’єкти (GeoJSON)"),
            _link(queryables, REL_QUERYABLES, JSON_SCHEMA, "Властивості для фільтрів"),
        ],
    }
    if layer.title_en:
        doc["title_en"] = layer.title_en
    if layer.attribution:
        doc["attribution"] = layer.attribution
    spatial, temporal = extent or (None, None)
    if spatial or temporal:
        ext: dict[str, object] = {}
        doc["extent"] = ext
        if spatial:
            ext["spatial"] = {"bbox": [spatial], "crs": CRS84}
        if temporal:
            ext["temporal"] = {
                "interval": [temporal],
                "trs": "http://www.opengis.net/def/uom/ISO-8601/0/Gregorian",
            }
    return doc


@router.get(
    "", response_model=schemas.Landing, name="ogc_landing", summary="Головна сторінка OGC API"
)
async def landing(request: Request) -> JSONResponse:
    _no_parameters(request)
    return JSONResponse(
        {
            "title": "Hromada GIS",
            "description": (
                "Шари міста за стандартом OGC API – Features: звернення громадян (без "
                "персональних даних), межі районів і громад, виборчі округи, рекламні "
                "конструкції, МАФ і тематичні шари."
            ),
            "links": [
                _link(absolute_url(request, "ogc_landing"), "self", JSON, "Ця сторінка"),
                _link(
                    absolute_url(request, "ogc_openapi"),
                    "service-desc",
                    OPENAPI_30,
                    "Опис API (OpenAPI 3.0)",
                ),
                _link(
                    absolute_url(request, "ogc_conformance"),
                    "conformance",
                    JSON,
                    "Класи відповідності",
                ),
                _link(absolute_url(request, "ogc_collections"), "data", JSON, "Колекції"),
            ],
        }
    )


# /ogc and /ogc/ alike, without a redirect (clients are given either).
@router.get("/", include_in_schema=False)
async def landing_slash(request: Request) -> JSONResponse:
    return await landing(request)


@router.get(
    "/api",
    response_model=dict[str, Any],
    response_class=schemas.OpenAPI30Response,
    name="ogc_openapi",
    summary="Опис OGC API (OpenAPI 3.0)",
)
async def openapi(request: Request) -> JSONResponse:
    _no_parameters(request)
    server = absolute_url(request, "ogc_landing")
    return JSONResponse(openapi_document(server, DEFAULT_LIMIT, MAX_LIMIT), media_type=OPENAPI_30)


@router.get(
    "/conformance",
    response_model=schemas.Conformance,
    name="ogc_conformance",
    summary="Класи відповідності",
)
async def conformance(request: Request) -> JSONResponse:
    _no_parameters(request)
    return JSONResponse({"conformsTo": CONFORMANCE})


@router.get(
    "/collections",
    response_model=schemas.Collections,
    name="ogc_collections",
    summary="Колекції (шари)",
)
async def collections(request: Request, conn: ReadConnDep, principal: PrincipalDep) -> JSONResponse:
    _no_parameters(request)
    layers = await list_layers(conn, _role(principal))
    extents = await _extents(request, conn, layers)
    return JSONResponse(
        {
            "links": [_link(absolute_url(request, "ogc_collections"), "self", JSON, "Колекції")],
            "collections": [_collection(request, layer, extents.get(layer.id)) for layer in layers],
        }
    )


@router.get(
    "/collections/{collection_id}",
    response_model=schemas.Collection,
    name="ogc_collection",
    summary="Опис колекції",
)
async def collection(
    request: Request, collection_id: str, conn: ReadConnDep, principal: PrincipalDep
) -> JSONResponse:
    _no_parameters(request)
    layer = await get_layer(conn, collection_id, _role(principal))
    extents = await _extents(request, conn, [layer])
    return JSONResponse(_collection(request, layer, extents.get(layer.id)))


@router.get(
    "/collections/{collection_id}/queryables",
    response_model=schemas.Queryables,
    response_class=schemas.JSONSchemaResponse,
    name="ogc_queryables",
    summary="Властивості, за якими можна фільтрувати",
)
async def queryables(
    request: Request, collection_id: str, conn: ConnDep, principal: PrincipalDep
) -> JSONResponse:
    """A JSON Schema of the properties `items` (and the tiles) filter on: each is a query
    parameter `name=value` (several values separated by commas)."""
    _no_parameters(request)
    layer = await get_layer(conn, collection_id, _role(principal))
    properties: dict[str, dict] = {
        "geometry": {
            "$ref": GEOMETRY_SCHEMAS.get(layer.geometry_type, "https://geojson.org/schema/Geometry.json"),
            "x-ogc-role": "primary-geometry",
        }
    }  # fmt: skip
    if layer.datetime_column:
        properties["datetime"] = {
            "title": "Дата і час (параметр datetime)",
            "type": "string",
            "format": "date-time",
            "x-ogc-role": "primary-instant",
        }
    for q in layer.queryables:
        schema: dict[str, object] = {"title": q.title, "description": q.title_en, "type": q.type}
        if q.enum:
            schema["enum"] = list(q.enum)
        properties[q.name] = schema
    return JSONResponse(
        {
            "$schema": "https://json-schema.org/draft/2019-09/schema",
            "$id": absolute_url(request, "ogc_queryables", collection_id=layer.id),
            "type": "object",
            "title": layer.title,
            "properties": properties,
            "additionalProperties": False,
        },
        media_type=JSON_SCHEMA,
    )


@router.get(
    "/collections/{collection_id}/items",
    response_model=schemas.FeatureCollection,
    response_class=schemas.GeoJSONResponse,
    name="ogc_items",
    summary="Об’єкти колекції",
)
async def items(
    request: Request, collection_id: str, conn: ReadConnDep, principal: PrincipalDep
) -> Response:
    layer = await get_layer(conn, collection_id, _role(principal))
    query = parse_items_query(request.query_params.multi_items(), layer)
    query = replace(query, filters=await resolve_filters(conn, layer, query.filters))
    counts, _ = _caches(request)
    page = await fetch_items(
        conn,
        layer,
        query,
        role=_role(principal),
        counts=counts,
        generation=_generation(request, layer),
        councils=viewer_councils(principal),
    )
    links = [
        _link(self_url(request), "self", GEOJSON, "Ця сторінка"),
        _link(absolute_url(request, "ogc_collection", collection_id=layer.id), "collection", JSON),
    ]
    if page.next_after is not None:
        next_query = request.url.remove_query_params("before").include_query_params(
            after=page.next_after
        )
        next_url = self_url(request, next_query.query)
        links.append(_link(next_url, "next", GEOJSON, "Наступна сторінка"))
    if page.prev_before is not None:
        prev_query = request.url.remove_query_params("after").include_query_params(
            before=page.prev_before
        )
        prev_url = self_url(request, prev_query.query)
        links.append(_link(prev_url, "prev", GEOJSON, "Попередня сторінка"))
    head = {
        "type": "FeatureCollection",
        "numberReturned": len(page.features),
        "timeStamp": dt.datetime.now(dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
        "links": links,
    }
    if page.number_matched is not None:
        head["numberMatched"] = page.number_matched
    # The features are JSON text from PostgreSQL: splice them in rather than parse them.
    body = json.dumps(head, ensure_ascii=False)[:-1] + ',"features":[' + ",".join(page.features)
    return Response(body + "]}", media_type=GEOJSON)


@router.get(
    "/collections/{collection_id}/items/{feature_id}",
    response_model=schemas.Feature,
    response_class=schemas.GeoJSONResponse,
    name="ogc_feature",
    summary="Один об’єкт",
)
async def feature(
    request: Request, collection_id: str, feature_id: str, conn: ConnDep, principal: PrincipalDep
) -> Response:
    _no_parameters(request)
    layer = await get_layer(conn, collection_id, _role(principal))
    text = await fetch_feature(
        conn, layer, feature_id, role=_role(principal), councils=viewer_councils(principal)
    )
    links = [
        _link(
            absolute_url(request, "ogc_feature", collection_id=layer.id, feature_id=feature_id),
            "self",
            GEOJSON,
        ),
        _link(absolute_url(request, "ogc_collection", collection_id=layer.id), "collection", JSON),
    ]
    headers = {}
    # The version an edit's If-Match must name (OGC API – Features Part 4; gis/structures.py):
    # none for a feature of a council the caller does not edit (issue 17).
    version = await structures.version_of(conn, layer.id, feature_id, principal)
    if version is not None:
        headers["ETag"] = structures.etag(version)
    body = text[:-1] + ',"links":' + json.dumps(links) + "}"
    return Response(body, media_type=GEOJSON, headers=headers)
