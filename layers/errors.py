"""Errors of the layer core. They name what went wrong with a stable `code` and the facts
(`params`); api/errors.py turns each into an HTTP status and a Ukrainian or English message."""

from __future__ import annotations

from gis.errors import DomainError, InvalidParameter


class LayerError(DomainError):
    """Base of the errors a client's request can cause in the layer core."""

    code = "layer_error"


class UnknownCollection(LayerError):
    """No public layer has this id."""

    code = "unknown_collection"

    def __init__(self, collection: str) -> None:
        super().__init__(collection=collection)


class FeatureNotFound(LayerError):
    """The layer has no (current, public) feature with this id."""

    code = "feature_not_found"

    def __init__(self, collection: str, feature_id: str) -> None:
        super().__init__(collection=collection, feature_id=feature_id)


__all__ = ["FeatureNotFound", "InvalidParameter", "LayerError", "UnknownCollection"]
