"""Property test: random bad frames fed to every public reliability function are refused in
words (BadInput naming the column, or TooLittleData), never answered and never met with a bare
pingouin or pandas error."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis import reliability
from analysis.minimum_data import Minimums
from tests.analysis.bad_frames import SETTINGS, assert_refused

FEW = Minimums(alpha_respondents=5, icc_targets=3)
ITEMS = ["i0", "i1", "i2"]


@st.composite
def wide(draw: st.DrawFn) -> pd.DataFrame:
    n = draw(st.integers(8, 40))
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    trait = rng.normal(0, 1, n)
    return pd.DataFrame({c: (trait + rng.normal(0, 1, n)).round(1) for c in ITEMS})


def _long_ratings(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.reset_index(names="target").melt(
        id_vars="target", var_name="rater", value_name="rating"
    )
    return out


SPOILS = {
    "text": lambda f, c: f.assign(**{c: f[c].astype(str)}),
    "infinite": lambda f, c: f.assign(**{c: np.where(np.arange(len(f)) == 0, np.inf, f[c])}),
    "missing_column": lambda f, c: f.drop(columns=[c]),
    "dates": lambda f, c: f.assign(**{c: pd.Timestamp("2024-01-01")}),
    "one_level": lambda f, c: f.assign(**{c: 3.0}),
}


@settings(**SETTINGS)
@given(frame=wide(), data=st.data())
def test_cronbach_alpha_refuses_spoilt_items(frame, data):
    how = data.draw(st.sampled_from(["text", "infinite", "missing_column", "dates", "constant",
                                     "empty"]))  # fmt: skip
    column = data.draw(st.sampled_from(ITEMS))
    if how == "constant":  # every item the same answer: alpha is 0/0
        bad, column = frame.assign(**dict.fromkeys(ITEMS, 3.0)), None
    elif how == "empty":
        bad, column = frame.iloc[:0], None
    else:
        bad = SPOILS[how](frame, column)
    assert_refused(lambda: reliability.cronbach_alpha(bad, ITEMS, rules=FEW), column)


@settings(**SETTINGS)
@given(frame=wide(), data=st.data())
def test_alpha_by_refuses_spoilt_long_frames(frame, data):
    long = (
        frame.reset_index(names="response_id")
        .melt(id_vars="response_id", var_name="item_id", value_name="value")
        .assign(instrument_id="wai", wave="T0")
    )
    how = data.draw(st.sampled_from(["text", "missing_column", "empty", "infinite"]))
    column = data.draw(st.sampled_from(["value", "item_id", "response_id", "wave"]))
    if how == "empty":
        bad, column = long.iloc[:0], None
    elif how in ("text", "infinite"):
        bad, column = SPOILS[how](long, "value"), "value"
    else:
        bad = SPOILS[how](long, column)
    assert_refused(lambda: reliability.alpha_by(bad, rules=FEW), column)


@settings(**SETTINGS)
@given(frame=wide(), data=st.data())
def test_icc_refuses_spoilt_ratings(frame, data):
    long = _long_ratings(frame)
    how = data.draw(
        st.sampled_from(
            [
                "text",
                "missing_column",
                "one_rater",
                "twice",
                "constant",
                "empty",
                "infinite",
                "dates",
            ]
        )
    )
    column = "rating"
    if how == "missing_column":
        column = data.draw(st.sampled_from(["target", "rater", "rating"]))
        bad = long.drop(columns=[column])
    elif how == "one_rater":
        bad, column = long[long["rater"] == "i0"], None
    elif how == "twice":
        bad = pd.concat([long, long.iloc[:1]], ignore_index=True)
    elif how == "constant":
        bad = long.assign(rating=4.0)
    elif how == "empty":
        bad, column = long.iloc[:0], None
    else:
        bad = SPOILS[how](long, "rating")
    assert_refused(lambda: reliability.icc(bad, "target", "rater", "rating", rules=FEW), column)


@settings(**SETTINGS)
@given(frame=wide(), data=st.data())
def test_agreement_refuses_spoilt_pairs(frame, data):
    pairs = frame.rename(columns={"i0": "employee_klik", "i1": "jobcoach_klik"})
    how = data.draw(st.sampled_from(["text", "missing_column", "same", "no_pairs", "dates"]))
    column = data.draw(st.sampled_from(["employee_klik", "jobcoach_klik"]))
    a, b = "employee_klik", "jobcoach_klik"
    if how == "same":
        b, bad, column = a, pairs, a
    elif how == "no_pairs":
        bad, column = pairs.assign(jobcoach_klik=np.nan), None
    else:
        bad = SPOILS[how](pairs, column)
    assert_refused(lambda: reliability.agreement(bad, a, b), column)


@settings(**SETTINGS)
@given(frame=wide(), data=st.data())
def test_paired_ratings_refuses_spoilt_person_wave(frame, data):
    rows = []
    for tid, row in frame.iterrows():
        rows.append((tid, "T0", "employee", "klik", row["i0"]))
        rows.append((tid, "T0", "jobcoach", "klik", row["i1"]))
    pw = pd.DataFrame(rows, columns=["trajectory_id", "wave", "respondent", "score", "value"])
    how = data.draw(st.sampled_from(["text", "missing_column", "absent", "same"]))
    a, b = ("employee", "klik"), ("jobcoach", "klik")
    column = None
    if how == "text":
        bad, column = SPOILS["text"](pw, "value"), "value"
    elif how == "missing_column":
        column = data.draw(st.sampled_from(["trajectory_id", "wave", "respondent", "score",
                                            "value"]))  # fmt: skip
        bad = pw.drop(columns=[column])
    elif how == "absent":
        bad, b, column = pw, ("employer", "klik"), "score"
    else:
        bad, b = pw, a
    assert_refused(lambda: reliability.paired_ratings(bad, a, b), column)
