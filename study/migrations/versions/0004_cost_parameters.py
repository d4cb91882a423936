"""versioned cost parameters per study (MKBA)

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "cost_parameter_set",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("study_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=120), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["study_id"], ["study.id"], name=op.f("fk_cost_parameter_set_study_id_study")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cost_parameter_set")),
        sa.UniqueConstraint(
            "study_id", "version", name=op.f("uq_cost_parameter_set_study_id_version")
        ),
    )
    with op.batch_alter_table("cost_parameter_set", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_cost_parameter_set_study_id"), ["study_id"], unique=False
        )
    op.create_table(
        "cost_parameter",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("set_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=60), nullable=False),
        sa.Column("coach_type", sa.String(length=16), nullable=True),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("unit", sa.String(length=120), nullable=False),
        sa.Column("payer", sa.String(length=60), nullable=False),
        sa.Column("receiver", sa.String(length=60), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.CheckConstraint("value >= 0", name=op.f("ck_cost_parameter_value_non_negative")),
        sa.ForeignKeyConstraint(
            ["set_id"],
            ["cost_parameter_set.id"],
            name=op.f("fk_cost_parameter_set_id_cost_parameter_set"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cost_parameter")),
        sa.UniqueConstraint(
            "set_id",
            "key",
            "coach_type",
            "year",
            name=op.f("uq_cost_parameter_set_id_key_coach_type_year"),
        ),
    )
    with op.batch_alter_table("cost_parameter", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_cost_parameter_set_id"), ["set_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("cost_parameter", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_cost_parameter_set_id"))
    op.drop_table("cost_parameter")
    with op.batch_alter_table("cost_parameter_set", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_cost_parameter_set_study_id"))
    op.drop_table("cost_parameter_set")
