"""What jobcoaches and researchers write about the signals: a signal seen (with what was done),
a contract's end date, and a study's own thresholds."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from analysis.signals import SIGNALS, Thresholds
from analysis.validation import BadInput
from study import audit
from study.errors import Conflict, InvalidInput, NotFound
from study.models import ContractEnd, SignalAcknowledgement, SignalSettings, Trajectory
from study.services.common import get_in_study, utc
from study.vocab import SignalAction

#: rule codes each signal may carry (what a request may name)
RULES: dict[str, tuple[str, ...]] = {
    "klik_drop": ("klik_item_drop", "alliance_mean_drop"),
    "reliable_deterioration": ("rc_alliance", "rc_capability_count"),
    "low_alliance": ("below_cohort_p10",),
    "not_on_track": ("below_expected_p25", "below_expected_p10"),
    "sick_leave": ("sick_reported", "sick_long", "sick_repeated"),
    "hours_cut": ("hours_cut",),
    "contract_end": ("contract_ends", "trial_ends"),
    "missed_forms": ("missed_one", "missed_in_a_row"),
    "contact": ("no_contact", "above_regime"),
}
NOTE_MAX = 2000


def _visible(session: Session, scope: Select[tuple[int]], trajectory_id: Any) -> Trajectory:
    """The trajectory if ``scope`` holds it; any other id is reported as not existing."""
    if isinstance(trajectory_id, bool) or not isinstance(trajectory_id, int):
        raise InvalidInput("kies een traject", "choose a trajectory", field="trajectory_id")
    found = session.scalar(
        select(Trajectory).where(Trajectory.id == trajectory_id, Trajectory.id.in_(scope))
    )
    if found is None:
        raise NotFound(
            "dit traject bestaat niet of hoort niet bij uw cliënten",
            "this trajectory does not exist or is not one of your clients",
        )
    return found


def _day(value: Any, field: str) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value[:10])
        except ValueError:
            pass
    raise InvalidInput(
        f"'{value}' is geen datum (gebruik jjjj-mm-dd)",
        f"'{value}' is not a date (use yyyy-mm-dd)",
        field=field,
    )


def acknowledge_signal(
    session: Session,
    scope: Select[tuple[int]],
    data: dict[str, Any],
    *,
    actor: str,
    at: dt.datetime,
) -> SignalAcknowledgement:
    """Mark one firing of a signal as seen, with an optional action and note.

    ``data``: trajectory_id, signal, rule, level (amber or red), fired_on, action (a
    :class:`~study.vocab.SignalAction` value or None), note. The trajectory must be in ``scope``
    (a jobcoach's own clients). Marking the same firing again is refused.
    """
    at = utc(at)
    trajectory = _visible(session, scope, data.get("trajectory_id"))
    signal, rule = data.get("signal"), data.get("rule")
    if signal not in SIGNALS or rule not in RULES.get(str(signal), ()):
        raise InvalidInput("dit signaal bestaat niet", "there is no such signal", field="signal")
    level = data.get("level")
    if level not in ("amber", "red"):
        raise InvalidInput(
            "kleur moet oranje of rood zijn", "level must be amber or red", field="level"
        )
    fired_on = _day(data.get("fired_on"), "fired_on")
    if fired_on > at.date() + dt.timedelta(days=1):
        raise InvalidInput(
            "een signaal kan niet in de toekomst liggen",
            "a signal cannot lie in the future",
            field="fired_on",
        )
    action = data.get("action")
    if action in ("", None):
        action = None
    elif action not in {a.value for a in SignalAction}:
        raise InvalidInput(
            f"onbekende actie '{action}'", f"unknown action '{action}'", field="action"
        )
    note = data.get("note")
    if note is not None and not isinstance(note, str):
        raise InvalidInput("de notitie moet tekst zijn", "the note must be text", field="note")
    note = (note or "").strip() or None
    if note is not None and len(note) > NOTE_MAX:
        raise InvalidInput(
            f"de notitie is langer dan {NOTE_MAX} tekens",
            f"the note is longer than {NOTE_MAX} characters",
            field="note",
        )
    existing = session.scalar(
        select(SignalAcknowledgement.id).where(
            SignalAcknowledgement.trajectory_id == trajectory.id,
            SignalAcknowledgement.signal == signal,
            SignalAcknowledgement.rule == rule,
            SignalAcknowledgement.fired_on == fired_on,
        )
    )
    if existing is not None:
        raise Conflict(
            "dit signaal is al als gezien gemarkeerd", "this signal was already marked as seen"
        )
    row = SignalAcknowledgement(
        study_id=trajectory.study_id,
        trajectory_id=trajectory.id,
        signal=signal,
        rule=rule,
        level=level,
        fired_on=fired_on,
        seen_at=at,
        seen_by=actor,
        action=SignalAction(action) if action else None,
        note=note,
    )
    session.add(row)
    session.flush()
    audit.record(
        session, at=at, actor=actor, action="acknowledge_signal", entity="signal_acknowledgement",
        entity_id=row.id,
        new={"trajectory_id": trajectory.id, "signal": signal, "rule": rule, "level": level,
             "fired_on": fired_on, "action": action, "note": note},
    )  # fmt: skip
    return row


def set_contract_end(
    session: Session,
    scope: Select[tuple[int]],
    trajectory_id: Any,
    ends_on: Any,
    *,
    actor: str,
    at: dt.datetime,
) -> ContractEnd | None:
    """Record (or, with ``ends_on`` None, clear) the day the contract or trial placement ends."""
    at = utc(at)
    trajectory = _visible(session, scope, trajectory_id)
    row = session.get(ContractEnd, trajectory.id)
    old = {"ends_on": row.ends_on} if row is not None else None
    if ends_on in (None, ""):
        if row is not None:
            session.delete(row)
            audit.record(session, at=at, actor=actor, action="clear_contract_end", entity="trajectory",
                         entity_id=trajectory.id, old=old)  # fmt: skip
        return None
    day = _day(ends_on, "ends_on")
    if day < trajectory.start_date:
        raise InvalidInput(
            "het contract kan niet eindigen vóór de start van het traject",
            "the contract cannot end before the trajectory starts",
            field="ends_on",
        )
    if row is None:
        row = ContractEnd(
            trajectory_id=trajectory.id, ends_on=day, recorded_at=at, recorded_by=actor
        )
        session.add(row)
    else:
        row.ends_on, row.recorded_at, row.recorded_by = day, at, actor
    audit.record(session, at=at, actor=actor, action="set_contract_end", entity="trajectory",
                 entity_id=trajectory.id, old=old, new={"ends_on": day})  # fmt: skip
    return row


def set_signal_settings(
    session: Session, study_id: int, settings: dict[str, Any], *, actor: str, at: dt.datetime
) -> Thresholds:
    """Store a study's own signal thresholds (keys of ``analysis.signals.Thresholds``)."""
    from study.models import Study

    at = utc(at)
    get_in_study(session, Study, study_id, study_id)
    if not isinstance(settings, dict):
        raise InvalidInput(
            "de instellingen moeten een lijst van namen en waarden zijn",
            "settings must be a mapping",
        )
    try:
        thresholds = Thresholds.from_mapping(settings)
    except BadInput as exc:
        column = exc.column or ""
        unknown = column not in Thresholds().as_dict()
        nl = (
            f"instelling '{column}' bestaat niet"
            if unknown
            else f"instelling '{column}' heeft een ongeldige waarde: {settings.get(column)!r}"
        )
        raise InvalidInput(nl, f"setting '{column}' is wrong: {exc.problem}", field=column) from exc
    row = session.get(SignalSettings, study_id)
    old = dict(row.settings) if row is not None else None
    if row is None:
        row = SignalSettings(study_id=study_id, settings=settings, updated_at=at, updated_by=actor)
        session.add(row)
    else:
        row.settings, row.updated_at, row.updated_by = dict(settings), at, actor
    audit.record(session, at=at, actor=actor, action="set_signal_settings", entity="study",
                 entity_id=study_id, old=old, new=settings)  # fmt: skip
    return thresholds
