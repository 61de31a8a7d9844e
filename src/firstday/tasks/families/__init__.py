"""Built-in task families. Importing this package registers them."""

from firstday.tasks.families import transaction_review  # noqa: F401
