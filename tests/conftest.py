"""Shared fixtures: one deployed sandbox per test session, reverted to a snapshot around each
test."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def sandbox_session():
    from iexec_kit.sandbox import Sandbox

    return Sandbox.start(workers=5)


@pytest.fixture
def sandbox(sandbox_session):
    """A deployed, funded sandbox; whatever the test does is undone afterwards."""
    snap = sandbox_session.snapshot()
    yield sandbox_session
    sandbox_session.revert(snap)
