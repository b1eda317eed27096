"""The CLI's edge (hpsearch.cli): every command registered, usage errors and failures as one
line, no TensorFlow for --help, tracebacks only with --debug."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from hpsearch.cli.main import cli as group
from tests.conftest import REPO


def test_every_command_is_registered_from_its_module() -> None:
    modules = {name: command.callback.__module__ for name, command in group.commands.items()}
    assert modules == {
        **dict.fromkeys(("run", "create", "worker", "select", "submit"), "hpsearch.cli.run"),
        **dict.fromkeys(
            ("studies", "trials", "best", "spaces", "tradeoff", "report", "dashboard"),
            "hpsearch.cli.read",
        ),
        **dict.fromkeys(("evaluate", "export"), "hpsearch.cli.export"),
        "delete": "hpsearch.cli.store",
    }


def test_usage_errors_are_one_line(cli) -> None:
    r = cli("run", "x.toml", "--trials", "zero")
    assert r.code == 2 and r.err.count("\n") == 1 and "--trials" in r.err
    r = cli("frobnicate")
    assert r.code == 2 and "No such command 'frobnicate'" in r.err


def _script() -> str:
    exe = Path(sys.executable).with_name("hpsearch")
    return str(exe) if exe.exists() else "hpsearch"


def test_console_script_help_is_fast_and_skips_tensorflow(tmp_path) -> None:
    code = (
        "import sys; from hpsearch.cli.main import main; rc = main(['--help']); "
        "assert 'tensorflow' not in sys.modules, 'tensorflow imported'; sys.exit(rc)"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "hpsearch run studies/quickstart.toml" in r.stdout
    start = time.perf_counter()
    r = subprocess.run(
        [_script(), "studies", "--help"], capture_output=True, text=True, cwd=tmp_path
    )
    assert r.returncode == 0 and "Example" in r.stdout
    assert time.perf_counter() - start < 5


def test_console_script_error_has_no_traceback_unless_debug(tmp_path) -> None:
    (tmp_path / "s.toml").write_text(
        'name = "x"\nspace = "lstm_dropout"\n[selection]\nfinalists = 0\n[budget]\nn_trials = -1\n'
    )
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    r = subprocess.run(
        [_script(), "run", "s.toml"], capture_output=True, text=True, cwd=tmp_path, env=env
    )
    assert r.returncode == 2
    assert r.stderr == "hpsearch: error: s.toml: budget.n_trials = -1 is too small; allowed: >= 1\n"
    r = subprocess.run(
        [_script(), "run", "s.toml", "--debug"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
    )
    assert r.returncode != 0 and "Traceback" in r.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("run", ""), "STUDY_FILE '' is empty; allowed: a name or a file path"),
        (("create", ""), "STUDY_FILE '' is empty"),
        (("spaces", ""), "NAME '' is empty"),
        (("tradeoff", "s", "--plots", ""), "--plots '' is empty; allowed: a folder path"),
        (("report", "s", "-o", ""), "-o '' is empty; allowed: a file path"),
    ],
)
def test_an_empty_path_or_name_is_one_line(cli, args: tuple[str, ...], message: str) -> None:
    r = cli(*args)
    assert r.code == 2 and r.err.startswith(f"hpsearch: error: {message}")
    assert r.err.count("\n") == 1


def _locked_error(tmp_path: Path) -> BaseException:
    """The error a real SQLite connection raises on a store another process holds locked."""
    import sqlite3

    import sqlalchemy as sa

    path = tmp_path / "locked.db"
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("CREATE TABLE t (x)")
    holder.execute("BEGIN IMMEDIATE")
    engine = sa.create_engine(f"sqlite:///{path}", connect_args={"timeout": 0})
    try:
        with engine.begin() as conn:
            conn.exec_driver_sql("INSERT INTO t VALUES (1)")
    except sa.exc.OperationalError as exc:
        return exc
    finally:
        engine.dispose()
        holder.close()
    raise AssertionError("the store was not locked")


def test_a_store_locked_past_the_wait_names_the_likely_holder(tmp_path: Path) -> None:
    from hpsearch.cli.main import unexpected

    line = unexpected(_locked_error(tmp_path))
    assert line.startswith("the SQLite store stayed locked by another process for 60 s")
    assert "suspended (Ctrl-Z)" in line and "run again" in line


def test_a_background_thread_error_is_one_warning_line(tmp_path: Path, capsys) -> None:
    """Optuna's heartbeat thread dies on a store fault with Python's traceback; hpsearch
    prints one line for it (seen when a suspended worker held the SQLite lock)."""
    import threading

    from hpsearch.cli.main import _thread_errors_as_lines, unexpected

    error = _locked_error(tmp_path)
    before = threading.excepthook

    def beat() -> None:
        raise error

    with _thread_errors_as_lines(debug=False):
        thread = threading.Thread(target=beat, name="Thread-2 (_record_heartbeat)")
        thread.start()
        thread.join()
    err = capsys.readouterr().err
    assert err.splitlines() == [
        "hpsearch: warning: the trial's heartbeat stopped: " + unexpected(error)
    ]
    assert threading.excepthook is before  # restored
