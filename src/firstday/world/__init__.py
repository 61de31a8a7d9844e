"""The simulated workplace: company, clock and events, in-memory services and the trainee's tools."""

from firstday.world.assets import (
    Fact,
    FileAsset,
    FollowUp,
    MeetingAsset,
    PageAsset,
    PageVersion,
    Priority,
    PublicTask,
)
from firstday.world.company import Company, Employee, generate_company
from firstday.world.records import DayRecord, Notification
from firstday.world.tools import Toolbox, ToolCall, ToolResult, ToolSpec
from firstday.world.world import DayContent, World

__all__ = [
    "Company", "DayContent", "DayRecord", "Employee", "Fact", "FileAsset", "FollowUp", "MeetingAsset",
    "Notification", "PageAsset", "PageVersion", "Priority", "PublicTask", "ToolCall", "ToolResult", "ToolSpec",
    "Toolbox", "World", "generate_company",
]
