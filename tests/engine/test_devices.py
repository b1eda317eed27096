"""GPU placement for local workers, checked on a machine without GPUs: the parsing and the
round-robin directly, and through the CLI with an ``nvidia-smi`` that lists two GPUs (the
workers then train on the CPU, and each trial records the devices it was placed on)."""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path

import optuna
import pytest

from hpsearch.engine.devices import GROWTH, VISIBLE, machine_gpus, parse_gpus, placement
from hpsearch.engine.workers import worker_env
from hpsearch.errors import ConfigError
from tests.engine.test_workers import hpsearch, study_text


def test_parse_gpus_names_what_is_allowed() -> None:
    assert parse_gpus("all", ["0", "1"]) == ["0", "1"]
    assert parse_gpus(" 1,0 ", ["0", "1"]) == ["1", "0"]
    for bad, named in (("2", "2 is not a GPU"), ("0,0", "empty or repeated"), ("", "empty")):
        with pytest.raises(ConfigError, match=named):
            parse_gpus(bad, ["0", "1"])
    with pytest.raises(ConfigError, match=r"this machine has no GPU.*leave --gpus out"):
        parse_gpus("all", [])


def test_placement_is_round_robin_either_way() -> None:
    assert placement(4, ["0", "1"]) == ["0", "1", "0", "1"]
    assert placement(2, ["0", "1", "2", "3"]) == ["0,2", "1,3"]
    assert placement(1, ["3"]) == ["3"]
    assert placement(3, []) == ["", "", ""]


def test_a_worker_env_carries_its_gpus_and_memory_growth(monkeypatch: pytest.MonkeyPatch) -> None:
    from hpsearch.engine.devices import use_memory_growth

    monkeypatch.delenv(GROWTH, raising=False)
    use_memory_growth()
    env = worker_env(2, "1")
    assert env[VISIBLE] == "1" and env[GROWTH] == "true"
    assert VISIBLE not in worker_env(2) or env[VISIBLE] == os.environ.get(VISIBLE)


def fake_smi(folder: Path, gpus: int) -> dict[str, str]:
    """A PATH whose ``nvidia-smi -L`` lists ``gpus`` GPUs (this machine has none)."""
    folder.mkdir()
    smi = folder / "nvidia-smi"
    lines = "\n".join(f"echo 'GPU {i}: Fake H100 (UUID: GPU-{i})'" for i in range(gpus))
    smi.write_text(f"#!/bin/sh\n{lines}\n")
    smi.chmod(smi.stat().st_mode | stat.S_IEXEC)
    return {"PATH": f"{folder}:{os.environ['PATH']}"}


def test_machine_gpus_reads_nvidia_smi(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", fake_smi(tmp_path / "bin", 3)["PATH"])
    assert machine_gpus() == ["0", "1", "2"]
    monkeypatch.setenv("PATH", str(tmp_path / "nowhere"))
    assert machine_gpus() == []


def test_gpus_on_a_machine_without_them_is_one_line_and_writes_nothing(tmp_path: Path) -> None:
    storage = f"sqlite:///{tmp_path / 'g.db'}"
    (tmp_path / "s.toml").write_text(study_text("g", storage, 2, 1))
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin"}
    p = hpsearch("run", "s.toml", "--gpus", "0", cwd=tmp_path, env=env)
    _, err = p.communicate(timeout=120)
    assert p.returncode == 2, err
    assert err.strip().splitlines() == [
        "hpsearch: error: --gpus 0: this machine has no GPU (nvidia-smi lists none); allowed: "
        "leave --gpus out to train on the CPU"
    ]
    assert not (tmp_path / "g.db").exists()


@pytest.mark.slow
def test_two_workers_are_placed_on_two_gpus_round_robin(tmp_path: Path) -> None:
    storage = f"sqlite:///{tmp_path / 'g.db'}"
    (tmp_path / "s.toml").write_text(study_text("g", storage, 4, 3))
    env = {**os.environ, **fake_smi(tmp_path / "bin", 2)}
    bad = hpsearch("run", "s.toml", "--workers", "2", "--gpus", "0,7", cwd=tmp_path, env=env)
    assert bad.wait(timeout=120) == 2 and "7 is not a GPU" in bad.communicate()[1]
    p = hpsearch("run", "s.toml", "--workers", "2", "--gpus", "all", cwd=tmp_path, env=env)
    _, err = p.communicate(timeout=600)
    assert p.returncode == 0, err
    trials = optuna.load_study(study_name="g", storage=storage).trials
    placed = {t.user_attrs["devices"] for t in trials}
    # TensorFlow finds no GPU behind either index here, so each trial says where it was put.
    assert placed == {f"cpu ({VISIBLE}=0)", f"cpu ({VISIBLE}=1)"}
    assert all(t.user_attrs["worker"].startswith(os.uname().nodename) for t in trials)
