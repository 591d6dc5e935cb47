"""The OpenAPI 3.0 description of /ogc (the landing page's `service-desc`).

Written out rather than taken from FastAPI's /openapi.json: that one is OpenAPI 3.1 and
describes the whole app, while OGC clients expect 3.0 and want the declared default and
maximum of `limit`. Keep it in step with api/routers/ogc.py, api/routers/ogc_edit.py (Part 4:
create, replace, update, delete of advertising structures and kiosks) and layers/features.py.
"""

from __future__ import annotations


def _param(name: str, where: str, schema: dict, description: str, **extra: object) -> dict:
    return {"name": name, "in": where, "schema": schema, "description": description, **extra}


def _json(description: str, schema_ref: str | None = None, media: str = "application/json"):
    schema = {"$ref": f"#/components/schemas/{schema_ref}"} if schema_ref else {"type": "object"}
    return {"description": description, "content": {media: {"schema": schema}}}


# The property filters of the collections that have them (layers.registry: Layer.queryables).
PROPERTY_FILTERS = (
    ("status", "Стан звернення (registered, in_work, on_check, rework, closed)"),
    ("kind", "Тип звернення (complaint, thanks)"),
    ("category", "Категорія (id)"),
    ("district", "Район (id)"),
    ("ward", "Виборчий округ (id)"),
    ("executor", "Виконавець (id)"),
    ("council", "Громада (slug або код КАТОТТГ; невідома — 404 council_not_found)"),
)


# OGC API – Features Part 4 (api/routers/ogc_edit.py): the editable collections, and what every
# write may answer besides its success (each a JSON {code, detail}; 412 also has `current`).
EDITABLE = ("advertising_structures", "kiosks")
_WRITE_ERRORS = {
    "400": "Неправильний об’єкт, властивість або If-Match",
    "401": "Потрібен вхід (Bearer-токен планувальника або адміністратора)",
    "403": "Лише планувальники й адміністратори",
    "404": "Немає такої колекції, що редагується, або такого об’єкта",
    "409": "Порушено правило розміщення (placement_rule_violated)",
    "413": "Завелике тіло запиту",
}
_IF_MATCH = {
    "412": "Об’єкт змінено після того, як його прочитали: `current` — його теперішній вигляд",
    "428": "Потрібен заголовок If-Match з ETag об’єкта",
}


def _write_operations(collection_id: dict, feature_id: dict, geojson: str) -> dict[str, dict]:
    """Part 4's operations: POST on items; PUT, PATCH, DELETE on an item, with If-Match."""
    error = {"$ref": "#/components/responses/Error"}
    secured: list[dict[str, list[str]]] = [{"bearerAuth": []}]
    editable = " або ".join(EDITABLE)
    collection = {**collection_id, "description": f"Колекція, що редагується: {editable}"}
    if_match = _param(
        "If-Match", "header", {"type": "string"}, "ETag об’єкта, яким його прочитали (\"<версія>\")",
        required=True,
    )  # fmt: skip
    etag = {"ETag": {"description": "Версія об’єкта", "schema": {"type": "string"}}}

    def body(*types: str) -> dict:
        schema = {"$ref": "#/components/schemas/Feature"}
        return {"required": True, "content": {t: {"schema": schema} for t in types}}

    def feature(description: str, status: str) -> dict:
        answer = _json(description, "Feature", geojson)
        answer["headers"] = dict(etag)
        if status == "201":
            answer["headers"]["Location"] = {
                "description": "Адреса нового об’єкта", "schema": {"type": "string"}
            }  # fmt: skip
        return {status: answer}

    def errors(*extra: dict[str, str]) -> dict:
        out = {code: {**error} for code in _WRITE_ERRORS}
        for more in extra:
            out.update({code: {**error} for code in more})
        out["4XX"] = error
        return out

    return {
        "post": {
            "summary": "Додати об’єкт (OGC API – Features Part 4)",
            "description": "Новий об’єкт колекції: GeoJSON Feature (точка; для МАФ також "
            "полігон). Лише планувальники й адміністратори.",
            "operationId": "createFeature",
            "security": secured,
            "parameters": [collection],
            "requestBody": body(geojson, "application/json"),
            "responses": {**feature("Створено", "201"), **errors()},
        },
        "put": {
            "summary": "Замінити об’єкт (If-Match)",
            "operationId": "replaceFeature",
            "security": secured,
            "parameters": [collection, feature_id, if_match],
            "requestBody": body(geojson, "application/json"),
            "responses": {**feature("Замінено", "200"), **errors(_IF_MATCH)},
        },
        "patch": {
            "summary": "Змінити частину об’єкта (JSON Merge Patch, If-Match)",
            "operationId": "updateFeature",
            "security": secured,
            "parameters": [collection, feature_id, if_match],
            "requestBody": body("application/merge-patch+json", geojson, "application/json"),
            "responses": {**feature("Змінено", "200"), **errors(_IF_MATCH)},
        },
        "delete": {
            "summary": "Вивести об’єкт з ужитку (If-Match)",
            "description": "Об’єкт зникає з мапи; його історія лишається в журналі змін.",
            "operationId": "deleteFeature",
            "security": secured,
            "parameters": [collection, feature_id, if_match],
            "responses": {"204": {"description": "Виведено з ужитку"}, **errors(_IF_MATCH)},
        },
    }


def openapi_document(server_url: str, default_limit: int, max_limit: int) -> dict:
    collection_id = _param(
        "collectionId", "path", {"type": "string"}, "Ідентифікатор колекції", required=True
    )
    feature_id = _param(
        "featureId", "path", {"type": "string"}, "Ідентифікатор об’єкта", required=True
    )
    f = _param("f", "query", {"type": "string", "enum": ["json", "geojson"]}, "Формат відповіді")
    error = {"$ref": "#/components/responses/Error"}
    geojson = "application/geo+json"
    items_params = [
        collection_id,
        _param(
            "limit",
            "query",
            {"type": "integer", "minimum": 1, "maximum": max_limit, "default": default_limit},
            "Найбільша кількість об’єктів на сторінці",
            style="form",
            explode=False,
        ),
        _param(
            "bbox",
            "query",
            {"type": "array", "minItems": 4, "maxItems": 6, "items": {"type": "number"}},
            "Мін. довгота, мін. широта, макс. довгота, макс. широта (CRS84)",
            style="form",
            explode=False,
        ),
        _param(
            "datetime",
            "query",
            {"type": "string"},
            "Момент або інтервал RFC 3339 (відкритий кінець — «..»); лише для колекцій з "
            "часовою властивістю",
            style="form",
            explode=False,
        ),
        _param(
            "after",
            "query",
            {"type": "string"},
            "Курсор сторінки з посилання next: ідентифікатор, а для звернень — "
            "«час~ідентифікатор» (сторінки звернень ідуть за часом)",
        ),
        _param(
            "before",
            "query",
            {"type": "string"},
            "Курсор сторінки назад з посилання prev (того ж виду, що after)",
        ),
        *(
            _param(
                name,
                "query",
                {"type": "string"},
                f"{title} — одне значення або кілька через кому; лише для колекцій, що мають "
                "цю властивість (див. /collections/{collectionId}/queryables)",
                style="form",
                explode=False,
            )
            for name, title in PROPERTY_FILTERS
        ),
        f,
    ]
    writes = _write_operations(collection_id, feature_id, geojson)
    return {
        "openapi": "3.0.3",
        "info": {"title": "Hromada GIS — OGC API – Features", "version": "1.0.0"},
        "servers": [{"url": server_url.rstrip("/")}],
        "paths": {
            "/": {
                "get": {
                    "summary": "Головна сторінка",
                    "operationId": "getLandingPage",
                    "parameters": [f],
                    "responses": {"200": _json("Посилання"), "400": error},
                }
            },
            "/api": {
                "get": {
                    "summary": "Цей опис",
                    "operationId": "getAPI",
                    "responses": {"200": _json("OpenAPI 3.0")},
                }
            },
            "/conformance": {
                "get": {
                    "summary": "Класи відповідності",
                    "operationId": "getConformanceDeclaration",
                    "parameters": [f],
                    "responses": {"200": _json("conformsTo"), "400": error},
                }
            },
            "/collections": {
                "get": {
                    "summary": "Колекції",
                    "operationId": "getCollections",
                    "parameters": [f],
                    "responses": {"200": _json("Колекції"), "400": error},
                }
            },
            "/collections/{collectionId}": {
                "get": {
                    "summary": "Опис колекції",
                    "operationId": "describeCollection",
                    "parameters": [collection_id, f],
                    "responses": {"200": _json("Колекція"), "400": error, "404": error},
                }
            },
            "/collections/{collectionId}/items": {
                "post": writes["post"],
                "get": {
                    "summary": "Об’єкти колекції",
                    "operationId": "getFeatures",
                    "parameters": items_params,
                    "responses": {
                        "200": _json("FeatureCollection", "FeatureCollection", geojson),
                        "400": error,
                        "404": error,
                    },
                },
            },
            "/collections/{collectionId}/queryables": {
                "get": {
                    "summary": "Властивості для фільтрів (JSON Schema)",
                    "operationId": "getQueryables",
                    "parameters": [collection_id, f],
                    "responses": {
                        "200": _json("JSON Schema", media="application/schema+json"),
                        "400": error,
                        "404": error,
                    },
                }
            },
            "/collections/{collectionId}/items/{featureId}": {
                "get": {
                    "summary": "Один об’єкт",
                    "operationId": "getFeature",
                    "parameters": [collection_id, feature_id, f],
                    "responses": {
                        "200": _json("Feature", "Feature", geojson),
                        "400": error,
                        "404": error,
                    },
                },
                "put": writes["put"],
                "patch": writes["patch"],
                "delete": writes["delete"],
            },
        },
        "components": {
            "schemas": {
                "Feature": {
                    "type": "object",
                    "required": ["type", "geometry", "properties"],
                    "properties": {
                        "type": {"type": "string", "enum": ["Feature"]},
                        "id": {"type": "integer"},
                        "geometry": {"type": "object", "nullable": True},
                        "properties": {"type": "object", "nullable": True},
                    },
                },
                "FeatureCollection": {
                    "type": "object",
                    "required": ["type", "features"],
                    "properties": {
                        "type": {"type": "string", "enum": ["FeatureCollection"]},
                        "features": {
                            "type": "array",
                            "items": {"$ref": "#/components/schemas/Feature"},
                        },
                        "numberMatched": {"type": "integer", "minimum": 0},
                        "numberReturned": {"type": "integer", "minimum": 0},
                        "timeStamp": {"type": "string", "format": "date-time"},
                        "links": {"type": "array", "items": {"type": "object"}},
                    },
                },
                "Error": {
                    "type": "object",
                    "required": ["code", "detail"],
                    "properties": {
                        "code": {"type": "string"},
                        "detail": {"type": "string"},
                        "parameter": {"type": "string"},
                    },
                },
            },
            "responses": {"Error": _json("Помилка (code, detail)", "Error")},
            "securitySchemes": {
                "bearerAuth": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "Токен сесії (POST /api/v1/auth/login, session=token)",
                }
            },
        },
    }
