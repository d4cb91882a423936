"""Exports: pseudonymised data as CSV (long and wide), SPSS, Stata, Parquet, and a codebook.

The builders are pure (frames in, bytes out). The route ``/export/<kind>`` reads the frames for
the trajectories the user may see (``study.access``), refuses row-level kinds to viewers, and
writes every export to the audit log. No export reads the identity table: participants appear
only by study code.
"""

from __future__ import annotations

import io
import tempfile
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path

import pandas as pd
from flask import Flask, Response, jsonify

from dashboard import context
from study.access import may_see_rows
from study.vocab import (
    Benefit,
    CoachType,
    EmploymentForm,
    EndReason,
    Funder,
    Gender,
    Labelled,
    Method,
    Respondent,
)

#: categorical columns and the vocabularies whose labels become value labels
CATEGORIES: dict[str, type[StrEnum]] = {
    "funder": Funder,
    "employment_form": EmploymentForm,
    "method": Method,
    "coach_type": CoachType,
    "benefit": Benefit,
    "gender": Gender,
    "end_reason": EndReason,
    "respondent": Respondent,
}
STATUS_CODES = ("on_time", "late", "missing", "open", "cancelled")

VARIABLE_LABELS: dict[str, str] = {
    "trajectory_id": "Trajectory key",
    "study_code": "Pseudonymous study code of the employee",
    "jobcoach_id": "Jobcoach key",
    "organisation_id": "Jobcoach organisation key",
    "employer_id": "Employer key",
    "start_date": "Start of the trajectory",
    "end_date": "End of the trajectory",
    "end_reason": "Why the trajectory ended",
    "funder": "Funder",
    "employment_form": "Employment form",
    "contract_hours": "Contract hours per week",
    "loonwaarde": "Wage value (% of a standard worker)",
    "maatje": "Buddy colleague (maatje)",
    "method": "Coaching method",
    "coach_type": "Internal or external jobcoach",
    "benefit": "Benefit",
    "gender": "Gender",
    "birth_year": "Birth year",
    "age_at_start": "Age at the start",
    "n_contacts": "Number of coaching contacts",
    "contact_minutes_per_month": "Contact minutes per month, first 3 months",
    "wave": "Wave",
    "wave_index": "Wave number (0 = baseline)",
    "months": "Months since start at the due date",
    "respondent": "Who answered",
    "instrument_id": "Questionnaire",
    "status": "Response status",
    "submitted_at": "Submitted at (Europe/Amsterdam)",
    "score": "Score",
    "value": "Score value",
    "due_date": "Due date",
}

KINDS: dict[str, dict[str, str]] = {
    "csv_long": {"nl": "CSV, lang (één rij per score per meting)", "en": "CSV, long (one row per score per wave)"},
    "csv_wide": {"nl": "CSV, breed (één rij per traject)", "en": "CSV, wide (one row per trajectory)"},
    "sav": {"nl": "SPSS (.sav, breed, met waardelabels)", "en": "SPSS (.sav, wide, with value labels)"},
    "dta": {"nl": "Stata (.dta, breed, met waardelabels)", "en": "Stata (.dta, wide, with value labels)"},
    "parquet": {"nl": "Parquet (lang)", "en": "Parquet (long)"},
    "codebook": {"nl": "Codeboek (CSV)", "en": "Codebook (CSV)"},
}  # fmt: skip
#: kinds a viewer (aggregates only) may download
AGGREGATE_KINDS = ("codebook",)


def long_frame(trajectories: pd.DataFrame, person_wave: pd.DataFrame) -> pd.DataFrame:
    """One row per trajectory, wave, respondent and score, with the study code.

    Returns
    -------
    DataFrame
        study_code, trajectory_id, jobcoach_id, wave, wave_index, months, respondent,
        instrument_id, status, due_date, submitted_at, score, value.
    """
    cols = [
        "study_code", "trajectory_id", "jobcoach_id", "wave", "wave_index", "months",
        "respondent", "instrument_id", "status", "due_date", "submitted_at", "score", "value",
    ]  # fmt: skip
    merged = person_wave.merge(trajectories[["trajectory_id", "study_code"]], on="trajectory_id")
    return merged[cols].reset_index(drop=True)


def wide_frame(trajectories: pd.DataFrame, person_wave: pd.DataFrame) -> pd.DataFrame:
    """One row per trajectory: baseline covariates plus ``<respondent>_<score>_<wave>`` columns.

    Respondents are abbreviated (emp, jc, er) so names stay within Stata's 32 characters.
    """
    short = {"employee": "emp", "jobcoach": "jc", "employer": "er"}
    base = trajectories.drop(columns=[c for c in trajectories.columns if c.startswith("_")])
    scored = person_wave.dropna(subset=["score"])
    if scored.empty:
        return base.reset_index(drop=True)
    keys = scored.assign(
        column=scored["respondent"].map(short).fillna(scored["respondent"])
        + "_"
        + scored["score"]
        + "_"
        + scored["wave"]
    )
    wide = keys.pivot_table(
        index="trajectory_id", columns="column", values="value", aggfunc="first"
    )
    wide.columns = [c[:32] for c in wide.columns]
    return base.merge(wide.reset_index(), on="trajectory_id", how="left").reset_index(drop=True)


def _coded(frame: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, dict[int, str]]]:
    """Categorical text columns as integer codes, with their value labels (English)."""
    out = frame.copy()
    labels: dict[str, dict[int, str]] = {}
    for col, enum in CATEGORIES.items():
        if col not in out.columns:
            continue
        members = list(enum)
        codes = {m.value: i + 1 for i, m in enumerate(members)}
        out[col] = out[col].map(codes).astype("float")
        labels[col] = {
            i + 1: (m.label("en") if isinstance(m, Labelled) else m.value)
            for i, m in enumerate(members)
        }
    if "status" in out.columns:
        out["status"] = (
            out["status"].map({s: i + 1 for i, s in enumerate(STATUS_CODES)}).astype(float)
        )
        labels["status"] = {i + 1: s for i, s in enumerate(STATUS_CODES)}
    for col in out.columns:
        if pd.api.types.is_bool_dtype(out[col]):
            out[col] = out[col].astype(float)
            labels[col] = {0: "no", 1: "yes"}
        elif pd.api.types.is_datetime64_any_dtype(out[col]):
            out[col] = out[col].dt.tz_localize(None) if out[col].dt.tz is not None else out[col]
        elif str(out[col].dtype) == "Int64":
            out[col] = out[col].astype(float)
    return out, labels


def to_csv(frame: pd.DataFrame) -> bytes:
    """UTF-8 CSV with a header row (ISO dates, dot decimals)."""
    return frame.to_csv(index=False, date_format="%Y-%m-%d").encode("utf-8")


def to_parquet(frame: pd.DataFrame) -> bytes:
    buffer = io.BytesIO()
    frame.to_parquet(buffer, index=False)
    return buffer.getvalue()


def _via_file(
    write: Callable[[pd.DataFrame, str], None], frame: pd.DataFrame, suffix: str
) -> bytes:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"export{suffix}"
        write(frame, str(path))
        return path.read_bytes()


def to_sav(frame: pd.DataFrame) -> bytes:
    """SPSS .sav with variable labels and value labels for every categorical column."""
    import pyreadstat

    coded, labels = _coded(frame)
    return _via_file(
        lambda df, path: pyreadstat.write_sav(
            df, path,
            column_labels={c: VARIABLE_LABELS.get(c, c) for c in df.columns},
            variable_value_labels=labels,
        ),
        coded, ".sav",
    )  # fmt: skip


def to_dta(frame: pd.DataFrame) -> bytes:
    """Stata .dta with variable labels and value labels for every categorical column."""
    import pyreadstat

    coded, labels = _coded(frame)
    return _via_file(
        lambda df, path: pyreadstat.write_dta(
            df, path,
            column_labels={c: VARIABLE_LABELS.get(c, c)[:80] for c in df.columns},
            variable_value_labels=labels,
        ),
        coded, ".dta",
    )  # fmt: skip


def codebook(columns: list[str]) -> pd.DataFrame:
    """What every exported variable means, with its codes and labels (Dutch and English).

    Returns
    -------
    DataFrame
        variable, label, code, value, label_nl, label_en (one row per code; variables without
        codes have one row with empty code columns).
    """
    rows = []
    for col in columns:
        label = VARIABLE_LABELS.get(col) or _score_label(col)
        enum = CATEGORIES.get(col)
        if enum is not None:
            for i, m in enumerate(enum):
                nl = m.label("nl") if isinstance(m, Labelled) else m.value
                en = m.label("en") if isinstance(m, Labelled) else m.value
                rows.append((col, label, i + 1, m.value, nl, en))
        elif col == "status":
            for i, s in enumerate(STATUS_CODES):
                rows.append((col, label, i + 1, s, s, s))
        else:
            rows.append((col, label, None, None, None, None))
    return pd.DataFrame(
        rows, columns=["variable", "label", "code", "value", "label_nl", "label_en"]
    )


def _score_label(col: str) -> str:
    parts = col.split("_")
    who = {"emp": "employee", "jc": "jobcoach", "er": "employer"}.get(parts[0])
    if who and len(parts) >= 3:
        return f"{'_'.join(parts[1:-1])} rated by the {who} at wave {parts[-1]}"
    return col


def build(
    kind: str, trajectories: pd.DataFrame, person_wave: pd.DataFrame
) -> tuple[bytes, str, str]:
    """The file for ``kind``: (content, file name, MIME type)."""
    long = long_frame(trajectories, person_wave)
    if kind == "csv_long":
        return to_csv(long), "klik_long.csv", "text/csv"
    wide = wide_frame(trajectories, person_wave)
    if kind == "csv_wide":
        return to_csv(wide), "klik_wide.csv", "text/csv"
    if kind == "sav":
        return to_sav(wide), "klik_wide.sav", "application/x-spss-sav"
    if kind == "dta":
        return to_dta(wide), "klik_wide.dta", "application/x-stata-dta"
    if kind == "parquet":
        return to_parquet(long), "klik_long.parquet", "application/vnd.apache.parquet"
    if kind == "codebook":
        columns = list(dict.fromkeys([*long.columns, *wide.columns]))
        return to_csv(codebook(columns)), "klik_codebook.csv", "text/csv"
    raise ValueError(f"unknown export kind {kind!r}")


def init_routes(server: Flask) -> None:
    """Install ``GET /export/<kind>`` (login required; viewers only get the codebook)."""

    @server.get("/export/<kind>")
    def export(kind: str) -> Response | tuple[Response, int]:
        from study.read_models import person_wave_frame, trajectories_frame

        user = context.require_user()
        lang = context.lang()
        if kind not in KINDS:
            return jsonify(
                error={"nl": "onbekend exportformaat", "en": "unknown export format"}[lang]
            ), 404
        if kind not in AGGREGATE_KINDS and not may_see_rows(user):
            return jsonify(
                error={"nl": "u mag alleen totalen zien", "en": "you may see aggregates only"}[lang]
            ), 403
        as_of = context.today()
        with context.read_session() as s:
            scope = context.scope()
            trajectories = trajectories_frame(s, scope, as_of=as_of)
            person_wave = person_wave_frame(s, scope, as_of=as_of, scores=None)
        if kind == "codebook":
            trajectories, person_wave = trajectories.head(0), person_wave.head(0)
        content, name, mime = build(kind, trajectories, person_wave)
        context.audit_record(
            "export", None,
            what={"kind": kind, "trajectories": len(trajectories), "rows": len(person_wave),
                  "as_of": as_of.isoformat()},
        )  # fmt: skip
        resp = Response(content, mimetype=mime)
        resp.headers["Content-Disposition"] = f'attachment; filename="{name}"'
        return resp
