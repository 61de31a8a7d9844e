"""The resume screening family: the shortlist is recomputed independently from the resumes' text, scanned
CVs are the only place their contents appear, and the baseline earns partial credit at most."""

from __future__ import annotations

import re

import pytest

from conftest import run_agent, single_task_day
from firstday.tasks import get_family
from firstday.tasks.model import TaskInstance

FAMILY = "resume_screening"
VARIANTS = get_family(FAMILY).variants
JOB = re.compile(r"^(.+?), .+ \((\w{3}) (\d{4}) - (?:(\w{3}) (\d{4})|present)\)$")
MONTH = {m: i for i, m in enumerate(("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov",
                                     "Dec"))}


def instance(variant: str, difficulty: str, seed: int) -> tuple[TaskInstance, list[str]]:
    _scenario, day = single_task_day((FAMILY, variant, difficulty), seed, label="resume")
    task = next(t for t in day.tasks if t.family == FAMILY)
    texts = [t.objective for t in day.tasks] + [f.content for t in day.tasks for f in t.files if not f.is_image]
    texts += [f.reply for t in day.tasks for f in t.facts] + [f.path for t in day.tasks for f in t.files]
    return task, texts


def _requirements(task: TaskInstance) -> str:
    docs = [f.content for f in task.files if f.path.endswith(".md")] + [f.reply for f in task.facts]
    return "\n".join(docs)


def _shortlist(task: TaskInstance) -> list[str]:
    """Apply the stated requirements to each resume's text (files, or the scans' text alternatives)."""
    req = _requirements(task)
    level = {"Bachelor": 1, "Master": 2, "PhD": 3}[
        re.search(r"(Bachelor|Master)'s degree or higher|a (PhD)", req).group(1)  # type: ignore[union-attr]
        or "PhD"]
    majors = re.search(r"in one of these majors: ([^()]+?) \(", req).group(1).split(", ")  # type: ignore[union-attr]
    related = re.search(r"Related majors also accepted for the education requirement: ([^.]+)\.", req)
    majors += related.group(1).split(", ") if related else []
    years = int(re.search(r"at least (\d+) years", req).group(1))  # type: ignore[union-attr]
    skills = re.search(r"Skills: all of ([^\n]+)\.", req).group(1).split(", ")  # type: ignore[union-attr]
    synonyms = dict(re.findall(r"([\w &/+-]+?) counts as ([\w &/+-]+?)(?:;|\.)", req))
    synonyms = {k.strip(): v.strip() for k, v in synonyms.items()}
    out = []
    for f in task.files:
        if "/candidates/" not in f.path:
            continue
        text = (f.text_alternative or "").removeprefix("Scanned CV:\n") if f.is_image else f.content
        lines = text.splitlines()
        edu = lines[lines.index("EDUCATION") + 1: lines.index("SKILLS") - 1]
        exp = lines[lines.index("EXPERIENCE") + 1: lines.index("EDUCATION") - 1]
        have = set(lines[lines.index("SKILLS") + 1].split(", "))
        have |= {synonyms[s] for s in have if s in synonyms}

        def lvl(line: str) -> int:
            return 3 if line.startswith(("PhD", "Doctor")) else 2 if line.startswith(("Master", "MSc")) else 1

        ok_edu = any(lvl(ln) >= level and ln.split(" in ", 1)[1].split(",")[0] in majors for ln in edu)
        months = 0
        for ln in exp:
            m = JOB.match(ln)
            assert m, ln
            if m.group(1).endswith("Intern"):
                continue
            start = int(m.group(3)) * 12 + MONTH[m.group(2)]
            end = int(m.group(5)) * 12 + MONTH[m.group(4)] if m.group(4) else 2025 * 12 + 5
            months += end - start
        if ok_edu and months >= 12 * years and all(s in have for s in skills):
            out.append(lines[0].title())
    return sorted(out)


@pytest.mark.parametrize("variant", VARIANTS)
def test_shortlist_is_recomputed_from_the_resumes(variant: str) -> None:
    for difficulty in ("easy", "medium", "hard"):
        for seed in range(3):
            task, _ = instance(variant, difficulty, seed)
            expected = _shortlist(task)
            assert [n.lower() for n in task.answers["selected"]] == [n.lower() for n in expected]
            n = sum(1 for f in task.files if "/candidates/" in f.path)
            assert 2 <= len(expected) <= n - 2


def test_scanned_cvs_exist_only_as_images() -> None:
    for variant in VARIANTS:
        for seed in range(3):
            task, texts = instance(variant, "hard", seed)
            scans = [f for f in task.files if f.is_image]
            assert len(scans) >= 4
            corpus = "\n".join(texts)
            for f in scans:
                assert f.render is not None and f.text_alternative
                deciding = f.render.params["deciding"]
                assert deciding and all(d in f.text_alternative for d in deciding)
                for line in deciding:
                    assert line not in corpus, f"{line!r} from a scan appears in a text asset"


def test_noop_zero_and_baseline_partial() -> None:
    scores: list[float] = []
    for i, variant in enumerate(VARIANTS):
        for difficulty in ("easy", "medium", "hard"):
            scenario, day = single_task_day((FAMILY, variant, difficulty), 200 + i, label="resume-baseline")
            noop = run_agent("noop", scenario, day)
            assert all(t.score == 0.0 for t in noop.score.tasks)
            res = run_agent("heuristic", scenario, day)
            scores += [t.score or 0.0 for t in res.score.tasks if t.meta_task.startswith(FAMILY)]
    assert sum(scores) / len(scores) < 0.75
    hard = scores[2::3]
    assert max(hard) < 1.0
