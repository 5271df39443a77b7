"""ipywidgets panels, one per demo step: views over kit objects plus buttons that call the kit.

Each panel is a box (``display(panel)`` or leave it last in a cell) that reads the sandbox, the
chain or an :class:`iexec_kit.actors.events.EventStream`, and holds no state the kit cannot
rebuild: a panel made again over the same objects shows the same thing. Buttons call the same
kit functions the notebooks show as plain calls; what a callback prints, and any error it raises,
goes to the panel's ``output`` (an ``ipywidgets.Output``), so a failing button is seen, not lost.

    watcher = ContributionWatcher(stream)   # subscribe before the run: it updates live
    watcher
"""

from __future__ import annotations

import html
import random
import threading
import traceback
from pathlib import Path

import ipywidgets as W

from iexec_kit.errors import IexecKitError
from iexec_kit.protocol.units import RLC

KIT_DIR = str(Path(__file__).resolve().parents[1])
_INTERNAL = (
    "/ipywidgets/",
    "/traitlets/",
    "/comm/",
    "/ipykernel/",
)  # frames a learner need not read
CONSENSUS_CLASS = (
    "iexec-consensus"  # the "Consensus reached" marker (the browser test waits for it)
)
WAITING_CLASS = "iexec-waiting"


def _short(x, n: int = 10) -> str:
    x = str(x)
    return x if len(x) <= n + 2 else x[: n + 2] + "…"


def _e(x) -> str:
    return html.escape(str(x))


def trimmed_traceback(exc: BaseException) -> str:
    """The error as a learner should read it: a kit error is its message (what was expected,
    what happened, what to do); another error keeps only the frames outside the kit and widgets."""
    if isinstance(exc, IexecKitError):
        return f"{type(exc).__name__}: {exc}\n"
    frames = [
        f
        for f in traceback.extract_tb(exc.__traceback__)
        if not f.filename.startswith(KIT_DIR) and not any(part in f.filename for part in _INTERNAL)
    ]
    head = (
        "Traceback (most recent call last):\n" + "".join(traceback.format_list(frames))
        if frames
        else ""
    )
    return head + "".join(traceback.format_exception_only(type(exc), exc))


def _table(headers, rows, cls: str = "iexec-table") -> str:
    head = "".join(f"<th style='text-align:left;padding:2px 8px'>{_e(h)}</th>" for h in headers)
    body = "".join(
        "<tr>" + "".join(f"<td style='padding:2px 8px'>{c}</td>" for c in r) + "</tr>" for r in rows
    )
    return f"<table class='{cls}'><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


class Panel(W.VBox):
    """Base of the panels: a title, the view, the buttons, and ``output`` where callbacks write."""

    title = "panel"

    def __init__(self, children=(), **kwargs):
        # hidden until a callback writes to it
        self.output = W.Output(
            layout=W.Layout(border="1px solid #ddd", padding="4px", display="none")
        )
        self._out_lock = threading.Lock()
        super().__init__([W.HTML(f"<b>{_e(self.title)}</b>"), *children, self.output], **kwargs)
        self.add_class("iexec-panel")

    # -- the Output, written directly so it also works from threads and without a kernel --
    def say(self, text: str) -> None:
        """Append a line to the panel's output."""
        with self._out_lock:
            self.output.layout.display = None
            self.output.append_stdout(text if text.endswith("\n") else text + "\n")

    def show_error(self, exc: BaseException) -> None:
        with self._out_lock:
            self.output.layout.display = None
            self.output.append_stderr(trimmed_traceback(exc))

    def clear(self) -> None:
        with self._out_lock:
            self.output.outputs = ()

    def _button(self, description: str, action, **kwargs) -> W.Button:
        """A button whose click runs ``action()``; what it raises lands in the output."""
        button = W.Button(
            description=description,
            layout=W.Layout(width="auto", align_self="flex-start"),
            **kwargs,
        )

        def on_click(_):
            self.clear()
            try:
                action()
            except Exception as exc:  # noqa: BLE001 - shown to the learner in the Output
                self.show_error(exc)

        button.on_click(on_click)
        return button

    def texts(self) -> str:
        """Everything written to the output so far (for tests and for printing)."""
        return "".join(o.get("text", "") for o in self.output.outputs)


# ----- 01: storage set-up -----------------------------------------------------------------

STORAGE_CHOICES = {
    "IPFS": dict(storage_provider="ipfs", encryption=False),
    "encrypted IPFS": dict(storage_provider="ipfs", encryption=True),
    "private": dict(storage_provider="dropbox", encryption=False),
}
STORAGE_HELP = {
    "IPFS": "the result is pinned on IPFS: anyone with the CID can read it",
    "encrypted IPFS": "on IPFS, encrypted for the beneficiary's RSA key: only the beneficiary reads it",
    "private": "the result proxy keeps it (iExec's 'dropbox' slot): only the beneficiary's token fetches it",
}


class StorageSetupPanel(Panel):
    """Step 01: where results go, and the requester's sign-in to the result proxy (the EIP-712
    challenge, its signature, the token the kit keeps for the workers)."""

    title = "Result storage"

    def __init__(self, sb):
        self.sb = sb
        self.choice = W.ToggleButtons(
            options=list(STORAGE_CHOICES), value="IPFS", description="storage"
        )
        self.help = W.HTML()
        self.challenge = W.HTML()
        self.choice.observe(lambda _: self._render(), names="value")
        self.sign_in = self._button(
            "Sign in to the result proxy", self.login, button_style="primary"
        )
        super().__init__([self.choice, self.help, self.sign_in, self.challenge])
        self._render()

    def params(self) -> dict:
        """The request params this choice gives (fields of :class:`iexec_kit.poco.orders.RequestParams`).
        The sandbox's proxy is left out as in :func:`iexec_kit.tutorial.demo.request_params`
        (its port changes every run; left out, the deal id repeats)."""
        return dict(STORAGE_CHOICES[self.choice.value])

    def _render(self) -> None:
        token = self.sb.storage.token_for(self.sb.requester.address)
        p = self.params()
        self.help.value = (
            f"{_e(STORAGE_HELP[self.choice.value])}<br>params: "
            f"<code>iexec_result_storage_provider={_e(p['storage_provider'])}</code>, "
            f"<code>iexec_result_encryption={str(p['encryption']).lower()}</code><br>"
            f"token kept for the requester: <code>{_e(_short(token, 30)) if token else '(none yet)'}</code>"
        )

    def login(self) -> str:
        """Fetch the proxy's challenge, sign it as the requester, and get the token (storage_init)."""
        import requests

        from iexec_kit.storage.auth import sign_challenge

        sb = self.sb
        typed = requests.get(
            f"{sb.storage.proxy_url}/results/challenge",
            params={"chainId": sb.chain.chain_id},
            timeout=10,
        ).json()
        signature = sign_challenge(typed, sb.requester.key)
        token = sb.storage.storage_init(
            sb.requester.key
        )  # the same sign-in; the kit keeps the token
        rows = [
            ["domain", f"<code>{_e(typed['domain'])}</code>"],
            ["challenge", f"<code>{_e(typed['message'])}</code>"],
            ["signature", f"<code>{_e(_short(signature, 60))}</code>"],
            ["token", f"<code>{_e(_short(token, 60))}</code>"],
        ]
        if self.choice.value == "encrypted IPFS":
            keys = sb.storage.beneficiary_keys(sb.requester.address, bits=2048)
            rows.append(["beneficiary key", f"<code>{_e(_short(str(keys.public), 60))}</code>"])
        self.challenge.value = _table(["", ""], rows)
        self.say(
            f"signed in as {sb.requester.name} ({sb.requester.address}); the token is kept for the workers"
        )
        self._render()
        return token


# ----- 02: orders --------------------------------------------------------------------------


class OrderInspector(Panel):
    """Step 02: an order's fields, who signed it, and its EIP-712 hash (checked against the
    book's). ``orders``: one order or book entry, or a list of them (a dropdown picks one)."""

    title = "Order inspector"

    def __init__(self, sb, orders):
        self.sb = sb
        items = list(orders) if isinstance(orders, (list, tuple)) else [orders]
        self.items = items
        labels = [
            (f"{i}: {type(getattr(x, 'order', x)).__name__} {_short(self._hash(x), 14)}", i)
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
        domain = self.sb.hub.domain()
        rows = [[_e(k), f"<code>{_e(_short(v, 70))}</code>"] for k, v in order.as_dict().items()]
        digest = self._hash(item)
        rows.append(["<b>signer</b>", f"<code>{_e(order.signer(domain))}</code>"])
        rows.append(["<b>order hash</b>", f"<code>{_e(digest)}</code>"])
        if getattr(item, "hash", None) and isinstance(item.hash, str):
            same = item.hash.lower() == digest.lower()
            rows.append(
                ["book's hash", f"<code>{_e(item.hash)}</code> {'✔ same' if same else '✘ differs'}"]
            )
        self.view.value = _table(["field", "value"], rows)


# ----- 03: the request ---------------------------------------------------------------------


class RequestBuilder(Panel):
    """Step 03: the image URL (or the sample), the app's arguments, the most the requester pays;
    "Buy" calls :func:`iexec_kit.actors.requester.buy_execution` and shows the deal id."""

    title = "Request builder"

    def __init__(self, sb, *, storage: StorageSetupPanel | None = None, seed: int = 0):
        self.sb, self.storage = sb, storage
        self.rng = random.Random(
            f"request-builder-{seed}"
        )  # the salts: deterministic, one per click
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
            f"deal <code class='iexec-deal-id'>{_e(match.dealid)}</code>: {match.volume} task(s) at "
            f"{match.deal.price_per_task / RLC:g} RLC, gas {match.receipt.gas_used:,}"
        )
        self.say(f"matchOrders made deal {match.dealid}")
        return match


# ----- 04: the deal ------------------------------------------------------------------------


class DealView(Panel):
    """Step 04: a deal as the chain records it: parties, prices, the funds locked (before, if
    given, and now), each task's deadlines. ``deal``: a Deal, a MatchResult or a deal id;
    ``before``: the AccountViews read before the deal (the chain does not keep them)."""

    title = "Deal"

    def __init__(self, sb, deal, *, before=None):
        self.sb = sb
        self.dealid = deal if isinstance(deal, str) else deal.dealid
        self.before = {a.address: a for a in (before or [])}
        self.view = W.HTML()
        super().__init__([self.view, self._button("Refresh from the chain", self.render)])
        self.render()

    def render(self) -> None:
        import datetime as dt

        sb = self.sb
        deal = sb.hub.deal(self.dealid)
        parties = [
            [
                _e(side),
                f"<code>{_e(r.pointer)}</code>",
                f"<code>{_e(r.owner)}</code>",
                f"{r.price / RLC:g}",
            ]
            for side, r in (
                ("app", deal.app),
                ("dataset", deal.dataset),
                ("workerpool", deal.workerpool),
            )
        ]
        parties.append(
            [
                "requester",
                f"<code>{_e(deal.requester)}</code>",
                f"beneficiary <code>{_e(deal.beneficiary)}</code>",
                f"{deal.price_per_task / RLC:g} per task",
            ]
        )
        locks = []
        for who in (deal.requester, deal.workerpool.owner):
            now = sb.hub.account(who)
            name = next((p.name for p in sb.participants if p.address.lower() == who.lower()), who)
            b = self.before.get(who) or next(
                (a for k, a in self.before.items() if k.lower() == who.lower()), None
            )
            locks.append(
                [
                    _e(name),
                    f"{b.locked / RLC:g}" if b else "?",
                    f"{now.locked / RLC:g}",
                    f"{now.stake / RLC:g}",
                ]
            )
        clock = sb.hub.category(deal.category).work_clock_time_ref
        fmt = lambda t: dt.datetime.fromtimestamp(t, dt.UTC).strftime("%Y-%m-%d %H:%M UTC")  # noqa: E731
        times = [
            ["start", fmt(deal.start_time), ""],
            [
                "contribution deadline",
                fmt(deal.start_time + 7 * clock),
                f"+{7 * clock // 60} min (7 clocks)",
            ],
            [
                "final deadline",
                fmt(deal.start_time + 10 * clock),
                f"+{10 * clock // 60} min (10 clocks)",
            ],
        ]
        self.view.value = (
            f"deal <code>{_e(deal.dealid)}</code>: trust {deal.trust}, category {deal.category}, "
            f"tasks {deal.bot_first}..{deal.bot_first + deal.bot_size - 1}, worker stake {deal.worker_stake / RLC:g} RLC"
            + _table(["party", "address", "owner", "price (RLC)"], parties)
            + _table(["locked (RLC)", "before", "now", "free stake now"], locks)
            + _table(["deadline", "when", ""], times)
        )


# ----- 05: the workers at work -------------------------------------------------------------


def watch_state(events, scores: dict | None = None) -> dict:
    """Fold events into what the watcher shows: per task, each worker's steps, each answer's
    credibility (the kit's mirror of the hub's consensus math; workers count as new unless
    ``scores`` maps their address to a score) and the consensus. A pure function of the events."""
    from iexec_kit.actors import events as E
    from iexec_kit.poco.consensus import ConsensusState

    trusts, tasks = {}, {}
    scores = scores or {}

    def task(tid, dealid=None):
        if tid not in tasks:
            tasks[tid] = {
                "taskid": tid,
                "dealid": dealid,
                "status": "ACTIVE",
                "workers": {},
                "answers": {},
                "consensus": None,
                "winners": (),
                "result": None,
                "math": ConsensusState(max(trusts.get(dealid, 1), 1)),
            }
        return tasks[tid]

    def worker(t, e):
        return t["workers"].setdefault(
            e.worker,
            {
                "name": getattr(e, "name", e.worker),
                "behaviour": "",
                "authorized": False,
                "digest": None,
                "commit": None,
                "credibility": None,
                "revealed": False,
                "uploaded": False,
                "failed": None,
            },
        )

    for e in events:
        if isinstance(e, E.DealCreated):
            trusts[e.dealid] = e.trust
        elif isinstance(e, E.TaskInitialized):
            task(e.taskid, e.dealid)
        elif isinstance(e, E.WorkerAuthorized):
            worker(task(e.taskid), e)["authorized"] = True
        elif isinstance(e, E.AppComputed):
            w = worker(task(e.taskid), e)
            w["behaviour"], w["digest"] = e.behaviour, e.digest
        elif isinstance(e, E.WorkerFailed):
            w = worker(task(e.taskid), e)
            w["behaviour"], w["failed"] = (
                e.behaviour,
                e.reason.splitlines()[0] if e.reason else "failed",
            )
        elif isinstance(e, E.ContributionCommitted):
            t = task(e.taskid)
            w = worker(t, e)
            w["behaviour"], w["commit"] = e.behaviour, e.result_hash
            t["math"].add(e.result_hash, scores.get(e.worker, 0))
            w["credibility"] = t["math"].credibility(e.result_hash)
            t["answers"].setdefault(e.result_hash, []).append(w["name"])
        elif isinstance(e, E.ConsensusReached):
            t = task(e.taskid)
            t["consensus"], t["winners"], t["status"] = e.consensus, tuple(e.winners), "REVEALING"
        elif isinstance(e, E.ContributionRevealed):
            worker(task(e.taskid), e)["revealed"] = True
        elif isinstance(e, E.ResultUploaded):
            t = task(e.taskid)
            worker(t, e)["uploaded"] = True
            t["result"] = e.location
        elif isinstance(e, E.TaskFinalized):
            task(e.taskid)["status"] = "COMPLETED"
        elif isinstance(e, E.TaskReopened):
            t = task(e.taskid)
            t["math"].reopen()
            t["consensus"], t["winners"], t["status"] = None, (), "ACTIVE (reopened)"
        elif isinstance(e, E.TaskClaimed):
            task(e.taskid)["status"] = "FAILED (claimed)"
    for t in tasks.values():
        math = t.pop("math")
        t["trust"], t["threshold"] = math.trust, math.threshold()
        t["credibility"] = {h: math.credibility(h) for h in t["answers"]}
    return tasks


def render_watch(tasks: dict) -> str:
    """The watcher's HTML for :func:`watch_state`'s tasks."""
    if not tasks:
        return f"<div class='{WAITING_CLASS}'>waiting for the scheduler to initialize a task…</div>"
    parts = []
    for t in tasks.values():
        rows = []
        for w in t["workers"].values():
            cred = "" if w["credibility"] is None else f"{w['credibility']:.2f}"
            win = w["commit"] is not None and w["commit"] == t["consensus"]
            rows.append(
                [
                    _e(w["name"]),
                    _e(w["behaviour"] or "…"),
                    "✔" if w["authorized"] else "",
                    f"<code>{_e(_short(w['digest'] or ''))}</code>"
                    if w["digest"]
                    else (_e(w["failed"] or "…")),
                    f"<code>{_e(_short(w['commit']))}</code>" if w["commit"] else "…",
                    cred,
                    "✔" if w["revealed"] else ("winner" if win else ""),
                    "✔" if w["uploaded"] else "",
                ]
            )
        answers = [
            [
                f"<code>{_e(_short(h, 14))}</code>",
                _e(", ".join(names)),
                f"{t['credibility'][h]:.2f}",
                "<b>consensus</b>" if h == t["consensus"] else "",
            ]
            for h, names in t["answers"].items()
        ]
        if t["consensus"]:
            status = (
                f"<div class='{CONSENSUS_CLASS}' style='color:#0a0;font-weight:bold'>✔ Consensus reached on "
                f"<code>{_e(_short(t['consensus'], 14))}</code>: {len(t['winners'])} winner(s) · {_e(t['status'])}"
                + (f" · result {_e(t['result'])}" if t["result"] else "")
                + "</div>"
            )
        else:
            status = (
                f"<div class='{WAITING_CLASS}'>no consensus yet (an answer needs credibility &gt; "
                f"{t['threshold']:.2f}) · {_e(t['status'])}</div>"
            )
        parts.append(
            f"<div class='iexec-task'><b>task <code>{_e(_short(t['taskid'], 14))}</code></b>, trust {t['trust']}: "
            f"an answer wins with credibility &gt; {t['threshold']:.2f} (workers counted as new)"
            + _table(
                [
                    "worker",
                    "behaviour",
                    "authorized",
                    "computed",
                    "committed",
                    "credibility at commit",
                    "revealed",
                    "uploaded",
                ],
                rows,
                "iexec-watcher",
            )
            + _table(
                ["answer (result hash)", "workers", "credibility", ""], answers, "iexec-answers"
            )
            + status
            + "</div>"
        )
    return "".join(parts)


class ContributionWatcher(Panel):
    """Step 05: the workers at work, live. Subscribes to an EventStream and redraws from its
    events (past ones included) on each new one: commits, reveals, the credibility of each answer,
    and a "Consensus reached" marker (CSS class ``iexec-consensus``). Thread-safe."""

    title = "Contributions"

    def __init__(self, stream, *, scores: dict | None = None):
        self.stream, self.scores = stream, scores
        self.view = W.HTML()
        self._lock = threading.Lock()
        super().__init__([self.view])
        self.refresh()
        self.unsubscribe = stream.subscribe(self._on_event)

    def state(self) -> dict:
        return watch_state(list(self.stream), self.scores)

    @property
    def reached(self) -> bool:
        """True once every task seen has reached a consensus."""
        tasks = self.state()
        return bool(tasks) and all(t["consensus"] for t in tasks.values())

    def refresh(self) -> None:
        """Redraw from the stream's events."""
        with self._lock:
            tasks = self.state()
            self.view.value = render_watch(tasks)
            done = bool(tasks) and all(t["consensus"] for t in tasks.values())
            (self.add_class if done else self.remove_class)(CONSENSUS_CLASS + "-box")

    def _on_event(self, event) -> None:
        try:
            self.refresh()
        except Exception as exc:  # noqa: BLE001 - never break the actors; show it instead
            self.show_error(exc)

    def close(self) -> None:
        self.unsubscribe()
        super().close()


# ----- 06: the result ----------------------------------------------------------------------


def _image_format(data: bytes) -> str:
    if data.startswith(b"\x89PNG"):
        return "png"
    if data.startswith(b"\xff\xd8"):
        return "jpeg"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "gif"
    return "png"


class ResultViewer(Panel):
    """Step 06: the image before and after, side by side, with where the result came from (its
    CID) and the digest check (the digest recomputed from the result against the chain's).

    ``before``/``after``: a path or bytes. :meth:`for_task` fetches a task's result from
    storage by its on-chain location and does the check itself."""

    title = "Result"

    def __init__(
        self,
        before,
        after,
        *,
        cid: str | None = None,
        digest: str | None = None,
        chain_digest: str | None = None,
        width: str = "320px",
    ):
        self.cid, self.digest, self.chain_digest = cid, digest, chain_digest
        images = []
        for label, src in (("before", before), ("after", after)):
            data = Path(src).read_bytes() if isinstance(src, (str, Path)) else bytes(src)
            img = W.Image(value=data, format=_image_format(data), layout=W.Layout(width=width))
            img.add_class(f"iexec-{label}")
            images.append(W.VBox([W.HTML(f"<b>{label}</b>"), img]))
        self.before_image, self.after_image = (box.children[1] for box in images)
        self.info = W.HTML(self._info())
        super().__init__([W.HBox(images), self.info])

    @property
    def ok(self) -> bool | None:
        """True when the digest matches the chain's (None when there was nothing to compare)."""
        if self.digest is None or self.chain_digest is None:
            return None
        return self.digest.lower() == self.chain_digest.lower()

    def _info(self) -> str:
        rows = []
        if self.cid:
            rows.append(["CID", f"<code>{_e(self.cid)}</code>"])
        if self.digest:
            rows.append(["digest recomputed", f"<code>{_e(self.digest)}</code>"])
        if self.chain_digest:
            rows.append(["digest on chain", f"<code>{_e(self.chain_digest)}</code>"])
        if self.ok is not None:
            rows.append(
                [
                    "check",
                    "<span class='iexec-digest-ok' style='color:#0a0'>✔ same digest</span>"
                    if self.ok
                    else "<span class='iexec-digest-bad' style='color:#c00'>✘ the digests differ</span>",
                ]
            )
        return _table(["", ""], rows) if rows else ""

    @classmethod
    def for_task(cls, sb, taskid: str, before, *, folder=None, **kwargs) -> ResultViewer:
        """Fetch a COMPLETED task's result from its on-chain location (IPFS by CID, or the proxy
        with the requester's token), unzip it, recompute its digest and show it next to ``before``."""
        from iexec_kit.storage.results import read_computed, result_digest, unzip_result

        task = sb.hub.task(taskid)
        location = (task.results_json() or {}).get("location", "")
        archive = sb.storage.fetch(location, token=sb.storage.token_for(sb.requester.address))
        out = Path(folder) if folder else sb.folder / "viewer" / taskid[2:14]
        unzip_result(archive, out)
        det = read_computed(out).deterministic_output_path or ""
        rel = det.split("/iexec_out/", 1)[1] if "/iexec_out/" in det else Path(det).name
        after = (
            out / rel
            if rel and (out / rel).is_file()
            else next(
                p
                for p in sorted(out.rglob("*"))
                if p.suffix.lower() in (".png", ".jpg", ".jpeg", ".gif")
            )
        )
        cid = location.split("/")[2] if location.startswith("/ipfs/") else None
        return cls(
            before,
            after,
            cid=cid or location,
            digest=result_digest(out),
            chain_digest=task.result_digest,
            **kwargs,
        )


__all__ = [
    "Panel",
    "StorageSetupPanel",
    "OrderInspector",
    "RequestBuilder",
    "DealView",
    "ContributionWatcher",
    "ResultViewer",
    "watch_state",
    "render_watch",
    "trimmed_traceback",
    "CONSENSUS_CLASS",
]
