"""``klik demo`` says a taken port before building, and explains its numbers."""

from __future__ import annotations

import re
import socket
import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner

from klik.ports import port_problem
from tests.klik.test_demo_cli import SMALL, demo_app

runner = CliRunner()


@pytest.fixture
def taken_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen(1)
        yield holder.getsockname()[1]


def test_a_taken_port_is_reported_before_the_study_is_built(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, taken_port: int
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("KLIK_DATABASE_URL", raising=False)
    monkeypatch.setenv("KLIK_PORT", str(taken_port))
    serving = [a for a in SMALL if a != "--no-serve"]
    result = runner.invoke(demo_app(), ["demo", *serving])
    assert result.exit_code == 2, result.output
    assert f"Poort {taken_port}" in result.output
    assert f"KLIK_PORT={taken_port + 1} make demo" in result.output
    assert "Traceback" not in result.output
    # nothing was simulated: no building line, no logins
    assert "Demostudie bouwen" not in result.output
    assert "onderzoeker" not in result.output


def test_port_problem_sees_a_listening_server_and_a_free_port(taken_port: int) -> None:
    assert port_problem("127.0.0.1", taken_port) is not None
    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]
    assert port_problem("127.0.0.1", port) is None


def test_demo_output_explains_trajectories_and_employees(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("KLIK_DATABASE_URL", raising=False)
    result = runner.invoke(demo_app(), ["demo", "--trajectories", "20", "--coaches", "3",
                                        "--months", "6", "--no-serve"])  # fmt: skip
    assert result.exit_code == 0, result.output
    with sqlite3.connect(tmp_path / "demo.db") as c:
        n_traj, n_people = c.execute(
            "SELECT count(*), count(DISTINCT participant_id) FROM trajectory"
        ).fetchone()
    line = re.search(r"(\d+) trajecten van (\d+) werknemers: 20 ingeschreven, (\d+) herplaatsing",
                     result.output)  # fmt: skip
    assert line is not None, result.output
    assert (int(line[1]), int(line[2]), int(line[3])) == (n_traj, n_people, n_traj - n_people)
