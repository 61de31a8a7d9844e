"""Run an external agent's command sealed by the kernel: its files, its network and its reach over other
processes limited to an allowlist (docs/agent-sandbox.md).

:func:`start_sealed_process` starts ``python -I -S -c <stub> SRC POLICY READY_FD -- argv...``: the
launcher (:mod:`firstday.sandbox._launch`) seals itself with Landlock (files, TCP ports, signal and
abstract-socket scoping) and a seccomp filter, then execs the command, which inherits the seal with
everything it starts. The process leads its own session and process group; :func:`kill_process_group` and
:func:`stop_process_group` end the whole group, and the group is killed and the process's temporary
directory removed as soon as the process exits.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import os
import shutil
import signal
import subprocess
import sys
import sysconfig
import tempfile
import threading
import weakref
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING

import firstday
from firstday.errors import ConfigError, InfrastructureError
from firstday.sandbox import _agent_seal, _syscalls
from firstday.sandbox._agent_seal import encode_policy
from firstday.sandbox._landlock import FORBIDDEN_ROOTS

if TYPE_CHECKING:
    from firstday.sandbox._agent_seal import SealPolicy

#: the backend names :func:`start_sealed_process` returns
SEALED, UNSEALED = "landlock", "none"

#: system directories the agent may read and execute from (kept if they exist; symlinks such as /lib resolved)
SYSTEM_EXEC_ROOTS = ("/usr/bin", "/bin", "/usr/sbin", "/sbin", "/usr/lib", "/usr/lib64", "/lib", "/lib64",
                     "/usr/libexec", "/usr/local/bin", "/usr/local/lib")
#: read only: shared data (time zones, locales, certificates), the loader's configuration, name resolution
#: from files (/etc/hosts; no DNS: UDP is refused), TLS trust stores and OpenSSL's configuration (not
#: /etc/ssl or /etc/pki as a whole: their private/ folders hold the machine's TLS keys), the CPU count
SYSTEM_READ_ROOTS = ("/usr/share", "/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/ld.so.conf.d", "/etc/localtime",
                     "/etc/hosts", "/etc/host.conf", "/etc/nsswitch.conf", "/etc/gai.conf", "/etc/ssl/certs",
                     "/etc/ssl/openssl.cnf", "/etc/ca-certificates", "/etc/ca-certificates.conf",
                     "/etc/pki/tls/certs", "/etc/pki/tls/openssl.cnf", "/etc/pki/ca-trust", "/etc/crypto-policies",
                     "/etc/mime.types", "/sys/devices/system/cpu")
DEVICES_RW = ("/dev/null",)
DEVICES_R = ("/dev/urandom", "/dev/random", "/dev/zero")
#: never a root of the agent's policy, whatever the configuration: directories that merely hold others
AGENT_FORBIDDEN_ROOTS = (*FORBIDDEN_ROOTS, "/usr/local")

#: the launcher's stub: put this copy of firstday first on sys.path (``-I`` ignores PYTHONPATH, ``-S``
#: skips site-packages) and hand over to :func:`firstday.sandbox._launch.main`
_STUB = "import sys; sys.path.insert(0, sys.argv[1]); from firstday.sandbox._launch import main; main(sys.argv[2:])"


@dataclass(frozen=True)
class AgentProcessPolicy:
    """What a sealed agent process may reach besides the system and Python directories and its own fresh
    temporary directory. Landlock filters TCP by **port, not host**: a port listed here may be reached on
    any address (docs/agent-sandbox.md)."""

    connect_ports: tuple[int, ...]  # TCP ports the process may connect to (the MCP endpoint, model endpoints)
    readable: tuple[Path, ...] = ()  # extra read-only paths (e.g. the agent's own code directory)
    writable: tuple[Path, ...] = ()  # extra writable paths (a fresh temp dir is always given)


def _is_same_or_ancestor(candidate: Path, of: Path) -> bool:
    return candidate == of or candidate in of.parents


def check_policy(policy: AgentProcessPolicy, protected: Sequence[Path] = ()) -> None:
    """Raise :class:`ConfigError` (one line) when ``policy`` is malformed: a port outside 1..65535, a path that
    does not exist or is a directory that merely holds others (``/``, ``/home``, ``/tmp``...), or a path that
    is, or contains, one of ``protected`` (say, the suite and run folders the agent must not read)."""
    for port in policy.connect_ports:
        if not isinstance(port, int) or not 1 <= port <= 65535:
            raise ConfigError(f"agent sandbox: connect port {port!r} is not a TCP port (1..65535)")
    forbidden = {Path(p) for p in AGENT_FORBIDDEN_ROOTS}
    guarded = [Path(p).resolve() for p in protected]
    for kind, paths in (("readable", policy.readable), ("writable", policy.writable)):
        for path in paths:
            if any(c in str(path.resolve()) for c in (_agent_seal.GROUP_SEP, _agent_seal.ITEM_SEP)):
                raise ConfigError(f"agent sandbox: {kind} path {str(path)!r} holds a newline or RS character")
            if not path.exists():
                raise ConfigError(f"agent sandbox: {kind} path {path} does not exist")
            real = path.resolve()
            if real in forbidden:
                raise ConfigError(f"agent sandbox: {kind} path {path} is too broad (it holds other users' or "
                                  "the system's files); name the agent's own folder")
            for g in guarded:
                if _is_same_or_ancestor(real, g):
                    raise ConfigError(f"agent sandbox: {kind} path {path} contains {g}, which the agent must "
                                      "not reach; move the agent's files elsewhere")


@functools.cache
def _python_roots() -> tuple[str, ...]:
    """The Python installation the agent's interpreter needs: the standard library, site-packages, libpython,
    the interpreter itself, and the prefixes (a virtual environment's whole folder, with ``pyvenv.cfg`` and
    its scripts; a base installation such as pyenv's) unless a prefix is a directory that merely holds others
    or holds the caller's home or working directory."""
    paths = sysconfig.get_paths()
    candidates = [paths["stdlib"], paths["platstdlib"], paths["purelib"], paths["platlib"], paths["scripts"],
                  os.path.join(paths["stdlib"], "lib-dynload"), sys.executable, os.path.realpath(sys.executable)]
    libdir, ldlibrary = sysconfig.get_config_var("LIBDIR"), sysconfig.get_config_var("LDLIBRARY")
    if isinstance(libdir, str) and isinstance(ldlibrary, str):
        candidates.append(os.path.join(libdir, ldlibrary))
    guarded: list[Path] = []
    for where in (Path.home, Path.cwd):
        with contextlib.suppress(RuntimeError, OSError):
            guarded.append(where().resolve())
    forbidden = {Path(p) for p in AGENT_FORBIDDEN_ROOTS}
    for prefix in {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix}:
        real = Path(prefix).resolve()
        if real not in forbidden and not any(_is_same_or_ancestor(real, g) for g in guarded):
            candidates.append(prefix)
    return _existing(candidates)


def _existing(candidates: Sequence[str]) -> tuple[str, ...]:
    """Resolved, existing, deduplicated, a root inside another one dropped (it adds nothing)."""
    roots: list[Path] = []
    for c in candidates:
        p = Path(c)
        if p.exists() and (real := p.resolve()) not in roots:
            roots.append(real)
    return tuple(sorted(str(r) for r in roots if not any(o != r and r.is_relative_to(o) for o in roots)))


def seal_policy(policy: AgentProcessPolicy, temp_dir: Path) -> SealPolicy:
    """The launcher's policy: every path resolved and existing, system and Python roots added."""
    read_exec = _existing([*SYSTEM_EXEC_ROOTS, *_python_roots(), *(str(p) for p in policy.readable)])
    read = [r for r in _existing(SYSTEM_READ_ROOTS) if not any(Path(r).is_relative_to(o) for o in read_exec)]
    return {"read_exec": list(read_exec), "read": read,
            "write": list(_existing([str(temp_dir), *(str(p) for p in policy.writable)])),
            "devices_rw": [d for d in DEVICES_RW if os.path.exists(d)],
            "devices_r": [d for d in DEVICES_R if os.path.exists(d)],
            "connect_ports": sorted(set(policy.connect_ports))}


def _launcher_argv(seal: SealPolicy, ready_fd: int, argv: Sequence[str]) -> list[str]:
    src = str(Path(firstday.__file__).resolve().parents[1])  # the folder holding this copy of firstday
    return [sys.executable, "-I", "-S", "-c", _STUB, src, encode_policy(seal), str(ready_fd), "--", *argv]


def _sealed_env(env: Mapping[str, str], temp_dir: Path) -> dict[str, str]:
    # the caller's home is out of reach anyway: tools that write caches under ~ write in the temp dir instead
    return {**env, "TMPDIR": str(temp_dir), "TMP": str(temp_dir), "TEMP": str(temp_dir), "HOME": str(temp_dir)}


def _read_all(fd: int) -> bytes:
    """Everything written on the pipe until every writer closed it (the launcher exec'd or exited)."""
    chunks = []
    try:
        while chunk := os.read(fd, 4096):
            chunks.append(chunk)
    finally:
        os.close(fd)
    return b"".join(chunks)


class SealFailed(InfrastructureError):
    """The kernel seal could not be applied to an agent process although the kernel supports it."""


_probe_lock = threading.Lock()


def seal_unavailable_reason() -> str | None:
    """None when agent processes can be sealed here; otherwise why not (one sentence). Probes once per
    process: a sealed ``python -c`` must print its marker (the whole seal works on this kernel). Episodes
    starting together wait for the one probe rather than each running their own."""
    with _probe_lock:
        return _probe()


@functools.cache
def _probe() -> str | None:
    if sys.platform != "linux":
        return f"Landlock is a Linux feature; this is {sys.platform}"
    arch = _syscalls.machine()
    if arch not in _syscalls.SYSCALLS:
        return f"the kernel sandbox knows the syscall numbers of x86_64 and aarch64 only, not {arch}"
    try:
        abi = _syscalls.landlock_abi()
    except OSError as exc:
        return f"the Landlock probe failed ({exc})"
    if abi < _agent_seal.MIN_ABI:
        return (f"sealing an agent process needs Landlock ABI >= {_agent_seal.MIN_ABI} (Linux >= 6.12: TCP port "
                f"rules and signal scoping), this kernel has ABI {abi}")
    with tempfile.TemporaryDirectory(prefix="firstday-agent-probe-") as tmp:
        read_fd, write_fd = os.pipe()
        try:
            argv = _launcher_argv(seal_policy(AgentProcessPolicy(connect_ports=()), Path(tmp)), write_fd,
                                  [sys.executable, "-I", "-S", "-c", "print('firstday-seal-' + 'ok')"])
            probe = subprocess.run(argv, capture_output=True, pass_fds=(write_fd,), timeout=60, check=False,
                                   env=_sealed_env({"PATH": "/usr/bin:/bin"}, Path(tmp)))
        except (OSError, subprocess.SubprocessError) as exc:
            return f"the sealed probe process could not run ({exc})"
        finally:
            os.close(write_fd)
            os.close(read_fd)
    if probe.stdout.decode(errors="replace").strip() != "firstday-seal-ok":
        said = (probe.stderr.decode(errors="replace").strip().splitlines() or ["no output"])[-1]
        return f"the seal failed in a probe process ({said[:300]})"
    return None


_REAPERS: set[asyncio.Task[None]] = set()


async def _reap(proc: asyncio.subprocess.Process, temp_dir: Path) -> None:
    """Once the process exits (or the loop ends), kill what is left of its group, remove its temp dir."""
    try:
        await proc.wait()
    finally:
        kill_process_group(proc)
        shutil.rmtree(temp_dir, ignore_errors=True)


def _watch(proc: asyncio.subprocess.Process, temp_dir: Path) -> None:
    task = asyncio.get_running_loop().create_task(_reap(proc, temp_dir))
    _REAPERS.add(task)  # a strong reference until it ends
    task.add_done_callback(_REAPERS.discard)
    weakref.finalize(proc, shutil.rmtree, temp_dir, ignore_errors=True)  # should the loop close first


async def start_sealed_process(argv: Sequence[str], *, env: Mapping[str, str], cwd: Path,
                               policy: AgentProcessPolicy, stdout: int | IO[bytes], stderr: int | IO[bytes],
                               require: bool = False) -> tuple[asyncio.subprocess.Process, str]:
    """Start ``argv`` (looked up on ``env``'s PATH) in a new session, sealed by the kernel: it reads only the
    system and Python directories, ``policy.readable`` and its fresh temporary directory (``TMPDIR`` and
    ``HOME`` in its environment); writes only that directory and ``policy.writable``; connects only to TCP
    ports ``policy.connect_ports``; cannot signal, trace or read the memory of processes outside its seal.
    Its stdin is /dev/null. Returns once the command runs, with the backend used: ``"landlock"``, or
    ``"none"`` when the kernel cannot seal (unsealed, in its own session all the same) and ``require`` is
    false. Raises :class:`~firstday.sandbox.SandboxUnavailable` when ``require`` and the kernel cannot seal,
    :class:`ConfigError` for a malformed policy, :class:`OSError` (e.g. ``FileNotFoundError``) when the
    command cannot be executed, :class:`SealFailed` when the seal failed on a kernel that supports it."""
    from firstday.sandbox._registry import SandboxUnavailable

    if not argv:
        raise ConfigError("agent sandbox: an empty command")
    check_policy(policy)
    reason = await asyncio.to_thread(seal_unavailable_reason)
    if reason is not None and require:
        raise SandboxUnavailable(f"the agent process cannot be sealed here: {reason}; run on Linux >= 6.12 with "
                                 "Landlock enabled, or accept an unsealed agent process")
    temp_dir = Path(tempfile.mkdtemp(prefix="firstday-agent-"))
    try:
        sealed_env = _sealed_env(env, temp_dir)
        if reason is not None:
            proc = await asyncio.create_subprocess_exec(
                *argv, stdin=subprocess.DEVNULL, stdout=stdout, stderr=stderr, cwd=cwd, env=sealed_env,
                start_new_session=True)
            _watch(proc, temp_dir)
            return proc, UNSEALED
        read_fd, write_fd = os.pipe()
        try:
            proc = await asyncio.create_subprocess_exec(
                *_launcher_argv(seal_policy(policy, temp_dir), write_fd, argv), stdin=subprocess.DEVNULL,
                stdout=stdout, stderr=stderr, cwd=cwd, env=sealed_env, start_new_session=True,
                pass_fds=(write_fd,))
        except BaseException:
            os.close(read_fd)
            raise
        finally:
            os.close(write_fd)  # the launcher's copy is the only writer left
    except BaseException:
        shutil.rmtree(temp_dir, ignore_errors=True)
        raise
    _watch(proc, temp_dir)
    try:
        said = await asyncio.to_thread(_read_all, read_fd)
    except BaseException:  # cancelled while the launcher starts: leave nothing running
        kill_process_group(proc)
        raise
    if said == b"S":
        return proc, SEALED
    await proc.wait()
    if said.startswith(b"SE"):
        number, _, message = said[2:].decode("utf-8", "replace").partition(" ")
        raise OSError(int(number) if number.isdigit() else 0, message, argv[0])
    detail = said[1:].decode("utf-8", "replace") if said.startswith(b"F") else (
        f"the launcher exited with status {proc.returncode} before sealing (see the process's stderr)")
    raise SealFailed(detail)


def kill_process_group(proc: asyncio.subprocess.Process, sig: int = signal.SIGKILL) -> None:
    """Send ``sig`` to the process's whole group (it leads its own session; the seal refuses ``setsid`` and
    ``setpgid``, so nothing it starts can leave the group). No error if the group is gone."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, sig)


async def stop_process_group(proc: asyncio.subprocess.Process, grace_s: float = 2.0) -> int:
    """End the process and its group: SIGTERM to the group, SIGKILL after ``grace_s`` seconds if the process
    has not exited; then SIGKILL to whatever is left of the group. Returns the process's exit status."""
    if proc.returncode is None:
        kill_process_group(proc, signal.SIGTERM)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(proc.wait(), grace_s)
    kill_process_group(proc)
    return await proc.wait()
