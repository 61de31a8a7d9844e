"""``python -m firstday``: the command line."""

from firstday.cli import main

main()
