"""What the JSON routes answer: one pydantic model per response, declared on each route
(`response_model=`), so /openapi.json describes every answer and the fuzz (tests/test_fuzz.py)
checks real answers against it.

The models describe what the routes and the gis/ functions they call return today. Every
model allows properties it does not name (`extra="allow"`): validating an answer never drops
a key, and a new key is a documentation gap, not a 500. Where a shape varies by layer or role
(GeoJSON properties, queryables' schemas, a layer's own fields) it is typed loosely.

Errors: every status of 400 or more is an `Error` (api/errors.py), declared once for the whole
app by `ERROR_RESPONSES`.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field


# Media types of the OGC answers, so that /openapi.json names the type each one is sent as.
class GeoJSONResponse(JSONResponse):
    media_type = "application/geo+json"


class JSONSchemaResponse(JSONResponse):
    media_type = "application/schema+json"


class OpenAPI30Response(JSONResponse):
    media_type = "application/vnd.oai.openapi+json;version=3.0"


class Out(BaseModel):
    model_config = ConfigDict(extra="allow")


# --- errors ------------------------------------------------------------------------------------


class Error(Out):
    """Every answer with a status of 400 or more (api/errors.py)."""

    code: str = Field(description="Stable code, for programs")
    detail: str = Field(description="Message in the request's language (uk, or en)")
    parameter: str | None = Field(
        default=None, description="The query parameter or field at fault, when there is one"
    )


def _error(description: str) -> dict[str, Any]:
    # Written out rather than `model=Error`: FastAPI would list it under the route's own media
    # type (GeoJSON, HTML…), while an error is always application/json.
    return {
        "description": description,
        "content": {"application/json": {"schema": Error.model_json_schema()}},
    }


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    "4XX": _error("Bad request, not signed in, refused, not found, too many requests"),
    "5XX": _error("Unexpected failure, or the database is unavailable"),
}

# GET /api/v1/photos/{sha256}: the picture itself.
PHOTO_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The photo, EXIF stripped",
        "content": {t: {} for t in ("image/jpeg", "image/png", "image/webp")},
    }
}


# --- health ------------------------------------------------------------------------------------


class DatabaseVersions(Out):
    server_version: str
    postgis_version: str


class Health(Out):
    status: str
    database: DatabaseVersions


# --- categories and appeals (api/routers/appeals.py, gis/intake.py) ----------------------------


class Category(Out):
    id: int
    code: str | None
    name: str
    name_en: str | None
    deadline_days: int | None
    needs_study: bool | None


class Kind(Category):
    subkinds: list[Category]


class CategoryHit(Category):
    parent_id: int | None
    kind: str | None
    kind_en: str | None
    matched: str | None  # the keyword that matched; null when the name did


class CategorySearch(Out):
    q: str
    items: list[CategoryHit]
    returned: int


class Caller(Out):
    full_name: str | None
    email: str | None
    phone: str | None
    postal_address: str | None
    privilege: str | None


class CallerAppeal(Out):
    number: str
    status: str
    category: str
    kind: str | None
    category_en: str | None = None  # the names in English where the data has them
    kind_en: str | None = None
    created_at: str
    deadline_at: str | None
    address: str | None


class CallerLookup(Out):
    caller: Caller | None
    appeals: list[CallerAppeal]
    returned: int


class Categories(Out):
    kinds: list[Kind]
    returned: int


class Point(Out):
    lon: float
    lat: float


class CodeName(Out):
    code: str | None
    name: str | None


class SubmittedCategory(Out):
    id: int
    code: str | None
    name: str
    kind: str | None
    deadline_days: int | None
    needs_study: bool | None


class SubmittedExecutor(Out):
    id: int | None
    code: str | None
    name: str | None


class SubmittedRouting(Out):
    rule_id: int | None
    reason: str
    areas: list[dict[str, Any]]


class SubmittedPhoto(Out):
    sha256: str
    url: str
    content_type: str
    width: int | None
    height: int | None


class SubmittedAppeal(Out):
    """201 of POST /api/v1/appeals (a replay under an Idempotency-Key repeats it)."""

    number: str
    status: str
    created_at: str | None
    deadline_at: str | None
    category: SubmittedCategory
    channel: str | None
    privileged: bool
    is_public: bool
    location: Point | None
    location_source: str | None
    address: str | None
    district: dict[str, Any] | None
    ward: dict[str, Any] | None
    executor: SubmittedExecutor
    routing: SubmittedRouting
    routing_reason: str
    photos: list[SubmittedPhoto]
    similar_open_appeals: list[dict[str, Any]]


class KindName(Out):
    name: str | None
    name_en: str | None


class PublicCategory(Out):
    id: int
    code: str | None
    kind: KindName | None
    name: str
    name_en: str | None


class PublicPhoto(Out):
    url: str
    kind: str
    content_type: str
    width: int | None
    height: int | None


class PublicAppeal(Out):
    """Anyone's view of an appeal: never the author's personal data."""

    number: str
    status: str
    status_name: str
    status_name_en: str
    kind: str | None
    category: PublicCategory
    address: str | None
    location: Point | None
    created_at: str | None
    deadline_at: str | None
    closed_at: str | None
    district: CodeName | None
    ward_number: int | None
    executor: str | None
    result: str | None
    result_en: str | None
    answer: str | None
    overdue: bool | None
    is_public: bool
    text: str | None
    support_count: int | None
    photos: list[PublicPhoto]


# --- the lifecycle (api/routers/lifecycle.py, gis/lifecycle.py) --------------------------------


class Transition(Out):
    """An action's answer: the appeal's number, its new status and result."""

    number: str
    status: str
    result: str | None


class Taken(Transition):
    previous_status: str


class Answered(Transition):
    photos: list[Any]


class Returned(Transition):
    executor_id: int | None
    rerouted: bool


class Redirected(Transition):
    executor: str | None
    author_notified: bool


class LocatedDistrict(Out):
    code: str | None
    name: str | None


class LocatedWard(Out):
    number: int | None
    name: str | None


class LocatedRouting(Out):
    """Routing's choice at the new point (the dry run): the executor a redirect would name."""

    executor_code: str | None
    executor_name: str | None
    rule_id: int | None
    reason: str
    reason_en: str | None = None  # the reason's fixed words in English (names as stored)


class Located(Transition):
    """A place given to an appeal filed without one (gis/lifecycle.py locate)."""

    lon: float
    lat: float
    address: str | None
    district: LocatedDistrict | None
    ward: LocatedWard | None
    routing: LocatedRouting


class Delegated(Transition):
    executor: str | None
    deadline_at: str


class CoExecutor(Out):
    executor_id: int
    executor: str | None
    is_main: bool
    deadline_at: str
    text: str | None = None  # the co-executor's own text, else the resolution's comment


class ResolutionsAdded(Transition):
    resolutions: list[CoExecutor]


class Extended(Transition):
    extended_until: str
    author_notified: bool


class ExtensionAsked(Transition):
    requested_until: str


class ExtensionDeclined(Transition):
    """decline_extension: the pending request refused with a reason; the term is unchanged."""

    requested_until: str | None
    reason: str


class ExtensionRequest(Out):
    """An appeal's latest request for a longer term and what became of it."""

    state: str  # pending | granted | declined | lapsed (closed undecided)
    asked_at: str | None
    asked_by: str | None
    reason: str | None
    requested_until: str | None
    decided_at: str | None
    decided_by: str | None
    decision_reason: str | None
    extended_until: str | None


class Closing(Transition):
    """check, confirm, reject, cancel: `supporters_notified` when the appeal got closed."""

    supporters_notified: int | None = None


class Unsubscribed(Out):
    """The author of the appeal hears no more of it (appeal_authors.unsubscribed_at)."""

    number: str
    unsubscribed: bool
    unsubscribed_at: str | None


class Resolution(Out):
    executor: str | None
    executor_name: str | None
    is_main: bool
    deadline_at: str | None
    text: str | None = None
    created_at: str | None


class Resolutions(Out):
    number: str
    resolutions: list[Resolution]


class Supported(Out):
    number: str
    support_count: int
    supported: bool


class NearbyAppeal(Out):
    number: str
    status: str
    address: str | None
    created_at: str | None
    support_count: int | None
    distance_m: float
    lon: float
    lat: float


class Nearby(Out):
    category_id: int
    radius_m: float
    items: list[NearbyAppeal]


class HistoryEvent(Out):
    at: str | None
    action: str
    status_from: str | None
    status_to: str | None
    result: str | None
    executor: str | None = None
    answer: Any = None
    extended_until: Any = None
    support_count: Any = None
    address: str | None = None  # 'locate': the place given later
    reason: str | None = None


class History(Out):
    number: str
    status: str
    deadline_at: str | None
    overdue: bool
    events: list[HistoryEvent]


# --- the public feed (api/routers/public_feed.py, gis/public_feed.py) --------------------------


class FeedLinks(Out):
    self_: str = Field(alias="self")
    next: str | None
    statistics: str


class FeedCategory(Out):
    id: int | None
    name: str | None
    name_en: str | None


class FeedDistrict(Out):
    id: int
    name: str | None


class FeedItem(Out):
    number: str
    kind: str | None
    category: FeedCategory
    status: str
    status_name: str
    status_name_en: str
    district: FeedDistrict | None
    executor: str | None
    address: str | None
    lon: float | None
    lat: float | None
    created_at: str | None
    deadline_at: str | None
    closed_at: str | None
    overdue: bool
    support_count: int | None
    text: str | None
    result: str | None
    result_en: str | None
    href: str


class Feed(Out):
    filters: dict[str, str]
    total: int
    limit: int
    count: int
    next: str | None
    links: FeedLinks
    items: list[FeedItem]


class TypeCount(Out):
    type: str
    count: int


class StatusCount(Out):
    status: str
    name: str
    name_en: str
    count: int


class FeedStatistics(Out):
    filters: dict[str, str]
    top: int
    total: int
    overdue: int
    by_type: list[TypeCount]
    by_status: list[StatusCount]
    by_category: list[dict[str, Any]]
    categories_count: int
    by_district: list[dict[str, Any]]


# --- routing and geocoding (api/routers/routing.py, geocode.py) --------------------------------


class Areas(Out):
    lon: float | None
    lat: float | None
    areas: list[dict[str, Any]]
    council: dict[str, Any] | None = None  # the council of the point (issue 17)


class RouteDecision(Out):
    executor_id: int | None
    executor_code: str | None
    executor_name: str | None
    rule_id: int | None
    reason: str
    reason_en: str | None = None  # the reason's fixed words in English (names as stored)
    category_id: int
    located: bool
    district_id: int | None
    ward_id: int | None
    areas: list[dict[str, Any]]
    council_id: int | None = None  # the appeal's council (issue 17)
    council_code: str | None = None


class ReverseGeocode(Out):
    lon: float
    lat: float
    address: str | None
    distance_m: float | None
    district: CodeName | None


class GeocodeHit(Out):
    type: str
    label: str | None
    lon: float
    lat: float
    # A house placed between its street's known houses (gis/geocode.py interpolate_house).
    approximate: bool = False


class GeocodeSearch(Out):
    q: str
    items: list[GeocodeHit]
    returned: int


# --- accounts (api/routers/auth.py, me.py) -----------------------------------------------------


class Status(Out):
    status: str


class SignedOutAll(Status):
    sessions_revoked: int


class BearerToken(Out):
    """`session: token`: a bearer token; `session: cookie`: the cookie is set and the answer
    holds its CSRF token instead."""

    access_token: str | None = None
    token_type: str | None = None
    csrf_token: str | None = None
    expires_at: str


class IdName(Out):
    id: int
    name: str | None


class SessionInfo(Out):
    kind: str | None
    expires_at: str | None


class Me(Out):
    id: int
    email: str
    full_name: str | None
    role: str
    executor: IdName | None
    executor_ids: list[int]
    ward_number: int | None
    is_demo: bool
    email_confirmed: bool
    created_at: str
    session: SessionInfo
    csrf_token: str | None = Field(default=None, description="cookie sessions only")


class MyData(Out):
    account: dict[str, Any]
    appeals: list[dict[str, Any]]
    personal_data_reads: list[dict[str, Any]]
    sessions: list[dict[str, Any]]
    identities: list[dict[str, Any]]
    exported_at: str


# --- staff (api/routers/staff.py) --------------------------------------------------------------


class QueueItem(Out):
    number: str
    kind: str | None
    status: str
    channel: str | None
    privileged: bool
    address: str | None
    created_at: str | None
    deadline_at: str | None
    extended_until: str | None
    closed_at: str | None
    updated_at: str | None
    category_id: int
    category: str
    category_en: str | None
    district_code: str | None
    district: str | None
    ward_number: int | None
    executor_code: str | None
    executor: str | None
    is_public: bool
    lat: float | None
    lon: float | None
    overdue: bool | None


class Queue(Out):
    items: list[QueueItem]
    returned: int
    next: str | None
    matched: int | None = None  # with count=true: how many the filter matches in all


class StaffEvent(Out):
    at: str | None
    actor: str | None
    action: str
    old: Any
    new: Any
    comment: str | None


class StaffPhoto(Out):
    url: str
    kind: str
    content_type: str | None
    width: int | None
    height: int | None


class CardCouncil(Out):
    """An appeal's council on the staff's cards (issue 17)."""

    code: str
    slug: str
    name: str
    name_en: str | None = None


class StaffAppeal(QueueItem):
    text: str | None
    result: str | None
    result_en: str | None
    routing_reason: str | None = None
    routing_reason_en: str | None = None  # its fixed words in English; names as stored
    channel_name: str | None = None  # «Телефон 1551», «Open311: NAME» (an application's)
    channel_name_en: str | None = None
    council: CardCouncil | None = None  # issue 17: the appeal's council
    events: list[StaffEvent]
    photos: list[StaffPhoto] = []
    resolutions: list[Resolution] = []
    extension_request: ExtensionRequest | None = None


class Author(Out):
    full_name: str | None
    email: str | None
    phone: str | None
    postal_address: str | None
    privilege: str | None


class AppealAuthor(Out):
    number: str
    author: Author | None


class MyExecutor(Out):
    id: int
    code: str | None
    name: str | None
    parent_id: int | None


class MyExecutors(Out):
    items: list[MyExecutor]


# --- the curator (api/routers/curator.py, gis/curator.py) ---


class CuratorCounts(Out):
    counts: dict[str, int]


class CuratorItem(Out):
    number: str
    status: str
    result: str | None
    result_en: str | None = None  # the result's known wording in English
    awaiting: str | None  # on check: 'curator' or 'author'; not in competence: 'redirect'
    privileged: bool
    address: str | None
    created_at: str | None
    answered_at: str | None
    deadline_at: str | None
    overdue: bool | None
    category_id: int
    category_code: str | None
    category: str
    category_en: str | None
    kind_name: str | None
    kind_name_en: str | None
    executor_code: str | None
    executor: str | None
    lon: float | None
    lat: float | None


class CuratorQueue(Out):
    queue: str
    count: int
    returned: int
    items: list[CuratorItem]


class CuratorAnswer(Out):
    text: str | None
    kind: str | None
    at: str | None
    by: str | None
    photos: list[str]


class CuratorReturn(Out):
    reason: str | None
    at: str | None
    by: str | None


class CuratorTerritory(Out):
    executor_code: str | None
    executor: str | None
    name: str | None
    geometry: dict[str, Any]


class CuratorCard(CuratorItem):
    council: CardCouncil | None = None  # issue 17: the appeal's council (the transfer's picker)
    text: str | None
    routing_reason: str | None
    routing_reason_en: str | None = None
    photos: list[str]
    answer: CuratorAnswer | None
    returned: CuratorReturn | None
    territories: list[CuratorTerritory]


# --- the manager's АРМ (api/routers/manager.py, gis/manager.py) ---


class ManagerCounts(Out):
    open: int
    overdue: int
    due_2d: int
    due_later: int
    control: int
    extension: int  # with an executor's request for a longer term awaiting a decision


class ManagerRow(ManagerCounts):
    executor_id: int
    code: str | None
    name: str | None


class ManagerSummary(Out):
    rows: list[ManagerRow]
    total: ManagerCounts


class ManagerItem(Out):
    number: str
    status: str
    privileged: bool
    address: str | None
    created_at: str | None
    deadline_at: str | None
    overdue: bool | None
    control_until: str | None
    category: str
    category_en: str | None
    kind_name: str | None
    kind_name_en: str | None
    executor_id: int | None
    executor_code: str | None
    executor: str | None
    lon: float | None
    lat: float | None


class ManagerList(Out):
    bucket: str
    count: int
    returned: int
    items: list[ManagerItem]


class ControlSet(Out):
    number: str
    control_until: str | None
    control_by: int | None


# --- administration (api/routers/admin.py) -----------------------------------------------------


class User(Out):
    id: int
    email: str
    full_name: str | None
    role: str
    executor_id: int | None
    executor_code: str | None
    executor: str | None
    ward_number: int | None
    is_active: bool
    is_demo: bool
    created_at: str | None
    email_confirmed_at: str | None
    council: str | None = None  # issue 17: the council's code (null: oblast staff, citizens)
    password: str | None = Field(
        default=None, description="Only when the account is created without one: shown once"
    )


class Users(Out):
    items: list[User]
    next: str | None


class CategoryRow(Out):
    id: int
    code: str | None
    name: str
    parent_id: int | None
    deadline_days: int | None
    needs_study: bool | None
    is_active: bool
    keywords: list[str] = []


class DirectoryCategory(Out):
    id: int
    code: str | None
    name: str
    name_en: str | None
    parent_id: int | None
    kind: str | None
    kind_en: str | None
    deadline_days: int | None
    needs_study: bool | None
    is_active: bool
    keywords: list[str] = []


class DirectoryCategories(Out):
    items: list[DirectoryCategory]
    returned: int


class DirectoryExecutor(Out):
    id: int
    code: str
    name: str
    short_name: str | None
    kind: str
    parent_id: int | None
    district_code: str | None
    territories: int


class DirectoryExecutors(Out):
    items: list[DirectoryExecutor]
    returned: int


class TerritoryReplacement(Out):
    id: int
    code: str
    name: str
    executor_id: int
    version: int
    applied: bool
    old: dict[str, Any]
    new: dict[str, Any]
    old_area_m2: float
    new_area_m2: float


class RoutingRule(Out):
    id: int
    priority: int
    category_id: int | None
    category: str | None
    district_code: str | None
    ward_number: int | None
    territory_code: str | None
    executor_id: int
    executor_code: str | None
    executor: str | None
    is_active: bool
    note: str | None


class RoutingRules(Out):
    items: list[RoutingRule]
    next: str | None


class NotificationRow(Out):
    """One notification of the outbox (gis/notify.py), for the administrator: the recipient
    masked (a…@…, +380…67), never the text."""

    id: int
    number: str
    kind: str
    channel: str
    recipient: str
    language: str
    status: str
    attempts: int
    last_error: str | None
    created_at: str
    next_attempt_at: str
    sent_at: str | None


class Notifications(Out):
    items: list[NotificationRow]
    next: str | None


class LayerRow(Out):
    name: str
    title: str
    title_en: str | None
    description: str | None
    kind: str
    owner_department: str | None
    update_regime: str | None
    last_updated: str | None
    is_public: bool


# --- the daily dispatch (api/routers/dispatch.py, gis/dispatch.py) -----------------------------


class DispatchBatch(Out):
    """One day's sending of a subscription: pending, sent or failed (after its attempts)."""

    id: int
    subscription_id: int | None = None
    day: str
    status: str
    attempts: int
    last_error: str | None
    created_at: str | None = None
    sent_at: str | None
    appeals: int


class DispatchBatches(Out):
    items: list[DispatchBatch]
    returned: int


class DispatchSubscription(Out):
    """A subscription; `webhook_secret` only in the answer that made it (or a new webhook)."""

    id: int
    name: str
    category_ids: list[int]
    district_code: str | None
    ward_number: int | None
    area: dict[str, Any] | None
    email: str | None
    webhook_url: str | None
    send_at: str
    format: str
    is_active: bool
    created_at: str
    last_batch: DispatchBatch | None
    webhook_secret: str | None = None


class DispatchSubscriptions(Out):
    items: list[DispatchSubscription]
    returned: int


# --- Open311 client applications (api/routers/open311_keys.py) ---------------------------------


class Open311Client(Out):
    id: int
    name: str
    created_at: str
    created_by: str | None = None
    last_used_at: str | None = None
    revoked_at: str | None = None
    revoked: bool
    calls_30d: int


class Open311NewClient(Open311Client):
    key: str  # shown this once: only its SHA-256 is kept


class Open311Clients(Out):
    items: list[Open311Client]
    returned: int


class Open311Call(Out):
    at: str
    method: str
    path: str
    status: int


class Open311Calls(Out):
    items: list[Open311Call]
    returned: int


# --- placement rules (api/routers/placement_rules.py) -----------------------------------------


class PlacementRule(Out):
    id: int
    layer: str
    kind: str
    distance_m: float | None = None
    other_layer: str | None = None
    title: str
    title_en: str | None = None
    enabled: bool
    created_at: str
    created_by: int | None = None


class PlacementRules(Out):
    items: list[PlacementRule]
    returned: int


class PlacementRuleLayer(Out):
    name: str
    kind: str
    title: str
    title_en: str | None = None
    geometry_type: str
    polygons: bool


class PlacementRuleLayers(Out):
    items: list[PlacementRuleLayer]
    returned: int


# --- permits over time (api/routers/planner_permits.py, gis/permits.py) -----------------------


class PermitDue(Out):
    """A structure or kiosk whose permit expires within 30 days or has expired (Kyiv's day);
    `owner`: the permit's holder (planners and administrators only), `department`: the
    layer's owning department (the catalogue's owner_department)."""

    layer: Literal["advertising_structures", "kiosks"]
    id: int
    code: str | None = None
    kind: str | None = None
    address: str | None = None
    permit_number: str | None = None
    permit_type: str | None = None
    permit_valid_until: dt.date
    days_left: int
    owner: str | None = None
    department: str | None = None
    lon: float | None = None  # a point of the feature (on a kiosk's shape), for the map
    lat: float | None = None


class PermitCounts(Out):
    expiring: int
    expired: int


class PermitsDue(Out):
    today: dt.date
    status: Literal["expiring", "expired"]
    items: list[PermitDue]
    returned: int
    counts: PermitCounts


# --- layers and tiles (api/routers/layer_catalogue.py, tiles.py) -------------------------------


class CatalogueLayer(Out):
    name: str
    title: str
    title_en: str | None
    description: str | None
    kind: str
    geometry_type: str | None
    owner_department: str | None
    update_regime: str | None
    last_updated: str | None
    source: str | None
    attribution: str | None
    overdue: bool
    due_by: str | None
    collection: str
    tilejson: str


class LayerCatalogue(Out):
    layers: list[CatalogueLayer]
    returned: int


class VectorLayer(Out):
    id: str
    fields: dict[str, str]
    minzoom: int
    maxzoom: int
    description: str | None


class TileJSON(Out):
    tilejson: str
    name: str
    description: str | None
    tiles: list[str]
    vector_layers: list[VectorLayer]
    minzoom: int
    maxzoom: int
    bounds: list[float]
    center: list[float]
    scheme: str
    format: str
    attribution: str | None = None


# --- wards (api/routers/wards.py, gis/ward_report.py) ------------------------------------------


class WardInfo(Out):
    number: int
    name: str | None
    geometry: dict[str, Any] | None
    bbox: list[float] | None
    name_adds: bool


class WardStatusCount(Out):
    status: str
    name: str
    count: int
    overdue: int


class WardCategoryCount(Out):
    category_id: int | None = None
    category: str | None
    count: int
    overdue: int


class WardMonth(Out):
    month: str
    label: str
    count: int
    closed: int


class WardAppeal(Out):
    number: str
    category: str | None
    status: str
    status_name: str
    address: str | None
    created_at: str | None
    deadline_at: str | None
    overdue: bool


class WardStatistics(Out):
    ward: WardInfo
    total: int
    open: int
    overdue: int
    by_status: list[WardStatusCount]
    by_category: list[WardCategoryCount]
    by_month: list[WardMonth]
    latest: list[WardAppeal]


# --- OGC API – Features (api/routers/ogc.py) ---------------------------------------------------


class Link(Out):
    href: str
    rel: str
    type: str
    title: str | None = None


class Landing(Out):
    title: str
    description: str
    links: list[Link]


class Conformance(Out):
    conformsTo: list[str]


class Collection(Out):
    id: str
    title: str
    description: str
    itemType: str
    crs: list[str]
    links: list[Link]
    title_en: str | None = None
    attribution: str | None = None
    extent: dict[str, Any] | None = None


class Collections(Out):
    links: list[Link]
    collections: list[Collection]


class Queryables(Out):
    model_config = ConfigDict(extra="allow", populate_by_name=True)

    schema_: str = Field(alias="$schema")
    id_: str = Field(alias="$id")
    type: str
    title: str
    properties: dict[str, dict[str, Any]]
    additionalProperties: bool


class Feature(Out):
    type: str
    id: Any = None
    geometry: dict[str, Any] | None
    properties: dict[str, Any] | None
    links: list[Link] | None = None


class FeatureCollection(Out):
    type: str
    numberReturned: int
    numberMatched: int | None = None
    timeStamp: str
    links: list[Link]
    features: list[Feature]


# --- a permit's documents (api/routers/permit_documents.py, gis/permit_documents.py) ----------


class PermitDocument(Out):
    """A file of a structure's or a kiosk's permit; `url`: where it is downloaded from,
    `uploaded_by`: the name of who attached it (null once that account is gone)."""

    id: int
    layer: Literal["advertising_structures", "kiosks"]
    feature_id: int
    filename: str
    media_type: Literal["application/pdf", "image/jpeg", "image/png"]
    size: int
    sha256: str
    uploaded_at: dt.datetime
    uploaded_by: str | None = None
    url: str


class PermitDocuments(Out):
    """A feature's documents, oldest first, and the limits of an attachment."""

    items: list[PermitDocument]
    max_documents: int
    max_bytes: int


# POST …/documents: one file (PDF, JPEG or PNG) in the multipart field `file`.
DOCUMENT_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {"file": {"type": "string", "format": "binary"}},
                }
            }
        },
    }
}
# GET /api/v1/planner/documents/{doc_id}: the file itself.
DOCUMENT_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The document, as an attachment",
        "content": {t: {} for t in ("application/pdf", "image/jpeg", "image/png")},
    }
}


# --- what routes that read their own input take (documentation for clients and the fuzz) -------
# These routes parse the body or the query themselves (one parser for JSON and forms, filters
# that repeat), so FastAPI cannot see their inputs; `openapi_extra=` on each route names them.


def _body(schema: dict[str, Any], *, form: dict[str, Any] | None = None) -> dict[str, Any]:
    content: dict[str, Any] = {"application/json": {"schema": schema}}
    if form is not None:
        content["multipart/form-data"] = {"schema": form}
    return {"requestBody": {"required": False, "content": content}}


def _object(*required: str, **properties: dict[str, Any]) -> dict[str, Any]:
    out = {"type": "object", "properties": properties, "additionalProperties": False}
    return {**out, "required": list(required)} if required else out


_TEXT = {"type": "string"}
_ID_OR_CODE = {"anyOf": [{"type": "integer"}, {"type": "string"}]}
_DATE_TIME = {"type": "string", "format": "date-time"}
# Up to 5 photos (JPEG, PNG or WebP) beside the fields, or the fields as JSON in `data`.
_PHOTOS_FORM = {
    "type": "object",
    "properties": {
        "data": {"type": "string", "description": "the JSON body's fields, as JSON"},
        "photos": {"type": "array", "items": {"type": "string", "format": "binary"}},
    },
}

APPEAL_BODY = _body(
    _object(
        "category",
        "text",
        "location",
        "author",
        category=_ID_OR_CODE,
        text=_TEXT,
        location={
            "anyOf": [
                _object("lon", "lat", lon={"type": "number"}, lat={"type": "number"}),
                _object("street", street=_TEXT, house=_TEXT),
                _object("address", address=_TEXT),
                _object("no_location", no_location={"type": "boolean"}),
            ]
        },
        author=_object(
            "full_name",
            "postal_address",
            full_name=_TEXT,
            email=_TEXT,
            phone=_TEXT,
            postal_address=_TEXT,
            privilege=_TEXT,
            notify_channel={
                "type": "string",
                "enum": ["email", "sms", "viber", "none"],
                "description": "how the author hears of the appeal (default email); sms and viber"
                " need a phone and a configured gateway, email an e-mail address, else 400",
            },
            language={
                "type": "string",
                "enum": ["uk", "en"],
                "description": "the language of the author's messages; default: the request's"
                " (a caller registered by an operator: uk)",
            },
        ),
        consent_to_publish={"type": "boolean"},
        channel=_TEXT,
    ),
    form=_PHOTOS_FORM,
)
# Retries of a submission with the same key get the first answer (gis/intake.py).
APPEAL_BODY["parameters"] = [
    {
        "name": "Idempotency-Key",
        "in": "header",
        "required": False,
        "schema": {"type": "string", "pattern": "^[!-~]{1,128}$"},
        "description": "Any unique key of 1–128 printable ASCII characters: a retry with the "
        "same key gets the first answer",
    }
]
ANSWER_BODY = _body(
    _object("text", text=_TEXT, kind={"type": "string", "enum": ["done", "explained", "funding"]}),
    form=_PHOTOS_FORM,
)
REASON_BODY = _body(_object("reason", reason=_TEXT))
# A caller's support recorded by the contact centre (a citizen sends none).
SUPPORT_BODY = _body(_object(phone=_TEXT, email=_TEXT, full_name=_TEXT, channel=_TEXT))
LOCATE_BODY = _body(
    _object("lon", "lat", lon={"type": "number"}, lat={"type": "number"}, address=_TEXT)
)
REDIRECT_BODY = _body(_object("executor", "reason", executor=_ID_OR_CODE, reason=_TEXT))
DELEGATE_BODY = _body(
    _object("executor", executor=_ID_OR_CODE, deadline_at=_DATE_TIME, comment=_TEXT)
)
RESOLUTIONS_BODY = _body(
    _object(
        "co_executors",
        co_executors={
            "type": "array",
            "items": _object("executor", executor=_ID_OR_CODE, deadline_at=_DATE_TIME, text=_TEXT),
        },
        comment=_TEXT,
    )
)
EXTEND_BODY = _body(_object("reason", until=_DATE_TIME, days={"type": "integer"}, reason=_TEXT))
CHECK_BODY = _body(
    _object("decision", decision={"type": "string", "enum": ["accept", "return"]}, comment=_TEXT)
)
COMMENT_BODY = _body(_object(comment=_TEXT))
# The holder of an author's link (gis/author_links.py): its token (the link's ?t=), and for a
# rejection what was not done.
_TOKEN = {"type": "string", "minLength": 32, "maxLength": 32,
          "description": "the token of the author's link (its ?t=)"}  # fmt: skip
AUTHOR_CONFIRM_BODY = _body(_object("token", token=_TOKEN, comment=_TEXT))
AUTHOR_REJECT_BODY = _body(
    _object("token", "comment", token=_TOKEN,
            comment={"type": "string", "description": "what was not done (required)"})
)  # fmt: skip
AUTHOR_UNSUBSCRIBE_BODY = _body(_object("token", token=_TOKEN))
CONTROL_BODY = _body(_object("until", until={"type": ["string", "null"], "format": "date"}))


def _query(name: str, description: str, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False,
            "schema": schema or {"type": "string"}, "description": description}  # fmt: skip


_FEED_FILTERS = [
    _query("type", "complaint, thanks (comma-separated)"),
    _query("period", "day, week, month, all, custom"),
    _query("date_from", "YYYY-MM-DD", {"type": "string", "format": "date"}),
    _query("date_to", "YYYY-MM-DD", {"type": "string", "format": "date"}),
    _query("status", "statuses, comma-separated"),
    _query("category", "category ids or codes, comma-separated"),
    _query("district", "district ids or KATOTTH codes, comma-separated"),
    _query("council", "council slugs or KATOTTH codes, comma-separated"),
    _query("bbox", "min lon, min lat, max lon, max lat"),
]
FEED_QUERY = {
    "parameters": [
        *_FEED_FILTERS,
        _query("limit", "1..500", {"type": "integer"}),
        _query("after", "the `next` of the previous page"),
    ]
}
FEED_STATISTICS_QUERY = {
    "parameters": [*_FEED_FILTERS, _query("top", "1..200", {"type": "integer"})]
}
# The tiles take the items' filters: each layer's queryables (GET /ogc/collections/{id}/queryables
# lists which apply; another is a 400).
TILE_QUERY = {
    "parameters": [
        _query("datetime", "RFC 3339 instant or interval 'start/end' ('..' open)"),
        _query("status", "appeal statuses, comma-separated"),
        _query("kind", "complaint, thanks"),
        _query("category", "category ids, comma-separated"),
        _query("district", "district ids, comma-separated"),
        _query("ward", "ward ids, comma-separated"),
        _query("executor", "executor ids, comma-separated"),
        _query("council", "council slugs or KATOTTH codes, comma-separated (unknown: 404)"),
    ]
}


# --- reports (api/routers/reports.py, gis/reports.py) --------------------------------------------


class ReportColumn(Out):
    key: str
    title_uk: str
    title_en: str
    type: str  # string, integer, number, date, boolean


class Report(Out):
    """A report's table: its columns (key, titles, type), rows by those keys and the totals row
    (None where a report has none); `date`: the day of `daily`. `scope`: what it counts —
    "public" (the city, for anyone not a reader), "city" (the contact centre, admin),
    "organisations" (an executor's or manager's), "ward" (a deputy's); with several councils
    (issue 17) "council" (a council's contact centre, admin) and "oblast" (oblast staff)."""

    name: str
    scope: Literal["public", "city", "council", "oblast", "organisations", "ward"]
    size: int | None = None  # hexagons: the hexagon's edge in ground metres
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    date: dt.date | None = None
    language: str
    columns: list[ReportColumn]
    rows: list[dict[str, Any]]
    totals: dict[str, Any] | None = None


# --- appeals about structures (api/routers/structure_appeals.py, gis/structure_links.py) -------


class StructureAppeals(Out):
    """A structure's linked appeals, newest first, with the public feed's fields only."""

    layer: str
    feature_id: int
    count: int
    items: list[FeedItem]


class GeoFeature(Out):
    type: str
    id: Any = None
    geometry: dict[str, Any] | None
    properties: dict[str, Any]


class GeoFeatures(Out):
    type: str
    features: list[GeoFeature]


class PlannerComplaints(Out):
    """The structures with the most linked appeals (properties: layer, id, code, kind, address,
    appeals, open, last_at), most first; the appeals about a layer with no registered
    structure within `distance_m` (the public feed's fields and their `layer`), newest first."""

    layer: str | None
    date_from: dt.date | None
    date_to: dt.date | None
    distance_m: float
    structures: GeoFeatures
    unmatched: GeoFeatures


# --- bulk import of a register (api/routers/structure_import.py, importers/registers.py) ------


class RegisterCounts(Out):
    added: int
    changed: int
    unchanged: int
    removed: int
    unplaced: int


class RegisterAdded(Out):
    """A row that becomes a new structure; `id` once applied; `placed_by`: coordinates or
    address (geocoded)."""

    row: int
    code: str
    id: int | None = None
    kind: str | None = None
    address: str | None = None
    lon: float
    lat: float
    placed_by: str | None = None


class RegisterChange(Out):
    property: str
    old: Any = None
    new: Any = None


class RegisterChanged(Out):
    """A row whose structure changes: each property old → new; `moved_m`: how far its point
    moves (null: it stays)."""

    row: int
    code: str
    id: int
    changes: list[RegisterChange]
    moved_m: float | None = None


class RegisterRemoved(Out):
    """A structure of the layer the file does not have (retired only with retire_missing)."""

    code: str
    id: int
    kind: str | None = None
    address: str | None = None


class RegisterRule(Out):
    id: int
    kind: str
    title: str
    title_en: str | None = None
    distance_m: float | None = None
    other_layer: str | None = None


class RegisterUnplaced(Out):
    """A row that could not be placed: `reason` a stable code, `detail` the text, `rule` the
    placement rule that refused it."""

    row: int
    code: str | None = None
    reason: str
    detail: str
    rule: RegisterRule | None = None


class RegisterImport(Out):
    """A register's import: its preview (nothing changed) or its application (`applied`);
    each list at most `listed_max` items, the counts complete."""

    layer: Literal["advertising_structures", "kiosks"]
    mode: Literal["preview", "apply"]
    crs: str
    retire_missing: bool
    counts: RegisterCounts
    added: list[RegisterAdded]
    changed: list[RegisterChanged]
    removed: list[RegisterRemoved]
    unplaced: list[RegisterUnplaced]
    listed_max: int
    applied: bool


# Issue 17, councils as tenants: each slice adds its models below its own line only.
# --- issue 17: A ---
TRANSFER_BODY = _body(
    _object("council", "reason", council={"type": "string", "maxLength": 64}, reason=_TEXT)
)


class Transferred(Transition):
    """Art. 7: the appeal went to another council (gis/lifecycle.transfer)."""

    council: dict[str, Any]
    executor_id: int | None
    executor_name: str | None
    deadline_at: str
    late: bool
    days_used: int
    author_notified: bool


# --- issue 17: B ---
class MeCouncil(Out):
    """The council of a signed-in member of staff (GET /api/v1/me `council`; null: oblast
    staff or a citizen)."""

    code: str
    slug: str
    name: str


class AdminCouncil(Out):
    """A council as its administrator sees it (GET|PATCH /api/v1/admin/councils)."""

    code: str
    slug: str
    name: str
    name_en: str | None
    number_prefix: str
    occupied: bool
    occupied_since: str | None
    occupied_source: str | None
    has_appeals: bool


class AdminCouncils(Out):
    items: list[AdminCouncil]
    returned: int


class CouncilCategoryRow(Out):
    id: int
    code: str
    name: str
    name_en: str | None
    parent_id: int
    kind: str
    own: bool
    catalogue_deadline_days: int
    deadline_days: int | None
    offered: bool
    catalogue_active: bool


class CouncilCategories(Out):
    """A council's choice of the catalogue (GET|PUT /api/v1/directory/councils/{code}/
    categories)."""

    council: dict[str, Any]
    items: list[CouncilCategoryRow]
    returned: int


# --- issue 17: C ---
# --- issue 17: D ---
class CouncilPublic(BaseModel):
    """A council as every API shows it (PLAN17 §4, the contract)."""

    code: str
    slug: str
    name: str
    name_en: str | None
    number_prefix: str
    occupied: bool
    occupied_since: str | None


class CouncilList(BaseModel):
    """GET /api/v1/councils: every council, and the credit of the boundaries drawn."""

    items: list[CouncilPublic]
    attribution: str


class CouncilExtent(BaseModel):
    bbox: list[float]  # west, south, east, north (WGS84)
    area_km2: float


class CouncilDetail(CouncilPublic):
    """GET /api/v1/councils/{code}: one council, its boundary's extent (null: not loaded)."""

    occupied_source: str | None
    extent: CouncilExtent | None
    attribution: str
