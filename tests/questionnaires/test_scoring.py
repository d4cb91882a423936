"""Scoring: hand-computed examples for every instrument, and ranges as a property."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from questionnaires.model import Instrument
from questionnaires.schema import parse_instrument
from questionnaires.scoring import score_frame, score_response

from .conftest import minimal_instrument

VALUES = ["knowledge_use", "knowledge_dev", "income", "relations", "autonomy", "contribution",
          "esteem"]  # fmt: skip
GOAL, TASK, BOND = ["01", "04", "07", "10"], ["02", "05", "08", "11"], ["03", "06", "09", "12"]


def _alliance(goal, task, bond):
    row = {}
    for ids, vals in ((GOAL, goal), (TASK, task), (BOND, bond)):
        for i, v in zip(ids, vals, strict=True):
            row[f"all_{i}"] = v
    return row


def test_employee_followup_hand_computed(instruments):
    inst = instruments["employee_followup"]
    row = _alliance([5, 4, 4, 3], [2, 2, 3, None], [5, 5, 5, 5])
    row["klik_direct"] = 4
    # capability: knowledge_use 4/4/5 yes, knowledge_dev 5/3/5 no, income 4/4/4 yes,
    # relations 2/5/5 no, autonomy 5/5/5 yes, contribution missing "ach", esteem 1/1/1 no
    caps = {"knowledge_use": (4, 4, 5), "knowledge_dev": (5, 3, 5), "income": (4, 4, 4),
            "relations": (2, 5, 5), "autonomy": (5, 5, 5), "contribution": (5, 5, None),
            "esteem": (1, 1, 1)}  # fmt: skip
    for v, (imp, ena, ach) in caps.items():
        row[f"csw_{v}_imp"], row[f"csw_{v}_ena"], row[f"csw_{v}_ach"] = imp, ena, ach
    row.update(fit_01=4, fit_02=5, fit_03=None, job_sat=3)
    row.update(wb_01=3, wb_02=4, wb_03=2, wb_04=5, wb_05=None)
    s = score_response(inst, row)
    assert s["alliance_goal"] == pytest.approx(16 / 4)
    assert s["alliance_task"] == pytest.approx(7 / 3)  # one missing: mean of three
    assert s["alliance_bond"] == pytest.approx(5.0)
    assert s["alliance"] == pytest.approx((16 + 7 + 20) / 11)
    assert s["klik"] == 4.0
    assert s["capability_knowledge_use"] == 1.0
    assert s["capability_knowledge_dev"] == 0.0
    assert s["capability_income"] == 1.0
    assert s["capability_relations"] == 0.0
    assert s["capability_autonomy"] == 1.0
    assert s["capability_contribution"] is None
    assert s["capability_esteem"] == 0.0
    assert s["capability_count"] == 3.0  # one incomplete value allowed, not counted
    assert s["person_job_fit"] == pytest.approx(4.5)
    assert s["job_satisfaction"] == 3.0
    # prorated sum: mean 14/4 = 3.5, times 5 items = 17.5, times 4 = 70
    assert s["wellbeing"] == pytest.approx(70.0)


def test_employee_missing_beyond_allowed(instruments):
    inst = instruments["employee_followup"]
    row = _alliance([5, None, None, 3], [2, 2, 3, 3], [None, 5, 5, 5])
    for v in VALUES[:5]:
        row.update({f"csw_{v}_imp": 5, f"csw_{v}_ena": 5, f"csw_{v}_ach": 5})
    row.update(wb_01=5, wb_02=5, wb_03=None, wb_04=None, wb_05=5, fit_01=4)
    s = score_response(inst, row)
    assert s["alliance_goal"] is None  # two of four missing, one allowed
    assert s["alliance"] is None  # three of twelve missing, two allowed
    assert s["alliance_task"] == pytest.approx(2.5) and s["alliance_bond"] == pytest.approx(5.0)
    assert s["capability_count"] is None  # two values incomplete, one allowed
    assert s["wellbeing"] is None
    assert s["person_job_fit"] is None
    assert s["klik"] is None and s["job_satisfaction"] is None


def test_alliance_total_missing_when_three_items_missing(instruments):
    inst = instruments["employee_followup"]
    row = _alliance([5, None, None, None], [2, 2, 3, 3], [5, 5, 5, 5])
    assert score_response(inst, row)["alliance"] is None
    row = _alliance([5, None, None, 4], [2, 2, 3, 3], [5, 5, 5, 5])
    assert score_response(inst, row)["alliance"] == pytest.approx(39 / 10)


def test_wellbeing_complete_is_sum_times_four(instruments):
    inst = instruments["employee_followup"]
    s = score_response(inst, {"wb_01": 0, "wb_02": 1, "wb_03": 5, "wb_04": 2, "wb_05": 3})
    assert s["wellbeing"] == pytest.approx(44.0)


def test_jobcoach_followup_hand_computed(instruments):
    inst = instruments["jobcoach_followup"]
    # match_04 is reverse keyed: 2 -> 6 - 2 = 4
    s = score_response(
        inst,
        {"match_01": 5, "match_02": 3, "match_03": 4, "match_04": 2, "coach_klik": 5,
         "calli_01": 4, "calli_02": None, "calli_03": 3, "activities": ["placement"]},
    )  # fmt: skip
    assert s["match_quality"] == pytest.approx((5 + 3 + 4 + 4) / 4)
    assert s["coach_klik"] == 5.0
    assert s["coach_alliance"] == pytest.approx(3.5)


def test_employer_followup_hand_computed(instruments):
    inst = instruments["employer_followup"]
    s = score_response(
        inst,
        {"esat_01": 4, "esat_02": 5, "esat_03": 3, "ontz_01": 2, "ontz_02": None, "ontz_03": None,
         "reach_01": 5, "reach_02": 4, "role_01": 4, "role_02": 4, "role_03": 5,
         "func_01": 3, "func_02": None, "func_03": 2},
    )  # fmt: skip
    assert s["employer_satisfaction"] == pytest.approx(4.0)
    assert s["ontzorging"] is None
    assert s["reachability"] == pytest.approx(4.5)
    assert s["role_clarity"] == pytest.approx((4 + 4 + 1) / 3)  # role_03 reversed: 6 - 5
    assert s["employee_functioning"] == pytest.approx(2.5)


def test_employee_baseline_scores_like_followup(instruments):
    base, follow = instruments["employee_baseline"], instruments["employee_followup"]
    row = _alliance([1, 2, 3, 4], [5, 4, 3, 2], [1, 1, 1, 2])
    assert score_response(base, row)["alliance"] == score_response(follow, row)["alliance"]
    assert score_response(base, row)["alliance"] == pytest.approx(29 / 12)


def test_sum_rule_and_reverse_on_minimal():
    data = minimal_instrument()
    data["scores"].append(
        {"id": "a_sum", "label": {"nl": "s", "en": "s"}, "rule": "sum",
         "items": ["a1", "a2", "a3"], "max_missing": 1, "scale": [3, 9]}
    )  # fmt: skip
    inst = parse_instrument(data, "mini")
    frame = pd.DataFrame(
        {"a1": [1, 3, None, "2"], "a2": [1, 3, None, ""], "a3": [3, None, 1, None]},
        index=["r1", "r2", "r3", "r4"],
    )
    out = score_frame(inst, frame)
    assert list(out.index) == ["r1", "r2", "r3", "r4"]
    assert list(out.columns) == ["a_mean", "a_sum"]
    # r1: a2 reversed 1 -> 3: (1 + 3 + 3) ; r2: 3, 1 -> mean 2, sum prorated 6
    assert out.loc["r1", "a_sum"] == pytest.approx(7.0)
    assert out.loc["r1", "a_mean"] == pytest.approx(7 / 3)
    assert out.loc["r2", "a_mean"] == pytest.approx(2.0)
    assert out.loc["r2", "a_sum"] == pytest.approx(6.0)
    assert math.isnan(out.loc["r3", "a_mean"]) and math.isnan(out.loc["r4", "a_sum"])


def test_out_of_range_answers_are_refused(instruments):
    inst = instruments["employee_followup"]
    with pytest.raises(ValueError, match="job_sat"):
        score_frame(inst, pd.DataFrame({"job_sat": [3, 7]}))
    with pytest.raises(ValueError, match="not numbers"):
        score_frame(inst, pd.DataFrame({"job_sat": ["veel"]}))
    with pytest.raises(ValueError, match="outside"):
        score_frame(inst, pd.DataFrame({"job_sat": [2.5]}))


def test_empty_frame_and_missing_columns(instruments):
    inst = instruments["employee_followup"]
    out = score_frame(inst, pd.DataFrame(index=pd.RangeIndex(0)))
    assert out.empty and list(out.columns) == [s.id for s in inst.scores]
    out = score_frame(inst, pd.DataFrame({"other": [1, 2]}))
    assert out.isna().all().all()


def test_vectorised_equals_row_by_row(instruments):
    inst = instruments["employee_followup"]
    rng = np.random.default_rng(7)
    items = [it for it in inst.items if it.type == "likert"]
    data = {}
    for it in items:
        lo, hi = it.value_range
        col = rng.integers(int(lo), int(hi) + 1, size=40).astype(float)
        col[rng.random(40) < 0.15] = np.nan
        data[it.id] = col
    frame = pd.DataFrame(data)
    whole = score_frame(inst, frame)
    for i in range(len(frame)):
        one = score_response(inst, frame.iloc[i].where(frame.iloc[i].notna(), None).to_dict())
        for k, v in one.items():
            w = whole.iloc[i][k]
            assert (v is None and math.isnan(w)) or v == pytest.approx(w)


def _response_strategy(inst: Instrument):
    fields = {}
    for it in inst.items:
        rng = it.value_range
        if rng is None or not it.numeric:
            continue
        if it.type in ("likert", "single", "yesno"):
            values = st.sampled_from([o.code for o in it.options])
        elif it.type == "integer":
            values = st.integers(int(rng[0]), int(rng[1]))
        else:
            values = st.floats(rng[0], rng[1], allow_nan=False)
        fields[it.id] = st.one_of(st.none(), values)
    return st.fixed_dictionaries(fields)


@pytest.mark.parametrize(
    "iid", ["employee_followup", "employee_baseline", "jobcoach_followup", "employer_followup"]
)
def test_scores_stay_within_declared_scale(instruments, iid):
    inst = instruments[iid]

    @settings(max_examples=100, deadline=None)
    @given(st.lists(_response_strategy(inst), min_size=1, max_size=8))
    def check(rows):
        out = score_frame(inst, pd.DataFrame(rows))
        for sc in inst.scores:
            col = out[sc.id].dropna()
            assert (col >= sc.scale[0] - 1e-9).all(), sc.id
            assert (col <= sc.scale[1] + 1e-9).all(), sc.id
            if sc.rule in ("capability_flag", "capability_count"):
                assert (col == col.round()).all(), sc.id

    check()
