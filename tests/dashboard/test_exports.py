"""Exports: formats, value labels, pseudonymisation, authorisation and the audit log."""

from __future__ import annotations

import io
import tempfile
from pathlib import Path

import pandas as pd
import pyreadstat
from sqlalchemy import select

from study.models import AuditEvent, ParticipantIdentity
from tests.dashboard.conftest import Env, route_to


def _download(client, kind: str):
    resp = client.get(f"/export/{kind}")
    return resp


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
    assert "/export/codebook" in page and "/export/csv_long" not in page


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
