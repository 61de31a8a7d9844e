"""The kernel backend: Landlock (files, TCP, signals, abstract sockets) plus a seccomp filter (sockets,
process creation, privileged calls), applied by the bootstrap inside the fresh child before it reads the
agent's code. It fails closed: if any step fails, the child prints one line and exits having run nothing.
"""

from __future__ import annotations

import functools
import os
import sys
import sysconfig
from pathlib import Path

from firstday.sandbox import _syscalls
from firstday.sandbox._audit import HOOK, RUN_AGENT_CODE
from firstday.sandbox._base import RESTRICTION_FAILED_EXIT, RunResult, SandboxBackend, run_in_child
from firstday.sandbox._limits import Limits

#: system locations the interpreter and its native libraries read (shared libraries, the loader's cache,
#: time zones); each is kept only if it exists and is not forbidden below
SYSTEM_READ_ROOTS = ("/usr/lib", "/usr/lib64", "/lib", "/lib64", "/usr/local/lib", "/usr/share/zoneinfo",
                     "/etc/ld.so.cache", "/etc/localtime", "/dev/urandom")
#: device files the code may read and write
DEVICE_FILES = ("/dev/null",)
#: directories that merely contain other things: never a read root, whatever the configuration
FORBIDDEN_ROOTS = ("/", "/work", "/root", "/home", "/tmp", "/var", "/etc", "/usr", "/opt", "/srv", "/mnt",
                   "/media", "/proc", "/sys", "/dev", "/run")

_SYSCALLS_SOURCE = Path(_syscalls.__file__).read_text(encoding="utf-8")

#: the restriction, between the syscall bindings (prepended) and the audit hook + agent code (appended);
#: arguments: CPU seconds, file size, open files, address space, then the read roots, the read-write roots and
#: the device files, each list newline-separated (no json import: the child starts on every call)
_RESTRICT = rf'''
import resource, sys
def _firstday_restrict(cpu_s, fsize, nofile, mem, read, write, devices):
    resource.setrlimit(resource.RLIMIT_CPU, (int(cpu_s), int(cpu_s) + 1))
    resource.setrlimit(resource.RLIMIT_FSIZE, (int(fsize), int(fsize)))
    resource.setrlimit(resource.RLIMIT_NOFILE, (int(nofile), int(nofile)))
    try:
        resource.setrlimit(resource.RLIMIT_AS, (int(mem), int(mem)))
    except (ValueError, OSError):
        pass  # not settable on every platform; the CPU and wall-clock limits still hold
    if not single_threaded():
        raise RestrictionError(0, "the interpreter already runs a second thread")
    no_new_privs()
    drop_capabilities()
    landlock_restrict(*([p for p in arg.split("\n") if p] for arg in (read, write, devices)))
    seccomp_install()
try:
    _firstday_restrict(*sys.argv[1:8])
except BaseException as _exc:
    sys.stderr.write("firstday sandbox: the landlock restriction failed (" + str(_exc) + "); nothing was run\n")
    sys.stderr.flush()
    os._exit({RESTRICTION_FAILED_EXIT})
del _firstday_restrict
# tell the parent the sandbox stands, then close the pipe: the agent's code, read below, cannot take it back
os.write(int(sys.argv[8]), b"1")
os.close(int(sys.argv[8]))
'''

BOOTSTRAP = _SYSCALLS_SOURCE + _RESTRICT + HOOK + RUN_AGENT_CODE


def _is_same_or_ancestor(candidate: Path, of: Path) -> bool:
    return candidate == of or candidate in of.parents


def read_roots(temp_root: Path) -> list[str]:
    """The directories and files the code may read: the standard library, the site-packages the
    interpreter imports from, libpython, and :data:`SYSTEM_READ_ROOTS`; resolved, existing, and never a
    directory that merely contains other things (:data:`FORBIDDEN_ROOTS`, an ancestor of the temporary
    directory, of the home directory or of the current working directory). ``sys.path`` entries of
    the parent (such as an editable install's source folder) are not included: the code needs the
    libraries, not firstday."""
    guarded = [temp_root.resolve()]
    for where in (Path.home, Path.cwd):
        try:
            guarded.append(where().resolve())
        except (RuntimeError, OSError):  # no home directory known, or the working directory was removed
            continue
    roots = [r for r in _library_roots() if not any(_is_same_or_ancestor(r, g) for g in guarded)]
    # a root inside another one adds nothing
    return sorted(str(r) for r in roots if not any(o != r and r.is_relative_to(o) for o in roots))


@functools.cache
def _library_roots() -> tuple[Path, ...]:
    """The candidates of :func:`read_roots`, resolved once per process (sysconfig is slow to ask)."""
    paths = sysconfig.get_paths()
    candidates = [paths["stdlib"], paths["platstdlib"], paths["purelib"], paths["platlib"],
                  os.path.join(paths["stdlib"], "lib-dynload")]
    libdir, ldlibrary = sysconfig.get_config_var("LIBDIR"), sysconfig.get_config_var("LDLIBRARY")
    if isinstance(libdir, str) and isinstance(ldlibrary, str):
        candidates.append(os.path.join(libdir, ldlibrary))
    candidates += SYSTEM_READ_ROOTS
    forbidden = {Path(p) for p in FORBIDDEN_ROOTS}
    roots: list[Path] = []
    for c in candidates:
        p = Path(c)
        if p.exists() and (real := p.resolve()) not in forbidden and real not in roots:
            roots.append(real)
    return tuple(roots)


@functools.cache
def _kernel_reason() -> str | None:
    if sys.platform != "linux":
        return f"Landlock is a Linux feature; this is {sys.platform}"
    arch = _syscalls.machine()
    if arch not in _syscalls.SYSCALLS:
        return f"the kernel backend knows the syscall numbers of x86_64 and aarch64 only, not {arch}"
    try:
        abi = _syscalls.landlock_abi()
    except OSError as exc:
        return f"the Landlock probe failed ({exc})"
    if abi < 1:
        return ("this kernel has no Landlock (it needs Linux >= 5.13 with CONFIG_SECURITY_LANDLOCK=y and "
                "'landlock' in the lsm= boot parameter)")
    # Landlock alone is not enough (seccomp filters, /proc/self/status, capset): one probe child per process
    # proves the whole restriction works here, so that auto falls back instead of every call failing closed
    probe = LandlockBackend().run("print('firstday-probe-' + 'ok')", {}, {}, Limits(timeout_s=30))
    if probe.output.strip() != "firstday-probe-ok":
        first = (probe.output.strip().splitlines() or ["no output"])[0]
        return f"the kernel restriction failed in a probe child ({first[:300]})"
    return None


class LandlockBackend(SandboxBackend):
    """Landlock + seccomp + dropped capabilities, applied in the child before the agent's code is read."""

    name = "landlock"

    def available(self) -> str | None:
        return _kernel_reason()

    def abi(self) -> int:
        return _syscalls.landlock_abi() if self.available() is None else 0

    def run(self, code: str, workspace: dict[str, str], shared: dict[str, tuple[str, bool]],
            limits: Limits) -> RunResult:
        def args(root: Path) -> list[str]:
            return [str(limits.cpu_seconds), str(limits.file_size_bytes), str(limits.open_files),
                    str(limits.memory_bytes), "\n".join(read_roots(root)), str(root.resolve()),
                    "\n".join(d for d in DEVICE_FILES if os.path.exists(d))]
        return run_in_child(self.name, BOOTSTRAP, args, code, workspace, shared, limits, ready_signal=True)
