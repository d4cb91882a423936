"""The same question gets the same numbers in the dashboard and in ``klik analyse``.

One study of 360 trajectories is served by the real app; a researcher's page callbacks (over
HTTP, as the browser sends them) and the HTML report written by the ``klik analyse`` command
on the same database and day must show the same tables, cell for cell, with the same Dutch
labels: the Cox model of job loss, its PH check, the log-rank test by klik, the time-varying
model's refusal, the three-level model's fixed effects and variance components, and Cronbach's
alpha per scale and wave.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path

import pytest
from typer.testing import CliRunner

from study.clock import SimulatedClock
from tests.analysis_support import random_plans, run_plans
from tests.conftest import Database, _sqlite_database
from tests.dashboard.conftest import Env, add_logins, dash_post, make_container
from tests.dashboard.test_analysis_pages import survival_call, trajectories_call, until_done

AS_OF = dt.date(2027, 4, 30)


@pytest.fixture(scope="module")
def study(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    databases = _sqlite_database(tmp_path_factory.mktemp("layer") / "klik.db")
    db: Database = next(databases)
    cohort = run_plans(db.sessions, random_plans(360, seed=5), as_of=AS_OF, n_coaches=8,
                       spacing_days=1)  # fmt: skip
    clock = SimulatedClock(dt.datetime.combine(AS_OF, dt.time(9), tzinfo=dt.UTC))
    container = make_container(db, clock)
    add_logins(container, cohort, clock.now())
    from dashboard.app import create_app

    yield Env(create_app(container), container, cohort, clock)
    databases.close()


class _Tables(HTMLParser):
    """The tables of an HTML document, each as (header, rows), and the text after each h2."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: list[tuple[list[str], list[list[str]]]] = []
        self._row: list[str] | None = None
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag == "table":
            self.tables.append(([], []))
        elif tag == "tr":
            self._row = []
        elif tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None and self._row is not None:
            self._row.append("".join(self._cell).strip())
            self._cell = None
        elif tag == "tr" and self._row is not None:
            header, rows = self.tables[-1]
            if not header:
                header.extend(self._row)
            else:
                rows.append(self._row)
            self._row = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def report_tables(html_text: str) -> list[tuple[list[str], list[list[str]]]]:
    parser = _Tables()
    parser.feed(html_text)
    return parser.tables


def page_tables(body: dict) -> dict[str, tuple[list[str], list[list[str]]]]:
    """Every DataTable in a callback response: id -> (header, rows of cells)."""
    found: dict[str, tuple[list[str], list[list[str]]]] = {}

    def walk(node: object) -> None:
        if isinstance(node, dict):
            props = node.get("props")
            if node.get("type") == "DataTable" and isinstance(props, dict):
                header = [c["name"] for c in props["columns"]]
                ids = [c["id"] for c in props["columns"]]
                rows = [[str(r[i]) for i in ids] for r in props["data"]]
                found[props["id"]] = (header, rows)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(body)
    return found


@pytest.fixture(scope="module")
def report(study: Env, tmp_path_factory: pytest.TempPathFactory) -> str:
    from klik.cli import app

    out = tmp_path_factory.mktemp("report") / "report.html"
    result = CliRunner().invoke(
        app,
        ["analyse", "-d", study.container.settings.database_url, "--as-of", AS_OF.isoformat(),
         "-o", str(out), "--lang", "nl"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    return Path(out).read_text(encoding="utf-8")


def _one(tables: list, header: list[str]) -> list[list[str]]:
    matches = [rows for head, rows in tables if head == header]
    assert len(matches) == 1, f"{header} appears {len(matches)} times in the report"
    return matches[0]


def test_survival_page_and_report_show_the_same_models(study: Env, report: str) -> None:
    body = until_done(survival_call, study.login("researcher"), by="klik")
    page = page_tables(body)
    tables = report_tables(report)
    for table_id in ("survival-cox-table", "survival-ph-table", "survival-logrank-table"):
        header, rows = page[table_id]
        assert rows, table_id
        assert _one(tables, header) == rows, table_id
    cox_header, cox_rows = page["survival-cox-table"]
    # labelled in Dutch, per SD with the SD in its unit, never internal names
    assert cox_header[:3] == ["term", "coëfficiënt", "hazard ratio"]
    assert "95%-BI onder" in cox_header and "hr_lower" not in cox_header
    terms = [row[0] for row in cox_rows]
    assert any(t.startswith("coachingsintensiteit (per SD = ") and t.endswith("uur per maand)")
               for t in terms), terms  # fmt: skip
    assert not any("min" in t for t in terms)
    # the time-varying model is refused in both, for the same reason
    refusal = next(
        p["props"]["children"] for p in body["survival-tv"]["children"] if p.get("type") == "P"
    )
    assert refusal.startswith("Te weinig gegevens voor een Cox-model met tijdsafhankelijke")
    assert refusal in report


def test_trajectory_page_and_report_show_the_same_mixed_model(study: Env, report: str) -> None:
    body = until_done(trajectories_call, study.login("researcher"))
    page = page_tables(body)
    tables = report_tables(report)
    for table_id in ("trajectories-fixed-table", "trajectories-random-table"):
        header, rows = page[table_id]
        assert rows, table_id
        assert _one(tables, header) == rows, table_id
    fixed = dict((row[0], row[1]) for row in page["trajectories-fixed-table"][1])
    assert "coachingsintensiteit (uur per maand)" in fixed
    components = [row[0] for row in page["trajectories-random-table"][1]]
    assert components == ["jobcoach (intercept)", "werknemer binnen jobcoach", "residu"]


def test_quality_page_and_report_show_the_same_reliability(study: Env, report: str) -> None:
    client = study.login("researcher")

    def quality_call(client, tick=None):
        return dash_post(
            client,
            [("quality-alpha", "children"), ("quality-missing", "children"),
             ("quality-late", "children"), ("quality-status", "children"),
             ("quality-poll", "disabled")],
            [("quality-coach-types", "value", None), ("quality-methods", "value", None),
             ("quality-poll", "n_intervals", tick)],
        )  # fmt: skip

    body = until_done(quality_call, client)
    header, rows = page_tables(body)["quality-alpha-table"]
    assert rows and header[:4] == ["instrument", "meting", "schaal", "α"]
    assert _one(report_tables(report), header) == rows
    assert "instrument_id" not in json.dumps(body, ensure_ascii=False)


def test_notebook_api_fits_the_same_models(study: Env) -> None:
    from klik.api import load_frames, study_models

    frames = load_frames(study.container.settings.database_url, as_of=AS_OF)
    fits = study_models(frames)
    survival_page = page_tables(until_done(survival_call, study.login("researcher"), by="klik"))
    cox = fits["job_loss_cox"]
    assert survival_page["survival-cox-table"][1] == cox.summary("nl").values.tolist()
    mixed_page = page_tables(until_done(trajectories_call, study.login("researcher")))
    fixed = fits["employability"].fixed("nl")
    assert mixed_page["trajectories-fixed-table"] == (list(fixed.columns), fixed.values.tolist())
    # a model without enough data holds the reason, not a fit
    refused = fits["time_varying_cox"]
    assert isinstance(refused, ValueError) and "Too little data" in str(refused)
