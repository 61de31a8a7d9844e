"""The kernel seal of an external agent process, applied by the launcher (:mod:`firstday.sandbox._launch`) to
itself just before it execs the agent's command: everything the command then starts inherits it.

Unlike ``run_python``'s restriction, the agent may start processes (its own interpreter, helpers), run threads
and open TCP connections to the ports of its policy. Imports only the standard library and
:mod:`firstday.sandbox._syscalls` (the launcher must start fast). See docs/agent-sandbox.md.
"""

from __future__ import annotations

import ctypes
import os

from firstday.sandbox import _syscalls
from firstday.sandbox._syscalls import ACCESS_FS, RestrictionError

TYPE_CHECKING = False  # not imported from typing: the launcher would pay for importing it
if TYPE_CHECKING:
    from typing import TypedDict

    class SealPolicy(TypedDict):
        """What the launcher receives (:func:`encode_policy`), every path absolute and existing."""

        read_exec: list[str]  # read and execute (system and Python directories, the agent's own code)
        read: list[str]  # read only (a few /etc files, /usr/share)
        write: list[str]  # read and write, no execute (the temp dir and policy.writable)
        devices_rw: list[str]  # /dev/null
        devices_r: list[str]  # /dev/urandom and the like
        connect_ports: list[int]

#: the lowest Landlock ABI the seal accepts: 4 brings the TCP port rules, 6 the signal and abstract-socket
#: scoping. Below it an agent could connect anywhere or signal the runner, so the seal is "unavailable"
MIN_ABI = 6

#: syscalls the agent filter refuses outright: the ``run_python`` list without process creation and sockets
#: (handled by argument below), plus leaving the process group (``setsid``, ``setpgid``: a process that left
#: it would outlive the group kill at the end of the episode) and ``listen`` (an unbound socket that listens
#: gets a port without ``bind``, which is all Landlock checks)
AGENT_DENIED_SYSCALLS: tuple[str, ...] = (
    *(n for n in _syscalls.DENIED_SYSCALLS if n not in ("socket", "socketpair", "fork", "vfork", "execve", "execveat")),
    "setsid", "setpgid", "listen")

AF_UNIX, AF_INET, AF_INET6 = 1, 2, 10
SOCK_STREAM, SOCK_TYPE_MASK = 1, 0xF
IPPROTO_TCP = 6
#: a clone that makes new namespaces (a user namespace brings capabilities inside it and more kernel surface)
CLONE_NAMESPACES = 0x00020000 | 0x02000000 | 0x04000000 | 0x08000000 | 0x10000000 | 0x20000000 | 0x40000000
#: TCP Fast Open connects inside sendto/sendmsg, not through connect(): refused whatever Landlock makes of it
MSG_FASTOPEN = 0x20000000
#: where the flags argument of each send call is (its index)
SEND_FLAGS_ARG = (("sendto", 3), ("sendmsg", 2), ("sendmmsg", 3))

LANDLOCK_RULE_NET_PORT = 2
PR_CAPBSET_READ = 23
PR_CAPBSET_DROP = 24

_LD_ABS, _JEQ, _JGE, _JSET, _RET, _AND = 0x20, 0x15, 0x35, 0x45, 0x06, 0x54


#: the launcher's policy on its command line: the groups of :data:`POLICY_FIELDS` in this order, separated by
#: RS (0x1e), the items of a group by newlines (no json: importing it costs the launcher milliseconds; a
#: path holding either character is refused by ``check_policy``)
POLICY_FIELDS = ("read_exec", "read", "write", "devices_rw", "devices_r", "connect_ports")
GROUP_SEP, ITEM_SEP = "\x1e", "\n"


def encode_policy(policy: SealPolicy) -> str:
    groups = (policy["read_exec"], policy["read"], policy["write"], policy["devices_rw"], policy["devices_r"],
              [str(port) for port in policy["connect_ports"]])
    return GROUP_SEP.join(ITEM_SEP.join(group) for group in groups)


def decode_policy(text: str) -> SealPolicy:
    groups = [[item for item in group.split(ITEM_SEP) if item] for group in text.split(GROUP_SEP)]
    if len(groups) != len(POLICY_FIELDS):
        raise ValueError(f"a policy of {len(groups)} groups, not {len(POLICY_FIELDS)}")
    read_exec, read, write, devices_rw, devices_r, ports = groups
    return {"read_exec": read_exec, "read": read, "write": write, "devices_rw": devices_rw,
            "devices_r": devices_r, "connect_ports": [int(p) for p in ports]}


def _arg(index: int) -> int:
    """The offset of the low 32 bits of argument ``index`` in ``seccomp_data`` (little-endian)."""
    return 16 + 8 * index


def agent_seccomp_program(arch: str) -> list[tuple[int, int, int, int]]:
    """The agent's BPF program: kill on a foreign architecture (and x32 calls); refuse
    :data:`AGENT_DENIED_SYSCALLS`; ``socket`` only for TCP over IPv4/IPv6 (protocol 0 or 6), ``socketpair``
    only for AF_UNIX (a connected pair reaches nothing: asyncio's self-pipe); ``clone`` without namespace
    flags, ``clone3`` ENOSYS (libc falls back to ``clone``); sends with MSG_FASTOPEN refused; the
    self-only calls and ``setpriority``, and the denied ioctls, as for ``run_python``; allow the rest."""
    numbers = _syscalls.SYSCALLS[arch]
    eperm = _syscalls.SECCOMP_RET_ERRNO | _syscalls.EPERM
    enosys = _syscalls.SECCOMP_RET_ERRNO | _syscalls.ENOSYS
    allow, kill = _syscalls.SECCOMP_RET_ALLOW, _syscalls.SECCOMP_RET_KILL_PROCESS
    prog: list[tuple[int, int, int, int]] = [
        (_LD_ABS, 0, 0, 4),  # seccomp_data.arch
        (_JEQ, 1, 0, _syscalls.AUDIT_ARCH[arch]),
        (_RET, 0, 0, kill),
        (_LD_ABS, 0, 0, 0),  # seccomp_data.nr
    ]
    if arch == "x86_64":
        prog += [(_JGE, 0, 1, _syscalls.X32_SYSCALL_BIT), (_RET, 0, 0, kill)]
    for name in AGENT_DENIED_SYSCALLS:
        if name in numbers:
            prog += [(_JEQ, 0, 1, numbers[name]), (_RET, 0, 0, eperm)]
    prog += [(_JEQ, 0, 1, numbers["clone3"]), (_RET, 0, 0, enosys)]
    # every block below loads an argument, so it ends in a return; "another call" jumps past the block
    socket_block = [
        (_LD_ABS, 0, 0, _arg(0)),  # domain
        (_JEQ, 1, 0, AF_INET),
        (_JEQ, 0, 6, AF_INET6),  # neither: refuse
        (_LD_ABS, 0, 0, _arg(1)),  # type, with SOCK_NONBLOCK/SOCK_CLOEXEC masked off
        (_AND, 0, 0, SOCK_TYPE_MASK),
        (_JEQ, 0, 3, SOCK_STREAM),
        (_LD_ABS, 0, 0, _arg(2)),  # protocol: the default (TCP) or TCP itself; not MPTCP, not SCTP
        (_JEQ, 2, 0, 0),
        (_JEQ, 1, 0, IPPROTO_TCP),
        (_RET, 0, 0, eperm),
        (_RET, 0, 0, allow),
    ]
    prog += [(_JEQ, 0, len(socket_block), numbers["socket"]), *socket_block]
    socketpair_block = [(_LD_ABS, 0, 0, _arg(0)), (_JEQ, 1, 0, AF_UNIX), (_RET, 0, 0, eperm), (_RET, 0, 0, allow)]
    prog += [(_JEQ, 0, len(socketpair_block), numbers["socketpair"]), *socketpair_block]
    clone_block = [(_LD_ABS, 0, 0, _arg(0)), (_JSET, 0, 1, CLONE_NAMESPACES), (_RET, 0, 0, eperm),
                   (_RET, 0, 0, allow)]
    prog += [(_JEQ, 0, len(clone_block), numbers["clone"]), *clone_block]
    for name, index in SEND_FLAGS_ARG:
        send_block = [(_LD_ABS, 0, 0, _arg(index)), (_JSET, 0, 1, MSG_FASTOPEN), (_RET, 0, 0, eperm),
                      (_RET, 0, 0, allow)]
        prog += [(_JEQ, 0, len(send_block), numbers[name]), *send_block]
    for name, index in _syscalls.SELF_ONLY_SYSCALLS:
        self_block = [(_LD_ABS, 0, 0, _arg(index)), (_JEQ, 1, 0, 0), (_RET, 0, 0, eperm), (_RET, 0, 0, allow)]
        prog += [(_JEQ, 0, len(self_block), numbers[name]), *self_block]
    # setpriority(which, who, prio): only (PRIO_PROCESS, 0); a group or a user would reach other processes
    prio_block = [(_LD_ABS, 0, 0, _arg(0)), (_JEQ, 0, 2, 0), (_LD_ABS, 0, 0, _arg(1)), (_JEQ, 1, 0, 0),
                  (_RET, 0, 0, eperm), (_RET, 0, 0, allow)]
    prog += [(_JEQ, 0, len(prio_block), numbers["setpriority"]), *prio_block]
    ioctl_block: list[tuple[int, int, int, int]] = [(_LD_ABS, 0, 0, _arg(1))]
    for request in _syscalls.DENIED_IOCTLS:
        ioctl_block += [(_JEQ, 0, 1, request), (_RET, 0, 0, eperm)]
    ioctl_block.append((_RET, 0, 0, allow))
    prog += [(_JEQ, 0, len(ioctl_block), numbers["ioctl"]), *ioctl_block]
    prog.append((_RET, 0, 0, allow))
    return prog


def _install_seccomp(prog: list[tuple[int, int, int, int]]) -> None:
    arch = _syscalls.machine()
    filters = (_syscalls._SockFilter * len(prog))(*[_syscalls._SockFilter(c, jt, jf, k) for c, jt, jf, k in prog])
    fprog = _syscalls._SockFprog(len(prog), ctypes.cast(filters, ctypes.POINTER(_syscalls._SockFilter)))
    _syscalls._check(int(_syscalls._libc().syscall(
        ctypes.c_long(_syscalls.SYSCALLS[arch]["seccomp"]), ctypes.c_uint(_syscalls.SECCOMP_SET_MODE_FILTER),
        ctypes.c_uint(_syscalls.SECCOMP_FILTER_FLAG_TSYNC), ctypes.byref(fprog))), "seccomp")


class _NetPortAttr(ctypes.Structure):
    _fields_ = [("allowed_access", ctypes.c_uint64), ("port", ctypes.c_uint64)]


def _landlock(policy: SealPolicy) -> int:
    """Create and enforce the agent's Landlock domain (files, TCP ports, scoping); returns the ABI used."""
    numbers = _syscalls.SYSCALLS[_syscalls.machine()]
    libc = _syscalls._libc()
    abi = _syscalls.landlock_abi()
    if abi < MIN_ABI:
        raise RestrictionError(0, f"the seal needs Landlock ABI >= {MIN_ABI}, this kernel has {abi}")
    fs = _syscalls.handled_fs(abi)
    attr = _syscalls._RulesetAttr(
        handled_access_fs=fs,
        handled_access_net=_syscalls.ACCESS_NET_BIND_TCP | _syscalls.ACCESS_NET_CONNECT_TCP,
        scoped=_syscalls.SCOPE_ABSTRACT_UNIX_SOCKET | _syscalls.SCOPE_SIGNAL)
    ruleset = _syscalls._check(int(libc.syscall(ctypes.c_long(numbers["landlock_create_ruleset"]),
                                                ctypes.byref(attr), ctypes.c_size_t(24), ctypes.c_uint32(0))),
                               "landlock_create_ruleset")
    read = ACCESS_FS["READ_FILE"] | ACCESS_FS["READ_DIR"]
    # the agent's own folders: everything but executing what it wrote, device and socket nodes, device ioctls
    write = fs & ~(ACCESS_FS["EXECUTE"] | ACCESS_FS["MAKE_CHAR"] | ACCESS_FS["MAKE_BLOCK"]
                   | ACCESS_FS["MAKE_SOCK"] | ACCESS_FS["IOCTL_DEV"])
    groups = ((policy["read_exec"], read | ACCESS_FS["EXECUTE"]), (policy["read"], read), (policy["write"], write),
              (policy["devices_rw"], ACCESS_FS["READ_FILE"] | ACCESS_FS["WRITE_FILE"] | ACCESS_FS["TRUNCATE"]),
              (policy["devices_r"], ACCESS_FS["READ_FILE"]))
    add_rule = ctypes.c_long(numbers["landlock_add_rule"])
    try:
        for paths, rights in groups:
            for path in paths:
                fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
                try:
                    allowed = rights if os.path.isdir(path) else rights & _syscalls.FILE_RIGHTS
                    rule = _syscalls._PathBeneathAttr(allowed_access=allowed & fs, parent_fd=fd)
                    _syscalls._check(int(libc.syscall(add_rule, ctypes.c_int(ruleset),
                                                      ctypes.c_int(_syscalls.LANDLOCK_RULE_PATH_BENEATH),
                                                      ctypes.byref(rule), ctypes.c_uint32(0))),
                                     f"landlock_add_rule({path})")
                finally:
                    os.close(fd)
        for port in policy["connect_ports"]:
            net = _NetPortAttr(allowed_access=_syscalls.ACCESS_NET_CONNECT_TCP, port=port)
            _syscalls._check(int(libc.syscall(add_rule, ctypes.c_int(ruleset), ctypes.c_int(LANDLOCK_RULE_NET_PORT),
                                              ctypes.byref(net), ctypes.c_uint32(0))),
                             f"landlock_add_rule(port {port})")
        _syscalls._check(int(libc.syscall(ctypes.c_long(numbers["landlock_restrict_self"]), ctypes.c_int(ruleset),
                                          ctypes.c_uint32(0))), "landlock_restrict_self")
    finally:
        os.close(ruleset)
    return abi


def _drop_bounding_set() -> None:
    """Empty the capability bounding set where this process may (root with CAP_SETPCAP): belt and braces,
    since no_new_privs already keeps an exec from gaining capabilities (setuid or file capabilities)."""
    libc = _syscalls._libc()
    cap = 0
    while int(libc.prctl(PR_CAPBSET_READ, cap, 0, 0, 0)) >= 0:  # -1 (EINVAL) past the last capability
        if int(libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0)) < 0 and ctypes.get_errno() != _syscalls.EPERM:
            raise RestrictionError(ctypes.get_errno(), f"prctl(PR_CAPBSET_DROP, {cap}) failed")
        cap += 1


def seal(policy: SealPolicy) -> int:
    """Seal this process (single-threaded, about to exec): no_new_privs, no capabilities, the Landlock
    domain, the seccomp filter. Raises :class:`RestrictionError` when a step fails. Returns the ABI used."""
    if _syscalls.machine() not in _syscalls.SYSCALLS:
        raise RestrictionError(0, f"no syscall numbers for {_syscalls.machine()}")
    if not _syscalls.single_threaded():
        raise RestrictionError(0, "the launcher already runs a second thread")
    _syscalls.no_new_privs()
    _drop_bounding_set()
    _syscalls.drop_capabilities()
    abi = _landlock(policy)
    _install_seccomp(agent_seccomp_program(_syscalls.machine()))
    return abi
