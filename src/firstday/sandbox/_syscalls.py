"""ctypes bindings of the kernel calls the landlock backend needs: Landlock, seccomp-BPF, prctl, capset.

This module imports nothing but the standard library: its source text is also prepended to the bootstrap
that the fresh child interpreter runs (the child cannot import firstday), so it must stay self-contained.
The parent only uses :func:`landlock_abi` (a query with no effect on the calling process).

Syscall numbers are those of ``asm/unistd_64.h`` (x86_64) and ``asm-generic/unistd.h`` (aarch64, which
has no ``fork``/``vfork``/``iopl``/``ioperm``/``mknod``); other machines are not supported.
"""

from __future__ import annotations

import ctypes
import os
import struct

# --- architecture -----------------------------------------------------------------------------------
AUDIT_ARCH_X86_64 = 0xC000003E
AUDIT_ARCH_AARCH64 = 0xC00000B7
X32_SYSCALL_BIT = 0x40000000  # x86_64's x32 ABI: same AUDIT_ARCH, other numbers: kill such calls outright

SYSCALLS: dict[str, dict[str, int]] = {
    "x86_64": {
        "landlock_create_ruleset": 444, "landlock_add_rule": 445, "landlock_restrict_self": 446, "seccomp": 317,
        "socket": 41, "socketpair": 53, "clone": 56, "fork": 57, "vfork": 58, "execve": 59, "execveat": 322,
        "clone3": 435, "ptrace": 101, "process_vm_readv": 310, "process_vm_writev": 311,
        "io_uring_setup": 425, "io_uring_enter": 426, "io_uring_register": 427,
        "init_module": 175, "finit_module": 313, "delete_module": 176, "kexec_load": 246, "kexec_file_load": 320,
        "reboot": 169, "iopl": 172, "ioperm": 173, "bpf": 321, "perf_event_open": 298, "userfaultfd": 323,
        "unshare": 272, "setns": 308, "mount": 165, "umount2": 166, "pivot_root": 155, "chroot": 161,
        "open_tree": 428, "move_mount": 429, "fsopen": 430, "fsmount": 432, "fspick": 433, "mount_setattr": 442,
        "keyctl": 250, "add_key": 248, "request_key": 249, "pidfd_getfd": 438, "kcmp": 312,
        "name_to_handle_at": 303, "open_by_handle_at": 304, "mknod": 133, "mknodat": 259,
        "ioprio_set": 251, "prlimit64": 302, "setpriority": 141, "sched_setparam": 142, "sched_setscheduler": 144,
        "sched_setaffinity": 203, "sched_setattr": 314,
        "chmod": 90, "fchmod": 91, "fchmodat": 268, "fchmodat2": 452, "chown": 92, "fchown": 93, "lchown": 94,
        "fchownat": 260, "utime": 132, "utimes": 235, "futimesat": 261, "utimensat": 280, "setxattr": 188,
        "lsetxattr": 189, "fsetxattr": 190, "removexattr": 197, "lremovexattr": 198, "fremovexattr": 199,
        "setxattrat": 463, "removexattrat": 466, "ioctl": 16,
        "shmget": 29, "shmat": 30, "shmctl": 31, "semget": 64, "semop": 65, "semctl": 66, "semtimedop": 220,
        "msgget": 68, "msgsnd": 69, "msgrcv": 70, "msgctl": 71, "mq_open": 240, "mq_unlink": 241,
        "mq_timedsend": 242, "mq_timedreceive": 243, "mq_notify": 244, "mq_getsetattr": 245,
        "inotify_add_watch": 254, "fanotify_init": 300, "fanotify_mark": 301, "syslog": 103,
        # used only by the agent-process filter (_agent_seal)
        "setsid": 112, "setpgid": 109, "listen": 50, "sendto": 44, "sendmsg": 46, "sendmmsg": 307,
    },
    "aarch64": {
        "landlock_create_ruleset": 444, "landlock_add_rule": 445, "landlock_restrict_self": 446, "seccomp": 277,
        "socket": 198, "socketpair": 199, "clone": 220, "execve": 221, "execveat": 281,
        "clone3": 435, "ptrace": 117, "process_vm_readv": 270, "process_vm_writev": 271,
        "io_uring_setup": 425, "io_uring_enter": 426, "io_uring_register": 427,
        "init_module": 105, "finit_module": 273, "delete_module": 106, "kexec_load": 104, "kexec_file_load": 294,
        "reboot": 142, "bpf": 280, "perf_event_open": 241, "userfaultfd": 282,
        "unshare": 97, "setns": 268, "mount": 40, "umount2": 39, "pivot_root": 41, "chroot": 51,
        "open_tree": 428, "move_mount": 429, "fsopen": 430, "fsmount": 432, "fspick": 433, "mount_setattr": 442,
        "keyctl": 219, "add_key": 217, "request_key": 218, "pidfd_getfd": 438, "kcmp": 272,
        "name_to_handle_at": 264, "open_by_handle_at": 265, "mknodat": 33,
        "ioprio_set": 30, "prlimit64": 261, "setpriority": 140, "sched_setparam": 118, "sched_setscheduler": 119,
        "sched_setaffinity": 122, "sched_setattr": 274,
        "fchmod": 52, "fchmodat": 53, "fchmodat2": 452, "fchown": 55, "fchownat": 54, "utimensat": 88,
        "setxattr": 5, "lsetxattr": 6, "fsetxattr": 7, "removexattr": 14, "lremovexattr": 15, "fremovexattr": 16,
        "setxattrat": 463, "removexattrat": 466, "ioctl": 29,
        "shmget": 194, "shmat": 196, "shmctl": 195, "semget": 190, "semop": 193, "semctl": 191, "semtimedop": 192,
        "msgget": 186, "msgsnd": 189, "msgrcv": 188, "msgctl": 187, "mq_open": 180, "mq_unlink": 181,
        "mq_timedsend": 182, "mq_timedreceive": 183, "mq_notify": 184, "mq_getsetattr": 185,
        "inotify_add_watch": 27, "fanotify_init": 262, "fanotify_mark": 263, "syslog": 116,
        # used only by the agent-process filter (_agent_seal)
        "setsid": 157, "setpgid": 154, "listen": 201, "sendto": 206, "sendmsg": 211, "sendmmsg": 269,
    },
}
AUDIT_ARCH = {"x86_64": AUDIT_ARCH_X86_64, "aarch64": AUDIT_ARCH_AARCH64}

#: refused with EPERM by the seccomp filter (names missing on an architecture are skipped); ``clone`` is
#: refused only without CLONE_THREAD, and ``clone3`` returns ENOSYS so that libc falls back to ``clone``
DENIED_SYSCALLS: tuple[str, ...] = (
    # networking: no socket of any family (Landlock's TCP rules are a second line)
    "socket", "socketpair",
    # process creation and other processes
    "fork", "vfork", "execve", "execveat", "ptrace", "process_vm_readv", "process_vm_writev", "pidfd_getfd",
    "kcmp",
    # io_uring runs operations (sockets included) without passing through these seccomp checks
    "io_uring_setup", "io_uring_enter", "io_uring_register",
    # what root could otherwise still do with capabilities (they are also dropped)
    "init_module", "finit_module", "delete_module", "kexec_load", "kexec_file_load", "reboot", "iopl",
    "ioperm", "bpf", "perf_event_open", "userfaultfd", "unshare", "setns", "mount", "umount2", "pivot_root",
    "chroot", "open_tree", "move_mount", "fsopen", "fsmount", "fspick", "mount_setattr", "keyctl", "add_key",
    "request_key", "name_to_handle_at", "open_by_handle_at", "mknod", "mknodat",
    # I/O priority of other processes (which/who select a group or a user): nothing here needs it
    "ioprio_set",
    # file metadata: Landlock (ABI <= 7) does not restrict chmod, chown, utime or xattrs, so an owner could
    # otherwise set the setuid bit on a file it only reads (a library) or change files outside the copy
    "chmod", "fchmod", "fchmodat", "fchmodat2", "chown", "fchown", "lchown", "fchownat", "utime", "utimes",
    "futimesat", "utimensat", "setxattr", "lsetxattr", "fsetxattr", "removexattr", "lremovexattr",
    "fremovexattr", "setxattrat", "removexattrat",
    # System V and POSIX message-queue IPC (not files: Landlock does not see them), file watches, kernel log
    "shmget", "shmat", "shmctl", "semget", "semop", "semctl", "semtimedop", "msgget", "msgsnd", "msgrcv",
    "msgctl", "mq_open", "mq_unlink", "mq_timedsend", "mq_timedreceive", "mq_notify", "mq_getsetattr",
    "inotify_add_watch", "fanotify_init", "fanotify_mark", "syslog",
)
#: ioctl requests refused on any file: inode flags and project ids (chattr), the inode version, and faking
#: terminal input (TIOCSTI); the same numbers on x86_64 and aarch64
DENIED_IOCTLS: tuple[int, ...] = (0x40086602, 0x40046602, 0x401C5820, 0x40087602, 0x40047602, 0x5412)
#: allowed on the calling process only (the pid argument, at this index, must be 0): a process of the same
#: user may otherwise change another's resource limits or scheduling, and Landlock does not scope these
SELF_ONLY_SYSCALLS: tuple[tuple[str, int], ...] = (
    ("prlimit64", 0), ("sched_setaffinity", 0), ("sched_setscheduler", 0), ("sched_setparam", 0),
    ("sched_setattr", 0),
)
CLONE_THREAD = 0x00010000

# --- Landlock ------------------------------------------------------------------------------------------
LANDLOCK_CREATE_RULESET_VERSION = 1 << 0
LANDLOCK_RULE_PATH_BENEATH = 1
ACCESS_FS = {
    "EXECUTE": 1 << 0, "WRITE_FILE": 1 << 1, "READ_FILE": 1 << 2, "READ_DIR": 1 << 3, "REMOVE_DIR": 1 << 4,
    "REMOVE_FILE": 1 << 5, "MAKE_CHAR": 1 << 6, "MAKE_DIR": 1 << 7, "MAKE_REG": 1 << 8, "MAKE_SOCK": 1 << 9,
    "MAKE_FIFO": 1 << 10, "MAKE_BLOCK": 1 << 11, "MAKE_SYM": 1 << 12, "REFER": 1 << 13, "TRUNCATE": 1 << 14,
    "IOCTL_DEV": 1 << 15,
}
#: rights that can be granted on a file (the others only make sense beneath a directory)
FILE_RIGHTS = (ACCESS_FS["EXECUTE"] | ACCESS_FS["WRITE_FILE"] | ACCESS_FS["READ_FILE"] | ACCESS_FS["TRUNCATE"]
               | ACCESS_FS["IOCTL_DEV"])
ACCESS_NET_BIND_TCP = 1 << 0
ACCESS_NET_CONNECT_TCP = 1 << 1
SCOPE_ABSTRACT_UNIX_SOCKET = 1 << 0
SCOPE_SIGNAL = 1 << 1

PR_SET_NO_NEW_PRIVS = 38
PR_CAP_AMBIENT = 47
PR_CAP_AMBIENT_CLEAR_ALL = 4
SECCOMP_SET_MODE_FILTER = 1
SECCOMP_FILTER_FLAG_TSYNC = 1
SECCOMP_RET_KILL_PROCESS = 0x80000000
SECCOMP_RET_ERRNO = 0x00050000
SECCOMP_RET_ALLOW = 0x7FFF0000
_LINUX_CAPABILITY_VERSION_3 = 0x20080522
EPERM = 1
ENOSYS = 38


class RestrictionError(OSError):
    """One step of the kernel restriction failed (the child must then run nothing)."""


def machine() -> str:
    # os.uname, not platform.machine: importing platform costs the child milliseconds on every call
    return os.uname().machine.lower().replace("arm64", "aarch64").replace("amd64", "x86_64")


_LIBC: list[ctypes.CDLL] = []


def _libc() -> ctypes.CDLL:
    if not _LIBC:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.syscall.restype = ctypes.c_long
        _LIBC.append(libc)
    return _LIBC[0]


def _check(result: int, what: str) -> int:
    if result < 0:
        err = ctypes.get_errno()
        raise RestrictionError(err, f"{what} failed: {os.strerror(err)}")
    return result


def landlock_abi() -> int:
    """The Landlock ABI version of the running kernel (0: Landlock absent or disabled). No side effect."""
    numbers = SYSCALLS.get(machine())
    if numbers is None:
        return 0
    libc = _libc()
    version = int(libc.syscall(ctypes.c_long(numbers["landlock_create_ruleset"]), None, ctypes.c_size_t(0),
                               ctypes.c_uint32(LANDLOCK_CREATE_RULESET_VERSION)))
    return max(version, 0)


def handled_fs(abi: int) -> int:
    """Every filesystem right the ABI knows: a right left out of the handled set would be allowed everywhere."""
    rights = (1 << 13) - 1  # ABI 1: EXECUTE .. MAKE_SYM
    if abi >= 2:
        rights |= ACCESS_FS["REFER"]
    if abi >= 3:
        rights |= ACCESS_FS["TRUNCATE"]
    if abi >= 5:
        rights |= ACCESS_FS["IOCTL_DEV"]
    return rights


class _RulesetAttr(ctypes.Structure):
    _fields_ = [("handled_access_fs", ctypes.c_uint64), ("handled_access_net", ctypes.c_uint64),
                ("scoped", ctypes.c_uint64)]


class _PathBeneathAttr(ctypes.Structure):
    _pack_ = 1  # __attribute__((packed)) in the kernel header: 12 bytes
    _fields_ = [("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]


class _SockFilter(ctypes.Structure):
    _fields_ = [("code", ctypes.c_uint16), ("jt", ctypes.c_uint8), ("jf", ctypes.c_uint8), ("k", ctypes.c_uint32)]


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.POINTER(_SockFilter))]


def landlock_restrict(read_roots: list[str], write_roots: list[str], read_write_files: list[str]) -> int:
    """Restrict this thread (and what it starts) to reading ``read_roots``, reading and writing beneath
    ``write_roots`` and reading/writing the device files ``read_write_files``; deny TCP bind/connect
    (ABI >= 4), abstract unix sockets and signals out of the domain (ABI >= 6). Returns the ABI used."""
    numbers = SYSCALLS[machine()]
    libc = _libc()
    abi = landlock_abi()
    if abi < 1:
        raise RestrictionError(0, "Landlock is not available in this kernel")
    fs = handled_fs(abi)
    attr = _RulesetAttr(handled_access_fs=fs,
                        handled_access_net=(ACCESS_NET_BIND_TCP | ACCESS_NET_CONNECT_TCP) if abi >= 4 else 0,
                        scoped=(SCOPE_ABSTRACT_UNIX_SOCKET | SCOPE_SIGNAL) if abi >= 6 else 0)
    size = 24 if abi >= 6 else 16 if abi >= 4 else 8  # older kernels reject fields they do not know
    ruleset = _check(int(libc.syscall(ctypes.c_long(numbers["landlock_create_ruleset"]), ctypes.byref(attr),
                                      ctypes.c_size_t(size), ctypes.c_uint32(0))), "landlock_create_ruleset")
    read = ACCESS_FS["READ_FILE"] | ACCESS_FS["READ_DIR"]
    # the copy: everything but executing, device/socket nodes (root could mknod a disk) and device ioctls
    write = fs & ~(ACCESS_FS["EXECUTE"] | ACCESS_FS["MAKE_CHAR"] | ACCESS_FS["MAKE_BLOCK"]
                   | ACCESS_FS["MAKE_SOCK"] | ACCESS_FS["IOCTL_DEV"])
    device = (ACCESS_FS["READ_FILE"] | ACCESS_FS["WRITE_FILE"] | ACCESS_FS["TRUNCATE"]) & fs
    try:
        for paths, rights in ((read_roots, read), (write_roots, write), (read_write_files, device)):
            for path in paths:
                fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
                try:
                    allowed = rights if os.path.isdir(path) else rights & FILE_RIGHTS
                    rule = _PathBeneathAttr(allowed_access=allowed & fs, parent_fd=fd)
                    _check(int(libc.syscall(ctypes.c_long(numbers["landlock_add_rule"]), ctypes.c_int(ruleset),
                                            ctypes.c_int(LANDLOCK_RULE_PATH_BENEATH), ctypes.byref(rule),
                                            ctypes.c_uint32(0))), f"landlock_add_rule({path})")
                finally:
                    os.close(fd)
        _check(int(libc.syscall(ctypes.c_long(numbers["landlock_restrict_self"]), ctypes.c_int(ruleset),
                                ctypes.c_uint32(0))), "landlock_restrict_self")
    finally:
        os.close(ruleset)
    return abi


def seccomp_program(arch: str) -> list[tuple[int, int, int, int]]:
    """The BPF program: kill on a foreign architecture (and x32 calls), refuse the calls of
    :data:`DENIED_SYSCALLS`, ``clone`` without CLONE_THREAD and ``clone3``, the calls of
    :data:`SELF_ONLY_SYSCALLS` and ``setpriority`` aimed at another process, allow the rest."""
    numbers = SYSCALLS[arch]
    ld_abs, jeq, jge, jset, ret = 0x20, 0x15, 0x35, 0x45, 0x06  # BPF_LD|W|ABS, BPF_JMP|JEQ|K, ..., BPF_RET|K
    errno_perm, errno_nosys = SECCOMP_RET_ERRNO | EPERM, SECCOMP_RET_ERRNO | ENOSYS
    prog: list[tuple[int, int, int, int]] = [
        (ld_abs, 0, 0, 4),  # seccomp_data.arch
        (jeq, 1, 0, AUDIT_ARCH[arch]),
        (ret, 0, 0, SECCOMP_RET_KILL_PROCESS),
        (ld_abs, 0, 0, 0),  # seccomp_data.nr
    ]
    if arch == "x86_64":
        prog += [(jge, 0, 1, X32_SYSCALL_BIT), (ret, 0, 0, SECCOMP_RET_KILL_PROCESS)]
    for name in DENIED_SYSCALLS:
        if name in numbers:
            prog += [(jeq, 0, 1, numbers[name]), (ret, 0, 0, errno_perm)]
    prog += [(jeq, 0, 1, numbers["clone3"]), (ret, 0, 0, errno_nosys)]
    for name, index in SELF_ONLY_SYSCALLS:
        prog += [
            (jeq, 0, 4, numbers[name]),  # another call: on to the next block
            (ld_abs, 0, 0, 16 + 8 * index),  # low 32 bits of the pid argument (pid_t)
            (jeq, 1, 0, 0),
            (ret, 0, 0, errno_perm),
            (ret, 0, 0, SECCOMP_RET_ALLOW),
        ]
    prog += [(jeq, 0, 2 + 2 * len(DENIED_IOCTLS), numbers["ioctl"]), (ld_abs, 0, 0, 24)]  # request: args[1]
    for request in DENIED_IOCTLS:
        prog += [(jeq, 0, 1, request), (ret, 0, 0, errno_perm)]
    prog += [(ret, 0, 0, SECCOMP_RET_ALLOW)]
    # setpriority(which, who, prio): only (PRIO_PROCESS, 0), this process; a group or a user would reach others
    prog += [
        (jeq, 0, 6, numbers["setpriority"]),  # another call: on to the next block
        (ld_abs, 0, 0, 16),
        (jeq, 0, 2, 0),
        (ld_abs, 0, 0, 24),
        (jeq, 1, 0, 0),
        (ret, 0, 0, errno_perm),
        (ret, 0, 0, SECCOMP_RET_ALLOW),
    ]
    prog += [
        (jeq, 0, 3, numbers["clone"]),  # another call: to the final ALLOW
        (ld_abs, 0, 0, 16),  # low 32 bits of args[0] (little-endian): the clone flags on both architectures
        (jset, 1, 0, CLONE_THREAD),
        (ret, 0, 0, errno_perm),
        (ret, 0, 0, SECCOMP_RET_ALLOW),
    ]
    return prog


def seccomp_install() -> None:
    """Install :func:`seccomp_program` for this process (all threads: TSYNC). Requires no_new_privs."""
    arch = machine()
    prog = seccomp_program(arch)
    filters = (_SockFilter * len(prog))(*[_SockFilter(c, jt, jf, k) for c, jt, jf, k in prog])
    fprog = _SockFprog(len(prog), ctypes.cast(filters, ctypes.POINTER(_SockFilter)))
    libc = _libc()
    _check(int(libc.syscall(ctypes.c_long(SYSCALLS[arch]["seccomp"]), ctypes.c_uint(SECCOMP_SET_MODE_FILTER),
                            ctypes.c_uint(SECCOMP_FILTER_FLAG_TSYNC), ctypes.byref(fprog))), "seccomp")


def no_new_privs() -> None:
    libc = _libc()
    _check(int(libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)), "prctl(PR_SET_NO_NEW_PRIVS)")


def drop_capabilities() -> None:
    """Empty the effective, permitted, inheritable and ambient sets: root keeps its uid but no privilege."""
    libc = _libc()
    _check(int(libc.prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0)), "prctl(PR_CAP_AMBIENT_CLEAR_ALL)")
    header = ctypes.create_string_buffer(struct.pack("Ii", _LINUX_CAPABILITY_VERSION_3, 0))
    data = ctypes.create_string_buffer(bytes(24))  # two __user_cap_data_struct of three u32, all zero
    _check(int(libc.capset(header, data)), "capset")


def single_threaded() -> bool:
    """Landlock restricts the calling thread only: refuse to go on if another thread already exists."""
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("Threads:"):
                return int(line.split()[1]) == 1
    return False
