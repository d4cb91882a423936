"""The MKBA page over HTTP: no balance without a chosen comparison, a balance with one, Dutch
refusals of bad input, roles (a jobcoach is refused, a viewer sees rounded aggregates of at
least k people and may not change parameters) and audited parameter changes."""

from __future__ import annotations

import json
import time

from sqlalchemy import select

from analysis.cost_benefit import NO_ARM, NO_COMPARISON
from analysis.costs import default_parameters
from study.models import AuditEvent, CostParameterSet
from tests.dashboard.conftest import Env, dash_post, route_to
from tests.dashboard.test_analysis_pages import rich_env  # noqa: F401

OUT = [
    ("mkba-summary", "children"),
    ("mkba-balance", "children"),
    ("mkba-dose", "children"),
    ("mkba-status", "children"),
    ("mkba-poll", "disabled"),
    ("mkba-choice-error", "children"),
]


def call(client, *, kind="none", label=None, source=None, curve=None, days=None, sick=None,
         horizon=12, tick=None):  # fmt: skip
    return dash_post(
        client,
        OUT,
        [
            ("mkba-compute", "n_clicks", 1),
            ("mkba-horizon", "value", horizon),
            ("mkba-poll", "n_intervals", tick),
        ],
        [
            ("mkba-kind", "value", kind),
            ("mkba-label", "value", label),
            ("mkba-source", "value", source),
            ("mkba-curve", "value", curve),
            ("mkba-days", "value", days),
            ("mkba-sick", "value", sick),
        ],
    )


def until_done(client, **kw) -> str:
    for tick in range(240):
        resp = call(client, tick=tick, **kw)
        assert resp.status_code == 200, resp.get_data(as_text=True)[:500]
        body = resp.get_json()["response"]
        if body.get("mkba-poll", {}).get("disabled") is True:
            return json.dumps(body, ensure_ascii=False)
        time.sleep(0.25)
    raise AssertionError("the job did not finish")


def test_without_a_comparison_only_costs_and_outcomes(rich_env: Env) -> None:  # noqa: F811
    text = until_done(rich_env.login("researcher"))
    assert "Kosten en uitkomsten" in text
    assert "Gemiddelde tijd in werk tot 12 maanden" in text
    assert NO_COMPARISON["nl"][:60] in text
    assert "mkba-balance-table" not in text and "maatschappij" not in text


def test_a_scenario_gives_the_balance_per_actor(rich_env: Env) -> None:  # noqa: F811
    text = until_done(
        rich_env.login("researcher"),
        kind="scenario",
        label="Wat als 15 dagen",
        days="15",
        sick="2,5",
    )
    assert "mkba-balance-table" in text and "mkba-figures-table" in text
    for actor in ("werknemer", "werkgever", "gemeente", "UWV", "maatschappij"):
        assert actor in text
    assert "Vergeleken met: Wat als 15 dagen" in text
    assert "Wat-als-scenario, geen meting" in text
    assert "Break-even" in text and "mkba-tornado" in text


def test_an_arm_without_members_says_why(rich_env: Env) -> None:  # noqa: F811
    text = until_done(rich_env.login("researcher"), kind="arm", label="controlegroep")
    assert NO_ARM["nl"] in text
    assert "mkba-balance-table" not in text


def test_bad_comparisons_are_refused_in_dutch(rich_env: Env) -> None:  # noqa: F811
    client = rich_env.login("researcher")
    cases = [
        ({"kind": "benchmark", "label": "UWV", "curve": "0:1; 6:0,8"}, "Geef de bron"),
        (
            {"kind": "benchmark", "label": "UWV", "source": "x", "curve": "0:1; 6:1,4"},
            "maand:aandeel",
        ),
        (
            {"kind": "benchmark", "label": "UWV", "source": "x", "curve": "6:0,8; 3:0,9"},
            "maand:aandeel",
        ),
        ({"kind": "scenario", "label": "x", "days": "veel"}, "moet een getal zijn"),
        ({"kind": "scenario", "label": "x", "days": "1e9"}, "tussen -366 en 366"),
        ({"kind": "scenario", "label": " ", "days": "3"}, "Geef de vergelijking een naam"),
        ({"kind": "'; DROP TABLE study; --", "label": "x"}, "Kies waarmee"),
    ]
    for fields, message in cases:
        resp = call(client, **fields)
        assert resp.status_code == 200
        body = resp.get_json()["response"]
        assert message in json.dumps(body["mkba-choice-error"], ensure_ascii=False), fields
        assert "mkba-summary" not in body  # nothing was computed


def test_a_jobcoach_is_refused(rich_env: Env) -> None:  # noqa: F811
    client = rich_env.login("coach1")
    assert "mkba-summary" not in route_to(client, "/mkba").get_data(as_text=True)
    assert call(client).status_code in (401, 403)


def test_a_viewer_sees_rounded_aggregates(rich_env: Env) -> None:  # noqa: F811
    client = rich_env.login("viewer")
    assert "mkba-summary" in route_to(client, "/mkba").get_data(as_text=True)
    text = until_done(client, kind="scenario", label="wat als", days="10")
    assert "≈ 30" in text  # n rounded to a multiple of k
    assert "mkba-balance-table" in text
    # a viewer may not change the parameters
    resp = dash_post(
        client, [("mkba-saved", "children"), ("mkba-parameters", "children")],
        [("mkba-save", "n_clicks", 1)],
        [("mkba-parameter-table", "data", default_parameters().to_dict("records")),
         ("mkba-reason", "value", "x")],
    )  # fmt: skip
    assert resp.status_code in (401, 403)


def test_a_viewer_of_a_small_study_sees_nothing(env: Env) -> None:
    text = until_done(env.login("viewer"), kind="scenario", label="wat als", days="10")
    assert "Minder dan 10 deelnemers" in text
    assert "mkba-summary-table" not in text


def save(client, rows, reason="nieuw tarief"):
    return dash_post(
        client, [("mkba-saved", "children"), ("mkba-parameters", "children")],
        [("mkba-save", "n_clicks", 1)],
        [("mkba-parameter-table", "data", rows), ("mkba-reason", "value", reason)],
    )  # fmt: skip


def test_researcher_changes_parameters_audited(rich_env: Env) -> None:  # noqa: F811
    client = rich_env.login("researcher")
    rows = default_parameters().astype(object).to_dict("records")
    bad = [dict(r) for r in rows]
    bad[0]["value"] = "duur"
    resp = save(client, bad)
    assert resp.status_code == 200
    assert "moet een getal zijn" in resp.get_data(as_text=True)
    crafted = save(client, "not a table")
    assert "de tabel met parameters is leeg" in crafted.get_data(as_text=True)
    for r in rows:
        if r["key"] == "jobcoach_tariff":
            r["value"] = "80,10"
    resp = save(client, rows)
    assert "Opgeslagen als versie 1" in resp.get_data(as_text=True)
    again = save(client, rows)
    assert "Niets gewijzigd" in again.get_data(as_text=True)
    with rich_env.container.read_sessions() as s:
        assert s.scalar(select(CostParameterSet.version)) == 1
        event = s.scalars(select(AuditEvent).where(AuditEvent.entity == "cost_parameters")).one()
        assert event.actor == "researcher" and event.reason == "nieuw tarief"
        assert event.new_values["jobcoach_tariff/external/2012"]["value"] == 80.1


def test_a_viewer_gets_no_balance_against_a_small_arm(env: Env) -> None:
    from types import SimpleNamespace

    from analysis.cost_benefit import cost_benefit
    from analysis.mkba import Comparison
    from dashboard.analysis_page import Outcome
    from dashboard.jobs import DONE
    from dashboard.pages import mkba as page
    from tests.analysis.test_cost_benefit import frames

    trajectories, survival, contacts, sick = frames(120)
    arm = trajectories["method"] == "none"
    keep = trajectories[~arm | (arm.cumsum() <= 5)]  # an arm of 5 people
    cb = cost_benefit(keep, survival, contacts, sick, default_parameters(), horizon_days=365.25,
                      year=2025, comparison=Comparison("arm", "controle"), replicates=20,
                      dose_replicates=0)  # fmt: skip
    assert cb.arm_n == 5 and cb.result is not None
    status = SimpleNamespace(state=DONE, done=True, cached=True, seconds=None,
                             result={"analysis": cb, "snapshot": "abc"})  # fmt: skip
    for rows_allowed, shown in ((True, True), (False, False)):
        outcome = Outcome(None, "nl", rows_allowed, 10, status)  # type: ignore[arg-type]
        summary, balance, _dose, _note, stop = page.render(outcome, "arm")
        parts = [*summary, *balance]
        text = json.dumps([c.to_plotly_json() for c in parts], default=str, ensure_ascii=False)
        assert stop is True
        assert ("mkba-balance-table" in text) is shown
        assert ("mkba-summary-table" in text) is shown  # nor the means without the arm
        assert ("Minder dan 10 deelnemers" in text) is not shown
    # an empty arm reads the same to a viewer as a small one
    empty = cost_benefit(trajectories[~arm], survival, contacts, sick, default_parameters(),
                         horizon_days=365.25, year=2025, comparison=Comparison("arm", "controle"),
                         replicates=20, dose_replicates=0)  # fmt: skip
    assert empty.arm_n == 0

    def viewer_sees(result) -> list:
        done_ = SimpleNamespace(**{**vars(status), "result": {"analysis": result, "snapshot": "a"}})
        outcome = Outcome(None, "nl", False, 10, done_)  # type: ignore[arg-type]
        summary, balance, dose, _note, _stop = page.render(outcome, "arm")
        return [c.to_plotly_json() for c in [*summary, *balance, *dose]]

    assert viewer_sees(empty) == viewer_sees(cb)
