"""Signed orders for the sandbox's app and workerpool, shared by the order book tests."""

from __future__ import annotations

import random

from iexec_kit.poco.orders import (
    AppOrder,
    DatasetOrder,
    RequestOrder,
    RequestParams,
    WorkerpoolOrder,
)
from iexec_kit.protocol.tags import Tag
from iexec_kit.protocol.units import RLC

OTHER = "0x000000000000000000000000000000000000dEaD"
TEE, GPU = Tag.TEE.to_bytes32(), Tag.GPU.to_bytes32()


class Orders:
    """Signed orders for the sandbox's app and workerpool; any field overridable."""

    def __init__(self, sb):
        self.sb, self.hub, self.domain = sb, sb.hub, sb.hub.domain()
        self.rng = random.Random(7)

    def app(self, sign_as=None, **kw) -> AppOrder:
        o = AppOrder(
            **(
                {
                    "app": self.sb.app_address,
                    "appprice": 5 * RLC,
                    "volume": 10,
                    "salt": self.rng.randbytes(32),
                }
                | kw
            )
        )
        return o.signed((sign_as or self.sb.app_developer).key, self.domain)

    def pool(self, sign_as=None, **kw) -> WorkerpoolOrder:
        o = WorkerpoolOrder(
            **(
                {
                    "workerpool": self.sb.workerpool_address,
                    "workerpoolprice": RLC,
                    "volume": 10,
                    "trust": 5,
                    "category": 0,
                    "salt": self.rng.randbytes(32),
                }
                | kw
            )
        )
        return o.signed((sign_as or self.sb.scheduler).key, self.domain)

    def dataset(self, address, sign_as=None, **kw) -> DatasetOrder:
        o = DatasetOrder(
            **(
                {
                    "dataset": address,
                    "datasetprice": 2 * RLC,
                    "volume": 10,
                    "salt": self.rng.randbytes(32),
                }
                | kw
            )
        )
        return o.signed((sign_as or self.sb.dataset_owner).key, self.domain)

    def request(self, sign=True, **kw) -> RequestOrder:
        req = self.sb.requester
        o = RequestOrder(
            **(
                {
                    "app": self.sb.app_address,
                    "appmaxprice": 100 * RLC,
                    "workerpoolmaxprice": 100 * RLC,
                    "requester": req.address,
                    "volume": 1,
                    "trust": 0,
                    "category": 0,
                    "beneficiary": req.address,
                    "params": RequestParams(args="in.png").to_json(),
                    "salt": self.rng.randbytes(32),
                }
                | kw
            )
        )
        return o.signed(req.key, self.domain) if sign else o

    def register_dataset(self) -> str:
        return self.hub.create_dataset(
            self.sb.dataset_owner, "faces", "/ipfs/QmFaces", b"\x07" * 32
        )

    def fund(self, requester_rlc=200, scheduler_rlc=200):
        self.sb.deposit(self.sb.requester, requester_rlc * RLC)
        self.sb.deposit(self.sb.scheduler, scheduler_rlc * RLC)
