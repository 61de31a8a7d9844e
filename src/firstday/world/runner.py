"""Moved to :mod:`firstday.sandbox`: this module only re-exports the names older code imported from here."""

from firstday.sandbox import MAX_COPYBACK_BYTES, RunResult, run_code
from firstday.sandbox import MAX_OUTPUT_CHARS as MAX_OUTPUT

__all__ = ["MAX_COPYBACK_BYTES", "MAX_OUTPUT", "RunResult", "run_code"]
