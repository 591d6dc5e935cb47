"""the audit seal asks the anchor table whether an appeal is generated

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-07

Every event inserted into appeal_events passes the seal (0004, 0020), which first asks
whether its appeal is a generated (demo) one: those events are hashed but kept out of the
one audit chain. It asked `appeals` by id alone. Since 0020 the key of `appeals` is (id,
created_at), so that lookup probes the primary key of every month's partition: 26 at a
year and a month, 120 at the ten years of the 10-million demo, where inserting its 10
million registration events ran past 30 minutes. The narrow anchor table appeal_ids (id
PK, number) now carries `generated` too, written by the anchor trigger with the appeal, and
the seal reads one row of its primary key. An appeal's `generated` is set when it is made
and never changes.
"""

from alembic import op

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None

ANCHOR = """
CREATE OR REPLACE FUNCTION hromada_appeal_anchor() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO appeal_ids (id, number, generated) VALUES (NEW.id, NEW.number, NEW.generated)
    ON CONFLICT (id) DO UPDATE SET number = excluded.number
     WHERE appeal_ids.number IS DISTINCT FROM excluded.number;
    RETURN NEW;
END
$$
"""
ANCHOR_BEFORE = """
CREATE OR REPLACE FUNCTION hromada_appeal_anchor() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO appeal_ids (id, number) VALUES (NEW.id, NEW.number)
    ON CONFLICT (id) DO UPDATE SET number = excluded.number
     WHERE appeal_ids.number IS DISTINCT FROM excluded.number;
    RETURN NEW;
END
$$
"""

SEAL = """
CREATE OR REPLACE FUNCTION hromada_appeal_events_seal() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    head record;
BEGIN
    IF current_setting('hromada.moving_event', true) = NEW.id::text THEN
        PERFORM set_config('hromada.moving_event', '', true);
        RETURN NEW;
    END IF;
    IF EXISTS (SELECT 1 FROM {source} WHERE id = NEW.appeal_id AND generated) THEN
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
$$
"""


def upgrade() -> None:
    op.execute("ALTER TABLE appeal_ids ADD COLUMN generated boolean NOT NULL DEFAULT false")
    op.execute(
        "UPDATE appeal_ids i SET generated = true FROM appeals a WHERE a.id = i.id AND a.generated"
    )
    op.execute(ANCHOR)
    op.execute(SEAL.format(source="appeal_ids"))


def downgrade() -> None:
    op.execute(SEAL.format(source="appeals"))
    op.execute(ANCHOR_BEFORE)
    op.execute("ALTER TABLE appeal_ids DROP COLUMN generated")
