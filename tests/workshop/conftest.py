"""Workshop tests: a node, the scheduler and its workers as real processes, on 127.0.0.1.

Skipped where node_modules/.bin/hardhat is absent (`npm ci` installs it). Every process a test
starts is stopped, even on failure (the node stops its worker processes; the tests' own go
through the ``procs`` fixture)."""

from __future__ import annotations

import pytest


@pytest.fixture
def procs():
    """A list to append Popen objects to: all stopped (SIGTERM, then SIGKILL) at the end."""
    from iexec_kit.node import stop_process

    started: list = []
    yield started
    for p in started:
        stop_process(p, timeout=5)
