"""``python -m firstday.cli``: the command line."""

from firstday.cli import main

main()
