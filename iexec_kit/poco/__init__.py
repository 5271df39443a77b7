"""The protocol client: typed calls to the hub (escrow, registries, categories, orders, deals,
tasks) and its views as dataclasses; the consensus math mirrored off-chain."""

from iexec_kit.poco.consensus import ConsensusState, contributions_needed, worker_weight
from iexec_kit.poco.hub import Hub
from iexec_kit.poco.tasks import Contribution, Task, sign_authorization, task_id
from iexec_kit.poco.views import AccountInfo, AppInfo, CategoryInfo, DatasetInfo, WorkerpoolInfo

# the protocol's own names, for ``from iexec_kit.poco import TaskStatus`` (defined in the leaf)
from iexec_kit.protocol.results import result_hash, result_seal
from iexec_kit.protocol.statuses import ContributionStatus, TaskStatus

__all__ = [
    "Hub",
    "Task",
    "TaskStatus",
    "Contribution",
    "ContributionStatus",
    "ConsensusState",
    "contributions_needed",
    "worker_weight",
    "result_hash",
    "result_seal",
    "sign_authorization",
    "task_id",
    "AccountInfo",
    "AppInfo",
    "CategoryInfo",
    "DatasetInfo",
    "WorkerpoolInfo",
]
