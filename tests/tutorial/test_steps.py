"""The one fast-forward: ``at(step)`` plays the demo's own steps with the demo's defaults."""

from __future__ import annotations

import pytest

from iexec_kit.errors import KitValueError
from iexec_kit.tutorial.demo import DemoConfig
from iexec_kit.tutorial.steps import STEPS, at


def test_at_deal_follows_the_demo_defaults():
    cfg = DemoConfig()
    t = at("deal")
    try:
        sb, deal = t.sb, t.deal
        assert len(sb.workers) == len(cfg.behaviours())
        assert t.token and t.input_url.startswith("/ipfs/")
        assert deal.price_per_task == cfg.app_price + cfg.workerpool_price
        assert deal.trust == cfg.effective_trust() and t.match.volume == cfg.volume
        assert deal.request_params().input_files == (t.input_url,)
        requester = sb.account(sb.requester)
        assert requester.locked == cfg.cost()
        assert requester.stake + requester.locked == cfg.budget()
    finally:
        t.sb.close()


def test_unknown_step_says_which_exist():
    with pytest.raises(KitValueError, match="unknown tutorial step") as err:
        at("dela")
    assert all(step in str(err.value) for step in STEPS)
