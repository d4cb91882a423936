"""``klik users disable``, ``enable``, ``role`` and ``reset-link``."""

from __future__ import annotations

from sqlalchemy import select
from typer.testing import CliRunner

from study.models import AuditEvent, User
from study.services.users import add_user
from tests.factory import build_cohort
from tests.klik.test_users_cli import _app


def test_disable_enable_role_and_reset_link(db, clock) -> None:
    with db.sessions.begin() as s:
        cohort = build_cohort(s, clock.now())
        add_user(s, cohort.study_id, "anna", "a long password", "viewer", display_name="A", actor="t", at=clock.now())  # fmt: skip
    runner, app = CliRunner(), _app()
    ok = runner.invoke(app, ["users", "disable", "anna", "--database", db.url])
    assert ok.exit_code == 0, ok.output
    with db.read_sessions() as s:
        assert s.scalars(select(User.active).where(User.username == "anna")).one() is False
    assert runner.invoke(app, ["users", "enable", "anna", "--database", db.url]).exit_code == 0
    role = runner.invoke(app, ["users", "role", "anna", "--role", "jobcoach", "--jobcoach", "JC02", "--database", db.url])  # fmt: skip
    assert role.exit_code == 0, role.output
    bad = runner.invoke(app, ["users", "role", "anna", "--role", "jobcoach", "--jobcoach", "XX", "--database", db.url])  # fmt: skip
    assert bad.exit_code == 1 and "bestaat niet" in bad.output
    link = runner.invoke(app, ["users", "reset-link", "anna", "--database", db.url])
    assert link.exit_code == 0 and "/login/reset/" in link.output
    missing = runner.invoke(app, ["users", "disable", "niemand", "--database", db.url])
    assert missing.exit_code == 1
    with db.read_sessions() as s:
        user = s.scalars(select(User).where(User.username == "anna")).one()
        actions = list(s.scalars(select(AuditEvent.action).where(AuditEvent.actor == "cli").order_by(AuditEvent.id)))  # fmt: skip
    assert (user.active, user.role.value, user.jobcoach_id) == (True, "jobcoach", cohort.jobcoach_ids[1])  # fmt: skip
    assert actions == ["login_disabled", "login_enabled", "role_changed", "password_link_issued"]
