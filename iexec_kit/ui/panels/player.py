"""Step 05: the execution, paced: Play / Pause / Step (one event) / speed over a real run, with
the learner's choice of workers, cheaters, lazy and crashing workers, and trust.

:class:`EventPlayer` is the logic, without widgets: it pulls one event at a time from an
iterator (a :meth:`iexec_kit.actors.drive.Drive.events`, which moves the scheduler and workers
on the chain only as far as the next event) and waits ``1 / speed`` seconds between events when
playing. Its clock is injected (``sleep``), and ``play(background=False)`` runs in the caller's
thread, so tests drive it without a browser and without sleeping. :class:`ExecutionPlayer` is
the panel: the choices, the buttons, and a :class:`ContributionWatcher` over the run's stream.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator

import ipywidgets as W

from iexec_kit.actors.events import ConsensusReached, Event
from iexec_kit.ui.html import e
from iexec_kit.ui.panels.base import Panel
from iexec_kit.ui.panels.watcher import ContributionWatcher


class EventPlayer:
    """Plays an iterator of events: :meth:`step` takes one, :meth:`play` takes them at ``speed``
    events a second until the end, a :meth:`pause`, or an event of ``pause_on`` (by default the
    consensus, so a facilitator can stop there and explain). ``sleep(seconds)``: the clock (by
    default a wait that :meth:`pause` interrupts). ``on_event(event)``: called after each step."""

    def __init__(
        self,
        events: Iterator[Event],
        *,
        speed: float = 2.0,
        sleep: Callable[[float], object] | None = None,
        pause_on: tuple[type, ...] = (ConsensusReached,),
        on_event: Callable[[Event | None], None] | None = None,
    ):
        self.events = iter(events)
        self.speed = speed
        self.pause_on = pause_on
        self.on_event = on_event
        self.played: list[Event] = []
        self.done = False
        self._wake = threading.Event()
        self._sleep = sleep or self._wake.wait
        self._step_lock = threading.Lock()
        self._playing = threading.Event()
        self.thread: threading.Thread | None = None

    @property
    def playing(self) -> bool:
        return self._playing.is_set()

    def step(self) -> Event | None:
        """Take one event (None once the run is over)."""
        with self._step_lock:
            if self.done:
                return None
            try:
                event = next(self.events)
            except StopIteration:
                self.done = True
                event = None
            else:
                self.played.append(event)
        if self.on_event is not None:
            self.on_event(event)
        return event

    def play(self, *, background: bool = True) -> str | None:
        """Play until the end, a pause or a ``pause_on`` event. Returns a sentence (and plays
        nothing) when already playing or finished; None when it started."""
        if self.done:
            return "The run is over: prepare a new one to play again."
        if self._playing.is_set():
            return "Already playing: press Pause first (Play twice does not run twice)."
        self._playing.set()
        self._wake.clear()
        if background:
            self.thread = threading.Thread(target=self._loop, daemon=True, name="event-player")
            self.thread.start()
        else:
            self._loop()
        return None

    def _loop(self) -> None:
        try:
            while self._playing.is_set():
                event = self.step()
                if event is None or isinstance(event, self.pause_on):
                    break
                self._sleep(1 / max(self.speed, 0.01))
        finally:
            self._playing.clear()

    def pause(self) -> None:
        """Stop after the current event."""
        self._playing.clear()
        self._wake.set()

    def join(self, timeout: float | None = None) -> None:
        if self.thread is not None:
            self.thread.join(timeout)


class ExecutionPlayer(Panel):
    """Step 05: choose the workers (honest, colluding cheaters, lone cheaters, lazy, crashing)
    and the trust, press "Prepare the run" (a fresh sandbox fast-forwarded to the deal with these
    choices, :func:`iexec_kit.tutorial.steps.at`), then Play / Pause / Step through the execution
    while the contribution watcher shows each commit, reveal and the consensus."""

    title = "Execution player"

    def __init__(
        self,
        *,
        sleep: Callable[[float], object] | None = None,
        engine: str = "numpy",
        base=None,
    ):
        # base: the DemoConfig the choices go on (e.g. tutorial.choices.saved_config(): the
        # image, style and storage the learner chose in 03)
        self._sleep, self.engine, self.base = sleep, engine, base
        self.tutorial = None
        self.player: EventPlayer | None = None
        self.watcher: ContributionWatcher | None = None
        self.workers = W.BoundedIntText(value=3, min=0, max=10, description="honest")
        self.cheaters = W.BoundedIntText(value=0, min=0, max=10, description="colluding")
        self.lone = W.BoundedIntText(value=0, min=0, max=10, description="lone cheaters")
        self.lazy = W.BoundedIntText(value=0, min=0, max=10, description="lazy")
        self.crashing = W.BoundedIntText(value=0, min=0, max=10, description="crashing")
        self.trust = W.BoundedIntText(value=3, min=0, max=100, description="trust")
        self.speed = W.FloatSlider(value=2.0, min=0.5, max=20, step=0.5, description="events/s")
        self.speed.observe(self._on_speed, names="value")
        self.stop_at_consensus = W.Checkbox(value=True, description="pause at consensus")
        self.prepare_button = self._button("Prepare the run", self.prepare, button_style="primary")
        self.play_button = self._button("Play", self.play, icon="play")
        self.pause_button = self._button("Pause", self.pause, icon="pause")
        self.step_button = self._button("Step", self.step, icon="step-forward")
        self.status = W.HTML("<i>choose the workers and the trust, then prepare the run</i>")
        self.view = W.VBox()
        box = W.Layout(flex_flow="row wrap")
        super().__init__(
            [
                W.HBox([self.workers, self.cheaters, self.lone], layout=box),
                W.HBox([self.lazy, self.crashing, self.trust], layout=box),
                self.prepare_button,
                W.HBox([self.play_button, self.pause_button, self.step_button, self.speed]),
                self.stop_at_consensus,
                self.status,
                self.view,
            ]
        )

    def config(self):
        """The :class:`~iexec_kit.tutorial.demo.DemoConfig` of the choices."""
        from dataclasses import replace

        from iexec_kit.tutorial.demo import DemoConfig

        return replace(
            self.base or DemoConfig(),
            workers=self.workers.value,
            cheaters=self.cheaters.value,
            lone_cheaters=self.lone.value,
            lazy=self.lazy.value,
            crashing=self.crashing.value,
            trust=self.trust.value,
            engine=self.engine,
            volume=1,
        )

    def _sentence(self, text: str) -> None:
        self.status.value = f"<div class='iexec-problem' style='color:#c00'>{e(text)}</div>"

    def prepare(self) -> None:
        """A fresh sandbox at the deal, with the choices; the player ready at the first event."""
        from iexec_kit.actors.drive import Drive
        from iexec_kit.tutorial.steps import at

        if self.player is not None and self.player.playing:
            return self._sentence("A run is playing: press Pause before preparing another.")
        cfg = self.config()
        if not cfg.behaviours():
            return self._sentence("Choose at least one worker: nobody would run the task.")
        if self.trust.value < 1:
            return self._sentence("Trust 0 asks for no agreement: choose trust 1 or more.")
        self.close_run()
        t = at("deal", config=cfg)
        self.tutorial = t
        self.watcher = ContributionWatcher(t.stream)
        self.view.children = [self.watcher]
        drive = Drive(t.scheduler, parallel=cfg.parallel)
        self.player = EventPlayer(
            drive.events(),
            speed=self.speed.value,
            sleep=self._sleep,
            pause_on=(ConsensusReached,) if self.stop_at_consensus.value else (),
            on_event=self._on_event,
        )
        behaviours = ", ".join(b.value for b in cfg.behaviours())
        self.status.value = (
            f"ready: deal <code class='iexec-deal-id'>{e(t.match.dealid)}</code>, trust "
            f"{cfg.effective_trust()}, workers: {e(behaviours)}. Press Play or Step."
        )
        return None

    def _on_event(self, event) -> None:
        n = len(self.player.played) if self.player else 0
        if event is None:
            self.status.value = f"<b>the run is over</b> after {n} events"
        else:
            self.status.value = f"event {n}: {e(event.describe())}"

    def _on_speed(self, change) -> None:
        if self.player is not None:
            self.player.speed = change["new"]

    def _ready(self) -> bool:
        if self.player is None:
            self._sentence("Prepare the run first.")
            return False
        return True

    def step(self):
        """One event."""
        if not self._ready():
            return None
        if self.player.playing:
            self._sentence("Playing: press Pause to step one event at a time.")
            return None
        return self.player.step()

    def play(self):
        if not self._ready():
            return None
        self.player.pause_on = (ConsensusReached,) if self.stop_at_consensus.value else ()
        why = self.player.play()
        if why:
            self._sentence(why)
        return why

    def pause(self) -> None:
        if self._ready():
            self.player.pause()

    def close_run(self) -> None:
        """Stop the player and close the run's sandbox."""
        if self.player is not None:
            self.player.pause()
            self.player.join(5)
        if self.watcher is not None:
            self.watcher.unsubscribe()
        if self.tutorial is not None:
            self.tutorial.sb.close()
        self.player = self.watcher = self.tutorial = None


__all__ = ["EventPlayer", "ExecutionPlayer"]
