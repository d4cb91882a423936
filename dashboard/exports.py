"""Exports: pseudonymised data as CSV (long and wide), SPSS, Stata, Parquet, and a codebook.

The builders are pure (frames in, bytes out). An export of a large cohort takes minutes, so it
is built by a background job (:func:`export_job`, on the application's job runner, one per
data version, scope and kind) into a file; the exports page shows its progress and then a
download link. The route ``/export/<kind>`` serves the finished file (or says it is still being
prepared: 202 with the progress), checks the user's rights first (``study.access``; viewers get
the codebook only) and writes every download to the audit log. No export reads the identity
table: participants appear only by study code.

The files go to ``settings.export_folder`` (``KLIK_EXPORT_DIR``, by default ``klik-exports`` in
the study's data folder), which every web process and worker of a study is configured with, so
a file made by a worker for process A downloads from process B. They are pruned by count
(``KLIK_EXPORT_KEEP_FILES``) and age (``KLIK_EXPORT_MAX_AGE_HOURS``) whenever an export is
written. Without a data folder (a server database and no setting) they go to a temporary folder
of the process, removed when it ends.
"""

from __future__ import annotations

import atexit
import datetime as dt
import io
import shutil
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

import pandas as pd
from flask import Flask, Response, current_app, jsonify, request, send_file
from sqlalchemy import Select, false
from sqlalchemy.orm import Session, sessionmaker

from dashboard import context
from dashboard.analysis_jobs import job_key, scope_fingerprint
from dashboard.jobs import (
    DONE,
    FAILED,
    Deferred,
    JobKey,
    JobStatus,
    Progress,
    get_runner,
    prune_files,
)
from dashboard.mkba_jobs import study_parameters
from study.access import may_see_rows
from study.models import User
from study.read_models import person_wave_frame, trajectories_frame
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


def parameter_codebook(params: pd.DataFrame) -> pd.DataFrame:
    """The cost parameters of the MKBA as codebook rows: one per amount, with its year (code),
    value, unit (label) and, in words, its source, payer, receiver and coach type.

    Returns
    -------
    DataFrame
        The columns of :func:`codebook`; variable ``cost_parameter:<key>``.
    """
    rows = []
    for r in params.itertuples(index=False):
        coach = r.coach_type if isinstance(r.coach_type, str) and r.coach_type else None
        nl = f"bron: {r.source}; betaler: {r.payer or '–'}; ontvanger: {r.receiver or '–'}"
        en = f"source: {r.source}; payer: {r.payer or '–'}; receiver: {r.receiver or '–'}"
        if coach:
            nl += f"; jobcoach: {coach}"
            en += f"; jobcoach: {coach}"
        rows.append((f"cost_parameter:{r.key}", r.unit, int(r.year), r.value, nl, en))
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
    kind: str,
    trajectories: pd.DataFrame,
    person_wave: pd.DataFrame,
    parameters: pd.DataFrame | None = None,
) -> tuple[bytes, str, str]:
    """The file for ``kind``: (content, file name, MIME type); the codebook lists the cost
    parameters (``parameters``) after the variables."""
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
        book = codebook(columns)
        if parameters is not None:
            book = pd.concat([book, parameter_codebook(parameters)], ignore_index=True)
        return to_csv(book), "klik_codebook.csv", "text/csv"
    raise ValueError(f"unknown export kind {kind!r}")


#: how long the download route waits for an export before answering "still being prepared"
ROUTE_WAIT = 3.0
#: finished export files kept on disk (older ones are removed)
KEEP_FILES = 24
PREFIX = "export-"
_DIR_KEY = "klik_export_dir"
_dir_lock = threading.Lock()


@dataclass(frozen=True)
class ExportFile:
    """A finished export on disk."""

    path: Path
    name: str
    mime: str
    trajectories: int
    rows: int

    @property
    def size(self) -> int:
        return self.path.stat().st_size if self.path.exists() else 0


def export_job(
    read_sessions: sessionmaker[Session],
    scope: Select[tuple[int]],
    as_of: dt.date,
    *,
    kind: str,
    directory: Path,
    min_cell: int = 0,
    keep: int = KEEP_FILES,
    max_age: float | None = None,
    study_id: int | None = None,
) -> Callable[[Progress], ExportFile]:
    """A background job that reads the frames, builds ``kind`` and writes it into ``directory``
    (then keeps the ``keep`` newest export files there, none older than ``max_age`` seconds)."""
    del min_cell  # row-level exports are for researchers and jobcoaches only

    def run(progress: Progress) -> ExportFile:
        # the codebook describes the columns; it needs no rows
        rows = scope.where(false()) if kind in AGGREGATE_KINDS else scope
        progress(0.05, "trajectories")
        with read_sessions() as session:
            trajectories = trajectories_frame(session, rows, as_of=as_of)
            progress(0.25, "invitations")
            person_wave = person_wave_frame(session, rows, as_of=as_of, scores=None)
            parameters = (
                study_parameters(session, study_id)[0]
                if kind == "codebook" and study_id is not None
                else None
            )
        progress(0.6, "writing")
        content, name, mime = build(kind, trajectories, person_wave, parameters)
        directory.mkdir(parents=True, exist_ok=True)
        suffix = Path(name).suffix
        with tempfile.NamedTemporaryFile(
            dir=directory, prefix=PREFIX, suffix=suffix, delete=False
        ) as handle:
            handle.write(content)
        prune_files(directory, f"{PREFIX}*", keep=keep, max_age=max_age)
        return ExportFile(Path(handle.name), name, mime, len(trajectories), len(person_wave))

    return run


def _export_dir() -> Path:
    """The export files' folder: the shared one of the settings, else this process's own."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    with _dir_lock:
        if _DIR_KEY not in app.extensions:
            settings = context.container().settings
            directory = settings.export_folder
            if directory is None:
                directory = Path(tempfile.mkdtemp(prefix="klik-exports-"))
                # pseudonymised row-level data must not outlive the server in /tmp
                atexit.register(shutil.rmtree, directory, ignore_errors=True)
            else:
                directory.mkdir(parents=True, exist_ok=True, mode=0o700)
                prune_files(
                    directory,
                    f"{PREFIX}*",
                    keep=settings.export_keep_files,
                    max_age=settings.export_max_age_hours * 3600,
                )
            app.extensions[_DIR_KEY] = directory
    return app.extensions[_DIR_KEY]


class ExportRefused(Exception):
    """The user may not have this export; ``status`` is the HTTP status."""

    def __init__(self, status: int, nl: str, en: str) -> None:
        super().__init__(en)
        self.status, self.texts = status, {"nl": nl, "en": en}


def allowed_kinds(user: User) -> list[str]:
    """The export kinds ``user`` may download, in the order shown."""
    rows = may_see_rows(user)
    return [k for k in KINDS if rows or k in AGGREGATE_KINDS]


def start_export(
    kind: str, wait: float, *, job: str | None = None, follow: bool = False
) -> tuple[User, JobStatus]:
    """Check the current user's right to ``kind``, find or submit its job, wait up to ``wait`` s.

    ``job`` names a finished job (its digest, from the page's download link): it is served as
    it was made, however the data changed since, if it belongs to this user's scope. ``follow``
    (the page's poll) takes the newest job of this selection rather than starting another
    when the data changed meanwhile.

    Raises
    ------
    ExportRefused
        Unknown kind (404) or a row-level kind for a viewer (403).
    """
    user = context.require_user()
    if kind not in KINDS:
        raise ExportRefused(404, "onbekend exportformaat", "unknown export format")
    if kind not in allowed_kinds(user):
        raise ExportRefused(403, "u mag alleen totalen zien", "you may see aggregates only")
    scope, as_of = context.released(user, context.scope())
    runner = get_runner()
    mine = JobKey.make("", scope_fingerprint(scope), "export", kind=kind)
    status: JobStatus | None = None
    if job:
        found = runner.find(job)
        # another user's job (another scope) is never served: it is as if it did not exist
        status = found if found is not None and found.key.selection == mine.selection else None
    elif follow:
        status = runner.latest(mine)
    if status is None or _pruned(status):
        with context.read_session() as session:
            key = job_key(session, user.study_id, scope, as_of, "export", kind=kind)
        settings = context.container().settings
        build_job = Deferred(
            export_job,
            context.container().read_sessions,
            scope,
            as_of,
            kind=kind,
            directory=_export_dir(),
            keep=settings.export_keep_files,
            max_age=settings.export_max_age_hours * 3600,
            study_id=user.study_id,
        )
        status = runner.submit(key, build_job)
        if _pruned(status):  # a finished job whose file was removed since: build it again
            runner.forget(status.key)
            status = runner.submit(key, build_job)
    if not status.done and wait > 0:
        status = runner.wait(status.key, wait) or status
    return user, status


def _pruned(status: JobStatus) -> bool:
    return status.state == DONE and not status.result.path.exists()


def init_routes(server: Flask) -> None:
    """Install ``GET /export/<kind>`` (login required; viewers only get the codebook)."""

    @server.get("/export/<kind>")
    def export(kind: str) -> Response | tuple[Response, int]:
        lang = context.lang()
        try:
            user, status = start_export(kind, ROUTE_WAIT, job=request.args.get("job"))
        except ExportRefused as refused:
            return jsonify(error=refused.texts[lang]), refused.status
        if status.state == FAILED:
            # the reason (which may name tables and paths) is for the log, not the browser
            current_app.logger.error("export %s failed: %s", kind, status.error)
            failed = {"nl": "de export is mislukt", "en": "the export failed"}
            if status.stopped:
                failed = {
                    "nl": f"de export is gestopt na de tijdgrens van {status.stopped:g} s",
                    "en": f"the export was stopped after its time limit of {status.stopped:g} s",
                }
            return jsonify(error=failed[lang]), 500
        if status.state != DONE:
            resp = jsonify(
                status={"nl": "wordt voorbereid", "en": "being prepared"}[lang],
                progress=round(status.progress, 2),
            )
            resp.headers["Retry-After"] = "2"
            return resp, 202
        file: ExportFile = status.result
        try:
            # opened before the audit record: a file pruned meanwhile stays readable
            handle = file.path.open("rb")
        except FileNotFoundError:
            get_runner().forget(status.key)
            return jsonify(status={"nl": "wordt voorbereid", "en": "being prepared"}[lang]), 202
        context.audit_record(
            "export", None,
            what={"kind": kind, "trajectories": file.trajectories, "rows": file.rows,
                  "as_of": context.as_of(user).isoformat()},
        )  # fmt: skip
        return send_file(handle, mimetype=file.mime, as_attachment=True, download_name=file.name)
