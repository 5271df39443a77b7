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


def pytest_configure(config):
    """Under pytest-xdist (make test runs several processes), each process keeps the tutorial's
    choices in a file of its own, so notebooks run at once do not read each other's choices."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if worker and "IEXEC_KIT_CHOICES" not in os.environ:
        from iexec_kit.tutorial.choices import choices_path

        os.environ["IEXEC_KIT_CHOICES"] = str(
            choices_path().parent / f"worker-{worker}" / "choices.json"
        )


#: the longest test files (minutes each), sent to the test processes first: under
#: ``--dist loadfile`` a long file that starts last is the run's tail
LONG_FILES = (
    "tests/poco/test_money_invariant.py",
    "tests/poco/test_differential.py",
    "tests/ui/test_browser.py",
    "tests/compute/test_runners.py",
    "tests/tutorial/test_exercises.py",
)


def pytest_collection_modifyitems(config, items):
    def rank(item):
        path = item.nodeid.split("::", 1)[0]
        return LONG_FILES.index(path) if path in LONG_FILES else len(LONG_FILES)

    items.sort(key=rank)  # stable: the order within a file, and among the others, stays
