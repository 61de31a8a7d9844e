"""Per-family cost: generating one instance, and drawing its images the first time they are opened.

    python benchmarks/bench_families.py            # 3 seeds of every meta-task
    python benchmarks/bench_families.py --quick    # 1 seed of the first variant per family

Images are rendered lazily (on first read) and cached, so generation cost and first-render cost are
separate figures; the render caches are cleared before each image is timed. The baseline column is
generating a single ``transaction_review`` instance, measured in the same process.
"""

from __future__ import annotations

import argparse
import time

from _common import machine, median, table
from firstday.seeding import make_rng
from firstday.suites import SuiteSpec, generate_day
from firstday.tasks import families, meta_tasks
from firstday.world import images as images_module
from firstday.world.company import generate_company


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args(argv)
    seeds = 1 if args.quick else args.seeds
    spec = SuiteSpec(tasks_per_day=(1, 1), interruption=False, follow_ups=False)
    company = generate_company(make_rng("bench-families", "company"))
    rows: list[list[object]] = []
    baseline: float | None = None
    slowest = 0.0
    for name, fam in families().items():
        metas = meta_tasks(fam)[:1] if args.quick else meta_tasks(fam)
        gen_ms: list[float] = []
        render_ms: list[float] = []
        for variant, difficulty in metas:
            for seed in range(seeds):
                t0 = time.perf_counter()
                day, _ = generate_day(company, spec, seed, 0, meta=[(name, variant, difficulty)])
                gen_ms.append((time.perf_counter() - t0) * 1000)
                for render in (f.render for t in day.tasks for f in t.files if f.render is not None):
                    images_module._render_png.cache_clear()
                    images_module._render_b64.cache_clear()
                    t1 = time.perf_counter()
                    images_module.render_b64(render)
                    render_ms.append((time.perf_counter() - t1) * 1000)
        g = median(gen_ms)
        slowest = max(slowest, g)
        if name == "transaction_review":
            baseline = g
        rows.append([name, len(gen_ms), round(g, 2), len(render_ms),
                     round(median(render_ms), 1) if render_ms else "-"])
    base = baseline or 1.0
    print(machine())
    print(table(["family", "instances", "generate ms (median)", "images", "first render ms (median)"], rows))
    print(f"\nbaseline: transaction_review generates in {base:.2f} ms; "
          f"slowest family {slowest / base:.1f}x that")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
