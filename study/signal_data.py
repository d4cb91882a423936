"""Read models of the jobcoach signals: the frames the rules of ``analysis.signals`` take, the
cohort they compare with, the study's thresholds and the acknowledgements.

The cohort reference is always computed on the whole study (a jobcoach's clients are compared
with everyone's), but only its summary numbers (SDs, alphas, percentiles, a fitted course)
leave this module.
"""

from __future__ import annotations

import datetime as dt
from collections import OrderedDict
from dataclasses import dataclass

import pandas as pd
from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from analysis import signals as sg
from study.access import trajectory_scope
from study.clock import end_of_day
from study.models import ContractEnd, Invitation, SignalAcknowledgement, SignalSettings
from study.read_models import (
    contacts_frame,
    person_wave_frame,
    response_items_frame,
    rows_frame,
    trajectories_frame,
)
from study.vocab import Respondent
from study.worklists import trajectory_events


def study_thresholds(session: Session, study_id: int) -> sg.Thresholds:
    """The study's signal thresholds (the defaults where it set none)."""
    row = session.get(SignalSettings, study_id)
    return sg.Thresholds.from_mapping(row.settings if row is not None else None)


def contract_ends(session: Session, scope: Select[tuple[int]]) -> pd.DataFrame:
    """trajectory_id, contract_end_date of the visible trajectories that have one."""
    stmt = select(ContractEnd.trajectory_id, ContractEnd.ends_on.label("contract_end_date")).where(
        ContractEnd.trajectory_id.in_(scope)
    )
    out = rows_frame(session, stmt)
    if out.empty:
        return pd.DataFrame(
            {
                "trajectory_id": pd.Series(dtype="int64"),
                "contract_end_date": pd.Series(dtype="datetime64[ns]"),
            }
        )
    out["contract_end_date"] = pd.to_datetime(out["contract_end_date"])
    return out


def acknowledgements(session: Session, scope: Select[tuple[int]]) -> pd.DataFrame:
    """Signals marked as seen on the visible trajectories.

    Returns
    -------
    DataFrame
        trajectory_id, signal, rule, level, fired_on, seen_at, seen_by, action, note.
    """
    a = SignalAcknowledgement
    stmt = (
        select(
            a.trajectory_id,
            a.signal,
            a.rule,
            a.level,
            a.fired_on,
            a.seen_at,
            a.seen_by,
            a.action,
            a.note,
        )
        .where(a.trajectory_id.in_(scope))
        .order_by(a.trajectory_id, a.fired_on, a.id)
    )
    out = rows_frame(session, stmt)
    cols = [
        "trajectory_id",
        "signal",
        "rule",
        "level",
        "fired_on",
        "seen_at",
        "seen_by",
        "action",
        "note",
    ]
    if out.empty:
        return pd.DataFrame(
            {c: pd.Series(dtype="datetime64[ns]" if c == "fired_on" else object) for c in cols}
        )
    out["fired_on"] = pd.to_datetime(out["fired_on"])
    out["action"] = out["action"].map(lambda v: None if v is None else str(getattr(v, "value", v)))
    return out[cols]


def _closes_on(session: Session, scope: Select[tuple[int]]) -> pd.DataFrame:
    stmt = select(Invitation.trajectory_id, Invitation.wave_index, Invitation.closes_on).where(
        Invitation.trajectory_id.in_(scope), Invitation.respondent == Respondent.EMPLOYEE
    )
    out = rows_frame(session, stmt).drop_duplicates(["trajectory_id", "wave_index"])
    if out.empty:
        return pd.DataFrame({"trajectory_id": pd.Series(dtype="int64"), "wave_index": pd.Series(dtype="int64"),
                             "closes_on": pd.Series(dtype="datetime64[ns]")})  # fmt: skip
    out["closes_on"] = pd.to_datetime(out["closes_on"])
    return out.astype({"trajectory_id": "int64", "wave_index": "int64"})


@dataclass(frozen=True)
class SignalFrames:
    """What the rules read, for the trajectories of one scope."""

    person_wave: pd.DataFrame
    trajectories: pd.DataFrame
    events: pd.DataFrame
    contacts: pd.DataFrame


def signal_frames(session: Session, scope: Select[tuple[int]], *, as_of: dt.date) -> SignalFrames:
    """The frames of :func:`analysis.signals.all_signals` for ``scope`` on ``as_of``."""
    trajectories = trajectories_frame(session, scope, as_of=as_of)
    trajectories = trajectories.merge(contract_ends(session, scope), on="trajectory_id", how="left")
    person = person_wave_frame(
        session, scope, as_of=as_of, scores=sg.MEASURED_SCORES, respondent=Respondent.EMPLOYEE
    )
    person = person.merge(
        _closes_on(session, scope), on=["trajectory_id", "wave_index"], how="left"
    )
    events = trajectory_events(session, scope)
    if events.empty:
        events = pd.DataFrame(
            columns=["trajectory_id", "event_date", "kind", "hours", "job_end_reason"]
        )
    return SignalFrames(person, trajectories, events, contacts_frame(session, scope))


#: cohort references by (database, study, thresholds, day), a handful of small objects per
#: process: the cohort's SDs, alphas, percentiles and expected course move slowly, and fitting
#: them takes seconds in a large study, so each process computes them once a day rather than
#: after every form or contact that comes in
_REFERENCES: OrderedDict[tuple[str, int, str, dt.date], sg.CohortReference] = OrderedDict()
_REFERENCES_KEPT = 8


def cohort_reference(session: Session, study_id: int, *, as_of: dt.date) -> sg.CohortReference:
    """The study's reference values for the rules, from every trajectory of the study
    (computed once per process and day; see ``_REFERENCES``)."""
    settings = repr(sorted(study_thresholds(session, study_id).as_dict().items()))
    key = (str(session.get_bind().url), study_id, settings, as_of)
    found = _REFERENCES.get(key)
    if found is None:
        found = _compute_reference(session, study_id, as_of=as_of)
        _REFERENCES[key] = found
        while len(_REFERENCES) > _REFERENCES_KEPT:
            _REFERENCES.popitem(last=False)
    return found


def _compute_reference(session: Session, study_id: int, *, as_of: dt.date) -> sg.CohortReference:
    everyone = trajectory_scope(study_id)
    person = person_wave_frame(
        session,
        everyone,
        as_of=as_of,
        scores=(*sg.MEASURED_SCORES, *sg.CAPABILITY_FLAGS),
        respondent=Respondent.EMPLOYEE,
    )
    items = response_items_frame(session, everyone)
    items = items[items["item_id"].isin(sg.ALLIANCE_ITEMS)]
    return sg.cohort_reference(person, items, study_thresholds(session, study_id))


@dataclass(frozen=True)
class ClientSignals:
    """The signals of one scope's clients and what they were computed from."""

    signals: pd.DataFrame
    caseload: pd.DataFrame
    seen: pd.DataFrame
    frames: SignalFrames
    reference: sg.CohortReference
    thresholds: sg.Thresholds


def client_signals_of(
    session: Session, scope: Select[tuple[int]], study_id: int, *, as_of: dt.date
) -> ClientSignals:
    """Every signal of the clients in ``scope``, their traffic lights, and what was seen."""
    thresholds = study_thresholds(session, study_id)
    frames = signal_frames(session, scope, as_of=as_of)
    reference = cohort_reference(session, study_id, as_of=as_of)
    found = sg.all_signals(
        person_wave=frames.person_wave,
        trajectories=frames.trajectories,
        events=frames.events,
        contacts=frames.contacts,
        reference=reference,
        as_of=as_of,
        thresholds=thresholds,
    )
    seen = acknowledgements(session, scope)
    trajectories = frames.trajectories
    ended = trajectories.loc[trajectories["end_date"].notna(), "trajectory_id"]
    lights = sg.caseload(
        trajectories["trajectory_id"], found, frames.person_wave, seen=seen, ended=ended
    )
    return ClientSignals(sg.mark_seen(found, seen), lights, seen, frames, reference, thresholds)


@dataclass(frozen=True)
class StudySignals:
    """The whole study's signal history, for the researchers' statistics."""

    signals: pd.DataFrame
    seen: pd.DataFrame
    trajectories: pd.DataFrame
    person_wave: pd.DataFrame


def study_signals(
    session: Session,
    study_id: int,
    *,
    as_of: dt.date,
    scope: Select[tuple[int]] | None = None,
) -> StudySignals:
    """Every firing of every signal in the study up to ``as_of``, the acknowledgements made by
    the end of that day and the trajectories (with organisation_id, end_date and end_reason).

    ``scope`` narrows the trajectories (a viewer's: those entered by a release day). The
    history is computed as of ``as_of`` with that day's cohort reference: a rule that compares
    with the cohort (low alliance, reliable change, not on track) is judged against what the
    cohort looks like on ``as_of``, not what it looked like on the day of the firing.
    """
    scope = trajectory_scope(study_id) if scope is None else scope
    thresholds = study_thresholds(session, study_id)
    frames = signal_frames(session, scope, as_of=as_of)
    reference = cohort_reference(session, study_id, as_of=as_of)
    found = sg.all_signals(
        person_wave=frames.person_wave,
        trajectories=frames.trajectories,
        events=frames.events,
        contacts=frames.contacts,
        reference=reference,
        as_of=as_of,
        thresholds=thresholds,
    )
    seen = acknowledgements(session, scope)
    if not seen.empty:
        seen = seen[pd.to_datetime(seen["seen_at"], utc=True) < pd.Timestamp(end_of_day(as_of))]
    return StudySignals(found, seen, frames.trajectories, frames.person_wave)
