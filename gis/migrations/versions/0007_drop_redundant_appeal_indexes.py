"""drop the two appeal indexes the tiles' covering indexes repeat

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-27

`ix_appeals_created_at` (created_at) and `ix_appeals_category_id_created_at` (category_id,
created_at) have the same keys as 0006's `ix_appeals_tiles_period` and
`ix_appeals_tiles_category`, which also carry the geometry and the status. Every query that
read the narrow ones reads the covering ones in the same order (checked with EXPLAIN: the
feed's newest-first page, a category's count over a period, a period's counts by category),
and every new appeal wrote both copies.

Measured over 3 million appeals (tile cache off, median of 25 sequential requests, 0006 →
0007 → back to 0006 → 0007 in one run): z10 tile of a category over 90 days 55.7 → 53.9 ms,
the same at z14 68.1 → 67.6 ms, unfiltered z14 121.1 → 119.8 ms, the feed's first page of the
month 4.5 → 3.5 ms, of a category 3.8 → 3.9 ms: no read slower, two indexes fewer to write.
"""

from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index('ix_appeals_created_at', table_name='appeals')
    op.drop_index('ix_appeals_category_id_created_at', table_name='appeals')


def downgrade() -> None:
    op.create_index('ix_appeals_category_id_created_at', 'appeals', ['category_id', 'created_at'])
    op.create_index('ix_appeals_created_at', 'appeals', ['created_at'])
