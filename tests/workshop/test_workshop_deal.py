"""The "Done when" of issue 16: a node, its scheduler's API and five worker processes (two of
them colluding cheaters) complete a deal at trust 5 with the honest consensus on every task.

PoCo's arithmetic first: five *new* workers (weight 2 each) cannot reach a consensus at trust 5
when two of them collude: the honest group weighs 8 against a total of 13, and 8 * 5 > 13 * 4 is
false, so every task would wait for workers that do not exist and fail at its final deadline.
The honest workers must have earned some score first (12 accurate contributions make a weight of
3: then 27 * 5 > 32 * 4). So the test, like a workshop, warms the pool up: the three honest
workers serve a first deal of 12 tasks at trust 5 (each task needs the three of them), then the
two colluding workers join and the deal under test is bought.

CI runs the second deal at volume 4 with the NumPy engine (``IEXEC_KIT_WORKSHOP_VOLUME`` for
more; the benchmark runs volume 10)."""

from __future__ import annotations

import os
import time

from workshop_helpers import buy, logs, need_hardhat, wait_done, wait_for

from iexec_kit.node import Node, NodeConfig
from iexec_kit.protocol.statuses import ContributionStatus, TaskStatus

VOLUME = int(os.environ.get("IEXEC_KIT_WORKSHOP_VOLUME", "4"))
WARM_UP = 12  # tasks: each honest worker's score reaches 12 (weight 3)


def warm_up(node, honest: int = 3) -> None:
    """A first deal served by the honest workers alone, until each has a score of 12."""
    wait_for(lambda: len(node.pool.view()["workers"]) == honest, 60, "honest workers registered")
    deal = buy(node, volume=WARM_UP, trust=5)
    assert wait_done(node, deal, 150, what=lambda: logs(node)) == [TaskStatus.COMPLETED] * WARM_UP


def colluding_deal(node, volume: int) -> float:
    """The colluding workers join, a deal is bought at trust 5; returns its seconds."""
    node.start_worker_process("worker4", "colluding")
    node.start_worker_process("worker5", "colluding")
    wait_for(lambda: len(node.pool.view()["workers"]) == 5, 60, "5 workers registered")
    started = time.monotonic()
    deal = buy(node, volume=volume, trust=5)
    st = wait_done(node, deal, 200, what=lambda: (node.pool.errors, logs(node)))
    assert st == [TaskStatus.COMPLETED] * volume, logs(node)
    return deal, time.monotonic() - started


def test_five_worker_processes_two_colluding_reach_the_honest_consensus(tmp_path):
    need_hardhat()
    config = NodeConfig(
        workers=5, workerpool="processes", behaviours=("honest",) * 3, ping_timeout=5
    )
    with Node(tmp_path, config=config).start() as node:
        assert len(node.worker_procs) == 3 and all(p.poll() is None for p in node.worker_procs)
        warm_up(node)
        hub = node.sb.hub
        assert all(hub.score(w.address) >= WARM_UP for w in node.sb.workers[:3])
        deal, seconds = colluding_deal(node, VOLUME)
        colluders = {w.address for w in node.sb.workers[3:]}
        for i in range(VOLUME):
            tid = deal.task_id(i)
            task = hub.task(tid)
            for w in task.contributors:
                c = hub.contribution(tid, w)
                if w in colluders:
                    assert c.result_hash != task.consensus_value, f"task {i}: a colluder won"
                    assert c.status != ContributionStatus.PROVED
            assert any(
                hub.contribution(tid, w).status == ContributionStatus.PROVED
                for w in task.contributors
                if w not in colluders
            )
        print(f"volume {VOLUME} at trust 5 with 5 worker processes: {seconds:.1f} s")
