"""The public API (``import firstday``): what it exports, that importing it is cheap, and that the README's
Python example runs as written."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

import firstday

ROOT = Path(__file__).resolve().parent.parent
INIT = ROOT / "src" / "firstday" / "__init__.py"


def _type_checking_imports() -> dict[str, str]:
    """Public name -> module, as imported under ``if TYPE_CHECKING`` in firstday/__init__.py."""
    tree = ast.parse(INIT.read_text(encoding="utf-8"))
    block = next(n for n in tree.body if isinstance(n, ast.If) and getattr(n.test, "id", "") == "TYPE_CHECKING")
    return {(a.asname or a.name): n.module or "" for n in block.body if isinstance(n, ast.ImportFrom)
            for a in n.names if n.module != "typing"}


def test_all_lists_every_lazy_name_and_each_resolves() -> None:
    lazy = firstday._LAZY
    assert sorted(firstday.__all__) == sorted([*lazy, "__version__"])
    assert {name: module for name, (module, _) in lazy.items()} == _type_checking_imports()
    for name in firstday.__all__:
        assert getattr(firstday, name) is not None
    assert set(firstday.__all__) <= set(dir(firstday))
    with pytest.raises(AttributeError, match="no_such_name"):
        firstday.no_such_name  # noqa: B018


def test_the_version_comes_from_the_package_metadata() -> None:
    from importlib.metadata import version

    assert firstday.__version__ == version("firstday")
    out = subprocess.run([sys.executable, "-m", "firstday", "--version"], capture_output=True, text=True,
                         check=True, timeout=60)
    assert out.stdout.strip() == f"firstday {version('firstday')}"
    assert not re.search(r'^__version__\s*=\s*"', (INIT.parent / "_version.py").read_text(), re.M)


def test_import_firstday_loads_nothing_heavy() -> None:
    code = ("import sys, firstday\n"
            "heavy = [m for m in ('numpy', 'pandas', 'pydantic', 'typing', 'importlib.metadata', 'firstday.run',"
            " 'firstday.tasks', 'rich', 'typer') if m in sys.modules]\n"
            "print(','.join(heavy))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    assert out.stdout.strip() == ""


def readme_python_example() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    after = text[text.index("In Python"):]
    match = re.search(r"```python\n(.*?)```", after, re.S)
    assert match is not None
    return match.group(1)


def test_the_readme_example_uses_only_public_names_and_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    code = readme_python_example()
    tree = ast.parse(code)
    imported = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import | ast.ImportFrom) for a in n.names}
    assert imported <= {"asyncio", "firstday"}, imported
    used = {n.attr for n in ast.walk(tree)
            if isinstance(n, ast.Attribute) and isinstance(n.value, ast.Name) and n.value.id == "firstday"}
    assert used and used <= set(firstday.__all__), used - set(firstday.__all__)
    monkeypatch.chdir(tmp_path)
    exec(compile(code, "README.md", "exec"), {"__name__": "readme"})
    printed = capsys.readouterr().out.splitlines()
    assert printed[0].startswith("heuristic success ")
    assert printed[-1] == "1.0"  # the oracle solves its day
    assert (tmp_path / "runs" / "smoke-heuristic" / "run.json").is_file()
