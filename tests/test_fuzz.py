"""Fuzzing the command line: generated study files and arguments, valid and broken.

Whatever Hypothesis generates, ``hpsearch run`` either works, or ends with one line on stderr
(``hpsearch: error: ...``), a non-zero exit, no traceback, and a store byte-identical to what
it was. Bounded (a few dozen examples, tiny synthetic data, one epoch) so the suite stays fast.
"""

from __future__ import annotations

import hashlib
import json
import math
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import REPO

TINY = str(REPO / "tests" / "spaces" / "tiny.py")

SCALARS = st.one_of(
    st.integers(-5, 300),
    st.floats(-2, 5, allow_nan=False),
    st.sampled_from([0, 1, 0.0, 0.5, 1.5, -1, True, False, "", "x", "none", "random", "tpe"]),
    st.text(alphabet="ab[]{}'\"\\ /.:", max_size=8),
)

# Keys each section may get: real ones (so some files are valid) and misspelt ones.
SECTIONS: dict[str, list[str]] = {
    "dataset": [
        "kind",
        "samples",
        "num_words",
        "maxlen",
        "validation_split",
        "max_samples",
        "path",
        "sampels",
    ],
    "budget": ["n_trials", "max_epochs", "timeout", "n_trails"],
    "sampler": ["name", "n_startup_trials", "seed", "multivariate", "bogus"],
    "pruner": ["name", "n_startup_trials", "n_warmup_steps", "percentile"],
    "early_stopping": ["patience", "min_delta", "monitor", "restore_best_weights"],
    "objective": ["metric", "direction", "multi"],
    "tradeoff": ["gap", "max_gap", "constrain", "penalize"],
    "selection": ["finalists", "repeats"],
    "ranges": ["width", "learning_rate", "batch_size", "nope"],
}
VALID: dict[str, dict[str, Any]] = {
    "dataset": {"kind": "synthetic", "samples": 40, "num_words": 60, "maxlen": 6},
    "budget": {"n_trials": 1, "max_epochs": 1},
    "sampler": {"name": "random"},
    "pruner": {"name": "none"},
    "selection": {"finalists": 0},
}


def toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return repr(v) if math.isfinite(v) else "nan"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, str):
        return json.dumps(v)
    if isinstance(v, list):
        return "[" + ", ".join(toml_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{k} = {toml_value(x)}" for k, x in v.items()) + "}"
    raise TypeError(v)


@st.composite
def study_files(draw: st.DrawFn) -> str:
    top: dict[str, Any] = {
        "name": draw(st.one_of(st.just("fz"), st.text(alphabet="ab[]/'\" ", max_size=6))),
        "space": draw(st.sampled_from([TINY, TINY, "lstm_dropuot", "", "pkg.nope"])),
        "storage": draw(
            st.sampled_from(
                [
                    "sqlite:///fz.db",
                    "sqlite:///fz.db",
                    "fz.db",
                    "foo://x",
                    "sqlite:///missing/fz.db",
                ]
            )
        ),
    }
    if draw(st.booleans()):
        top["seed"] = draw(SCALARS)
    lines = [f"{k} = {toml_value(v)}" for k, v in top.items() if draw(st.integers(0, 9)) > 0]
    for section, keys in SECTIONS.items():
        table = dict(VALID.get(section, {}))
        for key in draw(st.lists(st.sampled_from(keys), max_size=2, unique=True)):
            if section == "ranges":
                table[key] = draw(
                    st.one_of(
                        st.lists(SCALARS, max_size=3),
                        st.fixed_dictionaries({"low": SCALARS, "high": SCALARS}),
                        SCALARS,
                    )
                )
            else:
                table[key] = draw(SCALARS)
        if table:
            lines.append(f"[{section}]")
            lines += [f"{k} = {toml_value(v)}" for k, v in table.items()]
    if draw(st.integers(0, 19)) == 0:
        lines.insert(
            draw(st.integers(0, len(lines))), draw(st.sampled_from(["[budget", "x =", "="]))
        )
    return "\n".join(lines) + "\n"


ARGS = st.lists(
    st.sampled_from(
        [
            ["--trials", "1"],
            ["--trials", "0"],
            ["--trials", "x"],
            ["--max-epochs", "-1"],
            ["--maxlen", "0"],
            ["--data", "nope.csv"],
            ["--data", "notes.txt"],
            ["--timeout", "0"],
            ["--storage", "sqlite:///other.db"],
            ["--workers", "0"],
            ["--bogus"],
        ]
    ),
    max_size=2,
)


def digest(path: Path) -> str | None:
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.exists() else None


@pytest.mark.slow
@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(text=study_files(), args=ARGS)
def test_any_study_file_runs_or_fails_in_one_line_leaving_the_store_unchanged(
    cli, tmp_path: Path, text: str, args: list[list[str]]
) -> None:
    (tmp_path / "notes.txt").write_text("not a database")
    (tmp_path / "s.toml").write_text(text, encoding="utf-8")
    stores = [tmp_path / "fz.db", tmp_path / "other.db"]
    before = [digest(p) for p in stores]
    flat = [a for pair in args for a in pair]
    r = cli("run", "s.toml", *flat)
    assert "Traceback" not in r.err
    if r.code == 0:
        return
    lines = r.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("hpsearch: error: "), r.err
    assert [digest(p) for p in stores] == before
