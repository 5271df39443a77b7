"""The Proof-of-Contribution consensus, mirrored off-chain (integer math identical to the hub's).

Each contribution adds weight to the group of workers who gave the same result hash. A worker's
weight grows with its score (its count of accurate contributions): ``w = max(score // 3, 3) - 1``,
so a new worker weighs 2. The first contribution to a group adds ``w - 0``; a later one multiplies
the group by ``w`` (adds ``group*w - group``). The total starts at 1 and grows by the same deltas.
A result wins once ``group * trust > total * (trust - 1)``: its credibility ``group / total``
exceeds ``1 - 1/trust``.
"""

from __future__ import annotations

from dataclasses import dataclass, field


def worker_weight(score: int) -> int:
    """A worker's weight in the consensus: max(score // 3, 3) - 1 (a new worker weighs 2)."""
    return max(score // 3, 3) - 1


def log_weight(weight: int) -> int:
    """floor(log2(weight)): the share of the reward a proved contribution earns."""
    return max(weight.bit_length() - 1, 0)


def reached(group: int, total: int, trust: int) -> bool:
    """The consensus condition of PoCo: group * trust > total * (trust - 1)."""
    return group * trust > total * (trust - 1)


@dataclass
class ConsensusState:
    """The consensus of one task as contributions arrive (what the hub keeps in m_consensus).

    ``add(result_hash, score)`` returns True when that contribution reaches the consensus.
    """

    trust: int
    groups: dict = field(default_factory=dict)
    total: int = 1
    winner: object = None

    def add(self, result_hash, score: int = 0) -> bool:
        w = worker_weight(score)
        group = self.groups.get(result_hash, 0)
        delta = max(group, 1) * w - group
        self.groups[result_hash] = group + delta
        self.total += delta
        if self.winner is None and reached(self.groups[result_hash], self.total, self.trust):
            self.winner = result_hash
            return True
        return False

    def credibility(self, result_hash) -> float:
        """group / total for this answer: the consensus needs more than 1 - 1/trust."""
        return self.groups.get(result_hash, 0) / self.total

    def threshold(self) -> float:
        return 1 - 1 / self.trust

    def reopen(self) -> None:
        """What reopen does on chain: the winning group's weight is removed, the task goes on."""
        if self.winner is not None:
            self.total -= self.groups.get(self.winner, 0)
            self.groups[self.winner] = 0
            self.winner = None


def contributions_needed(trust: int, scores: list[int] | None = None, dissent: int = 0) -> int:
    """How many agreeing contributions reach the consensus at ``trust``, from workers with
    ``scores`` (new workers when omitted), after ``dissent`` new workers gave another answer."""
    from iexec_kit.errors import KitValueError

    state = ConsensusState(max(trust, 1))
    for i in range(dissent):
        if state.add(("dissent", i), 0):
            raise KitValueError(
                f"at trust {trust} a single dissenting worker already wins the consensus",
                expected="a trust where one answer alone is not enough (3 or more)",
                got=f"trust {trust} with {dissent} dissent(s)",
            )
    scores = list(scores or [])
    n = 0
    while True:
        score = scores[n] if n < len(scores) else 0
        n += 1
        if state.add("agree", score):
            return n
        if n > 10_000:  # unreachable for any trust a deal can have; a guard, not a rule
            raise KitValueError("no consensus after 10,000 contributions", got=f"trust {trust}")


def probe_simulate(chain, probe_address: str, hashes: list[bytes], scores: list[int], trust: int):
    """Run the same contributions through the on-chain ConsensusProbe (eth_call); return
    (index that reached consensus or None, groups per contribution's hash, total, log-weights)."""
    from iexec_kit.chain import artifacts

    probe = chain.contract(artifacts.abi("ConsensusProbe"), probe_address)
    reached_at, groups, total, logw = chain.call(probe.functions.simulate(hashes, scores, trust))
    return (None if reached_at == 2**256 - 1 else reached_at), list(groups), total, list(logw)


def attack_success_rate(
    trust: int,
    cheater_fraction: float,
    *,
    trials: int = 2000,
    pool_size: int = 100,
    max_contributions: int = 60,
    rng=None,
) -> float:
    """Monte Carlo: the share of tasks where colluding cheaters' wrong answer wins the consensus.

    A pool of ``pool_size`` new workers, a ``cheater_fraction`` of them colluding (all give the
    same wrong answer); the scheduler draws workers at random, one at a time, until an answer
    reaches the consensus at ``trust`` (or ``max_contributions`` were tried: no result, counted
    as not wrong). Scores are all 0, the worst case for the protocol: reputation only helps it.
    """
    import random

    rng = rng or random.Random(0)
    cheaters = round(pool_size * cheater_fraction)
    wrong = 0
    for _ in range(trials):
        state = ConsensusState(max(trust, 1))
        order = rng.sample(range(pool_size), min(pool_size, max_contributions))
        for worker in order:
            answer = "wrong" if worker < cheaters else "right"
            if state.add(answer, 0):
                wrong += state.winner == "wrong"
                break
    return wrong / trials
