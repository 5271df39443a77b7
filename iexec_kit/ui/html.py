"""HTML for the panels: escaping, short addresses, tables, and one render function per view.

Each render function takes kit data (a view of the event stream, a deal and its deadlines, a
sign-in) and returns an HTML string; none reads the chain or imports ipywidgets, so they are
tested as plain functions.
"""

from __future__ import annotations

import datetime as dt
import html

from iexec_kit.protocol.units import RLC, ZERO_ADDRESS

CONSENSUS_CLASS = (
    "iexec-consensus"  # the "Consensus reached" marker (the browser test waits for it)
)
WAITING_CLASS = "iexec-waiting"


def short(x, n: int = 10) -> str:
    """``x`` as text, cut after ``n + 2`` characters (``0x`` and ``n`` digits) with an ellipsis."""
    x = str(x)
    return x if len(x) <= n + 2 else x[: n + 2] + "…"


def e(x) -> str:
    """``x`` as text, HTML-escaped."""
    return html.escape(str(x))


def code(x, n: int | None = None) -> str:
    """``x`` escaped in a ``<code>`` (cut to ``n`` characters when given; then the whole value
    shows on hover, in the ``title``)."""
    if n is None or len(str(x)) <= n + 2:
        return f"<code>{e(x)}</code>"
    return f"<code title='{e(x)}'>{e(short(x, n))}</code>"


def addr(x, n: int = 6) -> str:
    """An address or hash, shortened to ``0x1234…cdef`` with the whole value on hover (``title``);
    the zero address reads "anyone"."""
    s = str(x)
    if s.lower() in (ZERO_ADDRESS.lower(), "0x" + "00" * 32):
        return f"<code title='{e(s)}'>0x0 (none)</code>"
    if len(s) <= 2 * n + 4:
        return f"<code>{e(s)}</code>"
    return f"<code title='{e(s)}'>{e(s[: n + 2])}…{e(s[-4:])}</code>"


def table(headers, rows, cls: str = "iexec-table") -> str:
    """A table; ``headers`` are escaped, the cells of ``rows`` are HTML already."""
    head = "".join(f"<th style='text-align:left;padding:2px 8px'>{e(h)}</th>" for h in headers)
    body = "".join(
        "<tr>" + "".join(f"<td style='padding:2px 8px'>{c}</td>" for c in r) + "</tr>" for r in rows
    )
    return f"<table class='{cls}'><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def rlc(amount: int) -> str:
    """nRLC as RLC, shortest form."""
    return f"{amount / RLC:g}"


def utc(t: int) -> str:
    return dt.datetime.fromtimestamp(t, dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


# ----- the storage sign-in -----------------------------------------------------------------


def render_sign_in(signed, beneficiary_key=None) -> str:
    """A :class:`iexec_kit.storage.proxy.SignIn`: the challenge, its signature, the token."""
    rows = [
        ["domain", code(signed.challenge["domain"])],
        ["challenge", code(signed.challenge["message"])],
        ["signature", code(signed.signature, 60)],
        ["token", code(signed.token, 60)],
    ]
    if beneficiary_key is not None:
        rows.append(["beneficiary key", code(beneficiary_key, 60)])
    return table(["", ""], rows)


# ----- an order ------------------------------------------------------------------------------


def render_order(fields, signer: str, digest: str, book_hash: str | None = None) -> str:
    """An order's fields, its signer and EIP-712 hash (and the book's hash, compared).
    ``fields``: a dict of raw values, or rows of (name, HTML) already in words."""
    if isinstance(fields, dict):
        rows = [[e(k), code(v, 70)] for k, v in fields.items()]
    else:
        rows = [list(r) for r in fields]
    rows.append(["<b>signer (recovered)</b>", code(signer)])
    rows.append(["<b>order hash</b>", code(digest)])
    if book_hash is not None:
        same = book_hash.lower() == digest.lower()
        rows.append(["book's hash", f"{code(book_hash)} {'✔ same' if same else '✘ differs'}"])
    return table(["field", "value"], rows)


# ----- a deal --------------------------------------------------------------------------------


def render_deal(deal, deadlines, locks) -> str:
    """A deal (:class:`iexec_kit.poco.deals.Deal`), its deadlines (the hub's
    :class:`~iexec_kit.protocol.categories.Deadlines`) and ``locks``: rows of (name, locked
    before or None, locked now, free stake now) in nRLC."""
    parties = [
        [e(side), code(r.pointer), code(r.owner), rlc(r.price)]
        for side, r in (
            ("app", deal.app),
            ("dataset", deal.dataset),
            ("workerpool", deal.workerpool),
        )
    ]
    parties.append(
        [
            "requester",
            code(deal.requester),
            f"beneficiary {code(deal.beneficiary)}",
            f"{rlc(deal.price_per_task)} per task",
        ]
    )
    locked = [
        [e(name), "?" if before is None else rlc(before), rlc(now), rlc(stake)]
        for name, before, now, stake in locks
    ]
    contribution, reveal, final = deadlines.ratios
    clock = deadlines.clock

    def after(ratio: int) -> str:
        return f"+{ratio * clock // 60} min ({ratio} clocks)"

    times = [
        ["start", utc(deal.start_time), ""],
        ["contribution deadline", utc(deadlines.contribution), after(contribution)],
        ["reveal deadline", "after the consensus", after(reveal)],
        ["final deadline", utc(deadlines.final), after(final)],
    ]
    last = deal.bot_first + deal.bot_size - 1
    return (
        f"deal {code(deal.dealid)}: trust {deal.trust}, category {deal.category}, "
        f"tasks {deal.bot_first}..{last}, worker stake {rlc(deal.worker_stake)} RLC"
        + table(["party", "address", "owner", "price (RLC)"], parties)
        + table(["locked (RLC)", "before", "now", "free stake now"], locked)
        + table(["deadline", "when", f"clock {clock // 60} min"], times)
    )


# ----- the workers at work -------------------------------------------------------------------

WATCH_HEADERS = [
    "worker",
    "behaviour",
    "authorized",
    "computed",
    "committed",
    "credibility at commit",
    "revealed",
    "uploaded",
]


def _worker_row(w) -> list[str]:
    return [
        e(w.name),
        e(w.behaviour or "…"),
        "✔" if w.authorized else "",
        code(w.digest, 10) if w.digest else e(w.failed or "…"),
        code(w.commit, 10) if w.commit else "…",
        "" if w.credibility is None else f"{w.credibility:.2f}",
        "✔" if w.revealed else ("winner" if w.won else ""),
        "✔" if w.uploaded else "",
    ]


def _status(t) -> str:
    if t.consensus:
        result = f" · result {e(t.result)}" if t.result else ""
        return (
            f"<div class='{CONSENSUS_CLASS}' style='color:#0a0;font-weight:bold'>✔ Consensus "
            f"reached on {code(t.consensus, 14)}: {len(t.winners)} winner(s) · {e(t.status)}"
            f"{result}</div>"
        )
    return (
        f"<div class='{WAITING_CLASS}'>no consensus yet (an answer needs credibility &gt; "
        f"{t.threshold:.2f}) · {e(t.status)}</div>"
    )


def render_watch(tasks: dict) -> str:
    """The watcher's HTML for :func:`iexec_kit.actors.views.task_progress`'s tasks."""
    if not tasks:
        return f"<div class='{WAITING_CLASS}'>waiting for the scheduler to initialize a task…</div>"
    parts = []
    for t in tasks.values():
        answers = [
            [
                code(h, 14),
                e(", ".join(names)),
                f"{t.credibility[h]:.2f}",
                "<b>consensus</b>" if h == t.consensus else "",
            ]
            for h, names in t.answers.items()
        ]
        parts.append(
            f"<div class='iexec-task'><b>task {code(t.taskid, 14)}</b>, trust {t.trust}: "
            f"an answer wins with credibility &gt; {t.threshold:.2f} ({t.needed} agreeing new "
            "workers reach it)"
            + table(WATCH_HEADERS, [_worker_row(w) for w in t.workers.values()], "iexec-watcher")
            + table(
                ["answer (result hash)", "workers", "credibility", ""], answers, "iexec-answers"
            )
            + _status(t)
            + "</div>"
        )
    return "".join(parts)


# ----- the result ----------------------------------------------------------------------------


def render_result_info(cid=None, digest=None, chain_digest=None, ok: bool | None = None) -> str:
    """Where a result came from and its digest check (empty when there is nothing to say)."""
    rows = []
    if cid:
        rows.append(["CID", code(cid)])
    if digest:
        rows.append(["digest recomputed", code(digest)])
    if chain_digest:
        rows.append(["digest on chain", code(chain_digest)])
    if ok is not None:
        mark = (
            "<span class='iexec-digest-ok' style='color:#0a0'>✔ same digest</span>"
            if ok
            else "<span class='iexec-digest-bad' style='color:#c00'>✘ the digests differ</span>"
        )
        rows.append(["check", mark])
    return table(["", ""], rows) if rows else ""


__all__ = [
    "CONSENSUS_CLASS",
    "WAITING_CLASS",
    "addr",
    "code",
    "e",
    "render_deal",
    "render_order",
    "render_result_info",
    "render_sign_in",
    "render_watch",
    "short",
    "table",
]
