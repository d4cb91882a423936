"""``klik analyse``: one self-contained HTML report of a study, in Dutch or English."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any

import typer

LANGS = ("nl", "en")


def register(app: typer.Typer) -> None:
    """Add the ``analyse`` command to ``app``."""

    @app.command("analyse")
    def analyse(
        out: Annotated[
            Path, typer.Option("--out", "-o", help="Where to write the HTML report.")
        ] = Path("report.html"),
        lang: Annotated[str, typer.Option("--lang", help="Report language: nl or en.")] = "nl",
        database: Annotated[
            str | None,
            typer.Option(
                "--database",
                "-d",
                help="Database URL. Default: KLIK_DATABASE_URL, else klik.db here.",
            ),
        ] = None,
        as_of: Annotated[
            str | None,
            typer.Option(
                "--as-of", help="Look at the data as on this day (YYYY-MM-DD). Default: today."
            ),
        ] = None,
        study: Annotated[
            str | None, typer.Option("--study", help="Study code (needed with several studies).")
        ] = None,
        compare: Annotated[
            str,
            typer.Option(
                "--compare",
                help="What the cost-benefit balance compares with: none (costs and outcomes "
                "only), benchmark (an external curve), arm (the trajectories without a coaching "
                "method) or scenario (a labelled what-if).",
            ),
        ] = "none",
        compare_label: Annotated[
            str | None, typer.Option("--compare-label", help="Name of the comparison.")
        ] = None,
        compare_source: Annotated[
            str | None, typer.Option("--compare-source", help="Source of a benchmark curve.")
        ] = None,
        compare_curve: Annotated[
            str | None,
            typer.Option(
                "--compare-curve",
                help="A benchmark curve as month:share-in-work pairs, e.g. '0:1; 6:0,8; 12:0,7'.",
            ),
        ] = None,
        days_gained: Annotated[
            str | None,
            typer.Option("--days-gained", help="Scenario: days in work gained per trajectory."),
        ] = None,
        sick_days_fewer: Annotated[
            str | None,
            typer.Option("--sick-days-fewer", help="Scenario: sick days fewer per trajectory."),
        ] = None,
    ) -> None:
        """Write the analysis report (survival, mixed models, reliability, response, signals,
        costs and benefits) as HTML."""
        from dashboard.mkba_views import parse_comparison

        if lang not in LANGS:
            raise typer.BadParameter("use nl or en", param_hint="--lang")
        day = None
        if as_of is not None:
            try:
                day = dt.date.fromisoformat(as_of)
            except ValueError as exc:
                raise typer.BadParameter("use YYYY-MM-DD", param_hint="--as-of") from exc
        comparison, problem = parse_comparison(
            compare, compare_label, compare_source, compare_curve, days_gained, sick_days_fewer,
            language=lang,
        )  # fmt: skip
        if problem:
            raise typer.BadParameter(problem, param_hint="--compare")
        try:
            report = write_report(
                out, lang=lang, database=database, as_of=day, study=study, comparison=comparison
            )
        except LookupError as exc:
            typer.echo(str(exc), err=True)
            raise typer.Exit(2) from exc
        typer.echo(
            f"{out}: {report.n_trajectories} trajecten, {report.n_jobcoaches} jobcoaches, "
            f"peildatum {report.as_of}, momentopname {report.snapshot[:12]}"
        )
        for section, reason in report.refusals:
            typer.echo(f"{section}: {reason}")


class ReportSummary:
    """What was written: where, on which data."""

    def __init__(
        self,
        path: Path,
        snapshot: str,
        as_of: dt.date,
        n_trajectories: int,
        n_jobcoaches: int,
        refusals: list[tuple[str, str]] | None = None,
    ) -> None:
        self.path = path
        self.snapshot = snapshot
        self.as_of = as_of
        self.n_trajectories = n_trajectories
        self.n_jobcoaches = n_jobcoaches
        #: (section title, reason) of each analysis left out for too little data
        self.refusals = refusals or []


def write_report(
    out: Path,
    *,
    lang: str = "nl",
    database: str | None = None,
    as_of: dt.date | None = None,
    study: str | None = None,
    comparison: Mapping[str, Any] | None = None,
) -> ReportSummary:
    """Build the report of a study's data as of ``as_of`` (default today) and write it to ``out``.

    ``comparison`` is what the cost-benefit balance is computed against
    (:func:`dashboard.mkba_views.parse_comparison`); without one the report shows costs and
    outcomes only, and says why.

    Returns
    -------
    ReportSummary
        path, snapshot (SHA-256 of the frames the report was computed on), as_of,
        n_trajectories, n_jobcoaches, refusals (section title and reason, in ``lang``, of
        each analysis that gave no estimate because there was too little data).
    """
    import klik
    from analysis.cost_benefit import cost_benefit
    from analysis.report import analysis_versions, build_report, data_snapshot_hash
    from dashboard.mkba_jobs import HORIZONS, study_parameters
    from dashboard.mkba_views import comparison_from
    from klik.api import resolve_study
    from klik.settings import settings_for
    from klik.wiring import build
    from questionnaires.registry import load_instruments, names_of, scales_of
    from study.access import trajectory_scope
    from study.clock import local_date
    from study.cost_read_models import registers_frame, sick_leave_frame
    from study.report_data import analysis_frames
    from study.signal_data import study_signals

    container = build(settings_for(database))
    try:
        now = container.clock.now()
        day = as_of or local_date(now)
        with container.read_sessions() as session:
            chosen = resolve_study(session, study)
            frames = analysis_frames(session, trajectory_scope(chosen.id), as_of=day)
            sick = sick_leave_frame(session, trajectory_scope(chosen.id), as_of=day)
            registers = registers_frame(session, trajectory_scope(chosen.id))
            cost_parameters, _version = study_parameters(session, chosen.id)
            history = study_signals(session, chosen.id, as_of=day)
            title = f"Klik: {chosen.name} ({chosen.code})"
    finally:
        container.dispose()
    keys = ("trajectories", "survival", "counting_process", "person_wave", "response_items")
    used = {k: frames[k] for k in keys}
    instruments = load_instruments()
    snapshot = data_snapshot_hash(used)
    versions = {"klik": klik.__version__, **analysis_versions()}
    refusals: list[tuple[str, str]] = []
    costs_and_benefits = cost_benefit(
        frames["trajectories"].merge(registers, on="trajectory_id", how="left"),
        frames["survival"],
        frames["contacts"],
        sick,
        cost_parameters,
        horizon_days=HORIZONS[12],
        year=day.year,
        comparison=comparison_from(comparison) if comparison else None,
    )
    html_text = build_report(
        {**used, "signals": history.signals, "signal_acknowledgements": history.seen},
        snapshot=snapshot,
        generated_at=now,
        lang=lang,
        versions=versions,
        title=title,
        on_refusal=lambda section, shortfall: refusals.append((section, shortfall.text(lang))),
        scales=scales_of(instruments),
        names=names_of(instruments, lang),
        cost_benefit=costs_and_benefits,
        cost_parameters=cost_parameters,
        as_of=day,
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(html_text, encoding="utf-8")
    trajectories = frames["trajectories"]
    return ReportSummary(
        out,
        snapshot,
        day,
        len(trajectories),
        int(trajectories["jobcoach_id"].nunique()) if len(trajectories) else 0,
        refusals,
    )
