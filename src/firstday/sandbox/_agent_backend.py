"""The sealed agent process as a :class:`SandboxBackend`, so that the conformance suite (``firstday sandbox
check``) runs its escape attempts against it too: the attempt's code becomes an agent script run with
``python -I`` under :func:`~firstday.sandbox.agent_process.start_sealed_process`, with no connect port and
the copied files as its only writable folder. It is not a ``run_python`` backend (``--sandbox`` does not
accept it): attempts at starting processes do not apply to it (an agent may start processes; what they
reach is checked by the ``child-*`` attempts)."""

from __future__ import annotations

import asyncio
import sys
import tempfile
from pathlib import Path

from firstday.sandbox._base import RunResult, SandboxBackend, _head, _populate
from firstday.sandbox._limits import Limits

NAME = "agent-process"


class AgentProcessBackend(SandboxBackend):
    """Runs code as a sealed agent process (for the conformance suite; synchronous, not for an event loop)."""

    name = NAME

    def available(self) -> str | None:
        from firstday.sandbox.agent_process import seal_unavailable_reason

        return seal_unavailable_reason()

    def run(self, code: str, workspace: dict[str, str], shared: dict[str, tuple[str, bool]],
            limits: Limits) -> RunResult:
        return asyncio.run(self._run(code, workspace, shared, limits))

    async def _run(self, code: str, workspace: dict[str, str], shared: dict[str, tuple[str, bool]],
                   limits: Limits) -> RunResult:
        from firstday.sandbox.agent_process import AgentProcessPolicy, start_sealed_process, stop_process_group

        with tempfile.TemporaryDirectory(prefix="firstday-agent-check-") as tmp:
            root = Path(tmp)
            ws = _populate(root, workspace, shared)
            (ws / ".agent.py").write_text(code, encoding="utf-8")
            with tempfile.TemporaryFile() as out_file, tempfile.TemporaryFile() as err_file:
                proc, backend = await start_sealed_process(
                    [sys.executable, "-I", ".agent.py"], env={"PATH": "/usr/bin:/bin"}, cwd=ws,
                    policy=AgentProcessPolicy(connect_ports=(), writable=(root,)), stdout=out_file,
                    stderr=err_file, require=True)
                try:
                    status: int | None = await asyncio.wait_for(proc.wait(), limits.timeout_s + limits.grace_s)
                    timed_out = False
                except TimeoutError:
                    await stop_process_group(proc, grace_s=0)
                    status, timed_out = None, True
                out, err = (_head(f, limits.max_output_chars) for f in (out_file, err_file))
        output = (out + (("\n" + err) if err else "")).replace(str(root), "").strip()
        if timed_out:
            output += f"\n[timed out after {limits.timeout_s:g} s]"
        return RunResult(exit_code=status, output=output[:limits.max_output_chars], timed_out=timed_out,
                         sandbox=backend, started=True)
