"""Third-party families register through the ``firstday.families`` entry point group and show up in
``firstday families`` (issue 3), without any change to firstday itself."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

PLUGIN = '''
from firstday.tasks.library.transaction_review import TransactionReview


class PluginReview(TransactionReview):
    """A third-party family: the transaction review rules under another name."""

    name = "plugin_review"
    title = "Plugin review"
'''

ENTRY_POINTS = """[firstday.families]
plugin_review = fd_plugin:PluginReview
"""


def _install_fake_distribution(root: Path) -> None:
    """A minimal installed distribution: a module plus a dist-info folder with entry_points.txt."""
    (root / "fd_plugin.py").write_text(PLUGIN, encoding="utf-8")
    info = root / "fd_plugin-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: fd-plugin\nVersion: 0.1\n", encoding="utf-8")
    (info / "entry_points.txt").write_text(ENTRY_POINTS, encoding="utf-8")


def test_an_entry_point_family_is_listed_and_generates(tmp_path: Path) -> None:
    _install_fake_distribution(tmp_path)
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    listed = subprocess.run([sys.executable, "-m", "firstday", "families", "--json"], env=env,
                            capture_output=True, text=True, timeout=120, check=True)
    rows = {row["name"]: row for row in json.loads(listed.stdout)}
    assert "plugin_review" in rows
    assert rows["plugin_review"]["n_meta_tasks"] == rows["transaction_review"]["n_meta_tasks"]

    out = tmp_path / "suite"
    spec = tmp_path / "spec.json"
    spec.write_text(json.dumps({"name": "plugin", "scenarios": 1, "tasks_per_day": [1, 1],
                                "families": ["plugin_review"]}), encoding="utf-8")
    subprocess.run([sys.executable, "-m", "firstday", "generate", "--spec", str(spec), "--out", str(out)],
                   env=env, capture_output=True, text=True, timeout=120, check=True)
    task = json.loads(next((out / "scenarios").glob("*.json")).read_text())["days"][0]["tasks"][0]
    assert task["family"] == "plugin_review"
