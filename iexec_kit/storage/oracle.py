"""What the result proxy asks the chain about a task, as a small typed interface.

The proxy accepts an upload only if the task is REVEALING, the uploading worker revealed (its
contribution is PROVED) and the result hash recomputed from the upload equals that worker's
on-chain resultHash (which, once revealed, is the task's consensus value). A
:class:`TaskOracle` answers those questions; the chain-backed one reads the PoCo hub's
``viewTask``/``viewDeal``/``viewContribution`` (:mod:`iexec_kit.storage.chain_oracle`).
:class:`StaticTaskOracle` holds the same facts in memory, for tests of the proxy alone.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, replace
from typing import Protocol

from iexec_kit.protocol.statuses import ContributionStatus, TaskStatus


@dataclass(frozen=True)
class TaskView:
    """The facts about a task the proxy needs (from viewTask + viewDeal)."""

    taskid: str
    status: TaskStatus
    requester: str
    beneficiary: str
    consensus_value: str = "0x" + "00" * 32
    storage_provider: str = "ipfs"  # the deal's iexec_result_storage_provider: ipfs | dropbox
    encrypted: bool = False  # the deal's iexec_result_encryption


@dataclass(frozen=True)
class ContributionView:
    """One worker's contribution (from viewContribution)."""

    status: ContributionStatus
    result_hash: str = "0x" + "00" * 32


class TaskOracle(Protocol):
    """The chain, as the result proxy consults it."""

    def task(self, taskid: str) -> TaskView | None:
        """The task, or None when the chain knows no such task."""

    def contribution(self, taskid: str, worker: str) -> ContributionView:
        """The worker's contribution (status UNSET when it has none)."""


def _key(value: str) -> str:
    return value.lower()


class StaticTaskOracle:
    """In-memory task facts, for tests of the proxy without a chain (a stand-in, named so: the
    kit's proxy reads the same facts from the hub through the chain-backed oracle)."""

    def __init__(self):
        self._tasks: dict[str, TaskView] = {}
        self._contributions: dict[tuple[str, str], ContributionView] = {}
        self._lock = threading.Lock()

    def set_task(self, task: TaskView) -> None:
        with self._lock:
            self._tasks[_key(task.taskid)] = task

    def set_status(self, taskid: str, status: TaskStatus) -> None:
        with self._lock:
            self._tasks[_key(taskid)] = replace(self._tasks[_key(taskid)], status=status)

    def set_contribution(self, taskid: str, worker: str, contribution: ContributionView) -> None:
        with self._lock:
            self._contributions[(_key(taskid), _key(worker))] = contribution

    def task(self, taskid: str) -> TaskView | None:
        """What the stand-in was told about the task, or None."""
        return self._tasks.get(_key(taskid))

    def contribution(self, taskid: str, worker: str) -> ContributionView:
        """What the stand-in was told about the worker's contribution (UNSET by default)."""
        return self._contributions.get(
            (_key(taskid), _key(worker)), ContributionView(ContributionStatus.UNSET)
        )
