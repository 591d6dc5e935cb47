"""appeals about advertising structures and kiosks linked to the nearest structure

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07

Issue 16, item 5. `categories.structure_layer`: which layer a category's appeals are about
(«Зовнішня реклама» → advertising_structures; «Функціонування МАФ», «Утримання МАФ та
прилеглої до нього території» and «Перевірка наявності дозвільної документації; в разі її
відсутності - демонтаж» → kiosks), set here on 1551's kinds and their sub-kinds by name.

`appeal_structures`: one row per appeal of such a category that has a place — the nearest
structure of the layer (not retired) within 50 m (settings.structure_link_distance_m's
default), or feature_id NULL when there is none so near: likely an unpermitted structure.
Kept by gis/structure_links.py from then on (intake, locate, structure edits,
`hromada structures link`). The backfill below is one set-based statement over the appeals
of those few categories (the index on appeals (category_id, created_at) finds them), each
looking up its nearest structure through the GiST index of the layer.
"""

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

LAYERS = {
    "Зовнішня реклама": "advertising_structures",
    "Функціонування МАФ": "kiosks",
    "Утримання МАФ та прилеглої до нього території": "kiosks",
    "Перевірка наявності дозвільної документації; в разі її відсутності - демонтаж": "kiosks",
}
DISTANCE_M = 50.0

# The same statement as gis/structure_links.py's (frozen here as of this revision).
BACKFILL = """
WITH about AS (
  SELECT k.id, coalesce(k.structure_layer, p.structure_layer) AS layer
    FROM categories k LEFT JOIN categories p ON p.id = k.parent_id
   WHERE coalesce(k.structure_layer, p.structure_layer) IS NOT NULL
)
INSERT INTO appeal_structures (appeal_id, layer, feature_id, distance_m)
SELECT a.id, about.layer, n.id, n.distance_m
  FROM appeals a
  JOIN about ON about.id = a.category_id
  LEFT JOIN LATERAL (
    SELECT s.id, ST_Distance(s.geom::geography, a.geom::geography)::real AS distance_m
      FROM (SELECT id, geom FROM advertising_structures
             WHERE about.layer = 'advertising_structures' AND retired_at IS NULL
            UNION ALL
            SELECT id, geom FROM kiosks
             WHERE about.layer = 'kiosks' AND retired_at IS NULL) s
     WHERE ST_DWithin(s.geom, a.geom,
                      :d / (110000.0 * cos(radians(least(abs(ST_Y(a.geom)), 85.0)))))
       AND ST_DWithin(s.geom::geography, a.geom::geography, :d)
     ORDER BY 2, 1
     LIMIT 1
  ) n ON true
 WHERE a.geom IS NOT NULL
"""


def upgrade() -> None:
    op.add_column("categories", sa.Column("structure_layer", sa.Text()))
    op.create_check_constraint(
        op.f("ck_categories_structure_layer"),
        "categories",
        "structure_layer IN ('advertising_structures', 'kiosks')",
    )
    op.create_table(
        "appeal_structures",
        sa.Column(
            "appeal_id",
            sa.BigInteger(),
            sa.ForeignKey("appeals.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("layer", sa.Text(), nullable=False),
        sa.Column("feature_id", sa.Integer()),
        sa.Column("distance_m", sa.REAL()),
        sa.Column(
            "linked_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.CheckConstraint(
            "layer IN ('advertising_structures', 'kiosks')", name=op.f("ck_appeal_structures_layer")
        ),
    )
    op.create_index("ix_appeal_structures_feature", "appeal_structures", ["layer", "feature_id"])
    conn = op.get_bind()
    for name, layer in LAYERS.items():
        conn.execute(
            sa.text(
                "UPDATE categories SET structure_layer = :layer WHERE id IN ("
                " SELECT id FROM categories WHERE parent_id IS NULL AND name = :name"
                " UNION SELECT c.id FROM categories c JOIN categories k ON k.id = c.parent_id"
                "  WHERE k.parent_id IS NULL AND k.name = :name)"
            ),
            {"layer": layer, "name": name},
        )
    conn.execute(sa.text("SET LOCAL jit = off"))  # a cheap statement the planner overestimates
    conn.execute(sa.text(BACKFILL), {"d": DISTANCE_M})
    conn.execute(sa.text("RESET jit"))


def downgrade() -> None:
    op.drop_table("appeal_structures")
    op.drop_constraint(op.f("ck_categories_structure_layer"), "categories", type_="check")
    op.drop_column("categories", "structure_layer")
