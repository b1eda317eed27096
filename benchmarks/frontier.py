"""How much validation accuracy a gap limit costs on the 4,000-review sample: a reference frontier.

hpsearch's pick must keep its honest accuracy gap (training accuracy in inference mode on as
many training reviews as the validation split holds, minus validation accuracy) within
``[tradeoff] max_gap``. This measures, outside hpsearch, what the best linear bag of words can
score under each limit: TF-IDF + logistic regression (scikit-learn: a convex model solved to its
optimum, so no search or training noise), over a grid of n-grams, minimum document frequency
and regularization, with and without NBSVM's scaling of each column by its log-count ratio
(Wang & Manning, 2012; the ``nb`` weighting of hpsearch's ``bag_of_words``), each setting
scored by the mean over 5 folds of ``train.csv`` (3,200 training / 800 validation reviews
each, as a study splits it). For each limit it prints the best
mean validation accuracy among settings whose mean gap is within it, and how much 800 more
training reviews add at that setting (trained on 2,400 of each fold's 3,200), a rough guide to
what a refit on all 4,000 reviews gains. test.csv is never read.

    python benchmarks/frontier.py            # docs/studies.md (about 11 minutes on 2 cores)
    python benchmarks/frontier.py --smoke    # seconds: the harness works

Results: ``benchmarks/results/frontier.json`` and ``frontier.md``.
"""

from __future__ import annotations

import argparse
import csv
import itertools
import json
import platform
import statistics
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parent.parent
TRAIN = REPO.parent / "shared" / "data" / "imdb" / "train.csv"
LIMITS = (0.03, 0.05, 0.07, 0.10, None)


@dataclass(frozen=True)
class Point:
    """One setting's mean over the folds."""

    ngrams: int
    min_df: int
    c: float
    val_accuracy: float
    gap: float
    gain_per_800: float | None = None
    weighting: str = "tfidf"


def read(path: Path) -> tuple[list[str], np.ndarray]:
    with path.open(newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    return [r["text"] for r in rows], np.array([int(r["label"]) for r in rows])


def score(
    texts: list[str],
    labels: np.ndarray,
    folds: list[tuple[np.ndarray, np.ndarray]],
    ngrams: int,
    min_df: int,
    c: float,
    fraction: float = 1.0,
    weighting: str = "tfidf",
) -> tuple[float, float]:
    """Mean validation accuracy and mean honest gap of one setting over the folds."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import normalize

    accuracies, gaps = [], []
    for train, val in folds:
        train = train[: int(len(train) * fraction)]
        vectorizer = TfidfVectorizer(
            sublinear_tf=True, ngram_range=(1, ngrams), min_df=min_df, max_df=0.5
        )
        x_train = vectorizer.fit_transform([texts[i] for i in train])
        x_val = vectorizer.transform([texts[i] for i in val])
        if weighting == "nb":
            ratio = log_count_ratio(x_train > 0, labels[train])
            x_train = normalize(x_train.multiply(ratio).tocsr())
            x_val = normalize(x_val.multiply(ratio).tocsr())
        model = LogisticRegression(C=c, max_iter=3000).fit(x_train, labels[train])
        # The honest gap's training side: as many training reviews as the validation split.
        size = min(len(val), len(train))
        sample = np.random.default_rng(0).choice(len(train), size=size, replace=False)
        train_accuracy = float((model.predict(x_train[sample]) == labels[train][sample]).mean())
        accuracy = float((model.predict(x_val) == labels[val]).mean())
        accuracies.append(accuracy)
        gaps.append(train_accuracy - accuracy)
    return statistics.fmean(accuracies), statistics.fmean(gaps)


def log_count_ratio(present: Any, labels: np.ndarray) -> np.ndarray:
    """|log((p / |p|_1) / (q / |q|_1))| per column, p and q one plus each class's presence."""
    p = 1.0 + np.asarray(present[labels == 1].sum(axis=0)).ravel()
    q = 1.0 + np.asarray(present[labels != 1].sum(axis=0)).ravel()
    return np.abs(np.log((p / p.sum()) / (q / q.sum())))


def measure(smoke: bool) -> dict[str, Any]:
    from sklearn.model_selection import StratifiedKFold

    texts, labels = read(TRAIN)
    if smoke:
        texts, labels = texts[:400], labels[:400]
    splits = 2 if smoke else 5
    folds = list(StratifiedKFold(splits, shuffle=True, random_state=0).split(texts, labels))
    grid = (
        list(itertools.product(["tfidf", "nb"], [1], [2], [0.3, 3.0]))
        if smoke
        else [
            *itertools.product(
                ["tfidf"], [1, 2], [2, 10, 40], [0.03, 0.1, 0.2, 0.3, 0.5, 1.0, 3.0, 10.0]
            ),
            *itertools.product(["nb"], [2], [2, 10, 40], [0.03, 0.1, 0.3, 1.0, 3.0, 10.0]),
        ]
    )
    points = []
    for weighting, ngrams, min_df, c in grid:
        accuracy, gap = score(texts, labels, folds, ngrams, min_df, c, weighting=weighting)
        points.append(Point(ngrams, min_df, c, accuracy, gap, weighting=weighting))
        print(
            f"{weighting} ngrams 1-{ngrams} min_df {min_df} C {c:g}: "
            f"val {accuracy:.4f} gap {gap:.4f}"
        )
    best: dict[str, Point | None] = {}
    for limit in LIMITS:
        within = [p for p in points if limit is None or p.gap <= limit]
        top = max(within, key=lambda p: p.val_accuracy) if within else None
        if top is not None:
            # 800 more training reviews: the fold's 2,400 -> 3,200 step at this setting.
            fewer, _ = score(
                texts, labels, folds, top.ngrams, top.min_df, top.c, 0.75, top.weighting
            )
            top = Point(**{**asdict(top), "gain_per_800": top.val_accuracy - fewer})
        best["none" if limit is None else f"{limit:g}"] = top
    return {
        "folds": splits,
        "reviews": len(labels),
        "points": [asdict(p) for p in points],
        "best": {k: None if v is None else asdict(v) for k, v in best.items()},
        "machine": f"{platform.machine()}, Python {platform.python_version()}",
    }


def table(result: dict[str, Any]) -> str:
    lines = [
        f"TF-IDF (tfidf, or scaled by NBSVM's ratio: nb) + logistic regression on "
        f"{result['reviews']} reviews of train.csv, "
        f"{result['folds']} folds (validation = one fold); {result['machine']}.",
        "",
        "| gap limit | best mean val accuracy | its mean gap | setting | 2,400 -> 3,200 training |",
        "|---|---|---|---|---|",
    ]
    for limit, p in result["best"].items():
        if p is None:
            lines.append(f"| {limit} | - | - | none within the limit | - |")
            continue
        gain = "-" if p["gain_per_800"] is None else f"{p['gain_per_800']:+.4f}"
        setting = (
            f"{p.get('weighting', 'tfidf')}, 1-{p['ngrams']}-grams, min_df {p['min_df']}, "
            f"C {p['c']:g}"
        )
        lines.append(f"| {limit} | {p['val_accuracy']:.4f} | {p['gap']:.4f} | {setting} | {gain} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="400 reviews, 2 folds, 2 settings")
    parser.add_argument("--out", default=str(REPO / "benchmarks" / "results"))
    args = parser.parse_args()
    if not TRAIN.is_file():
        raise SystemExit(f"frontier: {TRAIN} is missing; it needs the shared IMDB sample")
    result = measure(args.smoke)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "frontier.json").write_text(json.dumps(result, indent=1) + "\n")
    text = table(result)
    (out / "frontier.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
