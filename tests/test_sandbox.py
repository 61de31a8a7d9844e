"""The run_python sandbox: the conformance suite against both backends, legitimate data work under the kernel
backend, the process group at the timeout, failing closed, the read roots, the seccomp program (evaluated
here on synthetic calls), and the fallback policy (auto warns once, require_sandbox refuses)."""

from __future__ import annotations

import json
import sysconfig
import time
import warnings
from pathlib import Path

import pytest
from rich.console import Console

from firstday.env import DayEnv, EnvConfig
from firstday.sandbox import (
    BACKENDS,
    RESTRICTION_FAILED_EXIT,
    Limits,
    RunResult,
    SandboxBackend,
    SandboxFallbackWarning,
    SandboxUnavailable,
    _check,
    _landlock,
    _registry,
    _syscalls,
    check_backend,
    conformance_attempts,
    render_check,
    resolve_backend,
    run_code,
)

LANDLOCK = BACKENDS["landlock"]
AUDIT = BACKENDS["audit"]
needs_landlock = pytest.mark.skipif(LANDLOCK.available() is not None,
                                    reason=f"kernel sandbox unavailable: {LANDLOCK.available()}")


# --- conformance --------------------------------------------------------------------------------------------
@needs_landlock
def test_kernel_backend_refuses_every_escape_attempt(tmp_path: Path) -> None:
    report = check_backend(LANDLOCK, workdir=tmp_path)
    assert len(report.results) == len(conformance_attempts()) >= 43
    assert report.all_refused, {r.name: r.evidence for r in report.results if not r.refused}
    assert report.as_expected
    hook_off = [r for r in report.results if r.name.endswith("/hook-off")]
    # with the hook switched off, the refusals come from the kernel (errno), not from the audit hook's message
    assert hook_off and all("firstday code runner" not in r.evidence for r in hook_off)
    assert not list(tmp_path.iterdir()), "the check leaves nothing behind"


def test_audit_backend_known_gaps_are_reported(tmp_path: Path) -> None:
    deep = tmp_path / ("d" * 60) / ("e" * 60)  # too deep for an AF_UNIX path: the check copes
    deep.mkdir(parents=True)
    report = check_backend(AUDIT, workdir=deep)
    assert report.as_expected, {r.name: (r.refused, r.expected, r.evidence) for r in report.results
                                if not r.as_expected}
    # the two escapes of the original report, and everything once the hook is switched off
    assert {"symlink-dir-fd", "hook-patch-then-system", "dir-fd-then-system"} <= set(report.escaped)
    assert all(not r.refused for r in report.results if r.name.endswith("/hook-off"))
    # the hook still refuses the plain attempts (it stays the friendly first line)
    assert any(r.refused and "firstday code runner" in r.evidence for r in report.results)



class _SlowMachine(SandboxBackend):
    """The audit runner as a loaded machine makes it look: the first ``slow_tries`` runs of each code are cut
    short by the wall-clock limit before doing anything (what ``run_in_child`` returns then), later ones run."""

    name = "audit"

    def __init__(self, slow_tries: int) -> None:
        self.slow_tries = slow_tries
        self.limits_seen: dict[str, list[float]] = {}

    def available(self) -> str | None:
        return None

    def run(self, code: str, workspace: dict[str, str], shared: dict[str, tuple[str, bool]],
            limits: Limits) -> RunResult:
        seen = self.limits_seen.setdefault(code, [])
        seen.append(limits.timeout_s)
        if len(seen) <= self.slow_tries:
            return RunResult(exit_code=None, output=f"[timed out after {limits.timeout_s:g} s]", timed_out=True,
                             sandbox=self.name)
        return AUDIT.run(code, workspace, shared, limits)


# an expected escape and an expected refusal of the audit runner: both must keep their outcome when slow
_SLOW_ATTEMPTS = ["symlink-dir-fd", "read-outside-file"]


def test_a_slow_attempt_is_run_again_not_counted_as_refused(tmp_path: Path) -> None:
    """Under load an attempt can be killed by the wall-clock limit before its evidence appears; that used to
    count as "refused" and turned the audit runner's expected escapes into failures (``sandbox check`` exit 1)."""
    attempts = [a for a in conformance_attempts("audit") if a.name in _SLOW_ATTEMPTS]
    slow = _SlowMachine(slow_tries=1)
    report = check_backend(slow, workdir=tmp_path, attempts=attempts, limits=Limits(timeout_s=5.0, grace_s=1.0))
    assert report.as_expected, [(r.name, r.refused, r.evidence) for r in report.results]
    assert report.escaped == ["symlink-dir-fd"] and not report.timed_out
    # every attempt was run a second time, with a longer limit
    assert sorted(len(v) for v in slow.limits_seen.values()) == [2, 2]
    assert all(v[1] > v[0] for v in slow.limits_seen.values())


def test_an_attempt_slow_at_every_try_is_unknown_not_refused(tmp_path: Path) -> None:
    attempts = [a for a in conformance_attempts("audit") if a.name in _SLOW_ATTEMPTS]
    slow = _SlowMachine(slow_tries=1 + _check.SLOW_RETRIES)
    report = check_backend(slow, workdir=tmp_path, attempts=attempts, limits=Limits(timeout_s=5.0, grace_s=1.0))
    assert sorted(report.timed_out) == sorted(_SLOW_ATTEMPTS) and not report.as_expected
    assert all(not r.as_expected and "timed out" in r.evidence for r in report.results)
    assert all(len(v) == 1 + _check.SLOW_RETRIES for v in slow.limits_seen.values())
    console = Console(record=True, width=200)
    render_check(report, console)
    text = console.export_text()
    assert "TIMED OUT" in text and "0 of 2 attempts refused" in text and "outcome unknown" in text


# --- legitimate work ----------------------------------------------------------------------------------------
LEGIT = """
import json, threading
import numpy as np, pandas as pd
import matplotlib.pyplot as plt
df = pd.read_csv("../shared/sales.csv")
meta = json.load(open("../shared/meta.json"))
total = float(np.sum(df["amount"]))
out = []
t = threading.Thread(target=lambda: out.append(df["amount"].max()))
t.start(); t.join()
fig, ax = plt.subplots(); df.plot(x="region", y="amount", ax=ax); fig.savefig("chart.png")
open("result.txt", "w").write(f"{meta['unit']} {total:.1f} max {out[0]}")
print("total", total, pd.Timestamp("2024-03-01", tz="Europe/Paris").hour)
"""


@needs_landlock
def test_pandas_numpy_matplotlib_and_threads_work_in_the_kernel_sandbox() -> None:
    res = LANDLOCK.run(LEGIT, {"notes.txt": "old\n"},
                       {"sales.csv": ("region,amount\nnorth,10.5\nsouth,4.5\n", False),
                        "meta.json": (json.dumps({"unit": "EUR"}), False)}, Limits(timeout_s=60))
    assert res.sandbox == "landlock"
    assert res.exit_code == 0, res.output
    assert "total 15.0 0" in res.output
    assert res.written == {"result.txt": "EUR 15.0 max 10.5"}
    assert res.refused == ["chart.png (not UTF-8 text)"]  # copied-back rules unchanged: text files only


# --- processes ----------------------------------------------------------------------------------------------
def _gone(pid: int) -> bool:
    """No such process, or only its zombie (killed; its parent died, so whoever adopted it reaps it). SIGKILL
    is delivered asynchronously: a process of the group may take a moment to die, so look for a while."""
    deadline = time.monotonic() + 10
    while True:
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except FileNotFoundError:
            return True
        if stat.rsplit(")", 1)[1].split()[0] == "Z":
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)


@pytest.mark.parametrize("backend", ["landlock", "audit"])
def test_timeout_kills_the_whole_process_group(backend: str) -> None:
    if BACKENDS[backend].available() is not None:
        pytest.skip("kernel sandbox unavailable")
    # under audit the hook is switched off and a grandchild started; under landlock that fork is refused.
    # "ready" is printed once every process has printed its pid (the grandchild reports through a pipe)
    code = ("import os, sys, time\n"
            "m = sys.modules['__main__']; m._blocked = ('x',); m._inside = lambda *a: True\n"
            "print('child', os.getpid(), flush=True)\n"
            "r, w = os.pipe()\n"
            "try:\n    pid = os.fork()\nexcept OSError:\n    pid = -1\n"
            "if pid == 0:\n    print('grandchild', os.getpid(), flush=True)\n    os.write(w, b'x')\n"
            "else:\n    if pid > 0:\n        os.read(r, 1)\n    print('ready', flush=True)\n"
            "time.sleep(60)\n")
    res = BACKENDS[backend].run(code, {}, {}, Limits(timeout_s=4.0, grace_s=0.5))
    assert res.timed_out and "timed out" in res.output and "ready" in res.output, res.output
    pids = [int(line.split()[1]) for line in res.output.splitlines() if line.startswith(("child", "grandchild"))]
    assert all(_gone(p) for p in pids), res.output
    assert len(pids) == (2 if backend == "audit" else 1), res.output


def test_output_flood_is_capped_without_reading_it_all() -> None:
    res = AUDIT.run("import sys\nfor _ in range(10**6):\n    sys.stdout.write('x' * 10**5)\n", {}, {},
                    Limits(timeout_s=5))
    assert len(res.output) < 10_200 and "[output truncated at 10000 characters]" in res.output


def test_a_fifo_in_the_workspace_does_not_hang_the_copy_back() -> None:
    res = AUDIT.run("import os\nos.mkfifo('pipe')\nprint('made')", {}, {}, Limits(timeout_s=5))
    assert "made" in res.output and res.refused == ["pipe (not a regular file)"]


def test_copy_back_refuses_names_the_drive_cannot_hold_and_caps_the_file_count() -> None:
    code = ("import os\nopen(b'bad\\xff.txt', 'w').write('x')\nopen('new\\nline.txt', 'w').write('y')\n"
            "os.makedirs('a/' * 40, exist_ok=True)\nopen('a/' * 40 + 'f.txt', 'w').write('deep')\n"
            "os.makedirs('x' * 200 + '/' + 'y' * 200, exist_ok=True)\n"
            "open('x' * 200 + '/' + 'y' * 200 + '/' + 'z' * 150, 'w').write('long')\n"
            "for i in range(5):\n    open(f'f{i}.txt', 'w').write(str(i))\n")
    res = AUDIT.run(code, {}, {}, Limits(timeout_s=10, max_copyback_files=3))
    assert res.exit_code == 0, res.output
    assert len(res.written) == 3 and all(k.startswith("f") for k in res.written)
    refused = "\n".join(res.refused)
    assert "bad\ufffd.txt (file name is not UTF-8)" in refused
    assert "new?line.txt (control character or backslash in the file name)" in refused
    assert "(path longer than 512 characters)" in refused
    assert "a/" * 32 + " (nested too deep: not copied back)" in refused  # not walked further either
    assert "(more than 3 files written)" in refused
    json.dumps(res.refused, ensure_ascii=False).encode("utf-8")  # every name is savable as UTF-8 JSON


@needs_landlock
def test_a_hard_link_to_a_file_outside_is_refused(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("firstday-hardlink-secret\n")
    code = _check.DISARM_AUDIT_HOOK + (
        f"import os\ntry:\n    os.link({str(secret)!r}, 'hl')\n    print(open('hl').read())\n"
        "except OSError as exc:\n    print('refused', exc.errno)\n")
    res = LANDLOCK.run(code, {}, {}, Limits(timeout_s=5))
    assert "refused" in res.output and "firstday-hardlink-secret" not in res.output
    assert not res.written


def test_copy_in_refuses_paths_leaving_the_copy() -> None:
    for bad in ({"../escape.txt": "x"}, {"/tmp/abs.txt": "x"}):
        with pytest.raises(ValueError, match="not a path inside the copy"):
            AUDIT.run("print(1)", bad, {}, Limits(timeout_s=5))
    with pytest.raises(ValueError, match="not a path inside the copy"):
        AUDIT.run("print(1)", {}, {"a/../../x.csv": ("1", False)}, Limits(timeout_s=5))


@pytest.mark.parametrize("backend", ["landlock", "audit"])
def test_a_workspace_replaced_by_a_symlink_is_not_followed_by_the_copy_back(backend: str, tmp_path: Path) -> None:
    """The parent must not read where the code points it: a workspace swapped for a symlink to a folder
    outside (made with the hook off; under landlock the symlink can be made, only reading through it fails)."""
    if BACKENDS[backend].available() is not None:
        pytest.skip("kernel sandbox unavailable")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("firstday-swap-secret\n")
    code = _check.DISARM_AUDIT_HOOK + (
        f"import os\nos.chdir('..')\nos.rename('workspace', 'old')\nos.symlink({str(outside)!r}, 'workspace')\n"
        "os.mkdir('old/sub')\nos.symlink(" + repr(str(outside)) + ", 'old/sub/link')\nprint('swapped')\n")
    res = BACKENDS[backend].run(code, {"notes.txt": "hi\n"}, {}, Limits(timeout_s=10))
    assert "swapped" in res.output, res.output
    assert not res.written and res.refused == ["workspace (replaced by the code: nothing copied back)"]


# --- failing closed -----------------------------------------------------------------------------------------
@needs_landlock
def test_restriction_failure_runs_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_landlock, "read_roots", lambda root: ["/nonexistent/firstday-root"])
    res = LANDLOCK.run("open('ran.txt', 'w').write('x')\nprint('AGENT' + 'RAN')", {}, {}, Limits(timeout_s=5))
    assert res.exit_code == RESTRICTION_FAILED_EXIT
    assert "AGENTRAN" not in res.output and not res.written
    assert "firstday sandbox: the landlock restriction failed" in res.output and "nothing was run" in res.output


@needs_landlock
def test_restriction_is_applied_before_the_code_is_read() -> None:
    # the bootstrap reads stdin only after restricting: the agent's code finds itself restricted from line 1
    boot = _landlock.BOOTSTRAP
    assert boot.index("_firstday_restrict(*sys.argv") < boot.index("sys.stdin.read()")
    res = LANDLOCK.run("print(open('/proc/self/status').read())", {}, {}, Limits(timeout_s=5))
    assert "PermissionError" in res.output and res.exit_code == 1  # not even the child's own /proc


@needs_landlock
def test_a_kernel_where_the_restriction_fails_is_reported_unavailable(monkeypatch: pytest.MonkeyPatch) -> None:
    """auto then falls back (with the reason) instead of choosing a backend whose every call fails closed."""
    monkeypatch.setattr(_landlock, "read_roots", lambda root: ["/nonexistent/firstday-root"])
    _landlock._kernel_reason.cache_clear()
    try:
        reason = LANDLOCK.available()
    finally:
        monkeypatch.undo()
        _landlock._kernel_reason.cache_clear()
    assert reason is not None and reason.startswith("the kernel restriction failed in a probe child (firstday "
                                                    "sandbox: the landlock restriction failed")
    assert LANDLOCK.available() is None


# --- read roots ---------------------------------------------------------------------------------------------
def test_read_roots_hold_libraries_only(tmp_path: Path) -> None:
    roots = [Path(r) for r in _landlock.read_roots(tmp_path)]
    forbidden = {Path(p) for p in ("/", "/work", "/root", "/home", "/tmp", "/usr", "/etc", "/proc")}
    assert not forbidden & set(roots)
    for r in roots:
        for guarded in (tmp_path.resolve(), Path.home().resolve(), Path.cwd().resolve()):
            assert not (r == guarded or r in guarded.parents), (r, guarded)
    assert Path(sysconfig.get_paths()["stdlib"]).resolve() in roots
    purelib = Path(sysconfig.get_paths()["purelib"]).resolve()
    assert any(purelib == r or r in purelib.parents for r in roots)
    src = Path(__file__).resolve().parents[1] / "src"
    assert not any(src == r or r in src.parents or src in r.parents for r in roots), "firstday's source readable"


def test_read_roots_drop_a_directory_holding_the_working_directory(monkeypatch: pytest.MonkeyPatch,
                                                                   tmp_path: Path) -> None:
    lib = Path("/usr/lib").resolve()
    inside = next((p for p in lib.iterdir() if p.is_dir() and not p.is_symlink()), None)
    if inside is None:
        pytest.skip("no directory under /usr/lib")
    monkeypatch.chdir(inside)
    assert str(lib) not in _landlock.read_roots(tmp_path)


def test_every_landlock_right_of_the_abi_is_handled() -> None:
    assert _syscalls.handled_fs(7) == (1 << 16) - 1  # incl. REFER, TRUNCATE, IOCTL_DEV
    assert _syscalls.handled_fs(1) == (1 << 13) - 1
    if LANDLOCK.available() is None:
        assert _syscalls.landlock_abi() >= 1


# --- the seccomp program, evaluated on synthetic calls --------------------------------------------------------
def _bpf(prog: list[tuple[int, int, int, int]], nr: int, arch: int, arg0: int = 0) -> int:
    return _bpf_args(prog, nr, arch, arg0)


def _bpf_args(prog: list[tuple[int, int, int, int]], nr: int, arch: int, *args: int) -> int:
    """Run the program on one call: ``seccomp_data`` with the low 32 bits of each argument."""
    data = {0: nr, 4: arch} | {16 + 8 * i: a & 0xFFFFFFFF for i, a in enumerate(args)}
    acc, pc = 0, 0
    while True:
        code, jt, jf, k = prog[pc]
        if code == 0x20:
            acc = data.get(k, 0)
        elif code == 0x06:
            return k
        else:
            taken = {0x15: acc == k, 0x35: acc >= k, 0x45: bool(acc & k)}[code]
            pc += jt if taken else jf
        pc += 1


@pytest.mark.parametrize("arch", ["x86_64", "aarch64"])
def test_seccomp_program(arch: str) -> None:
    prog = _syscalls.seccomp_program(arch)
    nums, audit_arch = _syscalls.SYSCALLS[arch], _syscalls.AUDIT_ARCH[arch]
    kill, allow = _syscalls.SECCOMP_RET_KILL_PROCESS, _syscalls.SECCOMP_RET_ALLOW
    eperm, enosys = _syscalls.SECCOMP_RET_ERRNO | 1, _syscalls.SECCOMP_RET_ERRNO | 38
    other_arch = _syscalls.AUDIT_ARCH["aarch64" if arch == "x86_64" else "x86_64"]
    assert _bpf(prog, nums["socket"], other_arch) == kill
    assert _bpf(prog, 0x40000000 + 41, audit_arch) == (kill if arch == "x86_64" else allow)  # x32
    for name in ("socket", "socketpair", "execve", "execveat", "ptrace", "process_vm_readv", "process_vm_writev",
                 "io_uring_setup", "unshare", "mount", "init_module", "bpf"):
        assert _bpf(prog, nums[name], audit_arch) == eperm, name
    if arch == "x86_64":
        assert _bpf(prog, nums["fork"], audit_arch) == eperm and _bpf(prog, nums["vfork"], audit_arch) == eperm
    assert _bpf(prog, nums["clone3"], audit_arch) == enosys
    assert _bpf(prog, nums["clone"], audit_arch, arg0=0x11) == eperm  # fork-like: SIGCHLD only
    assert _bpf(prog, nums["clone"], audit_arch, arg0=0x4111) == eperm  # vfork-like: CLONE_VM|CLONE_VFORK
    assert _bpf(prog, nums["clone"], audit_arch, arg0=0x3D0F00) == allow  # pthread_create's flags
    for name in ("prlimit64", "sched_setaffinity", "sched_setscheduler", "sched_setparam", "sched_setattr"):
        assert _bpf(prog, nums[name], audit_arch, arg0=4242) == eperm, name  # another process
        assert _bpf(prog, nums[name], audit_arch, arg0=0) == allow, name  # itself
    assert _bpf(prog, nums["ioprio_set"], audit_arch) == eperm
    setpriority = nums["setpriority"]
    assert _bpf_args(prog, setpriority, audit_arch, 0, 0) == allow  # PRIO_PROCESS, itself
    assert _bpf_args(prog, setpriority, audit_arch, 0, 4242) == eperm  # another process
    assert _bpf_args(prog, setpriority, audit_arch, 2, 0) == eperm  # PRIO_USER: every process of the user
    for request in _syscalls.DENIED_IOCTLS:
        assert _bpf_args(prog, nums["ioctl"], audit_arch, 3, request) == eperm
    assert _bpf_args(prog, nums["ioctl"], audit_arch, 3, 0x5401) == allow  # TCGETS (isatty) stays possible
    # every number: refused exactly when listed, whatever its place in the program
    denied = {nums[n] for n in _syscalls.DENIED_SYSCALLS if n in nums}
    special = {nums[n] for n, _ in _syscalls.SELF_ONLY_SYSCALLS} | {nums["clone"], nums["clone3"], setpriority,
                                                                   nums["ioctl"]}
    for nr in range(500):
        if nr not in special:
            assert _bpf_args(prog, nr, audit_arch, 4242, 4242) == (eperm if nr in denied else allow), nr


# --- fallback policy ----------------------------------------------------------------------------------------
@pytest.fixture
def no_landlock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(type(LANDLOCK), "available", lambda self: "this kernel has no Landlock (test)")
    monkeypatch.setattr(_registry, "_warned", False)


@pytest.mark.usefixtures("no_landlock")
def test_auto_falls_back_to_audit_with_one_warning() -> None:
    with pytest.warns(SandboxFallbackWarning, match="not a security boundary: this kernel has no Landlock"):
        assert resolve_backend("auto") is AUDIT
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert resolve_backend("auto") is AUDIT  # once per process
        res = run_code("print(1 + 1)", {}, {}, sandbox="auto")
    assert res.sandbox == "audit" and res.output == "2"


@pytest.mark.usefixtures("no_landlock")
def test_require_sandbox_and_explicit_landlock_refuse_without_landlock() -> None:
    for name, required in (("auto", True), ("landlock", False), ("landlock", True)):
        with pytest.raises(SandboxUnavailable, match="this kernel has no Landlock") as exc:
            resolve_backend(name, required)
        assert "\n" not in str(exc.value)
    with pytest.raises(SandboxUnavailable, match="--sandbox audit"):
        resolve_backend("audit", True)
    with pytest.raises(SandboxUnavailable, match="unknown sandbox"):
        resolve_backend("docker")
    assert resolve_backend("audit") is AUDIT


@needs_landlock
def test_auto_uses_the_kernel_backend_here() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert resolve_backend("auto", True) is LANDLOCK


@needs_landlock
def test_a_failed_set_up_is_told_apart_from_code_that_exits_as_if_it_failed(monkeypatch: pytest.MonkeyPatch) -> None:
    """The child reports a standing sandbox on a pipe it closes before reading the code: a failed set-up is
    known (the runner makes it an infrastructure error), and code cannot forge one by exiting with its code."""
    ok = LANDLOCK.run("print('hi')", {}, {}, Limits(timeout_s=5))
    assert ok.started is True and ok.exit_code == 0
    forged = LANDLOCK.run(f"import os\nos._exit({RESTRICTION_FAILED_EXIT})", {}, {}, Limits(timeout_s=5))
    assert forged.exit_code == RESTRICTION_FAILED_EXIT and forged.started is True
    closed = LANDLOCK.run("import os\nos.close(3)\nos.write(4, b'0')", {}, {}, Limits(timeout_s=5))
    assert closed.started is True  # the pipe is closed before the code runs: nothing left to write to
    monkeypatch.setattr(_landlock, "read_roots", lambda root: ["/nonexistent/firstday-root"])
    failed = LANDLOCK.run("print('AGENT' + 'RAN')", {}, {}, Limits(timeout_s=5))
    assert failed.started is False and "AGENTRAN" not in failed.output


@needs_landlock
def test_run_python_whose_sandbox_cannot_start_is_an_infrastructure_error(monkeypatch: pytest.MonkeyPatch) -> None:
    from firstday.errors import InfrastructureError
    from firstday.suites import generate_scenario, preset
    from firstday.world.tools import ToolCall

    scenario = generate_scenario(preset("smoke", seed=3), 0)
    env = DayEnv(scenario, scenario.days[0], EnvConfig(sandbox="landlock"))
    env.reset()
    monkeypatch.setattr(_landlock, "read_roots", lambda root: ["/nonexistent/firstday-root"])
    with pytest.raises(InfrastructureError, match="could not be set up"):
        env.step([ToolCall(name="run_python", arguments={"code": "print(1)"})])
    monkeypatch.undo()
    # code that merely exits with the same status is the agent's own result
    obs = env.step([ToolCall(name="run_python", arguments={"code": f"import os\nos._exit({RESTRICTION_FAILED_EXIT})"})])
    assert obs.results[0].ok and f"exit code {RESTRICTION_FAILED_EXIT}" in obs.results[0].content
