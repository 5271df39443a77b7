"""The protocol client: typed calls to the hub (escrow, registries, categories...) and views
as dataclasses. Orders, deals and tasks join it with the marketplace and PoCo issues."""

from iexec_kit.poco.hub import Hub
from iexec_kit.poco.views import AccountInfo, AppInfo, CategoryInfo, DatasetInfo, WorkerpoolInfo

__all__ = ["Hub", "AccountInfo", "AppInfo", "CategoryInfo", "DatasetInfo", "WorkerpoolInfo"]
