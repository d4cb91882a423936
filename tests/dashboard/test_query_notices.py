"""Open data queries are shown to the client's jobcoach in the workspace and counted for
researchers on the monitor; viewers and other coaches see none."""

from __future__ import annotations

from study.services import queries
from tests.dashboard.conftest import Env, route_to
from tests.dashboard.test_record import _people, rec  # noqa: F401


def _ask(env: Env, participant_id: int, text: str) -> int:
    with env.container.sessions.begin() as s:
        return queries.open_query(
            s, env.cohort.study_id, "participant", participant_id, None, text,
            actor="researcher", at=env.clock.now(),
        ).id  # fmt: skip


def test_notices_reach_the_right_people(rec: Env) -> None:  # noqa: F811
    pid, code = _people(rec, 0)[0]
    qid = _ask(rec, pid, "Klopt het geboortejaar?")
    coach = route_to(rec.login("coach1"), "/workspace").get_data(as_text=True)
    assert "workspace-open-queries" in coach and f"/record?code={code}" in coach
    assert "workspace-open-queries" not in route_to(rec.login("coach2"), "/workspace").get_data(as_text=True)  # fmt: skip
    monitor = route_to(rec.login("researcher"), "/monitor").get_data(as_text=True)
    assert "monitor-open-queries" in monitor and f"#{qid} {code}" in monitor
    assert "monitor-open-queries" not in route_to(rec.login("viewer"), "/monitor").get_data(as_text=True)  # fmt: skip
    with rec.container.sessions.begin() as s:
        queries.close_query(s, rec.cohort.study_id, qid, actor="researcher", at=rec.clock.now())  # fmt: skip
    assert "monitor-open-queries" not in route_to(rec.login("researcher"), "/monitor").get_data(as_text=True)  # fmt: skip
