"""sign-in throttled per account and address, not locked per account

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06

Until now a fixed number of wrong passwords from anywhere locked an account (users.
failed_logins, users.locked_until), so anyone could keep the administrator out by typing
wrong passwords. `login_failures` counts them per (account, client address) instead: past a
few, that address waits before its next try on that account, twice as long each time
(gis/accounts.py), while the owner signs in from their own address. The account is kept as
the SHA-256 of the e-mail typed; rows are forgotten a day after their last failure
(gis.accounts.purge_expired). The two columns of users go; a lock in progress is dropped
with them.
"""

from alembic import op
import sqlalchemy as sa


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('login_failures',
    sa.Column('account_hash', sa.String(length=64), nullable=False),
    sa.Column('address', sa.Text(), nullable=False),
    sa.Column('failures', sa.Integer(), nullable=False),
    sa.Column('last_failure_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('blocked_until', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('account_hash', 'address', name=op.f('pk_login_failures'))
    )
    op.create_index('ix_login_failures_last_failure_at', 'login_failures', ['last_failure_at'], unique=False)
    op.drop_column('users', 'locked_until')
    op.drop_column('users', 'failed_logins')


def downgrade() -> None:
    op.add_column('users', sa.Column('failed_logins', sa.SmallInteger(), server_default='0', nullable=False))
    op.add_column('users', sa.Column('locked_until', sa.DateTime(timezone=True), nullable=True))
    op.drop_index('ix_login_failures_last_failure_at', table_name='login_failures')
    op.drop_table('login_failures')
