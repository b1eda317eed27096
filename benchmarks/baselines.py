"""The one-minute baselines a practitioner tries first, on every task hpsearch is measured on.

Two linear models over word and word-pair counts (scikit-learn, solved to their optimum):

- ``tfidf``: TF-IDF of 1-2-grams (sublinear term frequency) + logistic regression;
- ``nb``: binary 1-2-gram presence scaled by NBSVM's log-count ratio (Wang & Manning, 2012)
  + logistic regression (one binary model per class, one against the rest, for more classes).

Each reads the task's ``train.csv`` as hpsearch reads it (the same class names and order) and
carves the validation split hpsearch carves (20%, seeded and stratified with the seed of the
task's shipped study), chooses the regularization ``C`` on that validation split, refits on
training + validation, and reads the test split once (and, for the binary IMDB sample, the
2,147 reviews of ``benchmarks/unseen.py`` no part of the project reads otherwise).

    python benchmarks/baselines.py                 # every task (a minute or two on 2 cores)
    python benchmarks/baselines.py --task sst2     # one task; the others' results are kept
    python benchmarks/baselines.py --smoke         # seconds: the harness works

``r8`` (Reuters-21578 R8, a task no part of the project had seen) is measured once
``benchmarks/fetch_tasks.py`` has fetched it.

Each task's result is written to ``benchmarks/results/baselines.json`` as it finishes (a rerun
skips finished tasks unless ``--force``), and the table to ``baselines.md``, beside hpsearch's
numbers on the same tasks where an optional ``benchmarks/results/goals.json`` holds them (per
task, a list of {path, val_accuracy, test_accuracy, test_macro_f1, unseen_accuracy, seconds}).
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared" / "data"
RESULTS = REPO / "benchmarks" / "results"
FETCHED = REPO / "benchmarks" / "work" / "data"
C_GRID = (0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0, 30.0, 100.0)
VALIDATION_SPLIT = 0.2


@dataclass(frozen=True)
class Task:
    name: str
    folder: str
    seed: int  # the seed of the task's shipped study, so the validation split is hpsearch's
    published: str = ""
    root: Path = SHARED

    @property
    def path(self) -> Path:
        return self.root / self.folder


TASKS = (
    Task("imdb", "imdb", 7, "TF-IDF + LR 0.880 on the 2,147 unseen reviews (issue 24)"),
    Task("imdb-ratings", "imdb-ratings", 11),
    Task("sst2", "sst2", 5, "CNN, random word vectors: 82.7 (Kim 2014); TF-IDF + LR 0.816"),
    Task("trec", "trec", 5, "CNN, random word vectors: 91.2 (Kim 2014); TF-IDF + LR 0.888"),
    # Fetched, not shared: `python benchmarks/fetch_tasks.py` (skipped until it is there);
    # seed 0, the default of a study that sets none (benchmarks/studies/r8.toml).
    Task("r8", "r8", 0, "Text GCN 97.07 (Yao et al. 2019)", FETCHED),
)


@dataclass(frozen=True)
class Result:
    task: str
    model: str
    c: float
    val_accuracy: float
    test_accuracy: float
    test_macro_f1: float
    test_size: int
    unseen_accuracy: float | None
    unseen_size: int | None
    seconds: float


def read(
    path: Path, classes: tuple[str, ...] | None = None
) -> tuple[list[str], np.ndarray, tuple[str, ...]]:
    """A CSV as hpsearch reads it: its texts, labels as class indices, class names."""
    from hpsearch.portable.data import read_csv

    return read_csv(path, "text", "label", classes)


def features(kind: str, ngrams: int = 2) -> Any:
    from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer

    if kind == "tfidf":
        return TfidfVectorizer(ngram_range=(1, ngrams), sublinear_tf=True)
    return CountVectorizer(ngram_range=(1, ngrams), binary=True)


class Linear:
    """One of the two baselines, fitted on texts; ``predict`` gives class indices."""

    def __init__(self, kind: str, c: float, classes: int) -> None:
        self.kind, self.c, self.classes = kind, c, classes

    def fit(self, texts: list[str], y: np.ndarray) -> Linear:
        from sklearn.linear_model import LogisticRegression

        self.vectorizer = features(self.kind)
        x = self.vectorizer.fit_transform(texts)
        if self.kind == "tfidf":
            self.models = [LogisticRegression(C=self.c, max_iter=2000).fit(x, y)]
            return self
        # NBSVM's features: presence scaled by each class's log-count ratio (one vs the rest)
        self.ratios, self.models = [], []
        for k in [1] if self.classes == 2 else range(self.classes):
            positive = y == k
            p = 1.0 + np.asarray(x[positive].sum(axis=0)).ravel()
            q = 1.0 + np.asarray(x[~positive].sum(axis=0)).ravel()
            r = np.log((p / p.sum()) / (q / q.sum()))
            self.ratios.append(r)
            model = LogisticRegression(C=self.c, max_iter=2000)
            self.models.append(model.fit(x.multiply(r).tocsr(), positive.astype(int)))
        return self

    def predict(self, texts: list[str]) -> np.ndarray:
        x = self.vectorizer.transform(texts)
        if self.kind == "tfidf":
            return np.asarray(self.models[0].predict(x))
        scores = np.column_stack(
            [
                m.decision_function(x.multiply(r).tocsr())
                for m, r in zip(self.models, self.ratios, strict=True)
            ]
        )
        return (scores[:, 0] > 0).astype(int) if self.classes == 2 else scores.argmax(axis=1)


def macro_f1(y: np.ndarray, predicted: np.ndarray, k: int) -> float:
    from hpsearch.portable.scores import confusion_matrix, macro_f1_of

    return macro_f1_of(confusion_matrix(y, np.eye(k)[predicted] if k > 2 else predicted, k))


def measure(task: Task, kind: str, smoke: bool) -> Result:
    from hpsearch.portable.data import stratified_split

    began = time.perf_counter()
    folder = task.path
    texts, labels, classes = read(folder / "train.csv")
    test_texts, test_labels, _ = read(folder / "test.csv", classes)
    if smoke:
        texts, labels = texts[:300], labels[:300]
        test_texts, test_labels = test_texts[:100], test_labels[:100]
    keep, val = stratified_split(labels, VALIDATION_SPLIT, task.seed)
    train = [texts[i] for i in keep], labels[keep]
    valid = [texts[i] for i in val], labels[val]
    k = len(classes)
    scored = []
    for c in C_GRID[2:5] if smoke else C_GRID:
        predicted = Linear(kind, c, k).fit(*train).predict(valid[0])
        scored.append((float(np.mean(predicted == valid[1])), -c, c))
    val_accuracy, _, c = max(scored)  # ties: the stronger regularization
    final = Linear(kind, c, k).fit(texts, labels)  # training + validation
    predicted = final.predict(test_texts)
    unseen_accuracy = unseen_size = None
    if task.name == "imdb":
        sys.path.insert(0, str(REPO / "benchmarks"))
        from unseen import unseen_reviews

        unseen, unseen_labels = unseen_reviews(SHARED / "imdb", SHARED / "imdb-ratings")
        if smoke:
            unseen, unseen_labels = unseen[:100], unseen_labels[:100]
        hits = final.predict(list(unseen)) == unseen_labels
        unseen_accuracy, unseen_size = float(np.mean(hits)), len(hits)
    return Result(
        task=task.name,
        model=kind,
        c=c,
        val_accuracy=val_accuracy,
        test_accuracy=float(np.mean(predicted == test_labels)),
        test_macro_f1=macro_f1(test_labels, predicted, k),
        test_size=len(test_labels),
        unseen_accuracy=unseen_accuracy,
        unseen_size=unseen_size,
        seconds=round(time.perf_counter() - began, 1),
    )


FIGURES = ("val_accuracy", "test_accuracy", "test_macro_f1", "unseen_accuracy")
"""A goal's figures; a run that did not measure one (null in goals.json) shows "-"."""


def table(results: list[dict[str, Any]], goals: dict[str, Any]) -> str:
    """Markdown: each task's baselines, and hpsearch's README path where measured."""
    lines = [
        "| task | model | C | validation | test accuracy | test macro F1 | unseen (2,147) | s |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for task in TASKS:
        for r in (r for r in results if r["task"] == task.name):
            unseen = "-" if r["unseen_accuracy"] is None else f"{r['unseen_accuracy']:.3f}"
            lines.append(
                f"| {task.name} | {r['model']} + LR | {r['c']:g} | {r['val_accuracy']:.3f} | "
                f"{r['test_accuracy']:.3f} | {r['test_macro_f1']:.3f} | {unseen} | "
                f"{r['seconds']:.0f} |"
            )
        for g in goals.get(task.name, []):
            shown = {k: "-" if g.get(k) is None else f"{g[k]:.3f}" for k in FIGURES}
            lines.append(
                f"| {task.name} | hpsearch: {g['path']} | | {shown['val_accuracy']} | "
                f"{shown['test_accuracy']} | {shown['test_macro_f1']} | "
                f"{shown['unseen_accuracy']} | {g.get('seconds') or 0:.0f} |"
            )
    published = [f"- {t.name}: {t.published}" for t in TASKS if t.published]
    return "\n".join([*lines, "", "Published or reported figures:", *published]) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--task", action="append", choices=[t.name for t in TASKS])
    parser.add_argument("--force", action="store_true", help="measure finished tasks again")
    parser.add_argument("--smoke", action="store_true", help="tiny slices: the harness works")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / ("baselines-smoke.json" if args.smoke else "baselines.json")
    stored = json.loads(path.read_text()) if path.exists() else {"results": []}
    results: list[dict[str, Any]] = stored["results"]
    for task in TASKS:
        if args.task and task.name not in args.task:
            continue
        if not (task.path / "train.csv").exists():
            print(f"{task.name}: no {task.path}/train.csv; run benchmarks/fetch_tasks.py first")
            continue
        for kind in ("tfidf", "nb"):
            done = any(r["task"] == task.name and r["model"] == kind for r in results)
            if done and not args.force:
                continue
            result = asdict(measure(task, kind, args.smoke))
            results = [r for r in results if (r["task"], r["model"]) != (task.name, kind)]
            results.append(result)
            print(json.dumps(result), flush=True)
            machine = f"{platform.machine()}, {__import__('os').cpu_count()} cores, no GPU"
            path.write_text(json.dumps({"machine": machine, "results": results}, indent=1))
    goals_path = args.out / "goals.json"
    goals = json.loads(goals_path.read_text()) if goals_path.exists() else {}
    text = table(results, goals)
    (args.out / ("baselines-smoke.md" if args.smoke else "baselines.md")).write_text(text)
    print(text)


if __name__ == "__main__":
    main()
