"""A conformance suite shipped with the package (like Gymnasium's ``check_env``): named escape attempts that
every backend is run against, each with its expected outcome, and a report of which were refused.

Most attempts run twice: as written (the audit hook, the friendly first line, refuses most of them) and
``<name>/hook-off``, after switching the hook off the way hostile code can (patching the bootstrap's globals
through ``sys.modules['__main__']``), so that they test the *last* line of defence. The kernel backend must
refuse every one; the audit runner's known gaps are reported as expected escapes. Whether an attempt
escaped is decided by evidence the code cannot fake without escaping: a random secret appearing in its
output, a connection reaching the check's listener, a file appearing outside the copy, or a marker that
only a successful call prints.
"""

from __future__ import annotations

import secrets
import shutil
import socket
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal

from rich import box
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from firstday.sandbox._base import RunResult, SandboxBackend
from firstday.sandbox._limits import Limits

Outcome = Literal["refused", "escapes"]

#: switches the audit hook off from pure Python (escape 1 of the original report); no effect elsewhere
DISARM_AUDIT_HOOK = '''
import sys as _sys
_main = _sys.modules.get("__main__")
if _main is not None and hasattr(_main, "_blocked"):
    _main._blocked = ("firstday-check-disarmed",)
    _main._inside = lambda *_a: True
'''

#: escape 2 of the original report: a symlink in the workspace makes a path look inside the copy to the
#: hook (resolved from the working directory) while the kernel resolves it from a directory fd elsewhere
DIR_FD_READ = '''
import os
_base = os.path.dirname(os.__file__)  # the standard library: readable, and it has a "json" subdirectory
_depth = len([p for p in _base.split("/") if p]) + 1
_deep = "/".join(["d"] * _depth)
os.makedirs(_deep, exist_ok=True)
os.symlink(_deep, "json")
_rel = "json/" + "../" * _depth + {secret!r}.lstrip("/")
_dfd = os.open(_base, os.O_RDONLY)
try:
    _fd = os.open(_rel, os.O_RDONLY, dir_fd=_dfd)
    print("content:", os.read(_fd, 200).decode())
except OSError as exc:
    print("refused:", exc)
'''


@dataclass(frozen=True)
class Attempt:
    """One escape attempt. ``code`` is formatted with ``secret``, ``outside``, ``home``, ``port``,
    ``udp_port`` and ``unix_path``; it prints ``ESCAPED:<name>`` only when the forbidden action succeeded.
    ``disarm``: run it after switching the audit hook off (:data:`DISARM_AUDIT_HOOK`)."""

    def applies_to(self, backend: str) -> bool:
        return backend not in self.skip

    name: str
    description: str
    code: str
    disarm: bool = True
    expected: dict[str, Outcome] = field(default_factory=dict)
    #: backends the attempt does not apply to (it is left out of their check)
    skip: tuple[str, ...] = ()
    #: the listener whose being reached counts as evidence ("tcp-connect", "udp-socket", "unix-socket-path");
    #: by default the one named like the attempt
    reaches: str = ""

    def expected_for(self, backend: str) -> Outcome:
        return self.expected.get(backend, "refused")


HOOK_OFF = "/hook-off"


#: the sealed agent process (``firstday.sandbox.agent_process``), checked as a backend of its own
AGENT_PROCESS = "agent-process"
#: attempts that start a process and count that as the escape: an agent process may start processes (its
#: children inherit the seal, which the ``child-*`` attempts check), so they do not apply to it
_STARTS_PROCESSES = (AGENT_PROCESS,)


def _attempt(name: str, description: str, code: str, *, disarm: bool = True, audit: Outcome = "refused",
             skip: tuple[str, ...] = (), reaches: str = "") -> list[Attempt]:
    """The attempt as written (``audit``: what the audit runner does with it) and, unless it handles the
    hook itself (``disarm=False``), the same after switching the audit hook off (``<name>/hook-off``: the
    audit runner lets every such one through; left out for the agent process, which has no audit hook)."""
    plain = Attempt(name=name, description=description, code=code, disarm=False, expected={"audit": audit},
                    skip=skip, reaches=reaches)
    if not disarm:
        return [plain]
    return [plain, Attempt(name=name + HOOK_OFF, description=description + ", with the audit hook switched off",
                           code=code, disarm=True, expected={"audit": "escapes"}, skip=(*skip, AGENT_PROCESS),
                           reaches=reaches)]


def conformance_attempts(backend: str | None = None) -> list[Attempt]:
    """The attempts, in the order they run (those that apply to ``backend``, when given)."""
    return [a for group in _ATTEMPTS for a in group if backend is None or a.applies_to(backend)]


_ATTEMPTS: list[list[Attempt]] = [
    _attempt("read-outside-file", "read a secret file by absolute path outside the copy",
             "print(open({secret!r}).read())"),
    _attempt("proc-parent-cmdline", "read /proc/<parent pid>/cmdline",
             "import os\ndata = open(f'/proc/{{os.getppid()}}/cmdline', 'rb').read()\n"
             "print('ESCAPED:proc-parent-cmdline' if data else 'empty')"),
    _attempt("proc-parent-environ", "read /proc/<parent pid>/environ",
             "import os\ndata = open(f'/proc/{{os.getppid()}}/environ', 'rb').read()\n"
             "print('ESCAPED:proc-parent-environ' if data else 'empty')"),
    _attempt("etc-passwd", "read /etc/passwd",
             "data = open('/etc/passwd').read()\nprint('ESCAPED:etc-passwd' if data else 'empty')"),
    _attempt("home-directory", "list the home directory of the user running firstday",
             "import os\nos.listdir({home!r})\nprint('ESCAPED:home-directory')"),
    _attempt("dotdot-out-of-workspace", "climb out of the workspace with ../",
             "print(open('../' * 40 + {secret!r}.lstrip('/')).read())"),
    _attempt("symlink-open", "a symlink in the workspace pointing outside, opened with open()",
             "import os\nos.symlink({secret!r}, 'link')\nprint(open('link').read())"),
    _attempt("symlink-dir-fd", "a symlink in the workspace plus os.open(..., dir_fd=...) (audit escape 2)",
             DIR_FD_READ, disarm=False, audit="escapes"),
    _attempt("hook-patch-then-system", "patch the bootstrap's globals via sys.modules['__main__'] "
             "(audit escape 1), then os.system", DISARM_AUDIT_HOOK
             + "import os\nos.system(\"echo ESC''APED:hook-patch-then-system\")", disarm=False, audit="escapes",
             skip=_STARTS_PROCESSES),
    _attempt("dir-fd-then-system", "audit escape 2, then os.system",
             DIR_FD_READ + "os.system(\"echo ESC''APED:dir-fd-then-system\")", disarm=False,
             audit="escapes", skip=_STARTS_PROCESSES),
    _attempt("subprocess-run", "subprocess.run a shell command",
             "import subprocess\nsubprocess.run(['/bin/sh', '-c', \"echo ESC''APED:subprocess-run\"])",
             skip=_STARTS_PROCESSES),
    _attempt("fork-bomb", "os.fork in a loop (bounded here: 20 forks, each child exits at once)",
             "import os\ncreated = 0\nfor _ in range(20):\n    try:\n        pid = os.fork()\n"
             "    except OSError:\n        break\n    if pid == 0:\n        os._exit(0)\n"
             "    os.waitpid(pid, 0)\n    created += 1\nprint('ESCAPED:fork-bomb' if created else 'no process')",
             skip=_STARTS_PROCESSES),
    _attempt("tcp-connect", "TCP connect to a port the check listens on at 127.0.0.1",
             "import socket\ns = socket.create_connection(('127.0.0.1', {port}), timeout=2)\n"
             "print('ESCAPED:tcp-connect')"),
    _attempt("tcp-bind", "bind and listen on a TCP port",
             "import socket\ns = socket.socket()\ns.bind(('127.0.0.1', 0))\ns.listen()\nprint('ESCAPED:tcp-bind')"),
    _attempt("udp-socket", "open a UDP socket and send to a port the check listens on",
             "import socket\ns = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
             "s.sendto(b'x', ('127.0.0.1', {udp_port}))\nprint('ESCAPED:udp-socket')",
             audit="escapes"),  # the hook sees connect and bind, not socket creation or sendto
    _attempt("unix-socket-path", "connect an AF_UNIX socket to a path the check listens on",
             "import socket\ns = socket.socket(socket.AF_UNIX)\ns.connect({unix_path!r})\n"
             "print('ESCAPED:unix-socket-path')"),
    _attempt("signal-parent", "os.kill(os.getppid(), 0): signal a process outside the sandbox",
             "import os\nos.kill(os.getppid(), 0)\nprint('ESCAPED:signal-parent')"),
    _attempt("ctypes-raw-syscalls", "libc.syscall: openat on the secret, a UDP socket, kill of the parent",
             "import ctypes, os, platform\nlibc = ctypes.CDLL(None, use_errno=True)\n"
             "nr = {{'x86_64': (257, 41, 62), 'aarch64': (56, 198, 129)}}[platform.machine()]\n"
             "fd = libc.syscall(nr[0], -100, {secret!r}.encode(), os.O_RDONLY, 0)\n"
             "if fd >= 0:\n    print(os.read(fd, 200).decode())\n"
             "if libc.syscall(nr[1], 2, 2, 0) >= 0:\n    print('ESCAPED:ctypes-raw-syscalls socket')\n"
             "if libc.syscall(nr[2], os.getppid(), 0) == 0:\n    print('ESCAPED:ctypes-raw-syscalls kill')"),
    _attempt("parent-rlimit", "prlimit64 on the parent (set to its current core-size limit: no change if it escapes)",
             "import ctypes, os\nlibc = ctypes.CDLL(None, use_errno=True)\n"
             "nr = {{'x86_64': 302, 'aarch64': 261}}[os.uname().machine]\ncur = (ctypes.c_uint64 * 2)()\n"
             "ppid = os.getppid()\n"
             "if libc.syscall(nr, ppid, 4, None, cur) == 0 and libc.syscall(nr, ppid, 4, cur, None) == 0:\n"
             "    print('ESCAPED:parent-rlimit')"),
    _attempt("pidfd-signal-parent", "pidfd_open on the parent, then pidfd_send_signal (signal 0)",
             "import ctypes, os\nlibc = ctypes.CDLL(None, use_errno=True)\nfd = libc.syscall(434, os.getppid(), 0)\n"
             "if fd >= 0 and libc.syscall(424, fd, 0, None, 0) == 0:\n    print('ESCAPED:pidfd-signal-parent')"),
    _attempt("parent-memory", "process_vm_readv: read 16 bytes of the parent's memory",
             "import ctypes, os\nlibc = ctypes.CDLL(None, use_errno=True)\n"
             "try:\n    addr = int(open(f'/proc/{{os.getppid()}}/maps').readline().split('-')[0], 16)\n"
             "except OSError:\n    addr = 0x400000\n"
             "class Iovec(ctypes.Structure):\n    _fields_ = [('base', ctypes.c_void_p), ('len', ctypes.c_size_t)]\n"
             "buf = ctypes.create_string_buffer(16)\n"
             "local, remote = Iovec(ctypes.cast(buf, ctypes.c_void_p), 16), Iovec(addr, 16)\n"
             "nr = {{'x86_64': 310, 'aarch64': 270}}[os.uname().machine]\n"
             "if libc.syscall(nr, os.getppid(), ctypes.byref(local), 1, ctypes.byref(remote), 1, 0) > 0:\n"
             "    print('ESCAPED:parent-memory')"),
    _attempt("chmod-outside", "chmod and utime on the secret (to its current mode and times: no change if it escapes)",
             "import os\nst = os.stat({secret!r})\nos.chmod({secret!r}, st.st_mode & 0o7777)\n"
             "os.utime({secret!r}, ns=(st.st_atime_ns, st.st_mtime_ns))\nprint('ESCAPED:chmod-outside')"),
    _attempt("write-outside", "write a file outside the copy",
             "open({outside!r}, 'w').write('x')\nprint('ESCAPED:write-outside')"),
    # what an agent process may do (start processes, open TCP sockets) must not widen its reach
    _attempt("child-reads-secret", "start a Python child process that reads the secret",
             "import subprocess, sys\n"
             "r = subprocess.run([sys.executable, '-I', '-c', \"print(open({secret!r}).read())\"], "
             "capture_output=True, text=True)\nprint(r.stdout, r.stderr[-200:])"),
    _attempt("child-tcp-connect", "start a Python child process that connects to the check's TCP port",
             "import subprocess, sys\n"
             "code = \"import socket; socket.create_connection(('127.0.0.1', {port}), timeout=2); "
             "print('ESC' + 'APED:child-tcp-connect')\"\n"
             "r = subprocess.run([sys.executable, '-I', '-c', code], capture_output=True, text=True)\n"
             "print(r.stdout, r.stderr[-200:])", reaches="tcp-connect"),
    _attempt("setsid-leave-group", "a forked child calls setsid() to leave the process group killed at the end",
             "import os\nr, w = os.pipe()\npid = os.fork()\nif pid == 0:\n    try:\n        os.setsid()\n"
             "        os.write(w, b'left')\n    except OSError as exc:\n        os.write(w, str(exc).encode())\n"
             "    os._exit(0)\nos.close(w)\nos.waitpid(pid, 0)\nsaid = os.read(r, 200).decode()\n"
             "print('ESC' + 'APED:setsid-leave-group' if said == 'left' else 'refused: ' + said)"),
    _attempt("tcp-fastopen", "TCP Fast Open: sendto(MSG_FASTOPEN) to the check's port (connects without connect())",
             "import socket\ns = socket.socket()\ns.sendto(b'x', socket.MSG_FASTOPEN, ('127.0.0.1', {port}))\n"
             "print('ESC' + 'APED:tcp-fastopen')", reaches="tcp-connect",
             audit="escapes"),  # the hook sees neither socket creation nor sendto
    _attempt("listen-port", "listen() on an unbound TCP socket (the kernel picks a port without bind)",
             "import socket\ns = socket.socket()\ns.listen()\nprint('ESC' + 'APED:listen-port')",
             audit="escapes"),  # the hook sees bind, not listen
    _attempt("ptrace-parent", "ptrace(PTRACE_SEIZE) the parent (attaches without stopping it)",
             "import ctypes, os\nlibc = ctypes.CDLL(None, use_errno=True)\n"
             "nr = {{'x86_64': 101, 'aarch64': 117}}[os.uname().machine]\n"
             "if libc.syscall(nr, 0x4206, os.getppid(), 0, 0) == 0:\n    print('ESC' + 'APED:ptrace-parent')"),
]


#: an attempt killed by the wall-clock limit without evidence is run again with this many times the limit, up to
#: SLOW_RETRIES times: on a loaded machine a slow start must not pass for a refusal (nor hide an escape)
SLOW_FACTOR = 4.0
SLOW_RETRIES = 2


@dataclass(frozen=True)
class AttemptResult:
    name: str
    description: str
    refused: bool
    expected: Outcome
    evidence: str  # why it counts as escaped, or the end of the output when refused
    #: killed by the wall-clock limit at every try without any evidence: neither refused nor escaped, unknown
    timed_out: bool = False

    @property
    def as_expected(self) -> bool:
        return not self.timed_out and self.refused == (self.expected == "refused")


@dataclass(frozen=True)
class CheckReport:
    backend: str
    results: list[AttemptResult]

    @property
    def all_refused(self) -> bool:
        return all(r.refused for r in self.results)

    @property
    def as_expected(self) -> bool:
        return all(r.as_expected for r in self.results)

    @property
    def escaped(self) -> list[str]:
        return [r.name for r in self.results if not r.refused]

    @property
    def timed_out(self) -> list[str]:
        return [r.name for r in self.results if r.timed_out]


class _Listeners:
    """A TCP and a UDP port on 127.0.0.1 and an AF_UNIX path. No thread: a completed connection waits in
    the accept queue (a datagram in the buffer) until :meth:`reached` looks, even after the client is gone."""

    def __init__(self, workdir: Path) -> None:
        self.tcp = socket.create_server(("127.0.0.1", 0))
        self.udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.udp.bind(("127.0.0.1", 0))
        # AF_UNIX paths are short (108 bytes): under a deep working directory, a short private folder instead
        self._short_dir = None if len(str(workdir)) < 90 else tempfile.mkdtemp(prefix="fd-sbx-")
        self.unix_path = str(Path(self._short_dir or workdir) / "s.sock")
        self.unix = socket.socket(socket.AF_UNIX)
        self.unix.bind(self.unix_path)
        self.unix.listen()
        for s in (self.tcp, self.udp, self.unix):
            s.setblocking(False)

    def reached(self) -> set[str]:
        """Which listeners something reached since the last call."""
        hits: set[str] = set()
        for name, server in (("tcp-connect", self.tcp), ("unix-socket-path", self.unix)):
            try:
                while True:
                    conn, _ = server.accept()
                    conn.close()
                    hits.add(name)
            except OSError:  # BlockingIOError: the queue is empty
                pass
        try:
            while True:
                self.udp.recv(16)
                hits.add("udp-socket")
        except OSError:
            pass
        return hits

    def close(self) -> None:
        for s in (self.tcp, self.udp, self.unix):
            s.close()
        if self._short_dir is not None:
            shutil.rmtree(self._short_dir, ignore_errors=True)


@contextmanager
def _workdir(parent: Path | None) -> Iterator[Path]:
    # next to the caller's working directory by default: outside the sandbox's temporary directory
    path = Path(tempfile.mkdtemp(prefix=".firstday-sandbox-check-", dir=parent or Path.cwd()))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def _evidence(run: RunResult, attempt: Attempt, token: str, outside: Path, listeners: _Listeners) -> list[str]:
    """Why ``run`` counts as an escape (empty: no evidence of one)."""
    evidence = []
    if token in run.output:
        evidence.append("the secret appeared in the output")
    base = attempt.name.removesuffix(HOOK_OFF)
    if f"ESCAPED:{base}" in run.output:
        evidence.append("the forbidden call succeeded")
    if outside.exists():
        evidence.append(f"{outside.name} was written outside the copy")
    if (attempt.reaches or base) in listeners.reached():
        evidence.append("the check's listener was reached")
    return evidence


def check_backend(backend: SandboxBackend, *, workdir: Path | None = None,
                  attempts: list[Attempt] | None = None, limits: Limits | None = None) -> CheckReport:
    """Run every attempt against ``backend``; ``workdir`` is where the secret and the listeners live (a
    fresh folder there, removed afterwards; default: the current directory). An attempt the wall-clock limit
    killed before any evidence is run again with a longer limit (:data:`SLOW_FACTOR`, :data:`SLOW_RETRIES`);
    still cut short, it is reported as timed out (not as expected), never as refused."""
    limits = limits or Limits(timeout_s=5.0, grace_s=1.0)
    results: list[AttemptResult] = []
    with _workdir(workdir) as work:
        token = "firstday-secret-" + secrets.token_hex(8)
        secret = work / "secret.txt"
        secret.write_text(token + "\n", encoding="utf-8")
        listeners = _Listeners(work)
        try:
            tries = [limits] + [replace(limits, timeout_s=limits.timeout_s * SLOW_FACTOR ** n,
                                        grace_s=limits.grace_s * SLOW_FACTOR ** n) for n in range(1, SLOW_RETRIES + 1)]
            for attempt in attempts if attempts is not None else conformance_attempts(backend.name):
                outside = work / f"written-{attempt.name.replace('/', '-')}.txt"
                body = attempt.code.format(secret=str(secret), outside=str(outside), home=str(Path.home()),
                                           port=listeners.tcp.getsockname()[1],
                                           udp_port=listeners.udp.getsockname()[1], unix_path=listeners.unix_path)
                code = (DISARM_AUDIT_HOOK if attempt.disarm else "") + body
                for tried in tries:
                    run = backend.run(code, {"notes.txt": "hello\n"}, {"data.csv": ("a,b\n1,2\n", False)}, tried)
                    evidence = _evidence(run, attempt, token, outside, listeners)
                    # evidence is final whatever the speed; only a run cut short without any is tried again
                    if evidence or not run.timed_out:
                        break
                timed_out = run.timed_out and not evidence
                tail = run.output.strip().splitlines()[-1:] if run.output.strip() else ["(no output)"]
                results.append(AttemptResult(
                    name=attempt.name, description=attempt.description, refused=not evidence,
                    expected=attempt.expected_for(backend.name), timed_out=timed_out,
                    evidence="; ".join(evidence) if evidence else (
                        f"timed out {len(tries)} times (last limit {tried.timeout_s:g} s): unknown" if timed_out
                        else tail[0][:160])))
        finally:
            listeners.close()
    return CheckReport(backend=backend.name, results=results)


def render_check(report: CheckReport, console: Console) -> None:
    """Print the report as a table (one row per attempt) and a one-line verdict."""
    table = Table(title=f"Sandbox conformance: {report.backend}", title_justify="left", title_style="bold",
                  box=box.SIMPLE_HEAD)
    for col in ("attempt", "result", "expected", "evidence"):
        table.add_column(col, overflow="fold")
    for r in report.results:
        result = "TIMED OUT" if r.timed_out else "refused" if r.refused else "ESCAPED"
        style = "green" if r.as_expected else "bold red"
        table.add_row(r.name, f"[{style}]{result}[/{style}]", r.expected, escape(r.evidence))
    console.print(table)
    refused = sum(r.refused and not r.timed_out for r in report.results)
    verdict = "as expected" if report.as_expected else "NOT as expected: " + ", ".join(
        r.name for r in report.results if not r.as_expected)
    gaps = "" if report.all_refused else f"; known gaps: {', '.join(report.escaped)}"
    if report.timed_out:
        gaps += f"; timed out even with a longer limit (outcome unknown): {', '.join(report.timed_out)}"
    console.print(f"{report.backend}: {refused} of {len(report.results)} attempts refused, {verdict}{gaps}",
                  highlight=False)
