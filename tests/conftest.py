"""Shared fixtures: one deployed sandbox per test session, reverted to a snapshot around each
test."""

from __future__ import annotations

import os

import pytest

#: which protocol the shared sandbox deploys: "kit" (the default), or "poco" to run the same tests
#: on iExec's published PoCo 6.1.0 (IEXEC_KIT_TEST_PROTOCOL=poco; docs/poco-differences.md)
TEST_PROTOCOL = os.environ.get("IEXEC_KIT_TEST_PROTOCOL", "kit")


@pytest.fixture(scope="session")
def sandbox_session():
    from iexec_kit.sandbox import Sandbox

    return Sandbox.start(workers=5, protocol=TEST_PROTOCOL)


@pytest.fixture
def sandbox(sandbox_session):
    """A deployed, funded sandbox; whatever the test does is undone afterwards."""
    snap = sandbox_session.snapshot()
    yield sandbox_session
    sandbox_session.revert(snap)
