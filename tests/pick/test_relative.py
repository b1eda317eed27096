"""The default gap limit: the one-standard-error rule over the best trials."""

from __future__ import annotations

import math

import pytest

from hpsearch.pick.relative import relative_limit, tolerance


def test_tolerance_is_the_measured_error_else_binomial_else_zero() -> None:
    assert tolerance(0.85, "val_accuracy", 800, 0.004) == 0.004
    assert tolerance(0.85, "val_accuracy", 800, None) == pytest.approx(math.sqrt(0.85 * 0.15 / 800))
    assert tolerance(0.85, "val_accuracy", 800, 0.0) == pytest.approx(0.012624, abs=1e-6)
    assert tolerance(0.3, "val_loss", 800, None) == 0.0  # not an accuracy: the best value


def test_the_limit_is_the_smallest_gap_among_the_scores_within_the_noise_of_the_best() -> None:
    scored = [(0.870, 0.12), (0.862, 0.06), (0.850, 0.01), (0.871, 0.20)]
    limit, how = relative_limit(scored, True, "val_accuracy", 800)  # SE 0.0119 at 0.871
    assert limit == 0.06  # 0.862 is within 0.0119 of 0.871; 0.850 is not
    assert "one standard error" in how and "0.0600" in how
    # A smaller validation split is noisier: the 0.850 model ties too.
    assert relative_limit(scored, True, "val_accuracy", 100)[0] == 0.01
    # Measured error wins over the binomial one.
    assert relative_limit(scored, True, "val_accuracy", 800, sem=0.0005)[0] == 0.20


def test_minimized_metrics_and_no_candidates() -> None:
    scored = [(0.30, 0.10), (0.31, 0.02), (0.40, 0.0)]
    assert relative_limit(scored, False, "val_loss", 800, sem=0.02)[0] == 0.02
    assert relative_limit(scored, False, "val_loss", 800)[0] == 0.10  # no error: the best
    assert relative_limit([], True, "val_accuracy", 800)[0] == math.inf
