"""Fast-forward a fresh sandbox to a step of the demo, so that each notebook runs on its own.

``at("deal")`` starts a sandbox and plays every step before the deal with the demo's own step
functions (:mod:`iexec_kit.tutorial.demo`, the ones ``iexec-kit demo`` runs and the earlier
notebooks show one by one), with the demo's prices, deposits and params
(:class:`~iexec_kit.tutorial.demo.DemoConfig`; pass ``config`` to change them), then returns a
:class:`Tutorial` holding what those steps made. There is one fast-forward: this one.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from iexec_kit.actors.events import EventStream
from iexec_kit.errors import KitValueError
from iexec_kit.tutorial import demo
from iexec_kit.tutorial.demo import DemoConfig

STEPS = ("start", "storage", "orders", "request", "deal")


@dataclass
class Tutorial:
    """What the steps so far produced: the sandbox, the config its steps follow, the input's
    URL, the published orders (book entries), the deal (a MatchResult), and the workerpool
    (its scheduler and workers) that staked for the orders."""

    sb: object
    step: str
    config: DemoConfig = field(default_factory=DemoConfig)
    stream: EventStream = field(default_factory=EventStream)
    input_url: str | None = None
    scheduler: object = None
    workers: list = field(default_factory=list)
    app_entry: object = None
    workerpool_entry: object = None
    match: object = None
    rng: random.Random | None = None

    def __post_init__(self):
        if self.rng is None:  # the demo's salts: the same orders as ``iexec-kit demo --seed``
            self.rng = random.Random(f"demo-{self.config.seed}")

    @property
    def token(self) -> str | None:
        """The requester's token for the result proxy (after the storage set-up)."""
        return self.sb.storage.token_for(self.sb.requester.address)

    @property
    def deal(self):
        return None if self.match is None else self.match.deal


def at(step: str = "start", *, config: DemoConfig | None = None, sandbox=None) -> Tutorial:
    """A sandbox fast-forwarded to the beginning of ``step``'s notebook: one of
    "start", "storage" (just started), "orders" (storage set up), "request" (orders published,
    sellers staked), "deal" (the requester funded, the deal matched). ``config``: the demo's
    prices, deposits and params (default :class:`DemoConfig`'s)."""
    if step not in STEPS:
        raise KitValueError(f"unknown tutorial step {step!r}", expected=", ".join(STEPS), got=step)
    from iexec_kit.sandbox import Sandbox

    cfg = config or DemoConfig()
    behaviours = cfg.check()
    sb = sandbox or Sandbox.start(
        workers=len(behaviours), chain_url=cfg.chain_url, ipfs_api=cfg.ipfs_api, seed=cfg.seed
    )
    t = Tutorial(sb, step, cfg)
    done = STEPS.index(step)
    if done >= STEPS.index("orders"):
        t.input_url = demo.set_up_storage(sb, cfg, t.stream)
    if done >= STEPS.index("request"):
        publish_orders(t)
    if done >= STEPS.index("deal"):
        buy(t)
    return t


def publish_orders(t: Tutorial):
    """Step 0: the workerpool's owner and workers stake, the app developer and the scheduler sign
    and publish their orders (:func:`iexec_kit.tutorial.demo.publish_orders`). Returns
    ``(app_entry, workerpool_entry)``."""
    from iexec_kit.actors.drive import build_workerpool

    sb, cfg = t.sb, t.config
    t.scheduler, t.workers = build_workerpool(
        sb, cfg.behaviours(), stream=t.stream, runner=cfg.runner, seed=cfg.seed
    )
    t.scheduler.from_block = sb.chain.block_number()
    demo.stake(sb, cfg, t.workers, t.stream)
    t.app_entry, t.workerpool_entry = demo.publish_orders(sb, cfg, t.scheduler, t.rng)
    return t.app_entry, t.workerpool_entry


def request_params(t: Tutorial, image: str | None = None):
    """The request's params (:func:`iexec_kit.tutorial.demo.request_params`): the app's arguments,
    the input image's URL (default: the one the storage set-up published), the result storage."""
    return demo.request_params(t.config, image or t.input_url)


def buy(t: Tutorial, *, image: str | None = None):
    """Step 1: the requester deposits (:func:`iexec_kit.tutorial.demo.fund_requester`), then
    its request order is checked, signed and matched (:func:`iexec_kit.tutorial.demo.buy`)."""
    demo.fund_requester(t.sb, t.config, t.stream)
    t.match = demo.buy(t.sb, t.config, request_params(t, image), t.stream, t.rng)
    return t.match
