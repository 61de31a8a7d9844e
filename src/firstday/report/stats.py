"""Statistics of runs: pass^k and pass@k (unbiased estimators) and cluster bootstrap confidence intervals.

Formulas (docs/statistics.md): for a task run ``n`` times with ``c`` successes and ``k <= n``,

* pass@k = 1 - C(n-c, k) / C(n, k)   the chance that at least one of k trials drawn without
  replacement from the n succeeds (unbiased for 1 - (1-p)^k);
* pass^k = C(c, k) / C(n, k)         the chance that all k drawn trials succeed (unbiased for p^k);

each averaged over the tasks with ``n >= k``.

Every headline figure is a ratio of sums (successes / tasks, weighted score / weight, clues found /
clues required, ...), so a confidence interval is computed by resampling **scenarios** (clusters)
with replacement and recomputing the ratio: tasks of one scenario share a company, a day's schedule
and its interruptions, and repeated trials of one task are strongly correlated, so resampling tasks
as if independent would give intervals that are too narrow.
"""

from __future__ import annotations

from collections.abc import Sequence
from math import comb

import numpy as np
from pydantic import BaseModel, Field

from firstday.seeding import derive_seed

DEFAULT_RESAMPLES = 2000
DEFAULT_LEVEL = 0.95


def pass_at_k(n: int, c: int, k: int) -> float:
    """Unbiased estimate of pass@k from ``c`` successes in ``n`` trials (``1 <= k <= n``)."""
    _check(n, c, k)
    return 1.0 - comb(n - c, k) / comb(n, k)


def pass_hat_k(n: int, c: int, k: int) -> float:
    """Unbiased estimate of pass^k (all of k trials succeed) from ``c`` successes in ``n`` trials."""
    _check(n, c, k)
    return comb(c, k) / comb(n, k)


def _check(n: int, c: int, k: int) -> None:
    if not (0 <= c <= n and 1 <= k <= n):
        raise ValueError(f"need 0 <= c <= n and 1 <= k <= n, got n={n}, c={c}, k={k}")


def mean_over_tasks(counts: Sequence[tuple[int, int]], k: int, kind: str) -> float | None:
    """pass@k (``kind="at"``) or pass^k (``kind="hat"``) averaged over the tasks with ``n >= k``."""
    fn = pass_at_k if kind == "at" else pass_hat_k
    values = [fn(n, c, k) for n, c in counts if n >= k]
    return sum(values) / len(values) if values else None


class Interval(BaseModel):
    """A percentile bootstrap confidence interval."""

    low: float
    high: float
    level: float = Field(default=DEFAULT_LEVEL, description="coverage the interval aims at, e.g. 0.95")
    clusters: int = Field(description="scenarios resampled")


def bootstrap_ratio(numerators: Sequence[float] | np.ndarray, denominators: Sequence[float] | np.ndarray, *,
                    seed: int | str = 0, resamples: int = DEFAULT_RESAMPLES,
                    level: float = DEFAULT_LEVEL) -> Interval | None:
    """CI of ``sum(num) / sum(den)`` resampling clusters (one entry per cluster) with replacement.

    Deterministic for a given ``seed``. None with fewer than two clusters or nothing to divide by.
    Resamples whose denominator is 0 (every drawn cluster has nothing of this kind) are dropped.
    """
    num = np.asarray(numerators, dtype=float)
    den = np.asarray(denominators, dtype=float)
    n = len(num)
    if n < 2 or den.sum() <= 0:
        return None
    rng = np.random.default_rng(derive_seed("bootstrap", seed) if isinstance(seed, str) else seed)
    # each row: how many times each cluster is drawn in one resample (= drawing n clusters with replacement)
    weights = rng.multinomial(n, np.full(n, 1.0 / n), size=resamples)
    nums, dens = weights @ num, weights @ den
    ok = dens > 0
    if not ok.any():
        return None
    est = nums[ok] / dens[ok]
    alpha = (1.0 - level) / 2
    low, high = np.quantile(est, [alpha, 1.0 - alpha])
    return Interval(low=float(low), high=float(high), level=level, clusters=n)
