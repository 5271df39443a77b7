"""Rich display of the kit's objects in a notebook: accounts, deals, tasks, contributions, orders,
book entries and assets render as small HTML tables (amounts in RLC, addresses shortened with the
whole value on hover, statuses in words), and their plain text in a notebook is one short line.

**Why formatters registered from here, and not ``_repr_html_`` methods on the objects.** The
objects live low in the kit (``iexec_kit.poco``, ``iexec_kit.market``, ``iexec_kit.sandbox``),
and the layers rule (``tests/test_layers.py``) keeps those modules from importing the ui. Rather
than spread display code over modules that other work edits, this module holds every renderer
and hands them to IPython's display formatters (``formatters['text/html']`` and
``formatters['text/plain']``) *by name* (``for_type_by_name``), so nothing low is imported to
register them and a script that never runs IPython pays nothing. It is done once, when
``iexec_kit.ui`` is imported inside IPython (every notebook imports it); :func:`register` does it
for a given shell. ``repr()`` in plain Python stays the dataclass's own (exact, for debugging);
:func:`short_repr` is the one line a notebook shows.
"""

from __future__ import annotations

import datetime as dt

from iexec_kit.protocol.statuses import ContributionStatus, TaskStatus
from iexec_kit.protocol.units import RLC, ZERO_ADDRESS
from iexec_kit.ui.html import addr, code, e, table

ETH = 10**18

TASK_STATUS_WORDS = {
    TaskStatus.UNSET: "not initialized yet (the scheduler has not started it)",
    TaskStatus.ACTIVE: "active: workers are computing and committing",
    TaskStatus.REVEALING: "revealing: a consensus is reached, the winners reveal",
    TaskStatus.COMPLETED: "completed: finalized, the result is published and everyone paid",
    TaskStatus.FAILED: "failed: claimed after the final deadline, the requester refunded",
}
CONTRIBUTION_STATUS_WORDS = {
    ContributionStatus.UNSET: "no contribution",
    ContributionStatus.CONTRIBUTED: "committed (a hash of its result; not revealed yet)",
    ContributionStatus.PROVED: "proved: revealed the consensus result, rewarded",
    ContributionStatus.REJECTED: "rejected: a result other than the consensus, stake lost",
}


def rlc(amount: int) -> str:
    """nRLC as "1.5 RLC"."""
    return f"{amount / RLC:,.9g} RLC"


def _utc(t: int) -> str:
    return dt.datetime.fromtimestamp(t, dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC") if t else "—"


def _short(x, n: int = 6) -> str:
    s = str(x)
    return s if len(s) <= 2 * n + 4 else f"{s[: n + 2]}…{s[-4:]}"


def _is_zero(x) -> bool:
    return str(x).lower() in (ZERO_ADDRESS.lower(), "0x" + "00" * 32)


def _kv(caption: str, rows) -> str:
    return f"<div class='iexec-rich'><b>{e(caption)}</b>" + table(["", ""], rows) + "</div>"


# ----- accounts -------------------------------------------------------------------------------


def account_html(a) -> str:
    """An :class:`iexec_kit.sandbox.AccountView` (or the hub's ``AccountInfo``)."""
    rows = []
    if hasattr(a, "name"):
        rows += [["participant", f"{e(a.name)} ({e(a.role)})"], ["address", addr(a.address)]]
    if hasattr(a, "eth"):
        rows += [["ETH (gas)", f"{a.eth / ETH:,.4f}"], ["RLC in the wallet", rlc(a.wallet_rlc)]]
    rows += [["stake on the hub (free)", rlc(a.stake)], ["locked by deals", rlc(a.locked)]]
    return _kv("Account", rows)


def account_text(a) -> str:
    who = f"{a.name} {_short(a.address)}: " if hasattr(a, "name") else ""
    wallet = f"wallet {a.wallet_rlc / RLC:g} RLC, " if hasattr(a, "wallet_rlc") else ""
    return f"<Account {who}{wallet}stake {a.stake / RLC:g} RLC, locked {a.locked / RLC:g} RLC>"


# ----- assets ---------------------------------------------------------------------------------


def app_html(a) -> str:
    rows = [
        ["address", addr(a.address)],
        ["owner", addr(a.owner)],
        ["name", e(a.name)],
        ["type", e(a.type)],
        ["image (multiaddr)", code(a.multiaddr, 60)],
        ["checksum", addr(a.checksum, 10)],
        ["TEE enclave", code(a.mrenclave, 40) if a.mrenclave else "none: not a TEE app"],
    ]
    return _kv(f"App {a.name}", rows)


def app_text(a) -> str:
    return f"<App {a.name} {_short(a.address)}, owner {_short(a.owner)}, image {a.multiaddr}>"


def workerpool_html(p) -> str:
    rows = [
        ["address", addr(p.address)],
        ["owner (runs the scheduler)", addr(p.owner)],
        ["description", e(p.description)],
        ["worker stake", f"{p.worker_stake_ratio} % of the workerpool price, per task"],
        ["scheduler's cut", f"{p.scheduler_reward_ratio} % of the workers' reward"],
    ]
    return _kv("Workerpool", rows)


def workerpool_text(p) -> str:
    return f"<Workerpool {p.description!r} {_short(p.address)}, owner {_short(p.owner)}>"


def dataset_html(d) -> str:
    rows = [
        ["address", addr(d.address)],
        ["owner", addr(d.owner)],
        ["name", e(d.name)],
        ["multiaddr", code(d.multiaddr, 60)],
        ["checksum", addr(d.checksum, 10)],
    ]
    return _kv(f"Dataset {d.name}", rows)


def dataset_text(d) -> str:
    return f"<Dataset {d.name} {_short(d.address)}, owner {_short(d.owner)}>"


# ----- orders ---------------------------------------------------------------------------------

_PRICES = ("appprice", "datasetprice", "workerpoolprice", "appmaxprice", "datasetmaxprice")
_PRICES += ("workerpoolmaxprice",)
_RESTRICTS = {
    "datasetrestrict": "dataset",
    "workerpoolrestrict": "workerpool",
    "apprestrict": "app",
    "requesterrestrict": "requester",
}


def order_field(name: str, value) -> str:
    """One field of an order, in words where it helps (prices in RLC, restrictions)."""
    if name in _PRICES:
        return f"{rlc(value)} per task"
    if name in _RESTRICTS:
        who = _RESTRICTS[name]
        return f"any {who}" if _is_zero(value) else f"only {who} {addr(value)}"
    if name in ("dataset", "workerpool") and _is_zero(value):
        return f"none asked: any {name}" if name == "workerpool" else "none"
    if name in ("beneficiary", "callback") and _is_zero(value):
        return "none"
    if name == "tag":
        from iexec_kit.protocol.tags import Tag

        tag = Tag.parse(bytes(value) if isinstance(value, (bytes, bytearray)) else value)
        return "standard (no TEE, no GPU)" if not tag else e(str(tag).replace("Tag.", ""))
    if name == "trust":
        return f"{value} (a result needs credibility &gt; {1 - 1 / max(int(value), 1):.2f})"
    if name == "salt":
        v = value if isinstance(value, str) else "0x" + bytes(value).hex()
        return addr(v)
    if name == "sign":
        v = value if isinstance(value, str) else "0x" + bytes(value).hex()
        return addr(v, 10) if v != "0x" else "not signed"
    if isinstance(value, str) and value.startswith("0x") and len(value) >= 42:
        return addr(value)
    return code(value, 70)


def order_rows(order) -> list[list[str]]:
    rows = [[e(n), order_field(n, getattr(order, n))] for n, _ in order.TYPE_FIELDS]
    rows.append(["sign", order_field("sign", getattr(order, "sign", b""))])
    return rows


def order_html(order) -> str:
    return _kv(type(order).__name__, order_rows(order))


def order_text(order) -> str:
    kind = type(order).__name__
    price = (
        order.total_max_price if hasattr(order, "total_max_price") else getattr(order, "price", 0)
    )
    what = "max " if hasattr(order, "total_max_price") else ""
    return (
        f"<{kind} {_short(order.asset)} {what}{price / RLC:g} RLC/task, volume {order.volume}"
        f"{', signed' if getattr(order, 'sign', b'') else ', unsigned'}>"
    )


def entry_html(entry) -> str:
    rows = [
        ["order hash", addr(entry.hash)],
        ["kind", e(entry.kind)],
        ["owner (signer)", addr(entry.owner)],
        ["volume left on chain", str(entry.remaining)],
        *order_rows(entry.order),
    ]
    return _kv(f"Book entry: {type(entry.order).__name__}", rows)


def entry_text(entry) -> str:
    return (
        f"<BookEntry {entry.kind} {_short(entry.hash)} by {_short(entry.owner)}, "
        f"{entry.price / RLC:g} RLC/task, {entry.remaining} left>"
    )


# ----- deals, tasks, contributions ------------------------------------------------------------


def deal_html(d) -> str:
    rows = [["deal id", addr(d.dealid)]]
    for side in ("app", "dataset", "workerpool"):
        r = getattr(d, side)
        if side == "dataset" and _is_zero(r.pointer):
            rows.append(["dataset", "none"])
            continue
        rows.append([side, f"{addr(r.pointer)} owner {addr(r.owner)}, {rlc(r.price)} per task"])
    last = d.bot_first + d.bot_size - 1
    rows += [
        ["requester", addr(d.requester)],
        ["beneficiary", addr(d.beneficiary)],
        ["price per task", rlc(d.price_per_task)],
        ["tasks", f"{d.bot_size} (indexes {d.bot_first}..{last})"],
        ["trust", str(d.trust)],
        ["category", str(d.category)],
        ["worker stake", f"{rlc(d.worker_stake)} per contribution"],
        ["started", _utc(d.start_time)],
        ["params", code(d.params, 80)],
    ]
    return _kv("Deal", rows)


def deal_text(d) -> str:
    return (
        f"<Deal {_short(d.dealid)}: {d.bot_size} task(s) at {d.price_per_task / RLC:g} RLC, "
        f"trust {d.trust}, requester {_short(d.requester)}>"
    )


def match_html(m) -> str:
    head = (
        f"<div>matchOrders: deal {addr(m.dealid)}, {m.volume} task(s), "
        f"gas {m.receipt.gas_used:,}</div>"
    )
    return head + deal_html(m.deal)


def match_text(m) -> str:
    return f"<MatchResult deal {_short(m.dealid)}, {m.volume} task(s), gas {m.receipt.gas_used:,}>"


def task_html(t) -> str:
    status = TaskStatus(t.status)
    results = t.results_json() if t.results else None
    rows = [
        ["task id", addr(t.taskid)],
        ["status", f"<b>{e(status.name)}</b>: {e(TASK_STATUS_WORDS[status].split(': ', 1)[-1])}"],
        ["deal", f"{addr(t.dealid)}, task index {t.idx}"],
        ["contribution deadline", _utc(t.contribution_deadline)],
        ["reveal deadline", _utc(t.reveal_deadline)],
        ["final deadline", _utc(t.final_deadline)],
        ["contributors", str(len(t.contributors))],
        ["consensus", "none yet" if _is_zero(t.consensus_value) else addr(t.consensus_value)],
        ["revealed / winners", f"{t.reveal_counter} / {t.winner_counter}"],
        ["result digest", "none yet" if _is_zero(t.result_digest) else addr(t.result_digest)],
        [
            "results",
            code(results.get("location", results), 60)
            if isinstance(results, dict)
            else ("none yet" if not t.results else code(t.results, 60)),
        ],
    ]
    return _kv("Task", rows)


def task_text(t) -> str:
    return (
        f"<Task {_short(t.taskid)} {TaskStatus(t.status).name}, "
        f"{len(t.contributors)} contributor(s)>"
    )


def contribution_html(c) -> str:
    status = ContributionStatus(c.status)
    rows = [
        [
            "status",
            f"<b>{e(status.name)}</b>: {e(CONTRIBUTION_STATUS_WORDS[status].split(': ', 1)[-1])}",
        ],
        ["result hash", addr(c.result_hash)],
        ["result seal", addr(c.result_seal)],
        ["weight", str(c.weight)],
    ]
    return _kv("Contribution", rows)


def contribution_text(c) -> str:
    return f"<Contribution {ContributionStatus(c.status).name} {_short(c.result_hash)}>"


# ----- registration ---------------------------------------------------------------------------

#: (module, class name) -> (html renderer, one-line text)
RENDERERS = {
    ("iexec_kit.sandbox", "AccountView"): (account_html, account_text),
    ("iexec_kit.poco.views", "AccountInfo"): (account_html, account_text),
    ("iexec_kit.poco.views", "AppInfo"): (app_html, app_text),
    ("iexec_kit.poco.views", "WorkerpoolInfo"): (workerpool_html, workerpool_text),
    ("iexec_kit.poco.views", "DatasetInfo"): (dataset_html, dataset_text),
    ("iexec_kit.poco.orders", "AppOrder"): (order_html, order_text),
    ("iexec_kit.poco.orders", "DatasetOrder"): (order_html, order_text),
    ("iexec_kit.poco.orders", "WorkerpoolOrder"): (order_html, order_text),
    ("iexec_kit.poco.orders", "RequestOrder"): (order_html, order_text),
    ("iexec_kit.market.store", "BookEntry"): (entry_html, entry_text),
    ("iexec_kit.poco.deals", "Deal"): (deal_html, deal_text),
    ("iexec_kit.poco.matching", "MatchResult"): (match_html, match_text),
    ("iexec_kit.poco.tasks", "Task"): (task_html, task_text),
    ("iexec_kit.poco.tasks", "Contribution"): (contribution_html, contribution_text),
}


def _lookup(obj):
    cls = type(obj)
    return RENDERERS.get((cls.__module__, cls.__name__))


def rich_html(obj) -> str | None:
    """The HTML a notebook shows for one of the kit's objects (None for another object)."""
    found = _lookup(obj)
    return None if found is None else found[0](obj)


def short_repr(obj) -> str | None:
    """The one line a notebook shows for one of the kit's objects (None for another object)."""
    found = _lookup(obj)
    return None if found is None else found[1](obj)


def register(shell=None) -> bool:
    """Hand the renderers to ``shell``'s display formatters (default: the running IPython, if
    any). Returns whether a shell was found. Safe to call twice."""
    if shell is None:
        import sys

        if "IPython" not in sys.modules:  # not inside IPython: nothing to do, nothing imported
            return False
        from IPython import get_ipython

        shell = get_ipython()
        if shell is None:
            return False
    formatters = shell.display_formatter.formatters
    for (module, name), (html_fn, text_fn) in RENDERERS.items():
        formatters["text/html"].for_type_by_name(module, name, html_fn)
        formatters["text/plain"].for_type_by_name(
            module, name, lambda obj, p, cycle, fn=text_fn: p.text(fn(obj))
        )
    return True


__all__ = [
    "CONTRIBUTION_STATUS_WORDS",
    "RENDERERS",
    "TASK_STATUS_WORDS",
    "register",
    "rich_html",
    "short_repr",
]
