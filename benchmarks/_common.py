"""Small helpers shared by the benchmark scripts: statistics and a plain-text table."""

from __future__ import annotations

import os
import platform
import statistics
from collections.abc import Sequence


def median(xs: Sequence[float]) -> float:
    return statistics.median(xs)


def percentile(xs: Sequence[float], q: float) -> float:
    """The ``q``-quantile (0..1) by linear interpolation between closest ranks."""
    s = sorted(xs)
    if not s:
        raise ValueError("percentile of an empty sequence")
    pos = (len(s) - 1) * q
    lo = int(pos)
    hi = min(lo + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (pos - lo)


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A fixed-width text table; numbers right-aligned."""
    cells = [[str(h) for h in headers]] + [[_cell(v) for v in r] for r in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    numeric = [all(_is_num(r[i]) for r in rows) if rows else False for i in range(len(headers))]

    def line(row: Sequence[str]) -> str:
        return "  ".join(
            c.rjust(w) if numeric[i] else c.ljust(w) for i, (c, w) in enumerate(zip(row, widths, strict=True))
        )

    out = [line(cells[0]), "  ".join("-" * w for w in widths)]
    out += [line(r) for r in cells[1:]]
    return "\n".join(out)


def _is_num(v: object) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def _cell(v: object) -> str:
    if isinstance(v, float):
        if v == 0:
            return "0"
        if abs(v) >= 100:
            return f"{v:,.0f}"
        if abs(v) >= 1:
            return f"{v:.2f}"
        return f"{v:.3g}"
    if isinstance(v, int) and not isinstance(v, bool):
        return f"{v:,}"
    return str(v)


def machine() -> str:
    """Interpreter, platform and CPU count, plus the load average: other work on the machine skews timings."""
    load = "n/a"
    if hasattr(os, "getloadavg"):
        load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    return (
        f"Python {platform.python_version()} on {platform.system()} {platform.machine()}, "
        f"{os.cpu_count()} CPU(s), load average {load}"
    )


class StolenCPU:
    """The share of the machine's CPU time taken by other tenants (a VM's "steal") between making this
    object and calling ``share()``, from ``/proc/stat``; ``None`` where that file is missing (not Linux).

    On a shared VM, steal slows every figure without showing in the load average, so the throughput
    benchmark prints it beside each row.
    """

    def __init__(self, stat_file: str = "/proc/stat") -> None:
        self._stat_file = stat_file
        self._start = self._read()

    def _read(self) -> list[int] | None:
        try:
            with open(self._stat_file) as f:
                fields = f.readline().split()
        except OSError:
            return None
        # cpu user nice system idle iowait irq softirq steal [guest guest_nice: already in user/nice]
        return [int(x) for x in fields[1:9]] if fields and fields[0] == "cpu" and len(fields) >= 9 else None

    def share(self) -> float | None:
        end = self._read()
        if self._start is None or end is None:
            return None
        delta = [b - a for a, b in zip(self._start, end, strict=True)]
        total = sum(delta)
        return delta[7] / total if total > 0 else 0.0
