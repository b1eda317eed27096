"""The README's path, run as a user runs it, on real tasks: what it reaches and what it claims.

For one study file (a shipped study, or a minimal one naming only a space and its data) this
runs, each as its own process through the installed entry points, in a fresh folder:

    hpsearch run STUDY.toml                      # search, then re-evaluate the finalists
    hpsearch best NAME --json                    # the pick and its re-evaluated estimate
    hpsearch export NAME --ensemble 3 -o train.py
    python train.py --refit                      # the final model; test.csv read once

and records the search's and the whole path's wall time, the estimate ``hpsearch best`` (and
the exported script) print for the pick (re-evaluated mean and standard error), the final
model's test accuracy, and for the binary IMDB sample its accuracy on the 2,147 reviews no part
of the project reads otherwise (``benchmarks/unseen.py``). The estimate beside the accuracy on
new data is what ``docs/benchmarks.md`` reports as the claim-versus-new-data difference.

    python benchmarks/readme_path.py studies/sst2.toml --seed 1 --seed 2
    python benchmarks/readme_path.py MINIMAL.toml --label minimal-imdb
    python benchmarks/readme_path.py --smoke     # seconds: the harness works (CI)
    python benchmarks/readme_path.py --table     # print the table of every recorded run

Each run is recorded in ``benchmarks/results/readme_path.json`` as it finishes, under its label
and seed; a rerun skips recorded runs (``--force`` reruns them), so a long series resumes.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
import tomllib
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
RESULTS = REPO / "benchmarks" / "results"
WORK = REPO / "benchmarks" / "work"  # stores, scripts and models of each run (git-ignored)
BIN = Path(sys.executable).parent
TEST_LINE = re.compile(r"^test(?: \(average of (\d+) models\))?:.*?\baccuracy=([0-9.eE+-]+)", re.M)


def run(cmd: list[str], cwd: Path, log: Path) -> float:
    """Run one step as its own process; its output goes to ``log``. Returns its seconds."""
    start = time.perf_counter()
    with log.open("a") as out:
        out.write(f"$ {' '.join(cmd)}\n")
        out.flush()
        done = subprocess.run(cmd, cwd=cwd, stdout=out, stderr=subprocess.STDOUT, check=False)
    if done.returncode != 0:
        tail = log.read_text().splitlines()[-5:]
        raise SystemExit(
            f"readme_path.py: error: {' '.join(cmd[:3])} exited {done.returncode}: "
            + " | ".join(tail)
        )
    return time.perf_counter() - start


def study_copy(source: Path, folder: Path, name: str, seed: int | None) -> Path:
    """The study file with its name (and seed) replaced and its data paths made absolute, so
    it runs from ``folder``; nothing else changes."""
    raw = tomllib.loads(source.read_text())
    text = source.read_text()
    text = re.sub(r"(?m)^name\s*=.*$", f'name = "{name}"', text, count=1)
    if seed is not None:
        if re.search(r"(?m)^seed\s*=", text):
            text = re.sub(r"(?m)^seed\s*=.*$", f"seed = {seed}", text, count=1)
        else:
            text = re.sub(r"(?m)^(name = .*)$", rf"\1\nseed = {seed}", text, count=1)
    for key in ("path", "test_path"):
        value = raw.get("dataset", {}).get(key)
        if value and not Path(value).is_absolute():
            absolute = (source.parent / value).resolve()
            if not absolute.exists():
                absolute = (Path.cwd() / value).resolve()
            text = re.sub(rf'(?m)^{key}\s*=\s*"{re.escape(value)}"', f'{key} = "{absolute}"', text)
    out = folder / "study.toml"
    out.write_text(text)
    return out


def unseen_accuracy(model: Path, study: Path) -> float | None:
    """The final model's accuracy on the unseen IMDB reviews, for the binary IMDB sample only."""
    path = tomllib.loads(study.read_text()).get("dataset", {}).get("path", "")
    if Path(path).parent.name != "imdb":
        return None
    sys.path.insert(0, str(REPO / "benchmarks"))
    import unseen

    try:
        unseen.check_binary(model)
    except SystemExit:
        return None
    texts, labels = unseen.unseen_reviews(unseen.SHARED / "imdb", unseen.SHARED / "imdb-ratings")
    return float(unseen.correct(model, texts, labels).mean())


def one_run(
    source: Path, label: str, seed: int | None, ensemble: int, work: Path
) -> dict[str, Any]:
    from hpsearch.engine.threads import cores

    folder = work / f"{label}-s{seed if seed is not None else 'file'}"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    name = f"{label}-s{seed}" if seed is not None else label
    study = study_copy(source, folder, name, seed)
    log = folder / "log.txt"
    env_store = ["--storage", f"sqlite:///{folder / 'store.db'}"]
    hp = str(BIN / "hpsearch")
    begin = time.perf_counter()
    search_s = run([hp, "run", str(study), *env_store], folder, log)
    best = subprocess.run(
        [hp, "best", name, "--json", *env_store],
        cwd=folder,
        capture_output=True,
        text=True,
        check=True,
    )
    row = json.loads(best.stdout)
    members = ["--ensemble", str(ensemble)] if ensemble > 1 else []
    run([hp, "export", name, *members, "-o", "train.py", *env_store], folder, log)
    refit_log = folder / "refit.txt"
    run([str(BIN / "python"), "train.py", "--refit", "--output", "final.keras"], folder, refit_log)
    total_s = time.perf_counter() - begin
    found = TEST_LINE.findall(refit_log.read_text())
    if not found:
        raise SystemExit(f"readme_path.py: error: no test accuracy in {refit_log}")
    test = float(found[-1][1])
    re_eval = row.get("reevaluated") or {}
    import optuna

    from hpsearch.store.tags import StudyTags

    sizes = StudyTags.of(optuna.load_study(study_name=name, storage=env_store[1])).dataset
    trials = sum(1 for _ in re.finditer(r"(?m)^trial ", log.read_text()))
    return {
        "label": label,
        "seed": seed,
        "study_file": str(source.relative_to(REPO) if source.is_relative_to(REPO) else source),
        "ensemble": ensemble,
        "pick": row.get("number"),
        "search_value": row.get("value"),
        "estimate": re_eval.get("mean"),
        "estimate_error": re_eval.get("standard_error"),
        "test_accuracy": test,
        "unseen_accuracy": unseen_accuracy(folder / "final.keras", study),
        "validation_size": sizes.get("validation"),  # the error of an estimate (claims.py)
        "test_size": sizes.get("test"),
        "search_seconds": round(search_s, 1),
        "total_seconds": round(total_s, 1),
        "trial_lines": trials,
        "machine": f"{platform.machine()}, {cores()} of {os.cpu_count()} cores, "
        f"{platform.python_version()}",
        "loadavg_after": os.getloadavg()[0],
    }


def table(results: dict[str, Any]) -> str:
    lines = [
        "| run | seed | estimate (re-evaluated) | test | unseen | new data - estimate "
        "| search s | all s |",
        "|---|---|---|---|---|---|---|---|",
    ]
    diffs: list[float] = []
    for r in results.values():
        est = r["estimate"]
        shown = "-" if est is None else f"{est:.4f} ± {r['estimate_error'] or 0:.4f}"
        new = r["unseen_accuracy"] if r["unseen_accuracy"] is not None else r["test_accuracy"]
        diff = None if est is None else new - est
        if diff is not None:
            diffs.append(diff)
        unseen = "-" if r["unseen_accuracy"] is None else f"{r['unseen_accuracy']:.4f}"
        lines.append(
            f"| {r['label']} | {r['seed']} | {shown} | {r['test_accuracy']:.4f} | {unseen} | "
            f"{'-' if diff is None else f'{diff:+.4f}'} | {r['search_seconds']:.0f} | "
            f"{r['total_seconds'] or 0:.0f} |"
        )
    if len(diffs) > 1:
        mean = sum(diffs) / len(diffs)
        sd = math.sqrt(sum((d - mean) ** 2 for d in diffs) / (len(diffs) - 1))
        lines.append(
            f"\nNew data minus the estimate (unseen where there is, else test), over "
            f"{len(diffs)} runs: mean {mean:+.4f}, standard deviation {sd:.4f}."
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("study", nargs="?", type=Path, help="the study file to run")
    parser.add_argument("--label", help="the run's name in the results (default: the file's)")
    parser.add_argument("--seed", type=int, action="append", help="seeds (repeatable)")
    parser.add_argument("--ensemble", type=int, default=3, help="export --ensemble N")
    parser.add_argument("--force", action="store_true", help="rerun recorded runs")
    parser.add_argument("--smoke", action="store_true", help="the quick start, seconds")
    parser.add_argument("--table", action="store_true", help="print the recorded runs")
    args = parser.parse_args()
    out = RESULTS / "readme_path.json"
    if args.smoke:
        with tempfile.TemporaryDirectory() as tmp:
            source = Path(tmp) / "smoke.toml"
            text = (REPO / "studies" / "quickstart.toml").read_text()
            text = re.sub(r"(?m)^n_trials\s*=.*$", "n_trials = 3", text)
            source.write_text(re.sub(r"(?m)^max_epochs\s*=.*$", "max_epochs = 2", text))
            result = one_run(source, "smoke", 1, 1, Path(tmp) / "work")
            print(table({"smoke": result}))
        return
    results: dict[str, Any] = json.loads(out.read_text()) if out.exists() else {}
    if args.table or args.study is None:
        print(table(results))
        return
    label = args.label or args.study.stem
    for seed in args.seed or [None]:
        key = f"{label}/s{seed}"
        if key in results and not args.force:
            print(f"{key}: recorded, skipped (--force reruns it)")
            continue
        print(f"{key}: running", flush=True)
        result = one_run(args.study.resolve(), label, seed, args.ensemble, WORK)
        # Read again before writing: a run on the other core may have recorded its own since.
        results = json.loads(out.read_text()) if out.exists() else {}
        results[key] = result
        out.write_text(json.dumps(results, indent=1) + "\n")
        print(table({key: results[key]}), flush=True)


if __name__ == "__main__":
    main()
