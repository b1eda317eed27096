"""Shared fixtures: a temp working directory, a temp cache, tiny study files, and the CLI
called through its entry point (``hpsearch.cli.main``) with output captured."""

from __future__ import annotations

import os
import textwrap
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from hpsearch.cli.main import main
from hpsearch.engine.quiet import quiet_tensorflow
from hpsearch.engine.threads import use_threads
from hpsearch.store.database import close_stores

REPO = Path(__file__).resolve().parent.parent
IMDB_DIR = Path(os.environ.get("HPSEARCH_IMDB_DIR", REPO.parent / "shared" / "data" / "imdb"))
RATINGS_DIR = Path(
    os.environ.get("HPSEARCH_RATINGS_DIR", REPO.parent / "shared" / "data" / "imdb-ratings")
)

# As the CLI does before TensorFlow starts: trials record these, exported scripts set them.
use_threads()
quiet_tensorflow()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Run the slowest tests first, so the two xdist workers finish close together."""
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)


@dataclass
class Result:
    code: int
    out: str
    err: str


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HPSEARCH_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras-home"))
    monkeypatch.delenv("HPSEARCH_STORAGE", raising=False)
    yield
    close_stores()  # a test's stores close with it, as a command's do


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]) -> Callable[..., Result]:
    def run(*args: str) -> Result:
        capsys.readouterr()
        code = main(list(args))
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)

    return run


TINY_STUDY = """
name = "tiny"
space = "lstm_dropout"
seed = 3
storage = "sqlite:///tiny.db"

[dataset]
kind = "synthetic"
samples = 160
test_samples = 40
num_words = 120
maxlen = 16

[sampler]
name = "random"

[pruner]
name = "median"
n_startup_trials = 1
n_warmup_steps = 0

[early_stopping]
patience = 1

[selection]
finalists = 0
[budget]
n_trials = 4
max_epochs = 3

[ranges]
lstm_units = {low = 16, high = 100 }
embedding_dim = [16, 32]
batch_size = [32, 64]
"""


@pytest.fixture
def study_file(tmp_path: Path) -> Callable[..., Path]:
    """Write a study file: the tiny study, with text appended or replaced."""

    def write(text: str = TINY_STUDY, name: str = "study.toml", extra: str = "") -> Path:
        path = tmp_path / name
        path.write_text(textwrap.dedent(text) + textwrap.dedent(extra), encoding="utf-8")
        return path

    return write


def imdb_csv(name: str = "train.csv") -> Path:
    path = IMDB_DIR / name
    if not path.is_file():
        pytest.skip(f"the IMDB sample is not at {IMDB_DIR} (set HPSEARCH_IMDB_DIR)")
    return path


def ratings_csv(name: str = "train.csv") -> Path:
    """The 4-class IMDB ratings sample (labels 0..3 = 1-2, 3-4, 7-8, 9-10 stars)."""
    path = RATINGS_DIR / name
    if not path.is_file():
        pytest.skip(f"the IMDB ratings sample is not at {RATINGS_DIR} (set HPSEARCH_RATINGS_DIR)")
    return path
