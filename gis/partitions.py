"""Monthly partitions of appeals and appeal_events (issue 18, item 3; migration 0020).

`appeals` is partitioned by the month (UTC) of created_at, `appeal_events` by the month of
`at`: partitions `appeals_YYYY_MM` / `appeal_events_YYYY_MM` and a DEFAULT partition each
(`appeals_default`, `appeal_events_default`) for a row dated in a month without its own.

- `ensure()` (the periodic job `partitions.ensure`, `hromada partitions ensure`): the
  current month and the next AHEAD months get their partitions; a month that has rows in
  DEFAULT gets its partition too and the rows move there (in one transaction: the rows are
  copied into a new table, deleted from DEFAULT, the table attached). The statement
  triggers of the parents (anchors, cells, change notices) do not fire for the move: the
  rows stay the same rows.
- `detach(month)`: the month's appeals leave `appeals` (the feed, the queues, the reports,
  the map) and stay, with their indexes, as the table `archive_appeals_YYYY_MM` — to dump
  (`pg_dump -t archive_appeals_YYYY_MM`) and drop, or to attach back. Their counts leave
  tiles.appeal_cells in the same transaction and every process drops its cached appeal tiles
  (a change notice). Their events stay in `appeal_events`: the audit chain is one chain over
  every month, and `hromada audit verify` must still walk it whole; their anchors
  (appeal_ids) stay too, so their numbers are never given again and their authors, photos and
  events keep their key. `attach(month)` brings the month back.
A plain DETACH/ATTACH (not CONCURRENTLY: PostgreSQL refuses it while a DEFAULT partition
exists) holds its lock for milliseconds; ATTACH scans the month once to check its range.

Functions take a sync psycopg connection (autocommit or not: each runs in its own
transaction block).
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

TABLES = {"appeals": "created_at", "appeal_events": "at"}
AHEAD = 12
ARCHIVE = "archive_appeals_{:%Y_%m}"
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")

# tiles.appeal_cells' key and sums, as the trigger function of migration 0019 computes them.
_WORLD = 20037508.342789244
_CELL = 2 * _WORLD / 2**16
_KEY = "cx, cy, status, kind, district_id, council_id"
_CATEGORY_KEY = "category_id, day, cx, cy, council_id"
_CELL13 = 2 * _WORLD / 2**13


class PartitionError(ValueError):
    """A month that cannot be detached or attached (the message says why)."""


def parse_month(text: str) -> dt.date:
    """'2026-03' → 2026-03-01; PartitionError otherwise."""
    m = _MONTH.match(text.strip())
    if not m or not 1 <= int(m.group(2)) <= 12:
        raise PartitionError(f"a month is YYYY-MM, not {text!r}")
    return dt.date(int(m.group(1)), int(m.group(2)), 1)


def add_months(month: dt.date, n: int) -> dt.date:
    k = month.year * 12 + month.month - 1 + n
    return dt.date(k // 12, k % 12 + 1, 1)


def _name(table: str, month: dt.date) -> str:
    return f"{table}_{month:%Y_%m}"


def _bounds(month: dt.date) -> str:
    return f"FROM ('{month}T00:00:00Z') TO ('{add_months(month, 1)}T00:00:00Z')"


def _exists(conn, name: str) -> bool:
    return conn.execute("SELECT to_regclass(%s) IS NOT NULL", (name,)).fetchone()[0]


def _columns(conn, table: str) -> str:
    rows = conn.execute(
        "SELECT quote_ident(attname) FROM pg_attribute WHERE attrelid = %s::regclass"
        " AND attnum > 0 AND NOT attisdropped AND attgenerated = '' ORDER BY attnum",
        (table,),
    ).fetchall()
    return ", ".join(r[0] for r in rows)


def listing(conn) -> list[dict[str, Any]]:
    """Every partition of both tables and every archived month: table, partition, month
    ('YYYY-MM', 'default'), rows (exact), attached."""
    out = []
    for table in TABLES:
        for name, bound in conn.execute(
            "SELECT c.relname, pg_get_expr(c.relpartbound, c.oid) FROM pg_inherits i"
            " JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = %s::regclass"
            " ORDER BY c.relname",
            (table,),
        ).fetchall():  # fmt: skip
            month = "default" if bound == "DEFAULT" else name[-7:].replace("_", "-")
            rows = conn.execute(f"SELECT count(*) FROM {name}").fetchone()[0]
            out.append({"table": table, "partition": name, "month": month, "rows": rows,
                        "attached": True})  # fmt: skip
    for (name,) in conn.execute(
        "SELECT relname FROM pg_class WHERE relname ~ '^archive_appeals_[0-9]{4}_[0-9]{2}$'"
        " AND relkind = 'r' ORDER BY 1"
    ).fetchall():
        rows = conn.execute(f"SELECT count(*) FROM {name}").fetchone()[0]
        out.append({"table": "appeals", "partition": name, "month": name[-7:].replace("_", "-"),
                    "rows": rows, "attached": False})  # fmt: skip
    return out


def _default_months(conn, table: str, key: str) -> list[dt.date]:
    return [
        r[0]
        for r in conn.execute(
            f"SELECT DISTINCT date_trunc('month', {key} AT TIME ZONE 'UTC')::date"
            f" FROM {table}_default ORDER BY 1"
        ).fetchall()
    ]


def ensure(
    conn, *, ahead: int = AHEAD, now: dt.datetime | None = None, since: dt.date | None = None
) -> dict[str, Any]:
    """Partitions for this month and the next `ahead` (and every month from `since`, when
    given: a bulk load of past months), and for every month that has rows in a DEFAULT
    partition (moved out of it). {'created': [names], 'moved': {name: rows}}."""
    today = (now or dt.datetime.now(dt.UTC)).astimezone(dt.UTC).date()
    first = dt.date(today.year, today.month, 1)
    wanted = [add_months(first, i) for i in range(ahead + 1)]
    if since is not None:
        month = dt.date(since.year, since.month, 1)
        while month < first:
            wanted.append(month)
            month = add_months(month, 1)
    created: list[str] = []
    moved: dict[str, int] = {}
    with conn.transaction():
        # One maker at a time (the job on several workers, a CLI run beside it).
        conn.execute("SELECT pg_advisory_xact_lock(hashtext('hromada_partitions'))")
        for table, key in TABLES.items():
            months = set(wanted) | set(_default_months(conn, table, key))
            for month in sorted(months):
                name = _name(table, month)
                archived = table == "appeals" and _exists(conn, ARCHIVE.format(month))
                if archived or _exists(conn, name):
                    continue  # made already; or archived (its rows wait in DEFAULT)
                n = _make(conn, table, key, month)
                created.append(name)
                if n:
                    moved[name] = n
    return {"created": created, "moved": moved}


def _make(conn, table: str, key: str, month: dt.date) -> int:
    """Make the month's partition; rows of the month in DEFAULT move into it. Their count."""
    name, lo, hi = _name(table, month), month, add_months(month, 1)
    where = f"{key} >= '{lo}T00:00:00Z' AND {key} < '{hi}T00:00:00Z'"
    n = conn.execute(f"SELECT count(*) FROM {table}_default WHERE {where}").fetchone()[0]
    if not n:
        conn.execute(f"CREATE TABLE {name} PARTITION OF {table} FOR VALUES {_bounds(month)}")
        return 0
    conn.execute(
        f"CREATE TABLE {name} (LIKE {table} INCLUDING DEFAULTS INCLUDING GENERATED"
        " INCLUDING CONSTRAINTS)"
    )
    cols = _columns(conn, table)
    conn.execute(f"INSERT INTO {name} ({cols}) SELECT {cols} FROM {table}_default WHERE {where}")
    # The events are append-only (gis/audit.py): moving them is the maintenance it allows.
    conn.execute("SET LOCAL hromada.audit_maintenance = 'on'")
    conn.execute(f"DELETE FROM {table}_default WHERE {where}")
    conn.execute("SET LOCAL hromada.audit_maintenance = 'off'")
    conn.execute(f"ALTER TABLE {table} ATTACH PARTITION {name} FOR VALUES {_bounds(month)}")
    return int(n)


def _cells(conn, source: str, sign: str) -> None:
    """Add (sign '') or take away (sign '-') the appeals of `source` in tiles.appeal_cells
    and tiles.appeal_category_cells."""
    conn.execute(
        f"INSERT INTO tiles.appeal_cells AS c ({_KEY}, n, sx, sy)"
        f" SELECT {_KEY}, sum(n), sum(px), sum(py) FROM ("
        f"  SELECT floor((ST_X(geom_3857) + {_WORLD}) / {_CELL})::integer AS cx,"
        f"  floor(({_WORLD} - ST_Y(geom_3857)) / {_CELL})::integer AS cy,"
        "   status, kind, coalesce(district_id, 0) AS district_id, council_id,"
        f"  {sign}1 AS n, {sign}ST_X(geom_3857) AS px, {sign}ST_Y(geom_3857) AS py"
        f"  FROM {source} WHERE geom_3857 IS NOT NULL) d"
        " GROUP BY 1, 2, 3, 4, 5, 6 ORDER BY 1, 2, 3, 4, 5, 6"
        f" ON CONFLICT ({_KEY}) DO UPDATE"
        " SET n = c.n + excluded.n, sx = c.sx + excluded.sx, sy = c.sy + excluded.sy"
    )
    # tiles.appeal_category_cells (migration 0022): per category, day and z13 cell.
    statuses = ("registered", "in_work", "on_check", "rework", "closed")
    sums = ("n", *statuses, "sx", "sy")
    conn.execute(
        f"INSERT INTO tiles.appeal_category_cells AS c ({_CATEGORY_KEY}, {', '.join(sums)})"
        f" SELECT {_CATEGORY_KEY}, {', '.join(f'sum({s})' for s in sums)} FROM ("
        "  SELECT category_id, (created_at AT TIME ZONE 'UTC')::date AS day,"
        f"  floor((ST_X(geom_3857) + {_WORLD}) / {_CELL13})::integer AS cx,"
        f"  floor(({_WORLD} - ST_Y(geom_3857)) / {_CELL13})::integer AS cy, council_id,"
        f"  {sign}1 AS n,"
        + "".join(f" CASE WHEN status = '{s}' THEN {sign}1 ELSE 0 END AS {s}," for s in statuses)
        + f"  {sign}ST_X(geom_3857) AS sx, {sign}ST_Y(geom_3857) AS sy"
        f"  FROM {source} WHERE geom_3857 IS NOT NULL) d"
        " GROUP BY 1, 2, 3, 4, 5 ORDER BY 1, 2, 3, 4, 5"
        f" ON CONFLICT ({_CATEGORY_KEY}) DO UPDATE SET "
        + ", ".join(f"{s} = c.{s} + excluded.{s}" for s in sums)
    )


def _changed(conn) -> None:
    # Every process drops its cached appeal tiles and counts (layers/changes.py).
    conn.execute(
        'SELECT pg_notify(\'hromada_layer_changes\', \'{"layer": "appeals", "bbox": null}\')'
    )


def detach(conn, month: dt.date) -> dict[str, Any]:
    """The month's appeals out of `appeals`, kept as archive_appeals_YYYY_MM."""
    name, archive = _name("appeals", month), ARCHIVE.format(month)
    with conn.transaction():
        attached = conn.execute(
            "SELECT EXISTS (SELECT 1 FROM pg_inherits WHERE inhparent = 'appeals'::regclass"
            " AND inhrelid = to_regclass(%s))",
            (name,),
        ).fetchone()[0]
        if not attached:
            raise PartitionError(f"appeals of {month:%Y-%m} have no attached partition")
        if _exists(conn, archive):
            raise PartitionError(f"{archive} exists already")
        conn.execute("LOCK TABLE appeals IN SHARE ROW EXCLUSIVE MODE")
        _cells(conn, name, "-")
        conn.execute(f"ALTER TABLE appeals DETACH PARTITION {name}")
        conn.execute(f"ALTER TABLE {name} RENAME TO {archive}")
        rows = conn.execute(f"SELECT count(*) FROM {archive}").fetchone()[0]
        _changed(conn)
    return {"detached": archive, "rows": rows}


def attach(conn, month: dt.date) -> dict[str, Any]:
    """An archived month (archive_appeals_YYYY_MM) back into `appeals`."""
    name, archive = _name("appeals", month), ARCHIVE.format(month)
    with conn.transaction():
        if not _exists(conn, archive):
            raise PartitionError(f"no {archive} to attach")
        if _exists(conn, name):
            raise PartitionError(f"{name} exists already")
        conn.execute("LOCK TABLE appeals IN SHARE ROW EXCLUSIVE MODE")
        conn.execute(f"ALTER TABLE {archive} RENAME TO {name}")
        conn.execute(f"ALTER TABLE appeals ATTACH PARTITION {name} FOR VALUES {_bounds(month)}")
        _cells(conn, name, "")
        rows = conn.execute(f"SELECT count(*) FROM {name}").fetchone()[0]
        _changed(conn)
    return {"attached": name, "rows": rows}
