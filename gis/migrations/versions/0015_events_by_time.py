"""the lifecycle's events by time, for Open311's servicerequestupdates

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06

`GET /open311/v2/servicerequestupdates` (gis/open311.py) pages through the events of a window
of time, oldest first (ORDER BY at, id), and FixMyStreet polls it every few minutes. Without an
index on the time every page sorted the whole trail: over 5.9 million events (3 million
appeals) a page of 100 took 1.45 s; with `ix_appeal_events_at` (at, id) it is an index range
scan stopped by the LIMIT, 4 ms.
"""

from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("CREATE INDEX ix_appeal_events_at ON appeal_events (at, id)")


def downgrade() -> None:
    op.execute("DROP INDEX IF EXISTS ix_appeal_events_at")
