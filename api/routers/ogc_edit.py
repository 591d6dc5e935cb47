"""OGC API – Features, Part 4 (Create, Replace, Update and Delete) on the collections
advertising_structures and kiosks: what a GIS tool (QGIS, a script) uses with a planner's
bearer token, and the /planner page with its cookie session (and its CSRF token).

    POST   /ogc/collections/{id}/items               a GeoJSON Feature → 201, Location, ETag
    PUT    /ogc/collections/{id}/items/{featureId}   the whole Feature → 200, ETag
    PATCH  /ogc/collections/{id}/items/{featureId}   a merge patch of the Feature → 200, ETag
    DELETE /ogc/collections/{id}/items/{featureId}   retire → 204

PUT, PATCH and DELETE need `If-Match` with the ETag (`"<version>"`) of the feature as it was
read (GET item sends it): missing → 428; stale → 412 whose `current` is the feature as it is
now. The work itself — validation, placement rules, the audit trail, freshness — is
gis/structures.py's, and so is the council's rule (issue 17): a planner of a council edits its
features only — another council's feature, or a new place in another council, is 404.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from api import schemas
from api.deps import ConnDep
from api.policy import Principal, allow
from api.urls import absolute_url
from gis import structures
from gis.errors import InvalidInput, PayloadTooLarge
from gis.values import check_tree

router = APIRouter(prefix="/ogc", tags=["OGC API – Features"])

EDITORS = ("planner", "admin")
GEOJSON = "application/geo+json"
JSON = "application/json"
MERGE_PATCH = "application/merge-patch+json"
MAX_BODY = 1_000_000

EditorDep = Annotated[Principal, allow(*EDITORS)]

_FEATURE_SCHEMA = {
    "type": "object",
    "required": ["type", "geometry", "properties"],
    "properties": {
        "type": {"type": "string", "enum": ["Feature"]},
        "geometry": {"type": "object"},
        "properties": {"type": "object"},
    },
}


def _body_doc(*types: str) -> dict[str, Any]:
    return {
        "requestBody": {
            "required": True,
            "content": {t: {"schema": _FEATURE_SCHEMA} for t in types},
        }
    }


async def _body(request: Request, *types: str) -> Any:
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype not in types:
        raise InvalidInput("edit_content_type", value=ctype[:64])
    raw = await request.body()
    if len(raw) > MAX_BODY:
        raise PayloadTooLarge(limit=MAX_BODY)
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):
        raise InvalidInput("invalid_feature_json") from None
    if not isinstance(data, dict):
        raise InvalidInput("invalid_feature_json")
    check_tree(data)
    return data


def _answer(request: Request, collection_id: str, feature: dict, version: int,
            status: int = 200) -> Response:  # fmt: skip
    url = absolute_url(
        request, "ogc_feature", collection_id=collection_id, feature_id=str(feature["id"])
    )
    feature = {
        **feature,
        "links": [
            {"href": str(url), "rel": "self", "type": GEOJSON},
            {
                "href": str(absolute_url(request, "ogc_collection", collection_id=collection_id)),
                "rel": "collection",
                "type": JSON,
            },
        ],
    }
    headers = {"ETag": structures.etag(version)}
    if status == 201:
        headers["Location"] = str(url)
    body = json.dumps(feature, ensure_ascii=False, default=str)
    return Response(body, status_code=status, media_type=GEOJSON, headers=headers)


@router.post(
    "/collections/{collection_id}/items",
    response_model=schemas.Feature,
    response_class=schemas.GeoJSONResponse,
    status_code=201,
    name="ogc_create_item",
    summary="Додати об’єкт (OGC API – Features Part 4)",
    openapi_extra=_body_doc(GEOJSON, JSON),
)
async def create_item(
    request: Request, collection_id: str, principal: EditorDep, conn: ConnDep
) -> Response:
    """A new advertising structure or kiosk: a GeoJSON Feature (Point; kiosks also Polygon)."""
    data = await _body(request, GEOJSON, JSON)
    feature, version = await structures.create(conn, collection_id, data, principal)
    return _answer(request, collection_id, feature, version, 201)


@router.put(
    "/collections/{collection_id}/items/{feature_id}",
    response_model=schemas.Feature,
    response_class=schemas.GeoJSONResponse,
    name="ogc_replace_item",
    summary="Замінити об’єкт (If-Match)",
    openapi_extra=_body_doc(GEOJSON, JSON),
)
async def replace_item(
    request: Request, collection_id: str, feature_id: str, principal: EditorDep, conn: ConnDep
) -> Response:
    expected = structures.parse_if_match(request.headers.get("if-match"))
    data = await _body(request, GEOJSON, JSON)
    feature, version = await structures.replace(
        conn, collection_id, feature_id, data, expected, principal
    )
    return _answer(request, collection_id, feature, version)


@router.patch(
    "/collections/{collection_id}/items/{feature_id}",
    response_model=schemas.Feature,
    response_class=schemas.GeoJSONResponse,
    name="ogc_update_item",
    summary="Змінити частину об’єкта (merge patch, If-Match)",
    openapi_extra=_body_doc(MERGE_PATCH, GEOJSON, JSON),
)
async def update_item(
    request: Request, collection_id: str, feature_id: str, principal: EditorDep, conn: ConnDep
) -> Response:
    expected = structures.parse_if_match(request.headers.get("if-match"))
    data = await _body(request, MERGE_PATCH, GEOJSON, JSON)
    feature, version = await structures.patch(
        conn, collection_id, feature_id, data, expected, principal
    )
    return _answer(request, collection_id, feature, version)


@router.delete(
    "/collections/{collection_id}/items/{feature_id}",
    status_code=204,
    response_class=Response,
    name="ogc_delete_item",
    summary="Вивести об’єкт з ужитку (If-Match)",
)
async def delete_item(
    request: Request, collection_id: str, feature_id: str, principal: EditorDep, conn: ConnDep
) -> Response:
    """The structure is retired: gone from the map, kept in the audit trail."""
    expected = structures.parse_if_match(request.headers.get("if-match"))
    await structures.retire(conn, collection_id, feature_id, expected, principal)
    return Response(status_code=204)
