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
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable
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
        # With a read replica (issue 18): what the listener hears goes through a ReplayGate,
        # which passes it on once the replica has replayed it.
        self.gate: ReplayGate | None = None

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
        self.heard(change)

    def heard(self, change: LayerChange) -> None:
        """A change the database announced: passed on now, or through the replica's gate."""
        if self.gate is None:
            self.changed(change)
        else:
            self.gate.submit(change)

    async def listen(self, conninfo: str, *, retry_seconds: float = 1.0) -> None:
        """Listen until cancelled; reconnects when the connection is lost."""
        while True:
            try:
                async with await psycopg.AsyncConnection.connect(conninfo, autocommit=True) as conn:
                    await conn.execute(f"LISTEN {CHANNEL}")
                    # Whatever was written while nobody listened is unknown: forget it all.
                    self.heard(LayerChange(EVERY_LAYER, None))
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


@dataclass
class _Pending:
    lsn: int  # the primary's WAL position when the changes were heard
    deadline: float  # monotonic time after which they are passed on anyway
    changes: list[LayerChange]
    heard: float = 0.0  # monotonic time it was heard
    forced: bool = False  # passed on once already, before the replica replayed them


class ReplayGate:
    """Passes the changes heard from the primary on to `changes` only once the read replica
    has replayed them (issue 18, slice D), so that a tile or a count recomputed from a lagging
    replica right after a drop is never kept as fresh.

    On a batch of notices it reads the primary's WAL position and polls the replica's replay
    position every `poll_seconds`; changes at or below it are passed on. After `wait_seconds`
    they are passed on anyway (logged) and passed on once more when the replica gets there:
    a cache filled meanwhile from the lagging replica is dropped again. A replica that
    cannot be reached (reads go to the primary then) lets everything through at once.
    """

    MAX_PENDING = 1000

    def __init__(
        self,
        changes: LayerChanges,
        primary_lsn: Callable[[], Awaitable[int]],
        replica_lsn: Callable[[], Awaitable[int | None]],
        *,
        wait_seconds: float = 5.0,
        poll_seconds: float = 0.05,
    ) -> None:
        self.changes = changes
        self._primary_lsn, self._replica_lsn = primary_lsn, replica_lsn
        self.wait_seconds, self.poll_seconds = wait_seconds, poll_seconds
        self._incoming: list[LayerChange] = []
        self._pending: list[_Pending] = []
        self._wake = asyncio.Event()
        self.passed = 0  # every change heard at or below this position has been passed on
        self.forced = 0  # batches passed on before the replica replayed them
        self.lag_seconds: list[float] = []  # from hearing to passing on, the last 100 batches

    @property
    def idle(self) -> bool:
        """Nothing heard is held back."""
        return not self._incoming and not self._pending

    def submit(self, change: LayerChange) -> None:
        self._incoming.append(change)
        self._wake.set()

    def _pass(self, pending: _Pending) -> None:
        for change in pending.changes:
            self.changes.changed(change)

    async def run(self) -> None:
        """Until cancelled."""
        while True:
            if not self._incoming and not self._pending:
                self._wake.clear()
                await self._wake.wait()
            try:
                await self._step()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 — never leave a change behind
                log.warning("replay gate: %s; passing the changes on", exc)
                for pending in self._pending:
                    self._pass(pending)
                self._pending.clear()
            if self._pending:
                await asyncio.sleep(self.poll_seconds)

    async def _step(self) -> None:
        now = time.monotonic()
        if self._incoming:
            batch, self._incoming = self._incoming, []
            try:
                lsn = await self._primary_lsn()
            except Exception as exc:  # noqa: BLE001 — the primary is down: pass it on
                log.warning("replay gate: no primary position (%s); passing the changes on", exc)
                self._pass(_Pending(0, now, batch))
                return
            self._pending.append(_Pending(lsn, now + self.wait_seconds, batch, now))
        if len(self._pending) > self.MAX_PENDING:  # a replica stuck for long: one drop of all
            last = self._pending[-1]
            every = [LayerChange(EVERY_LAYER, None)]
            self._pending = [_Pending(last.lsn, last.deadline, every, last.heard, forced=True)]
        replayed = await self._replica_lsn()
        kept = []
        for pending in self._pending:
            if replayed is None or pending.lsn <= replayed:
                self._pass(pending)
                self.passed = max(self.passed, pending.lsn)
                if pending.heard:
                    self.lag_seconds = [*self.lag_seconds[-99:], time.monotonic() - pending.heard]
            else:
                if not pending.forced and now >= pending.deadline:
                    log.warning(
                        "the read replica has not replayed a change after %.1f s:"
                        " dropping the caches now and again once it has", self.wait_seconds,
                    )  # fmt: skip
                    self._pass(pending)
                    pending.forced = True
                    self.forced += 1
                kept.append(pending)
        self._pending = kept
