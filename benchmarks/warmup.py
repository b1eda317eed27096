"""How early a study's epochs tell its trials apart: the measurements behind pruner settings.

Reads a study's per-epoch table (a run with ``[pruner] name = "none"``, so every trial runs to
its own end) and prints, for each epoch k, the rank correlation (Spearman) across trials between
the validation metric at epoch k and the trial's best value, and what a median pruner warmed up
for k epochs would have cut: how many trials, and whether the best ones were among them. Also
the seconds per epoch and per trial, and how many trials fall within a gap limit.

    python benchmarks/warmup.py measure --storage sqlite:///measure.db [--max-gap 0.05]
"""

from __future__ import annotations

import argparse
import statistics

from hpsearch.pick.candidates import gap_of
from hpsearch.store.database import EpochLog
from hpsearch.store.queries import load


def ranks(values: list[float]) -> list[float]:
    """Average ranks (ties share their mean rank), for Spearman's correlation."""
    order = sorted(range(len(values)), key=lambda i: values[i])
    out = [0.0] * len(values)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and values[order[j + 1]] == values[order[i]]:
            j += 1
        for k in range(i, j + 1):
            out[order[k]] = (i + j) / 2
        i = j + 1
    return out


def spearman(a: list[float], b: list[float]) -> float:
    """Spearman's rank correlation (NumPy-free, so this script needs no TensorFlow)."""
    ra, rb = ranks(a), ranks(b)
    ma, mb = statistics.fmean(ra), statistics.fmean(rb)
    cov = sum((x - ma) * (y - mb) for x, y in zip(ra, rb, strict=True))
    va = sum((x - ma) ** 2 for x in ra)
    vb = sum((y - mb) ** 2 for y in rb)
    return cov / (va * vb) ** 0.5 if va and vb else float("nan")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("study")
    parser.add_argument("--storage", required=True)
    parser.add_argument("--metric", default="val_accuracy")
    parser.add_argument("--max-gap", type=float, default=0.05)
    parser.add_argument("--epochs", type=int, default=8, help="epochs k to report")
    args = parser.parse_args(argv)

    study = load(args.storage, args.study)
    log = EpochLog(args.storage)
    rows = log.history(args.study)
    log.dispose()
    by_trial: dict[int, list[dict[str, float]]] = {}
    for r in rows:
        by_trial.setdefault(r["trial_number"], []).append(r)
    trials = {n: rs for n, rs in by_trial.items() if rs and rs[0].get(args.metric) is not None}
    best = {n: max(r[args.metric] for r in rs) for n, rs in trials.items()}
    top = sorted(best, key=lambda n: -best[n])[: max(1, len(best) // 10)]
    print(f"{args.study}: {len(trials)} trials, best {max(best.values()):.4f}")
    print("epoch k | trials reaching k | Spearman(value at k, best) | median pruner at k would cut")
    for k in range(1, args.epochs + 1):
        at_k = {n: rs[k - 1][args.metric] for n, rs in trials.items() if len(rs) >= k}
        if len(at_k) < 3:
            break
        names = sorted(at_k)
        rho = spearman([at_k[n] for n in names], [best[n] for n in names])
        median = statistics.median(at_k.values())
        cut = [n for n in names if at_k[n] < median]
        lost = [n for n in top if n in cut]
        print(
            f"{k:7d} | {len(at_k):17d} | {rho:26.3f} | {len(cut)} trials"
            + (f", among them top-10% trial(s) {lost}" if lost else ", none of the top 10%")
        )
    seconds = [r["seconds"] for rs in trials.values() for r in rs[1:] if r["seconds"]]
    firsts = [rs[0]["seconds"] for rs in trials.values() if rs[0]["seconds"]]
    walls = [t.user_attrs.get("wall_seconds", 0.0) for t in study.trials]
    print(
        f"seconds per epoch (from epoch 2): median {statistics.median(seconds):.2f}, "
        f"max {max(seconds):.2f}; first epoch median {statistics.median(firsts):.2f}; "
        f"per trial median {statistics.median(walls):.1f}, total {sum(walls):.0f}"
    )
    within = []
    for t in study.trials:
        rs = trials.get(t.number)
        epoch = int(t.user_attrs.get("best_epoch", 0))
        if rs and 1 <= epoch <= len(rs):
            gap = gap_of(rs[epoch - 1], "accuracy")
            if gap is not None and gap <= args.max_gap:
                within.append((rs[epoch - 1][args.metric], gap, t.number))
    within.sort(reverse=True)
    print(
        f"trials with an accuracy gap <= {args.max_gap:g} at their best epoch: {len(within)}; "
        + ", ".join(f"#{n} {v:.4f} (gap {g:.3f})" for v, g, n in within[:5])
    )


if __name__ == "__main__":
    main()
