"""Suite generation speed: build a preset in memory, save it to disk, size and file count.

    python benchmarks/bench_generate.py                     # standard preset, 5 repeats
    python benchmarks/bench_generate.py --preset hard       # or reference, continual, ...
    python benchmarks/bench_generate.py --quick             # smoke preset, 1 repeat (a check that it runs)
    python benchmarks/bench_generate.py --profile           # also print the top cProfile hotspots of one generation

Reference (REFERENCE.md): the reference benchmark takes about 39 s and writes 55 MB in 7,119 files for
50 scenarios / 203 tasks; the `reference` preset has its shape (50 scenarios of 2-6 tasks), so its whole-suite
figures are compared with those, other presets' per task only. Target here: generate + save the `standard`
preset (50 scenarios filled to a load of 0.7-0.9, about 680 tasks) in at most 1.5 s.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import shutil
import tempfile
import time
from pathlib import Path

from _common import machine, median, table
from firstday.suites import generate_suite, preset, save_suite
from firstday.tasks import families

REFERENCE_SECONDS = 39.0
REFERENCE_BYTES = 55_000_000
REFERENCE_FILES = 7_119
TARGET_SECONDS = 1.5


def folder_size(path: Path) -> tuple[int, int]:
    """(bytes, files) under ``path``."""
    files = [p for p in path.rglob("*") if p.is_file()]
    return sum(p.stat().st_size for p in files), len(files)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--preset", default=None, help="suite preset (default: standard; smoke with --quick)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--repeats", type=int, default=None, help="timed repeats (default 5; 1 with --quick)")
    ap.add_argument("--quick", action="store_true", help="tiny run: smoke preset, one repeat")
    ap.add_argument("--profile", action="store_true", help="print the top hotspots of one generation")
    args = ap.parse_args(argv)
    name = args.preset or ("smoke" if args.quick else "standard")
    repeats = args.repeats or (1 if args.quick else 5)
    spec = preset(name, seed=args.seed)

    generate_suite(spec)  # warm-up: imports, family registry, pydantic schema caches
    gen_times: list[float] = []
    save_times: list[float] = []
    cpu_times: list[float] = []  # CPU seconds of this process: less sensitive to other load on the machine
    size = files = 0
    n_scenarios = n_tasks = 0
    with tempfile.TemporaryDirectory(prefix="firstday-bench-") as tmp:
        for i in range(repeats):
            t0, c0 = time.perf_counter(), time.process_time()
            scenarios = generate_suite(spec)
            t1 = time.perf_counter()
            out = Path(tmp) / f"suite{i}"
            save_suite(spec, scenarios, out)
            t2, c2 = time.perf_counter(), time.process_time()
            cpu_times.append(c2 - c0)
            gen_times.append(t1 - t0)
            save_times.append(t2 - t1)
            size, files = folder_size(out)
            shutil.rmtree(out)
            n_scenarios = len(scenarios)
            n_tasks = sum(len(d.tasks) for s in scenarios for d in s.days)

    gen, save = median(gen_times), median(save_times)
    total = median([g + s for g, s in zip(gen_times, save_times, strict=True)])
    print(
        f"firstday suite generation: preset {name!r}, seed {args.seed}, {n_scenarios} scenarios, "
        f"{n_tasks} tasks; median of {repeats} repeat(s)"
    )
    print(f"families: {', '.join(spec.families or list(families()))}")
    print(machine())
    print()
    rows: list[list[object]] = [
        ["generate in memory (s)", gen, "", ""],
        ["save to disk (s)", save, "", ""],
        ["generate + save (s)", total, REFERENCE_SECONDS, f"{REFERENCE_SECONDS / total:.0f}x faster"],
        ["  of which CPU time (s)", median(cpu_times), "", ""],
        ["size on disk (MB)", size / 1e6, REFERENCE_BYTES / 1e6, f"{REFERENCE_BYTES / max(size, 1):.0f}x smaller"],
        ["files written", files, REFERENCE_FILES, f"{REFERENCE_FILES / max(files, 1):.0f}x fewer"],
        [
            "ms per task (generate + save)",
            1000 * total / max(n_tasks, 1),
            1000 * REFERENCE_SECONDS / 203,
            f"{REFERENCE_SECONDS / 203 / (total / max(n_tasks, 1)):.0f}x faster",
        ],
    ]
    if name != "reference":
        # the reference figures are for a suite of the reference's shape: only the per-task ratio is comparable
        for row in rows[2:6]:
            row[2:] = ["", ""]
    print(table(["figure", "firstday", "reference", "ratio"], rows))
    if name == "standard":
        verdict = "met" if total <= TARGET_SECONDS else "MISSED"
        print(f"\ntarget: generate + save <= {TARGET_SECONDS} s: {verdict}")

    if args.profile:
        prof = cProfile.Profile()
        prof.enable()
        generate_suite(spec)
        prof.disable()
        buf = io.StringIO()
        pstats.Stats(prof, stream=buf).sort_stats("tottime").print_stats(15)
        print("\ntop hotspots of one generation (by own time):")
        print(buf.getvalue())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
