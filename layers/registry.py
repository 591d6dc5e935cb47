"""The layer registry: every layer the portal and the APIs serve, as a typed object.

Core layers (areas, advertising structures, kiosks) are declared here in code: their table,
their columns and which of those columns are public. Thematic layers are data, not code: an
import creates a row of kind 'thematic' in the `layers` table and puts its features in
`layer_features`; the registry reads those rows on every lookup, so a layer imported while the
server runs is served at once. A `layers` row of kind 'core' with `is_public = false` hides
the core layer of the same name.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Literal

from psycopg import AsyncConnection

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


_AREA = ("id", "code", "name", "name_en")
_PERMIT = ("owner", "permit_number", "permit_valid_until", "address", "generated")

# The core layers, in the order the catalogue lists them.
_CORE = (
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
    ),
    Layer(
        id="advertising_structures",
        title="Рекламні конструкції",
        title_en="Advertising structures",
        table="advertising_structures",
        properties=("id", "code", "kind", "size", "width_m", "height_m", *_PERMIT),
        geometry_type="Point",
        description="Рекламні конструкції з дозволами на розміщення.",
        style=Style(color="#d1495b", fill_opacity=0.8, radius=4),
    ),
    Layer(
        id="kiosks",
        title="Тимчасові споруди (МАФ)",
        title_en="Kiosks and temporary structures",
        table="kiosks",
        properties=("id", "code", "kind", "specialization", "area_m2", *_PERMIT),
        description="Кіоски та інші тимчасові споруди для підприємницької діяльності.",
        style=Style(color="#edae49", fill_opacity=0.8, radius=4),
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


async def list_layers(conn: AsyncConnection) -> list[Layer]:
    """All public layers: the core ones first (in declared order), then the thematic ones."""
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
    return [layer for layer in CORE_LAYERS.values() if layer.id not in hidden] + thematic


async def get_layer(conn: AsyncConnection, layer_id: str) -> Layer:
    """The public layer with this id, or UnknownCollection."""
    for layer in await list_layers(conn):
        if layer.id == layer_id:
            return layer
    raise UnknownCollection(layer_id)
