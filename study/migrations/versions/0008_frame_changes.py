"""frame changes: which trajectories' analysis rows a write touched, recorded by the database

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07
"""

import uuid
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: per table: how a changed row names the trajectories whose frames it is part of.
#: ``("column", c)``: the row's column c; ``("lookup", key, sql)``: the trajectory ids sql
#: selects where ``{keys}`` are the rows' key column values; ``("all",)``: every trajectory.
#: Item answers (``response_value``) are not kept: the data-quality page reads them afresh.
SOURCES: dict[str, tuple[str, ...]] = {
    "trajectory": ("column", "id"),
    "invitation": ("column", "trajectory_id"),
    "coaching_contact": ("column", "trajectory_id"),
    "response": (
        "lookup",
        "invitation_id",
        "SELECT trajectory_id FROM invitation WHERE id IN ({keys})",
    ),
    "response_score": (
        "lookup",
        "response_id",
        "SELECT i.trajectory_id FROM response r JOIN invitation i ON i.id = r.invitation_id"
        " WHERE r.id IN ({keys})",
    ),
    "participant": ("lookup", "id", "SELECT id FROM trajectory WHERE participant_id IN ({keys})"),
    "jobcoach": ("lookup", "id", "SELECT id FROM trajectory WHERE jobcoach_id IN ({keys})"),
    "wave": ("all",),
}
EVENTS = {"INSERT": ("NEW",), "UPDATE": ("OLD", "NEW"), "DELETE": ("OLD",)}


def _select(source: tuple[str, ...], rows: str, *, sqlite: bool) -> str:
    """SELECT of the trajectory ids (NULL: all) that ``rows`` (NEW, OLD or a transition
    table) name."""
    if source[0] == "all":
        return "SELECT CAST(NULL AS INTEGER)"
    if source[0] == "column":
        return f"SELECT {rows}.{source[1]}" if sqlite else f"SELECT r.{source[1]} FROM {rows} r"
    keys = f"SELECT {rows}.{source[1]}" if sqlite else f"SELECT r.{source[1]} FROM {rows} r"
    return source[2].format(keys=keys)


def _sqlite_triggers() -> list[str]:
    out = []
    for table, source in SOURCES.items():
        for event, aliases in EVENTS.items():
            body = " ".join(
                f"INSERT INTO frame_change (trajectory_id) {_select(source, a, sqlite=True)};"
                for a in aliases
            )
            out.append(
                f"CREATE TRIGGER frame_change_{table}_{event.lower()} AFTER {event} ON {table}"
                f" BEGIN {body} END"
            )
    return out


def _postgres_triggers() -> list[str]:
    # per statement, over the transition tables: one INSERT however many rows a statement wrote
    out = []
    for table, source in SOURCES.items():
        for event, aliases in EVENTS.items():
            name = f"frame_change_{table}_{event.lower()}"
            selects = " UNION ".join(
                _select(source, f"{a.lower()}_rows", sqlite=False) for a in aliases
            )
            referencing = " ".join(f"{a} TABLE AS {a.lower()}_rows" for a in aliases)
            out.append(
                f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
                f" INSERT INTO frame_change (trajectory_id) SELECT DISTINCT t.trajectory_id"
                f" FROM ({selects}) AS t (trajectory_id); RETURN NULL; END $$"
            )
            out.append(
                f"CREATE TRIGGER {name} AFTER {event} ON {table} REFERENCING {referencing}"
                f" FOR EACH STATEMENT EXECUTE FUNCTION {name}()"
            )
    return out


def upgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    columns = [
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True),
        sa.Column("trajectory_id", sa.Integer(), nullable=True),
    ]
    if not postgres:
        columns.append(sa.Column("xid", sa.BigInteger(), nullable=True))
    op.create_table("frame_change", *columns, sqlite_autoincrement=True)
    if postgres:
        # ids are handed out before commit: a reader also needs to know which writing
        # transactions were still running when it last looked
        op.execute(
            "ALTER TABLE frame_change ADD COLUMN xid xid8 DEFAULT pg_current_xact_id()"
        )
    op.create_table(
        "frame_epoch",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("token", sa.String(64), nullable=False),
    )
    op.execute(
        sa.text("INSERT INTO frame_epoch (id, token) VALUES (1, :token)").bindparams(
            token=uuid.uuid4().hex
        )
    )
    for statement in _postgres_triggers() if postgres else _sqlite_triggers():
        op.execute(statement)


def downgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    for table in SOURCES:
        for event in EVENTS:
            name = f"frame_change_{table}_{event.lower()}"
            op.execute(f"DROP TRIGGER {name} ON {table}" if postgres else f"DROP TRIGGER {name}")
            if postgres:
                op.execute(f"DROP FUNCTION {name}()")
    op.drop_table("frame_epoch")
    op.drop_table("frame_change")
