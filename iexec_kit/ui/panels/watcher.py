"""Step 05: the workers at work, live: a view of the event stream, redrawn on each event."""

from __future__ import annotations

import threading

import ipywidgets as W

from iexec_kit.actors.views import all_reached, task_progress
from iexec_kit.ui.html import CONSENSUS_CLASS, render_watch
from iexec_kit.ui.panels.base import Panel


class ContributionWatcher(Panel):
    """Step 05: the workers at work, live. Subscribes to an EventStream and redraws from its
    events (past ones included) on each new one: commits, reveals, the credibility of each answer
    (:func:`iexec_kit.actors.views.task_progress`), and a "Consensus reached" marker (CSS class
    ``iexec-consensus``). Thread-safe.

        watcher = ContributionWatcher(stream)   # subscribe before the run: it updates live
        watcher
    """

    title = "Contributions"

    def __init__(self, stream, *, scores: dict | None = None):
        self.stream, self.scores = stream, scores
        self.view = W.HTML()
        self._lock = threading.Lock()
        super().__init__([self.view])
        self.refresh()
        self.unsubscribe = stream.subscribe(self._on_event)

    def state(self) -> dict:
        """The stream's events as :class:`iexec_kit.actors.views.TaskProgress`, per task."""
        return task_progress(list(self.stream), self.scores)

    @property
    def reached(self) -> bool:
        """True once every task seen has reached a consensus."""
        return all_reached(self.state())

    def refresh(self) -> None:
        """Redraw from the stream's events."""
        with self._lock:
            tasks = self.state()
            self.view.value = render_watch(tasks)
            (self.add_class if all_reached(tasks) else self.remove_class)(CONSENSUS_CLASS + "-box")

    def _on_event(self, event) -> None:
        try:
            self.refresh()
        except Exception as exc:  # noqa: BLE001 - never break the actors; show it instead
            self.show_error(exc)

    def close(self) -> None:
        self.unsubscribe()
        super().close()


__all__ = ["CONSENSUS_CLASS", "ContributionWatcher"]
