"""Every cap on one ``run_python`` call, in one place."""

from __future__ import annotations

import math
from dataclasses import dataclass

#: output returned to the agent (stdout then stderr), in characters
MAX_OUTPUT_CHARS = 10_000
#: a file written in the workspace is copied back only up to this size
MAX_COPYBACK_BYTES = 1_000_000
#: at most this many new or changed files are copied back per call
MAX_COPYBACK_FILES = 1_000
#: a copied-back file's path (under /workspace/) is at most this long, as the drive allows
MAX_PATH_CHARS = 512
#: folders nested deeper than this in the workspace are not copied back (nor walked)
MAX_COPYBACK_DEPTH = 32


@dataclass(frozen=True)
class Limits:
    """Caps of one call. ``timeout_s`` is the wall-clock limit (the CPU-time limit is the same number of
    seconds, rounded up); the process group is killed ``grace_s`` after it."""

    timeout_s: float = 10.0
    grace_s: float = 2.0
    memory_bytes: int = 2_000_000_000  # RLIMIT_AS, where the platform allows setting it
    file_size_bytes: int = 5_000_000  # RLIMIT_FSIZE: per written file
    open_files: int = 256  # RLIMIT_NOFILE
    max_output_chars: int = MAX_OUTPUT_CHARS
    max_copyback_bytes: int = MAX_COPYBACK_BYTES
    max_copyback_files: int = MAX_COPYBACK_FILES

    @property
    def cpu_seconds(self) -> int:
        return max(1, math.ceil(self.timeout_s))
