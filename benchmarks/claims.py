"""What hpsearch claims for its pick against what the final model scores on new data.

``hpsearch best`` (and the exported script's header) reports the pick's estimate: the mean
validation accuracy of its re-evaluations (the pick retrained with new seeds on the training
split) and that mean's standard error. This collects every recorded run of the README's path,
``benchmarks/readme_path.py``'s runs and the hpsearch rows of ``benchmarks/headtohead.py``, and
sets the estimate beside two accuracies on data the choice never saw (the 2,147 unseen reviews
for the binary IMDB sample, else test.csv):

- **same model**: the pick trained on the training split only, the model the estimate is about
  (recorded by the head-to-head's "no refit" ablation);
- **final model**: what the README's path ships, the three finalists refit on training +
  validation and averaged (``export --ensemble 3``, ``--refit``).

The mean and the spread (standard deviation) of each difference over runs say whether the
estimate is biased and by how much a single run may miss. The coverage lines say how often the
estimate ± 1.96 errors held the accuracy on new data, for three errors: the re-evaluation runs'
standard error alone (what runs recorded before it changed), with one validation split's
binomial error added (what ``hpsearch best`` reports now, ``Finalist.error``), and with the new
data's own binomial error too (a test set is a sample as well).

    python benchmarks/claims.py                 # the table, also written to results/claims.md
"""

from __future__ import annotations

import argparse
import csv
import functools
import json
import math
import statistics
from dataclasses import dataclass
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"
DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
UNSEEN = 2147
"""The binary IMDB sample's unseen reviews (``benchmarks/unseen.py``)."""
README_ROW = ": README path (export --ensemble 3, --refit)"
NO_REFIT_ROW = ": the pick, trained on the training split (no refit)"
"""How hpsearch's rows end; they begin with the contender (``hpsearch``, or a variant's label)."""


@dataclass(frozen=True)
class Claim:
    """One run: the estimate printed for the pick and what its models scored on new data."""

    source: str
    task: str
    seed: int
    estimate: float
    error: float | None
    final: float | None
    same_model: float | None
    validation_size: int | None = None
    """Texts in the run's validation split and test data, where the run recorded them (else
    read from its task's data folder, :func:`sizes`)."""
    test_size: int | None = None


def new_data(task: str, row: dict) -> float | None:
    """The held-out accuracy the report uses: the unseen reviews for binary IMDB, else test."""
    key = "unseen_accuracy" if task.startswith("imdb") and row.get("unseen_accuracy") else None
    return row.get(key or "test_accuracy")


def collect(results: Path) -> list[Claim]:
    claims: list[Claim] = []
    readme = results / "readme_path.json"
    if readme.exists():
        for run in json.loads(readme.read_text()).values():
            if run.get("estimate") is None or run.get("test_accuracy") is None:
                continue
            claims.append(
                Claim(
                    "readme_path.py",
                    run["label"],
                    run["seed"],
                    run["estimate"],
                    run.get("estimate_error"),
                    new_data(run["label"], run),
                    None,
                    run.get("validation_size"),
                    run.get("test_size"),
                )
            )
    # Archived series too (headtohead/ngrams-dense/: IMDB before ngrams ran over positions):
    # each is a run whose estimate met new data.
    # hpsearch's variants (an earlier default, candidates) print the same estimate.
    for path in sorted((results / "headtohead").rglob("*-hpsearch*-s*.json")):
        run = json.loads(path.read_text())
        archive = path.parent.name if path.parent.name != "headtohead" else ""
        final: dict | None = next(
            (r for k, r in run["rows"].items() if k.endswith(README_ROW)), None
        )
        if run.get("estimate") is None or final is None:
            continue
        same: dict = next((r for k, r in run["rows"].items() if k.endswith(NO_REFIT_ROW)), {})
        variant = run["contender"].removeprefix("hpsearch").lstrip("-")
        claims.append(
            Claim(
                "headtohead.py",
                f"{run['task']}{f', {variant}' if variant else ''}"
                + (f" ({archive})" if archive else ""),
                run["seed"],
                run["estimate"],
                run.get("estimate_error"),
                new_data(run["task"], final),
                new_data(run["task"], same) if not same.get("error") else None,
            )
        )
    return claims


def folder(task: str) -> str | None:
    """The shared data folder a recorded run's label names (``imdb-ngrams`` -> ``imdb``)."""
    return next((f for f in ("imdb-ratings", "imdb", "sst2", "trec") if task.startswith(f)), None)


@functools.cache  # each data file is counted once, not once per recorded run
def rows(path: Path) -> int:
    with path.open(newline="", encoding="utf-8") as f:
        return sum(1 for _ in csv.reader(f)) - 1


def sizes(claim: Claim) -> tuple[int, int] | None:
    """(validation texts, new-data texts): as the run recorded them, else from its shared data
    folder (every study here carves 20% of train.csv); None where neither is known."""
    name = folder(claim.task)
    if name == "imdb":  # its new data is the unseen reviews, not test.csv
        return claim.validation_size or round(0.2 * rows(DATA / name / "train.csv")), UNSEEN
    if claim.validation_size and claim.test_size:
        return claim.validation_size, claim.test_size
    if name is None:
        return None
    return round(0.2 * rows(DATA / name / "train.csv")), rows(DATA / name / "test.csv")


def coverage(claims: list[Claim], which: str) -> str:
    """How often |new - estimate| <= 1.96 errors, for the three errors (module docstring)."""
    held = [0, 0, 0]
    n = 0
    for c in claims:
        new = getattr(c, which)
        known = sizes(c)
        if new is None or known is None:
            continue
        n += 1
        validation, size = known
        runs = (c.error or 0.0) ** 2
        split = c.estimate * (1 - c.estimate) / validation
        test = new * (1 - new) / size
        for i, var in enumerate((runs, runs + split, runs + split + test)):
            held[i] += abs(new - c.estimate) <= 1.96 * math.sqrt(var)
    return (
        f"{held[0]} of {n} with the runs' standard error alone, {held[1]} with one validation "
        f"split's binomial error added, {held[2]} with the new data's too"
    )


def spread(values: list[float]) -> str:
    if not values:
        return "-"
    sd = statistics.stdev(values) if len(values) > 1 else float("nan")
    return f"{statistics.mean(values):+.4f} (SD {sd:.4f}, {len(values)} runs)"


def table(claims: list[Claim]) -> str:
    lines = [
        "| source | task | seed | estimate ± SE | same model on new data | minus estimate "
        "| final model on new data | minus estimate |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for c in claims:
        err = f" ± {c.error:.4f}" if c.error is not None else ""
        same = f"{c.same_model:.4f}" if c.same_model is not None else "-"
        d_same = f"{c.same_model - c.estimate:+.4f}" if c.same_model is not None else "-"
        final = f"{c.final:.4f}" if c.final is not None else "-"
        d_final = f"{c.final - c.estimate:+.4f}" if c.final is not None else "-"
        lines.append(
            f"| {c.source} | {c.task} | {c.seed} | {c.estimate:.4f}{err} | {same} | {d_same} "
            f"| {final} | {d_final} |"
        )
    same_d = [c.same_model - c.estimate for c in claims if c.same_model is not None]
    final_d = [c.final - c.estimate for c in claims if c.final is not None]
    lines += [
        "",
        f"Same model minus estimate: {spread(same_d)}.",
        f"Final model minus estimate: {spread(final_d)}.",
        "",
        f"Within 1.96 errors of the estimate, same model: {coverage(claims, 'same_model')}.",
        f"Within 1.96 errors of the estimate, final model: {coverage(claims, 'final')}.",
        "",
        "New data: the 2,147 unseen reviews for the binary IMDB sample, test.csv otherwise.",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results", type=Path, default=RESULTS, help="where the runs are")
    parser.add_argument("--out", type=Path, default=RESULTS, help="where claims.md goes")
    args = parser.parse_args()
    text = table(collect(args.results))
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "claims.md").write_text(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
