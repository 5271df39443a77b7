"""The demo page: the whole demo as one web page (``notebooks/demo_page.ipynb``, served by Voilà).

:class:`DemoPage` is a widget made of the panels the notebooks use (:mod:`iexec_kit.ui.panels`),
one section per step of the demo, over one sandbox per page (one per visitor: Voilà gives each
browser session its own kernel). Which buttons are enabled, the progress line and "Start again"
are :class:`PageFlow`'s: plain Python, no widget, testable without a browser or a kernel.

    from iexec_kit.ui.page import DemoPage
    DemoPage()          # the last expression of a cell: the page

Errors are sentences in the step's section (:func:`error_sentence`), never a traceback.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path

from iexec_kit.errors import IexecKitError

# ----- the flow: which step is next, in plain Python -------------------------------------------


@dataclass(frozen=True)
class Step:
    key: str
    title: str
    action: str  # what the learner presses, for the progress line


STEPS: tuple[Step, ...] = (
    Step("storage", "Storage Set-up", "Sign in to the result proxy"),
    Step("orders", "Step 0 · Resource Providers Orders Check", "Check the providers' orders"),
    Step("buy", "Step 1 · Request Order Buy", "Buy"),
    Step("deal", "Step 2 · Deal Assignation", "Show the deal"),
    Step("execution", "Step 3 · Task Execution", "Run the task"),
    Step("finalization", "Step 4 · Finalization", "Get the result"),
)
KEYS = tuple(s.key for s in STEPS)
# what a step needs done first (Step 1's Buy: the storage set up and the orders inspected)
NEEDS: dict[str, tuple[str, ...]] = {
    "storage": (),
    "orders": (),
    "buy": ("storage", "orders"),
    "deal": ("buy",),
    "execution": ("deal",),
    "finalization": ("execution",),
}


@dataclass
class PageFlow:
    """The page's state: the steps done, the one running, the last error per step.

    A step is enabled when what it needs is done (:data:`NEEDS`) and it is not done or running
    itself; :meth:`start` refuses (returns a sentence) a step that is not enabled, so a click
    that arrives twice does nothing twice."""

    done: set[str] = field(default_factory=set)
    running: str | None = None
    errors: dict[str, str] = field(default_factory=dict)

    def enabled(self, key: str) -> bool:
        return (
            self.running is None
            and key not in self.done
            and all(need in self.done for need in NEEDS[key])
        )

    def why_not(self, key: str) -> str | None:
        """None when ``key`` can run now, else a sentence saying why not."""
        step = STEPS[KEYS.index(key)]
        if key in self.done:
            return f"{step.title} is done; press 'Start again' to replay the demo."
        if self.running is not None:
            return f"{STEPS[KEYS.index(self.running)].title} is under way: wait for it."
        missing = [STEPS[KEYS.index(n)].title for n in NEEDS[key] if n not in self.done]
        if missing:
            return f"{step.title} needs {' and '.join(missing)} done first."
        return None

    def start(self, key: str) -> str | None:
        why = self.why_not(key)
        if why is None:
            self.running = key
            self.errors.pop(key, None)
        return why

    def finish(self, key: str, error: str | None = None) -> None:
        """End ``key``: done, or (with ``error``) left to retry, the sentence kept."""
        if self.running == key:
            self.running = None
        if error is None:
            self.done.add(key)
        else:
            self.errors[key] = error

    def reset(self) -> None:
        self.done.clear()
        self.errors.clear()
        self.running = None

    @property
    def complete(self) -> bool:
        return all(k in self.done for k in KEYS)

    def next_step(self) -> Step | None:
        """The first step not done (in the page's order), None once all are."""
        return next((s for s in STEPS if s.key not in self.done), None)

    def progress(self) -> str:
        """The progress line: how many steps are done, and what to press next."""
        n = sum(k in self.done for k in KEYS)
        if self.complete:
            return f"{n}/{len(STEPS)} done · the demo is complete: the cartoon is below."
        if self.running is not None:
            s = STEPS[KEYS.index(self.running)]
            return f"{n}/{len(STEPS)} done · {s.title}: under way…"
        todo = [s for s in STEPS if self.enabled(s.key)]
        nxt = todo[0] if todo else self.next_step()
        return f"{n}/{len(STEPS)} done · next: {nxt.title}, press '{nxt.action}'"


def error_sentence(exc: BaseException) -> str:
    """An error as one sentence for the page: a kit error is its message (what was expected,
    what happened, what to do, on one line); any other error its type and message."""
    if isinstance(exc, IexecKitError):
        text = " ".join(line.strip() for line in str(exc).splitlines() if line.strip())
    else:
        first = (str(exc).strip().splitlines() or [""])[0]
        text = f"{type(exc).__name__}: {first}" if first else type(exc).__name__
    text = text.rstrip(".")
    return f"This step did not work: {text}. Try again, or press 'Start again'."


# ----- the page's words ------------------------------------------------------------------------

OVERVIEW = (
    "<h2>iExec off-chain computing, on this laptop</h2>"
    "<p>A requester wants a picture cartoonized. She does not run the app herself: she buys one "
    "execution of it on iExec's marketplace. An app developer sells the app, a workerpool (a "
    "scheduler and its workers) sells computing time, and a smart contract, the PoCo hub, "
    "matches the orders, holds everyone's RLC and pays them once the workers agree on the "
    "result (Proof of Contribution). Everything below runs for real, on a private chain, IPFS "
    "node and result proxy started for you alone. Press each step's button in turn.</p>"
)
TEXTS = {
    "storage": (
        "The workers will upload the result somewhere the requester can read it. Here it is "
        "IPFS (or, with 'private', the kit's result proxy). The requester signs the proxy's "
        "EIP-712 challenge with her key: the proxy answers with a token that the workers use to "
        "push the result on her behalf. Her picture is added to IPFS too, so the workers can "
        "fetch it."
    ),
    "orders": (
        "Before buying, look at what is on sale. The app developer has signed an app order (the "
        "app, its price, how many runs) and the scheduler a workerpool order (its price, the "
        "trust it can reach, its category). Each order is signed off-chain; the signer recovered "
        "from the signature must be the owner the chain names, or the hub refuses it. The "
        "workerpool's owner and workers have staked RLC, and the requester has deposited her "
        "budget on the hub."
    ),
    "buy": (
        "Now the requester writes her request order: the app, the picture, the style, the most "
        "she pays per task, the trust she wants. 'Buy' checks the price against the book's "
        "orders and her deposit, signs the request and sends the three orders to the hub's "
        "matchOrders: one transaction that makes a deal and locks her payment."
    ),
    "deal": (
        "The deal is on chain: who is in it, the price per task, the trust, and the funds locked "
        "(the requester's payment and the scheduler's stake), and the deadlines the hub enforces. "
        "The deal's task is assigned to the workerpool: when it runs (Step 3), its scheduler "
        "initializes the task on chain and hands it to its workers."
    ),
    "execution": (
        "The workers run the app on the picture. Each commits a hash of its result (hiding the "
        "result itself), then, once enough agree to reach the trust asked for, the consensus, "
        "each reveals. Watch the commits, the credibility of the answer and the consensus marker "
        "appear as they happen."
    ),
    "finalization": (
        "The scheduler finalizes the task: the result's location is written on chain, the "
        "workers who agreed are paid, the app developer too, and the requester's payment is "
        "spent. The requester downloads the result and checks it: the digest of what she got "
        "must be the digest the workers agreed on."
    ),
}
DEFAULT_IMAGE = Path(__file__).resolve().parents[2] / "data" / "chelsea.png"


# ----- the page ---------------------------------------------------------------------------------


def _w():
    import ipywidgets as W

    return W


class DemoPage:
    """The demo page: an overview, a progress line, one section per step (its text, its panel,
    a message line) and "Start again". ``widget`` is the page (an ``ipywidgets.VBox``); the
    object itself displays as it (``_ipython_display_``).

    ``config``: the demo's :class:`~iexec_kit.tutorial.demo.DemoConfig` (3 honest workers and the
    numpy engine by default: quick on a laptop). ``speed``: events a second in Step 3."""

    def __init__(self, config=None, *, speed: float = 8.0):
        from iexec_kit.tutorial.demo import DemoConfig

        W = _w()
        self.config = config or DemoConfig(workers=3, engine="numpy")
        self.speed = speed
        self.flow = PageFlow()
        self._lock = threading.RLock()
        self.t = None  # the Tutorial (sandbox, stream, scheduler, orders, deal)
        self.player = None
        self.progress = W.HTML()
        self.progress.add_class("iexec-page-progress")
        self.restart_button = W.Button(description="Start again", icon="refresh")
        self.restart_button.add_class("iexec-page-restart")
        self.restart_button.on_click(lambda _: self.restart())
        self.sections = {k: W.VBox() for k in KEYS}
        self.messages = {k: W.HTML() for k in KEYS}
        self.buttons = {}
        self.widget = W.VBox(
            [
                W.HTML(OVERVIEW),
                W.HBox([self.progress, self.restart_button]),
                *[self._section_box(s) for s in STEPS],
            ]
        )
        self.widget.add_class("iexec-page")
        self.restart()

    # ----- layout -------------------------------------------------------------------------------
    def _section_box(self, step: Step):
        W = _w()
        box = W.VBox(
            [W.HTML(f"<h3>{step.title}</h3><p>{TEXTS[step.key]}</p>"), self.sections[step.key]]
            + [self.messages[step.key]],
            layout=W.Layout(border_top="1px solid #ccc", padding="4px 0"),
        )
        box.add_class(f"iexec-page-{step.key}")
        return box

    def _ipython_display_(self):
        from IPython.display import display

        display(self.widget)

    def _page_button(self, key: str, description: str, **kwargs):
        W = _w()
        b = W.Button(
            description=description,
            layout=W.Layout(width="auto", align_self="flex-start"),
            **kwargs,
        )
        b.add_class(f"iexec-page-button-{key}")
        b.on_click(lambda _: self.run(key))
        self.buttons[key] = b
        return b

    # ----- the steps ----------------------------------------------------------------------------
    def restart(self) -> None:
        """Start again: the sandbox closed, a fresh one started, every section rebuilt."""
        from iexec_kit.tutorial.steps import at
        from iexec_kit.ui.panels import StorageSetupPanel

        W = _w()
        with self._lock:
            self.close()
            self.flow.reset()
            for m in self.messages.values():
                m.value = ""
            self.progress.value = "<b>starting a fresh sandbox…</b>"
            try:
                self.t = at("storage", config=self.config)
            except Exception as exc:  # noqa: BLE001 - a sentence on the page
                self.progress.value = f"<b style='color:#c00'>{_esc(error_sentence(exc))}</b>"
                return
            sb = self.t.sb
            self.before = None
            self.input_url = None
            self.storage = StorageSetupPanel(sb)
            self._quiet(self.storage)
            self.storage.sign_in.on_click(lambda _: self._after_panel("storage"))
            self.sections["storage"].children = [self.storage]
            self.sections["orders"].children = [
                self._page_button("orders", "Check the providers' orders", button_style="primary"),
                W.VBox(),
            ]
            self.request = None
            self.sections["buy"].children = [W.HTML("<i>(after the storage and the orders)</i>")]
            self.sections["deal"].children = [
                self._page_button("deal", "Show the deal", button_style="primary"),
                W.VBox(),
            ]
            self.sections["execution"].children = [
                self._page_button("execution", "Run the task", button_style="primary", icon="play"),
                W.VBox(),
            ]
            self.sections["finalization"].children = [
                self._page_button("finalization", "Get the result", button_style="primary"),
                W.VBox(),
            ]
            self.refresh()

    def run(self, key: str) -> None:
        """Run a page button's step (or say, in its section, why it cannot run now)."""
        with self._lock:
            why = self.flow.start(key)
            if why is not None:
                self.messages[key].value = _problem(why)
                return
            self.messages[key].value = ""
            self.refresh()
        try:
            finished = getattr(self, f"_do_{key}")()
        except Exception as exc:  # noqa: BLE001 - a sentence in the step's section
            self._fail(key, exc)
            return
        if finished is not False:  # False: it finishes later, in a thread
            self._finish(key)

    def _finish(self, key: str, error: str | None = None) -> None:
        with self._lock:
            self.flow.finish(key, error)
            if error is not None:
                self.messages[key].value = _problem(error)
            self.refresh()

    def _fail(self, key: str, exc: BaseException) -> None:
        self._finish(key, error_sentence(exc))

    def _do_orders(self):
        """Step 0: the sellers stake and publish their orders, the requester deposits; shown in
        the order inspector with each signer checked."""
        from iexec_kit.tutorial import demo
        from iexec_kit.tutorial.steps import publish_orders
        from iexec_kit.ui.html import addr
        from iexec_kit.ui.panels import DappInspector, OrderInspector

        W = _w()
        t = self.t
        if t.app_entry is None:
            publish_orders(t)
            demo.fund_requester(t.sb, t.config, t.stream)
        entries = [t.app_entry, t.workerpool_entry]
        lines = []
        for entry, who in zip(entries, (t.sb.app_developer, t.sb.scheduler)):
            order = entry.order
            signer = order.signer(t.sb.hub.domain())
            ok = signer.lower() == t.sb.hub.order_owner(order).lower()
            lines.append(
                f"<li>{type(order).__name__} signed by <span class='iexec-page-signer'>"
                f"{addr(signer)}</span> ({who.name}) {'✔ the owner' if ok else '✘ not the owner'}"
                "</li>"
            )
        inspector = OrderInspector(t.sb, entries)
        dapp = DappInspector(t.sb)
        for p in (inspector, dapp):
            self._quiet(p)
        self.sections["orders"].children[1].children = [
            W.HTML("<ul class='iexec-page-signers'>" + "".join(lines) + "</ul>"),
            inspector,
            dapp,
        ]
        self.before = [t.sb.account(p) for p in (t.sb.requester, t.sb.scheduler)]

    def _make_request(self):
        from iexec_kit.ui.panels import RequestBuilder

        if self.request is not None:
            return
        t = self.t
        self.request = RequestBuilder(t.sb, storage=self.storage, seed=t.config.seed)
        self._quiet(self.request)
        self.request.image.value = self.input_url or ""
        # the demo's trust (5 with 3 honest workers): a real consensus to watch in Step 3
        self.request.trust.value = t.config.effective_trust()
        self.request.buy_button.on_click(lambda _: self._after_panel("buy"))
        self.sections["buy"].children = [self.request]

    def _do_deal(self):
        from iexec_kit.ui.panels import DealView

        view = DealView(self.t.sb, self.t.match, before=self.before)
        self._quiet(view)
        self.sections["deal"].children[1].children = [view]

    def _do_execution(self):
        """Step 3: the workerpool's scheduler and workers run the deal, live in the watcher; the
        run goes on in a thread (the page stays responsive), then Step 4 is enabled."""
        from iexec_kit.actors.drive import Drive
        from iexec_kit.ui.panels import ContributionWatcher, EventPlayer

        W = _w()
        t = self.t
        watcher = ContributionWatcher(t.stream)
        self._quiet(watcher)
        self.watcher = watcher
        status = W.HTML("<i>the workerpool picks the deal up…</i>")
        self.sections["execution"].children[1].children = [status, watcher]
        drive = Drive(t.scheduler, parallel=t.config.parallel)

        def on_event(event):
            if event is not None:
                n = len(self.player.played) if self.player else 0
                status.value = f"event {n}: {_esc(event.describe())}"
                return
            status.value = "<b>the run is over</b>"
            if "execution" in self.flow.errors:
                return  # the run failed: its sentence is shown
            tasks = [t.sb.hub.task(tid) for tid in self.t.match.deal.task_ids()]
            bad = [x for x in tasks if x.status.name != "COMPLETED"]
            if bad:
                self._finish(
                    "execution",
                    f"The task ended {bad[0].status.name}, not COMPLETED: no result to get. "
                    "Press 'Start again'.",
                )
            else:
                self._finish("execution")

        self.player = EventPlayer(drive.events(), speed=self.speed, pause_on=(), on_event=on_event)
        self.player.events = _guarded(self.player.events, lambda exc: self._fail("execution", exc))
        self.player.play()
        return False

    def _do_finalization(self):
        from iexec_kit.ui.panels import ResultViewer

        deal = self.t.match.deal
        taskid = deal.task_ids()[0]
        before = self._before_image()
        viewer = ResultViewer.for_task(self.t.sb, taskid, before)
        self._quiet(viewer)
        self.viewer = viewer
        if viewer.ok is False:
            raise RuntimeError("the result's digest is not the one the workers agreed on")
        self.sections["finalization"].children[1].children = [viewer]

    def _before_image(self):
        """The picture the request named: its file, or its bytes on the sandbox's IPFS."""
        image = self.request.image.value.strip()
        source = self.request._sources.get(image)
        if source:
            return source
        if image.startswith(("/ipfs/", "ipfs://")):
            try:
                return self.t.sb.storage.ipfs.cat(image.split("ipfs/", 1)[1].lstrip("/"))
            except Exception:  # noqa: BLE001 - the sample then
                pass
        return DEFAULT_IMAGE

    # ----- the panels' own buttons (storage's sign-in, the request's Buy) -----------------------
    def _after_panel(self, key: str) -> None:
        """After a panel's own button ran (its callback first): the step done if it worked."""
        with self._lock:
            if key == "storage":
                t = self.t
                if t.token and key not in self.flow.done:
                    try:
                        if self.input_url is None:
                            from iexec_kit.tutorial.demo import publish_input

                            self.input_url = t.input_url = publish_input(t.sb, t.config.input)
                        self.flow.finish("storage")
                        self.messages["storage"].value = (
                            f"<div>✔ token kept; the picture is on IPFS: "
                            f"<code>{_esc(self.input_url)}</code></div>"
                        )
                    except Exception as exc:  # noqa: BLE001 - a sentence on the page
                        self.flow.finish("storage", error_sentence(exc))
                        self.messages["storage"].value = _problem(error_sentence(exc))
            elif key == "buy" and self.request is not None and self.request.match is not None:
                if "buy" not in self.flow.done:
                    self._record_deal(self.request.match)
                self.flow.finish("buy")
            self.refresh()

    def _record_deal(self, match) -> None:
        """The deal on the page's event stream, as the demo's buy records it (the watcher reads
        the deal's trust there)."""
        from iexec_kit.actors.events import DealCreated

        self.t.match = match
        self.t.stream.emit(DealCreated.of(match, time=self.t.sb.chain.now()))

    def _quiet(self, panel) -> None:
        """A panel's errors as sentences (never a traceback) on the page."""
        panel.show_error = lambda exc, p=panel: p.say(error_sentence(exc))

    # ----- what the page shows ------------------------------------------------------------------
    def refresh(self) -> None:
        """Buttons enabled one step after another, and the progress line."""
        with self._lock:
            flow = self.flow
            if self.t is not None:
                self.storage.sign_in.disabled = "storage" in flow.done or flow.running is not None
                self.storage.choice.disabled = "storage" in flow.done
                if flow.enabled("buy") or "buy" in flow.done:
                    self._make_request()
                if self.request is not None:
                    self.request.buy_button.disabled = not flow.enabled("buy")
                    # one deal per page: "New request" is for the notebooks
                    self.request.new_button.disabled = "buy" in flow.done
            for key, button in self.buttons.items():
                button.disabled = not flow.enabled(key)
            self.progress.value = (
                f"<div class='iexec-page-progress-line'><b>Progress:</b> "
                f"{_esc(flow.progress())}</div>"
            )

    def state(self) -> dict:
        """What the page shows, as plain data (for tests and benchmarks)."""
        t = self.t
        return {
            "done": [k for k in KEYS if k in self.flow.done],
            "running": self.flow.running,
            "errors": dict(self.flow.errors),
            "progress": self.flow.progress(),
            "token": t.token if t else None,
            "deal": t.match.dealid if t is not None and t.match is not None else None,
        }

    def wait(self, key: str, timeout: float = 120) -> bool:
        """Wait until ``key`` is done or failed (Step 3 runs in a thread); True when done."""
        import time

        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if key in self.flow.done:
                return True
            if key in self.flow.errors:
                return False
            time.sleep(0.05)
        return key in self.flow.done

    def close(self) -> None:
        """Stop Step 3's run and close the sandbox."""
        if self.player is not None:
            self.player.pause()
            self.player.join(10)
            self.player = None
        if getattr(self, "watcher", None) is not None:
            self.watcher.unsubscribe()
            self.watcher = None
        if self.t is not None:
            self.t.sb.close()
            self.t = None


def _guarded(events, on_error):
    """The events, an error in the run reported with ``on_error`` (then the run ends)."""
    try:
        yield from events
    except Exception as exc:  # noqa: BLE001 - the page says it in a sentence
        on_error(exc)


def _esc(text: str) -> str:
    from iexec_kit.ui.html import e

    return e(text)


def _problem(sentence: str) -> str:
    return f"<div class='iexec-problem' style='color:#c00'>✘ {_esc(sentence)}</div>"


__all__ = ["KEYS", "NEEDS", "STEPS", "DemoPage", "PageFlow", "Step", "error_sentence"]
