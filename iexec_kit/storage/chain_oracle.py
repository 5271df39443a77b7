"""The result proxy's TaskOracle over the PoCo hub (the real on-chain check).

It reads ``viewTask`` (status, dealid, consensus value), ``viewDeal`` (requester, beneficiary,
params: storage provider and encryption) and ``viewContribution`` (status, resultHash) through
any object shaped like :class:`iexec_kit.poco.Hub` (``task(taskid)``, ``deal(dealid)``,
``contribution(taskid, worker)`` returning the kit's views). Storage sits below poco in the
kit's layers, so it takes the hub as an argument and imports nothing from above.
"""

from __future__ import annotations

import json
from typing import Any

from iexec_kit.protocol.statuses import ContributionStatus, TaskStatus
from iexec_kit.storage.oracle import ContributionView, TaskView


def _params(text: str) -> dict:
    try:
        data = json.loads(text) if text else {}
    except ValueError:
        return {}  # free-text params: the SDK's defaults (ipfs, no encryption)
    return data if isinstance(data, dict) else {}


class HubTaskOracle:
    """The chain, as the result proxy consults it: ``HubTaskOracle(sandbox.hub)``."""

    def __init__(self, hub: Any):
        self.hub = hub

    def task(self, taskid: str) -> TaskView | None:
        """The task's status and consensus, with its deal's parties and storage choices; None
        for a task the hub does not know (status UNSET)."""
        t = self.hub.task(taskid)
        if int(t.status) == TaskStatus.UNSET:
            return None
        deal = self.hub.deal(t.dealid)
        params = _params(deal.params)
        encrypted = params.get("iexec_result_encryption", False)
        return TaskView(
            taskid=taskid,
            status=TaskStatus(int(t.status)),
            requester=deal.requester,
            beneficiary=deal.beneficiary,
            consensus_value=t.consensus_value,
            storage_provider=str(params.get("iexec_result_storage_provider", "ipfs")),
            encrypted=encrypted is True or str(encrypted).lower() == "true",
        )

    def contribution(self, taskid: str, worker: str) -> ContributionView:
        """The worker's contribution: status (PROVED once revealed) and its resultHash."""
        c = self.hub.contribution(taskid, worker)
        return ContributionView(ContributionStatus(int(c.status)), c.result_hash)
