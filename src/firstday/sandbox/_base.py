"""What every backend shares: the result, the interface, and the child's life cycle (copy in, run in its
own session with limits, kill the group at the timeout, copy back)."""

from __future__ import annotations

import base64
import contextlib
import os
import signal
import stat
import subprocess
import sys
import tempfile
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from firstday.sandbox._limits import MAX_COPYBACK_DEPTH, MAX_PATH_CHARS, Limits

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
    #: whether the sandbox was set up before the code was read (None: the backend gives no such signal). The
    #: child says so on a pipe it closes before reading the code, so the code cannot forge a failed start
    started: bool | None = None


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
                 workspace: dict[str, str], shared: dict[str, tuple[str, bool]], limits: Limits,
                 *, ready_signal: bool = False) -> RunResult:
    """Run ``program`` (a bootstrap that reads the agent's code from stdin) in a fresh ``python -I`` in a new
    session, its working directory the copied workspace; ``args(root)`` gives its arguments once the
    temporary directory ``root`` exists. At the timeout the whole process group is killed. With
    ``ready_signal``, the last argument is the number of a pipe the bootstrap writes one byte to, and closes,
    once its sandbox is set up: ``RunResult.started`` says whether that byte came."""
    with tempfile.TemporaryDirectory(prefix="firstday-run-") as tmp:
        root = Path(tmp)
        ws = _populate(root, workspace, shared)
        ws_identity = os.lstat(ws)  # the code may replace the folder (e.g. by a symlink): copy back only this one
        boot = root / ".boot.py"
        boot.write_text(program, encoding="utf-8")
        env = {"PATH": "/usr/bin:/bin", "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1",
               "MPLBACKEND": "Agg", "HOME": str(root), "TMPDIR": str(root)}
        argv = [sys.executable, "-I", str(boot), *args(root)]
        ready_read, ready_write = os.pipe() if ready_signal else (-1, -1)
        if ready_signal:
            argv.append(str(ready_write))
        # a new session: the child and anything it might start form one process group, killed as a whole.
        # Output goes to unnamed files, not pipes: RLIMIT_FSIZE caps what the child can write there, and the
        # parent reads back only the first characters, so a flood of prints costs neither memory nor time.
        with tempfile.TemporaryFile() as out_file, tempfile.TemporaryFile() as err_file:
            try:
                proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=out_file, stderr=err_file, cwd=ws,
                                        env=env, start_new_session=True,
                                        pass_fds=(ready_write,) if ready_signal else ())
            finally:
                if ready_signal:
                    os.close(ready_write)  # the child's copy is the only writer left
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
        started: bool | None = None
        if ready_signal:
            try:  # the child has exited and its group is gone: no writer is left, so this cannot block
                started = os.read(ready_read, 1) == b"1"
            finally:
                os.close(ready_read)
        output = out + (("\n" + err) if err else "")
        if timed_out:
            result = RunResult(exit_code=None, output=out + f"\n[timed out after {limits.timeout_s:g} s]",
                               timed_out=True, sandbox=backend, started=started)
        elif proc.returncode in (-signal.SIGXCPU, -signal.SIGKILL):
            # the CPU-time limit ended it (a busy loop can hit it before the wall-clock limit)
            result = RunResult(exit_code=None, timed_out=True, sandbox=backend, started=started,
                               output=output + f"\n[timed out: CPU time limit of {limits.cpu_seconds} s exceeded]")
        else:
            result = RunResult(exit_code=proc.returncode, output=output, sandbox=backend, started=started)
        result.output = result.output.replace(str(root), "").strip()
        if len(result.output) > limits.max_output_chars:
            result.output = (result.output[:limits.max_output_chars]
                             + f"\n[output truncated at {limits.max_output_chars} characters]")
        _copy_back(ws, ws_identity, workspace, limits, result)
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


def _copy_back(ws: Path, identity: os.stat_result, before: dict[str, str], limits: Limits,
               result: RunResult) -> None:
    """New or changed regular UTF-8 files under ``ws`` into ``result.written``; everything else is listed in
    ``result.refused`` with the reason. Names the drive could not hold are refused, never passed on.

    The code controls this folder, so the walk trusts nothing in it: the folder must still be the one created
    (not a symlink the code put in its place, which would make this process read wherever it points), the
    walk goes by directory descriptors without following symlinks, and each file is opened with O_NOFOLLOW
    and checked on its descriptor (a regular file, small enough) before it is read."""
    try:
        now = os.lstat(ws)
    except FileNotFoundError:
        return  # the code removed its workspace: nothing to copy back
    if not stat.S_ISDIR(now.st_mode) or not os.path.samestat(now, identity):
        result.refused.append("workspace (replaced by the code: nothing copied back)")
        return
    for dirpath, dirnames, filenames, dirfd in os.fwalk(ws, follow_symlinks=False):
        here = Path(dirpath).relative_to(ws)
        # prune before descending: the walk holds a descriptor per level, and deeper paths are refused anyway
        for name in list(dirnames):
            rel = (here / name).as_posix()
            if len(here.parts) + 1 > MAX_COPYBACK_DEPTH or len("/workspace/" + rel) > MAX_PATH_CHARS:
                dirnames.remove(name)
                result.refused.append(f"{_display(rel)}/ (nested too deep: not copied back)")
        for name in sorted(filenames):
            rel = (here / name).as_posix()
            shown = _display(rel)
            try:
                st = os.stat(name, dir_fd=dirfd, follow_symlinks=False)
            except OSError:
                continue
            if stat.S_ISLNK(st.st_mode):
                result.refused.append(f"{shown} (symlink)")
                continue
            if not stat.S_ISREG(st.st_mode):  # a FIFO or other special file: never opened (it could block)
                result.refused.append(f"{shown} (not a regular file)")
                continue
            problem = _name_problem(rel)
            if problem is not None:
                result.refused.append(f"{shown} ({problem})")
                continue
            try:
                data = _read_regular(name, dirfd, limits.max_copyback_bytes)
                text = data.decode("utf-8")
            except _Refused as exc:
                result.refused.append(f"{rel} ({exc})")
                continue
            except UnicodeDecodeError:
                result.refused.append(f"{rel} (not UTF-8 text)")
                continue
            if before.get(rel) != text:
                if len(result.written) >= limits.max_copyback_files:
                    result.refused.append(f"{rel} (more than {limits.max_copyback_files} files written)")
                    continue
                result.written[rel] = text


class _Refused(Exception):
    """A file that is not copied back; the message says why."""


def _read_regular(name: str, dirfd: int, max_bytes: int) -> bytes:
    """The bytes of a regular file, opened without following a symlink and checked on its descriptor."""
    try:
        fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC, dir_fd=dirfd)
    except OSError as exc:
        raise _Refused(f"cannot be opened: {exc.strerror}") from None
    with os.fdopen(fd, "rb") as f:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise _Refused("not a regular file")
        data = f.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise _Refused(f"larger than {max_bytes} bytes")
    return data
