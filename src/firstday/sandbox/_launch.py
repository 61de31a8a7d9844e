"""The launcher of a sealed agent process: ``python -m firstday.sandbox._launch POLICY READY_FD -- argv...``
(``POLICY``: :func:`firstday.sandbox._agent_seal.encode_policy`).

It seals itself (:func:`firstday.sandbox._agent_seal.seal`) while it is still a single-threaded, fresh
interpreter, then replaces itself with the agent's command (``os.execvp``): no ``preexec_fn`` in the
parent's threaded process. It tells the parent how that went on the pipe ``READY_FD``, closed at the exec:

- ``S`` then end of file: sealed, and the exec succeeded;
- ``S`` then ``E<errno> <message>``: sealed, but the command could not be executed (exit 127);
- ``F<message>``: a step of the seal failed; nothing was executed (exit 97, one line on stderr too).

The agent's command cannot forge any of this: the pipe is closed by the exec, before its first instruction.
``start_sealed_process`` (:mod:`firstday.sandbox.agent_process`) starts it with ``python -I -S -c`` and the
path of this copy of firstday, so the launcher imports nothing of the agent's environment.
"""

from __future__ import annotations

import os
import sys

from firstday.sandbox._agent_seal import decode_policy, seal

TYPE_CHECKING = False  # not imported from typing: the launcher would pay for importing it
if TYPE_CHECKING:
    from typing import NoReturn

#: as ``firstday.sandbox.RESTRICTION_FAILED_EXIT`` (not imported from ``_base``: it imports subprocess, and the
#: launcher runs once per agent process)
RESTRICTION_FAILED_EXIT = 97
#: the exit status of the launcher when the command could not be executed (as a shell does)
EXEC_FAILED_EXIT = 127


def main(args: list[str]) -> NoReturn:
    if len(args) < 4 or args[2] != "--":
        sys.stderr.write("usage: python -m firstday.sandbox._launch POLICY READY_FD -- COMMAND [ARG...]\n")
        os._exit(2)
    ready = int(args[1])
    argv = args[3:]
    try:
        seal(decode_policy(args[0]))
    except BaseException as exc:  # fail closed, whatever went wrong: nothing is executed
        message = f"firstday sandbox: the agent process could not be sealed ({exc}); nothing was run"
        sys.stderr.write(message + "\n")
        sys.stderr.flush()
        os.write(ready, b"F" + message.encode("utf-8", "replace"))
        os._exit(RESTRICTION_FAILED_EXIT)
    os.write(ready, b"S")
    os.set_inheritable(ready, False)  # closed by the exec: the parent's end of file says it succeeded
    try:
        os.execvp(argv[0], argv)
    except OSError as exc:
        os.write(ready, f"E{exc.errno} {exc.strerror}".encode("utf-8", "replace"))
        sys.stderr.write(f"firstday sandbox: cannot execute {argv[0]!r}: {exc.strerror}\n")
        sys.stderr.flush()
        os._exit(EXEC_FAILED_EXIT)


if __name__ == "__main__":
    main(sys.argv[1:])
