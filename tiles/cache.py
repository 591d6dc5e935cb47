"""An in-memory LRU of built tiles, forgetting the tiles a write touches.

Keys: layer id, z, x, y, the filters' canonical text and the set of properties the caller's
role sees (so a staff tile never answers an anonymous caller), and the councils a
`tenant_rows` layer's rows are limited to for the caller (issue 17: a council's staff, None
otherwise; layers/features.tile_scope). Values: the tile's bytes and
its ETag. `changed(LayerChange)` (subscribed to `app.state.layer_changes`) drops every cached
tile of the layer whose envelope, widened by what it draws beyond its edges, meets the
written rows' extent — at
every zoom, clusters included; a change without an extent drops the whole layer, a change of
'*' everything.

A tile built while a write to its layer was being announced could be stale: `token(layer)`
is taken before the tile is read from the database and `put` ignores a tile whose layer
changed since.
"""

from __future__ import annotations

import hashlib
import math
import time
from collections import OrderedDict, defaultdict
from dataclasses import dataclass

from layers.changes import EVERY_LAYER, LayerChange
from layers.registry import Layer

from .mvt import BUFFER, CLUSTER_CELLS, EXTENT


@dataclass(frozen=True)
class CachedTile:
    body: bytes
    etag: str


@dataclass(frozen=True)
class TileKey:
    layer: str
    z: int
    x: int
    y: int
    filters: str
    properties: tuple[str, ...]
    scope: tuple[int, ...] | None = None


def etag_of(body: bytes) -> str:
    return '"' + hashlib.blake2b(body, digest_size=12).hexdigest() + '"'


def tile_bounds(z: int, x: int, y: int, margin: float = 0.0) -> tuple[float, float, float, float]:
    """A tile's lon/lat extent, widened by `margin` (a fraction of its side)."""
    n = 2**z

    def lon(tx: float) -> float:
        return tx / n * 360.0 - 180.0

    def lat(ty: float) -> float:
        return math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * ty / n))))

    return (
        lon(x - margin),
        lat(min(n, y + 1 + margin)),
        lon(x + 1 + margin),
        lat(max(0.0, y - margin)),
    )


class TileCache:
    """The tiles, and the list of layers each role sees (read from the `layers` table, kept
    for `layers_max_age` seconds or until any layer changes, even when `size` is 0: asking
    which layers exist costs as much as a small tile)."""

    def __init__(self, size: int, max_bytes: int = 256 << 20, layers_max_age: float = 5.0) -> None:
        self.size = size
        self.max_bytes = max_bytes  # a dense z14 tile is 0.4 MB: count alone is no bound
        self.bytes = 0
        self.layers_max_age = layers_max_age
        self._layers: dict[str | None, tuple[float, list[Layer]]] = {}
        self._lookups: dict[tuple, tuple[float, object]] = {}
        self._entries: OrderedDict[TileKey, CachedTile] = OrderedDict()
        self._by_layer: defaultdict[str, set[TileKey]] = defaultdict(set)
        self._tokens: defaultdict[str, int] = defaultdict(int)
        self._everything = 0
        self.hits = 0
        self.misses = 0

    @property
    def enabled(self) -> bool:
        return self.size > 0

    def __len__(self) -> int:
        return len(self._entries)

    def token(self, layer: str) -> tuple[int, int]:
        return self._everything, self._tokens[layer]

    def layers(self, role: str | None) -> list[Layer] | None:
        entry = self._layers.get(role)
        if entry is None or time.monotonic() - entry[0] > self.layers_max_age:
            return None
        return entry[1]

    def put_layers(self, role: str | None, layers: list[Layer]) -> None:
        self._layers[role] = (time.monotonic(), layers)

    def lookup(self, key: tuple) -> object | None:
        """What a filter's looked-up values (a council's slug → its id) resolved to, kept as
        long as the list of layers: councils are seldom added, and a tile is asked for often."""
        entry = self._lookups.get(key)
        if entry is None or time.monotonic() - entry[0] > self.layers_max_age:
            return None
        return entry[1]

    def put_lookup(self, key: tuple, value: object) -> None:
        if len(self._lookups) >= 1024:
            self._lookups.clear()
        self._lookups[key] = (time.monotonic(), value)

    def get(self, key: TileKey) -> CachedTile | None:
        tile = self._entries.get(key)
        if tile is None:
            self.misses += 1
            return None
        self._entries.move_to_end(key)
        self.hits += 1
        return tile

    def put(self, key: TileKey, tile: CachedTile, token: tuple[int, int]) -> None:
        if not self.enabled or token != self.token(key.layer) or len(tile.body) > self.max_bytes:
            return
        self._drop(key)
        self._entries[key] = tile
        self.bytes += len(tile.body)
        self._by_layer[key.layer].add(key)
        while len(self._entries) > self.size or self.bytes > self.max_bytes:
            self._drop(next(iter(self._entries)))

    def _drop(self, key: TileKey) -> None:
        tile = self._entries.pop(key, None)
        if tile is not None:
            self.bytes -= len(tile.body)
        self._by_layer[key.layer].discard(key)

    def clear(self) -> None:
        self._entries.clear()
        self._by_layer.clear()
        self.bytes = 0

    def changed(self, change: LayerChange) -> None:
        """Forget what a write made stale (a LayerChanges subscriber)."""
        self._layers.clear()
        if change.layer == EVERY_LAYER:
            self._everything += 1
            self._lookups.clear()
            self.clear()
            return
        self._tokens[change.layer] += 1
        keys = list(self._by_layer.get(change.layer, ()))
        if change.bbox is None:
            for key in keys:
                self._drop(key)
            return
        minx, miny, maxx, maxy = change.bbox
        # Raw tiles reach BUFFER / EXTENT beyond their edges, cluster tiles a whole cell.
        margin = max(BUFFER / EXTENT, 1 / CLUSTER_CELLS)
        for key in keys:
            west, south, east, north = tile_bounds(key.z, key.x, key.y, margin)
            if west <= maxx and minx <= east and south <= maxy and miny <= north:
                self._drop(key)
