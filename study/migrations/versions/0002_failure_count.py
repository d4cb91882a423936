"""failure counts shared by all web processes (login and personal-link throttling)

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0002'
down_revision: str | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('failure_count',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('scope', sa.String(length=20), nullable=False),
    sa.Column('account', sa.String(length=80), nullable=False),
    sa.Column('address', sa.String(length=64), nullable=False),
    sa.Column('failures', sa.Integer(), nullable=False),
    sa.Column('last_failure_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('blocked_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('succeeded_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('forget_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_failure_count')),
    sa.UniqueConstraint('scope', 'account', 'address', name=op.f('uq_failure_count_scope_account_address'))
    )
    with op.batch_alter_table('failure_count', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_failure_count_account'), ['account'], unique=False)
        batch_op.create_index(batch_op.f('ix_failure_count_forget_at'), ['forget_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('failure_count', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_failure_count_forget_at'))
        batch_op.drop_index(batch_op.f('ix_failure_count_account'))
    op.drop_table('failure_count')
