"""What changed in which layer, as the database announces it.

Every statement that writes a layer's table sends one notice on the channel
`hromada_layer_changes` (migration 0005): the layer's id and the extent, in lon/lat, of the
rows written, before and after. Whoever wrote — the API, an import, the demo loader, the
autoclose job in another process — the server hears it here. `LayerChanges` keeps a
generation number per layer (what cached counts are keyed by) and tells its subscribers
(the tile cache) which area to forget.

A notice can be lost if the listening connection drops; on reconnecting every layer is
treated as changed everywhere, so a cache never outlives a write it did not hear about.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass

import psycopg

log = logging.getLogger("hromada.layers")

CHANNEL = "hromada_layer_changes"
EVERY_LAYER = "*"

BBox = tuple[float, float, float, float]


@dataclass(frozen=True)
class LayerChange:
    layer: str  # a layer id, or EVERY_LAYER
    bbox: BBox | None  # lon/lat extent of what was written; None: anywhere


Subscriber = Callable[[LayerChange], None]


class LayerChanges:
    """Generation numbers per layer, bumped on every change, and subscribers to changes."""

    def __init__(self) -> None:
        self._generations: defaultdict[str, int] = defaultdict(int)
        self._everything = 0
        self._subscribers: list[Subscriber] = []

    def generation(self, layer: str) -> tuple[int, int]:
        return self._everything, self._generations[layer]

    def subscribe(self, subscriber: Subscriber) -> None:
        self._subscribers.append(subscriber)

    def changed(self, change: LayerChange) -> None:
        if change.layer == EVERY_LAYER:
            self._everything += 1
        else:
            self._generations[change.layer] += 1
        for subscriber in self._subscribers:
            subscriber(change)

    def changed_payload(self, payload: str) -> None:
        """A notice's JSON payload; one that cannot be read counts as a change everywhere."""
        try:
            data = json.loads(payload)
            bbox = None
            if data.get("bbox"):
                minx, miny, maxx, maxy = map(float, data["bbox"])  # else ValueError
                bbox = (minx, miny, maxx, maxy)
            change = LayerChange(str(data["layer"]), bbox)
        except (ValueError, KeyError, TypeError):
            change = LayerChange(EVERY_LAYER, None)
        self.changed(change)

    async def listen(self, conninfo: str, *, retry_seconds: float = 1.0) -> None:
        """Listen until cancelled; reconnects when the connection is lost."""
        while True:
            try:
                async with await psycopg.AsyncConnection.connect(conninfo, autocommit=True) as conn:
                    await conn.execute(f"LISTEN {CHANNEL}")
                    # Whatever was written while nobody listened is unknown: forget it all.
                    self.changed(LayerChange(EVERY_LAYER, None))
                    async for notice in conn.notifies():
                        self.changed_payload(notice.payload)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 — keep listening whatever went wrong
                log.warning("layer change listener: %s; reconnecting", exc)
                # Deaf from now on: forget it all at once, not only on reconnecting, lest a
                # cache answer from before a write made while the database came back and
                # the listener had not yet (tests/test_faults.py).
                self.changed(LayerChange(EVERY_LAYER, None))
                await asyncio.sleep(retry_seconds)
