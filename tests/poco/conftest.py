"""Orders for the marketplace tests: valid by default, any field overridable."""

from __future__ import annotations

import random
from dataclasses import replace

import pytest

from iexec_kit.poco.orders import AppOrder, DatasetOrder, RequestOrder, RequestParams, WorkerpoolOrder

RLC = 10**9


class OrderKit:
    """Builds signed orders that match, unless a test overrides a field."""

    def __init__(self, sb):
        self.sb, self.hub = sb, sb.hub
        self.rng = random.Random(42)

    def salt(self):
        return self.rng.randbytes(32)

    def app(self, sign_as=None, **kw) -> AppOrder:
        o = AppOrder(**({"app": self.sb.app_address, "appprice": 5 * RLC, "volume": 10, "salt": self.salt()} | kw))
        return o.signed((sign_as or self.sb.app_developer).key, self.hub.domain())

    def pool(self, sign_as=None, **kw) -> WorkerpoolOrder:
        o = WorkerpoolOrder(**({"workerpool": self.sb.workerpool_address, "workerpoolprice": RLC, "volume": 10,
                                "trust": 5, "category": 0, "salt": self.salt()} | kw))
        return o.signed((sign_as or self.sb.scheduler).key, self.hub.domain())

    def dataset(self, address, sign_as=None, **kw) -> DatasetOrder:
        o = DatasetOrder(**({"dataset": address, "datasetprice": 2 * RLC, "volume": 10, "salt": self.salt()} | kw))
        return o.signed((sign_as or self.sb.dataset_owner).key, self.hub.domain())

    def request(self, sign_as=None, **kw) -> RequestOrder:
        req = self.sb.requester
        o = RequestOrder(**({"app": self.sb.app_address, "appmaxprice": 5 * RLC, "workerpoolmaxprice": RLC,
                             "requester": req.address, "volume": 2, "trust": 5, "category": 0,
                             "beneficiary": req.address, "params": RequestParams(args="--style gimpfu").to_json(),
                             "salt": self.salt()} | kw))
        return o.signed((sign_as or req).key, self.hub.domain())

    def register_dataset(self) -> str:
        return self.hub.create_dataset(self.sb.dataset_owner, "faces", "/ipfs/QmFaces", b"\x07" * 32)

    def fund(self, requester_rlc=100, scheduler_rlc=100):
        self.sb.deposit(self.sb.requester, requester_rlc * RLC)
        self.sb.deposit(self.sb.scheduler, scheduler_rlc * RLC)

    @staticmethod
    def resign(order, who, domain):
        return replace(order, sign=b"").signed(who.key, domain)


@pytest.fixture
def kit(sandbox):
    return OrderKit(sandbox)
