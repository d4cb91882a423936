"""Property test: random bad frames fed to the mixed models and to the study's own models are
refused in words (BadInput naming the column, or TooLittleData), never answered and never
with a bare library error."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis import mixed, study_models
from analysis.minimum_data import Minimums
from tests.analysis.bad_frames import SETTINGS, assert_refused

#: loosened so that the checks, not the minimum-data rule, meet most bad frames
FEW = Minimums(mixed_units=2, mixed_observations_per_fixed_effect=1)


@st.composite
def long_frames(draw: st.DrawFn) -> pd.DataFrame:
    """Repeated measures: employees within jobcoaches, employers crossed with jobcoaches."""
    persons = draw(st.integers(8, 24))
    waves = draw(st.integers(2, 4))
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    rows = []
    for person in range(persons):
        effect = rng.normal(0, 1)
        for wave in range(waves):
            rows.append((person, person % 4, person % 3, wave * 3.0, rng.normal(3, 1)))
    frame = pd.DataFrame(rows, columns=["person", "coach", "employer", "months", "alliance"])
    frame["y"] = 2 + 0.3 * frame["alliance"] + 0.1 * frame["months"] + rng.normal(0, 1, len(frame))
    return frame.assign(y=frame["y"] + np.repeat(rng.normal(0, 1, persons), waves) * effect)


SPOILS = {
    "text": lambda f, c: f.assign(**{c: [f"n{v}" for v in f[c]]}),
    "numbers_as_text": lambda f, c: f.assign(**{c: f[c].astype(str)}),
    "infinite": lambda f, c: f.assign(**{c: np.where(np.arange(len(f)) == 0, np.inf, f[c])}),
    "dates": lambda f, c: f.assign(**{c: pd.Timestamp("2024-01-01")}),
    "missing_column": lambda f, c: f.drop(columns=[c]),
    "all_missing": lambda f, c: f.assign(**{c: np.nan}),
    "one_level": lambda f, c: f.assign(**{c: f[c].iloc[0]}),
}

FITS = {
    "two_levels": lambda f: mixed.fit(f, "y ~ months + alliance", groups="person", rules=FEW),
    "nested": lambda f: mixed.fit(
        f, "y ~ months + alliance", groups="coach",
        vc_formula={"person": "0 + C(person)"}, rules=FEW,
    ),
    "crossed_lme4": lambda f: mixed.fit(
        f, "y ~ months + alliance + (1 | coach) + (1 | employer)", rules=FEW
    ),
    "random_slope": lambda f: mixed.fit(
        f, "y ~ months + alliance", groups="person", re_formula="~months", rules=FEW
    ),
}  # fmt: skip
#: (spoil, column) pairs that are bad input for every fit above
CASES = [
    *[(how, "y") for how in ("text", "numbers_as_text", "infinite", "dates", "all_missing",
                             "one_level", "missing_column")],
    # text that is not numbers is a categorical covariate, as in R: not bad input
    *[(how, "alliance") for how in ("numbers_as_text", "infinite", "dates", "missing_column")],
    ("missing_column", "months"),
]  # fmt: skip
NOT_NAMED = {"all_missing", "one_level"}


@pytest.mark.parametrize("name", list(FITS))
@settings(**SETTINGS)
@given(frame=long_frames(), data=st.data())
def test_mixed_models_refuse_spoilt_frames(name, frame, data):
    how, column = data.draw(st.sampled_from(CASES), label="spoil")
    bad = SPOILS[how](frame, column)
    assert_refused(lambda: FITS[name](bad), None if how in NOT_NAMED else column)


@settings(**SETTINGS)
@given(frame=long_frames(), data=st.data())
def test_mixed_models_refuse_groups_that_cannot_be_estimated(frame, data):
    kind = data.draw(st.sampled_from(["one_group", "one_row_each", "missing_group"]))
    if kind == "one_group":
        bad, call = frame.assign(person=0), FITS["two_levels"]
    elif kind == "one_row_each":
        bad, call = frame.drop_duplicates("person"), FITS["two_levels"]
    else:
        bad, call = frame.drop(columns="coach"), FITS["crossed_lme4"]
    assert_refused(lambda: call(bad))


@settings(**SETTINGS)
@given(frame=long_frames(), how=st.sampled_from(["text", "numbers_as_text", "missing_column"]))
def test_within_between_refuses_spoilt_columns(frame, how):
    bad = SPOILS[how](frame, "alliance")
    assert_refused(lambda: mixed.within_between(bad, "alliance", by="person"), "alliance")


# -- the study's own models ----------------------------------------------------------------------


@st.composite
def survival_frames(draw: st.DrawFn) -> pd.DataFrame:
    n = draw(st.integers(40, 120))
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    event = (rng.random(n) < 0.5).astype(int)
    return pd.DataFrame(
        {
            "trajectory_id": np.arange(1, n + 1),
            "jobcoach_id": np.arange(n) % 5 + 1,
            "duration_days": rng.integers(5, 500, n).astype(float),
            "event": event,
            "end_type": np.where(event == 1, "job_loss", "censored"),
            "baseline_klik": rng.normal(3.5, 0.8, n),
            "contact_minutes_per_month": rng.gamma(3, 10, n),
            "baseline_match_quality": rng.normal(3.5, 0.7, n),
            "baseline_alliance": rng.normal(3.5, 0.7, n),
            "baseline_capability_count": rng.integers(0, 8, n).astype(float),
            "n_contacts": rng.integers(0, 20, n),
        }
    )


STUDY_CASES = [
    ("text", "baseline_klik"),
    ("numbers_as_text", "contact_minutes_per_month"),
    ("dates", "baseline_match_quality"),
    ("missing_column", "duration_days"),
    ("missing_column", "jobcoach_id"),
    ("text", "duration_days"),
    ("all_missing", "event"),
    ("infinite", "duration_days"),
]


@settings(**SETTINGS)
@given(frame=survival_frames(), data=st.data())
def test_the_job_loss_model_refuses_spoilt_frames(frame, data):
    how, column = data.draw(st.sampled_from(STUDY_CASES), label="spoil")
    bad = SPOILS[how](frame, column)
    assert_refused(lambda: study_models.job_loss_cox(bad), column)


@settings(**SETTINGS)
@given(frame=survival_frames())
def test_the_job_loss_model_without_events_is_too_little_data(frame):
    assert_refused(lambda: study_models.job_loss_cox(frame.assign(event=0, end_type="censored")))


@settings(**SETTINGS)
@given(frame=long_frames(), data=st.data())
def test_the_employability_model_refuses_spoilt_frames(frame, data):
    study = frame.rename(
        columns={"person": "trajectory_id", "coach": "jobcoach_id", "y": "capability_count"}
    ).assign(
        alliance_within=lambda f: f["alliance"] - f.groupby("trajectory_id")["alliance"].transform("mean"),
        alliance_between=lambda f: f.groupby("trajectory_id")["alliance"].transform("mean"),
        intensity=1.5,
        match=3.0,
    )  # fmt: skip
    how, column = data.draw(
        st.sampled_from([("text", "capability_count"), ("numbers_as_text", "intensity"),
                         ("missing_column", "trajectory_id"), ("dates", "months")])
    )  # fmt: skip
    bad = SPOILS[how](study, column)
    assert_refused(lambda: study_models.employability_model(bad), column)
