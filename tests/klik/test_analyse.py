"""``klik analyse`` end to end on a small simulated study, and the notebook API."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from analysis.frames import FRAMES, validate_frame
from analysis.report import data_snapshot_hash
from klik.analyse_cli import register
from klik.api import load_frames
from study.clock import SimulatedClock
from study.db import make_engine, make_sessions
from study.migrate import upgrade
from study.simulator.build import build
from study.simulator.params import SimulationParams

PARAMS = SimulationParams(n_trajectories=40, n_coaches=20, months=8, seed=11)
AS_OF = "2025-08-31"


@pytest.fixture(scope="module")
def simulated(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A SQLite database with a simulated study of 40 trajectories over 8 months."""
    path = tmp_path_factory.mktemp("analyse") / "klik.db"
    url = f"sqlite:///{path}"
    engine = make_engine(url)
    upgrade(engine)
    clock = SimulatedClock(dt.datetime.combine(PARAMS.start_date, dt.time(8), tzinfo=dt.UTC))
    build(make_sessions(engine), PARAMS, clock=clock, secret_key="analyse-test")
    engine.dispose()
    return url


def cli() -> typer.Typer:
    app = typer.Typer()
    register(app)

    @app.command()
    def version() -> None:  # a second command, so that "analyse" is a subcommand as in klik
        typer.echo("x")

    return app


def run(*args: str):
    return CliRunner().invoke(cli(), ["analyse", *args])


def test_report_carries_snapshot_hash_n_and_versions(simulated: str, tmp_path: Path) -> None:
    out = tmp_path / "report.html"
    result = run("--out", str(out), "--database", simulated, "--as-of", AS_OF, "--lang", "en")
    assert result.exit_code == 0, result.output
    html = out.read_text(encoding="utf-8")
    frames = load_frames(simulated, as_of=dt.date.fromisoformat(AS_OF))
    keys = ("trajectories", "survival", "counting_process", "person_wave", "response_items")
    used = {k: frames[k] for k in keys}
    snapshot = data_snapshot_hash(used)
    assert snapshot in html
    assert snapshot[:12] in result.output
    n = len(frames["trajectories"])
    assert n >= 30
    assert f"Trajectories = {n}" in html
    assert f"Jobcoaches = {frames['trajectories']['jobcoach_id'].nunique()}" in html
    for package in ("lifelines", "statsmodels", "pandas", "klik"):
        assert f"<td>{package}</td>" in html
    # self-contained: plotly.js is inside, nothing is fetched
    assert "plotly" in html and not re.search(r"<script[^>]+src=", html)
    assert html.count("Analysis failed") == 0
    for title in ("Time to job loss", "Cox regression", "linear mixed model", "Cronbach"):
        assert title in html


def test_report_in_dutch_and_reproducible(simulated: str, tmp_path: Path) -> None:
    first, second = tmp_path / "a.html", tmp_path / "b.html"
    for out in (first, second):
        result = run("-o", str(out), "-d", simulated, "--as-of", AS_OF)
        assert result.exit_code == 0, result.output
    text = first.read_text(encoding="utf-8")
    assert '<html lang="nl">' in text and "Gegevensmomentopname" in text
    hashes = [
        re.search(r"<code>([0-9a-f]{64})</code>", p.read_text()).group(1) for p in (first, second)
    ]
    assert hashes[0] == hashes[1]
    # another day is another snapshot
    other = tmp_path / "c.html"
    assert run("-o", str(other), "-d", simulated, "--as-of", "2025-06-30").exit_code == 0
    assert re.search(r"<code>([0-9a-f]{64})</code>", other.read_text()).group(1) != hashes[0]


def test_bad_options_are_refused(simulated: str, tmp_path: Path) -> None:
    out = tmp_path / "r.html"
    assert run("-o", str(out), "-d", simulated, "--lang", "de").exit_code != 0
    assert run("-o", str(out), "-d", simulated, "--as-of", "31-08-2025").exit_code != 0
    unknown = run("-o", str(out), "-d", simulated, "--study", "NOPE")
    assert unknown.exit_code == 2 and "NOPE" in unknown.output
    assert not out.exists()


def test_load_frames_meets_the_contracts(simulated: str) -> None:
    frames = load_frames(simulated, as_of=dt.date.fromisoformat(AS_OF))
    for name, frame in frames.items():
        validate_frame(frame, FRAMES[name])
    assert frames["survival"]["trajectory_id"].is_unique
    coach = int(frames["trajectories"]["jobcoach_id"].iloc[0])
    mine = load_frames(simulated, as_of=dt.date.fromisoformat(AS_OF), jobcoach_id=coach,
                       include_items=False)  # fmt: skip
    assert set(mine["trajectories"]["jobcoach_id"]) == {coach}
    assert "response_items" not in mine


def test_analyse_says_which_models_had_too_little_data(simulated: str, tmp_path: Path) -> None:
    # 40 trajectories over 8 months have too few job losses for a Cox model on 3 covariates
    out = tmp_path / "r.html"
    result = run("-o", str(out), "-d", simulated, "--as-of", AS_OF)
    assert result.exit_code == 0, result.output
    line = next(x for x in result.output.splitlines() if "Te weinig gegevens" in x)
    assert line.startswith("Cox-regressie van baanverlies")
    reason = line.split(": ", 1)[1]
    assert re.fullmatch(
        r"Te weinig gegevens voor een Cox-model: \d+ gebeurtenis(sen)?, minstens 30 nodig "
        r"voor 3 covariaten\.",
        reason,
    )
    assert reason in out.read_text(encoding="utf-8")


def test_the_report_balances_costs_against_a_chosen_comparison(
    simulated: str, tmp_path: Path
) -> None:
    out = tmp_path / "mkba.html"
    plain = run("-o", str(out), "-d", simulated, "--as-of", AS_OF)
    assert plain.exit_code == 0, plain.output
    assert "Kies waarmee u vergelijkt" in out.read_text(encoding="utf-8")  # why there is none
    chosen = run(
        "-o", str(out), "-d", simulated, "--as-of", AS_OF, "--compare", "scenario",
        "--compare-label", "wat als tien dagen", "--days-gained", "10",
    )  # fmt: skip
    assert chosen.exit_code == 0, chosen.output
    html = out.read_text(encoding="utf-8")
    assert "Kies waarmee u vergelijkt" not in html and "wat als tien dagen" in html
    assert "Kerncijfers" in html and "Gevoeligheid" in html and "maatschappij" in html
    # the same checks as the page: a scenario without its figure is refused with why
    refused = run(
        "-o", str(tmp_path / "x.html"), "-d", simulated, "--compare", "scenario",
        "--compare-label", "x", "--days-gained", "veel",
    )  # fmt: skip
    assert refused.exit_code != 0 and "getal" in refused.output
    assert not (tmp_path / "x.html").exists()
