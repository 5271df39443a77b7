"""Plain, frozen views of on-chain records (what the notebooks show and the CLI prints)."""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class AccountInfo:
    """An escrow account on the hub: free ``stake`` and ``locked`` (frozen) RLC, in nRLC."""

    stake: int
    locked: int


@dataclass(frozen=True)
class CategoryInfo:
    """A work category: tasks' deadlines are multiples of its clock (seconds)."""

    id: int
    name: str
    description: str
    work_clock_time_ref: int


@dataclass(frozen=True)
class AppInfo:
    """An app registered on chain: a Docker image that workers run."""

    address: str
    owner: str
    name: str
    type: str
    multiaddr: str  # the image reference (bytes on chain, UTF-8 here)
    checksum: str  # 0x + 64 hex
    mrenclave: str

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class DatasetInfo:
    """A dataset registered on chain."""

    address: str
    owner: str
    name: str
    multiaddr: str
    checksum: str

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class WorkerpoolInfo:
    """A workerpool: its manager runs the scheduler; its policy sets stakes and the scheduler's
    cut."""

    address: str
    owner: str
    description: str
    worker_stake_ratio: int  # % of the workerpool price each worker stakes per task
    scheduler_reward_ratio: int  # % of the workers' reward the scheduler keeps

    def as_dict(self) -> dict:
        return asdict(self)
