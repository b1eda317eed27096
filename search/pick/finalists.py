"""A pick that survives validation noise: re-evaluate the finalists, rank them by the mean.

The search's best trial is the maximum of many noisy numbers (800 validation reviews carry a
standard error of about 1.4 points), so it is partly luck. After the search, the top
``[selection] finalists`` trials (by the tradeoff's rule: within the gap limit first, then by
validation value) are each trained ``repeats`` more times. Run ``r`` carves another validation
split from the training data (split seed = study seed + r; the vocabulary is fitted on that
run's training part) and trains with another seed, early stopping as in the search.

Finalists are ranked by the mean of those runs, shown with its error (:attr:`Finalist.error`).
The search's own run is shown beside it but not counted: it is the number the finalist was
chosen for, biased upward. Rows go to ``hpsearch_selection``; nothing here reads test data.
This module ranks (no TensorFlow); :mod:`hpsearch.pick.reevaluate` trains.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass
from typing import Any

from hpsearch.pick.candidates import Candidate, below, floor_of
from hpsearch.pick.relative import binomial_error
from hpsearch.store.runs import Run


@dataclass(frozen=True)
class Finalist:
    """A finalist's re-evaluated numbers: mean and standard error over its runs."""

    number: int
    search_value: float
    search_gap: float
    runs: tuple[Run, ...]
    mean: float | None
    sem: float | None
    gap: float | None
    split_error: float | None = None
    """The binomial standard error of the mean accuracy on one validation split."""

    @property
    def error(self) -> float | None:
        """The estimate's error as a claim about new texts: the runs' standard error and one
        validation split's binomial error, in quadrature.

        The runs' spread says how far the mean moves with seeds and splits, not how far texts
        like these sit from new ones: every run's split is carved from the same labelled texts.
        Over the recorded runs of the README's path (``benchmarks/claims.py``), the mean
        ± 1.96 runs' errors held the model's accuracy on new data 2 times in 6 (the final
        model's 6 in 15); with one split's binomial error added, 5 in 6 (9 in 15, 13 with the
        new data's own binomial error: a test set is a sample too).
        """
        parts = [e for e in (self.sem, self.split_error) if e is not None and math.isfinite(e)]
        return math.sqrt(sum(e * e for e in parts)) if parts else None

    def record(self) -> dict[str, Any]:
        """The re-evaluated numbers as plain values (``best --json``, exported configs)."""
        return {
            "mean": self.mean,
            "standard_error": self.sem,
            "error": self.error,
            "runs": len(self.runs),
            "values": [r.value for r in self.runs],
            "gap": self.gap,
        }

    @property
    def text(self) -> str:
        """``0.8612 ± 0.0125 (3 runs)``: the mean with its error (:attr:`error`)."""
        if self.mean is None:
            return "not re-evaluated"
        sem = "" if self.error is None else f" ± {self.error:.4f}"
        return f"{self.mean:.4f}{sem} ({len(self.runs)} runs)"


def finalists_of(points: list[Candidate], n: int, max_gap: float, maximize: bool) -> list[int]:
    """The ``n`` trials re-evaluation looks at: within the gap limit and at least as good as
    the baseline first (:func:`~hpsearch.pick.candidates.floor_of`), then by value."""
    sign = -1.0 if maximize else 1.0
    floor = floor_of(points)

    def key(c: Candidate) -> tuple[bool, float, float, int]:
        return (c.gap > max_gap or below(c.value, floor, maximize), sign * c.value, c.gap, c.number)

    return [c.number for c in sorted(points, key=key)[:n]]


def summarize(
    c: Candidate, runs: list[Run], measure: str, metric: str = "", validation: int | None = None
) -> Finalist:
    """A finalist's mean and standard error over its re-evaluation runs; for an accuracy
    ``metric`` on ``validation`` texts, also one split's binomial error (:attr:`Finalist.error`)."""
    values = [r.value for r in runs if r.value is not None and math.isfinite(r.value)]
    gaps = [g for g in (r.gap(measure) for r in runs) if g is not None]
    mean = statistics.fmean(values) if values else None
    sem = statistics.stdev(values) / math.sqrt(len(values)) if len(values) > 1 else None
    return Finalist(
        number=c.number,
        search_value=c.value,
        search_gap=c.gap,
        runs=tuple(runs),
        mean=mean,
        sem=sem,
        gap=statistics.fmean(gaps) if gaps else None,
        split_error=None if mean is None else binomial_error(mean, metric, validation),
    )


def _eligible(f: Finalist, max_gap: float, maximize: bool, floor: float | None) -> bool:
    return (f.gap or 0.0) <= max_gap and not below(f.mean or 0.0, floor, maximize)


def ranked(
    finalists: list[Finalist], max_gap: float, maximize: bool, floor: float | None = None
) -> list[Finalist]:
    """The re-evaluated finalists, best first: those whose mean gap is within the limit (and
    whose mean reaches the baseline's ``floor``) by mean, then the others by mean."""
    scored = [f for f in finalists if f.mean is not None and f.gap is not None]
    sign = -1.0 if maximize else 1.0
    return sorted(
        scored,
        key=lambda f: (
            not _eligible(f, max_gap, maximize, floor),
            sign * (f.mean or 0.0),
            f.number,
        ),
    )


def rank(
    finalists: list[Finalist], max_gap: float, maximize: bool, floor: float | None = None
) -> tuple[Finalist | None, str]:
    """The finalist with the best mean among those whose mean gap is within the limit (and
    whose mean reaches the baseline's, where the study ran one)."""
    order = ranked(finalists, max_gap, maximize, floor)
    if not order:
        return None, "no finalist was re-evaluated"
    within = [f for f in order if _eligible(f, max_gap, maximize, floor)]
    best = order[0]
    runs = len(best.runs)
    reason = (
        f"best mean over {runs} re-evaluation runs (other validation splits and seeds) among "
        f"{len(within or order)} of {len(order)} finalists"
    )
    reason += (
        f" whose mean gap is <= {max_gap:g}" if within else f"; none has a mean gap <= {max_gap:g}"
    )
    return best, reason
