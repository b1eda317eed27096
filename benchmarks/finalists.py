"""How far a search's best trials fall on fresh validation splits, and what re-evaluation picks.

A search picks its best trials on one validation split; with hundreds of trials the best by
that split are partly the split's luck (the winner's curse), which is why ``hpsearch run``
re-evaluates its finalists on other splits before it picks (``hpsearch.pick``). This measures
how much of the best trials' lead is luck, on a store a README-path run left behind
(``benchmarks/readme_path.py`` keeps each in ``benchmarks/work/``): the ``--top`` trials by
search value and the space's BASELINE (trial 0) are trained again, as the re-evaluation trains
them (the study's own settings, early stopping, each split's vocabulary), on

- the study's re-evaluation splits (split seeds: the study's seed + 1, + 2, ...), the first
  ``repeats`` of which ``hpsearch run`` used; more of them show what more repeats would pick;
- ``--fresh`` splits no search or re-evaluation of the shipped studies uses (split seeds 1000
  onward): each trial's mean there is the measure of what it is worth.

Beside them, on the same splits, the one-minute linear baseline of ``benchmarks/baselines.py``
(TF-IDF of words and word pairs, logistic regression with the C it chose for the task), where
the study reads a CSV whose folder names a task it measured.

    python benchmarks/finalists.py benchmarks/work/imdb-ratings-multivariate-s12/store.db \\
        imdb-ratings-multivariate-s12                 # about 8 minutes on one core
    python benchmarks/finalists.py --report           # the table of every recorded study
    python benchmarks/finalists.py --smoke            # a minute: the harness works (CI)

Each split's runs are recorded in ``benchmarks/results/finalists.json`` as they finish, so an
interrupted measurement resumes; ``finalists.md`` holds the table.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
RESULTS = REPO / "benchmarks" / "results"
FRESH_SEED = 1000
"""The first fresh split seed: above every seed a shipped study searches or re-evaluates with."""
REEVALUATION_SPLITS = 4
"""Re-evaluation splits trained per trial (``hpsearch run`` uses the first ``repeats``: 2)."""


LINEAR = "tfidf-lr"
"""The row of the linear baseline in a split's runs."""


def linear_baseline(cfg: Any) -> tuple[float, Callable[[int], float]] | None:
    """The C that ``benchmarks/baselines.py`` chose for this task and ``split_seed -> validation
    accuracy`` of TF-IDF + LR with it on that split; ``None`` where it measured no such task."""
    import numpy as np

    sys.path.insert(0, str(REPO / "benchmarks"))
    import baselines

    from hpsearch.portable.data import stratified_split

    path = getattr(cfg.dataset, "path", None)
    recorded = RESULTS / "baselines.json"
    if (
        cfg.dataset.kind != "csv"
        or path is None
        or cfg.dataset.max_samples
        or not recorded.exists()
    ):
        return None
    task = Path(path).parent.name
    found = [
        r["c"]
        for r in json.loads(recorded.read_text())["results"]
        if r["task"] == task and r["model"] == "tfidf"
    ]
    if not found:
        return None
    texts, labels, classes = baselines.read(Path(path))

    def accuracy(split_seed: int) -> float:
        keep, val = stratified_split(labels, cfg.dataset.validation_split, split_seed)
        model = baselines.Linear("tfidf", found[0], len(classes))
        model.fit([texts[i] for i in keep], labels[keep])
        return float(np.mean(model.predict([texts[i] for i in val]) == labels[val]))

    return found[0], accuracy


def measure(url: str, name: str, top: int, fresh: int, out: Path) -> dict[str, Any]:
    """Train the study's ``top`` trials and its BASELINE on every split not yet recorded."""
    import optuna

    from hpsearch.data import load_dataset
    from hpsearch.engine import setting
    from hpsearch.engine.quiet import quiet_tensorflow
    from hpsearch.engine.runner import prepare_stored
    from hpsearch.engine.threads import use_threads
    from hpsearch.engine.trial import trial_seed
    from hpsearch.pick.evaluate import chosen_params
    from hpsearch.pick.reevaluate import train_once
    from hpsearch.store.queries import load

    use_threads()
    quiet_tensorflow()
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    study = load(url, name)  # read-only; a store of another kind or no such study: one line
    prep = prepare_stored(study, url)
    cfg = prep.cfg
    trials = study.get_trials(deepcopy=False)
    complete = [t for t in trials if t.state.name == "COMPLETE" and t.number != 0]
    best = sorted(complete, key=lambda t: (-(t.value or 0.0), t.number))[:top]
    chosen = [0, *(t.number for t in best)]
    recorded = json.loads(out.read_text()) if out.exists() else {}
    result = recorded.get(name) or {
        "study": name,
        "seed": cfg.seed,
        "repeats": cfg.selection.repeats,
        "trials": {},
        "splits": {},
    }
    for n in chosen:
        result["trials"].setdefault(str(n), {"search": trials[n].value, "params": trials[n].params})
    baseline = linear_baseline(cfg)
    linear = None if baseline is None else baseline[1]
    if baseline is not None:
        result["linear_c"] = baseline[0]
    vectorized = setting.ceiling(cfg, prep.space).dataset
    seeds = [cfg.seed + r for r in range(1, REEVALUATION_SPLITS + 1)]
    seeds += [FRESH_SEED + i for i in range(fresh)]
    for split_seed in seeds:
        row: dict[str, float | None] = dict(result["splits"].get(str(split_seed), {}))
        todo = [n for n in chosen if str(n) not in row]
        if not todo and (linear is None or LINEAR in row):
            continue
        if todo:
            base = load_dataset(vectorized, split_seed)
            for number in todo:
                params = chosen_params(prep.space.suggest, trials[number])
                data = base.restrict(*setting.of(params))
                seed = trial_seed(split_seed, number)
                row[str(number)] = train_once(prep, params, data, split_seed, seed)[0].get("value")
        if linear is not None and LINEAR not in row:
            row[LINEAR] = linear(split_seed)
        result["splits"][str(split_seed)] = row
        # Read again before writing: a measurement on the other core may have recorded its own.
        recorded = json.loads(out.read_text()) if out.exists() else {}
        recorded[name] = result
        out.write_text(json.dumps(recorded, indent=1) + "\n")
        print(f"{name}: split {split_seed} done", flush=True)
    return result


def _mean(values: list[float]) -> float:
    return statistics.fmean(values) if values else math.nan


def table(recorded: dict[str, Any]) -> str:
    """Per study: each trial's search value, its re-evaluation means, its fresh mean."""
    lines = []
    for name, r in recorded.items():
        splits = r["splits"]
        again = [s for s in splits if int(s) < FRESH_SEED]
        fresh = [s for s in splits if int(s) >= FRESH_SEED]
        used = again[: r["repeats"]]
        lines += [
            f"**{name}** (seed {r['seed']}; {len(fresh)} fresh splits)",
            "",
            f"| trial | search | re-evaluated, {len(used)} splits (as run) | re-evaluated, "
            f"{len(again)} splits | fresh mean ± SE | fresh minus search |",
            "|---|---|---|---|---|---|",
        ]
        rows = dict(r["trials"])
        if "linear_c" in r:
            rows[LINEAR] = {"search": math.nan}
        for n, t in rows.items():
            values = [splits[s][n] for s in fresh if splits[s].get(n) is not None]
            mean = _mean(values)
            se = statistics.stdev(values) / math.sqrt(len(values)) if len(values) > 1 else 0.0
            label = f"{n} (BASELINE)" if n == "0" else n
            search = f"{t['search']:.4f}"
            lead = f"{mean - t['search']:+.4f}"
            if n == LINEAR:
                label = f"TF-IDF + LR, C = {r['linear_c']:g} (benchmarks/baselines.py)"
                search = lead = "-"
            lines.append(
                f"| {label} | {search} | "
                f"{_mean([splits[s][n] for s in used if splits[s].get(n) is not None]):.4f} | "
                f"{_mean([splits[s][n] for s in again if splits[s].get(n) is not None]):.4f} | "
                f"{mean:.4f} ± {se:.4f} | {lead} |"
            )
        lines.append("")
    return "\n".join(lines)


def smoke() -> None:
    """A 3-trial quick-start study in a temporary store, then its 2 best trials on 1 split."""
    sys.path.insert(0, str(REPO / "benchmarks"))
    from readme_path import study_copy

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        source = folder / "source.toml"
        text = (REPO / "studies" / "quickstart.toml").read_text()
        text = re.sub(r"(?m)^n_trials\s*=.*$", "n_trials = 3", text)
        source.write_text(re.sub(r"(?m)^max_epochs\s*=.*$", "max_epochs = 2", text))
        study = study_copy(source, folder, "smoke", 1)
        url = f"sqlite:///{folder / 'store.db'}"
        hpsearch = str(Path(sys.executable).parent / "hpsearch")
        subprocess.run([hpsearch, "run", str(study), "--storage", url], cwd=folder, check=True)
        out = folder / "finalists.json"
        measure(url, "smoke", top=2, fresh=1, out=out)
        recorded = json.loads(out.read_text())
        runs = recorded["smoke"]["splits"]
        assert len(runs) == REEVALUATION_SPLITS + 1, runs
        assert all(v is not None for row in runs.values() for v in row.values()), runs
        print(table(recorded))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("store", nargs="?", help="the store: a SQLite file or a storage URL")
    parser.add_argument("study", nargs="?", help="the study's name in the store")
    parser.add_argument("--top", type=int, default=6, help="best trials by search value (6)")
    parser.add_argument("--fresh", type=int, default=8, help="fresh splits (8)")
    parser.add_argument("--report", action="store_true", help="print the recorded table")
    parser.add_argument("--smoke", action="store_true", help="a minute: the harness works")
    args = parser.parse_args()
    if args.smoke:
        smoke()
        return
    out = RESULTS / "finalists.json"
    if not args.report:
        from hpsearch.errors import HpsearchError

        if not args.store or not args.study:
            parser.error("give a store and a study name (or --report, or --smoke)")
        if args.top < 1 or args.fresh < 1:
            parser.error(f"--top {args.top} and --fresh {args.fresh}: allowed: 1 or more")
        url = args.store if "://" in args.store else f"sqlite:///{Path(args.store).resolve()}"
        if "://" not in args.store and not Path(args.store).is_file():
            parser.error(f"no store at {args.store}")
        try:
            measure(url, args.study, args.top, args.fresh, out)
        except HpsearchError as error:  # hpsearch's own one line (what, and what to do)
            raise SystemExit(f"finalists.py: error: {error}") from None
    recorded = json.loads(out.read_text()) if out.exists() else {}
    machine = f"{platform.machine()}, {os.cpu_count()} cores, no GPU"
    text = f"Machine: {machine}. Command: `python benchmarks/finalists.py STORE STUDY`.\n\n"
    text += table(recorded)
    (RESULTS / "finalists.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
