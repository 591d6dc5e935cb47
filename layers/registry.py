"""The layer registry: every layer the portal and the APIs serve, as a typed object.

Core layers (areas, advertising structures, kiosks) are declared here in code: their table,
their columns and which of those columns are public. Thematic layers are data, not code: an
import creates a row of kind 'thematic' in the `layers` table and puts its features in
`layer_features`; the registry reads those rows on every lookup, so a layer imported while the
server runs is served at once. A `layers` row of kind 'core' with `is_public = false` hides
the core layer of the same name.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Literal

from psycopg import AsyncConnection

from gis.models import APPEAL_STATUSES
from layers.errors import UnknownCollection

OSM_ATTRIBUTION = "© OpenStreetMap contributors (ODbL)"


@dataclass(frozen=True)
class Style:
    """How the portal draws a layer by default (Leaflet path options)."""

    color: str = "#33658a"
    weight: float = 1.5
    fill_color: str | None = None
    fill_opacity: float = 0.2
    radius: float = 5.0  # of point markers, in pixels

    def as_leaflet(self) -> dict[str, object]:
        return {
            "color": self.color,
            "weight": self.weight,
            "fillColor": self.fill_color or self.color,
            "fillOpacity": self.fill_opacity,
            "radius": self.radius,
        }


@dataclass(frozen=True)
class Queryable:
    """A property a client may filter on: `?{name}=v1,v2` keeps features whose `column` is
    one of the values (OGC API – Features' property filters; also the tiles' filters)."""

    name: str
    column: str
    type: Literal["integer", "string"]
    title: str
    title_en: str
    enum: tuple[str, ...] | None = None  # the values a string may take, when they are few
    # An integer queryable may also be given by name: a value that is not a number is
    # compared with this column (`category=Ліфти` as well as `category=12`).
    name_column: str | None = None
    # A value looked up before the query (layers.features.resolve_filters): "council" — a
    # council's slug or KATOTTH code in any case, an unknown one a 404 `council_not_found`
    # (as the feed's `council`); `column` holds the council's id.
    lookup: Literal["council"] | None = None


STAFF = frozenset({"operator", "curator", "executor", "manager", "deputy", "admin"})
EVERYONE = None  # Layer.roles: anyone, signed in or not


@dataclass(frozen=True)
class Layer:
    """One servable layer. Identifiers are trusted (they come from this file or from the
    `layers` table's primary key) but are always quoted as identifiers in SQL all the same."""

    id: str
    title: str  # Ukrainian, shown in the portal
    title_en: str | None
    table: str
    # Columns served as GeoJSON properties, in this order; nothing else leaves the database.
    properties: tuple[str, ...] = ()
    geometry_column: str = "geom"
    id_column: str = "id"
    geometry_type: str = "Geometry"  # GeoJSON type name, for the catalogue
    description: str | None = None
    style: Style = field(default_factory=Style)
    datetime_column: str | None = None  # what `datetime=` filters on; None: no temporal extent
    current_only: bool = False  # versioned areas: only rows with valid_to IS NULL
    properties_column: str | None = None  # a JSONB column served whole (thematic layers)
    layer_name: str | None = None  # thematic layers: their rows in layer_features
    attribution: str | None = None
    kind: Literal["core", "thematic"] = "core"
    queryables: tuple[Queryable, ...] = ()
    # Who may see the layer at all (None: anyone); others are told it does not exist.
    roles: frozenset[str] | None = EVERYONE
    # Properties added to `properties` for a role (internal attributes for staff).
    role_properties: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    # What a vector tile carries of each feature: few and small (the card reads the rest).
    tile_properties: tuple[str, ...] | None = None  # None: the same as `properties`
    # Below this zoom the tiles hold clusters (counts per grid cell) instead of features.
    cluster_below_zoom: int | None = None
    # Pages in id order, or in (datetime, id) order: a layer whose ids follow its datetime
    # (appeals) would otherwise walk every older id to reach "the last three months".
    page_order: Literal["id", "datetime"] = "id"
    # Editable layers (issue 16): a retired row (retired_at set) is never served.
    retirable: bool = False
    # property → the boolean column that makes it personal data (a permit's holder who is a
    # private person): served as null to every role but `private_roles`.
    private_when: Mapping[str, str] = field(default_factory=dict)
    private_roles: frozenset[str] = frozenset()
    # Councils (issue 17): the row's council as SQL over the layer's table `t` (trusted: it
    # comes from this file); None for a layer of no council. A council's own staff see the
    # role-only properties (role_properties, private_when) of their council's rows only:
    # another council's are null, so the rows stay the public's (layers/features.py). With
    # `tenant_rows` (a staff-only layer) they see only their council's rows at all.
    tenant: str | None = None
    tenant_rows: bool = False

    def visible_to(self, role: str | None) -> bool:
        return self.roles is None or role in self.roles

    def properties_for(self, role: str | None) -> tuple[str, ...]:
        """The properties this role sees, the public ones first."""
        extra = self.role_properties.get(role or "", ())
        return self.properties + tuple(p for p in extra if p not in self.properties)

    def queryable(self, name: str) -> Queryable | None:
        return next((q for q in self.queryables if q.name == name), None)


_AREA = ("id", "code", "name", "name_en")
_PERMIT = (
    "owner", "permit_number", "permit_type", "permit_valid_from", "permit_valid_until",
    "address", "generated",
)  # fmt: skip
# Planners and administrators edit these layers (gis/structures.py): they see whether the
# holder is a person, and each feature's version (the ETag an edit's If-Match names).
EDITORS = frozenset({"planner", "admin"})
_EDITING = ("holder_is_person", "version", "updated_at")
_STRUCTURE_EDITING = {
    "retirable": True,
    "private_when": MappingProxyType({"owner": "holder_is_person"}),
    "private_roles": EDITORS,
    "role_properties": MappingProxyType({role: _EDITING for role in EDITORS}),
}

_APPEAL_PUBLIC = (
    "id", "number", "kind", "category_id", "category", "status", "status_name", "result",
    "district_id", "district", "ward", "executor", "address", "text", "created_at",
    "deadline_at", "closed_at", "overdue", "support_count",
)  # fmt: skip
# What staff see besides: how the appeal was routed and where it came from. Never the
# author: appeal_authors is not part of the layer at all.
_APPEAL_INTERNAL = (
    "executor_id",
    "ward_id",
    "channel",
    "privileged",
    "routing_reason",
    "generated",
)
_APPEAL_QUERYABLES = (  # fmt: skip
    Queryable("status", "status", "string", "Стан", "Status", enum=APPEAL_STATUSES),
    Queryable("kind", "kind", "string", "Тип", "Type", enum=("complaint", "thanks")),
    Queryable(
        "category",
        "category_id",
        "integer",
        "Категорія (id або назва)",
        "Category (id or name)",
        name_column="category",
    ),
    Queryable(
        "district",
        "district_id",
        "integer",
        "Район (id або назва)",
        "District (id or name)",
        name_column="district",
    ),
    Queryable("ward", "ward", "integer", "Виборчий округ (номер)", "Electoral ward (number)"),
    Queryable(
        "executor",
        "executor_id",
        "integer",
        "Виконавець (id або назва)",
        "Executor (id or name)",
        name_column="executor",
    ),
    Queryable(
        "council",
        "council_id",
        "string",
        "Громада (slug або код КАТОТТГ)",
        "Community (slug or KATOTTH code)",
        lookup="council",
    ),
)

# The core layers, in the order the catalogue lists them.
_CORE = (
    Layer(
        id="appeals",
        title="Звернення громадян",
        title_en="Citizens' appeals",
        table="appeal_features",
        properties=_APPEAL_PUBLIC,
        geometry_type="Point",
        datetime_column="created_at",
        description=(
            "Звернення до контакт-центру: категорія, стан, виконавець, строки. Без персональних "
            "даних; текст — лише якщо заявник дозволив його оприлюднити."
        ),
        style=Style(color="#c0392b", fill_opacity=0.85, radius=5),
        queryables=_APPEAL_QUERYABLES,
        role_properties={role: _APPEAL_INTERNAL for role in STAFF},
        tenant="t.council_id",
        tile_properties=("id", "number", "status", "kind", "category_id", "overdue"),
        page_order="datetime",
        cluster_below_zoom=14,
    ),
    Layer(
        id="hromadas",
        title="Громади",
        title_en="Hromadas (territorial communities)",
        table="hromadas",
        properties=_AREA,
        geometry_type="MultiPolygon",
        current_only=True,
        description="Межі територіальних громад (для Києва — межа міста).",
        style=Style(color="#555555", weight=2.5, fill_opacity=0.0),
        attribution=OSM_ATTRIBUTION,
    ),
    Layer(
        id="districts",
        title="Райони",
        title_en="Districts",
        table="districts",
        properties=_AREA,
        geometry_type="MultiPolygon",
        current_only=True,
        description="Адміністративні райони міста (чинні межі).",
        style=Style(color="#2f4b7c", weight=1.5, fill_color="#7a9cc6", fill_opacity=0.25),
        attribution=OSM_ATTRIBUTION,
    ),
    Layer(
        id="wards",
        title="Виборчі округи",
        title_en="Electoral wards",
        table="wards",
        properties=("id", "number", "name", "description", "generated"),
        geometry_type="MultiPolygon",
        current_only=True,
        description="Виборчі округи міської ради (чинні межі).",
        style=Style(color="#8a5a9e", weight=1.0, fill_opacity=0.1),
    ),
    Layer(
        id="executor_territories",
        title="Території виконавців",
        title_en="Executor territories",
        table="executor_territories",
        properties=("id", "code", "name", "executor_id"),
        geometry_type="MultiPolygon",
        current_only=True,
        description="Території обслуговування виконавців (ЖЕД, комунальні служби).",
        style=Style(color="#2a9d8f", weight=1.0, fill_opacity=0.1),
        roles=STAFF | {"planner"},  # the routing's machinery: internal
        tenant="(SELECT e.council_id FROM executors e WHERE e.id = t.executor_id)",
        tenant_rows=True,
        # An executor's cabinet draws only its own organisations' territories.
        queryables=(
            Queryable("executor_id", "executor_id", "integer", "Виконавець (id)", "Executor (id)"),
        ),
    ),
    Layer(
        id="advertising_structures",
        title="Рекламні конструкції",
        title_en="Advertising structures",
        table="advertising_structures",
        properties=("id", "code", "kind", "size", "width_m", "height_m", "sides", *_PERMIT),
        geometry_type="Point",
        description="Рекламні конструкції з дозволами на розміщення.",
        style=Style(color="#d1495b", fill_opacity=0.8, radius=4),
        tenant="t.council_id",
        **_STRUCTURE_EDITING,  # type: ignore[arg-type]
    ),
    Layer(
        id="kiosks",
        title="Тимчасові споруди (МАФ)",
        title_en="Kiosks and temporary structures",
        table="kiosks",
        properties=("id", "code", "kind", "specialization", "area_m2", *_PERMIT),
        description="Кіоски та інші тимчасові споруди для підприємницької діяльності.",
        style=Style(color="#edae49", fill_opacity=0.8, radius=4),
        tenant="t.council_id",
        **_STRUCTURE_EDITING,  # type: ignore[arg-type]
    ),
)
CORE_LAYERS: MappingProxyType[str, Layer] = MappingProxyType({la.id: la for la in _CORE})

THEMATIC_STYLE = Style(color="#e07a1f", weight=2.0, fill_opacity=0.3, radius=5)

# Every row, so that a core row can hide its layer; thematic rows become layers.
_LAYER_ROWS = """
    SELECT name, kind, is_public, title, title_en, description, geometry_type, attribution
    FROM layers ORDER BY name
"""


def thematic_layer(
    name: str,
    title: str,
    *,
    title_en: str | None = None,
    description: str | None = None,
    geometry_type: str | None = None,
    attribution: str | None = None,
) -> Layer:
    """A thematic layer: features in `layer_features`, their imported attributes served whole."""
    return Layer(
        id=name,
        title=title,
        title_en=title_en,
        table="layer_features",
        properties=(),
        properties_column="properties",
        layer_name=name,
        geometry_type=geometry_type or "Geometry",
        description=description,
        style=THEMATIC_STYLE,
        attribution=attribution,
        kind="thematic",
    )


async def list_layers(conn: AsyncConnection, role: str | None = None) -> list[Layer]:
    """The layers this role may see (None: anonymous): the core ones first (in declared
    order), then the thematic ones."""
    cur = await conn.execute(_LAYER_ROWS)
    rows = await cur.fetchall()
    hidden = {r[0] for r in rows if r[1] == "core" and not r[2]}
    thematic = [
        thematic_layer(
            name,
            title,
            title_en=title_en,
            description=description,
            geometry_type=geometry_type,
            attribution=attribution,
        )
        for name, kind, is_public, title, title_en, description, geometry_type, attribution in rows
        if kind == "thematic" and is_public and name not in CORE_LAYERS
    ]
    core = [la for la in CORE_LAYERS.values() if la.id not in hidden and la.visible_to(role)]
    return core + thematic


async def get_layer(conn: AsyncConnection, layer_id: str, role: str | None = None) -> Layer:
    """The layer with this id if this role may see it, or UnknownCollection (also for a
    layer the role may not see: it is not told that the layer exists)."""
    for layer in await list_layers(conn, role):
        if layer.id == layer_id:
            return layer
    raise UnknownCollection(layer_id)
