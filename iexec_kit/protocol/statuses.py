"""PoCo's task and contribution statuses (IexecLibCore's enums), as the chain returns them."""

from __future__ import annotations

from enum import IntEnum


class TaskStatus(IntEnum):
    """A task's life: UNSET -> ACTIVE (initialized) -> REVEALING (consensus reached) ->
    COMPLETED (finalized), or FAILED (claimed after the final deadline)."""

    UNSET = 0
    ACTIVE = 1
    REVEALING = 2
    COMPLETED = 3
    FAILED = 4

    @property
    def done(self) -> bool:
        """Nothing happens to a COMPLETED or FAILED task any more."""
        return self in (TaskStatus.COMPLETED, TaskStatus.FAILED)


class ContributionStatus(IntEnum):
    """A worker's contribution: CONTRIBUTED (committed), PROVED (revealed), REJECTED (wrong)."""

    UNSET = 0
    CONTRIBUTED = 1
    PROVED = 2
    REJECTED = 3
