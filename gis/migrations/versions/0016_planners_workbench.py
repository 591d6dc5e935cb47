"""the planners' workbench: advertising structures and kiosks edited under permit control

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-06

Issue 16. Both core tables become editable (gis/structures.py; OGC API – Features Part 4 and the
/planner page): `version` is the ETag of an item (If-Match refuses a stale edit), `updated_at`
the time of the last edit, `retired_at` hides a removed structure from the map while keeping it
for the audit trail. The permit gains its type and its first day; an advertising structure its
number of sides. `holder_is_person`: the permit's holder (`owner`) is a private person, whose
name never reaches a public endpoint.

`permit_documents`: the files of a permit (stored under settings.data_dir like appeal photos).
`placement_rules`: what the administrator configures and every save is checked against
(gis/placement.py): at least N m from another structure of the same layer; not within N m of
the features of another layer; not inside the polygons of another layer.
"""

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

_TABLES = ("advertising_structures", "kiosks")


def upgrade() -> None:
    for table in _TABLES:
        op.add_column(table, sa.Column("version", sa.Integer(), server_default="1", nullable=False))
        op.add_column(table, sa.Column("updated_at", sa.DateTime(timezone=True)))
        op.add_column(table, sa.Column("retired_at", sa.DateTime(timezone=True)))
        op.add_column(table, sa.Column("permit_type", sa.Text()))
        op.add_column(table, sa.Column("permit_valid_from", sa.Date()))
        op.add_column(
            table,
            sa.Column("holder_is_person", sa.Boolean(), server_default="false", nullable=False),
        )
    op.add_column("advertising_structures", sa.Column("sides", sa.SmallInteger()))
    op.create_table(
        "permit_documents",
        sa.Column("id", sa.Integer(), sa.Identity(), primary_key=True),
        sa.Column("layer", sa.Text(), nullable=False),
        sa.Column("feature_id", sa.Integer(), nullable=False),
        sa.Column("filename", sa.Text(), nullable=False),
        sa.Column("media_type", sa.Text(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column(
            "uploaded_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column(
            "uploaded_by",
            sa.Integer(),
            sa.ForeignKey("users.id", ondelete="SET NULL"),
            nullable=True,
        ),
        sa.CheckConstraint(
            "layer IN ('advertising_structures', 'kiosks')", name=op.f("ck_permit_documents_layer")
        ),
    )
    op.create_index("ix_permit_documents_feature", "permit_documents", ["layer", "feature_id"])
    op.create_table(
        "placement_rules",
        sa.Column("id", sa.Integer(), sa.Identity(), primary_key=True),
        sa.Column("layer", sa.Text(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("distance_m", sa.Numeric(10, 2)),
        sa.Column("other_layer", sa.Text()),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("title_en", sa.Text()),
        sa.Column("enabled", sa.Boolean(), server_default="true", nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column(
            "created_by",
            sa.Integer(),
            sa.ForeignKey("users.id", ondelete="SET NULL"),
            nullable=True,
        ),
        sa.CheckConstraint(
            "layer IN ('advertising_structures', 'kiosks')", name=op.f("ck_placement_rules_layer")
        ),
        sa.CheckConstraint(
            "kind IN ('min_distance_same', 'min_distance_layer', 'not_inside_layer')",
            name=op.f("ck_placement_rules_kind"),
        ),
    )


def downgrade() -> None:
    op.drop_table("placement_rules")
    op.drop_table("permit_documents")
    op.drop_column("advertising_structures", "sides")
    for table in _TABLES:
        for column in (
            "holder_is_person", "permit_valid_from", "permit_type", "retired_at", "updated_at",
            "version",
        ):  # fmt: skip
            op.drop_column(table, column)
