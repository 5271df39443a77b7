"""Orders for the marketplace tests: valid by default, any field overridable; the settings of
the long stateful tests (the money invariant, the differential)."""

from __future__ import annotations

import os
import random
from dataclasses import replace

import pytest
from hypothesis import HealthCheck, settings

from iexec_kit.poco.orders import (
    AppOrder,
    DatasetOrder,
    RequestOrder,
    RequestParams,
    WorkerpoolOrder,
)
from iexec_kit.protocol.reverts import refused_as
from iexec_kit.protocol.units import RLC

#: on a test module's node: one of its tests failed (see the ``module_failed`` fixture)
_FAILED = pytest.StashKey[bool]()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """Notes on the test's module when a test failed (its setup, call or teardown)."""
    report = yield
    if report.failed:
        item.getparent(pytest.Module).stash[_FAILED] = True
    return report


@pytest.fixture(scope="module")
def module_failed(request):
    """``module_failed()``: did a test of this module fail so far? A module fixture's teardown
    check asks it, to stand down when a failure's traceback (which pytest keeps) may still hold
    what the check wants let go: a second, misleading error."""
    return lambda: request.node.stash.get(_FAILED, False)


def steps_wanted(variable: str, default: int) -> int:
    """How many steps a long stateful test runs in all: the environment ``variable`` (to run
    more, or fewer while developing), else ``default`` (what CI runs)."""
    raw = os.environ.get(variable, "").strip()
    if not raw:
        return default
    try:
        steps = int(raw)
    except ValueError:
        steps = 0
    if steps < 1:
        raise pytest.UsageError(
            f"{variable} must be a whole number of steps (1 or more), got {raw!r}: "
            f"unset it to run the {default:,} steps CI runs"
        )
    return steps


def stateful_settings(examples: int, steps_per_example: int, **more) -> settings:
    """Hypothesis settings of a long stateful test: ``examples`` random sequences of
    ``steps_per_example`` steps, derandomized (every run the same sequences), no deadline and
    no health check (a step is a few transactions: slow by hypothesis' measure); ``more``
    (phases, database...) as the test needs."""
    return settings(
        max_examples=examples,
        stateful_step_count=steps_per_example,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        derandomize=True,
        **more,
    )


def protocol_of(sb) -> str:
    """Which contracts the sandbox runs: "kit" or "poco" (iExec's published PoCo 6.1.0)."""
    return getattr(sb.deployment, "protocol", "kit")


def assert_refused(err, sb, *codes, why=""):
    """``err`` (a ContractRevertError, or pytest's ExceptionInfo of one) is one of the kit's
    checks ``codes``: on the kit's hub by its code, on PoCo 6.1.0 by what the table
    (iexec_kit.protocol.reverts.CHECKS) says PoCo reverts with there, a bare revert included."""
    reason = getattr(err, "value", err).reason
    protocol = protocol_of(sb)
    assert any(refused_as(code, reason, protocol) for code in codes), (
        f"{why}: expected {' or '.join(codes)} on {protocol}, got {reason!r}"
    )


class OrderKit:
    """Builds signed orders that match, unless a test overrides a field."""

    def __init__(self, sb):
        self.sb, self.hub = sb, sb.hub
        self.rng = random.Random(42)

    def salt(self):
        return self.rng.randbytes(32)

    def app(self, sign_as=None, **kw) -> AppOrder:
        o = AppOrder(
            **(
                {"app": self.sb.app_address, "appprice": 5 * RLC, "volume": 10, "salt": self.salt()}
                | kw
            )
        )
        return o.signed((sign_as or self.sb.app_developer).key, self.hub.domain())

    def pool(self, sign_as=None, **kw) -> WorkerpoolOrder:
        o = WorkerpoolOrder(
            **(
                {
                    "workerpool": self.sb.workerpool_address,
                    "workerpoolprice": RLC,
                    "volume": 10,
                    "trust": 5,
                    "category": 0,
                    "salt": self.salt(),
                }
                | kw
            )
        )
        return o.signed((sign_as or self.sb.scheduler).key, self.hub.domain())

    def dataset(self, address, sign_as=None, **kw) -> DatasetOrder:
        o = DatasetOrder(
            **(
                {"dataset": address, "datasetprice": 2 * RLC, "volume": 10, "salt": self.salt()}
                | kw
            )
        )
        return o.signed((sign_as or self.sb.dataset_owner).key, self.hub.domain())

    def request(self, sign_as=None, **kw) -> RequestOrder:
        req = self.sb.requester
        o = RequestOrder(
            **(
                {
                    "app": self.sb.app_address,
                    "appmaxprice": 5 * RLC,
                    "workerpoolmaxprice": RLC,
                    "requester": req.address,
                    "volume": 2,
                    "trust": 5,
                    "category": 0,
                    "beneficiary": req.address,
                    "params": RequestParams(args="--style gimpfu").to_json(),
                    "salt": self.salt(),
                }
                | kw
            )
        )
        return o.signed((sign_as or req).key, self.hub.domain())

    def register_dataset(self) -> str:
        return self.hub.create_dataset(
            self.sb.dataset_owner, "faces", "/ipfs/QmFaces", b"\x07" * 32
        )

    def fund(self, requester_rlc=100, scheduler_rlc=100):
        """Top the requester's and the scheduler's stakes up to at least these amounts."""
        for who, amount in ((self.sb.requester, requester_rlc), (self.sb.scheduler, scheduler_rlc)):
            missing = amount * RLC - self.hub.account(who.address).stake
            if missing > 0:
                self.sb.deposit(who, missing)

    @staticmethod
    def resign(order, who, domain):
        return replace(order, sign=b"").signed(who.key, domain)


@pytest.fixture
def kit(sandbox):
    return OrderKit(sandbox)


class TaskKit(OrderKit):
    """Deals and tasks: match, initialize, contribute, reveal, finalize in one line each."""

    RESULTS = '{"storage":"ipfs","location":"/ipfs/QmResult"}'

    def deal(self, volume=1, trust=5, category=0, **req_kw):
        self.fund()
        for w in self.sb.workers:
            if self.hub.account(w.address).stake < 10 * RLC:
                self.sb.deposit(w, 10 * RLC)
        big = max(volume, 10)
        return self.hub.match_orders(
            self.app(volume=big),
            None,
            self.pool(trust=max(trust, 5), category=category, volume=big),
            self.request(volume=volume, trust=trust, category=category, **req_kw),
        )

    def task(self, volume=1, trust=5, idx=0, **kw):
        m = self.deal(volume=volume, trust=trust, **kw)
        taskid, _ = self.hub.initialize(m.dealid, m.deal.bot_first + idx, self.sb.scheduler)
        return m, taskid

    def auth(self, worker, taskid):
        from iexec_kit.poco import sign_authorization

        return sign_authorization(self.sb.scheduler, worker.address, taskid)

    def contribute(self, taskid, worker, digest):
        return self.hub.contribute(taskid, digest, worker, self.auth(worker, taskid))


@pytest.fixture
def tk(sandbox):
    return TaskKit(sandbox)
