"""The layer registry and the reading of layers' features: what sits between the tables that
importers fill and the APIs and the map that serve them (import → PostGIS → layers → api).

A layer is a typed `Layer` object: core layers are declared in `layers.registry`, thematic
layers come from rows of the `layers` table. `layers.features` reads their features as GeoJSON.
"""

from layers.errors import FeatureNotFound, InvalidParameter, LayerError, UnknownCollection
from layers.registry import CORE_LAYERS, OSM_ATTRIBUTION, Layer, Style, get_layer, list_layers

__all__ = [
    "CORE_LAYERS",
    "OSM_ATTRIBUTION",
    "FeatureNotFound",
    "InvalidParameter",
    "Layer",
    "LayerError",
    "Style",
    "UnknownCollection",
    "get_layer",
    "list_layers",
]
