"""The cost-benefit section of ``klik analyse``: costs and outcomes with the reason why there is
no balance, the dose and klik contrasts with their label, and the parameters with their sources;
a stored parameter change shows in the next report."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from analysis.cost_benefit import NO_COMPARISON
from analysis.costs import default_parameters
from study.db import make_engine, make_sessions
from study.models import Study
from study.services.cost_parameters import save_cost_parameters
from tests.klik.test_analyse import AS_OF, run, simulated  # noqa: F401


def test_report_has_the_cost_benefit_section(simulated: str, tmp_path: Path) -> None:  # noqa: F811
    out = tmp_path / "rapport.html"
    result = run("--database", simulated, "--out", str(out), "--as-of", AS_OF)
    assert result.exit_code == 0, result.output
    text = out.read_text(encoding="utf-8")
    assert "Kosten en baten (MKBA)" in text
    assert "Kosten en uitkomsten" in text
    assert "Gemiddelde tijd in werk tot 12 maanden" in text
    assert NO_COMPARISON["nl"][:50] in text
    assert "Intensiteit en klik" in text
    assert "Participatiewet (BWBR0015703) art. 21" in text  # a source in the parameter table
    assert "73.3" in text

    rows = default_parameters().to_dict("records")
    for r in rows:
        if r["key"] == "jobcoach_tariff":
            r["value"] = 99.99
    engine = make_engine(simulated)
    with make_sessions(engine).begin() as s:
        study_id = s.query(Study.id).scalar()
        save_cost_parameters(
            s, study_id, rows, actor="test", at=dt.datetime(2025, 9, 1, tzinfo=dt.UTC),
            previous=default_parameters().to_dict("records"),
        )  # fmt: skip
    engine.dispose()
    again = tmp_path / "rapport2.html"
    assert run("--database", simulated, "--out", str(again), "--as-of", AS_OF).exit_code == 0
    assert "99.99" in again.read_text(encoding="utf-8")
