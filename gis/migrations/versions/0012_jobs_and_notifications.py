"""background jobs (procrastinate), the notifications outbox, daily dispatch, permit notices

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06

- procrastinate's own schema (its tables, types, functions and triggers, all named
  `procrastinate_*`), as the pinned version ships it (constraints.txt). Upgrading procrastinate
  to a version with schema changes means a new migration that runs the SQL files it ships in
  procrastinate/sql/migrations.
- `notifications`: the outbox (gis/notify.py), one row per message, written with the change
  that causes it; unique per (event, channel, recipient): never twice.
- `appeal_authors` gets the author's channel, language and unsubscription.
- `dispatch_subscriptions`, `dispatch_batches`, `dispatch_items` (gis/dispatch.py): each
  appeal goes to a subscription once (the items' primary key).
- `permit_notices`: each permit's expiry told once per threshold.
- `service_keys`: the key that signs an author's links, made here once for every machine.
"""

import secrets

import geoalchemy2
import sqlalchemy as sa
from alembic import op
from procrastinate.schema import SchemaManager

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(SchemaManager.get_schema())

    op.add_column('appeal_authors', sa.Column('notify_channel', sa.String(length=16), server_default='email', nullable=False))
    op.add_column('appeal_authors', sa.Column('language', sa.String(length=8), server_default='uk', nullable=False))
    op.add_column('appeal_authors', sa.Column('unsubscribed_at', sa.DateTime(timezone=True), nullable=True))

    op.create_table('notifications',
    sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('appeal_id', sa.BigInteger(), nullable=False),
    sa.Column('event_id', sa.BigInteger(), nullable=True),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('recipient', sa.Text(), nullable=False),
    sa.Column('language', sa.String(length=8), server_default='uk', nullable=False),
    sa.Column('subject', sa.Text(), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=16), server_default='pending', nullable=False),
    sa.Column('attempts', sa.Integer(), server_default='0', nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['appeal_id'], ['appeals.id'], name=op.f('fk_notifications_appeal_id_appeals'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['event_id'], ['appeal_events.id'], name=op.f('fk_notifications_event_id_appeal_events'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notifications')),
    sa.UniqueConstraint('event_id', 'channel', 'recipient', name=op.f('uq_notifications_event_id_channel_recipient'))
    )
    op.create_index(op.f('ix_notifications_appeal_id'), 'notifications', ['appeal_id'], unique=False)
    op.create_index('ix_notifications_undelivered', 'notifications', ['next_attempt_at'], unique=False, postgresql_where=sa.text("status <> 'sent'"))

    op.create_table('dispatch_subscriptions',
    sa.Column('id', sa.Integer(), sa.Identity(always=False), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('category_ids', sa.ARRAY(sa.Integer()), server_default='{}', nullable=False),
    sa.Column('district_code', sa.String(length=32), nullable=True),
    sa.Column('ward_number', sa.Integer(), nullable=True),
    sa.Column('geom', geoalchemy2.types.Geometry(geometry_type='MULTIPOLYGON', srid=4326, from_text='ST_GeomFromEWKT', name='geometry'), nullable=True),
    sa.Column('recipient_email', sa.Text(), nullable=True),
    sa.Column('webhook_url', sa.Text(), nullable=True),
    sa.Column('webhook_secret', sa.Text(), nullable=True),
    sa.Column('send_at', sa.Time(), server_default='07:00', nullable=False),
    sa.Column('format', sa.String(length=8), server_default='csv', nullable=False),
    sa.Column('is_active', sa.Boolean(), server_default='true', nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.CheckConstraint("(recipient_email IS NULL) <> (webhook_url IS NULL)", name=op.f('ck_dispatch_subscriptions_one_recipient')),
    sa.CheckConstraint("format IN ('csv', 'xlsx', 'geojson')", name=op.f('ck_dispatch_subscriptions_format')),
    sa.ForeignKeyConstraint(['created_by'], ['users.id'], name=op.f('fk_dispatch_subscriptions_created_by_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_dispatch_subscriptions'))
    )

    op.create_table('dispatch_batches',
    sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('subscription_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('status', sa.String(length=16), server_default='pending', nullable=False),
    sa.Column('attempts', sa.Integer(), server_default='0', nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['subscription_id'], ['dispatch_subscriptions.id'], name=op.f('fk_dispatch_batches_subscription_id_dispatch_subscriptions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_dispatch_batches')),
    sa.UniqueConstraint('subscription_id', 'day', name=op.f('uq_dispatch_batches_subscription_id_day'))
    )

    op.create_table('dispatch_items',
    sa.Column('subscription_id', sa.Integer(), nullable=False),
    sa.Column('appeal_id', sa.BigInteger(), nullable=False),
    sa.Column('batch_id', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['appeal_id'], ['appeals.id'], name=op.f('fk_dispatch_items_appeal_id_appeals'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['batch_id'], ['dispatch_batches.id'], name=op.f('fk_dispatch_items_batch_id_dispatch_batches'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['subscription_id'], ['dispatch_subscriptions.id'], name=op.f('fk_dispatch_items_subscription_id_dispatch_subscriptions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('subscription_id', 'appeal_id', name=op.f('pk_dispatch_items'))
    )
    op.create_index(op.f('ix_dispatch_items_batch_id'), 'dispatch_items', ['batch_id'], unique=False)

    op.create_table('permit_notices',
    sa.Column('layer', sa.String(length=64), nullable=False),
    sa.Column('feature_id', sa.BigInteger(), nullable=False),
    sa.Column('valid_until', sa.Date(), nullable=False),
    sa.Column('threshold_days', sa.Integer(), nullable=False),
    sa.Column('permit_number', sa.Text(), nullable=True),
    sa.Column('sent_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('layer', 'feature_id', 'valid_until', 'threshold_days', name=op.f('pk_permit_notices'))
    )

    service_keys = op.create_table('service_keys',
    sa.Column('name', sa.String(length=32), nullable=False),
    sa.Column('key', sa.LargeBinary(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_service_keys'))
    )
    op.bulk_insert(service_keys, [{'name': 'author', 'key': secrets.token_bytes(32)}])


def downgrade() -> None:
    op.drop_table('service_keys')
    op.drop_table('permit_notices')
    op.drop_index(op.f('ix_dispatch_items_batch_id'), table_name='dispatch_items')
    op.drop_table('dispatch_items')
    op.drop_table('dispatch_batches')
    op.drop_table('dispatch_subscriptions')
    op.drop_index('ix_notifications_undelivered', table_name='notifications', postgresql_where=sa.text("status <> 'sent'"))
    op.drop_index(op.f('ix_notifications_appeal_id'), table_name='notifications')
    op.drop_table('notifications')
    op.drop_column('appeal_authors', 'unsubscribed_at')
    op.drop_column('appeal_authors', 'language')
    op.drop_column('appeal_authors', 'notify_channel')
    # procrastinate's objects, all named procrastinate_*: tables first (their triggers go
    # with them), then its functions and types.
    op.execute("""
DO $$
DECLARE r record;
BEGIN
    FOR r IN SELECT tablename FROM pg_tables
              WHERE schemaname = current_schema() AND tablename LIKE 'procrastinate\\_%' LOOP
        EXECUTE format('DROP TABLE %I CASCADE', r.tablename);
    END LOOP;
    FOR r IN SELECT p.oid::regprocedure AS f FROM pg_proc p
              WHERE p.pronamespace = current_schema()::regnamespace
                AND p.proname LIKE 'procrastinate\\_%' LOOP
        EXECUTE format('DROP FUNCTION %s CASCADE', r.f);
    END LOOP;
    FOR r IN SELECT typname FROM pg_type
              WHERE typnamespace = current_schema()::regnamespace
                AND typname LIKE 'procrastinate\\_%' AND typtype IN ('e', 'c') LOOP
        EXECUTE format('DROP TYPE %I CASCADE', r.typname);
    END LOOP;
END $$""")
