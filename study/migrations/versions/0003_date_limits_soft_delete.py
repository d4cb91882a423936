"""per-study limits on future dates; soft deletion of coaching contacts and employment events

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SOFT_DELETE = ("coaching_contact", "employment_event")


def upgrade() -> None:
    with op.batch_alter_table("study", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("record_days_ahead", sa.Integer(), server_default="0", nullable=False)
        )
        batch_op.add_column(
            sa.Column("start_days_ahead", sa.Integer(), server_default="92", nullable=False)
        )
    for table in SOFT_DELETE:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True))
            batch_op.add_column(sa.Column("deleted_by", sa.String(length=120), nullable=True))
            batch_op.add_column(sa.Column("delete_reason", sa.Text(), nullable=True))


def downgrade() -> None:
    for table in SOFT_DELETE:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column("delete_reason")
            batch_op.drop_column("deleted_by")
            batch_op.drop_column("deleted_at")
    with op.batch_alter_table("study", schema=None) as batch_op:
        batch_op.drop_column("start_days_ahead")
        batch_op.drop_column("record_days_ahead")
