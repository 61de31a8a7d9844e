"""``firstday families`` and ``generate``: the task library, and making a suite."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Annotated, Any, cast

import typer
from rich import box
from rich.markup import escape
from rich.table import Table

from firstday.cli._common import INTERRUPTED, JsonArg, fail, stderr, stdout, user_errors
from firstday.errors import ConfigError


@user_errors
def families_cmd(as_json: JsonArg = False) -> None:
    """The meta-task library: each family with its variants (and dependent variants: follow-up tasks that build on
    an earlier task's result, marked "builds on"), difficulty knobs, domains and modalities."""
    from firstday.tasks.family import dependent_meta_tasks, dependent_variants, families, meta_tasks

    fams = families()
    rows: list[dict[str, Any]] = [{
        "name": f.name, "title": f.title, "description": f.description, "variants": list(f.variants),
        "dependent_variants": list(dependent_variants(f)),
        "knobs": dict(f.knobs), "domains": list(f.domains), "modalities": list(f.modalities),
        "n_meta_tasks": len(meta_tasks(f)),
        "meta_tasks": [f"{f.name}/{v}/{d}" for v, d in meta_tasks(f)],
        "dependent_meta_tasks": [f"{f.name}/{v}/{d}" for v, d in dependent_meta_tasks(f)],
    } for f in fams.values()]
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    table = Table(title=f"{len(rows)} task families, {sum(r['n_meta_tasks'] for r in rows)} meta-tasks "
                        "(variant x difficulty)", title_justify="left", box=box.SIMPLE_HEAD)
    for col in ("family", "title", "variants", "difficulty knobs", "domains", "modalities", "meta-tasks"):
        # one variant / knob per line: names are never broken mid-word
        table.add_column(col, justify="right" if col == "meta-tasks" else "left", overflow="fold",
                         no_wrap=col in ("family", "variants", "difficulty knobs"))
    for f in fams.values():
        variants = [*f.variants, *(f"{v} (builds on)" for v in dependent_variants(f))]
        table.add_row(f.name, f.title, "\n".join(variants), "\n".join(f.knobs), ", ".join(f.domains),
                      ", ".join(f.modalities), str(len(meta_tasks(f))), end_section=True)
    stdout().print(table)


@user_errors
def generate(
    out: Annotated[Path, typer.Option("--out", "-o", help="New (or empty) folder to save the suite in.")],
    preset_name: Annotated[str | None, typer.Option(
        "--preset", help="smoke, standard (load 0.7-0.9), hard (load 1.1-1.4, harder tasks), reference (2-6 tasks "
                         "a day, the reference benchmark's conditions), continual or continual-mutable.")] = None,
    spec_file: Annotated[Path | None, typer.Option("--spec", help="A suite spec as JSON or TOML.")] = None,
    seed: Annotated[int | None, typer.Option(help="Seed (default 0 for a preset, the spec's own seed)")] = None,
) -> None:
    """Generate a suite from a preset or a spec file and save it (prints its content hash).

    Scenarios are saved as they are made; if generation is interrupted, the same command with the same
    --out continues where it stopped."""
    from rich.progress import Progress

    from firstday.suites import load_spec_file, preset, write_suite

    if (preset_name is None) == (spec_file is None):
        raise ConfigError("give exactly one of --preset NAME or --spec FILE")
    if preset_name is not None:
        spec = preset(preset_name, seed or 0)
    else:
        spec = load_spec_file(cast(Path, spec_file))
        if seed is not None:
            spec = spec.model_copy(update={"seed": seed})
    t0 = time.perf_counter()
    with Progress(console=stderr(), transient=True, disable=spec.scenarios < 500) as bar:
        job = bar.add_task("generating", total=spec.scenarios)
        try:
            summary = write_suite(spec, out, on_scenario=lambda done, _total: bar.update(job, completed=done))
        except KeyboardInterrupt:
            fail("interrupted; the scenarios saved so far are kept: run the same command again to continue",
                 code=INTERRUPTED)
    gen_s = time.perf_counter() - t0
    manifest = summary.manifest
    console = stdout()
    resumed = f" ({summary.reused} kept from the interrupted run)" if summary.reused else ""
    console.print(f"suite {spec.name!r} (seed {spec.seed}): {manifest.n_scenarios} scenarios, "
                  f"{manifest.n_days} days, {manifest.n_tasks} tasks; generated in {gen_s:.2f} s{resumed}")
    console.print("tasks per family: " + ", ".join(f"{k} {v}" for k, v in sorted(summary.by_family.items())))
    # a task the day had no room or time left for is left out, never silently: each day lists its own
    dropped = (f"dropped: {manifest.n_dropped} drawn task(s) did not fit their day and were left out (listed in "
               "each day's 'dropped', counted in the manifest's n_dropped)")
    console.print(f"[yellow]{dropped}[/yellow]" if manifest.n_dropped else dropped)
    console.print(f"content hash: {manifest.content_hash}")
    # the run folder is named after the suite, so following this line never collides with another suite's run
    console.print(f"saved to {escape(str(out))}; next: firstday run {escape(str(out))} --agent heuristic "
                  f"--out {escape(str(Path('runs') / f'{out.resolve().name}-heuristic'))}")
