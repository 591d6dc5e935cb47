"""The set-based diff: bring a table (or one layer's part of it) to what a file holds.

The incoming rows are COPYed into a temporary table shaped like the target; a SHA-256 of each
row's content is computed in SQL on both sides, and a handful of statements mark every row
added, changed or unchanged, apply those, and retire what the file no longer has. All of it
runs inside the caller's transaction: on any error the caller rolls the whole import back.

How a row is retired depends on the table:

* ``delete`` (thematic layers, registries, the street register): the row is deleted;
* ``close`` (versioned areas): ``valid_to`` is set, the row stays for the past;
* ``deactivate`` (categories, which appeals refer to): ``is_active`` becomes false.

A versioned area whose geometry changed gets its current row closed and a new row with the
next ``version``; when only its attributes changed (a spelling fix) the current row is updated
in place, since no boundary decision depended on them.

Given an `Audit`, every added, changed and removed row is also a ``feature_events`` row
(issue 4, item 7), written by one INSERT … SELECT before the diff is applied, in the same
transaction (the table's trigger seals each into the hash chain): ``added`` with every
attribute as ``new``, ``removed`` with every attribute as ``old``, ``changed`` with only the
attributes that differ, old and new. The attributes are the target's columns, the keys of a
``properties`` column each on its own (``properties.<key>`` beside other columns), and the
geometry as ``geom``: a short hash of its EWKB, never the geometry itself.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from psycopg import Connection, sql

INCOMING = "_import_incoming"
_FEATURE_ID_MAX = 64  # feature_events.feature_id


@dataclass(frozen=True)
class Audit:
    """Who an import's feature events name: the layer (the target's name) and the actor."""

    layer: str
    actor: str


@dataclass(frozen=True)
class Target:
    """Where rows go and how they are compared.

    `key` identifies a row across imports (unique within the scope and, for versioned
    tables, among current rows); `columns` are the data compared and written; `scope` pins
    columns to a value (``layer_name``), and `where` is an extra SQL condition on the
    target's rows (``parent_id IS NULL``) that both limit which rows the file replaces.
    """

    table: str
    key: str
    columns: tuple[str, ...]
    geom: str | None = "geom"  # the geometry column among `columns`, if any
    removal: Literal["delete", "close", "deactivate"] = "delete"
    scope: dict[str, Any] = field(default_factory=dict)
    where: str | None = None
    hash_column: str | None = None  # where the table keeps each row's content hash
    touch: tuple[str, ...] = ()  # timestamp columns set to now() when a row is written

    @property
    def versioned(self) -> bool:
        return self.removal == "close"


def _ident_list(names: Iterable[str], prefix: str | None = None) -> sql.Composable:
    if prefix:
        return sql.SQL(", ").join(sql.Identifier(prefix, n) for n in names)
    return sql.SQL(", ").join(sql.Identifier(n) for n in names)


def _row_hash(columns: Sequence[str], alias: str) -> sql.Composable:
    """SHA-256 (hex) of a row's columns as PostgreSQL prints them: the same value on both
    sides since the incoming table has the target's exact column types."""
    return sql.SQL("encode(sha256(convert_to(ROW({})::text, 'UTF8')), 'hex')").format(
        _ident_list(columns, alias)
    )


def _scope_condition(target: Target, alias: str) -> sql.Composable:
    """The target rows this import replaces (and, for versioned tables, only current ones)."""
    parts: list[sql.Composable] = [sql.SQL("TRUE")]
    for column, value in target.scope.items():
        parts.append(sql.SQL("{} = {}").format(sql.Identifier(alias, column), sql.Literal(value)))
    if target.where:
        parts.append(sql.SQL(target.where.replace("{t}", alias)))
    if target.versioned:
        parts.append(sql.SQL("{} IS NULL").format(sql.Identifier(alias, "valid_to")))
    return sql.SQL(" AND ").join(parts)


def _attributes(target: Target, alias: str) -> sql.Composable:
    """A row's attributes as one jsonb object (see the module's docstring)."""
    plain = [c for c in target.columns if c not in (target.geom, "properties")]
    parts: list[sql.Composable] = []
    if plain:
        parts.append(
            sql.SQL("jsonb_build_object({})").format(
                sql.SQL(", ").join(
                    sql.SQL("{}, {}").format(sql.Literal(c), sql.Identifier(alias, c))
                    for c in plain
                )
            )
        )
    if "properties" in target.columns:
        props = sql.Identifier(alias, "properties")
        if plain:
            parts.append(
                sql.SQL(
                    "(SELECT coalesce(jsonb_object_agg('properties.' || p.key, p.value), '{{}}')"
                    " FROM jsonb_each(CASE WHEN jsonb_typeof({p}) = 'object' THEN {p} END) AS p)"
                ).format(p=props)
            )
        else:
            parts.append(
                sql.SQL(
                    "CASE WHEN jsonb_typeof({p}) = 'object' THEN {p}"
                    " ELSE jsonb_build_object('properties', {p}) END"
                ).format(p=props)
            )
    if target.geom:
        parts.append(
            sql.SQL(
                "jsonb_build_object('geom', left(encode(sha256(ST_AsEWKB({})), 'hex'), 16))"
            ).format(sql.Identifier(alias, target.geom))
        )
    if not parts:
        return sql.SQL("'{}'::jsonb")
    return sql.SQL(" || ").join(parts)


def _record_events(conn: Connection, target: Target, audit: Audit, q: dict, gone: str) -> int:
    """One feature_events row per added, changed or removed row (before they are applied)."""
    fid = sql.SQL(
        "CASE WHEN length(e.k) <= {n} THEN e.k ELSE left(e.k, {head}) || '…' || left(md5(e.k), 12) END"
    ).format(n=sql.Literal(_FEATURE_ID_MAX), head=sql.Literal(_FEATURE_ID_MAX - 13))
    still_there = sql.SQL(" AND t.is_active") if target.removal == "deactivate" else sql.SQL("")
    statement = sql.SQL(
        """
        INSERT INTO feature_events (layer, feature_id, actor, action, old, new)
        SELECT {layer}, {fid}, {actor}, e.action, e.old, e.new FROM (
            SELECT 'added' AS action, i.{key}::text AS k, NULL::jsonb AS old, {attrs_i} AS new
              FROM {inc} AS i WHERE i._status = 'added'
            UNION ALL
            SELECT 'changed', i.{key}::text, d.old, d.new
              FROM {inc} AS i
              JOIN {t} AS t ON t.{key} = i.{key} AND {scope}
             CROSS JOIN LATERAL (
                   SELECT jsonb_object_agg(k, x.o -> k) AS old, jsonb_object_agg(k, x.n -> k) AS new
                     FROM (SELECT {attrs_t} AS o, {attrs_i} AS n) AS x,
                          jsonb_object_keys(x.o || x.n) AS k
                    WHERE (x.o -> k) IS DISTINCT FROM (x.n -> k)
                 ) AS d
             WHERE i._status IN ('changed', 'new_version') AND d.old IS NOT NULL
            UNION ALL
            SELECT 'removed', t.{key}::text, {attrs_t}, NULL
              FROM {t} AS t WHERE {scope}{still_there} AND {gone}
        ) AS e
        ORDER BY e.action, e.k
        """
    ).format(
        layer=sql.Literal(audit.layer),
        actor=sql.Literal(audit.actor),
        fid=fid,
        attrs_i=_attributes(target, "i"),
        attrs_t=_attributes(target, "t"),
        still_there=still_there,
        gone=sql.SQL(gone).format(**q),
        **q,
    )
    return conn.execute(statement).rowcount


def stage(conn: Connection, target: Target, rows: Iterable[Sequence[Any]]) -> int:
    """Create the temporary table shaped like `target` and COPY `rows` (key first, then the
    columns, geometry as hex EWKB) into it. Returns the number of rows staged."""
    cols = (target.key, *target.columns)
    conn.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(sql.Identifier(INCOMING)))
    conn.execute(
        sql.SQL(
            "CREATE TEMP TABLE {inc} ON COMMIT DROP AS SELECT {cols} FROM {table} WITH NO DATA"
        ).format(
            inc=sql.Identifier(INCOMING), cols=_ident_list(cols), table=sql.Identifier(target.table)
        )
    )
    conn.execute(
        sql.SQL(
            "ALTER TABLE {inc} ADD COLUMN _hash text, ADD COLUMN _status text, ADD PRIMARY KEY ({key})"
        ).format(inc=sql.Identifier(INCOMING), key=sql.Identifier(target.key))
    )
    n = 0
    with conn.cursor() as cur:
        copy_sql = sql.SQL("COPY {inc} ({cols}) FROM STDIN").format(
            inc=sql.Identifier(INCOMING), cols=_ident_list(cols)
        )
        with cur.copy(copy_sql) as copy:
            for row in rows:
                copy.write_row(row)
                n += 1
    return n


def apply(conn: Connection, target: Target, audit: Audit | None = None) -> dict[str, int]:
    """Diff the staged rows against the target and apply the difference (recording each
    added, changed and removed row as a feature event when `audit` is given).

    Returns
    -------
    dict
        ``added``, ``changed``, ``unchanged``, ``removed`` counts.
    """
    q = {
        "inc": sql.Identifier(INCOMING),
        "t": sql.Identifier(target.table),
        "key": sql.Identifier(target.key),
        "scope": _scope_condition(target, "t"),
        "incoming_hash": _row_hash(target.columns, "i"),
        "stored_hash": (
            sql.Identifier("t", target.hash_column)
            if target.hash_column
            else _row_hash(target.columns, "t")
        ),
    }

    def run(statement: str):
        return conn.execute(sql.SQL(statement).format(**q))

    run("UPDATE {inc} AS i SET _hash = {incoming_hash}")

    # Mark each incoming row against the current row with the same key, if there is one.
    geometry_moved: sql.Composable = sql.SQL("FALSE")
    if target.versioned and target.geom:
        geometry_moved = sql.SQL("NOT (ST_AsEWKB(t.{g}) = ST_AsEWKB(i.{g}))").format(
            g=sql.Identifier(target.geom)
        )
    q["geometry_moved"] = geometry_moved
    run(
        """
        UPDATE {inc} AS i
           SET _status = CASE
                   WHEN {stored_hash} = i._hash THEN 'unchanged'
                   WHEN {geometry_moved} THEN 'new_version'
                   ELSE 'changed'
               END
          FROM {t} AS t
         WHERE t.{key} = i.{key} AND {scope}
        """
    )
    run("UPDATE {inc} SET _status = 'added' WHERE _status IS NULL")
    counts: dict[str, int] = dict(
        conn.execute(
            sql.SQL("SELECT _status, count(*) FROM {inc} GROUP BY 1").format(**q)
        ).fetchall()
    )

    gone = "NOT EXISTS (SELECT 1 FROM {inc} AS i WHERE i.{key} = t.{key})"
    if audit is not None:
        _record_events(conn, target, audit, q, gone)

    # Retire what the file no longer has.
    retire = {
        "delete": "DELETE FROM {t} AS t WHERE {scope} AND " + gone,
        "close": "UPDATE {t} AS t SET valid_to = now() WHERE {scope} AND " + gone,
        "deactivate": "UPDATE {t} AS t SET is_active = false WHERE {scope} AND t.is_active AND "
        + gone,
    }[target.removal]
    removed = run(retire).rowcount

    # Changed in place.
    assignments = [sql.SQL("{c} = i.{c}").format(c=sql.Identifier(c)) for c in target.columns]
    if target.hash_column:
        assignments.append(sql.SQL("{} = i._hash").format(sql.Identifier(target.hash_column)))
    assignments += [sql.SQL("{} = now()").format(sql.Identifier(c)) for c in target.touch]
    q["assignments"] = sql.SQL(", ").join(assignments)
    run(
        """
        UPDATE {t} AS t SET {assignments}
          FROM {inc} AS i
         WHERE t.{key} = i.{key} AND {scope} AND i._status = 'changed'
        """
    )

    # A versioned area whose boundary moved: close the current row, then insert the next.
    if target.versioned:
        run(
            """
            UPDATE {t} AS t SET valid_to = now()
              FROM {inc} AS i
             WHERE t.{key} = i.{key} AND {scope} AND i._status = 'new_version'
            """
        )

    # Insert the added rows (and the new versions).
    insert_cols = [target.key, *target.columns]
    select_exprs: list[sql.Composable] = [sql.Identifier("i", c) for c in insert_cols]
    for column, value in target.scope.items():
        insert_cols.append(column)
        select_exprs.append(sql.Literal(value))
    if target.hash_column:
        insert_cols.append(target.hash_column)
        select_exprs.append(sql.SQL("i._hash"))
    for column in target.touch:
        insert_cols.append(column)
        select_exprs.append(sql.SQL("now()"))
    if target.versioned:
        insert_cols += ["version", "valid_from"]
        select_exprs += [
            sql.SQL(
                "COALESCE((SELECT max(v.version) FROM {t} AS v WHERE v.{key} = i.{key}), 0) + 1"
            ).format(**q),
            sql.SQL("now()"),
        ]
    q["insert_cols"] = _ident_list(insert_cols)
    q["select_exprs"] = sql.SQL(", ").join(select_exprs)
    run(
        """
        INSERT INTO {t} ({insert_cols})
        SELECT {select_exprs} FROM {inc} AS i
         WHERE i._status IN ('added', 'new_version')
         ORDER BY i.{key}
        """
    )
    run("DROP TABLE {inc}")
    return {
        "added": counts.get("added", 0),
        "changed": counts.get("changed", 0) + counts.get("new_version", 0),
        "unchanged": counts.get("unchanged", 0),
        "removed": removed,
    }


def sync(
    conn: Connection, target: Target, rows: Iterable[Sequence[Any]], audit: Audit | None = None
) -> dict[str, int]:
    """Stage `rows` and apply them to `target` (see the module's docstring)."""
    stage(conn, target, rows)
    return apply(conn, target, audit)
