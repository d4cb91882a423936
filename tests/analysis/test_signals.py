"""Every signal rule, table-driven, with its edge cases: missing waves, one measurement, ties
at the threshold, the alpha floor, events out of order and beyond ``as_of``."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pandas as pd
import pytest

from analysis import signals as sg
from analysis.expected_course import Z10, Z25, ExpectedCourse
from analysis.validation import BadInput

START = dt.date(2025, 1, 6)
WAVES = {0: ("T0", 0), 1: ("T1", 3), 2: ("T2", 6), 3: ("T3", 12)}


def pw(rows: list[tuple], respondent: str = "employee") -> pd.DataFrame:
    """person_wave rows from (trajectory_id, wave_index, score, value[, status])."""
    out = []
    for r in rows:
        tid, wi, score, value = r[:4]
        status = r[4] if len(r) > 4 else ("missing" if value is None else "on_time")
        code, months = WAVES[wi]
        due = pd.Timestamp(START) + pd.DateOffset(months=months)
        submitted = due + pd.Timedelta(days=2) if status in ("on_time", "late") else pd.NaT
        out.append({
            "trajectory_id": tid, "jobcoach_id": 1, "wave": code, "wave_index": wi,
            "months": float(months), "respondent": respondent, "instrument_id": "x",
            "status": status, "submitted_at": submitted, "score": score,
            "value": np.nan if value is None else float(value), "anchor": "start",
            "due_date": due,
        })  # fmt: skip
    return pd.DataFrame(out)


def ref(**kw: object) -> sg.CohortReference:
    base = {
        "baseline_sd": {"alliance": 0.6, "capability_count": 1.5},
        "alpha": {"alliance": 0.8, "capability_count": 0.7},
        "low_alliance_cut": {"T0": 3.0, "T1": 3.0, "T2": 3.0},
    }
    base.update(kw)
    return sg.CohortReference(**base)  # type: ignore[arg-type]


def rules(frame: pd.DataFrame) -> list[tuple[int, str, str, bool]]:
    return [
        (int(r.trajectory_id), r.rule, r.level, bool(r.current))
        for r in frame.itertuples(index=False)
    ]


# -- klik drop ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        # a fall of exactly one point fires (>=), a fall of 0.9 does not
        ([(1, 0, "klik", 4), (1, 1, "klik", 3)], [(1, "klik_item_drop", "amber", True)]),
        ([(1, 0, "klik", 4), (1, 1, "klik", 3.1)], []),
        # the alliance mean: 0.5 fires, 0.49 does not
        ([(1, 0, "alliance", 4.0), (1, 1, "alliance", 3.5)], [(1, "alliance_mean_drop", "amber", True)]),
        ([(1, 0, "alliance", 4.0), (1, 1, "alliance", 3.51)], []),
        # one measurement: nothing to compare
        ([(1, 0, "klik", 5)], []),
        # a missing wave in between: compared with the last measured wave
        ([(1, 0, "klik", 5), (1, 1, "klik", None), (1, 2, "klik", 4)], [(1, "klik_item_drop", "amber", True)]),
        # an old drop that has since been followed by a new wave is history, not current
        ([(1, 0, "klik", 5), (1, 1, "klik", 3), (1, 2, "klik", 3)], [(1, "klik_item_drop", "amber", False)]),
        # a rise never fires
        ([(1, 0, "klik", 2), (1, 1, "klik", 5)], []),
        # each trajectory compared with itself only
        ([(1, 0, "klik", 5), (2, 1, "klik", 1)], []),
    ],
)  # fmt: skip
def test_klik_drop(rows: list[tuple], expected: list[tuple]) -> None:
    assert rules(sg.klik_drop(pw(rows))) == expected


def test_klik_drop_says_on_which_values() -> None:
    found = sg.klik_drop(pw([(1, 0, "klik", 4), (1, 1, "klik", 2)]))
    assert found["values"].iloc[0] == {
        "previous_wave": "T0",
        "previous": 4.0,
        "latest": 2.0,
        "change": -2.0,
    }
    assert found["wave"].iloc[0] == "T1"


def test_klik_drop_threshold_from_settings() -> None:
    rows = [(1, 0, "klik", 4), (1, 1, "klik", 3)]
    assert sg.klik_drop(pw(rows), sg.Thresholds(klik_drop_points=2)).empty


# -- reliable deterioration --------------------------------------------------------------------


def test_reliable_change_formula() -> None:
    # the worked example of the notes: s0 = 0.6, r = 0.8 gives S_diff = 0.379
    sdiff = 0.6 * math.sqrt(2 * 0.2)
    assert sg.reliable_change(3.0, 3.0 + sdiff, 0.6, 0.8) == pytest.approx(-1.0)
    with pytest.raises(BadInput):
        sg.reliable_change(1, 2, 0.6, 1.0)
    with pytest.raises(BadInput):
        sg.reliable_change(1, 2, 0.0, 0.5)


SDIFF = 0.6 * math.sqrt(2 * (1 - 0.8))


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        # exactly at RC = -1.96 fires, just above does not
        ([(1, 0, "alliance", 4.0), (1, 1, "alliance", 4.0 - 1.96 * SDIFF)], [(1, "rc_alliance", "red", True)]),
        ([(1, 0, "alliance", 4.0), (1, 1, "alliance", 4.0 - 1.95 * SDIFF)], []),
        # without a baseline there is nothing to compare with
        ([(1, 1, "alliance", 1.0), (1, 2, "alliance", 1.0)], []),
        # against the baseline, not the previous wave: a slow slide fires
        ([(1, 0, "alliance", 4.0), (1, 1, "alliance", 3.6), (1, 2, "alliance", 3.2)], [(1, "rc_alliance", "red", True)]),
    ],
)  # fmt: skip
def test_reliable_deterioration(rows: list[tuple], expected: list[tuple]) -> None:
    assert rules(sg.reliable_deterioration(pw(rows), ref())) == expected


def test_reliable_deterioration_capability_and_unknown_alpha() -> None:
    rows = [(1, 0, "capability_count", 5), (1, 1, "capability_count", 1)]
    # 4 fewer capabilities with s0 = 1.5, r = 0.7: RC = -4 / (1.5 * sqrt(0.6)) = -3.44
    found = sg.reliable_deterioration(pw(rows), ref())
    assert rules(found) == [(1, "rc_capability_count", "red", True)]
    assert found["values"].iloc[0]["rc"] == pytest.approx(-4 / (1.5 * math.sqrt(0.6)), abs=1e-3)
    # an alpha the cohort could not estimate switches the score's rule off
    assert sg.reliable_deterioration(pw(rows), ref(alpha={"capability_count": None})).empty


def _alliance_cohort(n: int, seed: int, noise: float) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Baseline alliance items of ``n`` employees: a shared trait plus item noise."""
    rng = np.random.default_rng(seed)
    trait = rng.normal(0, 1, n)
    items = []
    for i in range(n):
        for item in sg.ALLIANCE_ITEMS:
            items.append((i, i + 1, "T0", "employee", "b", item, float(np.clip(np.round(3 + trait[i] * 0.3 + rng.normal(0, noise)), 1, 5))))  # fmt: skip
    frame = pd.DataFrame(
        items,
        columns=["response_id", "trajectory_id", "wave", "respondent", "instrument_id", "item_id", "value"],
    )  # fmt: skip
    means = frame.groupby("trajectory_id")["value"].mean()
    person = pw([(int(t), 0, "alliance", float(v)) for t, v in means.items()])
    return person, frame


def test_alpha_floor_for_the_alliance() -> None:
    # items that hardly agree: the cohort's alpha is low, r is floored at 0.80
    person, items = _alliance_cohort(60, seed=1, noise=1.5)
    reference = sg.cohort_reference(person, items)
    assert reference.alpha["alliance"] == pytest.approx(0.80)
    # items that agree well: the cohort's own alpha is used
    person, items = _alliance_cohort(60, seed=2, noise=0.1)
    reference = sg.cohort_reference(person, items)
    assert reference.alpha["alliance"] > 0.9
    # no items at all: the floor stands in
    assert sg.cohort_reference(person).alpha["alliance"] == pytest.approx(0.80)
    # a study's own floor
    assert sg.cohort_reference(person, thresholds=sg.Thresholds(alliance_alpha_floor=0.85)).alpha[
        "alliance"
    ] == pytest.approx(0.85)


def test_capability_alpha_from_the_flags() -> None:
    rng = np.random.default_rng(4)
    rows = []
    for tid in range(1, 41):
        level = rng.uniform()
        for flag in sg.CAPABILITY_FLAGS:
            rows.append((tid, 0, flag, float(rng.uniform() < level)))
    reference = sg.cohort_reference(pw(rows))
    assert reference.alpha["capability_count"] is not None
    assert 0 < reference.alpha["capability_count"] < 1


# -- low alliance ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        ([(1, 1, "alliance", 2.9)], [(1, "below_cohort_p10", "amber", True)]),
        # a tie with the cut is not below it
        ([(1, 1, "alliance", 3.0)], []),
        # a wave without a cut (too few employees there) is not judged
        ([(1, 3, "alliance", 1.0)], []),
    ],
)
def test_low_alliance(rows: list[tuple], expected: list[tuple]) -> None:
    assert rules(sg.low_alliance(pw(rows), ref())) == expected


def test_low_alliance_cut_is_the_cohorts_percentile_per_wave() -> None:
    values = list(np.linspace(1, 5, 21))
    rows = [(i + 1, 1, "alliance", v) for i, v in enumerate(values)]
    rows += [(i + 1, 0, "alliance", 4.5) for i in range(21)]
    reference = sg.cohort_reference(pw(rows))
    assert reference.low_alliance_cut["T1"] == pytest.approx(np.percentile(values, 10))
    assert reference.low_alliance_cut["T0"] == pytest.approx(4.5)
    found = sg.low_alliance(pw(rows), reference)
    # the two lowest of 21 lie under the 10th percentile (1.4); at T0 everyone ties
    assert sorted(found["trajectory_id"]) == [1, 2]
    small = sg.cohort_reference(pw(rows[:9]))
    assert "T1" not in small.low_alliance_cut


# -- not on track ------------------------------------------------------------------------------


COURSE = ExpectedCourse(
    score="capability_count",
    intercept=1.0,
    slope_baseline=0.8,
    wave_effects={"T1": 0.0, "T2": 0.5},
    sd=1.0,
    n_employees=150,
)


@pytest.mark.parametrize(
    ("latest", "expected"),
    [
        # expected at T1 for baseline 4: 1 + 0.8 * 4 = 4.2
        (4.2, []),
        (4.2 + Z25 + 0.01, []),
        (4.2 + Z25 - 0.01, [(1, "below_expected_p25", "amber", True)]),
        (4.2 + Z10 - 0.01, [(1, "below_expected_p10", "red", True)]),
    ],
)
def test_not_on_track(latest: float, expected: list[tuple]) -> None:
    rows = [(1, 0, "capability_count", 4), (1, 1, "capability_count", latest)]
    on = ref(expected={"capability_count": COURSE}, not_on_track_on=True)
    assert rules(sg.not_on_track(pw(rows), on)) == expected


def test_not_on_track_is_off_for_a_small_cohort() -> None:
    rows = [(1, 0, "capability_count", 4), (1, 1, "capability_count", 0)]
    off = ref(expected={"capability_count": COURSE}, not_on_track_on=False)
    assert sg.not_on_track(pw(rows), off).empty


def test_not_on_track_switch_at_100_employees() -> None:
    rng = np.random.default_rng(7)

    def cohort(n: int) -> pd.DataFrame:
        rows = []
        for tid in range(1, n + 1):
            b = float(rng.integers(0, 8))
            rows += [(tid, 0, "capability_count", b), (tid, 1, "capability_count", float(np.clip(round(b + rng.normal(0, 1)), 0, 7)))]  # fmt: skip
        return pw(rows)

    assert not sg.cohort_reference(cohort(99)).not_on_track_on
    assert sg.cohort_reference(cohort(100)).not_on_track_on


# -- sick leave --------------------------------------------------------------------------------


def ev(rows: list[tuple]) -> pd.DataFrame:
    return pd.DataFrame(
        [(tid, pd.Timestamp(d), kind, hours) for tid, d, kind, *rest in rows for hours in [rest[0] if rest else None]],
        columns=["trajectory_id", "event_date", "kind", "hours"],
    )  # fmt: skip


D = dt.date


@pytest.mark.parametrize(
    ("rows", "as_of", "expected"),
    [
        # reported and still open after 10 days: amber, current
        ([(1, D(2025, 3, 1), "sick_leave_start")], D(2025, 3, 11), [(1, "sick_reported", "amber", True)]),
        # exactly 14 days is not over 14
        ([(1, D(2025, 3, 1), "sick_leave_start"), (1, D(2025, 3, 15), "sick_leave_end")], D(2025, 4, 1),
         [(1, "sick_reported", "amber", False)]),
        # 15 days: red
        ([(1, D(2025, 3, 1), "sick_leave_start")], D(2025, 3, 16),
         [(1, "sick_reported", "amber", True), (1, "sick_long", "red", True)]),
        # an end without a start is ignored; a start after as_of is not there yet
        ([(1, D(2025, 3, 1), "sick_leave_end"), (1, D(2025, 5, 1), "sick_leave_start")], D(2025, 4, 1), []),
    ],
)  # fmt: skip
def test_sick_leave(rows: list[tuple], as_of: dt.date, expected: list[tuple]) -> None:
    assert rules(sg.sick_leave(ev(rows), as_of)) == expected


def _spells(starts: list[dt.date]) -> pd.DataFrame:
    rows = []
    for s in starts:
        rows += [(1, s, "sick_leave_start"), (1, s + dt.timedelta(days=2), "sick_leave_end")]
    return ev(rows)


def test_three_spells_in_twelve_months() -> None:
    within = _spells([D(2025, 1, 10), D(2025, 6, 1), D(2026, 1, 9)])
    found = sg.sick_leave(within, D(2026, 1, 20))
    repeated = found[found["rule"] == "sick_repeated"]
    assert len(repeated) == 1 and bool(repeated["current"].iloc[0])
    assert repeated["fired_on"].iloc[0] == pd.Timestamp(2026, 1, 9)
    # the same three spells, the third a day past twelve months after the first: no signal
    spread = _spells([D(2025, 1, 10), D(2025, 6, 1), D(2026, 1, 11)])
    assert sg.sick_leave(spread, D(2026, 1, 20)).query("rule == 'sick_repeated'").empty
    # later, when the window no longer holds three, it is history
    later = sg.sick_leave(within, D(2026, 7, 1)).query("rule == 'sick_repeated'")
    assert not bool(later["current"].iloc[0])


# -- hours and contract ------------------------------------------------------------------------


def traj(rows: list[dict]) -> pd.DataFrame:
    base = {"start_date": pd.Timestamp(START), "end_date": pd.NaT, "contract_hours": 20.0,
            "employment_form": "begeleid_werken", "contract_end_date": pd.NaT}  # fmt: skip
    return pd.DataFrame([{**base, **r} for r in rows])


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ([16.0], [(1, "hours_cut", "amber", True)]),  # exactly 20% fires
        ([16.5], []),
        # two small cuts that add up do not: each is against the hours just before
        ([18.0, 16.2], []),
        ([30.0, 24.0], [(1, "hours_cut", "amber", True)]),  # 20% of the raised hours
        ([0.0], [(1, "hours_cut", "amber", True)]),
    ],
)
def test_hours_cut(changes: list[float], expected: list[tuple]) -> None:
    rows = [(1, D(2025, 3, 1) + dt.timedelta(days=i), "hours_change", h) for i, h in enumerate(changes)]  # fmt: skip
    assert rules(sg.hours_cut(traj([{"trajectory_id": 1}]), ev(rows), D(2025, 3, 20))) == expected


def test_hours_cut_goes_out_of_date() -> None:
    events = ev([(1, D(2025, 3, 1), "hours_change", 10.0)])
    found = sg.hours_cut(traj([{"trajectory_id": 1}]), events, D(2025, 6, 1))
    assert rules(found) == [(1, "hours_cut", "amber", False)]


@pytest.mark.parametrize(
    ("row", "as_of", "expected"),
    [
        ({"contract_end_date": pd.Timestamp(2025, 5, 1)}, D(2025, 3, 6), [(1, "contract_ends", "amber", True)]),
        ({"contract_end_date": pd.Timestamp(2025, 5, 1)}, D(2025, 3, 5), []),  # 8 weeks and 1 day
        ({"contract_end_date": pd.Timestamp(2025, 5, 1), "employment_form": "proefplaatsing"}, D(2025, 4, 1),
         [(1, "trial_ends", "amber", True)]),
        # past the end: history
        ({"contract_end_date": pd.Timestamp(2025, 5, 1)}, D(2025, 5, 2), [(1, "contract_ends", "amber", False)]),
        # a trajectory that has ended is not warned about
        ({"contract_end_date": pd.Timestamp(2025, 5, 1), "end_date": pd.Timestamp(2025, 3, 1)}, D(2025, 4, 1),
         [(1, "contract_ends", "amber", False)]),
        ({}, D(2025, 4, 1), []),
    ],
)  # fmt: skip
def test_contract_end(row: dict, as_of: dt.date, expected: list[tuple]) -> None:
    assert rules(sg.contract_end(traj([{"trajectory_id": 1, **row}]), as_of)) == expected


# -- missed forms ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("statuses", "expected"),
    [
        (["on_time", "missing"], [(1, "missed_one", "amber", True)]),
        (["on_time", "missing", "missing"], [(1, "missed_one", "amber", False), (1, "missed_in_a_row", "red", True)]),
        # a form that came in breaks the run
        (["missing", "late", "missing"], [(1, "missed_one", "amber", False), (1, "missed_one", "amber", True)]),
        # an open form neither breaks nor extends the run, and is not the latest closed one
        (["on_time", "missing", "open"], [(1, "missed_one", "amber", True)]),
        (["on_time", "on_time"], []),
    ],
)  # fmt: skip
def test_missed_forms(statuses: list[str], expected: list[tuple]) -> None:
    rows = [
        (1, i, "klik", 3 if s in ("on_time", "late") else None, s) for i, s in enumerate(statuses)
    ]
    assert rules(sg.missed_forms(pw(rows))) == expected


def test_missed_forms_only_the_employees() -> None:
    rows = [(1, 0, "klik", None, "missing"), (1, 1, "klik", None, "missing")]
    assert sg.missed_forms(pw(rows, respondent="employer")).empty


# -- contact -----------------------------------------------------------------------------------


def contacts(rows: list[tuple]) -> pd.DataFrame:
    return pd.DataFrame(
        [(tid, pd.Timestamp(d), float(m)) for tid, d, m in rows],
        columns=["trajectory_id", "date", "minutes"],
    )


@pytest.mark.parametrize(
    ("rows", "as_of", "expected"),
    [
        # a contact every 28 days: never more than 28 days without one
        ([(1, START + dt.timedelta(days=28 * i), 30) for i in range(1, 5)], START + dt.timedelta(days=112), []),
        # 29 days since the last contact
        ([(1, START + dt.timedelta(days=10), 30)], START + dt.timedelta(days=39), [(1, "no_contact", "amber", True)]),
        ([(1, START + dt.timedelta(days=10), 30)], START + dt.timedelta(days=38), []),
        # no contact at all since the start
        ([], START + dt.timedelta(days=30), [(1, "no_contact", "amber", True)]),
        # a gap that was closed by a later contact is history
        ([(1, START + dt.timedelta(days=1), 30), (1, START + dt.timedelta(days=50), 30)],
         START + dt.timedelta(days=60), [(1, "no_contact", "amber", False)]),
        # after the first year a gap is not a signal
        ([(1, START + dt.timedelta(days=20 * i), 30) for i in range(1, 18)], START + dt.timedelta(days=400), []),
    ],
)  # fmt: skip
def test_contact_gap(rows: list[tuple], as_of: dt.date, expected: list[tuple]) -> None:
    found = sg.contact(traj([{"trajectory_id": 1}]), contacts(rows), ev([]), as_of)
    assert rules(found[found["rule"] == "no_contact"]) == expected


def test_above_regime() -> None:
    # 20 h a week for 8 weeks is 160 h worked; 15% of that is 24 h of coaching
    weekly = [(1, START + dt.timedelta(days=7 * i), 150) for i in range(1, 9)]  # 2.5 h a week
    as_of = START + dt.timedelta(days=60)
    under = sg.contact(traj([{"trajectory_id": 1}]), contacts(weekly), ev([]), as_of)
    assert under[under["rule"] == "above_regime"].empty
    heavy = [(1, START + dt.timedelta(days=7 * i), 300) for i in range(1, 9)]  # 5 h a week
    over = sg.contact(traj([{"trajectory_id": 1}]), contacts(heavy), ev([]), as_of)
    above = over[over["rule"] == "above_regime"]
    assert len(above) == 1 and above["values"].iloc[0]["year"] == 1
    assert above["values"].iloc[0]["share"] > 0.15
    # fewer hours worked after a cut make the same coaching too much
    cut = ev([(1, START + dt.timedelta(days=1), "hours_change", 8.0)])
    found = sg.contact(traj([{"trajectory_id": 1}]), contacts(weekly), cut, as_of)
    assert not found[found["rule"] == "above_regime"].empty


def test_regime_of_year_two_is_lower() -> None:
    # 2 h a week at 20 h: 10% of hours worked, under year 1's 15%, over year 2's 7.5%
    days = [START + dt.timedelta(days=7 * i) for i in range(1, 100)]
    found = sg.contact(
        traj([{"trajectory_id": 1}]),
        contacts([(1, d, 120) for d in days]),
        ev([]),
        START + dt.timedelta(days=700),
    )
    years = [v["year"] for v in found[found["rule"] == "above_regime"]["values"]]
    assert years == [2]


# -- caseload ----------------------------------------------------------------------------------


def test_caseload_lights_and_order() -> None:
    person = pw(
        [(1, 0, "klik", 4), (1, 1, "klik", 4),  # two measurements, no signal: green
         (2, 0, "klik", 4),  # one measurement, nothing fired: grey
         (3, 0, "klik", 5), (3, 1, "klik", 3),  # klik drop: amber
         (4, 0, "alliance", 4.0), (4, 1, "alliance", 2.0)]  # drop and reliable: red
    )  # fmt: skip
    found = pd.concat([sg.klik_drop(person), sg.reliable_deterioration(person, ref())])
    table = sg.caseload([1, 2, 3, 4], found, person)
    assert list(table["trajectory_id"]) == [4, 3, 1, 2]
    assert list(table["light"]) == ["red", "amber", "green", "grey"]
    # a signal marked seen no longer colours the light
    seen = found[found["trajectory_id"] == 3][["trajectory_id", "signal", "rule", "fired_on"]]
    table = sg.caseload([1, 2, 3, 4], found, person, seen=seen)
    assert table.set_index("trajectory_id").loc[3, "light"] == "green"
    assert table.set_index("trajectory_id").loc[3, "n_seen"] == 1


def test_caseload_grey_client_with_an_event_signal_is_not_grey() -> None:
    person = pw([(2, 0, "klik", 4)])
    sick = sg.sick_leave(ev([(2, D(2025, 3, 1), "sick_leave_start")]), D(2025, 3, 20))
    table = sg.caseload([2], sick, person)
    assert table["light"].iloc[0] == "red"


# -- settings ----------------------------------------------------------------------------------


def test_thresholds_from_settings() -> None:
    th = sg.Thresholds.from_mapping({"contact_gap_days": 21, "regime_shares": [0.2, 0.1, 0.05]})
    assert th.contact_gap_days == 21 and th.regime_shares == (0.2, 0.1, 0.05)
    assert sg.Thresholds.from_mapping(th.as_dict()) == th
    for bad in (
        {"no_such_setting": 1},
        {"contact_gap_days": "28"},
        {"contact_gap_days": 2.5},
        {"reliable_change_z": 1.96},
        {"alliance_alpha_floor": 1.0},
        {"regime_shares": [0.1]},
        {"klik_drop_points": float("nan")},
        {"low_alliance_percentile": 0},
    ):
        with pytest.raises(BadInput):
            sg.Thresholds.from_mapping(bad)


def test_all_signals_keeps_only_the_given_trajectories() -> None:
    person = pw([(1, 0, "klik", 5), (1, 1, "klik", 3), (2, 0, "klik", 5), (2, 1, "klik", 3)])
    found = sg.all_signals(
        person_wave=person,
        trajectories=traj([{"trajectory_id": 1}]),
        events=ev([]),
        contacts=contacts([(1, START + dt.timedelta(days=7 * i), 30) for i in range(60)]),
        reference=ref(),
        as_of=D(2025, 5, 1),
    )
    assert set(found["trajectory_id"]) == {1}
    assert list(found.columns) == sg.SIGNAL_COLUMNS


def test_expected_course_recovers_a_known_model() -> None:
    from analysis.expected_course import fit_expected_course

    rng = np.random.default_rng(11)
    rows = []
    for tid in range(1, 401):
        b = float(rng.normal(4, 1.5))
        u = rng.normal(0, 0.6)
        rows.append((tid, 0, "capability_count", b))
        for wi, effect in ((1, 0.0), (2, 0.4)):
            rows.append((tid, wi, "capability_count", 1.0 + effect + 0.7 * b + u + rng.normal(0, 0.8)))  # fmt: skip
    course = fit_expected_course(pw(rows), "capability_count")
    assert course is not None and course.n_employees == 400
    assert course.slope_baseline == pytest.approx(0.7, abs=0.05)
    assert course.wave_effects["T2"] == pytest.approx(0.4, abs=0.1)
    assert course.sd == pytest.approx(math.hypot(0.6, 0.8), abs=0.1)
    band = course.band(4.0, ["T1", "T2", "T3"])
    assert band["p10"].iloc[0] < band["p25"].iloc[0] < band["median"].iloc[0]
    assert np.isnan(band["median"].iloc[2])  # a wave the model has not seen
    # too few employees: no model
    assert fit_expected_course(pw(rows[:6]), "capability_count") is None


def test_signals_of_an_ended_trajectory_are_history_and_it_comes_last() -> None:
    person = pw([(1, 0, "klik", 5), (1, 1, "klik", 3), (2, 0, "klik", 4), (2, 1, "klik", 4)])
    trajectories = traj(
        [{"trajectory_id": 1, "end_date": pd.Timestamp(2025, 4, 20)}, {"trajectory_id": 2}]
    )
    found = sg.all_signals(
        person_wave=person,
        trajectories=trajectories,
        events=ev([]),
        contacts=contacts(
            [(t, START + dt.timedelta(days=7 * i), 30) for t in (1, 2) for i in range(60)]
        ),
        reference=ref(),
        as_of=D(2025, 5, 1),
    )
    assert not found["current"].any()
    table = sg.caseload([1, 2], found, person, ended=[1])
    assert list(table["light"]) == ["green", "ended"]
