"""Data knobs: a space may search the vocabulary size and sequence length like any other knob.

When a space's ``suggest`` asks for ``num_words`` or ``maxlen`` (:data:`hpsearch.knobs.DATA_KNOBS`),
the study vectorizes its text once, at the largest setting its ranges allow
(:func:`ceiling`), and every trial's setting is cut from those arrays
(:meth:`hpsearch.data.Dataset.restrict`): no trial re-reads or re-vectorizes the text. A study
file that fixes ``[dataset] num_words`` or ``maxlen`` pins the knob (:func:`pin`); a space that
does not search them uses the dataset's values, as before.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Any

from hpsearch.config import RangeOverride, StudyConfig
from hpsearch.engine.spaces import Space, describe, largest
from hpsearch.errors import ConfigError
from hpsearch.knobs import DATA_KNOBS, MAXLEN, NUM_WORDS

WITHOUT_TEXT = {"num_words": RangeOverride(1000, 40000), "maxlen": RangeOverride(50, 800)}
"""The ranges of a dataset whose texts cannot be profiled (Keras' imdb.npz, synthetic
sequences): what the tutorial's data calls for."""


def searched(space: Space, ranges: dict[str, RangeOverride]) -> dict[str, int]:
    """The data knobs the space searches, each with the largest value ``ranges`` allow."""
    out: dict[str, int] = {}
    for p in describe(space, ranges=ranges):
        if p.name in DATA_KNOBS:
            out[p.name] = int(largest(p.distribution))
    return out


def pin(cfg: StudyConfig, space: Space) -> StudyConfig:
    """A study file that sets ``[dataset] num_words``/``maxlen`` for a space that searches it
    fixes that knob: it becomes a one-value range. Setting both a value and a range is refused."""
    knobs = searched(space, {})
    ranges = dict(cfg.ranges)
    for knob in knobs:
        value = getattr(cfg.dataset, knob)
        if value is None:
            continue
        pinned = RangeOverride(choices=(value,))
        if ranges.get(knob) == pinned:
            continue  # already pinned (a config stored by a study, read back)
        if knob in ranges:
            raise ConfigError(
                f"{cfg.source}: dataset.{knob} = {value!r} fixes what ranges.{knob} narrows; "
                f"allowed: one of them (space {space.name!r} searches {knob})"
            )
        ranges[knob] = pinned
    return cfg if ranges == cfg.ranges else dataclasses.replace(cfg, ranges=ranges)


def follow_data(cfg: StudyConfig, space: Space) -> tuple[StudyConfig, tuple[str, ...], str | None]:
    """The data knobs the space searches and the study file leaves open (no ``[ranges]``
    entry, not pinned by ``[dataset]``) get ranges from the training texts: the length from
    the median to the 99th percentile of words per text (shorter cuts half the texts, longer
    is padding), the vocabulary from 1,000 words (fewer where fewer recur) to every word
    found in two texts or more. Returns the config, the knobs so set, and a line saying so.
    Derived once, when the study is created or resumed from its file; a stored study keeps
    the ranges it was created with."""
    knobs = [k for k in searched(space, {}) if k not in cfg.ranges]
    if not knobs:
        return cfg, (), None
    if cfg.dataset.kind in ("csv", "directory"):
        from hpsearch.data.text import text_profile

        profile = text_profile(cfg.dataset)
        low = min(max(profile.median_words, MAXLEN[0]), MAXLEN[1])
        high_words = min(max(profile.recurring_words, NUM_WORDS[0]), NUM_WORDS[1])
        derived = {
            "maxlen": RangeOverride(low, min(max(profile.p99_words, low), MAXLEN[1])),
            "num_words": RangeOverride(min(1000, high_words), high_words),
        }
        source = f"the {profile.texts} training texts"
    else:
        derived, source = WITHOUT_TEXT, f"the {cfg.dataset.kind} dataset's defaults"
    ranges = {**cfg.ranges, **{k: derived[k] for k in knobs}}
    shown = ", ".join(f"{k} {derived[k].low}-{derived[k].high}" for k in knobs)
    note = f"ranges from {source}: {shown}"
    return dataclasses.replace(cfg, ranges=ranges), tuple(knobs), note


def ceiling(cfg: StudyConfig, space: Space) -> StudyConfig:
    """The config whose dataset is vectorized: the largest searched setting, else the file's."""
    knobs = searched(space, cfg.ranges)
    if not knobs:
        return cfg
    words, length = cfg.dataset.size()
    dataset = dataclasses.replace(
        cfg.dataset,
        num_words=knobs.get("num_words", words),
        maxlen=knobs.get("maxlen", length),
    )
    return dataclasses.replace(cfg, dataset=dataset)


def of(params: dict[str, Any]) -> tuple[int | None, int | None]:
    """A trial's (num_words, maxlen), ``None`` where the space does not search it."""
    words, length = (params.get(k) for k in DATA_KNOBS)
    return (None if words is None else int(words), None if length is None else int(length))


EMBEDDING_BYTES = 256 * 4 * 3
"""Per vocabulary word, the most a model holds: a 256-wide float32 vector, and Adam's two
slots beside it (a bag of words holds less: one weight per word and class)."""
ARRAY_COPIES = 3
"""Vectorizing holds a split's integer rows about three times over (encoded, padded, cached)."""


def available_memory() -> int:
    """Bytes this machine can still give (``MemAvailable``; all of it where that is unknown)."""
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


def _rows(cfg: StudyConfig) -> int:
    """About how many texts the dataset holds (lines of its CSVs, files of its folders)."""
    d = cfg.dataset
    if d.kind == "synthetic":
        return d.samples + d.test_samples
    if d.kind == "imdb":
        return 50_000 if d.max_samples is None else d.max_samples
    paths = [Path(p) for p in (d.path, d.test_path) if p]
    count = 0
    for p in paths:
        if p.is_dir():
            count += sum(1 for _ in p.glob("t*/*/*.txt"))
        elif p.is_file():
            with p.open("rb") as fh:
                count += sum(1 for _ in fh)
    return count


def check_memory(cfg: StudyConfig) -> None:
    """The largest vocabulary and length the study will vectorize (``cfg`` is the ceiling,
    :func:`ceiling`) must fit this machine's memory: too large is one line naming the setting
    and the estimate, before anything is allocated (a maxlen of a billion asked NumPy for
    hundreds of GiB, and with enough swap it might have tried)."""
    words, length = cfg.dataset.size()
    free = available_memory()
    rows = _rows(cfg)
    for knob, value, need, what in (
        ("maxlen", length, rows * length * 4 * ARRAY_COPIES, f"the arrays of {rows:,} texts"),
        ("num_words", words, words * EMBEDDING_BYTES, "a model's word vectors"),
    ):
        if need > 0.8 * free:
            raise ConfigError(
                f"{cfg.source}: {knob} = {value:,} would need about {need / 2**30:,.1f} GiB for "
                f"{what}; this machine has {free / 2**30:,.1f} GiB available; allowed: a smaller "
                f"{knob} (dataset.{knob}, or ranges.{knob})"
            )


SPLIT_STRIDE = 1000
"""How far apart the seeds of a trial's validation splits lie (``[objective] splits``): the
study's own split is carved with the study seed, the next with seed + 1000, and so on, clear of
the re-evaluation's splits (seed + 1, + 2, ...: :mod:`hpsearch.pick.reevaluate`)."""


def split_seeds(cfg: StudyConfig) -> tuple[int, ...]:
    """The seeds of the validation splits every trial is scored on, the study's own first."""
    return tuple(cfg.seed + SPLIT_STRIDE * i for i in range(cfg.objective.splits))
