"""Faults of the environment during a run: a full disk ends in one line, the store stays
consistent, and the study resumes once there is room again.

The disk is a real one: a small tmpfs mounted for the test (needs root, as on the development
machines and in CI; skipped elsewhere), filled with a file until writes fail.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import optuna
import pytest

from tests.conftest import REPO

CLI = "from hpsearch.cli.main import entry_point; entry_point()"
TINY = REPO / "tests" / "spaces" / "tiny.py"


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mount)],
        capture_output=True,
        check=False,
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here (needs root): {done.stderr.decode().strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def fill(folder: Path) -> Path:
    """Fill the file system under ``folder`` until a write fails; return the filler file."""
    filler = folder / "filler"
    with filler.open("wb") as fh, contextlib.suppress(OSError):
        while True:
            fh.write(b"\0" * 65536)
            fh.flush()
    return filler


def epochs_stored(db: Path) -> int:
    try:
        with sqlite3.connect(f"{db.as_uri()}?mode=ro", uri=True) as conn:
            return int(conn.execute("SELECT COUNT(*) FROM hpsearch_epochs").fetchone()[0])
    except sqlite3.Error:
        return 0


@pytest.mark.slow
def test_a_full_disk_mid_run_is_one_line_and_the_study_resumes(
    small_disk: Path, tmp_path: Path
) -> None:
    db = small_disk / "store.db"
    url = f"sqlite:///{db}"
    (tmp_path / "s.toml").write_text(
        f'name = "full"\nspace = "{TINY}"\nstorage = "{url}"\n'
        "[dataset]\nsamples = 64\nnum_words = 60\nmaxlen = 8\n"
        '[pruner]\nname = "none"\n[sampler]\nname = "random"\n'
        "[early_stopping]\npatience = 40\n[selection]\nfinalists = 0\n"
        "[budget]\nn_trials = 2\nmax_epochs = 40\n"
    )
    env = {**os.environ, "TF_NUM_INTRAOP_THREADS": "1", "TF_NUM_INTEROP_THREADS": "1"}
    run = subprocess.Popen(
        [sys.executable, "-c", CLI, "run", "s.toml"],
        cwd=tmp_path,
        env=env,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    end = time.monotonic() + 120
    while epochs_stored(db) < 3 and time.monotonic() < end:
        time.sleep(0.2)
    assert epochs_stored(db) >= 3, "the run never stored an epoch"
    filler = fill(small_disk)
    _, err = run.communicate(timeout=120)
    assert run.returncode == 1, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    assert lines[0].startswith("hpsearch: error: ") and "full" in lines[0], err

    filler.unlink()
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    again = subprocess.run(
        [sys.executable, "-c", CLI, "run", "s.toml"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert again.returncode == 0, again.stderr[-2000:]
    study = optuna.load_study(study_name="full", storage=url)
    complete = study.get_trials(states=(optuna.trial.TrialState.COMPLETE,))
    assert len(complete) == 2
    assert not study.get_trials(states=(optuna.trial.TrialState.RUNNING,))
