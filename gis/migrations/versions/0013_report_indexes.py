"""indexes for the reports: a covering index by registration time, the open appeals by due
date, the curator's returns for rework

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06

The reports (gis/reports.py) aggregate every appeal of a period. Over 3 million appeals
(bench/reports_3m.py) each of them read the whole table — 3.2 GB of heap, mostly the appeals'
texts, addresses and areas, which no report reads — in 1.5–7 s, and the executors' report ran
one subquery over `appeal_events` per appeal, past the 30 s statement timeout.

- `ix_appeals_reports` (created_at) INCLUDE every column a report reads: the reports of a
  period become index-only scans of about 0.6 GB (after VACUUM: the visibility map).
- `ix_appeals_open_due` (coalesce(extended_until, deadline_at)) INCLUDE the overdue list's
  columns, WHERE status <> 'closed': the `overdue` report reads the open appeals past their
  term (136 thousand open of 3 million) index-only, in the order it shows them.
- `ix_appeal_events_rework` (appeal_id) WHERE action = 'rework': the executors' report joins
  the few returns for rework instead of probing the trail of every appeal.
"""

from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

REPORTS_INCLUDE = (
    "id, status, channel, category_id, district_id, ward_id, executor_id, deadline_at,"
    " extended_until, answered_at, closed_at, result, geom_3857"
)
OPEN_DUE_INCLUDE = (
    "id, number, status, category_id, district_id, ward_id, executor_id, channel, created_at,"
    " deadline_at, extended_until"
)


def upgrade() -> None:
    op.execute(
        f"CREATE INDEX ix_appeals_reports ON appeals (created_at) INCLUDE ({REPORTS_INCLUDE})"
    )
    op.execute(
        "CREATE INDEX ix_appeals_open_due ON appeals ((coalesce(extended_until, deadline_at)))"
        f" INCLUDE ({OPEN_DUE_INCLUDE}) WHERE status <> 'closed'"
    )
    op.execute(
        "CREATE INDEX ix_appeal_events_rework ON appeal_events (appeal_id) WHERE action = 'rework'"
    )


def downgrade() -> None:
    op.execute("DROP INDEX IF EXISTS ix_appeal_events_rework")
    op.execute("DROP INDEX IF EXISTS ix_appeals_open_due")
    op.execute("DROP INDEX IF EXISTS ix_appeals_reports")
