"""A regular install works anywhere: the wheel (``HPSEARCH_WHEEL``, as ``.ci/run`` builds it,
else built here from this checkout's package files) installed, not editable, into a fresh venv,
then used from empty folders: ``hpsearch spaces`` lists every shipped space, the quick start
runs, and a study with its space beside the study file is created there, then a ``worker`` and
``export`` find that space from another folder; ``import hpsearch`` and ``python -m hpsearch``
work. A top-level ``spaces`` package on ``PYTHONPATH`` (an unrelated distribution) is never
read, and the optional extras' packages are made unimportable (as in a plain ``pip install .``):
a PostgreSQL store then says which extra to install.

The fresh venv gets the dependencies by a ``.pth`` line naming this venv's site-packages (so
the test is offline and fast); ``.pth`` files there, among them the editable install's import
hook, are not run, so ``hpsearch`` can only come from the wheel.
"""

from __future__ import annotations

import os
import shutil
import site
import sqlite3
import subprocess
import sys
import sysconfig
from pathlib import Path

import optuna
import pytest

from tests.conftest import REPO

# A sitecustomize that makes the optional extras' packages unimportable, as when not installed.
ABSENT = """import sys


class Absent:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {"keras_tuner", "tensorboard", "psycopg", "torch"}:
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)


sys.meta_path.insert(0, Absent())
"""
SHIPPED = sorted(p.stem for p in (REPO / "spaces").glob("*.py") if not p.stem.startswith("_"))
TINY = REPO / "tests" / "spaces" / "tiny.py"


def build_wheel(out: Path) -> Path:
    """The wheel of this checkout, built from a copy of just what the package is made of
    (no stale build/ folder can leak into it)."""
    given = os.environ.get("HPSEARCH_WHEEL")
    if given:
        return Path(given)
    src = out / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO / name, src / name)
    for name in ("search", "spaces", "studies"):
        shutil.copytree(REPO / name, src / name, ignore=shutil.ignore_patterns("__pycache__"))
    offline = ["--no-deps", "--no-build-isolation", "--no-index"]
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", *offline, "-w", str(out), str(src)],
        check=True,
        capture_output=True,
    )
    (wheel,) = out.glob("hpsearch-*.whl")
    return wheel


def fresh_venv(where: Path, wheel: Path) -> Path:
    subprocess.run(
        [sys.executable, "-m", "venv", "--without-pip", str(where)], check=True, capture_output=True
    )
    python = where / "bin" / "python"
    pip = [sys.executable, "-m", "pip", "--python", str(python)]  # this venv's pip, that venv
    subprocess.run(
        [*pip, "install", "-q", "--no-deps", "--no-index", str(wheel)],
        check=True,
        capture_output=True,
    )
    purelib = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    ours = {sysconfig.get_paths()["purelib"], *site.getsitepackages()}
    (Path(purelib) / "_hpsearch_test_dependencies.pth").write_text("\n".join(sorted(ours)) + "\n")
    return where / "bin"


@pytest.mark.slow
def test_the_wheel_installed_in_a_fresh_venv_works_from_any_folder(tmp_path: Path) -> None:
    wheel = build_wheel(tmp_path)
    bin_dir = fresh_venv(tmp_path / "venv", wheel)
    marker = tmp_path / "fake-spaces-read.txt"
    fake = tmp_path / "site" / "spaces"
    fake.mkdir(parents=True)
    touch = f"open({str(marker)!r}, 'a').write(__name__ + '\\n')\n"
    (fake / "__init__.py").write_text(touch)
    for name in SHIPPED:
        (fake / f"{name}.py").write_text(touch)
    (fake.parent / "sitecustomize.py").write_text(ABSENT)
    env = {
        **{k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")},
        "PYTHONPATH": str(fake.parent),
        "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
        "TF_CPP_MIN_LOG_LEVEL": "3",
    }

    def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
        r = subprocess.run(
            [str(bin_dir / args[0]), *args[1:]], capture_output=True, text=True, cwd=cwd, env=env
        )
        assert r.returncode == 0, f"{args}: {r.stderr[-2000:]}"
        return r

    empty = tmp_path / "empty"
    empty.mkdir()
    code = "import hpsearch, hpsearch.builtin_spaces as b; print(b.__file__)"
    r = run("python", "-c", code, cwd=empty)
    installed = Path(r.stdout.strip()).resolve()
    assert installed.is_relative_to((tmp_path / "venv").resolve()), installed
    assert not installed.is_relative_to(REPO)

    r = run("hpsearch", "spaces", cwd=empty)
    assert all(name in r.stdout for name in SHIPPED), r.stdout
    run("hpsearch", "run", "quickstart", "--trials", "1", "--max-epochs", "1", cwd=empty)

    # A study whose space is a file beside the study file, created here, run by a worker
    # from another folder, then exported from there.
    project = tmp_path / "project"
    project.mkdir()
    (project / "myspace.py").write_text(TINY.read_text())
    db = tmp_path / "store.db"
    url = f"sqlite:///{db}"
    (project / "study.toml").write_text(
        f'name = "beside"\nspace = "myspace"\nstorage = "{url}"\n'
        '[dataset]\nkind = "synthetic"\nsamples = 64\nnum_words = 60\nmaxlen = 8\n'
        '[pruner]\nname = "none"\n[sampler]\nname = "random"\n[selection]\nfinalists = 0\n'
        "[budget]\nn_trials = 1\nmax_epochs = 1\n"
    )
    run("hpsearch", "create", "project/study.toml", "--trials", "2", cwd=tmp_path)
    study = optuna.load_study(study_name="beside", storage=url)
    assert study.user_attrs["hpsearch:space_origin"] == str((project / "myspace.py").resolve())
    run("hpsearch", "worker", "beside", "--storage", url, "--quiet", cwd=empty)
    with sqlite3.connect(db) as conn:
        done = conn.execute("SELECT COUNT(*) FROM trials WHERE state = 'COMPLETE'").fetchone()
    assert done == (2,)
    run("hpsearch", "export", "beside", "--storage", url, "-o", "train.py", cwd=empty)
    assert (empty / "train.py").is_file()
    r = run("python", "-m", "hpsearch", "studies", "--storage", url, cwd=empty)
    assert "beside" in r.stdout and "myspace" in r.stdout

    pg = "postgresql+psycopg://nobody@127.0.0.1:1/none"
    r = subprocess.run(
        [str(bin_dir / "hpsearch"), "studies", "--storage", pg],
        capture_output=True,
        text=True,
        cwd=empty,
        env=env,
    )
    assert r.returncode == 1 and r.stderr.count("\n") == 1, r.stderr
    assert "No module named 'psycopg'" in r.stderr
    assert 'pip install "hpsearch[postgres]"' in r.stderr

    assert not marker.exists(), marker.read_text()
