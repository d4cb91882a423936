"""jobcoach signals: a study's thresholds, contract end dates, acknowledgements

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ACTIONS = (
    "conversation",
    "employer_involved",
    "intensity_up",
    "checklist",
    "referred",
    "none_needed",
    "other",
)


def upgrade() -> None:
    op.create_table(
        "signal_settings",
        sa.Column("study_id", sa.Integer(), nullable=False),
        sa.Column("settings", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(length=120), nullable=False),
        sa.ForeignKeyConstraint(
            ["study_id"], ["study.id"], name=op.f("fk_signal_settings_study_id_study")
        ),
        sa.PrimaryKeyConstraint("study_id", name=op.f("pk_signal_settings")),
    )
    op.create_table(
        "contract_end",
        sa.Column("trajectory_id", sa.Integer(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_by", sa.String(length=120), nullable=False),
        sa.ForeignKeyConstraint(
            ["trajectory_id"],
            ["trajectory.id"],
            name=op.f("fk_contract_end_trajectory_id_trajectory"),
        ),
        sa.PrimaryKeyConstraint("trajectory_id", name=op.f("pk_contract_end")),
    )
    op.create_table(
        "signal_acknowledgement",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("study_id", sa.Integer(), nullable=False),
        sa.Column("trajectory_id", sa.Integer(), nullable=False),
        sa.Column("signal", sa.String(length=40), nullable=False),
        sa.Column("rule", sa.String(length=40), nullable=False),
        sa.Column("level", sa.String(length=8), nullable=False),
        sa.Column("fired_on", sa.Date(), nullable=False),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("seen_by", sa.String(length=120), nullable=False),
        sa.Column(
            "action",
            sa.Enum(
                *ACTIONS, name="signal_action", native_enum=False, create_constraint=True, length=32
            ),
            nullable=True,
        ),
        sa.Column("note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["study_id"], ["study.id"], name=op.f("fk_signal_acknowledgement_study_id_study")
        ),
        sa.ForeignKeyConstraint(
            ["trajectory_id"],
            ["trajectory.id"],
            name=op.f("fk_signal_acknowledgement_trajectory_id_trajectory"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_signal_acknowledgement")),
        sa.UniqueConstraint(
            "trajectory_id",
            "signal",
            "rule",
            "fired_on",
            name=op.f("uq_signal_acknowledgement_trajectory_id_signal_rule_fired_on"),
        ),
    )
    with op.batch_alter_table("signal_acknowledgement", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_signal_acknowledgement_study_id"), ["study_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_signal_acknowledgement_trajectory_id"), ["trajectory_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("signal_acknowledgement", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_signal_acknowledgement_trajectory_id"))
        batch_op.drop_index(batch_op.f("ix_signal_acknowledgement_study_id"))
    op.drop_table("signal_acknowledgement")
    op.drop_table("contract_end")
    op.drop_table("signal_settings")
