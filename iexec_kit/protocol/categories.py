"""Work categories and deadlines.

A category's work clock (seconds) is the time unit of a task's deadlines (PoCo v5, POCO.md):
- contribution deadline = deal start + contribution_deadline_ratio x clock;
- reveal deadline = when the consensus was reached + reveal_deadline_ratio x clock;
- final deadline = deal start + final_deadline_ratio x clock.
The ratios are the hub's (``contribution_deadline_ratio()`` ...): :class:`ProtocolConfig` holds
what a hub returns, and :class:`Deadlines` applies them.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class CategorySpec:
    """A category as the kit deploys it: a name and a work clock in seconds."""

    name: str
    clock: int


#: The categories the kit creates on a fresh hub, as iExec's networks have them (XS..XL).
DEFAULT_CATEGORIES: tuple[CategorySpec, ...] = (
    CategorySpec("XS", 300),
    CategorySpec("S", 1200),
    CategorySpec("M", 3600),
    CategorySpec("L", 10800),
    CategorySpec("XL", 36000),
)
#: The clock of category 0, for an app run outside any deal (``iexec-kit app run``).
DEFAULT_CLOCK = DEFAULT_CATEGORIES[0].clock


@dataclass(frozen=True)
class ProtocolConfig:
    """The protocol's constants as one hub returns them (its views of the same names)."""

    contribution_deadline_ratio: int
    reveal_deadline_ratio: int
    final_deadline_ratio: int
    workerpool_stake_ratio: int  # % of the workerpool price per task the pool owner locks
    kitty_ratio: int  # % of the kitty the scheduler gets as a bonus at finalize
    kitty_min: int  # nRLC: the smallest such bonus (bounded by the kitty itself)
    kitty_address: str

    def deadlines(self, start_time: int, clock: int) -> Deadlines:
        """A deal's contribution and final deadlines, and the reveal window's length."""
        return Deadlines(
            clock=clock,
            contribution=start_time + self.contribution_deadline_ratio * clock,
            final=start_time + self.final_deadline_ratio * clock,
            reveal_window=self.reveal_deadline_ratio * clock,
            ratios=(
                self.contribution_deadline_ratio,
                self.reveal_deadline_ratio,
                self.final_deadline_ratio,
            ),
        )

    def pool_stake(self, workerpool_price: int) -> int:
        """What the workerpool owner locks per task at matchOrders (nRLC)."""
        return workerpool_price * self.workerpool_stake_ratio // 100


@dataclass(frozen=True)
class Deadlines:
    """A deal's deadlines (unix seconds) from its start time and its category's clock."""

    clock: int
    contribution: int
    final: int
    reveal_window: int  # seconds from the consensus to the reveal deadline
    ratios: tuple[int, int, int]  # contribution, reveal, final, in clocks
