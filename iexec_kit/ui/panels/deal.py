"""Step 04: a deal as the chain records it: parties, prices, funds locked, deadlines."""

from __future__ import annotations

import ipywidgets as W

from iexec_kit.ui.html import render_deal
from iexec_kit.ui.panels.base import Panel


class DealView(Panel):
    """Step 04: a deal as the chain records it: parties, prices, the funds locked (before, if
    given, and now), the deadlines (the hub's, :meth:`iexec_kit.poco.hub.Hub.deadlines`).
    ``deal``: a Deal, a MatchResult or a deal id; ``before``: the AccountViews read before the
    deal (the chain does not keep them)."""

    title = "Deal"

    def __init__(self, sb, deal, *, before=None):
        self.sb = sb
        self.dealid = deal if isinstance(deal, str) else deal.dealid
        self.before = {a.address.lower(): a for a in (before or [])}
        self.view = W.HTML()
        super().__init__([self.view, self._button("Refresh from the chain", self.render)])
        self.render()

    def _name(self, address: str) -> str:
        return next(
            (p.name for p in self.sb.participants if p.address.lower() == address.lower()), address
        )

    def render(self) -> None:
        hub = self.sb.hub
        deal = hub.deal(self.dealid)
        locks = []
        for who in (deal.requester, deal.workerpool.owner):
            now = hub.account(who)
            before = self.before.get(who.lower())
            locks.append(
                (self._name(who), before.locked if before else None, now.locked, now.stake)
            )
        self.view.value = render_deal(deal, hub.deadlines(deal), locks)


__all__ = ["DealView"]
