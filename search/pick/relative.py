"""The default gap limit: relative to the best trials, as wide as the noise in their scores.

Without ``[tradeoff] max_gap`` no absolute limit applies. An absolute default fits one dataset
only (measured: 0.05 cost the IMDB sample accuracy on new reviews; 0.15 left SST-2's finalists
at 0.69 on validation, the best short-text models overfitting more). Instead the pick follows the
one-standard-error rule (Breiman et al., 1984; Hastie, Tibshirani & Friedman, *Elements of
Statistical Learning*, 7.10): among the models whose score is within one standard error of the
best, take the one that overfits least. The limit is then the gap of that model, so it is as
loose as the best trials of this study need and no looser than the noise allows.

The standard error is the best finalist's own, measured over its re-evaluation runs, when it has
one; otherwise the binomial standard error of an accuracy on the validation split,
``sqrt(p (1 - p) / n)``; for a metric that is not an accuracy and has no re-evaluation, zero (the
best value is taken). No library offers the rule over stored trials, so it is these few lines.
"""

from __future__ import annotations

import math
from collections.abc import Sequence


def binomial_error(value: float, metric: str, validation: int | None) -> float | None:
    """The standard error of an accuracy ``value`` on a validation split of ``validation``
    texts, ``sqrt(p (1 - p) / n)``; None for a metric that is not an accuracy or no size."""
    if "accuracy" in metric and validation and 0.0 <= value <= 1.0:
        return math.sqrt(value * (1.0 - value) / validation)
    return None


def tolerance(best: float, metric: str, validation: int | None, sem: float | None) -> float:
    """One standard error of the best score: measured (``sem``), else binomial for accuracies."""
    if sem is not None and math.isfinite(sem) and sem > 0:
        return sem
    return binomial_error(best, metric, validation) or 0.0


def relative_limit(
    scored: Sequence[tuple[float, float]],
    maximize: bool,
    metric: str,
    validation: int | None,
    sem: float | None = None,
) -> tuple[float, str]:
    """The gap limit for ``scored`` ``(value, gap)`` pairs (the candidates the pick may take),
    and a phrase saying how it was set. ``sem`` is the best one's measured standard error."""
    if not scored:
        return math.inf, "no gap limit (no candidate)"
    best = max(v for v, _ in scored) if maximize else min(v for v, _ in scored)
    tol = tolerance(best, metric, validation, sem)
    near = [g for v, g in scored if (v >= best - tol if maximize else v <= best + tol)]
    limit = min(near)
    return limit, (
        f"gap limit {limit:.4f}: the smallest among the {len(near)} within one standard error "
        f"({tol:.4f}) of the best ({best:.4f}; no [tradeoff] max_gap)"
    )
