"""Contracts of the tidy frames that feed every analysis.

The read models turn the database into these frames; the analysis functions take them. Each
contract is a tuple of :class:`Column` (name, kind, meaning). A frame may carry extra columns; it
must carry every column of its contract with a compatible dtype. :func:`validate_frame` checks
that and raises a ``ValueError`` naming every problem at once.

Kinds
-----
``int``       integer dtype (nullable ``Int64`` allowed); with ``nullable=True`` a float column
              holding whole numbers and NaN is also accepted.
``float``     any real numeric dtype (integers are accepted and are exact as floats).
``bool``      boolean dtype (nullable ``boolean`` allowed).
``str``       object/string/categorical dtype holding strings (None/NaN allowed when nullable).
``datetime``  ``datetime64`` (timezone-naive or aware).
``any``       anything; documented only.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import pandas as pd
from pandas.api import types as pdt

from analysis.validation import BadInput

__all__ = [
    "CONTACTS",
    "COST_PARAMETER_KEYS",
    "COUNTING_PROCESS",
    "END_REASONS",
    "END_TYPES",
    "FRAMES",
    "PERSON_WAVE",
    "RESPONDENTS",
    "RESPONSE_ITEMS",
    "STATUSES",
    "SURVIVAL",
    "TRAJECTORIES",
    "Column",
    "FrameSpec",
    "person_wave_wide",
    "validate_frame",
]

END_REASONS: tuple[str, ...] = ("working_independently", "job_loss", "dropout", "moved", "other")
"""Why a trajectory ended; competing outcomes."""

END_TYPES: tuple[str, ...] = ("censored", *END_REASONS)
"""Values of ``SURVIVAL.end_type``."""

STATUSES: tuple[str, ...] = ("on_time", "late", "missing", "open", "cancelled")
"""Values of ``PERSON_WAVE.status``."""

RESPONDENTS: tuple[str, ...] = ("employee", "jobcoach", "employer")
"""Values of the ``respondent`` columns."""

COST_PARAMETER_KEYS: tuple[str, ...] = (
    "jobcoach_tariff",
    "internal_coach_hour_cost",
    "internal_coach_subsidy",
    "wml_month",
    "holiday_pay",
    "full_time_hours",
    "employer_cost_share",
    "lks_cap",
    "bijstand_norm_single",
    "bijstand_disregard_share",
    "bijstand_disregard_cap",
    "bijstand_disregard_months",
    "wajong_share_wml",
    "noriskpolis_share",
    "leisure_value_share",
    "discount_rate",
    "effect_duration_years",
)
"""Keys every cost-parameter table must hold (``analysis.costs``); others may be added."""


@dataclass(frozen=True)
class Column:
    """One column of a frame contract.

    Parameters
    ----------
    name : str
        Column name.
    kind : str
        One of ``int``, ``float``, ``bool``, ``str``, ``datetime``, ``any``.
    meaning : str
        What the column holds, in words.
    nullable : bool
        Whether missing values (NaN, NaT, None, pd.NA) are allowed.
    allowed : tuple of str, optional
        For ``str`` columns: the permitted values (missing values aside).
    """

    name: str
    kind: str
    meaning: str
    nullable: bool = False
    allowed: tuple[str, ...] | None = None


@dataclass(frozen=True)
class FrameSpec:
    """A named frame contract: a tuple of columns and what one row is."""

    name: str
    row: str
    columns: tuple[Column, ...]

    @property
    def names(self) -> list[str]:
        """Column names in contract order."""
        return [c.name for c in self.columns]

    def describe(self) -> pd.DataFrame:
        """The contract as a table with columns name, kind, nullable, meaning."""
        return pd.DataFrame(
            [(c.name, c.kind, c.nullable, c.meaning) for c in self.columns],
            columns=["name", "kind", "nullable", "meaning"],
        )

    def empty(self) -> pd.DataFrame:
        """An empty frame with the contract's columns and canonical dtypes."""
        dtypes = {
            "int": "int64",
            "float": "float64",
            "bool": "bool",
            "str": "object",
            "datetime": "datetime64[ns]",
            "any": "object",
        }
        out = {}
        for c in self.columns:
            dtype = dtypes[c.kind]
            if c.kind == "int" and c.nullable:
                dtype = "Int64"
            if c.kind == "bool" and c.nullable:
                dtype = "boolean"
            out[c.name] = pd.Series([], dtype=dtype)
        return pd.DataFrame(out)


_BASELINE: tuple[Column, ...] = (
    Column("baseline_alliance", "float", "Alliance (WAI-SR mean, 1-5) at T0", nullable=True),
    Column("baseline_klik", "float", "Employee-rated klik at T0", nullable=True),
    Column("baseline_match_quality", "float", "Person-job fit at T0", nullable=True),
    Column(
        "baseline_capability_count",
        "float",
        "Capability Set for Work count (0-7) at T0",
        nullable=True,
    ),
    Column(
        "contact_minutes_per_month",
        "float",
        "Coaching intensity: contact minutes per month over the first 3 months",
        nullable=True,
    ),
    Column("n_contacts", "int", "Number of coaching contacts logged (whole trajectory)"),
)

TRAJECTORIES = FrameSpec(
    name="trajectories",
    row="one coaching trajectory (traject)",
    columns=(
        Column("trajectory_id", "int", "Trajectory key"),
        Column("study_code", "str", "Pseudonymous study code of the employee"),
        Column("jobcoach_id", "int", "Jobcoach key"),
        Column("organisation_id", "int", "Jobcoach organisation key", nullable=True),
        Column("employer_id", "int", "Employer key"),
        Column("start_date", "datetime", "Start of the trajectory"),
        Column("end_date", "datetime", "End of the trajectory; NaT while open", nullable=True),
        Column("end_reason", "str", "Why the trajectory ended", nullable=True, allowed=END_REASONS),
        Column("funder", "str", "UWV, gemeente, werkgever, ...", nullable=True),
        Column("employment_form", "str", "Begeleid werken, detachering, ...", nullable=True),
        Column("contract_hours", "float", "Contract hours per week", nullable=True),
        Column("loonwaarde", "float", "Wage value, % of a standard worker", nullable=True),
        Column("maatje", "bool", "Buddy colleague present", nullable=True),
        Column("method", "str", "Coaching method (SE, IPS, IVB, ...)", nullable=True),
        Column(
            "coach_type",
            "str",
            "Internal or external jobcoach",
            nullable=True,
            allowed=("internal", "external"),
        ),
        Column("benefit", "str", "Wajong, Wsw, bijstand, WIA/WGA, WW, none", nullable=True),
        Column("gender", "str", "Gender", nullable=True),
        Column("birth_year", "int", "Birth year", nullable=True),
        Column("age_at_start", "int", "Age in whole years at the start date", nullable=True),
        *_BASELINE,
    ),
)

PERSON_WAVE = FrameSpec(
    name="person_wave",
    row="one score of one respondent at one wave of one trajectory (long over scores)",
    columns=(
        Column("trajectory_id", "int", "Trajectory key"),
        Column("jobcoach_id", "int", "Jobcoach key"),
        Column("wave", "str", "Wave label (T0, T1, ...)"),
        Column("wave_index", "int", "Wave order, 0 = baseline"),
        Column("months", "float", "Months since start at the wave's due date"),
        Column("respondent", "str", "Who answers", allowed=RESPONDENTS),
        Column("instrument_id", "str", "Instrument identifier"),
        Column("status", "str", "Response status of the invitation", allowed=STATUSES),
        Column("submitted_at", "datetime", "Submission time; NaT if none", nullable=True),
        Column(
            "score",
            "str",
            "Score identifier (e.g. klik, capability_count); null when nothing was scored",
            nullable=True,
        ),
        Column("value", "float", "Score value; NaN when missing", nullable=True),
    ),
)

SURVIVAL = FrameSpec(
    name="survival",
    row="one trajectory, time to job loss",
    columns=(
        Column("trajectory_id", "int", "Trajectory key"),
        Column("jobcoach_id", "int", "Jobcoach key"),
        Column("duration_days", "float", "Days from start to end or censoring (> 0)"),
        Column("event", "int", "1 = job loss at duration_days, 0 = censored"),
        Column("end_type", "str", "Censored or the end reason", allowed=END_TYPES),
        *_BASELINE,
    ),
)

COUNTING_PROCESS = FrameSpec(
    name="counting_process",
    row="one interval (start, stop] of one trajectory between waves",
    columns=(
        Column("trajectory_id", "int", "Trajectory key"),
        Column("jobcoach_id", "int", "Jobcoach key"),
        Column("start", "float", "Interval start, days since trajectory start"),
        Column("stop", "float", "Interval stop, days since trajectory start (> start)"),
        Column("event", "int", "1 = job loss at stop"),
        Column("alliance_lag", "float", "Alliance at the previous wave", nullable=True),
        Column("klik_lag", "float", "Klik at the previous wave", nullable=True),
        Column(
            "intensity_lag",
            "float",
            "Contact minutes per month in the previous interval",
            nullable=True,
        ),
        Column("match_quality_lag", "float", "Match quality at the previous wave", nullable=True),
    ),
)

CONTACTS = FrameSpec(
    name="contacts",
    row="one coaching contact",
    columns=(
        Column("trajectory_id", "int", "Trajectory key"),
        Column("date", "datetime", "Date of the contact"),
        Column("minutes", "float", "Duration in minutes"),
        Column("mode", "str", "on_site, phone, video, email", nullable=True),
        Column("with_whom", "str", "employee, supervisor, colleagues, several", nullable=True),
        Column("activity", "str", "Task category (Regioplan 2014)", nullable=True),
    ),
)

RESPONSE_ITEMS = FrameSpec(
    name="response_items",
    row="one item answer of one submitted response (for reliability)",
    columns=(
        Column("response_id", "int", "Response key"),
        Column("trajectory_id", "int", "Trajectory key"),
        Column("wave", "str", "Wave label"),
        Column("respondent", "str", "Who answered", allowed=RESPONDENTS),
        Column("instrument_id", "str", "Instrument identifier"),
        Column("item_id", "str", "Item identifier"),
        Column("value", "float", "Numeric answer (already reverse-keyed if so scored)", True),
    ),
)

FRAMES: dict[str, FrameSpec] = {
    s.name: s
    for s in (TRAJECTORIES, PERSON_WAVE, SURVIVAL, COUNTING_PROCESS, CONTACTS, RESPONSE_ITEMS)
}
"""All contracts by name."""


def _kind_ok(series: pd.Series, col: Column) -> bool:
    dtype = series.dtype
    if col.kind == "any":
        return True
    if col.kind == "int":
        if pdt.is_integer_dtype(dtype) and not pdt.is_bool_dtype(dtype):
            return True
        if col.nullable and pdt.is_float_dtype(dtype):
            present = series.dropna()
            return bool((present == present.round()).all())
        return False
    if col.kind == "float":
        return pdt.is_numeric_dtype(dtype) and not pdt.is_bool_dtype(dtype)
    if col.kind == "bool":
        if pdt.is_bool_dtype(dtype):
            return True
        if pdt.is_object_dtype(dtype):
            return pdt.infer_dtype(series, skipna=True) in ("boolean", "empty")
        return False
    if col.kind == "str":
        if isinstance(dtype, pd.CategoricalDtype):
            present = pd.Series(dtype.categories)
        elif pdt.is_string_dtype(dtype) or pdt.is_object_dtype(dtype):
            present = series.dropna()
        else:
            # an all-missing float column is what pandas makes of a column of None
            return col.nullable and bool(series.isna().all())
        # one pass in C over the values, not a Python call per value
        return pdt.infer_dtype(present, skipna=True) in ("string", "empty")
    if col.kind == "datetime":
        if pdt.is_datetime64_any_dtype(dtype):
            return True
        return col.nullable and bool(series.isna().all())
    raise ValueError(f"unknown column kind {col.kind!r}")


def validate_frame(
    frame: pd.DataFrame, spec: FrameSpec, *, extra: Iterable[str] = ()
) -> pd.DataFrame:
    """Check a frame against its contract and return it unchanged.

    Parameters
    ----------
    frame : DataFrame
        The frame to check.
    spec : FrameSpec
        The contract (e.g. ``TRAJECTORIES``).
    extra : iterable of str
        Further column names that must be present (e.g. covariates an analysis needs).

    Returns
    -------
    DataFrame
        ``frame`` itself, so the call can be chained.

    Raises
    ------
    analysis.validation.BadInput
        A ``ValueError`` listing every missing column, wrong dtype, unexpected missing value and
        value outside the allowed set.
    """
    if not isinstance(frame, pd.DataFrame):
        raise BadInput(spec.name, None, f"expects a pandas DataFrame, got {type(frame).__name__}")
    problems: list[str] = []
    missing = [c.name for c in spec.columns if c.name not in frame.columns]
    missing += [name for name in extra if name not in frame.columns]
    if missing:
        problems.append(f"missing columns: {', '.join(repr(c) for c in missing)}")
    for col in spec.columns:
        if col.name not in frame.columns:
            continue
        series = frame[col.name]
        if isinstance(series, pd.DataFrame):
            problems.append(f"column {col.name!r} appears more than once")
            continue
        if not _kind_ok(series, col):
            problems.append(f"column {col.name!r} should be {col.kind}, has dtype {series.dtype}")
            continue
        if not col.nullable and series.isna().any():
            problems.append(f"column {col.name!r} has {int(series.isna().sum())} missing values")
        if col.allowed is not None:
            bad = sorted({str(v) for v in series.dropna().unique()} - set(col.allowed))
            if bad:
                problems.append(
                    f"column {col.name!r} has values outside {list(col.allowed)}: {bad[:5]}"
                )
    if not problems:
        problems += _row_rules(frame, spec)
    if problems:
        raise BadInput(
            f"{spec.name} frame", None, "does not meet its contract: " + "; ".join(problems)
        )
    return frame


def _row_rules(frame: pd.DataFrame, spec: FrameSpec) -> list[str]:
    problems: list[str] = []
    if spec.name == "survival":
        if (frame["duration_days"] <= 0).any():
            problems.append("duration_days must be > 0")
        if not frame["event"].isin([0, 1]).all():
            problems.append("event must be 0 or 1")
    if spec.name == "counting_process":
        if (frame["stop"] <= frame["start"]).any():
            problems.append("stop must be greater than start")
        if not frame["event"].isin([0, 1]).all():
            problems.append("event must be 0 or 1")
    return problems


def person_wave_wide(
    frame: pd.DataFrame,
    scores: Sequence[str] | None = None,
    *,
    respondent: str | None = None,
) -> pd.DataFrame:
    """Pivot the long person-wave frame to one row per trajectory, wave and respondent.

    Parameters
    ----------
    frame : DataFrame
        A ``PERSON_WAVE`` frame.
    scores : sequence of str, optional
        The score ids to keep as columns; all scores when omitted. A requested score that does
        not occur becomes a column of NaN.
    respondent : str, optional
        Keep only this respondent (then score columns carry no respondent suffix either way).

    Returns
    -------
    DataFrame
        Columns trajectory_id, jobcoach_id, wave, wave_index, months, respondent, then one float
        column per score. Rows are waves with at least one submitted or invited form.
    """
    validate_frame(frame, PERSON_WAVE)
    data = frame if respondent is None else frame[frame["respondent"] == respondent]
    keys = ["trajectory_id", "jobcoach_id", "wave", "wave_index", "months", "respondent"]
    base = data[keys].drop_duplicates()
    scored = data.dropna(subset=["score"])
    if scores is not None:
        scored = scored[scored["score"].isin(list(scores))]
    wide = scored.groupby([*keys, "score"], dropna=False)["value"].mean().unstack("score")
    wide.columns = [str(c) for c in wide.columns]
    out = base.merge(wide.reset_index(), on=keys, how="left")
    for name in scores or []:
        if name not in out.columns:
            out[name] = float("nan")
    score_cols = list(scores) if scores is not None else [c for c in out if c not in keys]
    out = out[keys + score_cols]
    return out.sort_values(["trajectory_id", "wave_index", "respondent"]).reset_index(drop=True)
