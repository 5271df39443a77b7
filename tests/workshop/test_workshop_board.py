"""The facilitator's board against a real scheduler and three worker processes (no --listen).

One node for the module (workerpool "processes", 127.0.0.1 only). First nothing it started
listens beyond 127.0.0.1 (its own servers, the Hardhat node, the worker processes). Then the
plain call, :func:`iexec_kit.actors.board.pool_snapshot`, over the scheduler's ``GET /pool``:
the workers connected with the chain's scores and stakes, then a deal of two tasks at trust 3
(two agreeing workers each): every task COMPLETED with two PROVED contributions on the
consensus the chain holds, and each worker's earnings equal to what its stake gained on chain.
Then the widget over the same call: its refresh, its live thread, its sentence without a
scheduler; and the HTML of a disagreeing contribution."""

from __future__ import annotations

import json
import os

import pytest
import requests
from lan_helpers import listening
from workshop_helpers import buy, logs, need_hardhat, wait_done, wait_for

from iexec_kit.actors.board import BoardContribution, BoardTask, PoolSnapshot, pool_snapshot
from iexec_kit.node import LAN_FILE, Node, NodeConfig
from iexec_kit.protocol.statuses import TaskStatus

# one node for the module (make test runs --dist loadfile: a file's tests share a process)
pytestmark = pytest.mark.xdist_group("workshop_board")


@pytest.fixture(scope="module")
def node(tmp_path_factory):
    need_hardhat()
    n = Node(
        tmp_path_factory.mktemp("board-node"),
        port=None,
        config=NodeConfig(workers=3, workerpool="processes", ping_timeout=5),
    ).start()
    try:
        wait_for(lambda: len(n.pool.view()["workers"]) == 3, 60, "3 workers registered")
        yield n
    finally:
        n.stop()


def test_without_listen_nothing_listens_beyond_loopback(node):
    assert node.lan is None and node.info.lan is None
    assert not (node.folder / LAN_FILE).exists()
    pids = [os.getpid(), node.devnode.proc.pid, *(p.pid for p in node.worker_procs)]
    sockets = {pid: listening(pid) for pid in pids}
    assert sockets[os.getpid()] and sockets[node.devnode.proc.pid]  # the check sees them
    beyond = {pid: s for pid, s in sockets.items() if any(h != "127.0.0.1" for h, _ in s)}
    assert beyond == {}, f"listening beyond 127.0.0.1: {beyond}"
    for url in node.info.urls.values():
        assert url is None or url.startswith("http://127.0.0.1:"), url


def test_the_board_before_and_after_a_deal(node):
    hub = node.sb.hub
    snap = pool_snapshot(node.pool.url)
    assert len(snap.workers) == 3 and all(w.alive for w in snap.workers)
    before = {}
    for w in snap.workers:
        acct = hub.account(w.address)
        assert (w.score, w.stake, w.locked) == (hub.score(w.address), acct.stake, acct.locked)
        before[w.address] = acct.stake
    assert "3/3 workers connected" in str(snap)

    deal = buy(node, volume=2, trust=3)
    assert wait_done(node, deal, 180, what=lambda: logs(node)) == [TaskStatus.COMPLETED] * 2
    snap = wait_for(
        lambda: (s := pool_snapshot(node.pool.url)).totals["tasks"].get("COMPLETED") == 2 and s,
        30,
        "the board to show both tasks COMPLETED",
    )
    assert [t.idx for t in snap.tasks] == [0, 1]
    for t in snap.tasks:
        task = hub.task(t.taskid)
        assert t.status == "COMPLETED" and t.trust == 3
        assert t.consensus == task.consensus_value
        assert len(t.contributions) == 2, t
        assert all(c.status == "PROVED" and c.agrees for c in t.contributions), t
        assert set(t.winners) == {c.name for c in t.contributions}
        assert {c.address.lower() for c in t.contributions} == {
            a.lower() for a in task.contributors
        }
        assert t.result and t.result == json.loads(bytes(task.results))["location"], t
    earned = 0
    for w in snap.workers:
        acct = hub.account(w.address)
        assert w.score == hub.score(w.address) and w.stake == acct.stake
        assert w.earned == acct.stake - before[w.address], w  # rewards into the stake
        assert w.lost == 0
        assert w.contributions == sum(
            1 for t in snap.tasks for c in t.contributions if c.name == w.name
        )
        earned += w.earned
    assert earned > 0 and snap.totals["earned"] == earned
    text = str(snap)
    assert "2 tasks (2 COMPLETED)" in text and "PROVED+" in text
    # the JSON keeps the first version's keys, and nothing secret
    raw = requests.get(node.pool.url + "/pool", timeout=10).json()
    assert {"workers", "tasks", "errors"} <= set(raw) and raw["tasks"] == 2
    assert node.sb.requester.key.hex() not in str(raw)


def test_the_widget_refreshes_from_the_same_call(node):
    pytest.importorskip("ipywidgets")
    from iexec_kit.ui.pool_board import BOARD_CLASS, PoolBoard

    board = PoolBoard(node.pool.url, autostart=False)
    snap = board.refresh()
    assert snap is not None and len(snap.workers) == 3
    html = board.html.value
    assert BOARD_CLASS in html and "3 workers connected" in html
    for w in snap.workers:
        assert f"data-worker='{w.name}'" in html
    board.html.value = ""
    board.period = 0.2
    board.start()
    try:
        wait_for(lambda: "workers connected" in board.html.value, 10, "the live refresh")
    finally:
        board.stop()
    assert board._thread is None

    gone = PoolBoard("http://127.0.0.1:9", autostart=False)  # nothing listens on port 9
    assert gone.refresh() is None
    assert "No scheduler answers at http://127.0.0.1:9" in gone.html.value


def test_render_board_colours_a_disagreeing_contribution():
    from iexec_kit.ui.pool_board import _COLOURS, render_board

    snap = PoolSnapshot(
        "0x" + "11" * 20,
        7,
        (),
        (
            BoardTask(
                "0x" + "22" * 32,
                "0x" + "33" * 32,
                0,
                "REVEALING",
                3,
                (
                    BoardContribution("alice", "0x" + "44" * 20, "CONTRIBUTED", "0xaa", True),
                    BoardContribution("mallory", "0x" + "55" * 20, "REJECTED", "0xbb", False),
                    BoardContribution("bob", "0x" + "66" * 20, "computing"),
                ),
                "0xaa",
            ),
        ),
        totals={"tasks": {"REVEALING": 1}},
    )
    html = render_board(snap)
    assert f"background:{_COLOURS['agrees']}' title='0xaa'>alice contributed" in html
    assert f"background:{_COLOURS['disagrees']}' title='0xbb'>mallory rejected" in html
    assert f"background:{_COLOURS['computing']}' title=''>bob computing" in html
    assert "No worker has signed in yet" in html
