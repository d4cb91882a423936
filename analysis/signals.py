"""Feedback signals for jobcoaches: which clients need a conversation now, and why.

Every rule takes plain frames (the employee's scores per wave, employment events, coaching
contacts, the trajectories) plus :class:`Thresholds` and a :class:`CohortReference`, and
returns the *history* of its firings: one row per moment the rule fired, with the values it
fired on and whether it still applies on ``as_of`` (``current``). The jobcoach's view shows the
current ones; the benchmark of sensitivity and predictive value uses the whole history.

The rules and their sources (thresholds are the study's settings; these are the defaults):

- ``klik_drop``: the klik item fell >= 1 point, or the alliance mean >= 0.5, since the previous
  measured wave (OpenFIT's "SRS >= 1 below last session").
- ``reliable_deterioration``: Jacobson & Truax's RC = (x_t - x_0) / (s_0 * sqrt(2 (1 - r)))
  <= -1.96 for the alliance and the capability count; s_0 the cohort's baseline SD, r its
  Cronbach's alpha (for the alliance never below 0.80, the WAI-SR's reliability).
- ``low_alliance``: below the cohort's 10th percentile at the same wave (the WAI-SR has no norms).
- ``not_on_track``: the capability count against the expected course
  (:mod:`analysis.expected_course`): amber below the expected 25th percentile, red below the
  10th; only once the cohort has >= 100 employees with two waves.
- ``sick_leave``: a reported spell (amber); red when a spell lasts over 14 days or there are
  >= 3 spells in 12 months.
- ``hours_cut`` and ``contract_end``: contract hours cut by >= 20%; a contract or trial
  placement that ends within 8 weeks.
- ``missed_forms``: the employee missed a form (amber), two in a row (red).
- ``contact``: no coaching contact for > 28 days in the first year, or coaching hours above the
  UWV regime (15% / 7.5% / 6% of the hours worked in years 1 / 2 / 3).

Signals are prompts for a conversation, not verdicts: the evidence that feedback helps is for
clients who are not on track, and for vocational outcomes it is thin (see the study notes).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from typing import Any

import numpy as np
import pandas as pd

from analysis.expected_course import (
    Z10,
    Z25,
    ExpectedCourse,
    employees_with_two_waves,
    fit_expected_course,
)
from analysis.validation import BadInput, require_columns

SIGNAL_COLUMNS = [
    "trajectory_id",
    "signal",
    "level",
    "rule",
    "values",
    "fired_on",
    "wave",
    "current",
]
#: every signal, in the order the view lists them
SIGNALS = (
    "klik_drop",
    "reliable_deterioration",
    "low_alliance",
    "not_on_track",
    "sick_leave",
    "hours_cut",
    "contract_end",
    "missed_forms",
    "contact",
)
#: each signal's name as a person reads it: (Dutch, English)
SIGNAL_LABELS: dict[str, tuple[str, str]] = {
    "klik_drop": ("Klik gedaald", "Klik fell"),
    "reliable_deterioration": ("Betrouwbare achteruitgang", "Reliable deterioration"),
    "low_alliance": ("Lage klik", "Low alliance"),
    "not_on_track": ("Niet op koers", "Not on track"),
    "sick_leave": ("Verzuim", "Sick leave"),
    "hours_cut": ("Minder uren", "Fewer hours"),
    "contract_end": ("Contract loopt af", "Contract ends"),
    "missed_forms": ("Vragenlijst gemist", "Form missed"),
    "contact": ("Begeleiding", "Coaching"),
    "any": ("Een signaal", "Any signal"),
    "any_red": ("Een rood signaal", "Any red signal"),
}
LEVELS = ("ended", "grey", "green", "amber", "red")
ALLIANCE_ITEMS = tuple(f"all_{i:02d}" for i in range(1, 13))
CAPABILITY_FLAGS = (
    "capability_knowledge_use",
    "capability_knowledge_dev",
    "capability_income",
    "capability_relations",
    "capability_autonomy",
    "capability_contribution",
    "capability_esteem",
)
#: the scores that count as a measurement of the employee
MEASURED_SCORES = ("klik", "alliance", "capability_count")
#: a tolerance for comparisons of answers on a 1-5 scale stored as floats
EPS = 1e-9


@dataclass(frozen=True)
class Thresholds:
    """The study's signal settings (defaults from the sources in the module docstring)."""

    klik_drop_points: float = 1.0
    alliance_drop_points: float = 0.5
    reliable_change_z: float = -1.96
    alliance_alpha_floor: float = 0.80
    low_alliance_percentile: float = 10.0
    low_alliance_min_cohort: int = 10
    not_on_track_min_employees: int = 100
    sick_long_days: int = 14
    sick_spells: int = 3
    sick_spell_months: int = 12
    hours_cut_share: float = 0.20
    contract_end_weeks: int = 8
    missed_red_in_a_row: int = 2
    contact_gap_days: int = 28
    regime_shares: tuple[float, float, float] = (0.15, 0.075, 0.06)
    regime_grace_days: int = 28
    event_current_weeks: int = 8

    @classmethod
    def from_mapping(cls, settings: Mapping[str, Any] | None) -> Thresholds:
        """Thresholds from a study's stored settings; a missing key keeps its default.

        Raises
        ------
        BadInput
            For an unknown key or a value that is not a number in its range.
        """
        if not settings:
            return cls()
        known = {f.name: f for f in fields(cls)}
        values: dict[str, Any] = {}
        for key, value in settings.items():
            if key not in known:
                raise BadInput("Thresholds", key, "is not a signal setting")
            default = getattr(cls(), key)
            if isinstance(default, tuple):
                if not isinstance(value, list | tuple) or len(value) != len(default):
                    raise BadInput("Thresholds", key, f"needs {len(default)} numbers")
                values[key] = tuple(_number(key, v, float) for v in value)
            else:
                values[key] = _number(key, value, type(default))
        return cls(**values)

    def as_dict(self) -> dict[str, Any]:
        """The settings as plain JSON-able values."""
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}


def _number(key: str, value: Any, kind: type) -> Any:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise BadInput("Thresholds", key, f"must be a number, not {value!r}")
    if kind is int and value != int(value):
        raise BadInput("Thresholds", key, f"must be a whole number, not {value!r}")
    if key == "reliable_change_z":
        if value >= 0:
            raise BadInput("Thresholds", key, "must be below 0 (a fall)")
    elif value < 0:
        raise BadInput("Thresholds", key, "must not be negative")
    if key in ("alliance_alpha_floor", "hours_cut_share") and value >= 1:
        raise BadInput("Thresholds", key, "must be below 1")
    if key == "low_alliance_percentile" and not 0 < value < 100:
        raise BadInput("Thresholds", key, "must lie between 0 and 100")
    return kind(value)


@dataclass(frozen=True)
class CohortReference:
    """What the rules compare one employee with, computed from the whole study.

    Attributes
    ----------
    baseline_sd : dict
        Score -> the cohort's SD at baseline (``alliance``, ``capability_count``).
    alpha : dict
        Score -> Cronbach's alpha used as r (already floored for the alliance); None when it
        could not be estimated.
    low_alliance_cut : dict
        Wave -> the cohort's alliance percentile at that wave (waves with too few employees
        are absent).
    expected : dict
        Score -> its :class:`~analysis.expected_course.ExpectedCourse` (None when not fitted).
    employees_two_waves : int
        Employees with a baseline and a follow-up capability count.
    not_on_track_on : bool
        Whether the cohort is large enough for the not-on-track rule.
    """

    baseline_sd: dict[str, float] = field(default_factory=dict)
    alpha: dict[str, float | None] = field(default_factory=dict)
    low_alliance_cut: dict[str, float] = field(default_factory=dict)
    expected: dict[str, ExpectedCourse | None] = field(default_factory=dict)
    employees_two_waves: int = 0
    not_on_track_on: bool = False


def _employee(person_wave: pd.DataFrame, score: str) -> pd.DataFrame:
    """The employee's measured values of ``score`` on start-anchored waves, in wave order:
    trajectory_id, wave, wave_index, value, on (the day it came in)."""
    pw = person_wave[
        (person_wave["respondent"] == "employee")
        & (person_wave["score"] == score)
        & person_wave["value"].notna()
    ]
    if "anchor" in pw.columns:
        pw = pw[pw["anchor"] == "start"]
    on = pd.to_datetime(pw["submitted_at"]).dt.normalize()
    if "due_date" in pw.columns:
        on = on.fillna(pd.to_datetime(pw["due_date"]))
    out = pw.assign(on=on)[["trajectory_id", "wave", "wave_index", "value", "on"]]
    out = out.drop_duplicates(["trajectory_id", "wave_index"])
    return out.sort_values(["trajectory_id", "wave_index"], kind="stable").reset_index(drop=True)


def cohort_reference(
    person_wave: pd.DataFrame,
    items: pd.DataFrame | None = None,
    thresholds: Thresholds | None = None,
) -> CohortReference:
    """The cohort's reference values for the rules.

    Parameters
    ----------
    person_wave : DataFrame
        The whole study's scores (``analysis.frames.PERSON_WAVE``, every score kept, so the
        capability flags are there for the capability count's alpha).
    items : DataFrame, optional
        Item answers (``analysis.frames.RESPONSE_ITEMS``) for the alliance's alpha; without them
        the alliance's r is the floor.
    thresholds : Thresholds, optional
        The study's settings.
    """
    from analysis.reliability import cronbach_alpha

    th = thresholds or Thresholds()
    require_columns(
        person_wave,
        ["trajectory_id", "wave", "wave_index", "respondent", "score", "value", "submitted_at"],
        "cohort_reference",
    )
    sd: dict[str, float] = {}
    for score in ("alliance", "capability_count"):
        base = _employee(person_wave, score)
        base = base[base["wave_index"] == 0]["value"]
        if len(base) >= 2 and float(base.std(ddof=1)) > 0:
            sd[score] = float(base.std(ddof=1))
    alpha: dict[str, float | None] = {"alliance": None, "capability_count": None}
    if items is not None and not items.empty:
        first = items[(items["respondent"] == "employee") & items["item_id"].isin(ALLIANCE_ITEMS)]
        if "wave" in first.columns:
            first = first[first["wave"] == _first_wave(person_wave)]
        wide = first.pivot_table(index="response_id", columns="item_id", values="value")
        present = [i for i in ALLIANCE_ITEMS if i in wide.columns]
        alpha["alliance"] = _alpha(cronbach_alpha, wide, present)
    flags = person_wave[
        (person_wave["respondent"] == "employee")
        & (person_wave["wave_index"] == 0)
        & person_wave["score"].isin(CAPABILITY_FLAGS)
    ]
    if not flags.empty:
        wide = flags.pivot_table(index="trajectory_id", columns="score", values="value")
        present = [c for c in CAPABILITY_FLAGS if c in wide.columns]
        alpha["capability_count"] = _alpha(cronbach_alpha, wide, present)
    # the floor also stands in for an alpha the cohort is too small to estimate
    alpha["alliance"] = max(alpha["alliance"] or 0.0, th.alliance_alpha_floor)
    cuts: dict[str, float] = {}
    alliance = _employee(person_wave, "alliance")
    for wave, values in alliance.groupby("wave")["value"]:
        if len(values) >= th.low_alliance_min_cohort:
            cuts[str(wave)] = float(np.percentile(values, th.low_alliance_percentile))
    n_two = employees_with_two_waves(person_wave, "capability_count")
    expected = {
        score: fit_expected_course(person_wave, score) for score in ("capability_count", "klik")
    }
    return CohortReference(
        baseline_sd=sd,
        alpha=alpha,
        low_alliance_cut=cuts,
        expected=expected,
        employees_two_waves=n_two,
        not_on_track_on=n_two >= th.not_on_track_min_employees
        and expected["capability_count"] is not None,
    )


def _first_wave(person_wave: pd.DataFrame) -> str | None:
    first = person_wave.loc[person_wave["wave_index"] == 0, "wave"]
    return str(first.iloc[0]) if len(first) else None


def _alpha(function: Any, wide: pd.DataFrame, columns: list[str]) -> float | None:
    if len(columns) < 2:
        return None
    try:
        return float(function(wide, columns)["alpha"].iloc[0])
    except ValueError:  # too few respondents, or no spread: no alpha
        return None


def _frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    out = pd.DataFrame(rows, columns=SIGNAL_COLUMNS)
    out["fired_on"] = pd.to_datetime(out["fired_on"])
    out["current"] = out["current"].astype(bool)
    return out


def _row(
    tid: Any, signal: str, level: str, rule: str, values: dict[str, Any], on: Any, wave: Any, current: bool
) -> dict[str, Any]:  # fmt: skip
    clean = {
        k: (round(float(v), 3) if isinstance(v, float | np.floating) else v)
        for k, v in values.items()
    }
    return {
        "trajectory_id": int(tid), "signal": signal, "level": level, "rule": rule, "values": clean,
        "fired_on": pd.Timestamp(on).normalize(), "wave": None if wave is None else str(wave),
        "current": bool(current),
    }  # fmt: skip


def _latest(measured: pd.DataFrame) -> pd.Series:
    """The latest measured wave_index of each trajectory."""
    return measured.groupby("trajectory_id")["wave_index"].max()


def klik_drop(person_wave: pd.DataFrame, thresholds: Thresholds | None = None) -> pd.DataFrame:
    """The klik item fell >= ``klik_drop_points``, or the alliance mean >=
    ``alliance_drop_points``, since the previous *measured* wave (a missed wave is skipped).

    Returns
    -------
    DataFrame
        The signal columns (``SIGNAL_COLUMNS``): trajectory_id, signal, level (amber), rule
        (klik_item_drop or alliance_mean_drop), values (previous_wave, previous, latest,
        change), fired_on, wave, current.
    """
    th = thresholds or Thresholds()
    rows = []
    for score, limit, rule in (
        ("klik", th.klik_drop_points, "klik_item_drop"),
        ("alliance", th.alliance_drop_points, "alliance_mean_drop"),
    ):
        m = _employee(person_wave, score)
        if m.empty:
            continue
        latest = _latest(m)
        prev = m.groupby("trajectory_id")[["wave", "value"]].shift(1)
        change = m["value"] - prev["value"]
        hit = change <= -limit + EPS
        for i in np.flatnonzero(hit.to_numpy()):
            r = m.iloc[i]
            rows.append(_row(
                r["trajectory_id"], "klik_drop", "amber", rule,
                {"previous_wave": prev["wave"].iloc[i], "previous": prev["value"].iloc[i],
                 "latest": r["value"], "change": change.iloc[i]},
                r["on"], r["wave"], r["wave_index"] == latest[r["trajectory_id"]],
            ))  # fmt: skip
    return _frame(rows)


def reliable_change(value: float, baseline: float, baseline_sd: float, reliability: float) -> float:
    """Jacobson & Truax's reliable change index (x_t - x_0) / (s_0 * sqrt(2 (1 - r)))."""
    if not 0 <= reliability < 1:
        raise BadInput(
            "reliable_change", None, f"reliability must lie in [0, 1), not {reliability}"
        )
    if not baseline_sd > 0:
        raise BadInput(
            "reliable_change", None, f"the baseline SD must be above 0, not {baseline_sd}"
        )
    return (value - baseline) / (baseline_sd * math.sqrt(2 * (1 - reliability)))


def reliable_deterioration(
    person_wave: pd.DataFrame, reference: CohortReference, thresholds: Thresholds | None = None
) -> pd.DataFrame:
    """RC <= ``reliable_change_z`` against the employee's own baseline (red), for the alliance
    and the capability count; a score whose cohort SD or alpha is unknown is not judged, and
    an employee without a baseline is not judged.

    Returns
    -------
    DataFrame
        The signal columns: level red, rule rc_alliance or rc_capability_count, values
        (baseline, latest, rc, s0, r).
    """
    th = thresholds or Thresholds()
    rows = []
    for score in ("alliance", "capability_count"):
        s0, r = reference.baseline_sd.get(score), reference.alpha.get(score)
        if s0 is None or r is None or not 0 <= r < 1:
            continue
        m = _employee(person_wave, score)
        if m.empty:
            continue
        base = m[m["wave_index"] == 0].set_index("trajectory_id")["value"]
        later = m[(m["wave_index"] > 0) & m["trajectory_id"].isin(base.index)]
        latest = _latest(m)
        for row in later.itertuples(index=False):
            rc = reliable_change(row.value, base[row.trajectory_id], s0, r)
            if rc <= th.reliable_change_z + EPS:
                rows.append(_row(
                    row.trajectory_id, "reliable_deterioration", "red", f"rc_{score}",
                    {"baseline": base[row.trajectory_id], "latest": row.value, "rc": rc, "s0": s0, "r": r},
                    row.on, row.wave, row.wave_index == latest[row.trajectory_id],
                ))  # fmt: skip
    return _frame(rows)


def low_alliance(person_wave: pd.DataFrame, reference: CohortReference) -> pd.DataFrame:
    """The alliance strictly below the cohort's percentile at the same wave (amber); a value
    equal to the cut does not fire, and waves without a cut are not judged.

    Returns
    -------
    DataFrame
        The signal columns: level amber, rule below_cohort_p10, values (alliance, cut).
    """
    m = _employee(person_wave, "alliance")
    rows = []
    if m.empty:
        return _frame(rows)
    latest = _latest(m)
    for row in m.itertuples(index=False):
        cut = reference.low_alliance_cut.get(str(row.wave))
        if cut is not None and row.value < cut - EPS:
            rows.append(_row(
                row.trajectory_id, "low_alliance", "amber", "below_cohort_p10",
                {"alliance": row.value, "cut": cut}, row.on, row.wave,
                row.wave_index == latest[row.trajectory_id],
            ))  # fmt: skip
    return _frame(rows)


def not_on_track(person_wave: pd.DataFrame, reference: CohortReference) -> pd.DataFrame:
    """The capability count against its expected course: red below the expected 10th
    percentile, amber below the 25th. Off until the cohort is large enough
    (``reference.not_on_track_on``).

    Returns
    -------
    DataFrame
        The signal columns: rule below_expected_p10 or below_expected_p25, values (baseline,
        latest, expected, z).
    """
    course = reference.expected.get("capability_count")
    rows: list[dict[str, Any]] = []
    if not reference.not_on_track_on or course is None:
        return _frame(rows)
    m = _employee(person_wave, "capability_count")
    if m.empty:
        return _frame(rows)
    base = m[m["wave_index"] == 0].set_index("trajectory_id")["value"]
    latest = _latest(m)
    for row in m[(m["wave_index"] > 0) & m["trajectory_id"].isin(base.index)].itertuples(
        index=False
    ):
        z = course.z(row.value, base[row.trajectory_id], str(row.wave))
        if not np.isfinite(z) or z >= Z25:
            continue
        red = z < Z10
        rows.append(_row(
            row.trajectory_id, "not_on_track", "red" if red else "amber",
            "below_expected_p10" if red else "below_expected_p25",
            {"baseline": base[row.trajectory_id], "latest": row.value,
             "expected": course.expected(base[row.trajectory_id], str(row.wave)), "z": z},
            row.on, row.wave, row.wave_index == latest[row.trajectory_id],
        ))  # fmt: skip
    return _frame(rows)


def _events(events: pd.DataFrame, kinds: tuple[str, ...], as_of: dt.date) -> pd.DataFrame:
    require_columns(events, ["trajectory_id", "event_date", "kind"], "signals")
    ev = events[events["kind"].isin(kinds)].copy()
    ev["event_date"] = pd.to_datetime(ev["event_date"])
    ev = ev[ev["event_date"] <= pd.Timestamp(as_of)]
    return ev.sort_values(["trajectory_id", "event_date"], kind="stable").reset_index(drop=True)


def sick_spells(events: pd.DataFrame, as_of: dt.date) -> pd.DataFrame:
    """Sick-leave spells from start and end events: trajectory_id, start, end (NaT while
    open), days (to the end, or to ``as_of`` while open). An end without a start is ignored;
    a second start while a spell is open continues that spell."""
    ev = _events(events, ("sick_leave_start", "sick_leave_end"), as_of)
    rows = []
    for tid, group in ev.groupby("trajectory_id", sort=True):
        start = None
        for e in group.itertuples(index=False):
            if e.kind == "sick_leave_start" and start is None:
                start = e.event_date
            elif e.kind == "sick_leave_end" and start is not None:
                rows.append((tid, start, e.event_date))
                start = None
        if start is not None:
            rows.append((tid, start, pd.NaT))
    out = pd.DataFrame(rows, columns=["trajectory_id", "start", "end"])
    out["start"] = pd.to_datetime(out["start"])
    out["end"] = pd.to_datetime(out["end"])
    stop = out["end"].fillna(pd.Timestamp(as_of))
    return out.assign(days=(stop - out["start"]).dt.days.astype(int))


def sick_leave(
    events: pd.DataFrame, as_of: dt.date, thresholds: Thresholds | None = None
) -> pd.DataFrame:
    """A reported spell (amber, current while open); red when a spell lasts more than
    ``sick_long_days`` (fired the day it passed that) or when ``sick_spells`` spells started
    within ``sick_spell_months`` (current for ``event_current_weeks`` after the last of them).

    Returns
    -------
    DataFrame
        The signal columns: rule sick_reported, sick_long or sick_repeated; values (start,
        days) or (spells, months).
    """
    th = thresholds or Thresholds()
    spells = sick_spells(events, as_of)
    rows = []
    for s in spells.itertuples(index=False):
        is_open = pd.isna(s.end)
        rows.append(_row(s.trajectory_id, "sick_leave", "amber", "sick_reported",
                         {"start": s.start.date().isoformat(), "days": s.days}, s.start, None,
                         is_open))  # fmt: skip
        if s.days > th.sick_long_days:
            rows.append(_row(s.trajectory_id, "sick_leave", "red", "sick_long",
                             {"start": s.start.date().isoformat(), "days": s.days},
                             s.start + pd.Timedelta(days=th.sick_long_days + 1), None,
                             is_open))  # fmt: skip
    window = pd.DateOffset(months=th.sick_spell_months)
    for tid, group in spells.groupby("trajectory_id", sort=True):
        starts = list(group["start"])
        for i in range(th.sick_spells - 1, len(starts)):
            if starts[i] < starts[i - th.sick_spells + 1] + window:
                since = starts[i - th.sick_spells + 1]
                rows.append(_row(tid, "sick_leave", "red", "sick_repeated",
                                 {"spells": th.sick_spells, "months": th.sick_spell_months,
                                  "since": since.date().isoformat()},
                                 starts[i], None, _recent(starts[i], as_of, th)))  # fmt: skip
                break
    return _frame(rows)


def _recent(on: pd.Timestamp, as_of: dt.date, th: Thresholds) -> bool:
    return pd.Timestamp(as_of) - on < pd.Timedelta(weeks=th.event_current_weeks)


def hours_cut(
    trajectories: pd.DataFrame,
    events: pd.DataFrame,
    as_of: dt.date,
    thresholds: Thresholds | None = None,
) -> pd.DataFrame:
    """Contract hours cut by >= ``hours_cut_share`` against the hours before (the contract
    hours at the start, then each recorded change); amber, current for
    ``event_current_weeks``.

    Returns
    -------
    DataFrame
        The signal columns: rule hours_cut, values (before, after, share).
    """
    th = thresholds or Thresholds()
    require_columns(trajectories, ["trajectory_id", "contract_hours"], "hours_cut")
    ev = _events(events, ("hours_change",), as_of)
    ev = ev[ev["hours"].notna()] if "hours" in ev.columns else ev.iloc[0:0]
    start_hours = trajectories.set_index("trajectory_id")["contract_hours"]
    rows = []
    for tid, group in ev.groupby("trajectory_id", sort=True):
        before = float(start_hours.get(tid, np.nan))
        for e in group.itertuples(index=False):
            after = float(e.hours)
            if before > 0 and (before - after) / before >= th.hours_cut_share - EPS:
                rows.append(_row(tid, "hours_cut", "amber", "hours_cut",
                                 {"before": before, "after": after, "share": (before - after) / before},
                                 e.event_date, None, _recent(e.event_date, as_of, th)))  # fmt: skip
            before = after
    return _frame(rows)


def contract_end(
    trajectories: pd.DataFrame, as_of: dt.date, thresholds: Thresholds | None = None
) -> pd.DataFrame:
    """A contract (or a trial placement, ``employment_form`` proefplaatsing) that ends within
    ``contract_end_weeks`` of ``as_of``; amber, fired that many weeks before the end. Needs a
    ``contract_end_date`` column; trajectories that already ended are not judged.

    Returns
    -------
    DataFrame
        The signal columns: rule contract_ends or trial_ends, values (ends_on, days_left).
    """
    th = thresholds or Thresholds()
    rows: list[dict[str, Any]] = []
    if "contract_end_date" not in trajectories.columns:
        return _frame(rows)
    today = pd.Timestamp(as_of)
    ends = pd.to_datetime(trajectories["contract_end_date"])
    ended = pd.to_datetime(
        trajectories.get("end_date", pd.Series(pd.NaT, index=trajectories.index))
    )
    lead = pd.Timedelta(weeks=th.contract_end_weeks)
    for i in np.flatnonzero((ends.notna() & (ends - lead <= today)).to_numpy()):
        r = trajectories.iloc[i]
        end = ends.iloc[i]
        stopped = pd.notna(ended.iloc[i]) and ended.iloc[i] <= today
        trial = r.get("employment_form") == "proefplaatsing"
        rows.append(_row(r["trajectory_id"], "contract_end", "amber",
                         "trial_ends" if trial else "contract_ends",
                         {"ends_on": end.date().isoformat(), "days_left": int((end - today).days)},
                         end - lead, None, end >= today and not stopped))  # fmt: skip
    return _frame(rows)


def missed_forms(person_wave: pd.DataFrame, thresholds: Thresholds | None = None) -> pd.DataFrame:
    """The employee's forms that counted as missed: amber for one, red for
    ``missed_red_in_a_row`` in a row (waves still open or cancelled do not break or extend a
    run). Current while no later form of the employee came in.

    Returns
    -------
    DataFrame
        The signal columns: rule missed_one or missed_in_a_row, values (in_a_row).
    """
    th = thresholds or Thresholds()
    require_columns(
        person_wave, ["trajectory_id", "wave", "wave_index", "respondent", "status"], "missed_forms"
    )
    pw = person_wave[person_wave["respondent"] == "employee"]
    if "anchor" in pw.columns:
        pw = pw[pw["anchor"] == "start"]
    pw = pw[pw["status"].isin(["on_time", "late", "missing"])]
    cols = ["trajectory_id", "wave", "wave_index", "status"] + [
        c for c in ("due_date", "closes_on") if c in pw.columns
    ]
    waves = (
        pw[cols]
        .drop_duplicates(["trajectory_id", "wave_index"])
        .sort_values(["trajectory_id", "wave_index"])
    )
    waves = waves.reset_index(drop=True)
    missing = waves["status"] == "missing"
    # a run of missed forms: consecutive missing rows between two forms that came in
    run_id = (~missing).groupby(waves["trajectory_id"]).cumsum()
    run = missing.astype(int).groupby([waves["trajectory_id"], run_id]).cumsum()
    last = waves["wave_index"] == waves.groupby("trajectory_id")["wave_index"].transform("max")
    on = pd.Series(pd.NaT, index=waves.index, dtype="datetime64[ns]")
    for col in ("closes_on", "due_date"):
        if col in waves.columns:
            on = on.fillna(pd.to_datetime(waves[col]))
    hit = waves[missing]
    red = run[missing] >= th.missed_red_in_a_row
    out = pd.DataFrame(
        {
            "trajectory_id": hit["trajectory_id"].astype("int64"),
            "signal": "missed_forms",
            "level": np.where(red, "red", "amber"),
            "rule": np.where(red, "missed_in_a_row", "missed_one"),
            "values": [{"in_a_row": int(n)} for n in run[missing]],
            "fired_on": on[missing].dt.normalize(),
            "wave": hit["wave"].astype(str),
            "current": last[missing].astype(bool),
        },
        columns=SIGNAL_COLUMNS,
    )
    return out.reset_index(drop=True) if not out.empty else _frame([])


def _worked_curve(
    start: int, hours: float, changes: list[tuple[int, float]]
) -> tuple[np.ndarray, np.ndarray]:
    """Breakpoints (days) and hours worked up to each: the integral of the weekly hours, which
    is piecewise linear, so any day's hours worked follow by linear interpolation."""
    days, worked, rate, total, at = [start], [0.0], hours, 0.0, start
    for day, new in sorted(changes):
        if day <= at:
            rate = new
            continue
        total += (day - at) / 7 * rate
        days.append(day)
        worked.append(total)
        at, rate = day, new
    # extend the last rate far ahead, so interpolation beyond the last change stays linear
    days.append(at + 100_000)
    worked.append(total + 100_000 / 7 * rate)
    return np.asarray(days, dtype=float), np.asarray(worked)


def _day_numbers(values: Any) -> np.ndarray:
    return pd.to_datetime(values).to_numpy().astype("datetime64[D]").astype(np.int64)


def contact(
    trajectories: pd.DataFrame,
    contacts: pd.DataFrame,
    events: pd.DataFrame,
    as_of: dt.date,
    thresholds: Thresholds | None = None,
) -> pd.DataFrame:
    """No coaching contact for more than ``contact_gap_days`` in the first year (amber), and
    coaching hours above the UWV regime: ``regime_shares`` of the hours worked in years 1, 2
    and 3 of the trajectory (amber; judged only after ``regime_grace_days`` of a year, since
    placement work front-loads the first weeks).

    Returns
    -------
    DataFrame
        The signal columns: rule no_contact (values: days, last_contact) or above_regime
        (values: year, coaching_hours, worked_hours, share, limit).
    """
    th = thresholds or Thresholds()
    require_columns(trajectories, ["trajectory_id", "start_date", "contract_hours"], "contact")
    require_columns(contacts, ["trajectory_id", "date", "minutes"], "contact")
    today = int(_day_numbers([as_of])[0])
    c = contacts[["trajectory_id", "date", "minutes"]].copy()
    c["day"] = _day_numbers(c["date"]) if len(c) else np.array([], dtype=np.int64)
    c = c[c["day"] <= today].sort_values(["trajectory_id", "day"], kind="stable")
    by_tid = {
        int(tid): (g["day"].to_numpy(), g["minutes"].to_numpy(dtype=float) / 60)
        for tid, g in c.groupby("trajectory_id", sort=False)
    }
    hours_ev = _events(events, ("hours_change",), as_of)
    if "hours" in hours_ev.columns:
        hours_ev = hours_ev[hours_ev["hours"].notna()]
    changes_of = {
        int(tid): list(
            zip(_day_numbers(g["event_date"]).tolist(), g["hours"].astype(float), strict=True)
        )
        for tid, g in hours_ev.groupby("trajectory_id", sort=False)
    }
    starts = _day_numbers(trajectories["start_date"])
    ends = (
        trajectories["end_date"]
        if "end_date" in trajectories.columns
        else pd.Series(pd.NaT, index=trajectories.index)
    )
    end_days = np.where(pd.notna(ends), _day_numbers(ends.fillna(pd.Timestamp(as_of))), today)
    epoch = np.datetime64("1970-01-01", "D")
    day_of = lambda n: pd.Timestamp(epoch + np.timedelta64(int(n), "D"))  # noqa: E731
    gap, grace = th.contact_gap_days, th.regime_grace_days
    recent = th.event_current_weeks * 7
    rows = []
    for i, t in enumerate(trajectories.itertuples(index=False)):
        start = int(starts[i])
        if start > today:
            continue
        tid = int(t.trajectory_id)
        stop = int(min(today, end_days[i]))
        days, hours = by_tid.get(tid, (np.array([], dtype=np.int64), np.array([])))
        inside = (days >= start) & (days <= stop)
        marks = np.concatenate([[start], days[inside], [stop]])
        prev, nxt = marks[:-1], marks[1:]
        fire = prev + gap + 1
        hit = np.flatnonzero((nxt - prev > gap) & (fire < start + 365) & (fire <= stop))
        for j in hit:
            current = j == len(prev) - 1 and stop == today
            last_contact = day_of(prev[j]).date().isoformat() if j > 0 else None
            rows.append(_row(tid, "contact", "amber", "no_contact",
                             {"days": int(nxt[j] - prev[j]), "last_contact": last_contact},
                             day_of(fire[j]), None, current))  # fmt: skip
        if not len(days):
            continue
        curve_days, curve_worked = _worked_curve(
            start, float(t.contract_hours), changes_of.get(tid, [])
        )
        for year, share in enumerate(th.regime_shares, start=1):
            y0 = start + 365 * (year - 1)
            y1 = y0 + 365
            sel = (days >= y0) & (days < y1) & (days <= stop)
            if not sel.any():
                continue
            d, spent = days[sel], np.cumsum(hours[sel])
            judged_to = np.maximum(d + 1, y0 + grace)
            worked = np.interp(judged_to, curve_days, curve_worked) - np.interp(
                y0, curve_days, curve_worked
            )
            over = np.flatnonzero((worked > 0) & (spent > share * worked + EPS))
            if len(over):
                k = over[0]
                current = today < y1 and stop == today and today - d[k] < recent
                rows.append(_row(tid, "contact", "amber", "above_regime",
                                 {"year": year, "coaching_hours": float(spent[k]), "worked_hours": float(worked[k]),
                                  "share": float(spent[k] / worked[k]), "limit": share},
                                 day_of(d[k]), None, current))  # fmt: skip
    return _frame(rows)


def all_signals(
    *,
    person_wave: pd.DataFrame,
    trajectories: pd.DataFrame,
    events: pd.DataFrame,
    contacts: pd.DataFrame,
    reference: CohortReference,
    as_of: dt.date,
    thresholds: Thresholds | None = None,
) -> pd.DataFrame:
    """Every rule's firings for the trajectories in ``trajectories``, in one frame.

    Rows of trajectories not in ``trajectories`` (e.g. another jobcoach's, when the frames
    hold more) are dropped.

    Returns
    -------
    DataFrame
        ``SIGNAL_COLUMNS``: trajectory_id, signal, level (amber or red), rule, values (dict of
        what the rule fired on), fired_on, wave (None for event rules), current.
    """
    th = thresholds or Thresholds()
    parts = [
        klik_drop(person_wave, th),
        reliable_deterioration(person_wave, reference, th),
        low_alliance(person_wave, reference),
        not_on_track(person_wave, reference),
        sick_leave(events, as_of, th),
        hours_cut(trajectories, events, as_of, th),
        contract_end(trajectories, as_of, th),
        missed_forms(person_wave, th),
        contact(trajectories, contacts, events, as_of, th),
    ]
    out = pd.concat([p for p in parts if not p.empty] or [_frame([])], ignore_index=True)
    out = out[out["trajectory_id"].isin(trajectories["trajectory_id"])]
    out = out[out["fired_on"] <= pd.Timestamp(as_of)]
    if "end_date" in trajectories.columns:
        # a trajectory that has ended needs no conversation prompts: its signals are history
        ends = pd.to_datetime(trajectories["end_date"])
        ended = trajectories.loc[ends.notna() & (ends <= pd.Timestamp(as_of)), "trajectory_id"]
        out = out.assign(current=out["current"] & ~out["trajectory_id"].isin(ended))
    order = {s: i for i, s in enumerate(SIGNALS)}
    out = out.assign(_o=out["signal"].map(order)).sort_values(
        ["trajectory_id", "_o", "fired_on"], kind="stable"
    )
    return out.drop(columns="_o").reset_index(drop=True)


def measurements(person_wave: pd.DataFrame) -> pd.Series:
    """Measured waves of each employee (waves with a klik, alliance or capability score)."""
    pw = person_wave[
        (person_wave["respondent"] == "employee")
        & person_wave["score"].isin(MEASURED_SCORES)
        & person_wave["value"].notna()
    ]
    if "anchor" in pw.columns:
        pw = pw[pw["anchor"] == "start"]
    return pw.groupby("trajectory_id")["wave_index"].nunique()


def caseload(
    trajectory_ids: list[int] | pd.Series,
    signals: pd.DataFrame,
    person_wave: pd.DataFrame,
    seen: pd.DataFrame | None = None,
    ended: list[int] | pd.Series | None = None,
) -> pd.DataFrame:
    """One traffic light per client, most urgent first.

    The light is the worst current signal not yet marked seen; green when there is none;
    grey when the employee has fewer than two measurements and nothing else fired (no trend
    can be judged yet). Ties keep the more red signals, then the more amber ones, then the
    oldest unseen signal first.

    Parameters
    ----------
    seen : DataFrame, optional
        Acknowledged signals: trajectory_id, signal, rule, fired_on.
    ended : list of int, optional
        Trajectories that have ended: their light is ``ended`` and they come last.

    Returns
    -------
    DataFrame
        trajectory_id, light (ended, grey, green, amber, red), n_red, n_amber, n_seen, measurements,
        oldest (the oldest unseen current signal's day, NaT if none).
    """
    ids = pd.Series(list(trajectory_ids), dtype="int64", name="trajectory_id")
    cur = mark_seen(signals[signals["current"]], seen)
    unseen = cur[~cur["seen"]]

    def per_client(rows: pd.DataFrame) -> np.ndarray:
        sizes = rows.groupby("trajectory_id").size() if not rows.empty else pd.Series(dtype=int)
        return sizes.reindex(ids).fillna(0).astype(int).to_numpy()

    n_red = per_client(unseen[unseen["level"] == "red"])
    n_amber = per_client(unseen[unseen["level"] == "amber"])
    n_seen = per_client(cur[cur["seen"]])
    n_meas = measurements(person_wave).reindex(ids).fillna(0).astype(int).to_numpy()
    oldest = (
        unseen.groupby("trajectory_id")["fired_on"].min()
        if not unseen.empty
        else pd.Series(dtype="datetime64[ns]")
    )
    light = np.where(
        n_red > 0, "red", np.where(n_amber > 0, "amber", np.where(n_meas < 2, "grey", "green"))
    )
    out = pd.DataFrame(
        {
            "trajectory_id": ids,
            "light": light,
            "n_red": n_red,
            "n_amber": n_amber,
            "n_seen": n_seen,
            "measurements": n_meas,
            "oldest": pd.to_datetime(oldest.reindex(ids).to_numpy()),
        }
    )
    if ended is not None:
        out.loc[out["trajectory_id"].isin(list(ended)), "light"] = "ended"
    rank = out["light"].map({"red": 0, "amber": 1, "green": 2, "grey": 3, "ended": 4})
    out = out.assign(_r=rank).sort_values(
        ["_r", "n_red", "n_amber", "oldest", "trajectory_id"],
        ascending=[True, False, False, True, True],
        na_position="last",
        kind="stable",
    )
    return out.drop(columns="_r").reset_index(drop=True)


def signal_key(frame: pd.DataFrame) -> pd.Series:
    """The key that identifies one firing across computations: trajectory, signal, rule, day."""
    return (
        frame["trajectory_id"].astype(str)
        + "|" + frame["signal"] + "|" + frame["rule"]
        + "|" + pd.to_datetime(frame["fired_on"]).dt.strftime("%Y-%m-%d")
    )  # fmt: skip


def mark_seen(signals: pd.DataFrame, seen: pd.DataFrame | None) -> pd.DataFrame:
    """``signals`` with a ``seen`` column: True for firings acknowledged in ``seen``
    (trajectory_id, signal, rule, fired_on)."""
    if signals.empty:
        return signals.assign(seen=pd.Series([], dtype=bool))
    if seen is None or seen.empty:
        return signals.assign(seen=False)
    return signals.assign(seen=signal_key(signals).isin(set(signal_key(seen))))
