"""a council's reports read one index: ix_appeals_council_created carries the reports' columns

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-07

Issue 17's bench (bench/reports_3m.py --as council, 3 million appeals, one council holding them
all) found a council's administrator 2–6 times slower than the oblast's on the same rows, and
`districts-by-category` past the 30 s statement timeout. The oblast's reports are index-only
scans of `ix_appeals_reports` (created_at INCLUDE the reports' columns); with a council the
planner took `ix_appeals_council_created` (council_id, created_at), exact for both predicates,
and then read every row from the heap: 409,428 blocks and 5.6 s for `channels`, against 0.9 s.
The same key now carries the same columns, so a council's report is an index-only range scan
of its own rows (channels: 1.2 s cold on the same data), and the council-bound queues that
used the key keep it. Size on the bench: 87 MB → 635 MB (`ix_appeals_reports` is 611 MB).
"""

from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None

REPORTS_INCLUDE = (
    "id, status, channel, category_id, district_id, ward_id, executor_id, deadline_at,"
    " extended_until, answered_at, closed_at, result, geom_3857"
)


def upgrade() -> None:
    op.execute("DROP INDEX ix_appeals_council_created")
    op.execute(
        "CREATE INDEX ix_appeals_council_created ON appeals (council_id, created_at)"
        f" INCLUDE ({REPORTS_INCLUDE})"
    )


def downgrade() -> None:
    op.execute("DROP INDEX ix_appeals_council_created")
    op.execute("CREATE INDEX ix_appeals_council_created ON appeals (council_id, created_at)")
