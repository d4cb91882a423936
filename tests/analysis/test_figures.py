from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis import attrition, figures, survival
from analysis.frames import person_wave_wide


def test_km_figure_has_band_line_and_at_risk_per_group(survival_frame):
    curves = survival.kaplan_meier(survival_frame, "duration_days", "event", by="coach_type")
    fig = figures.km_figure(curves, time_scale=30.4375, at_risk_times=[0, 6, 12], lang="en")
    names = [t.name for t in fig.data]
    for group in ("internal", "external"):
        assert {group, f"{group} CI", f"{group} at risk"} <= set(names)
    line = next(t for t in fig.data if t.name == "internal")
    assert line.line.shape == "hv"
    sub = curves[curves["group"] == "internal"]
    np.testing.assert_allclose(line.x, sub["time"] / 30.4375)
    at_risk = next(t for t in fig.data if t.name == "internal at risk")
    assert at_risk.text[0] == str(int((survival_frame["coach_type"] == "internal").sum()))
    assert at_risk.yaxis == "y2"
    assert fig.layout.yaxis.title.text == "Still in work"


def test_km_figure_dutch_labels(survival_frame):
    curves = survival.kaplan_meier(survival_frame, "duration_days", "event")
    fig = figures.km_figure(curves)
    assert fig.layout.yaxis.title.text == "Nog aan het werk"
    assert fig.layout.xaxis2.title.text == "Maanden sinds start"


def test_forest_plot_error_bars(survival_frame):
    result = survival.cox(
        survival_frame, "duration_days", "event", ["baseline_klik", "contact_minutes_per_month"]
    )
    fig = figures.forest_plot(result.summary)
    trace = fig.data[0]
    s = result.summary.iloc[::-1]
    np.testing.assert_allclose(trace.x, s["hr"])
    np.testing.assert_allclose(np.array(trace.error_x.array) + trace.x, s["hr_upper"])
    np.testing.assert_allclose(trace.x - np.array(trace.error_x.arrayminus), s["hr_lower"])
    assert fig.layout.xaxis.type == "log"


def test_trajectory_figure_means_and_individual_lines(person_wave):
    wide = person_wave_wide(person_wave, respondent="employee")
    fig = figures.trajectory_figure(wide, "capability_count", individual=True)
    individual = [t for t in fig.data if t.name == "individual"]
    assert len(individual) == wide.dropna(subset=["capability_count"])["trajectory_id"].nunique()
    mean = fig.data[-1]
    expected = wide.groupby("months")["capability_count"].mean()
    np.testing.assert_allclose(mean.y, expected.to_numpy())
    assert list(mean.customdata) == wide.groupby("months")["capability_count"].count().tolist()


def test_trajectory_figure_by_group(person_wave):
    wide = person_wave_wide(person_wave)
    fig = figures.trajectory_figure(wide, "klik", by="respondent")
    assert [t.name for t in fig.data] == ["employee", "jobcoach"]


def test_response_rate_figure(person_wave):
    rates = attrition.response_rates(person_wave)
    fig = figures.response_rate_figure(rates, lang="en")
    assert [t.name for t in fig.data] == ["employee", "jobcoach"]
    employee = rates[rates["respondent"] == "employee"]
    assert list(fig.data[0].y) == pytest.approx(employee["rate"].tolist())
    assert fig.data[0].text[0] == f"{employee['responded'].iloc[0]}/{employee['invited'].iloc[0]}"
    nl = figures.response_rate_figure(rates)
    assert nl.data[0].name == "werknemer"


def test_km_figure_empty_curve():
    empty = survival.kaplan_meier(
        pd.DataFrame({"t": pd.Series([], dtype=float), "e": pd.Series([], dtype=int)}), "t", "e"
    )
    assert len(figures.km_figure(empty).data) == 0
