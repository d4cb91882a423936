from __future__ import annotations

import re
from datetime import datetime

import numpy as np
import pandas as pd
import pytest

from analysis import report


@pytest.fixture(scope="module")
def frames(request) -> dict[str, pd.DataFrame]:
    from tests.analysis.conftest import make_person_wave, make_survival, make_trajectories

    trajectories = make_trajectories(n=90, seed=12)
    rng = np.random.default_rng(1)
    items = pd.DataFrame(
        [
            (r, r, wave, "employee", "wai", f"i{j}", float(rng.integers(1, 6)))
            for wave in ("T0", "T1")
            for r in range(40)
            for j in range(4)
        ],
        columns=[
            "response_id",
            "trajectory_id",
            "wave",
            "respondent",
            "instrument_id",
            "item_id",
            "value",
        ],
    )
    return {
        "trajectories": trajectories.drop(columns="_duration"),
        "survival": make_survival(trajectories),
        "person_wave": make_person_wave(trajectories),
        "response_items": items,
    }


@pytest.mark.parametrize("lang", ["nl", "en"])
def test_report_is_one_self_contained_document(frames, lang):
    snapshot = report.data_snapshot_hash(frames)
    out = report.build_report(
        frames,
        snapshot=snapshot,
        generated_at=datetime(2025, 3, 1, 9, 30),
        lang=lang,
        versions={"klik": "0.1.0", "lifelines": "x"},
        scales={"wai": {"wai_total": ["i0", "i1", "i2", "i3"]}},
    )
    assert out.startswith("<!DOCTYPE html>") and out.rstrip().endswith("</html>")
    assert f'<html lang="{lang}">' in out
    # plotly.js embedded exactly once, no external script
    assert out.count("plotly.js v") == 1
    assert not re.search(r"<script[^>]+src=\"http", out)
    assert snapshot in out and "2025-03-01T09:30:00" in out and "0.1.0" in out
    failed = "Analyse mislukt" if lang == "nl" else "Analysis failed"
    assert failed not in out
    headings = re.findall(r"<h2>(.*?)</h2>", out)
    assert len(headings) == 7
    if lang == "nl":
        assert "Tijd tot baanverlies naar klik (tertielen bij de start)" in headings
    else:
        assert "Why trajectories end (cumulative incidence, Aalen–Johansen)" in headings
    assert out.count('class="n"') >= 7


def test_report_without_frames_still_renders():
    out = report.build_report({}, snapshot="abc", generated_at=datetime(2025, 1, 1), lang="en")
    assert "abc" in out and "plotly.js v" not in out


def test_report_reports_failures_instead_of_crashing(frames):
    broken = dict(frames)
    broken["survival"] = frames["survival"].assign(event=5)
    out = report.build_report(broken, snapshot="s", generated_at=datetime(2025, 1, 1), lang="en")
    assert "Analysis failed" in out


def test_report_rejects_unknown_language(frames):
    with pytest.raises(ValueError, match="lang"):
        report.build_report(frames, snapshot="s", generated_at=datetime(2025, 1, 1), lang="de")


def test_snapshot_hash_ignores_order_but_not_content(frames):
    h = report.data_snapshot_hash(frames)
    assert re.fullmatch(r"[0-9a-f]{64}", h)
    shuffled = {
        k: v.sample(frac=1, random_state=1)[list(v.columns)[::-1]] for k, v in frames.items()
    }
    assert report.data_snapshot_hash(dict(reversed(list(shuffled.items())))) == h
    changed = dict(frames)
    surv = frames["survival"].copy()
    surv.loc[surv.index[0], "duration_days"] += 1
    changed["survival"] = surv
    assert report.data_snapshot_hash(changed) != h
    assert report.data_snapshot_hash({"x": frames["survival"]}) != report.data_snapshot_hash(
        {"y": frames["survival"]}
    )


def test_analysis_versions_lists_the_numerical_stack():
    versions = report.analysis_versions()
    assert {"lifelines", "statsmodels", "pingouin", "pandas", "numpy"} <= set(versions)


def test_report_says_why_a_model_is_missing(frames):
    few = frames["survival"].head(8)
    ids = set(few["trajectory_id"])
    small = {
        "trajectories": frames["trajectories"][frames["trajectories"]["trajectory_id"].isin(ids)],
        "survival": few,
        "person_wave": frames["person_wave"][frames["person_wave"]["trajectory_id"].isin(ids)],
    }
    refused: list[tuple[str, str]] = []
    out = report.build_report(
        small,
        snapshot="s",
        generated_at=datetime(2025, 1, 1),
        on_refusal=lambda title, shortfall: refused.append((title, shortfall.text("nl"))),
    )
    events = int(few["event"].sum())
    word = "gebeurtenis" if events == 1 else "gebeurtenissen"
    cox = f"Te weinig gegevens voor een Cox-model: {events} {word}, minstens 30 nodig voor 3"
    assert cox in out
    assert "Te weinig gegevens voor een mixed model" in out
    assert "Analyse mislukt" not in out
    titles = [title for title, _ in refused]
    assert titles == [report._t("cox_title", "nl"), report._t("mixed_title", "nl")]
    assert refused[0][1].startswith(cox)
    # and no hazard ratio is printed
    assert "hr_upper" not in out
