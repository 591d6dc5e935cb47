"""lifecycle and audit

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26

The 1551 lifecycle (issue 4 items 5-7): resolutions (main and co-executors with their own
deadlines), appeals.answered_at (the autoclose job counts from it), the audit trail of layer
features, and the hash chain of appeal_events and feature_events. Tables and columns by
autogenerate from gis/models.py; the functions and triggers below by hand (gis/audit.py
explains them).
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

# sha256 over the previous link's hash and the canonical JSON (jsonb's text form: keys in a
# fixed order, no insignificant spaces; times in UTC with microseconds) of the event's fields.
# actor_user_id is left out: erasing a user sets it NULL (ON DELETE SET NULL) and the chain
# must survive that; the actor's name is in `actor`.
AUDIT_SQL = [
    """
CREATE FUNCTION hromada_audit_hash(prev text, body jsonb) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT encode(sha256(convert_to(coalesce(prev, '') || body::text, 'UTF8')), 'hex')
$$""",
    """
CREATE FUNCTION hromada_audit_time(at timestamptz) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')
$$""",
    """
CREATE FUNCTION hromada_appeal_event_body(e appeal_events) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object(
        'id', e.id, 'appeal_id', e.appeal_id, 'at', hromada_audit_time(e.at),
        'actor', e.actor, 'action', e.action, 'old', e.old, 'new', e.new,
        'comment', e.comment, 'internal', e.internal, 'chain_seq', e.chain_seq)
$$""",
    """
CREATE FUNCTION hromada_feature_event_body(e feature_events) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object(
        'id', e.id, 'layer', e.layer, 'feature_id', e.feature_id,
        'at', hromada_audit_time(e.at), 'actor', e.actor, 'action', e.action,
        'old', e.old, 'new', e.new, 'chain_seq', e.chain_seq)
$$""",
    # Appends an event to its chain: under a transaction-level advisory lock, so the chain is
    # linear whatever the concurrency; the head row remembers the last link. Events of the
    # demo's generated appeals are sealed on their own (chain_seq NULL, no previous link): the
    # demo bulk-inserts and deletes them on every reload, which must not break the chain.
    """
CREATE FUNCTION hromada_appeal_events_seal() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    head record;
BEGIN
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
$$""",
    """
CREATE FUNCTION hromada_feature_events_seal() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    head record;
BEGIN
    PERFORM pg_advisory_xact_lock(1551, 2);
    SELECT seq, hash INTO head FROM audit_chain_heads WHERE chain = 'features';
    NEW.chain_seq := coalesce(head.seq, 0) + 1;
    NEW.prev_hash := head.hash;
    NEW.hash := hromada_audit_hash(NEW.prev_hash, hromada_feature_event_body(NEW));
    INSERT INTO audit_chain_heads (chain, seq, hash) VALUES ('features', NEW.chain_seq, NEW.hash)
        ON CONFLICT (chain) DO UPDATE SET seq = EXCLUDED.seq, hash = EXCLUDED.hash;
    RETURN NEW;
END
$$""",
    # Append-only: no UPDATE, no DELETE. Allowed: a user's erasure setting actor_user_id NULL
    # (nothing else changing), deleting demo events (chain_seq NULL: the demo's reload), and
    # a maintenance session that says so (SET LOCAL hromada.audit_maintenance = 'on').
    """
CREATE FUNCTION hromada_audit_guard() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF current_setting('hromada.audit_maintenance', true) = 'on' THEN
        RETURN coalesce(NEW, OLD);
    END IF;
    IF TG_OP = 'UPDATE' AND NEW.actor_user_id IS NULL
       AND to_jsonb(NEW) - 'actor_user_id' = to_jsonb(OLD) - 'actor_user_id' THEN
        RETURN NEW;
    END IF;
    IF TG_OP = 'DELETE' AND TG_TABLE_NAME = 'appeal_events' AND OLD.chain_seq IS NULL THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'the audit trail (%) is append-only: % refused', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$""",
    # TRUNCATE (the demo's reload when only generated appeals exist) restarts the chain.
    """
CREATE FUNCTION hromada_audit_truncated() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM audit_chain_heads
     WHERE chain = CASE TG_TABLE_NAME WHEN 'appeal_events' THEN 'appeals' ELSE 'features' END;
    RETURN NULL;
END
$$""",
    # Events written before this revision are sealed now, before the triggers exist: the
    # demo's each on its own, the others chained in the order they happened (by id).
    """
UPDATE appeal_events e SET hash = hromada_audit_hash(NULL, hromada_appeal_event_body(e))
  FROM appeals a WHERE a.id = e.appeal_id AND a.generated""",
    """
DO $$
DECLARE
    ev record;
    n bigint := 0;
    prev text := NULL;
    sealed text;
BEGIN
    FOR ev IN SELECT e.id FROM appeal_events e JOIN appeals a ON a.id = e.appeal_id
               WHERE NOT a.generated ORDER BY e.id LOOP
        n := n + 1;
        UPDATE appeal_events SET chain_seq = n, prev_hash = prev WHERE id = ev.id;
        SELECT hromada_audit_hash(prev, hromada_appeal_event_body(e)) INTO sealed
          FROM appeal_events e WHERE e.id = ev.id;
        UPDATE appeal_events SET hash = sealed WHERE id = ev.id;
        prev := sealed;
    END LOOP;
    IF n > 0 THEN
        INSERT INTO audit_chain_heads (chain, seq, hash) VALUES ('appeals', n, prev);
    END IF;
END
$$""",
    "CREATE TRIGGER seal BEFORE INSERT ON appeal_events"
    " FOR EACH ROW EXECUTE FUNCTION hromada_appeal_events_seal()",
    "CREATE TRIGGER seal BEFORE INSERT ON feature_events"
    " FOR EACH ROW EXECUTE FUNCTION hromada_feature_events_seal()",
    "CREATE TRIGGER append_only BEFORE UPDATE OR DELETE ON appeal_events"
    " FOR EACH ROW EXECUTE FUNCTION hromada_audit_guard()",
    "CREATE TRIGGER append_only BEFORE UPDATE OR DELETE ON feature_events"
    " FOR EACH ROW EXECUTE FUNCTION hromada_audit_guard()",
    "CREATE TRIGGER truncated AFTER TRUNCATE ON appeal_events"
    " FOR EACH STATEMENT EXECUTE FUNCTION hromada_audit_truncated()",
    "CREATE TRIGGER truncated AFTER TRUNCATE ON feature_events"
    " FOR EACH STATEMENT EXECUTE FUNCTION hromada_audit_truncated()",
]
AUDIT_DOWN_SQL = [
    "DROP TRIGGER truncated ON feature_events",
    "DROP TRIGGER truncated ON appeal_events",
    "DROP TRIGGER append_only ON feature_events",
    "DROP TRIGGER append_only ON appeal_events",
    "DROP TRIGGER seal ON feature_events",
    "DROP TRIGGER seal ON appeal_events",
    "DROP FUNCTION hromada_audit_truncated()",
    "DROP FUNCTION hromada_audit_guard()",
    "DROP FUNCTION hromada_feature_events_seal()",
    "DROP FUNCTION hromada_appeal_events_seal()",
    "DROP FUNCTION hromada_feature_event_body(feature_events)",
    "DROP FUNCTION hromada_appeal_event_body(appeal_events)",
    "DROP FUNCTION hromada_audit_time(timestamptz)",
    "DROP FUNCTION hromada_audit_hash(text, jsonb)",
]


def upgrade() -> None:
    # ### commands auto generated by Alembic - please adjust! ###
    op.create_table('audit_chain_heads',
    sa.Column('chain', sa.String(length=16), nullable=False),
    sa.Column('seq', sa.BigInteger(), nullable=False),
    sa.Column('hash', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('chain', name=op.f('pk_audit_chain_heads'))
    )
    op.create_table('feature_events',
    sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('layer', sa.String(length=64), nullable=False),
    sa.Column('feature_id', sa.String(length=64), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('actor', sa.Text(), nullable=False),
    sa.Column('actor_user_id', sa.Integer(), nullable=True),
    sa.Column('action', sa.String(length=32), nullable=False),
    sa.Column('old', postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    sa.Column('new', postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    sa.Column('chain_seq', sa.BigInteger(), nullable=True),
    sa.Column('prev_hash', sa.String(length=64), nullable=True),
    sa.Column('hash', sa.String(length=64), nullable=True),
    sa.ForeignKeyConstraint(['actor_user_id'], ['users.id'], name=op.f('fk_feature_events_actor_user_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_feature_events')),
    sa.UniqueConstraint('chain_seq', name=op.f('uq_feature_events_chain_seq'))
    )
    op.create_index(op.f('ix_feature_events_layer_feature_id'), 'feature_events', ['layer', 'feature_id'], unique=False)
    op.create_table('resolutions',
    sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('appeal_id', sa.BigInteger(), nullable=False),
    sa.Column('executor_id', sa.Integer(), nullable=False),
    sa.Column('is_main', sa.Boolean(), server_default='false', nullable=False),
    sa.Column('deadline_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('comment', sa.Text(), nullable=True),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['appeal_id'], ['appeals.id'], name=op.f('fk_resolutions_appeal_id_appeals'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['created_by'], ['users.id'], name=op.f('fk_resolutions_created_by_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['executor_id'], ['executors.id'], name=op.f('fk_resolutions_executor_id_executors')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_resolutions')),
    sa.UniqueConstraint('appeal_id', 'executor_id', name=op.f('uq_resolutions_appeal_id_executor_id'))
    )
    op.create_index(op.f('ix_resolutions_appeal_id'), 'resolutions', ['appeal_id'], unique=False)
    op.add_column('appeal_events', sa.Column('internal', sa.Boolean(), server_default='false', nullable=False))
    op.add_column('appeal_events', sa.Column('chain_seq', sa.BigInteger(), nullable=True))
    op.add_column('appeal_events', sa.Column('prev_hash', sa.String(length=64), nullable=True))
    op.add_column('appeal_events', sa.Column('hash', sa.String(length=64), nullable=True))
    op.create_unique_constraint(op.f('uq_appeal_events_chain_seq'), 'appeal_events', ['chain_seq'])
    op.add_column('appeals', sa.Column('answered_at', sa.DateTime(timezone=True), nullable=True))
    # ### end Alembic commands ###
    for statement in AUDIT_SQL:
        op.execute(statement)


def downgrade() -> None:
    for statement in AUDIT_DOWN_SQL:
        op.execute(statement)
    # ### commands auto generated by Alembic - please adjust! ###
    op.drop_column('appeals', 'answered_at')
    op.drop_constraint(op.f('uq_appeal_events_chain_seq'), 'appeal_events', type_='unique')
    op.drop_column('appeal_events', 'hash')
    op.drop_column('appeal_events', 'prev_hash')
    op.drop_column('appeal_events', 'chain_seq')
    op.drop_column('appeal_events', 'internal')
    op.drop_index(op.f('ix_resolutions_appeal_id'), table_name='resolutions')
    op.drop_table('resolutions')
    op.drop_index(op.f('ix_feature_events_layer_feature_id'), table_name='feature_events')
    op.drop_table('feature_events')
    op.drop_table('audit_chain_heads')
    # ### end Alembic commands ###
