"""The restricted code runner behind the ``run_python`` tool.

Isolation, stated honestly:

* the code runs in a separate Python process (``python -I``) with an empty environment, a wall-clock
  timeout, and resource limits on CPU time, address space and file size;
* it works in a fresh temporary directory holding a *copy* of the trainee's workspace (``workspace/``)
  and of the shared files it can currently see (``shared/``); only regular files written under
  ``workspace/`` are copied back (symlinks and oversized files are refused);
* a Python audit hook, installed before the code runs, refuses opening or listing files outside the
  temporary directory and the Python installation, starting processes, opening sockets and loading
  native code through ctypes.

This keeps honest agents in their lane and makes the obvious escapes fail with a clear message. It is
not a security boundary against hostile native code: audit hooks are documented by CPython as not
suitable for sandboxing. Run untrusted agents inside a container or VM if that matters to you.
"""

from __future__ import annotations

import base64
import math
import os
import signal
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

MAX_OUTPUT = 10_000
MAX_COPYBACK_BYTES = 1_000_000

_BOOTSTRAP = r'''
import os, sys, resource
_root = os.path.realpath(os.getcwd() + "/..")
_limit_s = int(sys.argv[1]); _mem = int(sys.argv[2])
resource.setrlimit(resource.RLIMIT_CPU, (_limit_s, _limit_s + 1))
resource.setrlimit(resource.RLIMIT_FSIZE, (5_000_000, 5_000_000))
try:
    resource.setrlimit(resource.RLIMIT_AS, (_mem, _mem))
except (ValueError, OSError):
    pass
_read_ok = tuple({os.path.realpath(p) for p in (
    sys.prefix, sys.base_prefix, sys.exec_prefix, *sys.path) if p}) + (
    "/usr/lib", "/usr/local/lib", "/usr/share/zoneinfo", "/etc/localtime", "/dev/null", "/dev/urandom",
    "/proc/self", "/sys/devices/system/cpu", "/proc/cpuinfo", "/proc/meminfo")
def _inside(path, roots):
    try:
        real = os.path.realpath(path if isinstance(path, str) else os.fsdecode(path))
    except Exception:
        return False
    return any(real == r or real.startswith(r.rstrip("/") + "/") for r in roots)
_blocked = ("subprocess.Popen", "os.system", "os.exec", "os.posix_spawn", "os.spawn", "os.fork",
            "socket.connect", "socket.bind", "socket.getaddrinfo", "ctypes.dlopen", "ctypes.dlsym",
            "ctypes.call_function", "os.kill", "os.chroot", "pty.spawn")
def _hook(event, args):
    if event == "import" and args and args[0] in ("_posixsubprocess", "_ctypes"):
        raise PermissionError(f"firstday code runner: importing {args[0]} again is not allowed here")
    if event.startswith(_blocked):
        raise PermissionError(f"firstday code runner: {event} is not allowed here")
    if event == "open" and args and args[0] is not None and not isinstance(args[0], int):
        path, mode = args[0], (args[1] or "r")
        writing = any(c in str(mode) for c in "wax+")
        if isinstance(args[2], int) and args[2] & (os.O_WRONLY | os.O_RDWR | os.O_CREAT):
            writing = True
        if _inside(path, (_root,)):
            return
        if writing or not _inside(path, _read_ok):
            raise PermissionError(f"firstday code runner: access to {path!r} is outside the sandbox")
    elif event in ("os.listdir", "os.scandir", "os.chdir", "os.symlink", "os.link", "os.rename",
                   "os.remove", "os.rmdir", "os.mkdir", "shutil.rmtree", "os.chmod", "os.chown"):
        for a in args[:2]:
            if isinstance(a, (str, bytes)) and not _inside(a, (_root,)) and not (
                    event in ("os.listdir", "os.scandir") and _inside(a, _read_ok)):
                raise PermissionError(f"firstday code runner: {event} on {a!r} is outside the sandbox")
try:
    import ctypes  # numpy imports ctypes, whose import dlopens libpython: load it before dlopen is refused
except ImportError:
    pass
# _posixsubprocess.fork_exec starts processes without an audit event: disarm it (pandas imports subprocess,
# so the module itself must stay importable) and refuse fresh imports of it below
import subprocess, _posixsubprocess
def _no_fork_exec(*_a, **_k):
    raise PermissionError("firstday code runner: starting processes is not allowed here")
_posixsubprocess.fork_exec = _no_fork_exec
del subprocess
sys.addaudithook(_hook)
del resource
_src = sys.stdin.read()
__name__ = "__main__"
exec(compile(_src, "<agent code>", "exec"), {"__name__": "__main__"})
'''


@dataclass
class RunResult:
    exit_code: int | None
    output: str
    timed_out: bool = False
    written: dict[str, str] = field(default_factory=dict)
    refused: list[str] = field(default_factory=list)


def run_code(
    code: str,
    workspace: dict[str, str],
    shared: dict[str, tuple[str, bool]],
    *,
    timeout_s: float = 10.0,
    memory_bytes: int = 2_000_000_000,
) -> RunResult:
    """Run ``code``; ``workspace`` maps relative paths to text, ``shared`` to (content, is_base64)."""
    with tempfile.TemporaryDirectory(prefix="firstday-run-") as tmp:
        root = Path(tmp)
        ws, sh = root / "workspace", root / "shared"
        ws.mkdir()
        sh.mkdir()
        before: dict[str, str] = {}
        for rel, text in workspace.items():
            p = ws / rel
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_text(text, encoding="utf-8")
            before[rel] = text
        for rel, (content, b64) in shared.items():
            p = sh / rel
            p.parent.mkdir(parents=True, exist_ok=True)
            if b64:
                p.write_bytes(base64.b64decode(content))
            else:
                p.write_text(content, encoding="utf-8")
        boot = root / ".boot.py"
        boot.write_text(_BOOTSTRAP, encoding="utf-8")
        env = {"PATH": "/usr/bin:/bin", "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1",
               "MPLBACKEND": "Agg", "HOME": str(root)}
        limit = max(1, math.ceil(timeout_s))
        try:
            proc = subprocess.run(
                [sys.executable, "-I", str(boot), str(limit), str(memory_bytes)],
                input=code, capture_output=True, text=True, cwd=ws, env=env, timeout=timeout_s + 2,
            )
            output = proc.stdout + (("\n" + proc.stderr) if proc.stderr else "")
            if proc.returncode in (-signal.SIGXCPU, -signal.SIGKILL):
                # the CPU-time limit ended it (a busy loop can hit it before the wall-clock limit)
                result = RunResult(exit_code=None, timed_out=True,
                                   output=output + f"\n[timed out: CPU time limit of {limit} s exceeded]")
            else:
                result = RunResult(exit_code=proc.returncode, output=output)
        except subprocess.TimeoutExpired as exc:
            out = exc.stdout.decode(errors="replace") if isinstance(exc.stdout, bytes) else (exc.stdout or "")
            result = RunResult(exit_code=None, output=out + f"\n[timed out after {timeout_s:g} s]",
                               timed_out=True)
        result.output = result.output.replace(str(root), "").strip()
        if len(result.output) > MAX_OUTPUT:
            result.output = result.output[:MAX_OUTPUT] + f"\n[output truncated at {MAX_OUTPUT} characters]"
        for dirpath, dirnames, filenames in os.walk(ws, followlinks=False):
            for name in filenames + dirnames:
                p = Path(dirpath) / name
                rel = p.relative_to(ws).as_posix()
                if p.is_symlink():
                    result.refused.append(f"{rel} (symlink)")
                    continue
                if p.is_dir():
                    continue
                if p.stat().st_size > MAX_COPYBACK_BYTES:
                    result.refused.append(f"{rel} (larger than {MAX_COPYBACK_BYTES} bytes)")
                    continue
                try:
                    text = p.read_text(encoding="utf-8")
                except UnicodeDecodeError:
                    result.refused.append(f"{rel} (not UTF-8 text)")
                    continue
                if before.get(rel) != text:
                    result.written[rel] = text
        return result
