"""The sealed agent process (firstday.sandbox.agent_process): real processes under the kernel seal reach the
allowed TCP port and not another, read their own code and not a suite folder, write only their own folders,
start Python children that inherit the seal, keep their output in the given files, stay in one process group
that is killed as a whole; the seal fails closed; the seccomp program is evaluated on synthetic calls."""

from __future__ import annotations

import asyncio
import http.server
import os
import socket
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from firstday.errors import ConfigError
from firstday.sandbox import (
    BACKENDS,
    SandboxUnavailable,
    _agent_seal,
    _launch,
    _syscalls,
    check_backend,
    conformance_attempts,
)
from firstday.sandbox import agent_process as ap
from firstday.sandbox.agent_process import (
    AgentProcessPolicy,
    SealFailed,
    check_policy,
    start_sealed_process,
    stop_process_group,
)

REASON = ap.seal_unavailable_reason()
needs_seal = pytest.mark.skipif(REASON is not None, reason=f"agent seal unavailable: {REASON}")
ENV = {"PATH": "/usr/bin:/bin"}


class _Server:
    """A tiny HTTP server on 127.0.0.1 (a stand-in for the MCP endpoint) answering every GET with 'pong'."""

    def __init__(self) -> None:
        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self.send_response(200)
                self.end_headers()
                self.wfile.write(b"pong")

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server() -> Iterator[_Server]:
    s = _Server()
    yield s
    s.close()


@pytest.fixture
def listener() -> Iterator[socket.socket]:
    """A port the agent is not allowed to reach: a completed connection waits in its accept queue."""
    s = socket.create_server(("127.0.0.1", 0))
    s.setblocking(False)
    yield s
    s.close()


def _reached(s: socket.socket) -> bool:
    try:
        conn, _ = s.accept()
    except BlockingIOError:
        return False
    conn.close()
    return True


def _run(script: str, tmp_path: Path, policy: AgentProcessPolicy, *, cwd: Path | None = None,
         require: bool = True, argv: list[str] | None = None) -> tuple[int, str, str, str]:
    """Run ``script`` as a sealed ``python agent.py`` from an agent folder (readable); returns the exit status,
    stdout, stderr and the backend."""
    agent_dir = tmp_path / "agent"
    agent_dir.mkdir(exist_ok=True)
    (agent_dir / "agent.py").write_text(script, encoding="utf-8")
    policy = AgentProcessPolicy(policy.connect_ports, (*policy.readable, agent_dir), policy.writable)
    out, err = tmp_path / "stdout.txt", tmp_path / "stderr.txt"

    async def go() -> tuple[int, str]:
        with out.open("wb") as o, err.open("wb") as e:
            proc, backend = await start_sealed_process(argv or [sys.executable, "agent.py"], env=ENV,
                                                       cwd=cwd or agent_dir, policy=policy, stdout=o, stderr=e,
                                                       require=require)
            return await asyncio.wait_for(proc.wait(), 120), backend

    status, backend = asyncio.run(go())
    return status, out.read_text(), err.read_text(), backend


def _lines(text: str) -> dict[str, str]:
    return dict(line.split(" ", 1) for line in text.splitlines() if " " in line)


TRY = """
import os, socket, sys, urllib.request
def attempt(name, fn):
    try:
        fn()
        print(name, "ok", flush=True)
    except Exception as exc:
        print(name, "refused", type(exc).__name__, getattr(exc, "errno", ""), flush=True)
"""


# --- network ------------------------------------------------------------------------------------------------
@needs_seal
def test_connects_to_the_allowed_port_and_to_no_other(tmp_path: Path, server: _Server,
                                                      listener: socket.socket) -> None:
    other = listener.getsockname()[1]
    script = TRY + f"""
attempt("http-allowed", lambda: print(urllib.request.urlopen("http://127.0.0.1:{server.port}/").read().decode()))
attempt("tcp-other", lambda: socket.create_connection(("127.0.0.1", {other}), timeout=5))
def fastopen():
    s = socket.socket()
    s.sendto(b"x", socket.MSG_FASTOPEN, ("127.0.0.1", {other}))
attempt("fastopen-other", fastopen)
def bind():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
attempt("bind", bind)
def listen():
    s = socket.socket()
    s.listen()
attempt("listen", listen)
attempt("udp", lambda: socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b"x", ("127.0.0.1", {other})))
attempt("unix", lambda: socket.socket(socket.AF_UNIX))
attempt("socketpair", lambda: socket.socketpair())
attempt("ipv6-tcp", lambda: socket.socket(socket.AF_INET6))
"""
    status, out, err, backend = _run(script, tmp_path, AgentProcessPolicy(connect_ports=(server.port,)))
    assert backend == "landlock" and status == 0, err
    assert "pong" in out
    result = _lines(out)
    assert result["http-allowed"] == "ok"
    for name in ("tcp-other", "fastopen-other", "bind", "listen", "udp", "unix"):
        assert result[name].startswith("refused"), (name, out)
    assert result["socketpair"] == "ok" and result["ipv6-tcp"] == "ok"  # asyncio's self-pipe; TCP over IPv6
    assert not _reached(listener), "a connection reached the forbidden port"


@needs_seal
def test_an_asyncio_httpx_client_reaches_the_allowed_port_by_name(tmp_path: Path, server: _Server) -> None:
    """What an MCP client does: asyncio's event loop (a socketpair), anyio, httpx; 'localhost' resolved from
    /etc/hosts (no DNS in the seal)."""
    script = f"""
import asyncio, httpx
async def main():
    async with httpx.AsyncClient() as client:
        for host in ("127.0.0.1", "localhost"):
            r = await client.get("http://" + host + ":{server.port}/")
            print(host, r.status_code, r.text)
asyncio.run(main())
"""
    status, out, err, _ = _run(script, tmp_path, AgentProcessPolicy(connect_ports=(server.port,)))
    assert status == 0, err
    assert "127.0.0.1 200 pong" in out and "localhost 200 pong" in out, out


# --- files --------------------------------------------------------------------------------------------------
@needs_seal
def test_reads_its_own_code_and_not_a_suite_folder(tmp_path: Path) -> None:
    suite = tmp_path / "suite"
    suite.mkdir()
    (suite / "scenario.json").write_text('{"answer": "firstday-suite-secret"}')
    script = TRY + f"""
attempt("own-code", lambda: open("agent.py").read())
attempt("own-data", lambda: open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "notes.txt")).read())
attempt("suite-file", lambda: print(open({str(suite / "scenario.json")!r}).read()))
attempt("suite-list", lambda: print(os.listdir({str(suite)!r})))
attempt("passwd", lambda: open("/etc/passwd").read())
attempt("proc-parent", lambda: open(f"/proc/{{os.getppid()}}/environ", "rb").read())
attempt("home", lambda: os.listdir({str(Path.home())!r}))
attempt("stdlib", lambda: __import__("json").dumps([1]))
attempt("tmpdir", lambda: open(os.path.join(os.environ["TMPDIR"], "x"), "w").write("x"))
attempt("tls-trust", lambda: __import__("ssl").create_default_context().cert_store_stats()["x509_ca"] or 1 / 0)
attempt("tls-keys", lambda: os.listdir("/etc/ssl/private"))
"""
    (tmp_path / "agent").mkdir()
    (tmp_path / "agent" / "notes.txt").write_text("mine")
    status, out, err, _ = _run(script, tmp_path, AgentProcessPolicy(connect_ports=()))
    assert status == 0, err
    result = _lines(out)
    assert result["own-code"] == "ok" and result["own-data"] == "ok" and result["stdlib"] == "ok"
    assert result["tmpdir"] == "ok" and result["tls-trust"] == "ok"  # the trust store, for a hosted model's HTTPS
    if Path("/etc/ssl/private").exists():
        assert result["tls-keys"].startswith("refused PermissionError"), out
    for name in ("suite-file", "suite-list", "passwd", "proc-parent", "home"):
        assert result[name].startswith("refused PermissionError"), (name, out)
    assert "firstday-suite-secret" not in out + err


@needs_seal
def test_writes_only_its_temp_dir_and_the_writable_paths(tmp_path: Path) -> None:
    writable, outside = tmp_path / "scratch", tmp_path / "outside"
    writable.mkdir()
    outside.mkdir()
    script = TRY + f"""
attempt("writable", lambda: open({str(writable / "w.txt")!r}, "w").write("x"))
attempt("outside", lambda: open({str(outside / "o.txt")!r}, "w").write("x"))
attempt("own-folder", lambda: open("written-here.txt", "w").write("x"))
attempt("chmod-own", lambda: os.chmod("agent.py", 0o777))
print("tmp", os.environ["TMPDIR"], os.environ["HOME"] == os.environ["TMPDIR"])
"""
    status, out, err, _ = _run(script, tmp_path, AgentProcessPolicy(connect_ports=(), writable=(writable,)))
    assert status == 0, err
    result = _lines(out)
    assert result["writable"] == "ok" and (writable / "w.txt").read_text() == "x"
    for name in ("outside", "own-folder", "chmod-own"):  # the agent's code folder is read-only
        assert result[name].startswith("refused"), (name, out)
    assert not (outside / "o.txt").exists() and not (tmp_path / "agent" / "written-here.txt").exists()
    temp_dir, same = result["tmp"].split()
    assert same == "True" and not Path(temp_dir).exists(), "the temporary directory is removed at the exit"


# --- processes ----------------------------------------------------------------------------------------------
@needs_seal
def test_a_python_child_inherits_the_seal(tmp_path: Path, server: _Server, listener: socket.socket) -> None:
    suite = tmp_path / "suite"
    suite.mkdir()
    (suite / "secret.txt").write_text("firstday-child-secret")
    child = (f"import socket, urllib.request\n"
             f"print(urllib.request.urlopen('http://127.0.0.1:{server.port}/').read().decode())\n"
             f"for what, fn in (('read', lambda: open({str(suite / 'secret.txt')!r}).read()),\n"
             f"                 ('connect', lambda: socket.create_connection(('127.0.0.1', "
             f"{listener.getsockname()[1]}), timeout=5))):\n"
             "    try:\n        fn()\n        print('child', what, 'ok')\n"
             "    except OSError as exc:\n        print('child', what, 'refused', exc.errno)\n")
    script = ("import subprocess, sys\n"
              f"r = subprocess.run([sys.executable, '-c', {child!r}], capture_output=True, text=True)\n"
              "print(r.stdout, r.stderr)\n"
              "r = subprocess.run(['/bin/sh', '-c', 'cat " + str(suite / "secret.txt") + " || echo sh-refused'],"
              " capture_output=True, text=True)\nprint(r.stdout, r.stderr)\n")
    status, out, err, _ = _run(script, tmp_path, AgentProcessPolicy(connect_ports=(server.port,)))
    assert status == 0, err
    assert "pong" in out  # the child reaches the allowed port
    assert "child read refused 13" in out and "child connect refused 13" in out, out
    assert "sh-refused" in out and "firstday-child-secret" not in out
    assert not _reached(listener)


@needs_seal
def test_no_privilege_left_and_the_filter_stands(tmp_path: Path) -> None:
    script = """
import ctypes, os
libc = ctypes.CDLL(None, use_errno=True)
def ok(result, what):
    if result != 0:
        raise OSError(ctypes.get_errno(), what)
print("nnp", libc.prctl(39, 0, 0, 0, 0))  # PR_GET_NO_NEW_PRIVS
print("seccomp", libc.prctl(21, 0, 0, 0, 0))  # PR_GET_SECCOMP: 2 = filter
print("bounding", sum(libc.prctl(23, c, 0, 0, 0) == 1 for c in range(64)))  # PR_CAPBSET_READ
hdr = (ctypes.c_uint32 * 2)(0x20080522, 0)
data = (ctypes.c_uint32 * 6)()
libc.capget(hdr, data)
print("caps", sum(data))
for name, fn in (("setsid", os.setsid), ("setpgid", lambda: os.setpgid(0, 0)),
                 ("ptrace-parent", lambda: ok(libc.syscall({ptrace}, 16, os.getppid(), 0, 0), "ptrace")),
                 ("kill-parent", lambda: os.kill(os.getppid(), 0)),
                 ("unshare-user", lambda: ok(libc.unshare(0x10000000), "unshare"))):
    try:
        fn()
        print(name, "ok")
    except OSError as exc:
        print(name, "refused", exc.errno)
""".replace("{ptrace}", str(_syscalls.SYSCALLS[_syscalls.machine()]["ptrace"]))
    status, out, err, _ = _run(script, tmp_path, AgentProcessPolicy(connect_ports=()))
    assert status == 0, err
    result = _lines(out)
    assert result["nnp"] == "1" and result["seccomp"] == "2" and result["caps"] == "0", out
    if os.geteuid() == 0:  # root may empty its bounding set (CAP_SETPCAP); another user keeps its own
        assert result["bounding"] == "0", out
    for name in ("setsid", "setpgid", "ptrace-parent", "kill-parent", "unshare-user"):
        assert result[name] == "refused 1", (name, out)


@needs_seal
def test_output_goes_to_the_given_files_and_stop_kills_the_group(tmp_path: Path) -> None:
    script = ("import os, subprocess, sys, time\n"
              "print('to stdout', flush=True)\nprint('to stderr', file=sys.stderr, flush=True)\n"
              "child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(300)'])\n"
              "print('child', child.pid, flush=True)\ntime.sleep(300)\n")
    agent_dir = tmp_path / "agent"
    agent_dir.mkdir()
    (agent_dir / "agent.py").write_text(script)
    out, err = tmp_path / "out.txt", tmp_path / "err.txt"

    async def go() -> tuple[int, int]:
        with out.open("wb") as o, err.open("wb") as e:
            proc, backend = await start_sealed_process([sys.executable, "agent.py"], env=ENV, cwd=agent_dir,
                                                       policy=AgentProcessPolicy((), (agent_dir,)), stdout=o,
                                                       stderr=e, require=True)
            assert backend == "landlock"
            for _ in range(1200):  # until the grandchild exists (no timing assert: just wait for it)
                if "child" in out.read_text():
                    break
                await asyncio.sleep(0.05)
            return await stop_process_group(proc, grace_s=5), proc.pid

    status, _pid = asyncio.run(go())
    assert status != 0
    assert "to stdout" in out.read_text() and "to stderr" in err.read_text()
    grandchild = int(out.read_text().split("child ")[1].split()[0])
    from test_sandbox import _gone

    assert _gone(grandchild)


@needs_seal
def test_what_an_exited_agent_left_running_is_killed(tmp_path: Path) -> None:
    script = ("import subprocess, sys\n"
              "child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(300)'])\n"
              "print('child', child.pid, flush=True)\n")  # and exits, leaving the child behind
    status, out, err, _ = _run(script, tmp_path, AgentProcessPolicy(connect_ports=()))
    assert status == 0, err
    from test_sandbox import _gone

    assert _gone(int(out.split()[1]))


# --- failing closed, and the fallback -----------------------------------------------------------------------
@needs_seal
def test_a_seal_that_fails_runs_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real = ap.seal_policy

    def broken(policy: AgentProcessPolicy, temp_dir: Path) -> _agent_seal.SealPolicy:
        p = real(policy, temp_dir)
        p["read"] = [*p["read"], "/nonexistent/firstday-root"]
        return p

    monkeypatch.setattr(ap, "seal_policy", broken)
    marker = tmp_path / "ran.txt"
    with pytest.raises(SealFailed, match=r"could not be sealed .*nothing was run"):
        _run(f"open({str(marker)!r}, 'w').write('x')", tmp_path, AgentProcessPolicy(connect_ports=()),
             cwd=tmp_path, argv=["/bin/touch", str(marker)])
    assert not marker.exists()
    assert "nothing was run" in (tmp_path / "stderr.txt").read_text()
    assert _launch.RESTRICTION_FAILED_EXIT == __import__("firstday.sandbox").sandbox.RESTRICTION_FAILED_EXIT


@needs_seal
def test_a_command_that_cannot_be_executed_is_an_os_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        _run("", tmp_path, AgentProcessPolicy(connect_ports=()), argv=["firstday-no-such-command"])


def test_without_kernel_support_require_refuses_and_otherwise_runs_unsealed(tmp_path: Path,
                                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ap, "seal_unavailable_reason", lambda: "this kernel has no Landlock (test)")
    with pytest.raises(SandboxUnavailable, match="cannot be sealed here: this kernel has no Landlock") as exc:
        _run("print('ran')", tmp_path, AgentProcessPolicy(connect_ports=()), require=True)
    assert "\n" not in str(exc.value) and (tmp_path / "stdout.txt").read_text() == ""
    status, out, _, backend = _run("import os\nprint('ran', os.getsid(0) == os.getpid())", tmp_path,
                                   AgentProcessPolicy(connect_ports=()), require=False)
    assert (status, out.strip(), backend) == (0, "ran True", "none")  # unsealed, but its own session


def test_check_policy_refuses_broad_or_protected_paths(tmp_path: Path) -> None:
    runs = tmp_path / "project" / "runs"
    runs.mkdir(parents=True)
    for bad, match in (((Path("/"),), "too broad"), ((Path("/home"),), "too broad"),
                       ((tmp_path / "missing",), "does not exist"), ((tmp_path / "project",), "contains")):
        with pytest.raises(ConfigError, match=match):
            check_policy(AgentProcessPolicy(connect_ports=(), readable=bad), protected=(runs,))
    with pytest.raises(ConfigError, match="not a TCP port"):
        check_policy(AgentProcessPolicy(connect_ports=(0,)))
    check_policy(AgentProcessPolicy(connect_ports=(8080,), readable=(tmp_path,)), protected=(Path("/elsewhere"),))


def test_the_launcher_policy_round_trips_and_refuses_separators(tmp_path: Path) -> None:
    seal = ap.seal_policy(AgentProcessPolicy(connect_ports=(8080, 443), readable=(tmp_path,)), tmp_path / "..")
    assert _agent_seal.decode_policy(_agent_seal.encode_policy(seal)) == seal
    odd = tmp_path / "line\nbreak"
    odd.mkdir()
    with pytest.raises(ConfigError, match="newline"):
        check_policy(AgentProcessPolicy(connect_ports=(), readable=(odd,)))
    with pytest.raises(ValueError, match="groups"):
        _agent_seal.decode_policy("a\x1eb")


def test_the_policy_holds_no_broad_or_caller_directory(tmp_path: Path) -> None:
    seal = ap.seal_policy(AgentProcessPolicy(connect_ports=(5, 5, 7)), tmp_path)
    roots = [Path(p) for p in (*seal["read_exec"], *seal["read"], *seal["write"])]
    forbidden = {Path(p) for p in ap.AGENT_FORBIDDEN_ROOTS}
    assert not forbidden & set(roots)
    for r in roots:
        for guarded in (Path.home().resolve(), Path.cwd().resolve()):
            assert not (r == guarded or r in guarded.parents), (r, guarded)
    src = Path(__file__).resolve().parents[1] / "src"
    assert not any(src == r or r in src.parents or src in r.parents for r in roots), "firstday's source readable"
    assert seal["write"] == [str(tmp_path.resolve())] and seal["connect_ports"] == [5, 7]


# --- the seccomp program, evaluated on synthetic calls --------------------------------------------------------
def _bpf(prog: list[tuple[int, int, int, int]], nr: int, arch: int, *args: int) -> int:
    data = {0: nr, 4: arch} | {16 + 8 * i: a & 0xFFFFFFFF for i, a in enumerate(args)}
    acc, pc = 0, 0
    while True:
        code, jt, jf, k = prog[pc]
        if code == 0x20:
            acc = data.get(k, 0)
        elif code == 0x54:
            acc &= k
        elif code == 0x06:
            return k
        else:
            taken = {0x15: acc == k, 0x35: acc >= k, 0x45: bool(acc & k)}[code]
            pc += jt if taken else jf
        pc += 1


@pytest.mark.parametrize("arch", ["x86_64", "aarch64"])
def test_agent_seccomp_program(arch: str) -> None:
    prog = _agent_seal.agent_seccomp_program(arch)
    nums, audit_arch = _syscalls.SYSCALLS[arch], _syscalls.AUDIT_ARCH[arch]
    allow, kill = _syscalls.SECCOMP_RET_ALLOW, _syscalls.SECCOMP_RET_KILL_PROCESS
    eperm, enosys = _syscalls.SECCOMP_RET_ERRNO | 1, _syscalls.SECCOMP_RET_ERRNO | 38
    other_arch = _syscalls.AUDIT_ARCH["aarch64" if arch == "x86_64" else "x86_64"]
    assert _bpf(prog, nums["socket"], other_arch, 2, 1, 0) == kill
    sock = nums["socket"]
    assert _bpf(prog, sock, audit_arch, 2, 1, 0) == allow  # TCP over IPv4
    assert _bpf(prog, sock, audit_arch, 10, 1 | 0x80000 | 0x800, 6) == allow  # IPv6, CLOEXEC|NONBLOCK, TCP
    for domain, kind, proto in ((2, 2, 0), (2, 3, 1), (1, 1, 0), (16, 3, 0), (2, 1, 262), (2, 1, 132), (17, 3, 0)):
        assert _bpf(prog, sock, audit_arch, domain, kind, proto) == eperm, (domain, kind, proto)  # UDP, raw, ...
    assert _bpf(prog, nums["socketpair"], audit_arch, 1, 1, 0) == allow
    assert _bpf(prog, nums["socketpair"], audit_arch, 2, 1, 0) == eperm
    assert _bpf(prog, nums["clone"], audit_arch, 0x11) == allow  # fork
    assert _bpf(prog, nums["clone"], audit_arch, 0x3D0F00) == allow  # a thread
    assert _bpf(prog, nums["clone"], audit_arch, 0x10000011) == eperm  # a new user namespace
    assert _bpf(prog, nums["clone3"], audit_arch) == enosys
    for name, index in _agent_seal.SEND_FLAGS_ARG:
        args = [3, 0, 0, 0]
        assert _bpf(prog, nums[name], audit_arch, *args) == allow
        args[index] = _agent_seal.MSG_FASTOPEN
        assert _bpf(prog, nums[name], audit_arch, *args) == eperm, name
    for name in ("execve", "execveat") + (("fork", "vfork") if arch == "x86_64" else ()):
        assert _bpf(prog, nums[name], audit_arch) == allow, name
    for name in ("ptrace", "process_vm_readv", "setsid", "setpgid", "listen", "unshare", "io_uring_setup", "bpf"):
        assert _bpf(prog, nums[name], audit_arch) == eperm, name
    assert _bpf(prog, nums["prlimit64"], audit_arch, 4242) == eperm
    assert _bpf(prog, nums["prlimit64"], audit_arch, 0) == allow
    assert _bpf(prog, nums["setpriority"], audit_arch, 0, 0) == allow
    assert _bpf(prog, nums["setpriority"], audit_arch, 2, 0) == eperm
    assert _bpf(prog, nums["ioctl"], audit_arch, 3, 0x5412) == eperm  # TIOCSTI
    assert _bpf(prog, nums["ioctl"], audit_arch, 3, 0x5401) == allow
    denied = {nums[n] for n in _agent_seal.AGENT_DENIED_SYSCALLS if n in nums}
    special = {nums[n] for n in ("socket", "socketpair", "clone", "clone3", "setpriority", "ioctl", "sendto",
                                 "sendmsg", "sendmmsg")} | {nums[n] for n, _ in _syscalls.SELF_ONLY_SYSCALLS}
    for nr in range(500):
        if nr not in special:
            assert _bpf(prog, nr, audit_arch, 4242, 4242, 4242, 4242) == (eperm if nr in denied else allow), nr


# --- the conformance suite ----------------------------------------------------------------------------------
@needs_seal
def test_the_conformance_suite_refuses_every_attempt_against_the_agent_process(tmp_path: Path) -> None:
    report = check_backend(BACKENDS["agent-process"], workdir=tmp_path)
    names = [r.name for r in report.results]
    assert report.all_refused, {r.name: r.evidence for r in report.results if not r.refused}
    assert report.as_expected and len(names) == len(conformance_attempts("agent-process")) >= 25
    assert {"child-reads-secret", "child-tcp-connect", "setsid-leave-group", "tcp-fastopen", "listen-port",
            "ptrace-parent", "tcp-connect", "read-outside-file", "signal-parent"} <= set(names)
    # starting processes is allowed there (the child-* attempts check their reach); it has no audit hook
    assert "subprocess-run" not in names and not any(n.endswith("/hook-off") for n in names)
    assert not list(tmp_path.iterdir()), "the check leaves nothing behind"


def test_the_sandbox_package_names_load_on_first_use() -> None:
    """firstday.sandbox imports its submodules lazily (the launcher must not pay for rich and the backends)."""
    import firstday.sandbox as package

    assert set(package.__all__) == set(package._LAZY)
    assert package.start_sealed_process is start_sealed_process
    assert all(getattr(package, name) is not None for name in package.__all__)
    with pytest.raises(AttributeError, match="no attribute 'nothing'"):
        _ = package.nothing
