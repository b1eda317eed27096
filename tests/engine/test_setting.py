"""Data knobs: vocabulary size and length searched per trial, vectorized once per study."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import optuna
import pytest

from hpsearch.config import DatasetConfig, RangeOverride, StudyConfig
from hpsearch.config.studyfile import load_study_file
from hpsearch.data import load_dataset
from hpsearch.engine import setting
from hpsearch.engine.runner import prepare
from hpsearch.engine.spaces import load_space
from hpsearch.errors import ConfigError
from tests.conftest import REPO, TINY_STUDY, imdb_csv

CLI = "from hpsearch.cli.main import entry_point; entry_point()"


def _csv(**kw: object) -> DatasetConfig:
    base = dict(kind="csv", path=str(imdb_csv("train.csv")), max_samples=200)
    base.update(kw)
    return DatasetConfig(**base)  # type: ignore[arg-type]


@pytest.mark.parametrize(("words", "length"), [(300, 40), (900, 25), (5000, 60)])
def test_a_cut_setting_equals_vectorizing_at_that_setting(words: int, length: int) -> None:
    wide = load_dataset(_csv(num_words=5000, maxlen=60), seed=3)
    direct = load_dataset(_csv(num_words=words, maxlen=length), seed=3)
    cut = wide.restrict(words, length)
    assert (cut.vocab_size, cut.maxlen) == (direct.vocab_size, direct.maxlen)
    assert cut.vocabulary == direct.vocabulary
    assert np.array_equal(cut.x_train, direct.x_train)
    assert np.array_equal(cut.x_val, direct.x_val)
    assert np.array_equal(cut.y_train, direct.y_train)


def test_keras_imdb_cuts_to_its_own_out_of_vocabulary_id() -> None:
    from hpsearch.portable.data import restrict_arrays

    x = np.array([[0, 0, 1, 5, 17, 2, 9]], dtype="int32")
    cut = restrict_arrays({"x_train": x}, num_words=10, maxlen=4, oov=2)["x_train"]
    assert cut.tolist() == [[5, 2, 2, 9]]  # as imdb.load_data(num_words=10) maps 17


BAG_STUDY = """
name = "bag"
space = "bag_of_words"
seed = 5
[dataset]
kind = "csv"
path = {train}
max_samples = 160
[sampler]
name = "random"
[pruner]
name = "none"
[selection]
finalists = 0
[budget]
n_trials = 3
max_epochs = 1
[ranges]
num_words = {{ low = 1000, high = 3000 }}
maxlen = [50, 100]
bigram_buckets = [0]
hidden_units = [0]
"""


@pytest.mark.slow
def test_trials_search_the_data_knobs_and_the_text_is_vectorized_once(
    cli, study_file, tmp_path: Path
) -> None:
    path = study_file(BAG_STUDY.format(train=json.dumps(str(imdb_csv("train.csv")))))
    assert cli("run", str(path)).code == 0
    study = optuna.load_study(study_name="bag", storage="sqlite:///hpsearch.db")
    trials = study.get_trials()
    settings = {(t.params["num_words"], t.params["maxlen"]) for t in trials[1:]}
    assert len(settings) == 2  # two random trials, two settings
    for words, length in settings:
        assert 1000 <= words <= 3000 and length in (50, 100)
    # The baseline (5000 words, 500 tokens) lies outside the ranges, so it is not trial 0.
    assert not trials[0].user_attrs.get("baseline", False)
    cache = tmp_path / "cache"
    files = sorted(cache.glob("*.npz"))
    assert len(files) == 1  # one vectorization, at the largest setting the ranges allow
    with np.load(files[0]) as arrays:
        assert arrays["x_train"].shape[1] == 100 and len(arrays["vocabulary"]) <= 3000
    shown = cli("trials", "bag")
    assert "num_words=" in shown.out and "maxlen=" in shown.out

    # A worker in another process reads the cached arrays: no new file, the old one untouched.
    stamp = files[0].stat().st_mtime_ns
    assert cli("create", str(path), "--trials", "4").code == 0
    env = {**os.environ, "HPSEARCH_CACHE": str(cache)}
    done = subprocess.run(
        [sys.executable, "-c", CLI, "worker", "bag", "--storage", "sqlite:///hpsearch.db"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert sorted(cache.glob("*.npz")) == files and files[0].stat().st_mtime_ns == stamp
    assert len(optuna.load_study(study_name="bag", storage="sqlite:///hpsearch.db").trials) == 4


def test_a_study_file_value_pins_a_searched_knob(tmp_path: Path) -> None:
    space = load_space("bag_of_words")
    path = tmp_path / "s.toml"
    path.write_text(
        'name = "p"\nspace = "bag_of_words"\n[dataset]\nsamples = 80\nnum_words = 1200\n'
        "maxlen = 100\n"
    )
    cfg = setting.pin(load_study_file(path), space)
    assert cfg.ranges["num_words"] == RangeOverride(choices=(1200,))
    assert setting.searched(space, cfg.ranges) == {"num_words": 1200, "maxlen": 100}
    assert setting.pin(cfg, space) == cfg  # a stored, pinned config reads back unchanged
    both = load_study_file(path).replace(ranges={"maxlen": RangeOverride(low=50, high=100)})
    with pytest.raises(
        ConfigError, match=r"dataset\.maxlen = 100 fixes what ranges\.maxlen narrows"
    ):
        setting.pin(both, space)
    # The baseline is still trial 0: the tutorial's settings at the pinned size.
    pinned = prepare(load_study_file(path))
    assert pinned.baseline_note is None
    assert pinned.baseline == {**space.baseline, "num_words": 1200, "maxlen": 100}
    # A space that does not search them uses the dataset's values, as before.
    lstm = load_space("lstm_dropout")
    assert setting.searched(lstm, {}) == {}
    prep = prepare(load_study_file(path).replace(space="lstm_dropout"))
    assert (prep.data.vocab_size, prep.data.maxlen) == (1200, 100)


def test_the_largest_setting_follows_the_ranges() -> None:
    space = load_space(str(REPO / "spaces" / "bag_of_words.py"))
    assert setting.searched(space, {}) == {"num_words": 100_000, "maxlen": 2000}  # declared
    narrowed = {"num_words": RangeOverride(choices=(2000, 8000)), "maxlen": RangeOverride(100, 300)}
    assert setting.searched(space, narrowed) == {"num_words": 8000, "maxlen": 300}


def _texts(tmp_path: Path, lengths: list[int]) -> Path:
    """A CSV whose i-th text has lengths[i] words (w0, w1, ...) and alternating labels."""
    rows = ["text,label"]
    for i, n in enumerate(lengths):
        rows.append(" ".join(f"w{(i + j) % 40}" for j in range(n)) + f",{i % 2}")
    path = tmp_path / "texts.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


def test_open_data_knobs_follow_the_training_texts(tmp_path: Path) -> None:
    """Short texts get short lengths and a vocabulary of the words that recur; the baseline
    (the tutorial's 500 tokens, 5,000 words) is brought to the nearest size the data allows."""
    path = _texts(tmp_path, [10] * 52 + [12] * 46 + [30, 30])
    cfg = StudyConfig(name="s", space="bag_of_words", storage="sqlite://")
    cfg = cfg.replace(dataset=DatasetConfig(kind="csv", path=str(path)))
    space = load_space("bag_of_words")
    followed, knobs, note = setting.follow_data(cfg, space)
    assert knobs == ("num_words", "maxlen")
    assert followed.ranges["maxlen"] == RangeOverride(10, 30)  # median, 99th percentile
    assert followed.ranges["num_words"] == RangeOverride(500, 500)  # 40 recurring words: the least
    assert note == "ranges from the 100 training texts: num_words 500-500, maxlen 10-30"
    # What the study file sets stays: a range, or a pinned size.
    narrowed = cfg.replace(ranges={"maxlen": RangeOverride(20, 25)})
    again, knobs, _ = setting.follow_data(narrowed, space)
    assert knobs == ("num_words",) and again.ranges["maxlen"] == RangeOverride(20, 25)
    # A space that searches neither is left alone.
    assert setting.follow_data(cfg.replace(space="lstm_dropout"), load_space("lstm_dropout"))[
        1:
    ] == ((), None)


def test_a_dataset_without_texts_keeps_the_tutorials_ranges() -> None:
    cfg = StudyConfig(name="s", space="bag_of_words", storage="sqlite://")
    cfg = cfg.replace(dataset=DatasetConfig(kind="synthetic"))
    followed, knobs, note = setting.follow_data(cfg, load_space("bag_of_words"))
    assert followed.ranges == setting.WITHOUT_TEXT and knobs and note is not None


@pytest.mark.parametrize(
    ("key", "value", "what"),
    [("maxlen", 2_000_000_000, "the arrays of 200 texts"), ("num_words", 2_000_000_000, "vectors")],
)
def test_data_knobs_beyond_this_machines_memory_are_one_line(
    cli, study_file, tmp_path: Path, key: str, value: int, what: str
) -> None:
    text = TINY_STUDY.replace("num_words = 120\nmaxlen = 16\n", f"{key} = {value}\n")
    r = cli("run", str(study_file(text)))
    assert r.code == 2 and r.err.count("\n") == 1, r.err
    assert f"{key} = {value:,} would need about" in r.err and what in r.err
    assert "GiB available; allowed: a smaller" in r.err
    assert not (tmp_path / "tiny.db").exists()


def test_the_cut_settings_kept_are_bounded_and_a_repeated_one_is_not_cut_again(
    tmp_path: Path,
) -> None:
    """Each cut setting is a copy of the arrays; searched sizes rarely repeat, so only the last
    ``VIEWS_KEPT`` per validation split are kept (every one kept grew a run by 40-60 MB a trial)."""
    from hpsearch.engine.runner import VIEWS_KEPT

    path = tmp_path / "s.toml"
    path.write_text(
        'name = "v"\nspace = "bag_of_words"\nseed = 2\n[dataset]\nsamples = 120\n'
        "num_words = 1200\n[objective]\nsplits = 2\n"
    )
    prep = prepare(load_study_file(path))
    first = prep.data_for({"maxlen": 60})
    assert prep.data_for({"maxlen": 60}) is first  # asked again: the same arrays, not a new cut
    other = prep.data_for({"maxlen": 60}, 1002)
    assert other is not first and other.maxlen == 60  # the further split's own
    assert not np.array_equal(other.y_val, first.y_val)
    for length in range(20, 20 + 3 * VIEWS_KEPT):
        for seed in (None, 1002):
            assert prep.data_for({"maxlen": length}, seed).maxlen == length
    assert len(prep._views) == 2 * VIEWS_KEPT
    last = prep.data_for({"maxlen": 20 + 3 * VIEWS_KEPT - 1})
    assert prep.data_for({"maxlen": 20 + 3 * VIEWS_KEPT - 1}) is last
