"""Step 03: the request: the image, the app's arguments, the most the requester pays; "Buy"."""

from __future__ import annotations

import random

import ipywidgets as W

from iexec_kit.protocol.units import RLC
from iexec_kit.ui.html import e
from iexec_kit.ui.panels.base import Panel
from iexec_kit.ui.panels.storage import StorageSetupPanel


class RequestBuilder(Panel):
    """Step 03: the image URL (or the sample), the app's arguments, the most the requester pays;
    "Buy" calls :func:`iexec_kit.actors.requester.buy_execution` and shows the deal id."""

    title = "Request builder"

    def __init__(self, sb, *, storage: StorageSetupPanel | None = None, seed: int = 0):
        self.sb, self.storage = sb, storage
        # the salts: deterministic, one per click
        self.rng = random.Random(f"request-builder-{seed}")
        self.image = W.Text(
            placeholder="http(s) URL, /ipfs/<cid>/<name> or a local path",
            description="image",
            layout=W.Layout(width="70%"),
        )
        self.args = W.Text(
            value="--style gimpfu --engine numpy", description="args", layout=W.Layout(width="70%")
        )
        self.app_max = W.FloatText(value=1.0, description="app max", step=0.5)
        self.pool_max = W.FloatText(value=1.0, description="pool max", step=0.5)
        self.trust = W.BoundedIntText(value=1, min=0, max=100, description="trust")
        self.volume = W.BoundedIntText(value=1, min=1, max=100, description="volume")
        self.deal = W.HTML()
        sample = self._button("Use the sample image", self.use_sample)
        buy = self._button("Buy", self.buy, button_style="success", icon="shopping-cart")
        super().__init__(
            [
                W.HBox([self.image, sample]),
                self.args,
                W.HBox([self.app_max, self.pool_max], layout=W.Layout(flex_flow="row wrap")),
                W.HBox([self.trust, self.volume], layout=W.Layout(flex_flow="row wrap")),
                W.HTML("<small>max prices in RLC per task</small>"),
                buy,
                self.deal,
            ]
        )

    def use_sample(self) -> str:
        """Put data/chelsea.png on the sandbox's IPFS and use its URL."""
        from iexec_kit.tutorial.demo import publish_input

        self.image.value = publish_input(self.sb, None)
        self.say(f"sample image on IPFS: {self.image.value}")
        return self.image.value

    def params(self):
        """The request's params from the fields (and the storage panel's choice, if any)."""
        from iexec_kit.poco.orders import RequestParams
        from iexec_kit.tutorial.demo import publish_input

        image = self.image.value.strip()
        inputs = (publish_input(self.sb, image),) if image else ()
        extra = self.storage.params() if self.storage is not None else {}
        return RequestParams(args=self.args.value, input_files=inputs, **extra)

    def buy(self):
        """Sign the request order and match it with the book's best orders: the deal."""
        from iexec_kit.actors.requester import buy_execution

        sb = self.sb
        match = buy_execution(
            sb.hub,
            sb.book,
            sb.requester,
            sb.app_address,
            params=self.params(),
            volume=self.volume.value,
            trust=self.trust.value,
            app_max_price=round(self.app_max.value * RLC),
            workerpool_max_price=round(self.pool_max.value * RLC),
            rng=self.rng,
        )
        self.deal.value = (
            f"deal <code class='iexec-deal-id'>{e(match.dealid)}</code>: {match.volume} task(s) "
            f"at {match.deal.price_per_task / RLC:g} RLC, gas {match.receipt.gas_used:,}"
        )
        self.say(f"matchOrders made deal {match.dealid}")
        return match


__all__ = ["RequestBuilder"]
