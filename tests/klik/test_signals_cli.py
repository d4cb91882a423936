"""``klik signals settings`` and ``klik signals quality`` on a small study."""

from __future__ import annotations

from typer.testing import CliRunner

from klik.cli import app
from study.models import AuditEvent
from tests.factory import build_cohort


def test_settings_are_shown_changed_refused_and_reset(db, clock) -> None:
    with db.sessions.begin() as s:
        build_cohort(s, clock.now(), n_trajectories=2, n_coaches=1)
    run = CliRunner().invoke
    shown = run(app, ["signals", "settings", "-d", db.url])
    assert shown.exit_code == 0 and "contact_gap_days = 28" in shown.output
    changed = run(app, ["signals", "settings", "-d", db.url, "--set", "contact_gap_days=21",
                        "--set", "regime_shares=[0.2, 0.1, 0.05]"])  # fmt: skip
    assert changed.exit_code == 0, changed.output
    assert (
        "contact_gap_days = 21" in changed.output
        and "regime_shares = [0.2, 0.1, 0.05]" in changed.output
    )
    bad = run(app, ["signals", "settings", "-d", db.url, "--set", "contact_gap_days=-3"])
    assert bad.exit_code == 2 and "ongeldige waarde" in bad.output
    unknown = run(app, ["signals", "settings", "-d", db.url, "--set", "nonsense=1"])
    assert unknown.exit_code == 2 and "bestaat niet" in unknown.output
    assert run(app, ["signals", "settings", "-d", db.url, "--set", "x"]).exit_code == 2
    reset = run(app, ["signals", "settings", "-d", db.url, "--reset"])
    assert "contact_gap_days = 28" in reset.output
    with db.read_sessions() as s:
        from sqlalchemy import func, select

        n = s.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.action == "set_signal_settings")
        )
    assert n == 2  # the change and the reset; refusals wrote nothing


def test_quality_table(db, clock) -> None:
    with db.sessions.begin() as s:
        build_cohort(s, clock.now(), n_trajectories=2, n_coaches=1)
    result = CliRunner().invoke(app, ["signals", "quality", "-d", db.url, "--as-of", "2026-01-05"])
    assert result.exit_code == 0, result.output
    assert "sensitivity" in result.output and "contact" in result.output
    assert (
        CliRunner()
        .invoke(app, ["signals", "quality", "-d", db.url, "--as-of", "5-1-2026"])
        .exit_code
        != 0
    )
