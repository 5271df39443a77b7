"""Shared by the workshop tests: buy a deal on a node, wait for its tasks, start processes."""

from __future__ import annotations

import sys
import time

from iexec_kit.protocol.statuses import TaskStatus


def need_hardhat():
    import pytest

    from iexec_kit.chain.devnode import find_hardhat
    from iexec_kit.errors import DependencyMissingError

    try:
        find_hardhat()
    except DependencyMissingError as exc:
        pytest.skip(f"{str(exc).splitlines()[0]}: run `npm ci`")


def buy(node, *, volume: int = 1, trust: int = 1, engine: str = "numpy"):
    """The requester buys ``volume`` tasks of the demo app on the node's workerpool."""
    from iexec_kit.actors.requester import buy_execution
    from iexec_kit.poco.orders import RequestParams

    sb = node.sb
    if sb.storage.token_for(sb.requester.address) is None:
        sb.storage.storage_init(sb.requester.key)
    sb.hub.deposit(sb.requester, volume * 3 * 10**9)
    match = buy_execution(
        sb.hub,
        sb.book,
        sb.requester,
        sb.app_address,
        params=RequestParams(args=f"--engine {engine}", input_files=(node.info.sample_input,)),
        workerpool=sb.workerpool_address,
        volume=volume,
        trust=trust,
    )
    return match.deal


FINAL = (TaskStatus.COMPLETED, TaskStatus.FAILED)  # PoCo's last statuses: a task stays there


def status(node, taskid: str) -> TaskStatus:
    try:
        return node.sb.hub.task(taskid).status
    except Exception:  # noqa: BLE001 - not initialized yet
        return TaskStatus.UNSET


def statuses(node, deal) -> list:
    return [status(node, deal.task_id(i)) for i in range(deal.bot_size)]


def wait_done(node, deal, timeout: float, *, what=lambda: "") -> list:
    """Every task's status once all are COMPLETED or FAILED. Each poll reads the tasks in order
    up to the first one still running, and never again one already final: a poll of every task
    of a 40-task deal, every 0.3 s, took about a tenth of a 2-core machine's CPU (the chain's
    and this process's) from the workers it measures."""
    end = time.monotonic() + timeout
    ids = [deal.task_id(i) for i in range(deal.bot_size)]
    final: dict[str, TaskStatus] = {}
    while time.monotonic() < end:
        for tid in ids:
            if tid not in final:
                st = status(node, tid)
                if st not in FINAL:
                    break
                final[tid] = st
        else:
            return [final[tid] for tid in ids]
        time.sleep(0.3)
    raise AssertionError(f"deal not done after {timeout} s: {statuses(node, deal)} {what()}")


def logs(node) -> str:
    folder = node.folder / "logs"
    if not folder.exists():
        return ""
    return "\n".join(f"--- {p.name}\n{p.read_text()[-3000:]}" for p in sorted(folder.glob("*.log")))


def wait_for(predicate, timeout: float, what: str):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_scheduler(node, port: int, *extra: str):
    """``iexec-kit scheduler --node <folder>`` as a process; returns (Popen, url)."""
    import os
    import subprocess

    from iexec_kit.sandbox import REPO_ROOT

    log = open(node.folder / "logs" / f"scheduler-{port}.log", "ab")  # noqa: SIM115
    proc = subprocess.Popen(
        [sys.executable, "-m", "iexec_kit.cli", "scheduler", "--node", str(node.folder)]
        + ["--port", str(port), "--ping-timeout", "3", *extra],
        stdout=log,
        stderr=subprocess.STDOUT,
        env=dict(os.environ, PYTHONPATH=str(REPO_ROOT)),
        cwd=REPO_ROOT,
    )
    proc.log_file = log
    url = f"http://127.0.0.1:{port}"

    def up():
        import requests

        if proc.poll() is not None:
            raise AssertionError(f"the scheduler exited {proc.returncode}")
        try:
            return requests.get(url + "/version", timeout=1).ok
        except requests.RequestException:
            return False

    wait_for(up, 60, "the scheduler's API")
    return proc, url
