"""The lookups behind the enrolment form: the next free study code, coaches, employers."""

from __future__ import annotations

import datetime as dt

from study.access import trajectory_scope
from study.enrolment_lists import (
    consent_version,
    jobcoach_profile,
    next_study_code,
    participant_of,
    study_employers,
    study_jobcoaches,
)
from tests import factory
from tests.conftest import Database

AT = dt.datetime(2026, 1, 5, 9, tzinfo=dt.UTC)


def test_next_study_code_follows_the_latest_numbering(db: Database) -> None:
    with db.sessions.begin() as s:
        study = factory.add_study(s, AT)
        other = factory.add_study(s, AT, "S2")
        assert next_study_code(s, study.id) == "P0001"
        for code in ("AMS-007", "AMS-003", "x_1"):
            factory.enrol(s, study.id, AT, code)
        factory.enrol(s, other.id, AT, "AMS-050")  # another study's codes do not count
        # the latest code has prefix "x_" ("_" is no wildcard here)
        assert next_study_code(s, study.id) == "x_2"
        factory.enrol(s, study.id, AT, "AMS-004")
        assert next_study_code(s, study.id) == "AMS-008"
        factory.enrol(s, study.id, AT, "zonder-nummer")
        assert next_study_code(s, study.id) == "AMS-008"  # skips codes without a number


def test_lookups_stay_inside_the_study_and_scope(db: Database) -> None:
    with db.sessions.begin() as s:
        cohort = factory.build_cohort(s, AT, n_trajectories=4, n_coaches=2)
        other = factory.add_study(s, AT, "S2")
        stranger = factory.add_coach(s, other.id, AT, "JC99")
        coaches = study_jobcoaches(s, cohort.study_id)
        assert coaches["code"].tolist() == ["JC01", "JC02"]
        assert set(coaches.columns) == {"jobcoach_id", "code", "name", "coach_type", "method"}
        assert study_employers(s, cohort.study_id)["employer_id"].tolist() == sorted(
            cohort.employer_ids
        )
        assert jobcoach_profile(s, cohort.study_id, cohort.jobcoach_ids[0]) is not None
        assert jobcoach_profile(s, cohort.study_id, stranger.id) is None
        assert consent_version(s, cohort.study_id) == "1.0"
        own = trajectory_scope(cohort.study_id, jobcoach_id=cohort.jobcoach_ids[0])
        first, second = cohort.trajectory_ids[:2]
        assert participant_of(s, own, first) == cohort.participant_ids[0]
        assert participant_of(s, own, second) is None  # the other coach's client
