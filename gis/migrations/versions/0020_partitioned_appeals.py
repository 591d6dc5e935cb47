"""appeals and their events partitioned by month

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-07

Issue 18, item 3. `appeals` is PARTITION BY RANGE (created_at) and `appeal_events` PARTITION
BY RANGE (at): one partition per calendar month (UTC) named `appeals_YYYY_MM` /
`appeal_events_YYYY_MM`, from the oldest month held (at least 12 months back) to 12 months
ahead, plus `appeals_default` / `appeal_events_default` for anything outside them.
gis/partitions.py keeps the months ahead made (a periodic job, `hromada partitions ensure`),
moves rows out of DEFAULT when their month gets a partition, and detaches/attaches a month.

PostgreSQL 15 requires the partition key in every unique constraint of a partitioned table,
and a foreign key may only reference a unique constraint. So:

* the primary keys become (id, created_at) and (id, at);
* `appeal_ids (id PK, number UNIQUE)`, a narrow unpartitioned anchor, keeps ids and numbers
  unique across months and is what the eleven foreign keys that referenced `appeals(id)`
  reference now (same ON DELETE CASCADE). Triggers fill it: a BEFORE INSERT (or UPDATE OF
  number) row trigger upserts the anchor — every existing INSERT (the intake, the demo's
  COPY, a psql session) keeps working, and a row moved to another month by an UPDATE of
  created_at finds its anchor already there; an AFTER DELETE statement trigger deletes the
  anchors of the deleted appeals (whose children then cascade as before); TRUNCATE appeals
  deletes every anchor, the children cascading (TRUNCATE appeals, appeal_ids … CASCADE is
  the fast way, as the demo does);
* `uq_appeal_events_chain_seq` becomes `uq_appeal_events_chain_seq_at` on (chain_seq, at): the audit chain's linearity was and stays
  the seal trigger's (an advisory lock and the chain's head), and `hromada audit verify`
  checks each link and every gap across all months;
* `notifications.event_id` no longer has a foreign key to appeal_events (there is no unique
  id alone to reference); the notification still goes with its appeal (appeal_id cascades).

Identity columns are not allowed on partitioned tables before PostgreSQL 17: the ids take
`nextval('appeals_id_seq')` / `nextval('appeal_events_id_seq')` as default, the sequences
owned by the columns (pg_get_serial_sequence and TRUNCATE … RESTART IDENTITY still work).

Every index, check constraint, foreign key and trigger (the layers' change notices, the
cells of tiles.appeal_cells, the audit seal and guard) is recreated on the partitioned
parents, so it is on every partition; the view appeal_features is recreated as it was. The
rows are copied under an ACCESS EXCLUSIVE lock; tiles.appeal_cells needs no refill (the same
rows). The downgrade makes the plain tables again, with their identities and constraints.
"""

import datetime as dt

from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None

TABLES = {"appeals": "created_at", "appeal_events": "at"}
MONTHS_BACK = 12
MONTHS_AHEAD = 12
# The tables whose appeal_id referenced appeals(id) and now references appeal_ids(id).
CHILDREN = ("appeal_authors", "appeal_events", "appeal_photos", "appeal_structures",
            "appeal_supporters", "dispatch_items", "idempotency_keys", "notifications",
            "open311_tokens", "personal_data_access", "resolutions")  # fmt: skip

ANCHOR_FUNCTIONS = """
CREATE FUNCTION hromada_appeal_anchor() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO appeal_ids (id, number) VALUES (NEW.id, NEW.number)
    ON CONFLICT (id) DO UPDATE SET number = excluded.number
     WHERE appeal_ids.number IS DISTINCT FROM excluded.number;
    RETURN NEW;
END
$$;
CREATE FUNCTION hromada_appeal_anchor_gone() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        -- TRUNCATE appeals, appeal_ids, … (the demo) has emptied it already; a TRUNCATE
        -- cannot be issued here (the statement's tables are in use), so the rest cascade.
        DELETE FROM appeal_ids;
    ELSE
        DELETE FROM appeal_ids i USING old_rows o WHERE i.id = o.id;
    END IF;
    RETURN NULL;
END
$$;
"""
ANCHOR_TRIGGERS = (
    "CREATE TRIGGER appeals_anchor BEFORE INSERT OR UPDATE OF number ON appeals"
    " FOR EACH ROW EXECUTE FUNCTION hromada_appeal_anchor()",
    "CREATE TRIGGER appeals_anchor_delete AFTER DELETE ON appeals REFERENCING OLD TABLE AS"
    " old_rows FOR EACH STATEMENT EXECUTE FUNCTION hromada_appeal_anchor_gone()",
    "CREATE TRIGGER appeals_anchor_truncate AFTER TRUNCATE ON appeals"
    " FOR EACH STATEMENT EXECUTE FUNCTION hromada_appeal_anchor_gone()",
)


# The audit guard (0004) named the table by TG_TABLE_NAME: a row trigger on a partition names
# the partition (appeal_events_2026_12); the guard now names the partitioned table.
GUARD = """
CREATE OR REPLACE FUNCTION hromada_audit_guard() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    tbl text := {table};
BEGIN
    IF current_setting('hromada.audit_maintenance', true) = 'on' THEN
        RETURN coalesce(NEW, OLD);
    END IF;
    IF TG_OP = 'UPDATE' AND NEW.actor_user_id IS NULL
       AND to_jsonb(NEW) - 'actor_user_id' = to_jsonb(OLD) - 'actor_user_id' THEN
        RETURN NEW;
    END IF;
    IF TG_OP = 'DELETE' AND tbl = 'appeal_events' AND OLD.chain_seq IS NULL THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'the audit trail (%) is append-only: % refused', tbl, TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$"""
GUARD_PARTITIONED = GUARD.format(
    table="CASE WHEN TG_TABLE_NAME LIKE 'appeal\\_events\\_%' THEN 'appeal_events' ELSE TG_TABLE_NAME END"
)
GUARD_PLAIN = GUARD.format(table="TG_TABLE_NAME")


# An UPDATE of an event's `at` into another month moves the row: PostgreSQL fires the BEFORE
# INSERT trigger (the seal) on the new partition, which would seal the edited row afresh and
# hide the edit from `hromada audit verify`. A BEFORE UPDATE OF at trigger marks the row;
# the seal leaves a marked row as it is. (Such an UPDATE needs the append_only guard
# disabled — a superuser's act the chain must still reveal.)
SEAL = """
CREATE OR REPLACE FUNCTION hromada_appeal_events_seal() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    head record;
BEGIN{moving}
    IF EXISTS (SELECT 1 FROM appeals WHERE id = NEW.appeal_id AND generated) THEN
        NEW.chain_seq := NULL;
        NEW.prev_hash := NULL;
        NEW.hash := hromada_audit_hash(NULL, hromada_appeal_event_body(NEW));
        RETURN NEW;
    END IF;
    PERFORM pg_advisory_xact_lock(1551, 1);
    SELECT seq, hash INTO head FROM audit_chain_heads WHERE chain = 'appeals';
    NEW.chain_seq := coalesce(head.seq, 0) + 1;
    NEW.prev_hash := head.hash;
    NEW.hash := hromada_audit_hash(NEW.prev_hash, hromada_appeal_event_body(NEW));
    INSERT INTO audit_chain_heads (chain, seq, hash) VALUES ('appeals', NEW.chain_seq, NEW.hash)
        ON CONFLICT (chain) DO UPDATE SET seq = EXCLUDED.seq, hash = EXCLUDED.hash;
    RETURN NEW;
END
$$"""
SEAL_PARTITIONED = SEAL.format(
    moving="""
    IF current_setting('hromada.moving_event', true) = NEW.id::text THEN
        PERFORM set_config('hromada.moving_event', '', true);
        RETURN NEW;
    END IF;"""
)
SEAL_PLAIN = SEAL.format(moving="")
MOVING = (
    """
CREATE FUNCTION hromada_appeal_event_moving() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM set_config('hromada.moving_event', NEW.id::text, true);
    RETURN NEW;
END
$$""",
    "CREATE TRIGGER moving BEFORE UPDATE OF at ON appeal_events"
    " FOR EACH ROW EXECUTE FUNCTION hromada_appeal_event_moving()",
)


def _month(d: dt.date, add: int = 0) -> dt.date:
    k = d.year * 12 + d.month - 1 + add
    return dt.date(k // 12, k % 12 + 1, 1)


def _rows(sql: str, *args) -> list:
    return list(op.get_bind().exec_driver_sql(sql, args).fetchall())


def _capture(table: str) -> dict:
    """What must be made again on the new table: indexes that back no constraint, foreign
    keys going out, user triggers (each as its DDL)."""
    indexes = [r[0].replace(" ON ONLY ", " ON ") for r in _rows(
        "SELECT pg_get_indexdef(i.indexrelid) FROM pg_index i WHERE i.indrelid = %s::regclass"
        " AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid"
        " AND c.conrelid = i.indrelid) ORDER BY 1", table)]  # fmt: skip
    fks = [f'ALTER TABLE {table} ADD CONSTRAINT "{n}" {d}' for n, d in _rows(
        "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint WHERE contype = 'f'"
        " AND conrelid = %s::regclass AND conparentid = 0 AND confrelid::regclass::text"
        " NOT IN ('appeals', 'appeal_events', 'appeal_ids') ORDER BY 1", table)]  # fmt: skip
    triggers = [r[0] for r in _rows(
        "SELECT pg_get_triggerdef(oid) FROM pg_trigger WHERE tgrelid = %s::regclass"
        " AND NOT tgisinternal AND tgparentid = 0 ORDER BY tgname", table)]  # fmt: skip
    return {"indexes": indexes, "fks": fks, "triggers": triggers}


def _columns(table: str) -> str:
    return ", ".join(r[0] for r in _rows(
        "SELECT quote_ident(attname) FROM pg_attribute WHERE attrelid = %s::regclass"
        " AND attnum > 0 AND NOT attisdropped AND attgenerated = '' ORDER BY attnum", table))  # fmt: skip


def _functions() -> list[tuple[str, str]]:
    """Functions taking a row of the tables (the audit's event body): (signature, DDL)."""
    return [(r[0], r[1]) for r in _rows(
        "SELECT oid::regprocedure::text, pg_get_functiondef(oid) FROM pg_proc"
        " WHERE 'appeals'::regtype = ANY(proargtypes) OR 'appeal_events'::regtype = ANY(proargtypes)"
    )]  # fmt: skip


def _view() -> str:
    return _rows("SELECT pg_get_viewdef('appeal_features'::regclass)")[0][0]


def _referencing(target: str) -> list[tuple[str, str, str]]:
    return _rows(
        "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint"
        " WHERE contype = 'f' AND confrelid = %s::regclass AND conparentid = 0"
        " AND conrelid::regclass::text <> %s ORDER BY 1, 2", target, target,
    )  # fmt: skip


def upgrade() -> None:
    op.execute("LOCK TABLE appeals, appeal_events IN ACCESS EXCLUSIVE MODE")
    view, functions = _view(), _functions()
    kept = {t: _capture(t) for t in TABLES}
    today = dt.datetime.now(dt.UTC).date()
    for table, key in TABLES.items():
        oldest = _rows(f"SELECT min({key}) AT TIME ZONE 'UTC' FROM {table}")[0][0]
        first = _month(min(oldest.date() if oldest else today, _month(today, -MONTHS_BACK)))
        op.execute(
            f"CREATE TABLE {table}_p (LIKE {table} INCLUDING DEFAULTS INCLUDING GENERATED"
            f" INCLUDING CONSTRAINTS) PARTITION BY RANGE ({key})"
        )
        month, last = first, _month(today, MONTHS_AHEAD)
        while month <= last:
            nxt = _month(month, 1)
            op.execute(
                f"CREATE TABLE {table}_{month:%Y_%m} PARTITION OF {table}_p"
                f" FOR VALUES FROM ('{month}T00:00:00Z') TO ('{nxt}T00:00:00Z')"
            )
            month = nxt
        op.execute(f"CREATE TABLE {table}_default PARTITION OF {table}_p DEFAULT")
    op.execute(
        "CREATE TABLE appeal_ids (id bigint NOT NULL CONSTRAINT pk_appeal_ids PRIMARY KEY,"
        " number varchar(32) NOT NULL CONSTRAINT uq_appeal_ids_number UNIQUE)"
    )
    op.execute("INSERT INTO appeal_ids (id, number) SELECT id, number FROM appeals ORDER BY id")
    for table in TABLES:
        cols = _columns(table)
        op.execute(f"INSERT INTO {table}_p ({cols}) SELECT {cols} FROM {table}")
    # What referred to the old tables goes (and comes back pointing at the anchor).
    op.execute("DROP VIEW appeal_features")
    for signature, _ in functions:
        op.execute(f"DROP FUNCTION {signature}")
    for child, name, _ in _referencing("appeals") + _referencing("appeal_events"):
        op.execute(f'ALTER TABLE {child} DROP CONSTRAINT "{name}"')
    sequences = {}
    for table, key in TABLES.items():
        last_id = _rows(f"SELECT max(id) FROM {table}")[0][0]
        sequences[table] = last_id
        op.execute(f"DROP TABLE {table}")
        op.execute(f"ALTER TABLE {table}_p RENAME TO {table}")
        op.execute(f"CREATE SEQUENCE {table}_id_seq OWNED BY {table}.id")
        op.execute(f"ALTER TABLE {table} ALTER COLUMN id SET DEFAULT nextval('{table}_id_seq')")
        if last_id:
            op.execute(f"SELECT setval('{table}_id_seq', {int(last_id)})")
        op.execute(f"ALTER TABLE {table} ADD CONSTRAINT pk_{table} PRIMARY KEY (id, {key})")
    op.execute(
        "ALTER TABLE appeal_events ADD CONSTRAINT uq_appeal_events_chain_seq_at"
        " UNIQUE (chain_seq, at)"
    )
    for table in TABLES:
        for statement in kept[table]["indexes"] + kept[table]["fks"] + kept[table]["triggers"]:
            op.execute(statement)
    # Numbers are looked up (the card, the public page): unique in appeal_ids, found here by
    # a plain index on every partition.
    op.execute("CREATE INDEX ix_appeals_number ON appeals (number)")
    op.execute(ANCHOR_FUNCTIONS)
    op.execute(GUARD_PARTITIONED)
    op.execute(SEAL_PARTITIONED)
    for statement in MOVING:
        op.execute(statement)
    for statement in ANCHOR_TRIGGERS:
        op.execute(statement)
    for child in CHILDREN:
        op.execute(
            f"ALTER TABLE {child} ADD CONSTRAINT fk_{child}_appeal_id_appeal_ids FOREIGN KEY"
            " (appeal_id) REFERENCES appeal_ids(id) ON DELETE CASCADE"
        )
    for _, ddl in functions:
        op.execute(ddl)
    op.execute(f"CREATE VIEW appeal_features AS {view}")


def downgrade() -> None:
    op.execute("LOCK TABLE appeals, appeal_events IN ACCESS EXCLUSIVE MODE")
    view, functions = _view(), _functions()
    for statement in ANCHOR_TRIGGERS:
        op.execute(f"DROP TRIGGER {statement.split()[2]} ON appeals")
    op.execute("DROP TRIGGER moving ON appeal_events")
    op.execute("DROP FUNCTION hromada_appeal_event_moving()")
    op.execute(SEAL_PLAIN)
    kept = {t: _capture(t) for t in TABLES}
    for table in TABLES:
        op.execute(
            f"CREATE TABLE {table}_u (LIKE {table} INCLUDING DEFAULTS INCLUDING GENERATED"
            " INCLUDING CONSTRAINTS)"
        )
        op.execute(f"ALTER TABLE {table}_u ALTER COLUMN id DROP DEFAULT")
        cols = _columns(table)
        op.execute(f"INSERT INTO {table}_u ({cols}) SELECT {cols} FROM {table} ORDER BY id")
    op.execute("DROP VIEW appeal_features")
    for signature, _ in functions:
        op.execute(f"DROP FUNCTION {signature}")
    for child, name, _ in _referencing("appeal_ids"):
        op.execute(f'ALTER TABLE {child} DROP CONSTRAINT "{name}"')
    for table in TABLES:
        last_id = _rows(f"SELECT last_value FROM {table}_id_seq WHERE is_called")
        op.execute(f"DROP TABLE {table}")  # its partitions and its sequence go with it
        op.execute(f"ALTER TABLE {table}_u RENAME TO {table}")
        op.execute(f"ALTER TABLE {table} ALTER COLUMN id ADD GENERATED BY DEFAULT AS IDENTITY")
        if last_id:
            op.execute(f"SELECT setval('{table}_id_seq', {int(last_id[0][0])})")
        op.execute(f"ALTER TABLE {table} ADD CONSTRAINT pk_{table} PRIMARY KEY (id)")
    op.execute("ALTER TABLE appeals ADD CONSTRAINT uq_appeals_number UNIQUE (number)")
    op.execute(
        "ALTER TABLE appeal_events ADD CONSTRAINT uq_appeal_events_chain_seq UNIQUE (chain_seq)"
    )
    for table in TABLES:
        for statement in kept[table]["indexes"] + kept[table]["fks"] + kept[table]["triggers"]:
            op.execute(statement)
    op.execute("DROP INDEX IF EXISTS ix_appeals_number")
    op.execute("DROP TABLE appeal_ids")
    op.execute(GUARD_PLAIN)
    op.execute("DROP FUNCTION hromada_appeal_anchor()")
    op.execute("DROP FUNCTION hromada_appeal_anchor_gone()")
    for child in CHILDREN:
        op.execute(
            f"ALTER TABLE {child} ADD CONSTRAINT fk_{child}_appeal_id_appeals FOREIGN KEY"
            " (appeal_id) REFERENCES appeals(id) ON DELETE CASCADE"
        )
    op.execute(
        "ALTER TABLE notifications ADD CONSTRAINT fk_notifications_event_id_appeal_events"
        " FOREIGN KEY (event_id) REFERENCES appeal_events(id) ON DELETE CASCADE"
    )
    for _, ddl in functions:
        op.execute(ddl)
    op.execute(f"CREATE VIEW appeal_features AS {view}")
