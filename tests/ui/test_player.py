"""The execution player without a browser and without sleeping: the clock is injected, steps are
driven explicitly, and Play runs in the test's thread (or a thread the test controls)."""

from __future__ import annotations

import threading

import pytest

pytest.importorskip("ipywidgets")

from iexec_kit.actors import events as E  # noqa: E402
from iexec_kit.ui.panels import CONSENSUS_CLASS, ContributionWatcher  # noqa: E402
from iexec_kit.ui.panels.player import EventPlayer, ExecutionPlayer  # noqa: E402

TASK, DEAL = "0x" + "11" * 32, "0x" + "22" * 32
GOOD = "0x" + "aa" * 32


def run_events(stream):
    """A synthetic run: each event emitted into ``stream`` (as a drive does) and yielded."""
    events = [E.TaskInitialized(TASK, DEAL, 0, 100, 200)]
    events += [
        E.ContributionCommitted(TASK, f"0x{i:040x}", f"worker{i}", "honest", GOOD) for i in range(3)
    ]
    events += [E.ConsensusReached(TASK, GOOD, tuple(f"0x{i:040x}" for i in range(3)), 300)]
    events += [E.TaskFinalized(TASK, "{}")]
    for event in events:
        yield stream.emit(event)


def test_step_takes_one_event_and_the_watcher_follows():
    stream = E.EventStream()
    watcher = ContributionWatcher(stream)
    seen = []
    player = EventPlayer(run_events(stream), sleep=lambda s: None, on_event=seen.append)
    assert len(stream) == 0  # nothing runs before a press
    first = player.step()
    assert isinstance(first, E.TaskInitialized) and len(stream) == 1 and seen == [first]
    player.step()
    assert "worker0" in watcher.view.value and "worker1" not in watcher.view.value
    watcher.close()


def test_play_waits_one_over_speed_between_events_and_pauses_at_consensus():
    stream = E.EventStream()
    waits = []
    player = EventPlayer(run_events(stream), speed=4, sleep=waits.append)
    assert player.play(background=False) is None
    # stopped on the consensus (the facilitator's moment), no waiting after it
    assert isinstance(player.played[-1], E.ConsensusReached) and not player.playing
    assert waits == [0.25] * 4
    assert player.play(background=False) is None  # play on: to the end
    assert player.step() is None and player.done
    assert isinstance(player.played[-1], E.TaskFinalized)
    assert "over" in player.play(background=False)


def test_pause_stops_after_the_current_event():
    stream = E.EventStream()
    player = EventPlayer(run_events(stream), pause_on=(), sleep=lambda s: None)
    player._sleep = lambda s: player.pause() if len(player.played) == 2 else None
    player.play(background=False)
    assert len(player.played) == 2 and not player.playing and not player.done


def test_play_pressed_while_playing_does_not_run_twice():
    stream = E.EventStream()
    gate = threading.Event()
    player = EventPlayer(run_events(stream), pause_on=(), sleep=lambda s: gate.wait(5))
    assert player.play() is None  # in the background: blocked in its first wait
    while not player.played:
        pass
    assert "Already playing" in player.play()
    player.pause()
    gate.set()
    player.join(5)
    assert not player.playing and len(player.played) <= 2


def test_the_panel_before_preparing_renders_headless_and_says_what_to_do():
    panel = ExecutionPlayer(sleep=lambda s: None)
    assert "prepare the run" in panel.status.value
    for button in (panel.step_button, panel.play_button, panel.pause_button):
        button.click()
        assert "Prepare the run first" in panel.status.value
    panel.workers.value = 0
    panel.prepare_button.click()
    assert "at least one worker" in panel.status.value and panel.player is None
    panel.workers.value, panel.trust.value = 1, 0
    panel.prepare_button.click()
    assert "Trust 0" in panel.status.value and panel.player is None


def test_the_panel_runs_the_learners_choice_step_by_step_on_a_real_chain():
    panel = ExecutionPlayer(sleep=lambda s: None)
    panel.workers.value, panel.cheaters.value, panel.trust.value = 3, 1, 3
    panel.prepare_button.click()
    try:
        assert panel.output.outputs == (), panel.output.outputs
        t = panel.tutorial
        assert "iexec-deal-id" in panel.status.value and t.match.dealid in panel.status.value
        assert [b.value for b in t.config.behaviours()].count("colluding") == 1
        panel.step_button.click()
        assert "event 1:" in panel.status.value and "initialized" in panel.status.value
        # Play, in the test's thread: stops at the consensus
        panel.player.play(background=False)
        assert panel.watcher.reached and CONSENSUS_CLASS in panel.watcher.view.value
        assert isinstance(panel.player.played[-1], E.ConsensusReached)
        panel.play_button.click()  # on to the end, in the background
        panel.player.join(60)
        assert panel.player.done and "the run is over" in panel.status.value
        assert "COMPLETED" in panel.watcher.view.value
        assert "over" in panel.play()  # a sentence, nothing played
    finally:
        panel.close_run()
