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
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, Field, ValidationError

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
    except OSError as exc:
        if exc.filename != tmp:
            raise
        # the error names the temporary file (e.g. the path is a folder): name the file that was asked for
        raise type(exc)(exc.errno, exc.strerror, str(path)) from None


def suite_hash(spec: SuiteSpec, scenario_hashes: dict[str, str]) -> str:
    h = hashlib.sha256(spec.model_dump_json().encode())
    for sid in sorted(scenario_hashes):
        h.update(f"{sid}:{scenario_hashes[sid]}\n".encode())
    return h.hexdigest()


PROGRESS = ".progress.jsonl"  # an unfinished generation: the spec, then one line per saved scenario


class _Saved(BaseModel):
    """One scenario already written by an unfinished generation (a line of ``.progress.jsonl``)."""

    scenario_id: str
    hash: str
    days: int
    tasks: int
    dropped: int = 0
    families: dict[str, int] = Field(default_factory=dict)


@dataclass
class GenerationSummary:
    """What :func:`write_suite` saved: the manifest, plus counts the manifest does not keep."""

    manifest: SuiteManifest
    by_family: Counter[str]
    generated: int  # scenarios made by this call
    reused: int  # scenarios kept from an interrupted earlier call with the same spec


def _check_out_folder(out: Path) -> None:
    if out.exists() and not out.is_dir():
        raise ConfigError(f"{out} is a file, not a folder; choose another --out")
    if (out / MANIFEST).exists():
        raise ConfigError(f"{out} already holds a suite; choose another --out (or remove it)")
    if out.exists() and any(p.name != PROGRESS and p.name != "scenarios" for p in out.iterdir()):
        raise ConfigError(f"{out} already exists and is not empty; choose another --out (or remove it)")


def _resume(out: Path, spec: SuiteSpec) -> dict[str, _Saved]:
    """The scenarios an interrupted generation of the same spec saved intact (hash checked)."""
    progress = out / PROGRESS
    if not progress.exists():
        if (out / "scenarios").exists() and any((out / "scenarios").iterdir()):
            raise ConfigError(f"{out} already exists and is not empty; choose another --out (or remove it)")
        return {}
    lines = progress.read_text(encoding="utf-8", errors="replace").splitlines()
    try:
        earlier = SuiteSpec.model_validate_json(lines[0]) if lines else None
    except ValidationError:
        earlier = None
    if earlier != spec:
        raise ConfigError(f"{out} holds an unfinished generation of another spec; choose another --out, or "
                          "remove the folder to start again")
    kept: dict[str, _Saved] = {}
    for line in lines[1:]:
        try:
            saved = _Saved.model_validate_json(line)
        except ValidationError:
            continue  # the line being written when the process stopped
        file = out / "scenarios" / f"{saved.scenario_id}.json"
        with contextlib.suppress(OSError):
            if hashlib.sha256(file.read_bytes()).hexdigest() == saved.hash:
                kept[saved.scenario_id] = saved
    return kept


def write_suite(spec: SuiteSpec, out: Path, scenarios: Iterable[Scenario] | None = None, *,
                on_scenario: Callable[[int, int], None] | None = None) -> GenerationSummary:
    """Generate ``spec``'s scenarios (or save the given ones) into ``out``, one at a time.

    Each scenario is written as soon as it is made, so memory stays flat however large the suite, and
    ``.progress.jsonl`` records it. The manifest is written last: a folder without one is unfinished, and
    calling this again with the same spec and folder keeps the scenarios already saved intact and makes
    only the rest (another spec is refused). ``on_scenario(done, total)`` reports progress.
    """
    from firstday.suites.generate import generate_scenario

    out = Path(out)
    _check_out_folder(out)
    kept = _resume(out, spec) if scenarios is None else {}
    if scenarios is not None and out.exists() and any(out.glob("*")) and any(out.glob("scenarios/*")):
        raise ConfigError(f"{out} already exists and is not empty; choose another --out (or remove it)")
    out.mkdir(parents=True, exist_ok=True)
    progress = out / PROGRESS
    if not kept:
        atomic_write(progress, spec.model_dump_json() + "\n")
    saved: dict[str, _Saved] = dict(kept)
    total = spec.scenarios if scenarios is None else None
    source: Iterable[Scenario] = scenarios if scenarios is not None else (
        generate_scenario(spec, i) for i in range(spec.scenarios) if f"s{i:03d}" not in kept)
    generated = 0
    with open(progress, "a", encoding="utf-8") as log:
        for scn in source:
            text = scn.model_dump_json()
            atomic_write(out / "scenarios" / f"{scn.scenario_id}.json", text)
            tasks = [t for d in scn.days for t in d.tasks]
            entry = _Saved(scenario_id=scn.scenario_id, hash=hashlib.sha256(text.encode()).hexdigest(),
                           days=len(scn.days), tasks=len(tasks), dropped=sum(len(d.dropped) for d in scn.days),
                           families=dict(Counter(t.family for t in tasks)))
            log.write(entry.model_dump_json() + "\n")
            log.flush()
            saved[scn.scenario_id] = entry
            generated += 1
            if on_scenario is not None:
                on_scenario(len(saved), total or len(saved))
    by_family: Counter[str] = Counter()
    for entry in saved.values():
        by_family.update(entry.families)
    hashes = {sid: e.hash for sid, e in saved.items()}
    manifest = SuiteManifest(
        spec=spec,
        content_hash=suite_hash(spec, hashes),
        scenario_hashes=hashes,
        n_scenarios=len(saved),
        n_days=sum(e.days for e in saved.values()),
        n_tasks=sum(e.tasks for e in saved.values()),
        n_dropped=sum(e.dropped for e in saved.values()),
        firstday_version=__version__,
    )
    atomic_write(out / MANIFEST, manifest.model_dump_json(indent=1))
    progress.unlink()
    return GenerationSummary(manifest=manifest, by_family=by_family, generated=generated, reused=len(kept))


def save_suite(spec: SuiteSpec, scenarios: list[Scenario], out: Path, *, overwrite: bool = False) -> SuiteManifest:
    """Save scenarios already in memory (see :func:`write_suite` to generate and save in one pass)."""
    out = Path(out)
    if overwrite and (out / MANIFEST).exists():
        (out / MANIFEST).unlink()
        for old in (out / "scenarios").glob("*.json"):
            old.unlink()
    return write_suite(spec, out, scenarios).manifest


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

    def verify(self) -> None:
        """Check every scenario file against the manifest's content hash (read and hashed, not parsed: about a
        millisecond a file), so that a missing or damaged file is one error naming it before a run starts,
        not an error episode for each of its days."""
        for scenario_id in self.scenario_ids:
            file = self.path / "scenarios" / f"{scenario_id}.json"
            try:
                data = file.read_bytes()
            except FileNotFoundError:
                raise ConfigError(f"suite {self.path} is missing {file}; regenerate it with 'firstday generate'") \
                    from None
            if hashlib.sha256(data).hexdigest() != self.manifest.scenario_hashes[scenario_id]:
                raise ConfigError(f"{file} does not match the suite's content hash (modified or corrupted); "
                                  "regenerate the suite with 'firstday generate'")


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
