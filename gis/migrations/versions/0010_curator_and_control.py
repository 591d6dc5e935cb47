"""an appeal under a manager's personal control, with its control date

Revision ID: 0010_curator_and_control
Revises: 0009_category_keywords
Create Date: 2026-12-06

The manager's АРМ (GUIDE §1) puts an appeal "на особистий контроль": `appeals.control_until`
is the date the manager wants it done by (NULL: not under control) and `control_by` who set
it; every change is an appeal_events row (action 'control', internal), so the hash chain
keeps who set or lifted it and when (gis/manager.py). A partial index serves the АРМ's
"under control" count and list.

The curator's queues need no column: whom an appeal on check awaits (the curator for an
explained answer, the author for a done one) is 1551's result itself (gis/curator.py).
"""

from alembic import op
import sqlalchemy as sa


revision = '0010_curator_and_control'
down_revision = '0009_category_keywords'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('appeals', sa.Column('control_until', sa.Date(), nullable=True))
    op.add_column('appeals', sa.Column('control_by', sa.Integer(), nullable=True))
    op.create_foreign_key(op.f('fk_appeals_control_by_users'), 'appeals', 'users', ['control_by'], ['id'], ondelete='SET NULL')
    op.create_index('ix_appeals_control_until', 'appeals', ['executor_id', 'control_until'], unique=False, postgresql_where=sa.text('control_until IS NOT NULL'))


def downgrade() -> None:
    op.drop_index('ix_appeals_control_until', table_name='appeals', postgresql_where=sa.text('control_until IS NOT NULL'))
    op.drop_constraint(op.f('fk_appeals_control_by_users'), 'appeals', type_='foreignkey')
    op.drop_column('appeals', 'control_by')
    op.drop_column('appeals', 'control_until')
