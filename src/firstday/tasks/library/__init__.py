"""Built-in task families. Importing this package registers them."""

from firstday.tasks.library import (
    ads_strategy,  # noqa: F401
    attendance_statistics,  # noqa: F401
    dashboard_triage,  # noqa: F401
    data_completion,  # noqa: F401
    event_planning,  # noqa: F401
    floor_plan_booking,  # noqa: F401
    form_data_entry,  # noqa: F401
    inbox_triage,  # noqa: F401
    kb_link_fix,  # noqa: F401
    kpi_chart_report,  # noqa: F401
    meeting_attend,  # noqa: F401
    meeting_booking,  # noqa: F401
    org_chart_routing,  # noqa: F401
    receipt_audit,  # noqa: F401
    resume_screening,  # noqa: F401
    route_planning,  # noqa: F401
    sales_analysis,  # noqa: F401
    shelf_stock_count,  # noqa: F401
    shift_scheduling,  # noqa: F401
    slide_reconcile,  # noqa: F401
    status_watch,  # noqa: F401
    transaction_review,  # noqa: F401
    vendor_comparison,  # noqa: F401
    website_monitor,  # noqa: F401
    whiteboard_actions,  # noqa: F401
)
