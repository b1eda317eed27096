"""Where a study's space came from: recorded at creation (resolved path or module, and a
sha256 of its source), so export, worker, select and evaluate find it from any folder, and a
changed source is reported instead of silently mixed into the study."""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path
from typing import Any

import optuna
import pytest

from hpsearch.config.shipped import BUILTIN_SPACES
from hpsearch.engine.spaces import FINGERPRINT_ATTR, ORIGIN_ATTR, load_space, stored_space
from hpsearch.errors import HpsearchWarning, SpaceError
from tests.conftest import REPO

TINY = REPO / "tests" / "spaces" / "tiny.py"


def study_text(name: str, space: str, storage: str, n_trials: int = 2) -> str:
    return (
        f'name = "{name}"\nspace = "{space}"\nstorage = "{storage}"\nseed = 1\n'
        '[dataset]\nkind = "synthetic"\nsamples = 64\nnum_words = 60\nmaxlen = 8\n'
        '[pruner]\nname = "none"\n[sampler]\nname = "random"\n'
        "[selection]\nfinalists = 0\n"
        f"[budget]\nn_trials = {n_trials}\nmax_epochs = 1\n"
    )


def attrs(url: str, name: str) -> dict[str, Any]:
    return optuna.load_study(study_name=name, storage=url).user_attrs


def trial_count(db: Path) -> int:
    with sqlite3.connect(db) as conn:
        return int(conn.execute("SELECT COUNT(*) FROM trials").fetchone()[0])


@pytest.mark.parametrize("spelling", ["myspace", "exp/myspace.py"])
def test_a_space_beside_its_study_file_is_found_from_another_folder(
    cli: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, spelling: str
) -> None:
    exp = tmp_path / "exp"
    exp.mkdir()
    (exp / "myspace.py").write_text(TINY.read_text())
    db = tmp_path / "store.db"
    url = f"sqlite:///{db}"
    (exp / "study.toml").write_text(study_text("beside", spelling, url))

    r = cli("run", "exp/study.toml")  # from tmp_path: the space is in exp/, beside the file
    assert r.code == 0, r.err
    stored = attrs(url, "beside")
    assert stored[ORIGIN_ATTR] == str((exp / "myspace.py").resolve())
    assert stored[FINGERPRINT_ATTR] == hashlib.sha256((exp / "myspace.py").read_bytes()).hexdigest()
    assert stored["hpsearch:config"]["space"] == spelling  # the study file's own spelling

    assert cli("create", "exp/study.toml", "--trials", "3").code == 0  # one more for a worker

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    r = cli("export", "beside", "--storage", url, "-o", "train.py")
    assert r.code == 0, r.err
    assert r.err == "" and (elsewhere / "train.py").is_file()
    r = cli("worker", "beside", "--storage", url, "--quiet")
    assert r.code == 0, r.err
    assert trial_count(db) == 3


def test_a_changed_space_is_refused_for_workers_and_resumes_and_a_warning_for_export(
    cli: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    space = tmp_path / "myspace.py"
    space.write_text(TINY.read_text())
    url = f"sqlite:///{tmp_path / 'store.db'}"
    (tmp_path / "study.toml").write_text(study_text("changing", "myspace", url, n_trials=1))
    assert cli("run", "study.toml").code == 0
    before = (tmp_path / "store.db").read_bytes()

    space.write_text(TINY.read_text().replace('"width", 2, 8', '"width", 2, 9'))
    r = cli("worker", "changing", "--storage", url)
    assert r.code == 2 and r.err.count("\n") == 1
    assert "space 'myspace' has changed since study 'changing' was created" in r.err
    assert str(space) in r.err and "restore it" in r.err
    r = cli("run", "study.toml", "--trials", "2")
    assert r.code == 2 and "has changed since study 'changing' was created" in r.err
    assert (tmp_path / "store.db").read_bytes() == before

    # Read-only: export goes on, and says once that the code is not what trained the trials.
    r = cli("export", "changing", "--storage", url, "-o", "t.py")
    assert r.code == 0, r.err
    assert r.err.count("hpsearch: warning: space 'myspace' has changed") == 1
    assert r.err.count("\n") == 1

    space.write_text(TINY.read_text())  # restored: the study goes on
    assert cli("run", "study.toml", "--trials", "2").code == 0


def test_a_shipped_space_is_recorded_by_module_and_an_old_store_still_loads(
    tmp_path: Path,
) -> None:
    space = load_space("lstm_dropout")
    assert space.origin == "hpsearch.builtin_spaces.lstm_dropout"
    expected = hashlib.sha256((BUILTIN_SPACES / "lstm_dropout.py").read_bytes()).hexdigest()
    assert space.fingerprint == expected
    assert load_space(str(BUILTIN_SPACES / "lstm_dropout.py")).origin == space.origin

    study = optuna.create_study(study_name="old")
    study.set_user_attr("hpsearch:space", "lstm_dropout")  # written before origins existed
    assert stored_space(study, "lstm_dropout").origin == space.origin
    study.set_user_attr(ORIGIN_ATTR, space.origin)
    study.set_user_attr(FINGERPRINT_ATTR, "0" * 64)
    with pytest.raises(SpaceError, match="has changed since study 'old' was created"):
        stored_space(study, "lstm_dropout")
    with pytest.warns(HpsearchWarning, match="did not train the study's trials"):
        stored_space(study, "lstm_dropout", changed="warn")


def test_a_recorded_file_that_is_gone_is_replaced_only_by_an_identical_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A worker on another machine (or a moved checkout): the study file's spelling, looked up
    from here, stands in for the recorded path if its source is the very same."""
    here = tmp_path / "spaces"
    here.mkdir()
    (here / "myspace.py").write_text(TINY.read_text())
    study = optuna.create_study(study_name="moved")
    study.set_user_attr(ORIGIN_ATTR, str(tmp_path / "gone" / "myspace.py"))
    study.set_user_attr(FINGERPRINT_ATTR, hashlib.sha256(TINY.read_bytes()).hexdigest())
    assert stored_space(study, "myspace").origin == str(here / "myspace.py")
    (here / "myspace.py").write_text(TINY.read_text() + "\n# edited\n")
    with pytest.raises(SpaceError, match=r"cannot be loaded here: .*no such file"):
        stored_space(study, "myspace")
