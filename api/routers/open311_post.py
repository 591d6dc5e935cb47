"""Open311 GeoReport v2, the write side (issue 15): a client application with a key files an
appeal, and resolves the token it was given.

- `POST /open311/v2/requests` (`.xml`, `.json`; no suffix: XML) — form-encoded as the spec
  says (multipart and JSON accepted too): `api_key` (required: 400 without, 403 unknown or
  revoked), `jurisdiction_id` (a council's KATOTTH code, issue 17: the point must lie in it,
  else 400 `open311_outside_jurisdiction`; an appeal with no place is its), `service_code`,
  `lat` + `long` or `address_string` (a street of the register and a house: «вулиця
  Хрещатик, 22») or `address_id` (the street's register code, with the house in
  `address_string`), `attribute[author_address]` (the author's postal
  address, required by the Law), `attribute[consent_to_publish]` (true: the description is
  published), `description`, `media_url`, `email`, `first_name`, `last_name`, `phone`,
  `device_id`, `account_id`; an `Idempotency-Key` header makes a retry safe. The same
  validation, idempotency, routing and deadline as the portal (gis/intake.py); the appeal's
  channel is 'open311', naming the application. 201: `service_requests/request` with
  `service_request_id` (the appeal's number), `token`, `service_notice` (the legal deadline)
  and `account_id`.
- `GET /open311/v2/tokens/{token}` — the request a token was given with.

Requests filed are rate-limited per key (`rate_limit_open311`) and every call made with a key
is logged against it (gis/open311_clients.py). `media_url` is not fetched: the Open311 client
keeps the picture; photos may be sent as `photos` files of a multipart form instead.
Errors are the spec's (api/open311.py through api/errors.py).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import Response

from api import open311 as wire
from api.bodies import MAX_FORM_FILES, read_appeal_body, read_form
from api.deps import ConnDep, SettingsDep
from api.errors import status_of
from api.policy import Principal, public
from api.ratelimit import check_account_limit, check_ip_failures, count_ip_failure
from gis import councils, intake, notify, open311, open311_clients, photos
from gis.errors import DomainError, InvalidInput, NotFound
from gis.texts import preferred_language

router = APIRouter(tags=["Open311 GeoReport v2"])

PREFIX = "/open311/v2"
SUFFIXES = ((".xml", "xml"), (".json", "json"), ("", "xml"))
DESCRIPTION_MAX = 4000  # the spec's limit (and the portal's setting, if lower)
ATTRIBUTE_PREFIX = "attribute["
TRUE = {"true", "1", "yes", "on"}
FALSE = {"false", "0", "no", "off", ""}
# The portal's parameter names in the intake's messages → Open311's.
PARAMETERS = {
    "author.full_name": "last_name", "author.email": "email", "author.phone": "phone",
    "author.postal_address": f"attribute[{open311.AUTHOR_ADDRESS}]", "text": "description",
    "lon": "long", "lat": "lat", "location": "lat", "location.street": "address_string",
    "location.house": "address_string", "category": "service_code",
}  # fmt: skip


def _lang(request: Request) -> str:
    return preferred_language(request.headers.get("accept-language"))


def _text(payload: dict, name: str) -> str | None:
    value = payload.get(name)
    if value is None or isinstance(value, str):
        return value.strip() if isinstance(value, str) else None
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    raise InvalidInput("invalid_field", parameter=name)


def _attributes(payload: dict) -> dict[str, Any]:
    """attribute[code] fields (a form's flat keys, or a JSON object `attribute`)."""
    found: dict[str, Any] = {}
    nested = payload.get("attribute")
    if isinstance(nested, dict):
        found.update(nested)
    elif nested is not None:
        raise InvalidInput("invalid_field", parameter="attribute")
    for key, value in payload.items():
        if key.startswith(ATTRIBUTE_PREFIX) and key.endswith("]"):
            found.setdefault(key[len(ATTRIBUTE_PREFIX) : -1], value)
    return found


def _consent(value: Any) -> bool:
    if isinstance(value, bool) or value is None:
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in TRUE | FALSE:
        return value.strip().lower() in TRUE
    raise InvalidInput("invalid_boolean", parameter="attribute[consent_to_publish]", value=value)


def submission(payload: dict, files: list[photos.Photo], lang: str) -> intake.Submission:
    """The Open311 fields as the portal's submission; the checks worded for Open311 first."""
    code = _text(payload, "service_code")
    if not code:
        raise InvalidInput("open311_service_code_required", parameter="service_code")
    attributes = _attributes(payload)
    author_address = attributes.get(open311.AUTHOR_ADDRESS)
    if not isinstance(author_address, str | None):
        raise InvalidInput("invalid_field", parameter=f"attribute[{open311.AUTHOR_ADDRESS}]")
    first, last = _text(payload, "first_name"), _text(payload, "last_name")
    full_name = " ".join(p for p in (last, first) if p) or None
    if not full_name:
        raise InvalidInput("open311_author_name_required", parameter="last_name")
    if not (author_address or "").strip():
        raise InvalidInput("open311_author_address_required",
                           parameter=f"attribute[{open311.AUTHOR_ADDRESS}]")  # fmt: skip
    lat, lon = _text(payload, "lat"), _text(payload, "long")
    address_string, address_id = _text(payload, "address_string"), _text(payload, "address_id")
    street = house = None
    if lat or lon:
        if not (lat and lon):
            raise InvalidInput("open311_coordinates", parameter="long" if lat else "lat")
    elif address_id:
        # The street by its register code; the house from address_string («22» or «…, 22»).
        street, house = address_id, (address_string or "").rpartition(",")[2].strip() or None
        if not house:
            raise InvalidInput("open311_house_required", parameter="address_string")
    elif address_string:
        street, _, house = address_string.rpartition(",")
        if not street.strip() or not house.strip():
            raise InvalidInput("open311_house_required", parameter="address_string")
    elif not (files and files[0].gps):
        raise InvalidInput("open311_location_required", parameter="lat")
    email, phone = _text(payload, "email"), _text(payload, "phone")
    return intake.Submission(
        category=code,
        text=_text(payload, "description"),
        author=intake.Author(
            full_name=full_name,
            email=email,
            phone=phone,
            postal_address=author_address,
            notify_channel="email" if email else "none",
            language=lang,
        ),  # fmt: skip
        lon=lon or None,
        lat=lat or None,
        street=street,
        house=house,
        consent_to_publish=_consent(attributes.get("consent_to_publish")),
        photos=files,
    )


def _request_hash(payload: dict, files: list[photos.Photo]) -> str:
    canonical = json.dumps(
        {"payload": {k: v for k, v in payload.items() if k != "api_key"},
         "photos": [p.original_sha256 for p in files]},
        sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str,
    )  # fmt: skip
    return hashlib.sha256(canonical.encode()).hexdigest()


def _open311_words(exc: DomainError) -> DomainError:
    """The intake's parameter names said as Open311's (lon → long, text → description…)."""
    parameter = exc.params.get("parameter")
    if isinstance(parameter, str) and parameter in PARAMETERS:
        exc.params["parameter"] = PARAMETERS[parameter]
    return exc


async def _check_point_in(conn, council: councils.Council, sub: intake.Submission) -> None:
    """A request filed in a jurisdiction (a council, issue 17) whose point lies in another
    council: 400 `open311_outside_jurisdiction`. A point in no council is the intake's to
    refuse (not served), a malformed one the intake's validation's."""
    try:
        lon, lat = float(str(sub.lon)), float(str(sub.lat))
    except (TypeError, ValueError):
        return
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        return
    found = await councils.at_point(conn, lon, lat)
    if found is not None and found.id != council.id:
        raise InvalidInput("open311_outside_jurisdiction", parameter="lat",
                           jurisdiction=council.code)  # fmt: skip


async def _file(request: Request, conn, settings, client: dict) -> Response:
    lang = _lang(request)
    payload, files = await read_appeal_body(request, settings)
    council = await open311.check_jurisdiction(conn, _text(payload, "jurisdiction_id") or None)
    key = intake.check_idempotency_key(request.headers.get("idempotency-key"))
    sub = submission(payload, files, lang)
    if council is not None:
        await _check_point_in(conn, council, sub)
        sub.council = council.slug  # an appeal with no place is the jurisdiction's
    try:
        await open311.service_definition(
            conn, str(sub.category), lang, council.id if council is not None else None
        )
    except NotFound:
        raise InvalidInput("open311_unknown_service", parameter="service_code",
                           value=str(sub.category)[:64]) from None  # fmt: skip
    submitter = intake.Submitter(open311_client_id=client["id"],
                                 open311_client_name=client["name"])  # fmt: skip
    try:
        intake.validate(sub, submitter, max_chars=min(settings.appeal_text_max_chars,
                                                      DESCRIPTION_MAX),
                        max_photos=settings.appeal_max_photos)  # fmt: skip
        intake.check_notify_offered(sub.author, notify.offered_channels(settings))
    except DomainError as exc:
        raise _open311_words(exc) from None
    idem = None
    if key is not None:
        idem = intake.Idempotency(key, f"open311:{client['id']}", _request_hash(payload, files))

    async def with_token(conn, body: dict) -> None:
        body["open311_token"] = await open311_clients.new_token_for(
            conn, number=body["number"], client_id=client["id"])  # fmt: skip

    try:
        outcome = await intake.submit(
            conn, sub, submitter, data_dir=settings.data_dir, idempotency=idem,
            duplicate_radius_m=settings.appeal_duplicate_radius_m, settings=settings,
            on_registered=with_token,
        )  # fmt: skip
    except DomainError as exc:
        raise _open311_words(exc) from None
    body = outcome.body
    account_id = _text(payload, "account_id")
    answer = {
        "service_request_id": body["number"],
        "token": body.get("open311_token"),
        "service_notice": open311.service_notice(
            dt.datetime.fromisoformat(body["deadline_at"]), lang),
        "account_id": account_id,
    }  # fmt: skip
    headers = {"Location": f"{PREFIX}/requests/{quote(body['number'])}"
               + (".json" if request.url.path.endswith(".json") else ".xml")}  # fmt: skip
    if outcome.replayed:
        headers["Idempotent-Replayed"] = "true"
    return wire.render(request, "service_requests", [answer], status_code=outcome.status_code,
                       headers=headers)  # fmt: skip


async def post_request(
    request: Request,
    principal: Annotated[Principal, public("Open311 client applications, by their api_key")],
    conn: ConnDep,
    settings: SettingsDep,
) -> Response:
    """File an appeal through Open311 (see the module's docstring)."""
    api_key = request.query_params.get("api_key")
    payload_key = None
    if api_key is None:
        # The key is a field of the body: read it first (the body is read once, and kept).
        ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if ctype == "application/json":
            try:
                data = json.loads(await request.body() or b"null")
            except (ValueError, UnicodeDecodeError):
                data = None
            payload_key = data.get("api_key") if isinstance(data, dict) else None
        elif ctype in ("application/x-www-form-urlencoded", "multipart/form-data"):
            form = await read_form(request, max_files=MAX_FORM_FILES, max_fields=100,
                                   files_field="photos",
                                   files_allowed=settings.appeal_max_photos)  # fmt: skip
            payload_key = form.get("api_key")
    # Wrong keys count per client address: past the limit, that address waits (429).
    check_ip_failures(request, "open311")
    try:
        client = await open311_clients.authenticate(
            conn, api_key if api_key is not None else payload_key
        )
    except DomainError:
        count_ip_failure(request, "open311")
        raise
    status = 500
    try:
        check_account_limit(request, "open311", f"open311:{client['id']}")
        response = await _file(request, conn, settings, client)
        status = response.status_code
        return response
    except Exception as exc:
        status = status_of(exc)
        raise
    finally:
        await open311_clients.log_call(conn, client["id"], method="POST",
                                       path=request.url.path, status=status)  # fmt: skip


async def token(request: Request, conn: ConnDep, token: str) -> Response:
    """The request a token was given with: `service_request_id` and `token`."""
    await open311.check_jurisdiction(conn, request.query_params.get("jurisdiction_id") or None)
    found = await open311_clients.token_request(conn, token)
    return wire.render(request, "service_requests", [{
        "service_request_id": found["service_request_id"], "token": found["token"]}])  # fmt: skip


for _suffix, _fmt in SUFFIXES:
    router.add_api_route(
        f"{PREFIX}/requests{_suffix}", post_request, methods=["POST"],
        name=f"open311_post_request_{_fmt}" if _suffix else "open311_post_request",
        summary="Open311: file a request (an appeal), with an api_key",
        response_class=Response, status_code=201,
        responses={201: wire.openapi_responses(_fmt, "the request filed")[200],
                   **{k: v for k, v in wire.openapi_responses(_fmt, "").items() if k != 200}},
    )  # fmt: skip
for _suffix, _fmt in SUFFIXES:
    router.add_api_route(
        f"{PREFIX}/tokens/{{token}}{_suffix}", token, methods=["GET"],
        name=f"open311_token_{_fmt}" if _suffix else "open311_token",
        summary="Open311: the request a token was given with",
        dependencies=[public("anyone: the holder of a token")],
        response_class=Response, responses=wire.openapi_responses(_fmt, "the token's request"),
    )  # fmt: skip
