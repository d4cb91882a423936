from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis import frames
from analysis.frames import (
    PERSON_WAVE,
    SURVIVAL,
    TRAJECTORIES,
    person_wave_wide,
    validate_frame,
)


def test_fixture_frames_meet_their_contracts(trajectories, survival_frame, person_wave):
    assert validate_frame(trajectories, TRAJECTORIES) is trajectories
    validate_frame(survival_frame, SURVIVAL)
    validate_frame(person_wave, PERSON_WAVE)


@pytest.mark.parametrize("spec", list(frames.FRAMES.values()), ids=lambda s: s.name)
def test_empty_frame_of_every_contract_is_valid(spec):
    empty = spec.empty()
    assert list(empty.columns) == spec.names
    validate_frame(empty, spec)
    assert list(spec.describe()["name"]) == spec.names


def test_missing_columns_are_all_named(trajectories):
    broken = trajectories.drop(columns=["jobcoach_id", "start_date"])
    with pytest.raises(ValueError, match="'jobcoach_id', 'start_date'"):
        validate_frame(broken, TRAJECTORIES)


def test_wrong_dtype_is_reported(trajectories):
    broken = trajectories.assign(start_date=trajectories["start_date"].astype(str))
    with pytest.raises(ValueError, match=r"start_date.*datetime"):
        validate_frame(broken, TRAJECTORIES)


def test_values_outside_allowed_set_are_reported(trajectories):
    broken = trajectories.assign(end_reason="fired")
    with pytest.raises(ValueError, match=r"end_reason.*fired"):
        validate_frame(broken, TRAJECTORIES)


def test_nulls_in_required_column_are_reported(survival_frame):
    broken = survival_frame.assign(duration_days=np.nan)
    with pytest.raises(ValueError, match=r"duration_days.*missing"):
        validate_frame(broken, SURVIVAL)


def test_row_rules(survival_frame):
    with pytest.raises(ValueError, match="duration_days must be > 0"):
        validate_frame(survival_frame.assign(duration_days=0.0), SURVIVAL)
    cp = frames.COUNTING_PROCESS.empty()
    cp.loc[0] = [1, 1, 10.0, 5.0, 0, np.nan, np.nan, np.nan, np.nan]
    with pytest.raises(ValueError, match="stop must be greater"):
        validate_frame(
            cp.astype({"trajectory_id": int, "jobcoach_id": int, "event": int}),
            frames.COUNTING_PROCESS,
        )


def test_nullable_int_accepts_float_with_nan(trajectories):
    ok = trajectories.assign(organisation_id=trajectories["organisation_id"].astype(float))
    ok.loc[0, "organisation_id"] = np.nan
    validate_frame(ok, TRAJECTORIES)
    bad = ok.assign(organisation_id=0.5)
    with pytest.raises(ValueError, match="organisation_id"):
        validate_frame(bad, TRAJECTORIES)


def test_not_a_frame():
    with pytest.raises(ValueError, match="DataFrame"):
        validate_frame([1, 2], SURVIVAL)


def test_person_wave_wide_pivots_scores(person_wave):
    wide = person_wave_wide(person_wave, scores=["klik", "capability_count", "absent"])
    keys = ["trajectory_id", "wave", "respondent"]
    assert not wide.duplicated(keys).any()
    assert len(wide) == len(person_wave[keys].drop_duplicates())
    assert wide["absent"].isna().all()
    row = wide.iloc[5]
    expected = person_wave[
        (person_wave["trajectory_id"] == row["trajectory_id"])
        & (person_wave["wave"] == row["wave"])
        & (person_wave["respondent"] == row["respondent"])
        & (person_wave["score"] == "klik")
    ]["value"].iloc[0]
    assert row["klik"] == pytest.approx(expected, nan_ok=True)


def test_person_wave_wide_one_respondent(person_wave):
    wide = person_wave_wide(person_wave, respondent="employee")
    assert set(wide["respondent"]) == {"employee"}
    assert {"klik", "capability_count"} <= set(wide.columns)


def test_categorical_strings_accepted(survival_frame):
    frame = survival_frame.assign(end_type=survival_frame["end_type"].astype("category"))
    validate_frame(frame, SURVIVAL)
    assert isinstance(frame["end_type"].dtype, pd.CategoricalDtype)
