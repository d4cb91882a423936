"""Forking while other threads use SQLite: the child can still use SQLite."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from study.fork_gate import GatedConnection, GatedCursor, forking

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")


def _hammer(path: Path, factory: type[sqlite3.Connection], stop: threading.Event) -> None:
    while not stop.is_set():
        # opening and closing takes SQLite's process-wide locks most often
        con = sqlite3.connect(path, factory=factory)
        con.execute("SELECT count(*) FROM t").fetchall()
        # a cursor left half-read: closing the connection must finalise its statement
        half_read = con.execute("SELECT x FROM t")
        half_read.fetchone()
        con.close()
        del half_read


def _forks_that_hang(path: Path, factory: type[sqlite3.Connection], gate: bool) -> int:
    with sqlite3.connect(path) as con:
        con.execute("CREATE TABLE IF NOT EXISTS t (x)")
        con.executemany("INSERT INTO t VALUES (?)", [(i,) for i in range(100)])
    stop = threading.Event()
    threads = [
        threading.Thread(target=_hammer, args=(path, factory, stop), daemon=True) for _ in range(4)
    ]
    for t in threads:
        t.start()
    hung = 0
    try:
        for _ in range(60):
            if gate:
                with forking():
                    pid = os.fork()
            else:
                pid = os.fork()
            if pid == 0:  # the child: one SQLite call, then leave without cleanup
                try:
                    sqlite3.connect(path, factory=factory).execute("SELECT 1").fetchall()
                finally:
                    os._exit(0)
            # generous: a loaded machine can take seconds to schedule a child; a hang is for ever
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                done, _status = os.waitpid(pid, os.WNOHANG)
                if done:
                    break
                time.sleep(0.005)
            else:
                hung += 1
                os.kill(pid, 9)
                os.waitpid(pid, 0)
    finally:
        stop.set()
        for t in threads:
            t.join()
    return hung


def test_every_cursor_of_a_gated_connection_is_gated() -> None:
    con = GatedConnection(":memory:")
    con.execute("CREATE TABLE t (x)")
    shortcuts = [
        con.execute("SELECT 1"),
        con.executemany("INSERT INTO t VALUES (?)", [(1,)]),
        con.executescript("SELECT 1;"),
        con.cursor(),
    ]
    assert all(isinstance(c, GatedCursor) for c in shortcuts)
    con.close()


def test_a_half_read_cursor_is_closed_by_the_rollback_a_pool_does_on_checkin() -> None:
    con = GatedConnection(":memory:")
    con.execute("CREATE TABLE t (x)")
    con.executemany("INSERT INTO t VALUES (?)", [(1,), (2,)])
    half_read = con.execute("SELECT x FROM t")
    half_read.fetchone()
    con.rollback()
    with pytest.raises(sqlite3.ProgrammingError, match="closed cursor"):
        half_read.fetchone()
    con.close()


def test_the_forking_thread_may_call_sqlite_while_it_holds_the_gate(tmp_path: Path) -> None:
    """The garbage collector may free a connection in the forking thread, inside ``forking()``;
    its clean-up (a rollback) must not wait for the gate that thread holds."""
    con = GatedConnection(tmp_path / "own.db", check_same_thread=False)
    done = threading.Event()

    def fork_and_clean_up() -> None:
        with forking():
            con.rollback()
            con.execute("SELECT 1").fetchall()
        done.set()

    worker = threading.Thread(target=fork_and_clean_up, daemon=True)
    worker.start()
    assert done.wait(30), "the forking thread waited for itself"
    con.close()


def test_a_child_forked_through_the_gate_never_hangs(tmp_path: Path) -> None:
    # in a fresh interpreter: threads that earlier tests of this worker left running (servers,
    # queue consumers) are not this test's hammer, and must not decide its outcome
    script = (
        "import sys; from pathlib import Path; "
        "from study.fork_gate import GatedConnection; "
        "from tests.study.test_fork_gate import _forks_that_hang; "
        "print(_forks_that_hang(Path(sys.argv[1]), GatedConnection, gate=True))"
    )
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path / "gated.db")],
        cwd=root, capture_output=True, text=True, timeout=900, check=True,
    )  # fmt: skip
    assert done.stdout.strip() == "0", done.stdout + done.stderr
