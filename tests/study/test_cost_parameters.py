"""Cost parameters: versions, audit, Dutch refusals; sick-leave spells from employment events."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from analysis.costs import default_parameters
from study import services
from study.access import trajectory_scope
from study.cost_read_models import (
    cost_parameter_history,
    cost_parameters_frame,
    registers_frame,
    sick_leave_frame,
)
from study.errors import InvalidInput, NotFound
from study.models import AuditEvent
from study.services.cost_parameters import save_cost_parameters
from tests.factory import build_cohort

AT = dt.datetime(2026, 1, 5, 9, tzinfo=dt.UTC)


def rows() -> list[dict]:
    return default_parameters().to_dict("records")


def test_every_change_is_a_new_audited_version(any_db) -> None:
    with any_db.sessions.begin() as s:
        study_id = build_cohort(s, AT, n_trajectories=1).study_id
    with any_db.sessions.begin() as s:
        assert cost_parameters_frame(s, study_id) == (None, 0)
        first = save_cost_parameters(s, study_id, rows(), actor="an", at=AT, reason="start")
        assert first is not None and first.version == 1
    changed = rows()
    for r in changed:
        if r["key"] == "jobcoach_tariff":
            r["value"] = "81,25"  # a Dutch decimal comma
    tariff_row = next(r for r in changed if r["key"] == "jobcoach_tariff")
    changed.append({**tariff_row, "year": 2026, "value": 90})
    with any_db.sessions.begin() as s:
        stored, version = cost_parameters_frame(s, study_id)
        second = save_cost_parameters(
            s,
            study_id,
            changed,
            actor="an",
            at=AT + dt.timedelta(hours=1),
            reason="tarief 2026",
            previous=stored.to_dict("records"),
        )
        assert second is not None and second.version == 2
    with any_db.sessions.begin() as s:
        table, version = cost_parameters_frame(s, study_id)
        assert version == 2
        tariff = table[table["key"] == "jobcoach_tariff"].set_index("year")["value"]
        assert tariff.to_dict() == {2012: 81.25, 2026: 90.0}
        history = cost_parameter_history(s, study_id)
        assert history["version"].tolist() == [2, 1]
        assert history["reason"].tolist() == ["tarief 2026", "start"]
        events = s.scalars(
            select(AuditEvent).where(AuditEvent.entity == "cost_parameters").order_by(AuditEvent.id)
        ).all()
        assert [e.new_values["version"] for e in events] == [1, 2]
        last = events[-1]
        assert last.actor == "an" and last.reason == "tarief 2026"
        assert last.old_values["jobcoach_tariff/external/2012"]["value"] == pytest.approx(73.30)
        assert last.new_values["jobcoach_tariff/external/2012"]["value"] == pytest.approx(81.25)
        assert "jobcoach_tariff/external/2026" in last.new_values
        # unchanged rows are not repeated in the audit event
        assert "wml_month//2025" not in last.new_values
        # saving the same table again writes nothing
        assert (
            save_cost_parameters(
                s, study_id, table.to_dict("records"), actor="an", at=AT,
                previous=table.to_dict("records"),
            )
            is None
        )  # fmt: skip
        assert cost_parameters_frame(s, study_id)[1] == 2


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"value": "veel"}, "moet een getal zijn"),
        ({"value": -5}, "kan niet negatief zijn"),
        ({"value": float("inf")}, "moet een getal zijn"),
        ({"year": "2025.5"}, "heel jaartal"),
        ({"year": 1700}, "heel jaartal"),
        ({"coach_type": "intern"}, "'internal', 'external' of leeg"),
        ({"key": ""}, "geen naam"),
    ],
)
def test_bad_rows_are_refused_in_dutch(db, change: dict, message: str) -> None:
    with db.sessions.begin() as s:
        study_id = build_cohort(s, AT, n_trajectories=1).study_id
    table = rows()
    table[0] = {**table[0], **change}
    with db.sessions.begin() as s, pytest.raises(InvalidInput) as refused:
        save_cost_parameters(s, study_id, table, actor="an", at=AT)
    assert message in refused.value.message("nl")
    assert refused.value.message("nl").startswith("regel 1")
    with db.sessions.begin() as s:
        assert cost_parameters_frame(s, study_id) == (None, 0)


def test_missing_and_duplicate_parameters_are_refused(db) -> None:
    with db.sessions.begin() as s:
        study_id = build_cohort(s, AT, n_trajectories=1).study_id
    without = [r for r in rows() if r["key"] != "discount_rate"]
    with db.sessions.begin() as s, pytest.raises(InvalidInput, match="missing: discount_rate"):
        save_cost_parameters(s, study_id, without, actor="an", at=AT)
    twice = [*rows(), rows()[0]]
    with db.sessions.begin() as s, pytest.raises(InvalidInput) as refused:
        save_cost_parameters(s, study_id, twice, actor="an", at=AT)
    assert "twee keer" in refused.value.message("nl")
    with db.sessions.begin() as s, pytest.raises(InvalidInput, match="empty"):
        save_cost_parameters(s, study_id, [], actor="an", at=AT)
    with db.sessions.begin() as s, pytest.raises(NotFound):
        save_cost_parameters(s, study_id + 99, rows(), actor="an", at=AT)


def test_sick_leave_spells_and_registers(any_db) -> None:
    with any_db.sessions.begin() as s:
        cohort = build_cohort(s, AT, n_trajectories=2, first_start=dt.date(2025, 6, 2))
    tid = cohort.trajectory_ids[0]
    events = [
        (dt.date(2025, 6, 12), "sick_leave_start"),
        (dt.date(2025, 6, 20), "sick_leave_start"),  # continues the open spell
        (dt.date(2025, 6, 26), "sick_leave_end"),
        (dt.date(2025, 7, 1), "sick_leave_end"),  # an end without a start
        (dt.date(2025, 9, 1), "sick_leave_start"),
        (dt.date(2025, 12, 1), "sick_leave_end"),  # after as_of: the spell is still open
    ]
    with any_db.sessions.begin() as s:
        for day, kind in events:
            services.record_employment_event(
                s, cohort.study_id, tid, {"event_date": day, "kind": kind}, actor="test", at=AT
            )
    with any_db.sessions.begin() as s:
        scope = trajectory_scope(cohort.study_id)
        spells = sick_leave_frame(s, scope, as_of=dt.date(2025, 10, 1))
        assert spells["trajectory_id"].tolist() == [tid, tid]
        assert spells["start_days"].tolist() == [10.0, 91.0]
        assert spells["end_days"].iloc[0] == 24.0
        assert spells["end_days"].isna().iloc[1]
        registers = registers_frame(s, scope)
        assert registers["doelgroepregister"].tolist() == [True, True]
