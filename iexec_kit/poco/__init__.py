"""The protocol client: typed calls to the hub (escrow, registries, categories...) and views
as dataclasses. Orders, deals and tasks join it with the marketplace and PoCo issues."""

from iexec_kit.poco.hub import Hub
from iexec_kit.poco.consensus import ConsensusState, contributions_needed, worker_weight
from iexec_kit.poco.tasks import (Contribution, ContributionStatus, Task, TaskStatus, result_hash, result_seal,
                                  sign_authorization, task_id)
from iexec_kit.poco.views import AccountInfo, AppInfo, CategoryInfo, DatasetInfo, WorkerpoolInfo

__all__ = ["Hub", "Task", "TaskStatus", "Contribution", "ContributionStatus", "ConsensusState",
           "contributions_needed", "worker_weight", "result_hash", "result_seal", "sign_authorization", "task_id", "AccountInfo", "AppInfo", "CategoryInfo", "DatasetInfo", "WorkerpoolInfo"]
