"""The audit trail: append-only and hash-chained (issue 4, item 7).

Every change of an appeal is an appeal_events row (gis/lifecycle.py writes them); every change
of a layer feature is a feature_events row (`record_feature_change()`), and so is every change
of the administrator's directory (`record_directory_change()`). The database itself
keeps both honest (migration 0004):

- **Sealing on insert.** A BEFORE INSERT trigger takes `pg_advisory_xact_lock`, reads the
  chain's head (audit_chain_heads), and sets `chain_seq` = head + 1, `prev_hash` = the head's
  hash and `hash` = sha256(prev_hash ‖ canonical JSON of the event's fields) — in the very
  transaction of the change, so the chain is linear whatever the concurrency, and no code
  path (the intake, the queue, the demo, a psql session) can add an event outside it.
- **Append-only.** A trigger refuses UPDATE and DELETE, except: a user's erasure setting
  `actor_user_id` NULL (that column is outside the hash), deleting the demo's own events, and
  a session that declares maintenance (`SET LOCAL hromada.audit_maintenance = 'on'`).
- **The demo.** Events of generated appeals are sealed each on its own (chain_seq NULL, no
  previous link): the demo bulk-inserts them set-based and deletes them on every reload, which
  would otherwise break the chain of the real events. Their hashes still detect an edited row.
- **Verification** (`verify()`, `hromada audit verify`) recomputes every hash with the same
  SQL function and checks that each link names the previous one, that the sequence has no
  gap (a deleted event) and that the head matches the last event (a deleted tail).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

CHAINS = {
    "appeals": ("appeal_events", "hromada_appeal_event_body"),
    "features": ("feature_events", "hromada_feature_event_body"),
}

_VERIFY_SQL = """
SELECT id, chain_seq, problem FROM (
    SELECT id, chain_seq,
           CASE
             WHEN hash IS DISTINCT FROM hromada_audit_hash(prev_hash, {body}(e)) THEN 'hash'
             WHEN prev_hash IS DISTINCT FROM lag(hash) OVER w THEN 'link'
             WHEN chain_seq <> coalesce(lag(chain_seq) OVER w, 0) + 1 THEN 'gap'
           END AS problem
      FROM {table} e WHERE chain_seq IS NOT NULL
    WINDOW w AS (ORDER BY chain_seq)
) x WHERE problem IS NOT NULL ORDER BY chain_seq LIMIT 1
"""
_VERIFY_LOOSE_SQL = """
SELECT id FROM {table} e WHERE chain_seq IS NULL
   AND (prev_hash IS NOT NULL OR hash IS DISTINCT FROM hromada_audit_hash(NULL, {body}(e)))
 ORDER BY id LIMIT 1
"""


@dataclass
class Broken:
    chain: str
    table: str
    event_id: int | None
    problem: str  # hash (edited), link, gap (deleted), head (tail deleted), demo (edited)

    def __str__(self) -> str:
        return f"{self.table}: event {self.event_id} broken ({self.problem})"


def verify(conn) -> dict:
    """Walk every chain (sync psycopg connection). {'ok': bool, 'broken': Broken | None,
    'events': {chain: n}}; the first broken event of the first broken chain."""
    counts = {}
    for chain, (table, body) in CHAINS.items():
        row = conn.execute(_VERIFY_SQL.format(table=table, body=body)).fetchone()
        if row is not None:
            return {"ok": False, "broken": Broken(chain, table, row[0], row[2])}
        last = conn.execute(
            f"SELECT chain_seq, hash, id FROM {table} WHERE chain_seq IS NOT NULL"
            " ORDER BY chain_seq DESC LIMIT 1"
        ).fetchone()
        head = conn.execute(
            "SELECT seq, hash FROM audit_chain_heads WHERE chain = %s", (chain,)
        ).fetchone()
        if (last is None) != (head is None) or (last and (last[0], last[1]) != tuple(head)):
            return {"ok": False, "broken": Broken(chain, table, last[2] if last else None, "head")}
        row = conn.execute(_VERIFY_LOOSE_SQL.format(table=table, body=body)).fetchone()
        if row is not None:
            return {"ok": False, "broken": Broken(chain, table, row[0], "demo")}
        counts[chain] = conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
    return {"ok": True, "broken": None, "events": counts}


def _changed(old: dict | None, new: dict | None) -> tuple[dict | None, dict | None]:
    """Only the attributes that changed, each with its old and new value."""
    if old is None or new is None:
        return old, new
    keys = [k for k in {**old, **new} if old.get(k) != new.get(k)]
    return {k: old.get(k) for k in keys}, {k: new.get(k) for k in keys}


async def record_feature_change(conn, *, layer: str, feature_id: Any, actor: str,
                                actor_user_id: int | None, action: str,
                                old: dict | None, new: dict | None) -> bool:  # fmt: skip
    """Record a change of a layer feature (layer_features, advertising_structures, kiosks)
    in the caller's transaction: created (old None), deleted (new None) or updated (only the
    changed attributes). False when nothing changed."""
    old, new = _changed(old, new)
    if old == {} and new == {}:
        return False
    await conn.execute(
        "INSERT INTO feature_events (layer, feature_id, actor, actor_user_id, action, old, new)"
        " VALUES (%s, %s, %s, %s, %s, %s, %s)",
        (layer, str(feature_id), actor, actor_user_id, action,
         None if old is None else json.dumps(old, ensure_ascii=False, default=str),
         None if new is None else json.dumps(new, ensure_ascii=False, default=str)),
    )  # fmt: skip
    return True


# The administrator's directory (gis/admin.py): tables whose changes go into the features'
# chain, each as its own "layer" (no migration: feature_events takes any layer name).
DIRECTORY_TABLES = ("users", "categories", "routing_rules", "executor_territories",
                    "dispatch_subscriptions", "open311_clients",
                    "placement_rules", "councils", "council_categories")  # fmt: skip


async def record_directory_change(conn, *, table: str, row_id: Any, actor: Any, action: str,
                                  old: dict | None, new: dict | None) -> bool:  # fmt: skip
    """Record a change of the administrator's directory in the caller's transaction, by
    `actor` (a signed-in principal; None: the system): an account, a category or a routing
    rule created (old None), deleted (new None) or changed (only what changed)."""
    assert table in DIRECTORY_TABLES, table
    from gis.lifecycle import actor_label  # the appeals' trail names its actors the same way

    return await record_feature_change(
        conn, layer=table, feature_id=row_id, actor=actor_label(actor),
        actor_user_id=getattr(actor, "user_id", None), action=action, old=old, new=new,
    )  # fmt: skip
