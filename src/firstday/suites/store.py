"""The on-disk suite format: ``manifest.json`` plus one JSON file per scenario.

Files are written atomically (temporary file, then rename), and every scenario's content hash is
checked when it is loaded, so a modified or truncated file is reported instead of silently used.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import threading
from pathlib import Path

from pydantic import ValidationError

from firstday._version import __version__
from firstday.errors import ConfigError
from firstday.suites.generate import scenario_hash
from firstday.suites.spec import Scenario, SuiteManifest, SuiteSpec

MANIFEST = "manifest.json"


_CREATE = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC


def atomic_write(path: Path, data: str | bytes) -> None:
    """Write ``data`` (text as UTF-8) to ``path`` via a temporary file and a rename, creating the folder
    the first time. The temporary name is this process's and thread's own (runs write three files per
    episode, hundreds of episodes a second: no random name and no text-file wrapper per file)."""
    raw = data.encode() if isinstance(data, str) else data
    tmp = f"{path.parent}/.{path.name}.{os.getpid()}-{threading.get_native_id()}.tmp"
    try:
        fd = os.open(tmp, _CREATE, 0o666)
    except FileNotFoundError:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(tmp, _CREATE, 0o666)
    try:
        try:
            view = memoryview(raw)
            while view:
                view = view[os.write(fd, view):]
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def suite_hash(spec: SuiteSpec, scenario_hashes: dict[str, str]) -> str:
    h = hashlib.sha256(spec.model_dump_json().encode())
    for sid in sorted(scenario_hashes):
        h.update(f"{sid}:{scenario_hashes[sid]}\n".encode())
    return h.hexdigest()


def save_suite(spec: SuiteSpec, scenarios: list[Scenario], out: Path, *, overwrite: bool = False) -> SuiteManifest:
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise ConfigError(f"{out} is a file, not a folder; choose another --out")
    if out.exists() and any(out.iterdir()) and not (overwrite and (out / MANIFEST).exists()):
        raise ConfigError(f"{out} already exists and is not empty; choose another --out (or remove it)")
    hashes: dict[str, str] = {}
    for scn in scenarios:
        text = scn.model_dump_json()
        hashes[scn.scenario_id] = hashlib.sha256(text.encode()).hexdigest()
        atomic_write(out / "scenarios" / f"{scn.scenario_id}.json", text)
    manifest = SuiteManifest(
        spec=spec,
        content_hash=suite_hash(spec, hashes),
        scenario_hashes=hashes,
        n_scenarios=len(scenarios),
        n_days=sum(len(s.days) for s in scenarios),
        n_tasks=sum(len(d.tasks) for s in scenarios for d in s.days),
        firstday_version=__version__,
    )
    atomic_write(out / MANIFEST, manifest.model_dump_json(indent=1))
    return manifest


class Suite:
    """A saved suite: its manifest, with scenarios loaded (and hash-checked) on demand."""

    def __init__(self, path: Path, manifest: SuiteManifest) -> None:
        self.path = path
        self.manifest = manifest

    @property
    def scenario_ids(self) -> list[str]:
        return sorted(self.manifest.scenario_hashes)

    def scenario(self, scenario_id: str) -> Scenario:
        file = self.path / "scenarios" / f"{scenario_id}.json"
        try:
            text = file.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise ConfigError(
                f"suite {self.path} is missing {file.name}; regenerate it with 'firstday generate'"
            ) from None
        if hashlib.sha256(text.encode()).hexdigest() != self.manifest.scenario_hashes[scenario_id]:
            raise ConfigError(
                f"{file} does not match the suite's content hash (modified or corrupted); regenerate the suite"
            )
        scn = Scenario.model_validate_json(text)
        assert scenario_hash(scn) == self.manifest.scenario_hashes[scenario_id]
        return scn

    def scenarios(self) -> list[Scenario]:
        return [self.scenario(s) for s in self.scenario_ids]


def load_suite(path: Path | str) -> Suite:
    path = Path(path)
    if not path.exists():
        raise ConfigError(
            f"suite folder {path} does not exist; create one with 'firstday generate --preset smoke --out {path}'"
        )
    mf = path / MANIFEST
    if not mf.is_file():
        raise ConfigError(f"{path} is not a suite (no {MANIFEST}); create one with 'firstday generate'")
    try:
        manifest = SuiteManifest.model_validate_json(mf.read_text(encoding="utf-8"))
    except ValidationError as exc:
        raise ConfigError(f"{mf} is not a valid suite manifest: {exc.errors()[0]['msg']}") from None
    return Suite(path, manifest)


def load_spec_file(path: Path | str) -> SuiteSpec:
    """Read a suite spec from JSON (or TOML, by extension) with a clear error on any problem."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"spec file {path} does not exist")
    text = path.read_text(encoding="utf-8")
    try:
        if path.suffix == ".toml":
            import tomllib

            data = tomllib.loads(text)
        else:
            data = json.loads(text)
    except (ValueError, json.JSONDecodeError) as exc:
        raise ConfigError(f"spec file {path} is not valid {path.suffix.lstrip('.') or 'JSON'}: {exc}") from None
    try:
        return SuiteSpec.model_validate(data)
    except ValidationError as exc:
        msgs = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'spec'}: {e['msg']}" for e in exc.errors())
        raise ConfigError(f"spec file {path} is invalid: {msgs}") from None
