"""The signals in ``klik.api`` and in the HTML report come from the same functions as the
dashboard: the numbers agree."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pandas as pd
import pytest

from analysis.signal_quality import follow_up, signal_quality
from analysis.signals import SIGNAL_COLUMNS
from klik.api import load_signals
from study.db import make_engine, make_read_sessions
from study.signal_data import study_signals
from tests.klik.test_analyse import run

AS_OF = dt.date(2025, 8, 31)


@pytest.fixture(scope="module")
def simulated(tmp_path_factory: pytest.TempPathFactory) -> str:
    from tests.klik.test_analyse import simulated as build_it

    return build_it.__wrapped__(tmp_path_factory)


def test_load_signals_gives_every_table(simulated: str) -> None:
    found = load_signals(simulated, as_of=AS_OF)
    assert list(found["signals"].columns[: len(SIGNAL_COLUMNS)]) == SIGNAL_COLUMNS
    assert len(found["signals"]) > 0
    assert set(found["caseload"]["light"]) <= {"ended", "grey", "green", "amber", "red"}
    assert found["caseload"]["trajectory_id"].is_unique
    engine = make_engine(simulated)
    with make_read_sessions(engine)() as s:
        from klik.api import resolve_study

        history = study_signals(s, resolve_study(s, None).id, as_of=AS_OF)
    engine.dispose()
    pd.testing.assert_frame_equal(
        found["quality"], signal_quality(history.signals, history.trajectories, as_of=AS_OF)
    )
    pd.testing.assert_frame_equal(found["follow_up"], follow_up(history.signals, history.seen))


def test_the_report_shows_the_same_signal_numbers(simulated: str, tmp_path: Path) -> None:
    out = tmp_path / "report.html"
    result = run("--out", str(out), "--database", simulated, "--as-of", AS_OF.isoformat())
    assert result.exit_code == 0, result.output
    html = out.read_text(encoding="utf-8")
    assert "Signalen voor jobcoaches" in html and "Voorspellende waarde" in html
    section = html[html.index("Signalen voor jobcoaches") :]
    follow = load_signals(simulated, as_of=AS_OF)["follow_up"]
    labels = {
        "sick_leave": "Verzuim",
        "missed_forms": "Vragenlijst gemist",
        "contact": "Begeleiding",
    }
    for signal, label in labels.items():
        row = follow[follow["signal"] == signal]
        if row.empty:
            continue
        match = re.search(rf"<td>{label}</td>\s*<td>(\d+)</td>", section)
        assert match is not None, label
        assert int(match.group(1)) == int(row["firings"].iloc[0])
    # aggregates only: no study code of a participant in the section
    assert not re.search(r"P\d{6}", section)
