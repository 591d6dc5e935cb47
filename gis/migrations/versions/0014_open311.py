"""Open311 GeoReport v2: client applications and their keys, the calls made with them, the
tokens of their requests; appeals filed through Open311 (channel 'open311')

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06

- `open311_clients`: one row per client application, its key stored only as SHA-256
  (gis/open311_clients.py); a revoked key keeps its row (`revoked_at`).
- `open311_calls`: every call made with a key (method, path, status), pruned after 90 days by
  the retention purge.
- `open311_tokens`: the token answered with a request (`tokens/{token}`).
- `appeals.open311_client_id` and the channel 'open311'.
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

CHANNELS_BEFORE = "'site','phone_1551','government_hotline','email','tv','112','letter'"
CHANNELS_AFTER = CHANNELS_BEFORE + ",'open311'"


def _channels(allowed: str) -> None:
    op.drop_constraint(op.f("ck_appeals_channel"), "appeals", type_="check")
    op.create_check_constraint(op.f("ck_appeals_channel"), "appeals", f"channel IN ({allowed})")


def upgrade() -> None:
    op.create_table(
        "open311_clients",
        sa.Column("id", sa.Integer(), sa.Identity(always=False), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("key_sha256", sa.String(length=64), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["users.id"],
            name=op.f("fk_open311_clients_created_by_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_open311_clients")),
        sa.UniqueConstraint("key_sha256", name=op.f("uq_open311_clients_key_sha256")),
        sa.UniqueConstraint("name", name=op.f("uq_open311_clients_name")),
    )
    op.create_table(
        "open311_calls",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.Column(
            "at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.Column("method", sa.String(length=8), nullable=False),
        sa.Column("path", sa.Text(), nullable=False),
        sa.Column("status", sa.SmallInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["client_id"],
            ["open311_clients.id"],
            name=op.f("fk_open311_calls_client_id_open311_clients"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_open311_calls")),
    )
    op.create_index(
        op.f("ix_open311_calls_client_id_at"), "open311_calls", ["client_id", "at"], unique=False
    )
    op.create_index(op.f("ix_open311_calls_at"), "open311_calls", ["at"], unique=False)
    op.create_table(
        "open311_tokens",
        sa.Column("token", sa.String(length=64), nullable=False),
        sa.Column("appeal_id", sa.BigInteger(), nullable=False),
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["appeal_id"],
            ["appeals.id"],
            name=op.f("fk_open311_tokens_appeal_id_appeals"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["client_id"],
            ["open311_clients.id"],
            name=op.f("fk_open311_tokens_client_id_open311_clients"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("token", name=op.f("pk_open311_tokens")),
    )
    op.create_index(
        op.f("ix_open311_tokens_appeal_id"), "open311_tokens", ["appeal_id"], unique=False
    )
    op.add_column("appeals", sa.Column("open311_client_id", sa.Integer(), nullable=True))
    op.create_foreign_key(
        op.f("fk_appeals_open311_client_id_open311_clients"),
        "appeals",
        "open311_clients",
        ["open311_client_id"],
        ["id"],
    )
    _channels(CHANNELS_AFTER)


def downgrade() -> None:
    op.execute("UPDATE appeals SET channel = 'site' WHERE channel = 'open311'")
    _channels(CHANNELS_BEFORE)
    op.drop_constraint(
        op.f("fk_appeals_open311_client_id_open311_clients"), "appeals", type_="foreignkey"
    )
    op.drop_column("appeals", "open311_client_id")
    op.drop_index(op.f("ix_open311_tokens_appeal_id"), table_name="open311_tokens")
    op.drop_table("open311_tokens")
    op.drop_index(op.f("ix_open311_calls_at"), table_name="open311_calls")
    op.drop_index(op.f("ix_open311_calls_client_id_at"), table_name="open311_calls")
    op.drop_table("open311_calls")
    op.drop_table("open311_clients")
