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


def test_the_learners_choices_travel_and_replay_to_the_same_deal(tmp_path, monkeypatch):
    from iexec_kit.tutorial.choices import CHOICES_ENV, Choices, saved_config
    from iexec_kit.tutorial.demo import DEFAULT_INPUT

    monkeypatch.setenv(CHOICES_ENV, str(tmp_path / "c" / "choices.json"))
    assert saved_config(DemoConfig(volume=2)) == DemoConfig(volume=2)  # nothing saved: defaults
    mine = tmp_path / "my cat.png"
    mine.write_bytes(DEFAULT_INPUT.read_bytes())
    path = Choices(input=str(mine), style="cartoon", trust=1, volume=1).save()
    mine.unlink()  # the saved choices keep their own copy of the image
    cfg = saved_config(DemoConfig(volume=2))
    assert cfg.style == "cartoon" and cfg.trust == 1 and cfg.volume == 2
    assert cfg.input == str(path.parent / "inputs" / "my cat.png")
    runs = []
    for _ in range(2):
        t = at("deal", config=cfg)
        try:
            params = t.deal.request_params()
            runs.append((t.match.dealid, t.input_url, params.args, t.deal.trust))
        finally:
            t.sb.close()
    assert runs[0] == runs[1]  # the same choices: the same input CID and the same deal id
    dealid, url, args, trust = runs[0]
    assert url.startswith("/ipfs/") and url.endswith("my cat.png")
    assert "--style cartoon" in args and trust == 1
