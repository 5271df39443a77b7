"""Fast-forward a fresh sandbox to a step of the demo, so that each notebook runs on its own.

``at("deal")`` starts a sandbox and plays every step before the deal with the kit's own calls
(the same ones the earlier notebooks show one by one), then returns a :class:`Tutorial` holding
what those steps made.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from iexec_kit.protocol.units import RLC

STEPS = ("start", "storage", "orders", "request", "deal")


APP_PRICE = 1 * RLC
WORKERPOOL_PRICE = 1 * RLC


@dataclass
class Tutorial:
    """What the steps so far produced: the sandbox, the requester's storage token, the published
    orders (book entries), the deal (a MatchResult)."""

    sb: object
    step: str
    token: str | None = None
    app_entry: object = None
    workerpool_entry: object = None
    match: object = None
    rng: random.Random = field(default_factory=lambda: random.Random(0))

    @property
    def deal(self):
        return None if self.match is None else self.match.deal


def at(
    step: str = "start", *, workers: int = 5, trust: int = 1, volume: int = 1, sandbox=None
) -> Tutorial:
    """A sandbox fast-forwarded to the beginning of ``step``'s notebook: one of
    "start", "storage" (just started), "orders" (storage set up), "request" (orders published),
    "deal" (the deal matched)."""
    from iexec_kit.errors import KitValueError

    if step not in STEPS:
        raise KitValueError(f"unknown tutorial step {step!r}", expected=", ".join(STEPS), got=step)
    from iexec_kit.sandbox import Sandbox

    sb = sandbox or Sandbox.start(workers=workers)
    t = Tutorial(sb, step)
    done = STEPS.index(step)
    if done >= STEPS.index("orders"):
        t.token = sb.storage.storage_init(sb.requester.key)
    if done >= STEPS.index("request"):
        publish_orders(t)
    if done >= STEPS.index("deal"):
        buy(t, trust=trust, volume=volume)
    return t


def publish_orders(t: Tutorial, *, volume: int = 10, trust: int = 5):
    """Step 0: the app developer and the workerpool manager sign and publish their orders; the
    manager deposits the stake its orders need."""
    from iexec_kit.market import publish_app_order, publish_workerpool_order

    sb = t.sb
    t.app_entry = publish_app_order(
        sb.hub, sb.book, sb.app_developer, sb.app_address, price=APP_PRICE, volume=volume, rng=t.rng
    )
    sb.deposit(sb.scheduler, 50 * RLC)
    t.workerpool_entry = publish_workerpool_order(
        sb.hub,
        sb.book,
        sb.scheduler,
        sb.workerpool_address,
        price=WORKERPOOL_PRICE,
        volume=volume,
        trust=trust,
        rng=t.rng,
    )
    return t.app_entry, t.workerpool_entry


def request_params(
    t: Tutorial, image: str | None = None, args: str = "--style gimpfu --engine numpy"
):
    """The request's params: the app's arguments, the input image's URL, the result storage."""
    from iexec_kit.poco.orders import RequestParams

    inputs = (image,) if image else ()
    # the proxy is the sandbox's own (its port changes every run; left out, the deal id repeats)
    return RequestParams(args=args, input_files=inputs, storage_provider="ipfs")


def buy(t: Tutorial, *, trust: int = 1, volume: int = 1, image: str | None = None):
    """Step 1: the requester deposits, signs a request order and matchOrders makes the deal."""
    from iexec_kit.actors.requester import buy_execution

    sb = t.sb
    sb.deposit(sb.requester, 20 * RLC)
    t.match = buy_execution(
        sb.hub,
        sb.book,
        sb.requester,
        sb.app_address,
        params=request_params(t, image),
        volume=volume,
        trust=trust,
        rng=t.rng,
    )
    return t.match
