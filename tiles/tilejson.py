"""TileJSON 3.0.0 of a layer's vector tiles."""

from __future__ import annotations

from layers.registry import Layer

from .mvt import CLUSTER_FIELDS, is_cluster_tile, tile_properties

TILEJSON_VERSION = "3.0.0"
MINZOOM = 0
MAXZOOM = 16  # clients draw deeper zooms from the z16 tiles (4096 units: 15 cm in Kyiv)
DEFAULT_BOUNDS = [-180.0, -85.0511, 180.0, 85.0511]


def _fields(layer: Layer, role: str | None) -> dict[str, str]:
    fields: dict[str, str] = {}
    if not layer.properties_column:  # a thematic layer's attributes are whatever it holds
        for name in tile_properties(layer, role):
            if name == layer.id_column:
                continue
            queryable = next((q for q in layer.queryables if q.column == name), None)
            fields[name] = queryable.title_en if queryable else name
    if layer.cluster_below_zoom is not None:
        fields["count"] = f"clusters below zoom {layer.cluster_below_zoom}: features in the cell"
        for status in CLUSTER_FIELDS[1:]:
            fields.setdefault(status, f"clusters: features in the cell with status {status}")
    return fields


def tilejson(
    layer: Layer,
    tiles_url: str,
    role: str | None,
    bounds: list[float] | None,
) -> dict:
    """The document; `tiles_url` is the absolute {z}/{x}/{y} template (with the filters)."""
    bounds = bounds or DEFAULT_BOUNDS
    center_zoom = 10 if bounds is not DEFAULT_BOUNDS else 0
    vector_layer: dict[str, object] = {
        "id": layer.id,
        "fields": _fields(layer, role),
        "minzoom": MINZOOM,
        "maxzoom": MAXZOOM,
        "description": layer.description or layer.title_en or layer.title,
    }
    doc: dict[str, object] = {
        "tilejson": TILEJSON_VERSION,
        "name": layer.title,
        "description": layer.description or layer.title,
        "tiles": [tiles_url],
        "vector_layers": [vector_layer],
        "minzoom": MINZOOM,
        "maxzoom": MAXZOOM,
        "bounds": bounds,
        "center": [(bounds[0] + bounds[2]) / 2, (bounds[1] + bounds[3]) / 2, center_zoom],
        "scheme": "xyz",
        "format": "pbf",
    }
    if layer.attribution:
        doc["attribution"] = layer.attribution
    if layer.cluster_below_zoom is not None and not is_cluster_tile(layer, MAXZOOM):
        doc["description"] = (
            f"{doc['description']} (below zoom {layer.cluster_below_zoom}: clusters with a "
            "count and a count per status)"
        )
    return doc
