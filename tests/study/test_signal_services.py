"""The services behind the signals: a study's thresholds, contract end dates and
acknowledgements; refusals in Dutch, audit events, scope."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from study.access import trajectory_scope
from study.errors import Conflict, InvalidInput, NotFound
from study.models import AuditEvent, SignalAcknowledgement
from study.services.signals import acknowledge_signal, set_contract_end, set_signal_settings
from study.signal_data import study_thresholds
from tests.factory import build_cohort


@pytest.fixture
def cohort(any_db, clock):
    with any_db.sessions.begin() as s:
        made = build_cohort(
            s, clock.now(), n_trajectories=4, n_coaches=2, first_start=dt.date(2025, 9, 1)
        )
    return any_db, made


def test_study_thresholds_stored_validated_and_audited(cohort, clock) -> None:
    db, made = cohort
    with db.sessions.begin() as s:
        assert study_thresholds(s, made.study_id).contact_gap_days == 28  # the default
        set_signal_settings(
            s, made.study_id, {"contact_gap_days": 21}, actor="onderzoeker", at=clock.now()
        )
    with db.read_sessions() as s:
        th = study_thresholds(s, made.study_id)
        event = s.scalars(
            select(AuditEvent).where(AuditEvent.action == "set_signal_settings")
        ).one()
    assert th.contact_gap_days == 21 and th.sick_long_days == 14
    assert event.new_values == {"contact_gap_days": 21} and event.actor == "onderzoeker"
    for bad, word in (
        ({"contact_gap_days": "vier"}, "contact_gap_days"),
        ({"nonsense": 1}, "nonsense"),
    ):
        with pytest.raises(InvalidInput) as refused, db.sessions.begin() as s:
            set_signal_settings(s, made.study_id, bad, actor="onderzoeker", at=clock.now())
        assert word in refused.value.message("nl") and "instelling" in refused.value.message("nl")
    with db.read_sessions() as s:
        assert study_thresholds(s, made.study_id).contact_gap_days == 21  # nothing changed


def test_contract_end_in_scope_only(cohort, clock) -> None:
    db, made = cohort
    own = trajectory_scope(made.study_id, jobcoach_id=made.jobcoach_ids[0])
    mine, other = made.trajectory_ids[0], made.trajectory_ids[1]
    with db.sessions.begin() as s:
        row = set_contract_end(s, own, mine, "2026-03-01", actor="coach1", at=clock.now())
        assert row is not None and row.ends_on == dt.date(2026, 3, 1)
    with pytest.raises(NotFound), db.sessions.begin() as s:
        set_contract_end(s, own, other, "2026-03-01", actor="coach1", at=clock.now())
    with pytest.raises(InvalidInput) as refused, db.sessions.begin() as s:
        set_contract_end(s, own, mine, "2024-01-01", actor="coach1", at=clock.now())
    assert "vóór de start" in refused.value.message("nl")
    with db.sessions.begin() as s:
        assert set_contract_end(s, own, mine, None, actor="coach1", at=clock.now()) is None
    with db.read_sessions() as s:
        actions = s.scalars(select(AuditEvent.action).where(AuditEvent.entity_id == mine)).all()
    assert "set_contract_end" in actions and "clear_contract_end" in actions


def _ack(**over):
    return {
        "signal": "sick_leave",
        "rule": "sick_long",
        "level": "red",
        "fired_on": "2025-12-20",
        **over,
    }


def test_acknowledgement_rules(cohort, clock) -> None:
    db, made = cohort
    own = trajectory_scope(made.study_id, jobcoach_id=made.jobcoach_ids[0])
    mine, other = made.trajectory_ids[0], made.trajectory_ids[1]
    with db.sessions.begin() as s:
        acknowledge_signal(s, own, _ack(trajectory_id=mine, action="employer_involved", note=" belde "),
                           actor="coach1", at=clock.now())  # fmt: skip
    refusals = [
        (_ack(trajectory_id=mine), Conflict, "al als gezien"),
        (_ack(trajectory_id=other), NotFound, "hoort niet bij uw cliënten"),
        (_ack(trajectory_id="1"), InvalidInput, "kies een traject"),
        (_ack(trajectory_id=mine, signal="sick_leave", rule="klik_item_drop"), InvalidInput, "bestaat niet"),
        (_ack(trajectory_id=mine, level="green"), InvalidInput, "oranje of rood"),
        (_ack(trajectory_id=mine, fired_on="2030-01-01"), InvalidInput, "toekomst"),
        (_ack(trajectory_id=mine, fired_on="gisteren"), InvalidInput, "geen datum"),
        (_ack(trajectory_id=mine, fired_on="2025-12-21", action="ontslagen"), InvalidInput, "onbekende actie"),
        (_ack(trajectory_id=mine, fired_on="2025-12-21", note="x" * 2001), InvalidInput, "2000 tekens"),
        (_ack(trajectory_id=mine, fired_on="2025-12-21", note=["x"]), InvalidInput, "tekst"),
    ]  # fmt: skip
    for data, error, words in refusals:
        with pytest.raises(error) as refused, db.sessions.begin() as s:
            acknowledge_signal(s, own, data, actor="coach1", at=clock.now())
        assert words in refused.value.message("nl"), data
    with db.read_sessions() as s:
        rows = s.scalars(select(SignalAcknowledgement)).all()
    assert len(rows) == 1 and rows[0].note == "belde" and rows[0].action == "employer_involved"
