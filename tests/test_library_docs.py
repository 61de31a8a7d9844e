"""docs/library.md lists every registered family (generated), and the oracle sweep script works end to end."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

from firstday.tasks import families, meta_tasks

ROOT = Path(__file__).resolve().parent.parent


def _load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def test_library_doc_is_up_to_date() -> None:
    gen = _load("gen_library_docs")
    current = (ROOT / "docs" / "library.md").read_text(encoding="utf-8")
    assert current == gen.render(current), "docs/library.md is out of date: run `python scripts/gen_library_docs.py`"
    total = sum(len(meta_tasks(f)) for f in families().values())
    assert f"{len(families())} families, {total} meta-tasks" in current
    for name in families():
        assert f"`{name}`" in current


def test_sweep_script_checks_instances_and_writes_its_block(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    sweep = _load("sweep_oracle")
    gen = _load("gen_library_docs")
    doc = tmp_path / "library.md"
    doc.write_text(gen.render(""), encoding="utf-8")
    invariants = tmp_path / "invariants.md"
    invariants.write_text("# Invariants\n", encoding="utf-8")
    monkeypatch.setattr(sweep, "DOCS", (invariants, doc))
    name = sorted(families())[0]
    fam = families()[name]
    variant, difficulty = meta_tasks(fam)[0]
    code = sweep.main(["--only", f"{name}/{variant}/{difficulty}", "--per-meta", "2", "--workers", "1",
                       "--write-docs", "--json", str(tmp_path / "sweep.json")])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "total: 2 instances, 0 failed" in out and "oracle success 100.0 %, unsupported 0.0 %" in out
    text = doc.read_text(encoding="utf-8")
    assert "**2 instances**" in text and "**0 failed**" in text
    assert "**2 instances**" in invariants.read_text(encoding="utf-8"), "the figure is also on the invariants page"
    # regenerating the page keeps the sweep block
    assert gen.render(text) == text
