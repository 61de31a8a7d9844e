"""What every backend shares: the result, the interface, and the child's life cycle (copy in, run in its
own session with limits, kill the group at the timeout, copy back)."""

from __future__ import annotations

import base64
import contextlib
import os
import signal
import subprocess
import sys
import tempfile
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from firstday.sandbox._limits import MAX_PATH_CHARS, Limits

#: the landlock bootstrap exits with this code when a step of the restriction failed (nothing ran)
RESTRICTION_FAILED_EXIT = 97


@dataclass
class RunResult:
    exit_code: int | None
    output: str
    timed_out: bool = False
    written: dict[str, str] = field(default_factory=dict)
    refused: list[str] = field(default_factory=list)
    #: the backend that really ran the code ("landlock" or "audit")
    sandbox: str = ""


class SandboxBackend(ABC):
    """A way to run agent code over a copy of its files."""

    name: str

    @abstractmethod
    def available(self) -> str | None:
        """None when this backend can run here; otherwise why it cannot (one sentence)."""

    @abstractmethod
    def run(self, code: str, workspace: dict[str, str], shared: dict[str, tuple[str, bool]],
            limits: Limits) -> RunResult:
        """Run ``code``; ``workspace`` maps relative paths to text, ``shared`` to (content, is_base64)."""


def _inside(folder: Path, rel: str) -> Path:
    """``folder / rel``, refusing a relative path that would leave ``folder`` (the drive never makes one)."""
    p = folder / rel
    if rel.startswith("/") or ".." in Path(rel).parts or not p.resolve().is_relative_to(folder.resolve()):
        raise ValueError(f"refusing to copy {rel!r}: not a path inside the copy")
    return p


def _populate(root: Path, workspace: dict[str, str], shared: dict[str, tuple[str, bool]]) -> Path:
    ws, sh = root / "workspace", root / "shared"
    ws.mkdir()
    sh.mkdir()
    for rel, text in workspace.items():
        p = _inside(ws, rel)
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text, encoding="utf-8")
    for rel, (content, b64) in shared.items():
        p = _inside(sh, rel)
        p.parent.mkdir(parents=True, exist_ok=True)
        if b64:
            p.write_bytes(base64.b64decode(content))
        else:
            p.write_text(content, encoding="utf-8")
    return ws


def _kill_group(pgid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):  # the group is gone already
        os.killpg(pgid, signal.SIGKILL)


def _head(file: IO[bytes], max_chars: int) -> str:
    """The start of a captured output file: enough characters to fill ``max_chars`` and show it was cut."""
    file.seek(0)
    return file.read(4 * max_chars + 4).decode("utf-8", errors="replace")


def run_in_child(backend: str, program: str, args: Callable[[Path], list[str]], code: str,
                 workspace: dict[str, str], shared: dict[str, tuple[str, bool]], limits: Limits) -> RunResult:
    """Run ``program`` (a bootstrap that reads the agent's code from stdin) in a fresh ``python -I`` in a new
    session, its working directory the copied workspace; ``args(root)`` gives its arguments once the
    temporary directory ``root`` exists. At the timeout the whole process group is killed."""
    with tempfile.TemporaryDirectory(prefix="firstday-run-") as tmp:
        root = Path(tmp)
        ws = _populate(root, workspace, shared)
        boot = root / ".boot.py"
        boot.write_text(program, encoding="utf-8")
        env = {"PATH": "/usr/bin:/bin", "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1",
               "MPLBACKEND": "Agg", "HOME": str(root), "TMPDIR": str(root)}
        argv = [sys.executable, "-I", str(boot), *args(root)]
        # a new session: the child and anything it might start form one process group, killed as a whole.
        # Output goes to unnamed files, not pipes: RLIMIT_FSIZE caps what the child can write there, and the
        # parent reads back only the first characters, so a flood of prints costs neither memory nor time.
        with tempfile.TemporaryFile() as out_file, tempfile.TemporaryFile() as err_file:
            proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=out_file, stderr=err_file, cwd=ws, env=env,
                                    start_new_session=True)
            try:
                proc.communicate(code.encode("utf-8", errors="surrogateescape"),
                                 timeout=limits.timeout_s + limits.grace_s)
                timed_out = False
            except subprocess.TimeoutExpired:
                _kill_group(proc.pid)
                proc.kill()  # the child itself, should it have left its group
                proc.wait()
                timed_out = True
            finally:
                _kill_group(proc.pid)  # leftovers of the group (only possible where processes can be started)
            out, err = (_head(f, limits.max_output_chars) for f in (out_file, err_file))
        output = out + (("\n" + err) if err else "")
        if timed_out:
            result = RunResult(exit_code=None, output=out + f"\n[timed out after {limits.timeout_s:g} s]",
                               timed_out=True, sandbox=backend)
        elif proc.returncode in (-signal.SIGXCPU, -signal.SIGKILL):
            # the CPU-time limit ended it (a busy loop can hit it before the wall-clock limit)
            result = RunResult(exit_code=None, timed_out=True, sandbox=backend,
                               output=output + f"\n[timed out: CPU time limit of {limits.cpu_seconds} s exceeded]")
        else:
            result = RunResult(exit_code=proc.returncode, output=output, sandbox=backend)
        result.output = result.output.replace(str(root), "").strip()
        if len(result.output) > limits.max_output_chars:
            result.output = (result.output[:limits.max_output_chars]
                             + f"\n[output truncated at {limits.max_output_chars} characters]")
        _copy_back(ws, workspace, limits, result)
        return result


def _display(rel: str) -> str:
    """A path as the agent may see it: undecodable bytes replaced (a lone surrogate cannot be saved as JSON),
    control characters shown as '?'."""
    text = rel.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    return "".join("?" if ord(c) < 32 or ord(c) == 127 else c for c in text)


def _name_problem(rel: str) -> str | None:
    """Why a file name cannot become a drive path, or None."""
    try:
        rel.encode("utf-8")
    except UnicodeEncodeError:
        return "file name is not UTF-8"
    if any(ord(c) < 32 or ord(c) == 127 for c in rel) or "\\" in rel:
        return "control character or backslash in the file name"
    if len("/workspace/" + rel) > MAX_PATH_CHARS:
        return f"path longer than {MAX_PATH_CHARS} characters"
    return None


def _copy_back(ws: Path, before: dict[str, str], limits: Limits, result: RunResult) -> None:
    """New or changed regular UTF-8 files under ``ws`` into ``result.written``; everything else is listed in
    ``result.refused`` with the reason. Names the drive could not hold are refused, never passed on."""
    for dirpath, dirnames, filenames in os.walk(ws, followlinks=False):
        for name in sorted(filenames + dirnames):
            p = Path(dirpath) / name
            rel = p.relative_to(ws).as_posix()
            shown = _display(rel)
            if p.is_symlink():
                result.refused.append(f"{shown} (symlink)")
                continue
            if p.is_dir():
                continue
            if not p.is_file():  # a FIFO or other special file: never opened (it could block)
                result.refused.append(f"{shown} (not a regular file)")
                continue
            problem = _name_problem(rel)
            if problem is not None:
                result.refused.append(f"{shown} ({problem})")
                continue
            if p.stat().st_size > limits.max_copyback_bytes:
                result.refused.append(f"{rel} (larger than {limits.max_copyback_bytes} bytes)")
                continue
            try:
                text = p.read_text(encoding="utf-8")
            except UnicodeDecodeError:
                result.refused.append(f"{rel} (not UTF-8 text)")
                continue
            if before.get(rel) != text:
                if len(result.written) >= limits.max_copyback_files:
                    result.refused.append(f"{rel} (more than {limits.max_copyback_files} files written)")
                    continue
                result.written[rel] = text
