"""Every registered family with the "image" modality: the deciding facts live only in the image.

For each image family, over a few seeds of every meta-task:

* the *deciding values* are drawn only in the image (for the instances holding an image file). A
  renderer's ``params`` may list them under ``"deciding"`` (the strings the answer is read from); if no
  image of an instance declares any, the string and number leaves of ``TaskInstance.answers`` are used.
  Each must be absent from every text asset, colleague reply, objective, page, meeting note and file
  path of the day, and present in the concatenated text alternatives of the instance's images;
* rendering is deterministic across processes (PNG bytes hashed in a subprocess with another
  ``PYTHONHASHSEED``);
* in text-alternative mode (``EnvConfig(text_only=True)``) the oracle still scores 1.0 and
  ``read_file`` on an image returns its text alternative, never an image.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from conftest import run_agent, single_task_day, string_values
from firstday.env import EnvConfig
from firstday.env.trace import ToolCallEvent, ToolResultEvent
from firstday.suites import Day
from firstday.tasks import families, meta_tasks
from firstday.tasks.model import DIFFICULTIES, TaskInstance
from firstday.world.images import render_png

IMAGE_FAMILIES = sorted(name for name, fam in families().items() if "image" in fam.modalities)
SEEDS = range(3)
MIN_VALUE_LEN = 3  # shorter values (a digit, "Q2") are too likely to occur by chance in ordinary text
LABEL = "image-families"


def family_days(name: str, seeds: range = SEEDS) -> list[tuple[Any, Day, TaskInstance]]:
    """(scenario, day, instance) for every meta-task of family ``name`` over ``seeds``, keeping the instances
    that hold images (a family may use images in some variants or difficulties only)."""
    out = []
    for variant, difficulty in meta_tasks(families()[name]):
        for seed in seeds:
            scenario, day = single_task_day((name, variant, difficulty), seed, LABEL)
            out += [(scenario, day, t) for t in day.tasks if t.family == name and any(f.is_image for f in t.files)]
    assert out, f"{name} has the image modality but none of its instances holds an image"
    return out


def deciding_values(inst: TaskInstance) -> list[str]:
    declared = [str(v) for f in inst.files if f.render is not None for v in f.render.params.get("deciding", [])]
    values = declared or list(string_values(inst.answers))
    return sorted({v for v in values if len(v.strip()) >= MIN_VALUE_LEN})


def text_corpus(day: Day) -> str:
    """Everything of the day an agent can read as text, except the images' text alternatives."""
    parts: list[str] = []
    for t in day.tasks:
        parts.append(t.objective)
        for f in t.files:
            parts.append(f.path)
            if not f.is_image:
                parts.append(f.content)
        parts += [x.reply + "\n" + x.gate_reply for x in t.facts]
        parts += [p.url + "\n" + p.title + "\n" + p.content for p in t.pages]
        parts += [m.title + "\n" + m.notes for m in t.meetings]
    parts += [m.title + "\n" + m.notes for m in day.meetings]
    parts += [fu.text for fu in day.follow_ups]
    return "\n\x00\n".join(parts)


def png_hashes(names: list[str] | None = None) -> dict[str, str]:
    """sha256 of every image of one instance per variant (the difficulty rotating with the variant), used
    in-process and in a subprocess."""
    out: dict[str, str] = {}
    for name in names or IMAGE_FAMILIES:
        for i, variant in enumerate(families()[name].variants):
            meta = (name, variant, DIFFICULTIES[i % len(DIFFICULTIES)])
            _, day = single_task_day(meta, 0, LABEL)
            for f in (f for t in day.tasks for f in t.files):
                if f.render is not None:
                    out[f"{'/'.join(meta)}:{f.path}"] = hashlib.sha256(render_png(f.render)).hexdigest()
    assert any(k.startswith(f"{n}/") for n in (names or IMAGE_FAMILIES) for k in out), "no image rendered"
    return out


def test_there_are_image_families() -> None:
    assert IMAGE_FAMILIES


@pytest.mark.parametrize("name", IMAGE_FAMILIES)
def test_deciding_values_exist_only_in_the_image(name: str) -> None:
    problems: list[str] = []
    for _, day, inst in family_days(name):
        images = [f for f in inst.files if f.is_image]
        assert all(f.render is not None and f.text_alternative for f in images), \
            f"{inst.meta_task}: every image needs a render spec and a text alternative"
        corpus = text_corpus(day)
        alternatives = "\n".join(f.text_alternative or "" for f in images)
        values = deciding_values(inst)
        assert values, f"{inst.meta_task}: no deciding values"
        for v in values:
            if v in corpus:
                problems.append(f"{inst.meta_task}: {v!r} is readable as text")
            if v not in alternatives:
                problems.append(f"{inst.meta_task}: {v!r} is missing from the text alternative")
    assert not problems, problems[:10]


def test_rendering_is_deterministic_across_processes() -> None:
    here = png_hashes()
    assert here
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    tests_dir = str(Path(__file__).parent)
    code = (f"import json, sys; sys.path.insert(0, {tests_dir!r}); from test_image_families import png_hashes; "
            "print(json.dumps(png_hashes()))")
    proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=600,
                          check=True)
    there = json.loads(proc.stdout.strip().splitlines()[-1])
    assert there == here


@pytest.mark.parametrize("name", IMAGE_FAMILIES)
def test_text_alternative_mode(name: str) -> None:
    problems: list[str] = []
    for scenario, day, inst in family_days(name, range(2)):
        result = run_agent("oracle", scenario, day, EnvConfig(text_only=True))
        for ts in result.score.tasks:
            if ts.score != 1.0:
                problems.append(f"{ts.meta_task}: oracle scores {ts.score} in text-alternative mode")
        alternatives = {f.path: f.text_alternative or "" for f in inst.files if f.is_image}
        opened = 0
        args: dict[str, Any] | str = {}
        for e in result.trace:  # each tool_result directly follows its tool_call
            if isinstance(e, ToolCallEvent):
                args = e.data.arguments
                continue
            if not isinstance(e, ToolResultEvent) or e.data.name != "read_file" or not e.data.ok:
                continue
            path = args.get("path") if isinstance(args, dict) else None
            if path in alternatives:
                opened += 1
                if e.data.images or alternatives[path] not in e.data.content:
                    problems.append(f"{inst.meta_task}: read_file({path}) did not return the text alternative")
        if not opened:
            problems.append(f"{inst.meta_task}: the oracle never opened an image")
    assert not problems, problems[:10]
