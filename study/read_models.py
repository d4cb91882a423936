"""Read models: the database as the tidy frames that ``analysis.frames`` defines.

Each frame comes from one set-based query (plus vectorised reshaping in pandas), scoped by a
SELECT of visible trajectory ids from :mod:`study.access`. No function here loops over ORM objects,
and none reads the identity table.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    case,
    extract,
    func,
    null,
    select,
    type_coerce,
)
from sqlalchemy.orm import Session
from sqlalchemy.types import NullType

from analysis.frames import (
    CONTACTS,
    COUNTING_PROCESS,
    PERSON_WAVE,
    RESPONSE_ITEMS,
    SURVIVAL,
    TRAJECTORIES,
    validate_frame,
)
from questionnaires.model import Instrument
from study.clock import end_of_day
from study.frame_reads import reader_of, session_frame
from study.models import (
    CoachingContact,
    Invitation,
    Jobcoach,
    Participant,
    Response,
    ResponseScore,
    ResponseValue,
    Trajectory,
    Wave,
)
from study.sqldates import days_between
from study.vocab import InvitationStatus, Respondent, ResponseStatus

DAYS_PER_MONTH = 30.4375
#: the first three months define a trajectory's baseline coaching intensity
INTENSITY_WINDOW_DAYS = 3 * DAYS_PER_MONTH
#: a form counts as on time when it came in before the first reminder (due date + 7 days)
ON_TIME_GRACE_DAYS = 7

KEY_SCORES: tuple[str, ...] = (
    "alliance",
    "alliance_goal",
    "alliance_task",
    "alliance_bond",
    "klik",
    "capability_count",
    "person_job_fit",
    "job_satisfaction",
    "wellbeing",
    "match_quality",
    "coach_klik",
    "employer_satisfaction",
    "ontzorging",
)

_BASELINE_SCORES = {
    "baseline_alliance": "alliance",
    "baseline_klik": "klik",
    "baseline_match_quality": "person_job_fit",
    "baseline_capability_count": "capability_count",
}


def rows_frame(session: Session, stmt: Select) -> pd.DataFrame:
    """The rows of ``stmt`` as a table, one column per selected column (by its label).

    Inside :func:`study.frame_reads.frame_reads` they come from its reader (one snapshot;
    Arrow columns on PostgreSQL).
    """
    reader = reader_of(session)
    return session_frame(session, stmt) if reader is None else reader.frame(stmt)


def _raw(column: ColumnElement[Any]) -> ColumnElement[Any]:
    """The column without its Python-side result conversion (enum members, UTC datetimes):
    the stored text or timestamp, converted for the whole column at once in pandas."""
    return type_coerce(column, NullType())


def _text(series: pd.Series) -> pd.Series:
    """Stored enum values as plain strings (object dtype), missing kept as None."""
    out = series.astype(object)
    return out.where(out.notna(), None)


def trajectories_frame(
    session: Session, scope: Select[tuple[int]], *, as_of: dt.date
) -> pd.DataFrame:
    """One row per trajectory with baseline covariates.

    Returns
    -------
    DataFrame
        The ``analysis.frames.TRAJECTORIES`` columns: trajectory_id, study_code, jobcoach_id,
        organisation_id, employer_id, start_date, end_date, end_reason, funder, employment_form,
        contract_hours, loonwaarde, maatje, method, coach_type, benefit, gender, birth_year,
        age_at_start, baseline_alliance, baseline_klik, baseline_match_quality,
        baseline_capability_count, contact_minutes_per_month, n_contacts.
    """
    baseline = (
        select(
            Invitation.trajectory_id.label("tid"),
            *[
                func.max(case((ResponseScore.score_id == score, ResponseScore.value))).label(col)
                for col, score in _BASELINE_SCORES.items()
            ],
        )
        .join(
            Response,
            and_(
                Response.invitation_id == Invitation.id,
                Response.status == ResponseStatus.SUBMITTED,
                Response.submitted_at < end_of_day(as_of),
            ),
        )
        .join(ResponseScore, ResponseScore.response_id == Response.id)
        .where(
            Invitation.wave_index == 0,
            Invitation.respondent == Respondent.EMPLOYEE,
            Invitation.trajectory_id.in_(scope),
        )
        .group_by(Invitation.trajectory_id)
        .subquery()
    )
    contacts = (
        select(
            CoachingContact.trajectory_id.label("tid"),
            func.count().label("n_contacts"),
            func.sum(
                case(
                    (
                        days_between(CoachingContact.contact_date, Trajectory.start_date)
                        < INTENSITY_WINDOW_DAYS,
                        CoachingContact.minutes,
                    ),
                    else_=0,
                )
            ).label("early_minutes"),
        )
        .join(Trajectory, Trajectory.id == CoachingContact.trajectory_id)
        .where(
            CoachingContact.trajectory_id.in_(scope),
            CoachingContact.contact_date <= as_of,
            CoachingContact.deleted_at.is_(None),
        )
        .group_by(CoachingContact.trajectory_id)
        .subquery()
    )
    stmt = (
        select(
            Trajectory.id.label("trajectory_id"),
            Participant.study_code,
            Trajectory.jobcoach_id,
            Jobcoach.organisation_id,
            Trajectory.employer_id,
            Trajectory.start_date,
            Trajectory.end_date,
            _raw(Trajectory.end_reason).label("end_reason"),
            _raw(Trajectory.funder).label("funder"),
            _raw(Trajectory.employment_form).label("employment_form"),
            Trajectory.contract_hours,
            Trajectory.loonwaarde,
            Trajectory.maatje,
            _raw(Trajectory.method).label("method"),
            _raw(Trajectory.coach_type).label("coach_type"),
            _raw(Participant.benefit).label("benefit"),
            _raw(Participant.gender).label("gender"),
            Participant.birth_year,
            (extract("year", Trajectory.start_date) - Participant.birth_year).label("age_at_start"),
            *[baseline.c[col] for col in _BASELINE_SCORES],
            func.coalesce(contacts.c.n_contacts, 0).label("n_contacts"),
            func.coalesce(contacts.c.early_minutes, 0).label("early_minutes"),
        )
        .join(Participant, Participant.id == Trajectory.participant_id)
        .join(Jobcoach, Jobcoach.id == Trajectory.jobcoach_id)
        .outerjoin(baseline, baseline.c.tid == Trajectory.id)
        .outerjoin(contacts, contacts.c.tid == Trajectory.id)
        .where(Trajectory.id.in_(scope))
        .order_by(Trajectory.id)
    )
    df = rows_frame(session, stmt)
    if df.empty:
        return TRAJECTORIES.empty()
    for col in (
        "end_reason",
        "funder",
        "employment_form",
        "method",
        "coach_type",
        "benefit",
        "gender",
    ):
        df[col] = _text(df[col])
    df["start_date"] = pd.to_datetime(df["start_date"])
    df["end_date"] = pd.to_datetime(df["end_date"])
    # an end recorded for a day after as_of had not happened yet on as_of
    future_end = df["end_date"] > pd.Timestamp(as_of)
    df.loc[future_end, "end_date"] = pd.NaT
    df.loc[future_end, "end_reason"] = None
    for col in (
        "trajectory_id",
        "jobcoach_id",
        "employer_id",
        "birth_year",
        "age_at_start",
        "n_contacts",
    ):
        df[col] = df[col].astype("int64")
    df["organisation_id"] = df["organisation_id"].astype("Int64")
    df["maatje"] = df["maatje"].astype(bool)
    for col in ("contract_hours", "loonwaarde", *_BASELINE_SCORES):
        df[col] = df[col].astype(float)
    observed = (df["end_date"].fillna(pd.Timestamp(as_of)) - df["start_date"]).dt.days
    months = observed.clip(lower=14, upper=INTENSITY_WINDOW_DAYS) / DAYS_PER_MONTH
    df["contact_minutes_per_month"] = df.pop("early_minutes").astype(float) / months
    return validate_frame(df, TRAJECTORIES)


def survival_frame(trajectories: pd.DataFrame, *, as_of: dt.date) -> pd.DataFrame:
    """Time to job loss per trajectory, censored at ``as_of`` or at another end reason.

    Returns
    -------
    DataFrame
        The ``analysis.frames.SURVIVAL`` columns: trajectory_id, jobcoach_id, duration_days,
        event (1 = job loss), end_type (censored or the end reason), the baseline covariates,
        plus every other column of ``trajectories``.
    """
    if trajectories.empty:
        return SURVIVAL.empty()
    df = trajectories.copy()
    end = df["end_date"].where(df["end_date"].notna(), pd.Timestamp(as_of))
    # a trajectory that ends the day it starts still had some time at risk
    df["duration_days"] = (end - df["start_date"]).dt.days.astype(float).clip(lower=0.5)
    df["event"] = (df["end_reason"] == "job_loss").astype(int)
    df["end_type"] = df["end_reason"].where(df["end_reason"].notna(), "censored")
    df = df[df["start_date"] <= pd.Timestamp(as_of)]
    return validate_frame(df.reset_index(drop=True), SURVIVAL)


#: the stable keys that order a person-wave frame
PERSON_WAVE_ORDER = ["trajectory_id", "wave_index", "respondent", "instrument_id", "score", "wave"]


def completeness_frame(
    session: Session, scope: Select[tuple[int]], *, as_of: dt.date
) -> pd.DataFrame:
    """Per response submitted by the end of ``as_of``: how many of the questions the respondent
    could answer were answered.

    Returns
    -------
    DataFrame
        wave, wave_index, respondent, answered, applicable (both None for responses submitted
        before completeness was recorded).
    """
    stmt = (
        select(
            Invitation.wave_code.label("wave"),
            Invitation.wave_index,
            _raw(Invitation.respondent).label("respondent"),
            Response.answered_items.label("answered"),
            Response.applicable_items.label("applicable"),
        )
        .join(Response, Response.invitation_id == Invitation.id)
        .where(
            Invitation.trajectory_id.in_(scope),
            Response.status == ResponseStatus.SUBMITTED,
            Response.submitted_at < end_of_day(as_of),
        )
    )
    out = rows_frame(session, stmt)
    if out.empty:
        return pd.DataFrame(
            {c: pd.Series(dtype=object) for c in ("wave", "wave_index", "respondent",
                                                  "answered", "applicable")}
        )  # fmt: skip
    out["respondent"] = _text(out["respondent"])
    return out


def person_wave_frame(
    session: Session,
    scope: Select[tuple[int]],
    *,
    as_of: dt.date,
    scores: Sequence[str] | None = KEY_SCORES,
    respondent: Respondent | None = None,
) -> pd.DataFrame:
    """Scores per wave and respondent, long over scores, with the response status.

    Invitations whose window has not opened by ``as_of`` are left out. ``scores=None`` keeps
    every score.

    Returns
    -------
    DataFrame
        The ``analysis.frames.PERSON_WAVE`` columns: trajectory_id, jobcoach_id, wave,
        wave_index, months, respondent, instrument_id, status (on_time, late, missing, open,
        cancelled), submitted_at, score, value; plus anchor (start or end) and due_date.
    """
    score_join = ResponseScore.response_id == Response.id
    if scores is not None:
        score_join = and_(score_join, ResponseScore.score_id.in_(list(scores)))
    # without scores (the monitor, attrition) the score join only costs time
    with_scores = scores is None or len(scores) > 0
    score_columns = (
        (ResponseScore.score_id.label("score"), ResponseScore.value)
        if with_scores
        else (null().label("score"), null().label("value"))
    )
    stmt = (
        select(
            Invitation.trajectory_id,
            Trajectory.jobcoach_id,
            Invitation.wave_code.label("wave"),
            Invitation.wave_index,
            (days_between(Invitation.due_on, Trajectory.start_date) / DAYS_PER_MONTH).label(
                "months"
            ),
            _raw(Invitation.respondent).label("respondent"),
            Invitation.instrument_id,
            _raw(Invitation.status).label("invitation_status"),
            Invitation.due_on.label("due_date"),
            Invitation.closes_on,
            Wave.anchor,
            _raw(Response.submitted_at).label("submitted_at"),
            *score_columns,
        )
        .join(Trajectory, Trajectory.id == Invitation.trajectory_id)
        .outerjoin(
            Wave,
            and_(Wave.protocol_id == Invitation.protocol_id, Wave.code == Invitation.wave_code),
        )
        .outerjoin(
            Response,
            and_(
                Response.invitation_id == Invitation.id,
                Response.status == ResponseStatus.SUBMITTED,
                Response.submitted_at < end_of_day(as_of),
            ),
        )
        .where(Invitation.trajectory_id.in_(scope), Invitation.opens_on <= as_of)
    )
    if with_scores:
        stmt = stmt.outerjoin(ResponseScore, score_join)
    if respondent is not None:
        stmt = stmt.where(Invitation.respondent == respondent)
    df = rows_frame(session, stmt)
    if df.empty:
        out = PERSON_WAVE.empty()
        out["anchor"] = pd.Series([], dtype=object)
        out["due_date"] = pd.Series([], dtype="datetime64[ns]")
        return out
    df["respondent"] = _text(df["respondent"])
    df["anchor"] = df["anchor"].fillna("start")
    df["due_date"] = pd.to_datetime(df["due_date"])
    submitted = pd.to_datetime(df["submitted_at"], utc=True)
    df["submitted_at"] = submitted.dt.tz_convert("Europe/Amsterdam").dt.tz_localize(None)
    df["status"] = _status(
        _text(df.pop("invitation_status")),
        df["submitted_at"],
        df["due_date"],
        pd.to_datetime(df.pop("closes_on")),
        as_of,
    )
    df["months"] = df["months"].astype(float)
    df["value"] = df["value"].astype(float)
    for col in ("trajectory_id", "jobcoach_id", "wave_index"):
        df[col] = df[col].astype("int64")
    # Sorted here rather than by the database, whose order of ties, NULLs and text differs
    # between SQLite and PostgreSQL (and sorting 1.5 M joined rows there costs a second): the
    # same data gives the same rows in the same order.
    df = df.sort_values(PERSON_WAVE_ORDER, kind="stable", na_position="last")
    return validate_frame(df.reset_index(drop=True), PERSON_WAVE)


def _status(
    invitation_status: pd.Series,
    submitted: pd.Series,
    due: pd.Series,
    closes: pd.Series,
    as_of: dt.date,
) -> pd.Series:
    """The status as it stood on ``as_of``: a form answered or missed later was still open."""
    late = submitted.dt.normalize() > due + pd.Timedelta(days=ON_TIME_GRACE_DAYS)
    completed = (invitation_status == InvitationStatus.COMPLETED.value) & submitted.notna()
    closed = closes < pd.Timestamp(as_of)
    missed = (invitation_status == InvitationStatus.MISSED.value) | (
        (invitation_status == InvitationStatus.COMPLETED.value) & submitted.isna()
    )
    return pd.Series(
        np.select(
            [
                completed & ~late,
                completed & late,
                missed & closed,
                invitation_status == InvitationStatus.CANCELLED.value,
            ],
            ["on_time", "late", "missing", "cancelled"],
            default="open",
        ),
        index=invitation_status.index,
    )


def contacts_frame(session: Session, scope: Select[tuple[int]]) -> pd.DataFrame:
    """Every coaching contact of the visible trajectories.

    Returns
    -------
    DataFrame
        The ``analysis.frames.CONTACTS`` columns: trajectory_id, date, minutes, mode, with_whom,
        activity; plus day (days since the trajectory's start).
    """
    stmt = (
        select(
            CoachingContact.trajectory_id,
            CoachingContact.contact_date.label("date"),
            CoachingContact.minutes,
            _raw(CoachingContact.mode).label("mode"),
            _raw(CoachingContact.with_whom).label("with_whom"),
            _raw(CoachingContact.activity).label("activity"),
            days_between(CoachingContact.contact_date, Trajectory.start_date).label("day"),
        )
        .join(Trajectory, Trajectory.id == CoachingContact.trajectory_id)
        .where(CoachingContact.trajectory_id.in_(scope), CoachingContact.deleted_at.is_(None))
        .order_by(CoachingContact.trajectory_id, CoachingContact.contact_date, CoachingContact.id)
    )
    df = rows_frame(session, stmt)
    if df.empty:
        out = CONTACTS.empty()
        out["day"] = pd.Series([], dtype=float)
        return out
    df["date"] = pd.to_datetime(df["date"])
    df["minutes"] = df["minutes"].astype(float)
    df["day"] = df["day"].astype(float)
    for col in ("mode", "with_whom", "activity"):
        df[col] = _text(df[col])
    df["trajectory_id"] = df["trajectory_id"].astype("int64")
    return validate_frame(df, CONTACTS)


def response_items_frame(
    session: Session,
    scope: Select[tuple[int]],
    *,
    instrument_id: str | None = None,
    instruments: Mapping[str, Instrument] | None = None,
) -> pd.DataFrame:
    """Numeric item answers of submitted responses, for reliability and missingness.

    The contract asks for reverse-keyed values: with ``instruments`` (id -> instrument) every
    item marked ``reverse`` is mirrored within its range (lo + hi - value). Without them the
    values are as answered and ``reversed`` is False throughout.

    Returns
    -------
    DataFrame
        The ``analysis.frames.RESPONSE_ITEMS`` columns: response_id, trajectory_id, wave,
        respondent, instrument_id, item_id, value; plus reversed (bool).
    """
    stmt = (
        select(
            Response.id.label("response_id"),
            Invitation.trajectory_id,
            Invitation.wave_code.label("wave"),
            _raw(Invitation.respondent).label("respondent"),
            Response.instrument_id,
            ResponseValue.item_id,
            ResponseValue.value_num.label("value"),
        )
        .join(Invitation, Invitation.id == Response.invitation_id)
        .join(ResponseValue, ResponseValue.response_id == Response.id)
        .where(Response.status == ResponseStatus.SUBMITTED, Invitation.trajectory_id.in_(scope))
        .order_by(Response.id, ResponseValue.item_id)
    )
    if instrument_id is not None:
        stmt = stmt.where(Response.instrument_id == instrument_id)
    df = rows_frame(session, stmt)
    if df.empty:
        return RESPONSE_ITEMS.empty().assign(reversed=pd.Series([], dtype=bool))
    df["respondent"] = _text(df["respondent"])
    df["value"] = df["value"].astype(float)
    for col in ("response_id", "trajectory_id"):
        df[col] = df[col].astype("int64")
    df["reversed"] = False
    keyed = _reverse_keys(instruments or {})
    if not keyed.empty:
        hit = df[["instrument_id", "item_id"]].merge(
            keyed, how="left", on=["instrument_id", "item_id"]
        )
        mirror = hit["lo"].notna().to_numpy()
        df.loc[mirror, "value"] = (hit["lo"] + hit["hi"]).to_numpy()[mirror] - df["value"][mirror]
        df["reversed"] = mirror
    return validate_frame(df, RESPONSE_ITEMS)


def _reverse_keys(instruments: Mapping[str, Instrument]) -> pd.DataFrame:
    """instrument_id, item_id, lo, hi of every reverse-keyed item with a numeric range."""
    rows = [
        (inst_id, item.id, *item.value_range)
        for inst_id, inst in instruments.items()
        for item in inst.items
        if item.reverse and item.value_range is not None
    ]
    return pd.DataFrame(rows, columns=["instrument_id", "item_id", "lo", "hi"])


def counting_process_frame(
    survival: pd.DataFrame, person_wave: pd.DataFrame, contacts: pd.DataFrame
) -> pd.DataFrame:
    """Intervals between a trajectory's waves with covariates lagged one interval.

    Each interval (start, stop] begins at a wave's due day (T0 = day 0) and carries the employee's
    alliance, klik and person–job fit measured at that wave (known at the start of the interval),
    and the coaching intensity (minutes per month) of the interval before it; the first interval
    has no earlier intensity (NaN). The last interval stops at the end or censoring day and carries
    the job-loss event.

    Returns
    -------
    DataFrame
        The ``analysis.frames.COUNTING_PROCESS`` columns: trajectory_id, jobcoach_id, start, stop,
        event, alliance_lag, klik_lag, intensity_lag, match_quality_lag; plus wave_index.
    """
    if survival.empty:
        out = COUNTING_PROCESS.empty()
        out["wave_index"] = pd.Series([], dtype="int64")
        return out
    emp = person_wave[
        (person_wave["respondent"] == "employee") & (person_wave.get("anchor", "start") == "start")
    ]
    cuts = emp[["trajectory_id", "wave_index", "months"]].drop_duplicates(
        ["trajectory_id", "wave_index"]
    )
    cuts = cuts.assign(start=(cuts["months"] * DAYS_PER_MONTH).round()).drop(columns="months")
    t0 = survival[["trajectory_id"]].assign(wave_index=0, start=0.0)
    cuts = pd.concat([t0, cuts]).drop_duplicates(["trajectory_id", "wave_index"])
    cuts = cuts.merge(
        survival[["trajectory_id", "jobcoach_id", "duration_days", "event"]], on="trajectory_id"
    )
    cuts = cuts[cuts["start"] < cuts["duration_days"]].sort_values(["trajectory_id", "start"])
    nxt = cuts.groupby("trajectory_id")["start"].shift(-1)
    last = nxt.isna()
    cuts["stop"] = nxt.fillna(cuts["duration_days"])
    cuts["event"] = np.where(last, cuts["event"], 0).astype(int)
    cuts = cuts[cuts["stop"] > cuts["start"]]

    scores = emp[emp["score"].isin(["alliance", "klik", "person_job_fit"])]
    wide = scores.pivot_table(
        index=["trajectory_id", "wave_index"], columns="score", values="value", aggfunc="first"
    )
    wide = wide.reindex(columns=["alliance", "klik", "person_job_fit"]).rename(
        columns={
            "alliance": "alliance_lag",
            "klik": "klik_lag",
            "person_job_fit": "match_quality_lag",
        }
    )
    cuts = cuts.merge(wide.reset_index(), on=["trajectory_id", "wave_index"], how="left")

    cuts["intensity"] = _interval_minutes(cuts, contacts) / (
        (cuts["stop"] - cuts["start"]) / DAYS_PER_MONTH
    )
    cuts["intensity_lag"] = cuts.groupby("trajectory_id")["intensity"].shift(1)
    out = cuts.drop(columns=["intensity", "duration_days"]).reset_index(drop=True)
    out["wave_index"] = out["wave_index"].astype("int64")
    return validate_frame(out, COUNTING_PROCESS)


def _interval_minutes(intervals: pd.DataFrame, contacts: pd.DataFrame) -> pd.Series:
    """Contact minutes falling in each interval [start, stop), aligned to ``intervals``' index."""
    if contacts.empty:
        return pd.Series(0.0, index=intervals.index)
    left = contacts[["trajectory_id", "day", "minutes"]].sort_values("day")
    keys = intervals[["trajectory_id", "start", "stop"]].reset_index().sort_values("start")
    hit = pd.merge_asof(
        left, keys, left_on="day", right_on="start", by="trajectory_id", direction="backward"
    )
    hit = hit[hit["day"] < hit["stop"]]
    sums = hit.groupby("index")["minutes"].sum()
    return sums.reindex(intervals.index, fill_value=0.0).astype(float)
