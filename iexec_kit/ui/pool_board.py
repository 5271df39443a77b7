"""The facilitator's board: a workerpool at work, live, in type a projector makes readable.

The plain call first (:func:`iexec_kit.actors.board.pool_snapshot`, a dataclass with a text
repr), then the widget over it::

    from iexec_kit.actors.board import pool_snapshot
    print(pool_snapshot("http://127.0.0.1:7000"))     # the scheduler's URL

    from iexec_kit.ui.pool_board import PoolBoard
    PoolBoard("http://127.0.0.1:7000")                # refreshes itself every 2 s

Without a URL the board reads the scheduler's from the node's ``node.json``
(``$IEXEC_KIT_NODE_FOLDER``, default ``.sandbox/node`` in the repository), or takes
``$IEXEC_KIT_SCHEDULER_URL``; until a scheduler answers it says so, and keeps looking. The HTML
is :func:`render_board`'s, a plain function of a snapshot; the widget holds nothing the
scheduler cannot give again.
"""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

import ipywidgets as W

from iexec_kit.ui.html import addr, e

BOARD_CLASS = "iexec-board"
#: seconds between two refreshes
PERIOD = 2.0
_COLOURS = {
    "agrees": "#1b873f",
    "disagrees": "#c62828",
    "pending": "#6b7280",
    "computing": "#b26a00",
}
_BEHAVIOUR_COLOURS = {"honest": "#1b873f", "cheater": "#c62828", "colluding": "#c62828"}
_STYLE = f"""
<style>
.{BOARD_CLASS} {{ font-family: system-ui, sans-serif; font-size: 22px; line-height: 1.35; }}
.{BOARD_CLASS} h2 {{ font-size: 34px; margin: 6px 0 10px 0; }}
.{BOARD_CLASS} table {{ border-collapse: collapse; margin-bottom: 14px; }}
.{BOARD_CLASS} th {{ text-align: left; padding: 4px 14px; border-bottom: 2px solid #999; }}
.{BOARD_CLASS} td {{ padding: 4px 14px; border-bottom: 1px solid #ddd; vertical-align: top; }}
.{BOARD_CLASS} .chip {{ display: inline-block; border-radius: 6px; padding: 0 8px;
  margin: 2px 4px 2px 0; color: white; }}
.{BOARD_CLASS} .gone {{ color: #999; }}
.{BOARD_CLASS} .num {{ text-align: right; font-variant-numeric: tabular-nums; }}
</style>
"""


def _rlc(amount) -> str:
    from iexec_kit.protocol.units import RLC

    if amount is None:
        return "?"
    return f"{amount / RLC:,.9g} RLC"


def _chip(text: str, colour: str, title: str = "") -> str:
    return f"<span class='chip' style='background:{colour}' title='{e(title)}'>{e(text)}</span>"


def render_board(snap) -> str:
    """The board's HTML for a :class:`~iexec_kit.actors.board.PoolSnapshot`: a headline, the
    workers (connected, score, stake, earned, lost), the tasks (status, each contribution
    green when it agrees with the consensus, red when not, grey before one)."""
    alive = [w for w in snap.workers if w.alive]
    counts = snap.totals.get("tasks", {})
    done = ", ".join(f"{n} {s}" for s, n in counts.items()) or "no task yet"
    head = (
        f"<h2>{len(alive)} worker{'s' if len(alive) != 1 else ''} connected · "
        f"{len(snap.tasks)} task{'s' if len(snap.tasks) != 1 else ''} ({e(done)}) · "
        f"{e(_rlc(snap.totals.get('earned', 0)))} earned</h2>"
    )
    rows = []
    for w in sorted(snap.workers, key=lambda w: (not w.alive, w.name)):
        colour = _BEHAVIOUR_COLOURS.get(w.behaviour, "#374151")
        state = "connected" if w.alive else "gone"
        busy = f" · computing {len(w.computing)}" if w.computing else ""
        busy += f" · {w.queued} queued" if w.queued else ""
        rows.append(
            f"<tr class='{'' if w.alive else 'gone'}' data-worker='{e(w.name)}'>"
            f"<td><b>{e(w.name)}</b> {addr(w.address)}</td>"
            f"<td>{_chip(w.behaviour, colour)}</td>"
            f"<td>{e(state)}{e(busy)}</td>"
            f"<td class='num'>{'?' if w.score is None else w.score}</td>"
            f"<td class='num'>{e(_rlc(w.stake))}</td><td class='num'>{e(_rlc(w.locked))}</td>"
            f"<td class='num'>{w.contributions}</td>"
            f"<td class='num' style='color:{_COLOURS['agrees']}'>"
            f"{'+' if w.earned else ''}{e(_rlc(w.earned))}</td>"
            f"<td class='num' style='color:{_COLOURS['disagrees']}'>"
            f"{'-' if w.lost else ''}{e(_rlc(w.lost))}</td></tr>"
        )
    workers = (
        "<table class='iexec-board-workers'><thead><tr><th>worker</th><th>role</th><th>now</th>"
        "<th>score</th><th>stake</th><th>locked</th><th>contributions</th><th>earned</th>"
        "<th>lost</th></tr></thead><tbody>" + "".join(rows) + "</tbody></table>"
        if rows
        else "<p>No worker has signed in yet: <code>iexec-kit worker --scheduler URL ...</code></p>"
    )
    trows = []
    for t in snap.tasks:
        chips = []
        for c in t.contributions:
            if c.status == "computing":
                colour = _COLOURS["computing"]
            elif c.agrees is None:
                colour = _COLOURS["pending"]
            else:
                colour = _COLOURS["agrees"] if c.agrees else _COLOURS["disagrees"]
            chips.append(_chip(f"{c.name} {c.status.lower()}", colour, c.result_hash or ""))
        consensus = addr(t.consensus) if t.consensus else "—"
        trows.append(
            f"<tr data-task='{t.idx}'><td>task {t.idx}</td><td><b>{e(t.status)}</b></td>"
            f"<td class='num'>{t.trust}</td><td>{''.join(chips) or '—'}</td>"
            f"<td>{consensus}</td></tr>"
        )
    tasks = (
        "<table class='iexec-board-tasks'><thead><tr><th>task</th><th>status</th><th>trust</th>"
        "<th>contributions</th><th>consensus</th></tr></thead><tbody>"
        + "".join(trows)
        + "</tbody></table>"
        if trows
        else "<p>No deal yet: buy one (<code>npx iexec app run ...</code>) and watch.</p>"
    )
    errors = "".join(f"<p style='color:#c62828'>{e(x)}</p>" for x in snap.errors)
    foot = (
        f"<p style='font-size:16px;color:#666'>workerpool {addr(snap.workerpool)} · "
        f"block {snap.block}</p>"
    )
    return f"{_STYLE}<div class='{BOARD_CLASS}'>{head}{workers}{tasks}{errors}{foot}</div>"


def render_waiting(sentence: str) -> str:
    """The board while no scheduler answers: one sentence, in the board's type."""
    return f"{_STYLE}<div class='{BOARD_CLASS} iexec-board-waiting'><h2>{e(sentence)}</h2></div>"


def node_folder() -> Path:
    """The node's folder the board reads: ``$IEXEC_KIT_NODE_FOLDER``, else the repository's
    ``.sandbox/node``."""
    from iexec_kit.sandbox import REPO_ROOT

    env = os.environ.get("IEXEC_KIT_NODE_FOLDER")
    return Path(env) if env else REPO_ROOT / ".sandbox" / "node"


def find_scheduler_url() -> str | None:
    """``$IEXEC_KIT_SCHEDULER_URL``, else the scheduler's URL in the node's node.json."""
    if os.environ.get("IEXEC_KIT_SCHEDULER_URL"):
        return os.environ["IEXEC_KIT_SCHEDULER_URL"]
    try:
        info = json.loads((node_folder() / "node.json").read_text())
    except (OSError, ValueError):
        return None
    return (info.get("urls") or {}).get("scheduler")


class PoolBoard(W.VBox):
    """The live board (a widget: the cell's value shows it): :meth:`refresh` reads the
    scheduler's ``GET /pool`` once; :meth:`start` (on by default) refreshes every ``period``
    seconds in a thread; :meth:`stop` ends it."""

    def __init__(self, url: str | None = None, *, period: float = PERIOD, autostart=True):
        self.given_url, self.period = url, period
        self.snapshot = None  # the last PoolSnapshot read
        self.sentence = ""  # what the board says when it cannot read one
        self.html = W.HTML(render_waiting("Looking for the scheduler…"))
        self.output = W.Output()  # what a refresh raised that is not a sentence
        self.pause = W.ToggleButton(description="Pause", value=False)
        super().__init__([self.html, self.pause, self.output])
        self.add_class("iexec-board-widget")
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        if autostart:
            self.start()

    @property
    def url(self) -> str | None:
        return self.given_url or find_scheduler_url()

    def refresh(self):
        """Read the board once and show it; returns the snapshot (None: the sentence says why)."""
        import requests

        from iexec_kit.actors.board import pool_snapshot
        from iexec_kit.errors import IexecKitError

        url = self.url
        if url is None:
            self.sentence = (
                f"No scheduler yet: start iexec-kit node --worker-processes (it writes "
                f"{node_folder() / 'node.json'}), or give PoolBoard(url)."
            )
        else:
            try:
                self.snapshot = pool_snapshot(url, timeout=5)
                self.sentence = ""
                self.html.value = render_board(self.snapshot)
                return self.snapshot
            except requests.RequestException:
                self.sentence = f"No scheduler answers at {url} (yet): waiting for it…"
            except IexecKitError as exc:
                self.sentence = str(exc).splitlines()[0]
            except Exception as exc:  # noqa: BLE001 - seen in the Output, the board goes on
                with self.output:
                    print(f"the board could not read {url}: {type(exc).__name__}: {exc}")
                self.sentence = f"The board could not read {url}: see below."
        self.html.value = render_waiting(self.sentence)
        return None

    def start(self) -> PoolBoard:
        if self._thread is not None and self._thread.is_alive():
            return self
        self._stop.clear()

        def loop():
            while not self._stop.is_set():
                if not self.pause.value:
                    self.refresh()
                self._stop.wait(self.period)

        self._thread = threading.Thread(target=loop, name="iexec-kit-board", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None


__all__ = ["PoolBoard", "find_scheduler_url", "node_folder", "render_board", "render_waiting"]
