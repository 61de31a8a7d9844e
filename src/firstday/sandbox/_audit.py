"""The audit-hook runner: a CPython audit hook in the child refuses the obvious ways out with a clear message.

It is the friendly first line of every backend (the landlock bootstrap installs the same hook after the
kernel restriction) and the fallback where the kernel backend is not available. On its own it is **not a
security boundary**: pure Python can switch the hook off (see docs/code-runner.md and the conformance
suite in :mod:`firstday.sandbox._check`).
"""

from __future__ import annotations

from firstday.sandbox._base import RunResult, SandboxBackend, run_in_child
from firstday.sandbox._limits import Limits

#: resource limits of the audit runner, from its command line (the landlock bootstrap sets its own)
RLIMITS_FROM_ARGV = r'''
import os, sys, resource
_limit_s = int(sys.argv[1]); _mem = int(sys.argv[2])
resource.setrlimit(resource.RLIMIT_CPU, (_limit_s, _limit_s + 1))
resource.setrlimit(resource.RLIMIT_FSIZE, (int(sys.argv[3]), int(sys.argv[3])))
resource.setrlimit(resource.RLIMIT_NOFILE, (int(sys.argv[4]), int(sys.argv[4])))
try:
    resource.setrlimit(resource.RLIMIT_AS, (_mem, _mem))
except (ValueError, OSError):
    pass
del resource
'''

#: the audit hook itself; expects ``os`` and ``sys`` imported
HOOK = r'''
_root = os.path.realpath(os.getcwd() + "/..")
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
'''

#: read the agent's code from stdin (only now: after every restriction) and run it as ``__main__``
RUN_AGENT_CODE = r'''
_src = sys.stdin.read()
__name__ = "__main__"
exec(compile(_src, "<agent code>", "exec"), {"__name__": "__main__"})
'''

BOOTSTRAP = RLIMITS_FROM_ARGV + HOOK + RUN_AGENT_CODE


class AuditBackend(SandboxBackend):
    """``python -I`` guarded by a CPython audit hook: keeps honest code in its lane; not a boundary."""

    name = "audit"

    def available(self) -> str | None:
        return None

    def run(self, code: str, workspace: dict[str, str], shared: dict[str, tuple[str, bool]],
            limits: Limits) -> RunResult:
        args = [str(limits.cpu_seconds), str(limits.memory_bytes), str(limits.file_size_bytes),
                str(limits.open_files)]
        return run_in_child(self.name, BOOTSTRAP, lambda _root: args, code, workspace, shared, limits)
