"""pass^k / pass@k against hand-computed values; the cluster bootstrap covers the truth at about 95 %."""

from __future__ import annotations

import numpy as np
import pytest

from firstday.report.stats import bootstrap_ratio, mean_over_tasks, pass_at_k, pass_hat_k


@pytest.mark.parametrize(("n", "c", "k", "hat", "at"), [
    (5, 3, 1, 3 / 5, 3 / 5),            # k = 1: both are the success rate
    (5, 3, 2, 3 / 10, 1 - 1 / 10),      # C(3,2)/C(5,2) = 3/10; 1 - C(2,2)/C(5,2) = 9/10
    (5, 3, 3, 1 / 10, 1.0),             # C(3,3)/C(5,3) = 1/10; only 2 failures: any 3 include a success
    (4, 0, 2, 0.0, 0.0),
    (4, 4, 4, 1.0, 1.0),
    (6, 2, 3, 0.0, 1 - 4 / 20),         # C(2,3) = 0; 1 - C(4,3)/C(6,3) = 1 - 4/20
])
def test_pass_hat_and_at_k_hand_computed(n: int, c: int, k: int, hat: float, at: float) -> None:
    assert pass_hat_k(n, c, k) == pytest.approx(hat)
    assert pass_at_k(n, c, k) == pytest.approx(at)


def test_averaged_over_tasks_with_enough_trials() -> None:
    counts = [(3, 3), (3, 1), (1, 1)]  # the last task has too few trials for k = 2
    assert mean_over_tasks(counts, 2, "hat") == pytest.approx((1.0 + 0.0) / 2)
    assert mean_over_tasks(counts, 2, "at") == pytest.approx((1.0 + (1 - 1 / 3)) / 2)
    assert mean_over_tasks(counts, 1, "hat") == pytest.approx((1 + 1 / 3 + 1) / 3)
    assert mean_over_tasks(counts, 4, "at") is None
    with pytest.raises(ValueError):
        pass_hat_k(3, 4, 1)


def test_unbiased_in_expectation() -> None:
    """E[C(c,k)/C(n,k)] = p^k when c ~ Binomial(n, p): checked exactly by summing over c."""
    from math import comb
    n, p = 6, 0.37
    for k in (1, 2, 3, 6):
        exp_hat = sum(comb(n, c) * p**c * (1 - p) ** (n - c) * pass_hat_k(n, c, k) for c in range(n + 1))
        exp_at = sum(comb(n, c) * p**c * (1 - p) ** (n - c) * pass_at_k(n, c, k) for c in range(n + 1))
        assert exp_hat == pytest.approx(p**k) and exp_at == pytest.approx(1 - (1 - p) ** k)


def test_bootstrap_is_deterministic_and_degenerate_cases() -> None:
    num, den = [1, 2, 0, 3], [2, 2, 1, 3]
    a = bootstrap_ratio(num, den, seed="x")
    assert a is not None and a == bootstrap_ratio(num, den, seed="x")
    assert a.low <= 6 / 8 <= a.high and a.clusters == 4
    assert bootstrap_ratio([1], [2]) is None  # one cluster: no interval
    assert bootstrap_ratio([0, 0], [0, 0]) is None


def test_cluster_bootstrap_coverage_simulation() -> None:
    """Clustered data (scenario effects): 95 % intervals contain the true mean in about 95 % of datasets."""
    rng = np.random.default_rng(12345)
    truth, covered, datasets = 0.6, 0, 300
    for i in range(datasets):
        scenarios = 30
        p = rng.beta(6 * truth / (1 - truth) / 2, 3, size=scenarios)  # scenario difficulty varies; mean = truth
        sizes = rng.integers(2, 7, size=scenarios)                    # tasks per scenario
        successes = rng.binomial(sizes, p)
        ci = bootstrap_ratio(successes, sizes, seed=i, resamples=1000)
        assert ci is not None
        covered += ci.low <= truth <= ci.high
    rate = covered / datasets
    assert 0.88 <= rate <= 0.99, rate
