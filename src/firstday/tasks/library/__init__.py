"""Built-in task families. Importing this package registers them."""

from firstday.tasks.library import (
    ads_strategy,  # noqa: F401
    dashboard_triage,  # noqa: F401
    inbox_triage,  # noqa: F401
    kb_link_fix,  # noqa: F401
    kpi_chart_report,  # noqa: F401
    meeting_attend,  # noqa: F401
    meeting_booking,  # noqa: F401
    receipt_audit,  # noqa: F401
    resume_screening,  # noqa: F401
    shift_scheduling,  # noqa: F401
    transaction_review,  # noqa: F401
    website_monitor,  # noqa: F401
)
