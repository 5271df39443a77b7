"""Step 02: an order's fields, who signed it, and its EIP-712 hash."""

from __future__ import annotations

import ipywidgets as W

from iexec_kit.ui.display import order_rows
from iexec_kit.ui.html import addr, render_order, short
from iexec_kit.ui.panels.base import Panel


class OrderInspector(Panel):
    """Step 02: an order's fields in words (prices in RLC, restrictions as who may use it), who
    signed it (recovered from the signature, compared with the owner the chain names), and its
    EIP-712 hash (checked against the book's). ``orders``: one order or book entry, or a list
    of them (a dropdown picks one)."""

    title = "Order inspector"

    def __init__(self, sb, orders):
        self.sb = sb
        items = list(orders) if isinstance(orders, (list, tuple)) else [orders]
        self.items = items
        self.signer = None
        labels = [
            (f"{i}: {type(getattr(x, 'order', x)).__name__} {short(self._hash(x), 14)}", i)
            for i, x in enumerate(items)
        ]
        self.pick = W.Dropdown(options=labels, value=0 if items else None, description="order")
        self.view = W.HTML()
        self.pick.observe(lambda _: self.render(), names="value")
        super().__init__([self.pick, self.view])
        self.render()

    def _hash(self, item) -> str:
        order = getattr(item, "order", item)
        return "0x" + order.hash(self.sb.hub.domain()).hex()

    def render(self) -> None:
        if not self.items:
            self.view.value = "<i>no order</i>"
            return
        item = self.items[self.pick.value]
        order = getattr(item, "order", item)
        book_hash = getattr(item, "hash", None)
        signer = order.signer(self.sb.hub.domain())
        owner = self.sb.hub.order_owner(order)
        same = signer.lower() == owner.lower()
        self.signer = signer
        self.view.value = render_order(
            order_rows(order),
            signer,
            self._hash(item),
            book_hash if isinstance(book_hash, str) and book_hash else None,
        ) + (
            f"<div class='iexec-signer-ok'>✔ the signer is the owner the chain names "
            f"({addr(owner)}): the hub accepts this order</div>"
            if same
            else f"<div class='iexec-signer-bad' style='color:#c00'>✘ signed by {addr(signer)}, "
            f"but the chain names {addr(owner)}: the hub refuses this order</div>"
        )


__all__ = ["OrderInspector"]
