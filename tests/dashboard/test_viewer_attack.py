"""An attacker with a viewer's login: collect every answer, subtract, solve, and find no small group.

A simulated study is served by a real server on loopback (SQLite and PostgreSQL). The attacker
logs in as the viewer, asks the monitor for the whole study, every single selection and
hundreds of crafted combinations, the survival page for every stratification and the data-
quality page with crafted filters, and keeps every callback response. From the monitor
answers it then tries what the issue of small groups is about:

* every number shown is 0 or at least k;
* subtraction: the whole study minus the shown values of one characteristic leaves the hidden
  ones, which must hold nobody or at least k, and never one alone;
* the linear system of everything seen, for every pair of characteristics and for all four at
  once (the unknowns are the counts of every combination of their values, cell by cell): no
  hidden number is pinned to one value, nor known to lie within 1..k-1;
* with a small minimum (3, so that the curves are stratified), every stratification of the
  survival curves beside every characteristic of the monitor: nothing placed within 1..k-1;
* the signal statistics and the costs and benefits (every comparison, crafted horizons): counts
  only as multiples of k or hidden, no balance against a comparison arm of fewer than k;
* every page, also with a record's id in the query: the pages of rows refuse, and nothing the
  viewer received names a person.
"""

from __future__ import annotations

import base64
import datetime as dt
import itertools
import json
import random
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial

import numpy as np
import pytest
import requests
from scipy import sparse
from scipy.optimize import linprog
from sqlalchemy import func, select, update

from analysis.presentation import column_label
from analysis.study_models import LEVEL_TEXT
from dashboard.app import create_app
from dashboard.disclosure import GRID_DAYS, HIDDEN_MARK
from dashboard.i18n import label_of
from klik.settings import Settings
from klik.wiring import Container
from study.clock import SimulatedClock
from study.models import Study, Trajectory
from study.services.users import add_user
from study.simulator.build import build, local_moment
from study.simulator.params import SimulationParams
from study.vocab import Benefit, CoachType, EndReason, Method, Respondent
from tests.conftest import Database

K = 10
PASSWORD = "correct horse battery"
MONITOR_INPUTS = ("monitor-organisation", "monitor-coach-type", "monitor-method", "monitor-benefit")
MONITOR_OUTPUTS = [
    ("monitor-content", "children"),
    ("monitor-status", "children"),
    ("monitor-poll", "disabled"),
]
DIMENSIONS = ("organisation", "coach_type", "method", "benefit")
CRAFTED = 2000


@dataclass
class Served:
    url: str
    organisations: list[int]
    #: trajectories without a coaching method: the cost-benefit page's comparison arm
    arm: int


@contextmanager
def serve(db: Database, k: int) -> Iterator[Served]:
    """The simulated study served on loopback, with minimum cell size ``k``."""
    from waitress.server import create_server

    params = SimulationParams(seed=4, n_trajectories=110, n_coaches=40, months=12,
                              start_date=dt.date(2025, 1, 6))  # fmt: skip
    clock = SimulatedClock(local_moment(params.start_date, 9))
    settings = Settings(database_url=db.url, secret_key="s" * 64)
    report = build(db.sessions, params, clock=clock, secret_key=settings.secret_key)
    with db.sessions.begin() as s:
        s.execute(update(Study).where(Study.id == report.study_id).values(min_cell_size=k))
        add_user(
            s,
            report.study_id,
            "kijker",
            PASSWORD,
            "viewer",
            display_name="Kijker",
            actor="test",
            at=clock.now(),
        )
    container = Container(settings, db.engine, db.sessions, db.read_sessions, clock)
    server = create_server(create_app(container), host="127.0.0.1", port=0, threads=4)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    from study.worklists import organisations

    with db.read_sessions() as s:
        orgs = [int(v) for v in organisations(s, report.study_id)["organisation_id"]]
        arm = s.scalar(
            select(func.count()).where(Trajectory.study_id == report.study_id,
                                       Trajectory.method == Method.NONE.value)
        )  # fmt: skip
    try:
        yield Served(f"http://127.0.0.1:{server.effective_port}", orgs, int(arm or 0))
    finally:
        server.close()


@pytest.fixture
def served(any_db: Database) -> Iterator[Served]:
    with serve(any_db, K) as it:
        yield it


class Viewer:
    """A browser-less client: logs in, then posts callbacks as the Dash renderer does."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.http = requests.Session()
        self.http.headers["Origin"] = url
        resp = self.http.post(f"{url}/login", data={"username": "kijker", "password": PASSWORD},
                              allow_redirects=False, timeout=30)  # fmt: skip
        assert resp.status_code == 302, resp.text
        self.seen: list[str] = []

    def callback(
        self,
        outputs: list[tuple[str, str]],
        inputs: list[tuple[str, str, object]],
        state: list[tuple[str, str, object]] = (),  # type: ignore[assignment]
    ):
        body = {
            "output": "..{}..".format("...".join(f"{i}.{p}" for i, p in outputs)),
            "outputs": [{"id": i, "property": p} for i, p in outputs],
            "inputs": [{"id": i, "property": p, "value": v} for i, p, v in inputs],
            "changedPropIds": [f"{inputs[0][0]}.{inputs[0][1]}"],
            "state": [{"id": i, "property": p, "value": v} for i, p, v in state],
        }
        headers = {"X-CSRFToken": self.http.cookies.get("_csrf_token", "")}
        resp = self.http.post(f"{self.url}/_dash-update-component", json=body, headers=headers,
                              timeout=120)  # fmt: skip
        assert resp.status_code in (200, 204), resp.text[:300]
        self.seen.append(resp.text)
        return resp.json()["response"] if resp.status_code == 200 else {}

    def until_done(self, outputs, inputs, poll: str, state=()) -> dict:
        for tick in range(400):
            answer = self.callback(outputs, [*inputs, (poll, "n_intervals", tick)], state)
            if answer.get(poll, {}).get("disabled", True):
                return answer
            threading.Event().wait(0.25)
        raise AssertionError("the job did not finish")


def monitor(viewer: Viewer, values: tuple) -> dict:
    inputs = [(i, "value", v) for i, v in zip(MONITOR_INPUTS, values, strict=True)]
    return viewer.until_done(MONITOR_OUTPUTS, inputs, "monitor-poll")


# -- reading what came back ------------------------------------------------------------------


def components(node: object) -> Iterator[dict]:
    if isinstance(node, dict):
        if "props" in node:
            yield node
            yield from components(node["props"].get("children"))
            yield from components(node["props"].get("figure"))
        else:
            for v in node.values():
                yield from components(v)
    elif isinstance(node, list):
        for v in node:
            yield from components(v)


def text_of(node: object) -> str:
    if isinstance(node, str | int | float):
        return str(node)
    if isinstance(node, dict):
        return text_of(node.get("props", {}).get("children"))
    if isinstance(node, list):
        return "".join(text_of(v) for v in node)
    return ""


def values_of(data: object) -> list:
    """A figure's array as sent: a list, or Plotly's typed array (base64 with a dtype)."""
    if isinstance(data, dict) and "bdata" in data:
        array = np.frombuffer(base64.b64decode(data["bdata"]), dtype=np.dtype(data["dtype"]))
        return array.tolist()
    return list(data or [])


def number(text: str) -> float | None:
    """A shown count, None when hidden; anything else (a label, a rate) raises."""
    if text == HIDDEN_MARK:
        return None
    return float(text.replace(".", ""))


def table_rows(content: dict, table_id: str) -> list[list[str]]:
    for c in components(content):
        if c["props"].get("id") == table_id:
            body = next(b for b in components(c) if b.get("type") == "Tbody")
            return [[text_of(td) for td in tr["props"]["children"]]
                    for tr in body["props"]["children"]]  # fmt: skip
    raise AssertionError(f"no table {table_id}")


#: the statuses of a form in the monitor's table, in its column order
STATUSES = ("on_time", "late", "missing", "open")


def facts(content: dict) -> dict[tuple, float | None]:
    """Every count of a monitor answer, by what it counts: (table, cell) -> number or None."""
    out: dict[tuple, float | None] = {}
    for row in table_rows(content, "monitor-completion"):
        wave, role, *statuses, _rate = row
        for status, text in zip(STATUSES, statuses, strict=True):
            out[("completion", wave, role, status)] = number(text)
    for label, text in table_rows(content, "monitor-endings"):
        out[("endings", label)] = number(text)
    for c in components(content):
        if c["props"].get("id") == "monitor-enrolment":
            for trace in c["props"]["figure"]["data"]:
                hidden = trace.get("text") is not None
                for x, y in zip(values_of(trace["x"]), values_of(trace["y"]), strict=True):
                    if hidden:
                        out[("enrolment", x)] = None
                    elif y is not None and y == y:
                        out[("enrolment", x)] = float(y)
        if c["props"].get("className") == "klik-kpi":
            value, label = c["props"]["children"]
            if label["props"]["children"] in ("Trajecten", "Lopend"):
                out[("kpi", label["props"]["children"])] = number(value["props"]["children"])
    return out | not_sent(out)


def not_sent(seen: dict[tuple, float | None]) -> dict[tuple, float | None]:
    """What subtraction gives: per wave, the people minus the forms of a role whose counts are
    all shown (every role of a wave is sent the same number), the people not sent that wave."""
    people = seen.get(("kpi", "Trajecten"))
    out: dict[tuple, float | None] = {}
    for cell in seen:
        if cell[0] == "completion":
            wave, role = cell[1], cell[2]
            counts = [seen[("completion", wave, role, st)] for st in STATUSES]
            if people is not None and None not in counts:
                out[("not sent", wave)] = people - sum(c for c in counts if c is not None)
            else:
                out.setdefault(("not sent", wave), None)
    return out


# -- the attack ------------------------------------------------------------------------------


def exposed(a_eq: np.ndarray, b_eq: np.ndarray, target: int) -> tuple[float, float]:
    c = np.zeros(a_eq.shape[1])
    c[target] = 1
    lo = linprog(c, A_eq=a_eq, b_eq=b_eq, bounds=(0, None), method="highs")
    hi = linprog(-c, A_eq=a_eq, b_eq=b_eq, bounds=(0, None), method="highs")
    assert lo.status == 0, "what the viewer saw is inconsistent"
    return lo.fun, (np.inf if hi.status == 3 else -hi.fun)


def solve_pair(
    d1: str, d2: str, seen: dict[tuple, dict[tuple, float | None]], values: dict[str, list]
) -> int:
    """Bounds on every hidden number of d1 and d2 from everything seen; returns LPs solved."""
    cells = {cell for answer in seen.values() for cell in answer if cell[0] != "kpi"}
    solved = 0
    for cell in sorted(cells, key=str):
        v1, v2 = values[d1], values[d2]
        index = {(a, b): i for i, (a, b) in enumerate(itertools.product(v1, v2))}
        rows, rhs, hidden = [], [], []
        whole = seen[()].get(cell)
        if whole is not None:
            rows.append(np.ones(len(index)))
            rhs.append(whole)
        for dim, vals, pos in ((d1, v1, 0), (d2, v2, 1)):
            for v in vals:
                known = seen.get((dim, v), {}).get(cell, 0.0 if (dim, v) not in seen else None)
                row = np.array([1.0 if key[pos] == v else 0.0 for key in index])
                if known is None:
                    hidden.append(row)
                else:
                    rows.append(row)
                    rhs.append(known)
        if not hidden or not rows:
            continue
        # the hidden numbers are sums of the unknowns: add each as an extra unknown
        a = np.array(rows)
        n = a.shape[1]
        a_eq = np.hstack([a, np.zeros((len(a), len(hidden)))])
        links = np.hstack([np.array(hidden), -np.eye(len(hidden))])
        a_full = np.vstack([a_eq, links])
        b_full = np.array([*rhs, *[0.0] * len(hidden)])
        for h in range(len(hidden)):
            lo, hi = exposed(a_full, b_full, n + h)
            solved += 2
            assert not (lo > 0.5 and hi - lo < 0.5), (d1, d2, cell, "pinned", lo)
            assert not (lo > 0.5 and hi < K - 0.5), (d1, d2, cell, "known small", lo, hi)
    return solved


def solve_all(seen: dict[tuple, dict[tuple, float | None]], values: dict[str, list]) -> int:
    """Bounds on every hidden number from everything seen at once: the unknowns are the counts
    of every combination of the values of all four characteristics (and "no value"), cell by
    cell; returns the LPs solved."""
    rest = "__rest__"
    axes = [[*values[d], rest] for d in DIMENSIONS]
    combos = list(itertools.product(*axes))
    cells = {cell for answer in seen.values() for cell in answer if cell[0] != "kpi"}
    solved = 0
    for cell in sorted(cells, key=str):
        rows, rhs, hidden = [], [], []
        whole = seen[()].get(cell)
        if whole is not None:
            rows.append(np.ones(len(combos)))
            rhs.append(whole)
        for position, dim in enumerate(DIMENSIONS):
            for v in values[dim]:
                known = seen.get((dim, v), {}).get(cell, 0.0 if (dim, v) not in seen else None)
                row = np.array([1.0 if combo[position] == v else 0.0 for combo in combos])
                (hidden if known is None else rows).append(row)
                if known is not None:
                    rhs.append(known)
        if not hidden or not rows:
            continue
        a, b = np.array(rows), np.array(rhs)
        for target in hidden:
            lo = linprog(target, A_eq=a, b_eq=b, bounds=(0, None), method="highs")
            assert lo.status == 0, "what the viewer saw is inconsistent"
            solved += 1
            if lo.fun < 0.5:
                continue
            hi = linprog(-target, A_eq=a, b_eq=b, bounds=(0, None), method="highs")
            solved += 1
            assert not (hi.status == 0 and -hi.fun < K - 0.5), (
                cell,
                "known small",
                lo.fun,
                -hi.fun,
            )
    return solved


def every_selection(
    viewer: Viewer, served: Served
) -> tuple[dict[str, list], dict[tuple, dict[tuple, float | None]]]:
    """The values of each characteristic, and the monitor's facts for the whole study (key
    ``()``) and for every single selection (key ``(characteristic, value)``)."""
    values = {
        "organisation": served.organisations,
        "coach_type": [m.value for m in CoachType],
        "method": [m.value for m in Method],
        "benefit": [m.value for m in Benefit],
    }
    seen: dict[tuple, dict[tuple, float | None]] = {}
    seen[()] = facts(monitor(viewer, (None, None, None, None))["monitor-content"]["children"])
    for position, dim in enumerate(DIMENSIONS):
        for v in values[dim]:
            chosen: list[object] = [None] * 4
            chosen[position] = v
            answer = monitor(viewer, tuple(chosen))["monitor-content"]["children"]
            seen[(dim, v)] = facts(answer) if "monitor-completion" in json.dumps(answer) else {}
    return values, seen


def test_a_viewer_derives_no_small_group(served: Served) -> None:
    viewer = Viewer(served.url)
    values, seen = every_selection(viewer, served)
    # crafted combinations: several values, several characteristics, unknown values
    rng = random.Random(7)
    refused = 0
    for _ in range(CRAFTED):
        chosen = []
        for dim in DIMENSIONS:
            pool = [*values[dim], "x' OR 1=1", 999_999]
            chosen.append(rng.sample(pool, rng.randint(0, 3)) or None)
        answer = monitor(viewer, tuple(chosen))["monitor-content"]["children"]
        text = json.dumps(answer, ensure_ascii=False)
        if "één waarde van één kenmerk" in text:
            refused += 1
            assert not any(ch.isdigit() for ch in text), text
        else:
            # what remains after dropping unknown values is a single selection already seen
            got = facts(answer) if "monitor-completion" in text else {}
            assert got in [*seen.values(), {}]
    assert refused > CRAFTED // 2

    shown = [v for answer in seen.values() for v in answer.values() if v is not None]
    assert len(shown) > 200
    assert all(v == 0 or v >= K for v in shown), sorted(v for v in shown if 0 < v < K)

    # subtraction: the whole study minus the shown values of one characteristic
    for dim in DIMENSIONS:
        for cell, whole in seen[()].items():
            if whole is None or cell[0] == "kpi":
                continue
            answers = [seen.get((dim, v), {}) for v in values[dim]]
            parts = [a.get(cell, 0.0) for a in answers if a]
            rest = whole - sum(p for p in parts if p is not None)
            n_hidden = sum(p is None for p in parts)
            assert rest == 0 or (rest >= K and n_hidden >= 2), (dim, cell, rest, n_hidden)

    # by design every role of a wave gets the same number of forms: a role whose counts are all
    # shown tells the total of the others, which must not pin a hidden count
    whole = seen[()]
    for wave in {cell[1] for cell in whole if cell[0] == "completion"}:
        roles = {cell[2] for cell in whole if cell[0] == "completion" and cell[1] == wave}
        rows = {role: [whole[("completion", wave, role, st)] for st in STATUSES] for role in roles}
        totals = {sum(v) for v in rows.values() if None not in v}
        for total in totals:
            for counts in rows.values():
                hidden = [v for v in counts if v is None]
                rest = total - sum(v for v in counts if v is not None)
                assert not hidden or (len(hidden) >= 2 and (rest == 0 or rest >= K)), (wave, counts)

    # the linear system of everything seen, per pair of characteristics
    solved = sum(
        solve_pair(d1, d2, seen, values) for d1, d2 in itertools.combinations(DIMENSIONS, 2)
    )
    assert solved > 100
    # and all four characteristics at once
    assert solve_all(seen, values) > 50

    # survival: only whole months, never fewer than k at risk, whatever the filters say; and
    # beside the monitor: a stratum of a characteristic the monitor counts is a value whose
    # number of people the monitor shows, and starts with exactly that many at risk (values
    # the monitor hides are merged, so no curve's size is a hidden monitor number; at this size
    # a viewer may get no such curve at all: test_analysis_pages checks the merge itself)
    named = {"coach_type": {"interne jobcoach": "internal", "externe jobcoach": "external"},
             "method": {v: v for v in values["method"]}}  # fmt: skip
    merged = {"Overige", "Onbekend", "Iedereen"}
    for by in ("none", "klik", "intensity", "match", "coach_type", "method"):
        for crafted in (None, ["ips"], ["internal", "external"]):
            answer = viewer.until_done(
                [("survival-km", "figure"), ("survival-logrank", "children"),
                 ("survival-cox", "children"), ("survival-tv", "children"),
                 ("survival-status", "children"), ("survival-poll", "disabled")],
                [("survival-stratify", "value", by), ("survival-coach-types", "value", crafted),
                 ("survival-methods", "value", None)],
                "survival-poll",
            )  # fmt: skip
            for trace in answer["survival-km"]["figure"].get("data", []):
                name = str(trace.get("name", ""))
                if name.endswith(" at risk"):
                    # numbers at risk between two grid ends equal those at the next end
                    assert all(int(v) >= K for v in trace["text"] if str(v).isdigit())
                    group = name[: -len(" at risk")]
                    if by in named and group not in merged:
                        value = named[by][group]
                        people = seen.get((by, value), {}).get(("kpi", "Trajecten"))
                        assert people is not None, (by, value, "a group the monitor hides")
                        assert float(values_of(trace["text"])[0]) == people, (by, value)
                    continue
                for x in values_of(trace.get("x")):
                    if isinstance(x, int | float):
                        months = x if x < 100 else x / GRID_DAYS
                        assert abs(months - round(months)) < 1e-6, (by, x)

    # data quality: the same tables whatever the filters, no small count
    bodies = set()
    for crafted in (None, ["ips"], ["ips", "eim"]):
        answer = viewer.until_done(
            [("quality-alpha", "children"), ("quality-missing", "children"),
             ("quality-late", "children"), ("quality-status", "children"),
             ("quality-poll", "disabled")],
            [("quality-coach-types", "value", None), ("quality-methods", "value", crafted)],
            "quality-poll",
        )  # fmt: skip
        bodies.add(json.dumps(answer["quality-late"]) + json.dumps(answer["quality-missing"]))
        for c in components(answer["quality-late"]):
            for row in c["props"].get("data") or []:
                for col in ("responded", "on_time", "late", "missing"):
                    v = row[column_label(col, "nl")]
                    assert v in ("", HIDDEN_MARK) or float(v) == 0 or float(v) >= K, (col, v)
        assert json.dumps(column_label("missing", "nl")) not in json.dumps(
            answer["quality-missing"]
        )
        # the same forms as on the monitor, hidden in the same places: two protections of one
        # table would together show what each hides
        for c in components(answer["quality-late"]):
            for row in c["props"].get("data") or []:
                role = label_of(Respondent, row[column_label("respondent", "nl")], "nl")
                wave = row[column_label("wave", "nl")]
                for col in ("on_time", "late", "missing"):
                    on_monitor = seen[()].get(("completion", wave, role, col))
                    cell = row[column_label(col, "nl")]
                    here = None if cell in ("", HIDDEN_MARK) else float(cell)
                    assert here == on_monitor, (wave, role, col, here, on_monitor)
    assert len(bodies) == 1
    # no interval around alpha (Feldt's interval gives n back)
    for c in components(answer["quality-alpha"]):
        for trace in (c["props"].get("figure") or {}).get("data", []):
            assert all(
                v != v or v is None for v in values_of((trace.get("error_x") or {}).get("array"))
            )

    # trajectories: means in two decimals (a mean in full precision is a sum over an exact n)
    answer = viewer.until_done(
        [("trajectories-means", "figure"), ("trajectories-model", "children"),
         ("trajectories-status", "children"), ("trajectories-poll", "disabled")],
        [("trajectories-individual", "value", ["on"]),
         ("trajectories-coach-types", "value", ["internal"]),
         ("trajectories-methods", "value", None)],
        "trajectories-poll",
    )  # fmt: skip
    traces = answer["trajectories-means"]["figure"]["data"]
    assert traces and not [t for t in traces if t.get("name") == "individual"]
    for trace in traces:
        for y in values_of(trace.get("y")):
            assert y is None or y != y or abs(y * 100 - round(y * 100)) < 1e-6, y
    signals_and_costs(viewer, served.arm)
    every_page(viewer)
    # nothing the viewer received names a person
    assert not any("P000" in body for body in viewer.seen)


#: every page of the dashboard, with a crafted record and client as the query
PAGES = ("/", "/audit", "/exports", "/mkba", "/monitor", "/outbox", "/quality", "/record",
         "/signals", "/survival", "/trajectories", "/users", "/workspace", "/workspace/print")  # fmt: skip


def every_page(viewer: Viewer) -> None:
    """Every page as a viewer opens it, also with a record's id in the query: the pages for
    rows (record, workspace, audit log, users, outbox) refuse, and what the others send joins
    everything else the viewer received (which must name nobody)."""
    refused = 0
    for path, search in itertools.product(PAGES, ("", "?trajectory=1&participant=1&code=P0001")):
        page = viewer.callback(
            [("_pages_content", "children"), ("_pages_store", "data")],
            [("_pages_location", "pathname", path), ("_pages_location", "search", search)],
        )
        text = json.dumps(page, ensure_ascii=False)
        if path in ("/record", "/workspace", "/workspace/print", "/audit", "/users", "/outbox"):
            assert "geen toegang" in text, (path, text[:300])
            refused += 1
    assert refused == 12


def shown_count(text: str) -> float | None:
    """A count as a viewer may see it beside a statistic: "≈ 140" (a multiple of k) or hidden."""
    if text == HIDDEN_MARK:
        return None
    assert text.startswith("≈ "), text
    value = float(text[2:].replace(".", ""))
    assert value >= K and value % K == 0, text
    return value


def signals_and_costs(viewer: Viewer, arm: int) -> None:
    """The signal statistics and the costs and benefits: counts rounded to a multiple of k or
    hidden, a share seen only beside a rounded count, no balance against a small arm."""
    page = viewer.callback(
        [("_pages_content", "children"), ("_pages_store", "data")],
        [("_pages_location", "pathname", "/signals"), ("_pages_location", "search", "")],
    )["_pages_content"]["children"]
    text = json.dumps(page, ensure_ascii=False)
    assert "signal-follow-up" in text and "signal-quality" not in text and "signal-orgs" not in text
    rows = table_rows(page, "signal-follow-up")
    assert rows
    for _name, clients, seen, share, days in rows:
        shown_count(clients)
        if shown_count(seen) is None:
            assert share == HIDDEN_MARK and days == HIDDEN_MARK, (share, days)

    outputs = [("mkba-summary", "children"), ("mkba-balance", "children"),
               ("mkba-dose", "children"), ("mkba-status", "children"), ("mkba-poll", "disabled"),
               ("mkba-choice-error", "children")]  # fmt: skip
    comparisons = {
        "none": {},
        "arm": {},
        "scenario": {"mkba-days": "10"},
        "benchmark": {"mkba-source": "UWV-monitor", "mkba-curve": "0:1; 6:0,8; 12:0,7"},
    }
    counted = balances_against_arm = 0
    for (kind, extra), horizon in itertools.product(comparisons.items(), (6, 12, "12; DROP", None)):
        fields = {"mkba-kind": kind, "mkba-label": "vergelijking", "mkba-source": None,
                  "mkba-curve": None, "mkba-days": None, "mkba-sick": None, **extra}  # fmt: skip
        answer = viewer.until_done(
            outputs, [("mkba-compute", "n_clicks", 1), ("mkba-horizon", "value", horizon)],
            "mkba-poll", [(i, "value", v) for i, v in fields.items()],
        )  # fmt: skip
        summary = answer["mkba-summary"]["children"]
        for c in components(summary):
            for row in c["props"].get("data") or []:
                measure, value = list(row.values())[:2]
                if measure == "Trajecten":
                    shown_count(value)
                    counted += 1
        balance = json.dumps(answer["mkba-balance"]["children"], ensure_ascii=False)
        if kind == "arm" and "mkba-balance-table" in balance:
            balances_against_arm += 1
    assert counted >= len(comparisons)  # the number of trajectories was shown, and checked
    # against the trajectories without a coaching method: a balance exactly when they are k or
    # more (an arm of 1..k-1 and an empty one read the same: nothing)
    assert (balances_against_arm > 0) == (arm >= K), (arm, balances_against_arm)


# -- the survival curves beside the monitor ------------------------------------------------------

#: a small minimum, so that the 110 trajectories give viewers stratified curves to combine
SMALL_K = 3
STRATIFICATIONS = ("klik", "intensity", "match", "coach_type", "method")
#: stratifications whose known strata are scores of the employee's first form
SCORED_BY_FIRST_FORM = ("klik", "match")
UNSCORED = {"Onbekend", "Overige", "Iedereen"}
#: the curves' names of the coach types -> the coach type
COACH_TYPE_LABELS = {LEVEL_TEXT[m.value]["nl"]: m.value for m in CoachType}


def curve_totals(figure: dict) -> dict[str, tuple[float, float]]:
    """Per curve of a viewer's Kaplan–Meier figure: the number at risk at 0 and the job losses
    on the curve (each step's size times the number at risk there)."""
    out = {}
    for trace in figure.get("data", []):
        if trace.get("mode") != "lines" or trace.get("customdata") is None:
            continue
        ys = [float(y) for y in values_of(trace["y"])]
        at_risk = [float(row[2]) for row in values_of(trace["customdata"])]
        events = sum(
            round(n * (1 - y / y_before))
            for y_before, y, n in zip(ys, ys[1:], at_risk[1:], strict=False)
        )
        out[str(trace["name"])] = (at_risk[0], float(events))
    return out


def bound_all(
    keys: list[tuple],
    equations: list[tuple[Callable[[tuple], float], float]],
    at_least: list[tuple[Callable[[tuple], bool], float]],
    targets: list[tuple[tuple, Callable[[tuple], bool]]],
    k: int,
) -> list[tuple]:
    """Bounds on each target sum of non-negative unknowns ``keys``; the targets within 1..k-1."""

    def row(test: Callable[[tuple], float]) -> np.ndarray:
        return np.array([float(test(key)) for key in keys])

    a_eq = sparse.csr_matrix(np.array([row(t) for t, _ in equations]))
    b_eq = np.array([v for _, v in equations])
    a_ub = sparse.csr_matrix(np.array([-row(t) for t, _ in at_least])) if at_least else None
    b_ub = np.array([-v for _, v in at_least]) if at_least else None
    found = []
    for name, test in targets:
        c = row(test)
        if not c.any():
            continue
        lo = linprog(c, A_ub=a_ub, b_ub=b_ub, A_eq=a_eq, b_eq=b_eq, method="highs")
        assert lo.status == 0, "what the viewer saw is inconsistent"
        if lo.fun < 0.5:
            continue
        hi = linprog(-c, A_ub=a_ub, b_ub=b_ub, A_eq=a_eq, b_eq=b_eq, method="highs")
        if hi.status == 0 and -hi.fun < k - 0.5:
            found.append((name, lo.fun, -hi.fun))
    return found


def submitted(cells: list) -> list:
    """The cells of a form table that are submitted forms."""
    return [c for c in cells if c[3] in ("on_time", "late")]


def joint_attack(
    by: str,
    curves: dict[str, tuple[float, float]],
    seen: dict[tuple, dict[tuple, float | None]],
    values: dict[str, list],
    k: int,
) -> tuple[list[tuple], int]:
    """One stratification of the curves against every characteristic of the monitor at once.

    The full table (people per combination of all four values, stratum and end reason, or
    status of the employee's first form) has the same bounds as, per characteristic, the
    people per (value, stratum, cell) tied to shared counts per (stratum, cell)
    (``test_disclosure_audit`` checks that against the full table); these are the unknowns
    here, with one more value per characteristic for those without one. Returns what is
    placed within 1..k-1 and the number of targets bounded."""
    whole = seen[()]
    strata = list(curves)
    job_loss = label_of(EndReason, "job_loss", "nl")
    rest = "__rest__"
    named = {COACH_TYPE_LABELS.get(s, s): s for s in strata}

    def allowed(dim: str, v: object, stratum: str) -> bool:
        if by != dim:
            return True
        if v in named:  # a value with a curve of its own is only on that curve
            return named[v] == stratum
        return stratum in ("Overige", "Onbekend", "Iedereen")

    found: list[tuple] = []
    bounded = 0
    tables = [("endings", [c[1] for c in whole if c[0] == "endings"])]
    first_forms = [c for c in whole if c[0] == "completion" and c[2] == "Werknemer"]
    if by in SCORED_BY_FIRST_FORM and first_forms:
        wave = first_forms[0][1]
        tables.append(("first", [c for c in first_forms if c[1] == wave]))
    for table, cells in tables:
        cells_ = [*cells, None] if table == "first" else cells
        shared = [
            (st, c)
            for st, c in itertools.product(strata, cells_)
            if not (table == "first" and st not in UNSCORED and c not in submitted(cells))
        ]
        keys = [("shared", st, c) for st, c in shared] + [
            (dim, v, st, c)
            for dim in DIMENSIONS
            for v in [*values[dim], rest]
            for st, c in shared
            if allowed(dim, v, st)
        ]
        equations: list = []
        targets: list = []
        for dim in DIMENSIONS:
            for st, c in shared:
                equations.append((partial(tied, dim=dim, st=st, c=c), 0.0))
        for cell in cells:
            name = ("endings", cell) if table == "endings" else cell
            if whole.get(name) is not None:
                equations.append((lambda key, c=cell: key[0] == "shared" and key[2] == c,
                                  whole[name]))  # fmt: skip
            for dim in DIMENSIONS:
                for v in values[dim]:
                    got = seen.get((dim, v), {}).get(name)
                    test = partial(value_cell, dim=dim, v=v, c=cell)
                    if got is None:
                        targets.append((("hidden", dim, v, cell), test))
                    else:
                        equations.append((test, got))
        for dim in DIMENSIONS:
            for v in values[dim]:
                people = seen.get((dim, v), {}).get(("kpi", "Trajecten"))
                if people is not None:
                    equations.append((lambda key, d=dim, v=v: key[:2] == (d, v), people))
        equations.append((lambda key: key[0] == "shared", whole[("kpi", "Trajecten")]))
        for stratum, (n, _events) in curves.items():
            equations.append((lambda key, st=stratum: key[0] == "shared" and key[1] == st, n))
            for cell in cells:
                targets.append((("stratum", stratum, cell),
                                lambda key, st=stratum, c=cell: key == ("shared", st, c)))  # fmt: skip
            for dim in DIMENSIONS:
                if by == dim:
                    continue
                for v in [*values[dim], rest]:
                    targets.append((("value", dim, v, stratum),
                                    lambda key, st=stratum, d=dim, v=v: key[:2] == (d, v)
                                    and key[2] == st))  # fmt: skip
        at_least = []
        if table == "endings" and job_loss in cells:
            at_least = [(lambda key, st=stratum: key == ("shared", st, job_loss), events)
                        for stratum, (_n, events) in curves.items()]  # fmt: skip
        else:
            for stratum in strata:
                targets.append((("submitted", stratum),
                                lambda key, st=stratum, sub=submitted(cells): key[0] == "shared"
                                and key[1] == st and key[2] in sub))  # fmt: skip
        found += bound_all(keys, equations, at_least, targets, k)
        bounded += len(targets)
    return found, bounded


def tied(key: tuple, *, dim: str, st: str, c: object) -> float:
    """The equation tying one characteristic's people in (stratum, cell) to the shared count."""
    if key == ("shared", st, c):
        return -1.0
    return 1.0 if key[0] == dim and key[2:] == (st, c) else 0.0


def value_cell(key: tuple, *, dim: str, v: object, c: object) -> bool:
    return key[:2] == (dim, v) and key[3] == c


@pytest.fixture
def served_small_k(any_db: Database) -> Iterator[Served]:
    with serve(any_db, SMALL_K) as it:
        yield it


def test_the_survival_curves_beside_the_monitor_pin_no_small_group(
    served_small_k: Served,
) -> None:
    served = served_small_k
    viewer = Viewer(served.url)
    values, seen = every_selection(viewer, served)
    stratified = 0
    bounded = 0
    for by in STRATIFICATIONS:
        answer = viewer.until_done(
            [("survival-km", "figure"), ("survival-logrank", "children"),
             ("survival-cox", "children"), ("survival-tv", "children"),
             ("survival-status", "children"), ("survival-poll", "disabled")],
            [("survival-stratify", "value", by), ("survival-coach-types", "value", None),
             ("survival-methods", "value", None)],
            "survival-poll",
        )  # fmt: skip
        curves = curve_totals(answer["survival-km"]["figure"])
        stratified += len(curves) > 1
        found, n = joint_attack(by, curves, seen, values, SMALL_K)
        bounded += n
        assert found == [], (by, found)
    # the attack had something to work with: stratified curves, and many sums to bound
    assert stratified >= 2
    assert bounded > 500
