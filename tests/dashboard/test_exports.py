"""Exports: formats, value labels, pseudonymisation, authorisation and the audit log."""

from __future__ import annotations

import io
import json
import tempfile
import threading
import time
from pathlib import Path

import pandas as pd
import pyreadstat
from sqlalchemy import select

from study.models import AuditEvent, ParticipantIdentity
from tests.dashboard.conftest import Env, HeldJobs, csrf_headers, route_to


def _download(client, kind: str):
    """GET the export, asking again while it is being prepared (202), as a script would."""
    for _ in range(120):
        resp = client.get(f"/export/{kind}")
        if resp.status_code != 202:
            return resp
        assert resp.headers["Retry-After"] == "2" and 0 <= resp.get_json()["progress"] <= 1
        time.sleep(0.25)
    raise AssertionError("the export was not ready in 30 s")


def test_researcher_exports_every_format(forms_env: Env) -> None:
    c = forms_env.login("researcher")
    long = pd.read_csv(io.BytesIO(_download(c, "csv_long").data))
    assert {"study_code", "wave", "respondent", "score", "value", "status"} <= set(long.columns)
    assert set(long["study_code"]) == {f"P{i:04d}" for i in range(1, 7)}
    wide = pd.read_csv(io.BytesIO(_download(c, "csv_wide").data))
    assert len(wide) == 6 and any(col.startswith("emp_klik_") for col in wide.columns)
    parquet = pd.read_parquet(io.BytesIO(_download(c, "parquet").data))
    assert len(parquet) == len(long)
    with tempfile.TemporaryDirectory() as tmp:
        for kind in ("sav", "dta"):
            path = Path(tmp) / f"x.{kind}"
            path.write_bytes(_download(c, kind).data)
            reader = pyreadstat.read_sav if kind == "sav" else pyreadstat.read_dta
            frame, meta = reader(str(path))
            assert len(frame) == 6
            assert meta.variable_value_labels["method"][2] == "IPS"
            assert meta.variable_value_labels["coach_type"] == {
                1: "Internal job coach",
                2: "External job coach",
            }
    book = pd.read_csv(io.BytesIO(_download(c, "codebook").data))
    assert {"variable", "label", "code", "value"} <= set(book.columns)
    assert "method" in set(book["variable"])


def test_exports_never_contain_identities(forms_env: Env) -> None:
    with forms_env.container.read_sessions() as s:
        emails = [e for e in s.scalars(select(ParticipantIdentity.email)) if e]
    assert emails
    c = forms_env.login("researcher")
    for kind in ("csv_long", "csv_wide"):
        text = _download(c, kind).get_data(as_text=True)
        assert not any(email in text for email in emails)


def test_jobcoach_exports_only_own_clients(forms_env: Env) -> None:
    c = forms_env.login("coach1")
    wide = pd.read_csv(io.BytesIO(_download(c, "csv_wide").data))
    assert set(wide["jobcoach_id"]) == {forms_env.cohort.jobcoach_ids[0]}


def test_viewer_gets_no_row_level_export(forms_env: Env) -> None:
    c = forms_env.login("viewer")
    for kind in ("csv_long", "csv_wide", "sav", "dta", "parquet"):
        assert _download(c, kind).status_code == 403
    assert _download(c, "codebook").status_code == 200
    page = route_to(c, "/exports").get_data(as_text=True)
    assert '"codebook"' in page and '"csv_long"' not in page


def test_every_export_is_audited_and_anonymous_is_refused(forms_env: Env) -> None:
    assert forms_env.client().get("/export/csv_long").status_code == 401
    c = forms_env.login("researcher")
    _download(c, "csv_long")
    _download(c, "sav")
    assert _download(c, "nonsense").status_code == 404
    with forms_env.container.read_sessions() as s:
        events = s.execute(
            select(AuditEvent.actor, AuditEvent.new_values).where(AuditEvent.action == "export")
        ).all()
    kinds = [e.new_values["kind"] for e in events]
    assert kinds == ["csv_long", "sav"]
    assert all(e.actor == "researcher" and e.new_values["trajectories"] == 6 for e in events)


def _sid(component_id: dict) -> str:
    return json.dumps(component_id, sort_keys=True, separators=(",", ":"))


def _make(client, kind: str, tick: int = 0) -> dict:
    """The exports page's "Make" callback for ``kind``, as the browser posts it."""
    make = {"kind": kind, "type": "export-make"}
    state = {"kind": kind, "type": "export-state"}
    poll = {"kind": kind, "type": "export-poll"}
    # the callback is registered under its pattern: the kind as ["MATCH"]
    pattern = {"kind": ["MATCH"]}
    body = {
        "output": f"..{_sid({**state, **pattern})}.children...{_sid({**poll, **pattern})}.disabled..",
        "outputs": [{"id": state, "property": "children"}, {"id": poll, "property": "disabled"}],
        "inputs": [
            {"id": make, "property": "n_clicks", "value": 1},
            {"id": poll, "property": "n_intervals", "value": tick},
        ],
        "changedPropIds": [f"{_sid(make)}.n_clicks"],
        "state": [{"id": make, "property": "id", "value": make}],
    }
    resp = client.post("/_dash-update-component", json=body, headers=csrf_headers(client))
    assert resp.status_code == 200, resp.get_data(as_text=True)[:300]
    out = resp.get_json()["response"]
    return {"state": out[_sid(state)]["children"], "polling": not out[_sid(poll)]["disabled"]}


def test_the_page_prepares_an_export_and_then_links_it(forms_env: Env) -> None:
    c = forms_env.login("researcher")
    for tick in range(60):
        made = _make(c, "csv_wide", tick)
        if not made["polling"]:
            break
        time.sleep(0.25)
    link = made["state"]["props"]
    assert link["href"].startswith("/export/csv_wide?job=") and link["download"] == "klik_wide.csv"
    assert "Downloaden klik_wide.csv" in link["children"]
    first = c.get(link["href"])
    assert first.status_code == 200 and len(pd.read_csv(io.BytesIO(first.data))) == 6
    # downloading is no change of data: the link (and the same export asked again) still serve
    # the file at once
    assert c.get(link["href"]).status_code == 200
    assert c.get("/export/csv_wide").status_code == 200
    # another user cannot fetch that job's file by its name: they get their own export
    coach = forms_env.login("coach1")
    theirs = pd.read_csv(
        io.BytesIO(_download(coach, f"csv_wide?job={link['href'].split('=')[1]}").data)
    )
    assert set(theirs["jobcoach_id"]) == {forms_env.cohort.jobcoach_ids[0]}


def test_a_crafted_make_request_is_refused_to_a_viewer(forms_env: Env) -> None:
    made = _make(forms_env.login("viewer"), "csv_long")
    assert "u mag alleen totalen zien" in json.dumps(made["state"], ensure_ascii=False)
    assert not made["polling"]


def test_a_slow_export_reports_progress_and_blocks_no_one(forms_env: Env, monkeypatch) -> None:
    from dashboard import exports
    from dashboard.jobs import JobRunner

    held = HeldJobs(exports.export_job, fraction=0.1)
    monkeypatch.setattr(exports, "ROUTE_WAIT", 0.2)
    monkeypatch.setattr(exports, "export_job", held)
    # the job waits for an event of this process: it must run on a thread of this process
    forms_env.app.extensions["klik_jobs"] = JobRunner()
    c = forms_env.login("researcher")
    first = c.get("/export/csv_long")
    assert first.status_code == 202 and first.get_json()["progress"] == 0.1
    made = _make(c, "csv_long")
    assert made["polling"] and "Bezig met berekenen" in json.dumps(made["state"])
    # another user's pages answer while the export is being built
    other = forms_env.login("coach1")
    answers: list[int] = []
    asked = threading.Thread(
        target=lambda: answers.append(route_to(other, "/workspace").status_code)
    )
    asked.start()
    asked.join(60)  # a guard against hanging, not a speed limit: the export is still held
    assert answers == [200] and not held.release.is_set()
    held.release.set()
    text = _download(c, "csv_long").get_data(as_text=True)
    assert text.startswith("study_code,")


def test_codebook_lists_the_cost_parameters_and_their_sources(forms_env: Env) -> None:
    from analysis.costs import default_parameters
    from study.services.cost_parameters import save_cost_parameters

    for user in ("researcher", "viewer"):
        book = pd.read_csv(io.BytesIO(_download(forms_env.login(user), "codebook").data))
        rows = book[book["variable"].str.startswith("cost_parameter:")]
        assert len(rows) == len(default_parameters())
        tariff = rows[rows["variable"] == "cost_parameter:jobcoach_tariff"].iloc[0]
        assert tariff["code"] == 2012 and float(tariff["value"]) == 73.3
        assert "uwvjaarverslag" in tariff["label_nl"] and tariff["label_nl"].startswith("bron:")
        assert "jobcoach: external" in tariff["label_en"]
    changed = default_parameters().to_dict("records")
    changed.append({**changed[0], "year": 2030, "value": 1.5, "source": "eigen meting 2030"})
    with forms_env.container.sessions.begin() as s:
        save_cost_parameters(
            s, forms_env.cohort.study_id, changed, actor="test", at=forms_env.clock.now()
        )
    book = pd.read_csv(io.BytesIO(_download(forms_env.login("researcher"), "codebook").data))
    assert "eigen meting 2030" in " ".join(book["label_nl"].dropna())
