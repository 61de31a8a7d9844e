"""Built-in task families. Importing this package registers them."""

from firstday.tasks.library import (
    kb_link_fix,  # noqa: F401
    meeting_booking,  # noqa: F401
    transaction_review,  # noqa: F401
)
