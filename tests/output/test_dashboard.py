"""optuna-dashboard on hpsearch stores: a real server, a real headless Chromium."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CLI = "from hpsearch.cli.main import entry_point; entry_point()"
STUDY = (
    'name = "watched"\nspace = "lstm_dropout"\nstorage = "sqlite:///dash.db"\n'
    "[dataset]\nsamples = 120\nnum_words = 60\nmaxlen = 8\n"
    "[selection]\nfinalists = 0\n"
    "[budget]\nn_trials = {n}\nmax_epochs = 2\n[ranges]\nlstm_units = {{ low = 16, high = 100 }}\n"
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_dashboard(cwd: Path, *args: str) -> tuple[subprocess.Popen[str], int]:
    port = free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-c",
            CLI,
            "dashboard",
            "--storage",
            "sqlite:///dash.db",
            "--port",
            str(port),
            *args,
        ],
        cwd=cwd,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    end = time.monotonic() + 30
    while time.monotonic() < end:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/studies", timeout=2):
                return proc, port
        except OSError:
            time.sleep(0.3)
    proc.kill()
    raise AssertionError(f"dashboard did not start: {proc.stderr.read() if proc.stderr else ''}")


@pytest.fixture
def dashboard(tmp_path: Path) -> Iterator[Callable[[], int]]:
    """Starts the dashboard on demand (the store must exist first); stops it after."""
    procs: list[subprocess.Popen[str]] = []

    def start() -> int:
        proc, port = start_dashboard(tmp_path)
        procs.append(proc)
        return port

    yield start
    for proc in procs:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.mark.slow
@pytest.mark.skipif(
    CHROMIUM is None, reason="Debian's chromium is not installed (.ci/run installs it)"
)
def test_study_page_in_headless_chromium(cli, study_file, tmp_path: Path, dashboard) -> None:
    from playwright.sync_api import sync_playwright

    assert cli("run", str(study_file(STUDY.format(n=4)))).code == 0
    base = f"http://127.0.0.1:{dashboard()}/dashboard/studies/1"
    shots = Path(os.environ.get("HPSEARCH_SCREENSHOT_DIR", tmp_path))
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(base)
        page.wait_for_selector("text=validation val_accuracy against accuracy gap", timeout=30000)
        body = page.inner_text("body")
        assert "watched" in body and "Best Trial" in body
        page.screenshot(path=str(shots / "dashboard.png"), full_page=True)
        page.goto(base + "/note")
        page.wait_for_selector("text=hpsearch study watched", timeout=30000)
        note = page.inner_text("body")
        assert "Baseline (the tutorial's settings): trial 0" in note
        assert "complete 4" in note and "Tradeoff pick:" in note
        page.screenshot(path=str(shots / "dashboard-note.png"))
        page.goto(base + "/trials")
        page.wait_for_selector("text=4 Trials", timeout=30000)
        trials = page.inner_text("body")
        assert "Trial 0 (baseline)" in trials and "Stopped: " in trials  # the trial's note
        assert f"Ran on: {socket.gethostname()} (cpu)" in trials  # where each trial ran
        browser.close()


@pytest.mark.slow
def test_dashboard_does_not_break_a_running_study(
    cli, study_file, tmp_path: Path, dashboard
) -> None:
    path = study_file(STUDY.format(n=3))
    assert cli("create", str(path)).code == 0
    port = dashboard()
    stop = threading.Event()
    answers: list[int] = []

    def poll() -> None:  # what an open browser tab does, as fast as it can
        while not stop.is_set():
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/studies", timeout=5) as r:
                    answers.append(len(json.load(r)["study_summaries"]))
            except OSError:
                pass
            time.sleep(0.1)

    poller = threading.Thread(target=poll)
    poller.start()
    try:
        r = cli("run", str(path))
    finally:
        stop.set()
        poller.join()
    assert r.code == 0, r.err
    assert len(answers) > 5 and answers[-1] == 1
    import optuna

    study = optuna.load_study(study_name="watched", storage="sqlite:///dash.db")
    assert [t.state.name for t in study.trials].count("COMPLETE") == 3


def test_remote_host_needs_allow_remote(cli, study_file, tmp_path: Path) -> None:
    assert cli("run", str(study_file(STUDY.format(n=1)))).code == 0
    r = cli("dashboard", "--storage", "sqlite:///dash.db", "--host", "0.0.0.0")
    assert r.code == 2 and r.err.count("\n") == 1
    assert "--host 0.0.0.0 would expose the dashboard" in r.err and "--allow-remote" in r.err
    proc, _ = start_dashboard(tmp_path, "--host", "0.0.0.0", "--allow-remote")
    proc.terminate()
    _, err = proc.communicate(timeout=10)
    assert "warning: the dashboard has no authentication" in err


def test_port_in_use_and_bad_storage_are_one_line(cli, study_file, tmp_path: Path) -> None:
    assert cli("run", str(study_file(STUDY.format(n=1)))).code == 0
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        r = cli("dashboard", "--storage", "sqlite:///dash.db", "--port", str(port))
    assert r.code == 1 and f"port {port} on 127.0.0.1 is already in use" in r.err
    r = cli("dashboard", "--storage", "sqlite:///missing.db")
    assert r.code == 1 and "no such database file" in r.err
    assert not (tmp_path / "missing.db").exists()
    (tmp_path / "notes.txt").write_text("not a database")
    r = cli("dashboard", "--storage", "sqlite:///notes.txt")
    assert r.code == 1 and "is not an SQLite database" in r.err
