"""supporters recorded by the contact centre for a caller, by phone or e-mail

Revision ID: 0011
Revises: 0010_curator_and_control
Create Date: 2026-12-06

An operator (or a curator) records that the CALLER supports an open appeal instead of filing
a duplicate (issue 12, the intake): the caller has no account, so the supporter is a phone
and/or an e-mail with a name — personal data, read by staff only, never in the public history
(gis/supporters.py). `recorded_by` is the member of staff who recorded it and `channel`
the channel the caller used ('site' for a citizen's own support). The same phone (its digits)
or the same e-mail (lower case) supports an appeal once; citizens keep the (appeal_id,
user_id) uniqueness.
"""

from alembic import op
import sqlalchemy as sa


revision = '0011'
down_revision = '0010_curator_and_control'
branch_labels = None
depends_on = None

_PHONE_KEY = sa.literal_column("regexp_replace(phone, '\\D', '', 'g')")
_EMAIL_KEY = sa.literal_column('lower(email)')


def upgrade() -> None:
    op.add_column('appeal_supporters', sa.Column('phone', sa.Text(), nullable=True))
    op.add_column('appeal_supporters', sa.Column('full_name', sa.Text(), nullable=True))
    op.add_column('appeal_supporters', sa.Column('recorded_by', sa.Integer(), nullable=True))
    op.add_column('appeal_supporters', sa.Column('channel', sa.Text(), nullable=True))
    op.create_foreign_key(op.f('fk_appeal_supporters_recorded_by_users'), 'appeal_supporters', 'users', ['recorded_by'], ['id'], ondelete='SET NULL')
    op.create_index('uq_appeal_supporters_phone', 'appeal_supporters', ['appeal_id', _PHONE_KEY], unique=True, postgresql_where=sa.text('phone IS NOT NULL'))
    op.create_index('uq_appeal_supporters_email', 'appeal_supporters', ['appeal_id', _EMAIL_KEY], unique=True, postgresql_where=sa.text('email IS NOT NULL'))


def downgrade() -> None:
    op.drop_index('uq_appeal_supporters_email', table_name='appeal_supporters', postgresql_where=sa.text('email IS NOT NULL'))
    op.drop_index('uq_appeal_supporters_phone', table_name='appeal_supporters', postgresql_where=sa.text('phone IS NOT NULL'))
    op.drop_constraint(op.f('fk_appeal_supporters_recorded_by_users'), 'appeal_supporters', type_='foreignkey')
    op.drop_column('appeal_supporters', 'channel')
    op.drop_column('appeal_supporters', 'recorded_by')
    op.drop_column('appeal_supporters', 'full_name')
    op.drop_column('appeal_supporters', 'phone')
