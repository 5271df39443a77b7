"""The notebooks' exercises and their checks: ``check("05-consensus", answer, sb)``.

Each exercise has an id (the notebook's number and a word), a check over the learner's answer
and the sandbox (plus what else the notebook hands it, such as the deal), a hint and an
explanation. A check never raises: it returns a :class:`Feedback` whose status is

- ``"not yet"`` when the answer is still the blank the notebook ships (``answer = ...``, the
  Ellipsis), with the hint;
- ``"not right"`` when the answer is there but wrong (or the check itself failed on it), with
  the hint and what was wrong;
- ``"right"`` with the explanation.

In a notebook the feedback renders as a small coloured box (its ``_repr_html_``), and its plain
text starts with the status (``right: ...``), which the tests read.

**Solutions** (the scheme: nbgrader's markers, in a cell of their own): after each exercise
cell (tagged ``exercise``) and its check cell (tagged ``check``) comes a markdown cell tagged
``solution`` holding the solution's code between nbgrader's ``### BEGIN SOLUTION`` and
``### END SOLUTION`` markers, in a fenced block inside an HTML ``<details>`` element: folded
until the learner clicks *Solution* (in JupyterLab, Voilà, on GitHub alike). It is markdown so
that running the notebook as shipped leaves the blank in place; :func:`solution_source` reads the
code back (the tests put it in the exercise cell's place).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from html import escape
from typing import Any

BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"
STATUSES = ("right", "not yet", "not right")


@dataclass(frozen=True)
class Feedback:
    """What a check says: ``status`` (one of :data:`STATUSES`), the exercise id, and a sentence."""

    exercise: str
    status: str
    message: str

    @property
    def right(self) -> bool:
        return self.status == "right"

    def __str__(self) -> str:
        return f"{self.status}: {self.message}"

    def __repr__(self) -> str:
        return str(self)

    def _repr_pretty_(self, p, cycle) -> None:  # IPython's text/plain
        p.text(str(self))

    def _repr_html_(self) -> str:
        colour = {"right": "#1a7f37", "not yet": "#9a6700", "not right": "#cf222e"}[self.status]
        mark = {"right": "✔", "not yet": "…", "not right": "✘"}[self.status]
        return (
            f"<div class='iexec-feedback iexec-feedback-{self.status.replace(' ', '-')}' "
            f"style='border-left:4px solid {colour};padding:4px 8px'>"
            f"<b style='color:{colour}'>{mark} {escape(self.status)}</b> "
            f"<small>({escape(self.exercise)})</small>: {escape(self.message)}</div>"
        )


@dataclass(frozen=True)
class Exercise:
    """One exercise: ``test(answer, sb, **given)`` returns True when right, or a string saying
    what is wrong; ``wrong`` is the source of a plausible wrong answer (for the tests)."""

    id: str
    test: Callable[..., Any]
    hint: str
    explanation: Callable[..., str] | str
    wrong: str = field(default="answer = None")

    def check(self, answer, sb=None, **given) -> Feedback:
        if answer is Ellipsis:
            return Feedback(
                self.id, "not yet", f"replace the ... with your answer. Hint: {self.hint}"
            )
        try:
            verdict = self.test(answer, sb, **given)
        except Exception as exc:  # noqa: BLE001 - a check gives feedback, it never raises
            verdict = f"checking it raised {type(exc).__name__}: {exc}"
        if verdict is True:
            text = self.explanation
            try:
                text = text(answer, sb, **given) if callable(text) else text
            except Exception:  # noqa: BLE001
                text = "right."
            return Feedback(self.id, "right", text)
        why = verdict if isinstance(verdict, str) and verdict else f"{answer!r} is not it"
        return Feedback(self.id, "not right", f"{why}. Hint: {self.hint}")


def _same_address(a, b) -> bool:
    return isinstance(a, str) and isinstance(b, str) and a.lower() == b.lower()


def _owner(answer, sb):
    if not isinstance(answer, str):
        return f"an address is a '0x…' string; got {type(answer).__name__}"
    return _same_address(answer, sb.app.owner) or f"{answer} is not the app's owner"


def _cid(answer, sb, *, my_bytes):
    if not isinstance(answer, str):
        return f"a CID is a string such as 'Qm…'; got {type(answer).__name__}"
    if sb.storage.ipfs.add_bytes(my_bytes, only_hash=True) != answer:
        return f"{answer} is not the CID of my_bytes (a CID names the bytes it was made from)"
    try:
        stored = sb.storage.ipfs.cat(answer)
    except Exception:  # noqa: BLE001
        stored = None
    return stored == my_bytes or "that CID is right but the node does not hold it: add the bytes"


def _three_tasks(answer, sb):
    app = sb.book.list("app").entries[0].order.appprice
    pool = sb.book.list("workerpool").entries[0].order.workerpoolprice
    if answer == app + pool:
        return "that is the price of one task"
    return answer == 3 * (app + pool) or f"{answer!r} nRLC is not 3 x (app price + pool price)"


def _locked(answer, sb, *, match=None):
    locked = sb.hub.account(sb.requester.address).locked
    if answer == sb.hub.account(sb.requester.address).stake:
        return "that is the free stake, not the locked part"
    return answer == locked or f"{answer!r} nRLC is not what the hub has locked"


def _second_task(answer, sb, *, deal):
    ids = deal.task_ids()
    if not isinstance(answer, str):
        return f"a task id is a '0x…' hex string; got {type(answer).__name__}"
    if len(ids) > 0 and answer.lower() == ids[0].lower():
        return "that is the first task's id (index bot_first)"
    return answer.lower() == ids[1].lower() or "that is not keccak256(dealid ‖ bot_first + 1)"


def _needed_at_10(answer, sb):
    from iexec_kit.poco.consensus import contributions_needed

    return answer == contributions_needed(10) or f"{answer!r} workers do not reach trust 10"


def _cheaters_lost(answer, sb, *, summary):
    stake = sb.hub.deal(summary["deal_id"]).worker_stake
    wrong = [
        c for t in summary["tasks"] for c in t["contributions"] if c["behaviour"] == "colluding"
    ]
    if answer == stake and len(wrong) > 1:
        return "that is one cheater's stake; add up every colluding contribution"
    return answer == stake * len(wrong) or f"{answer!r} nRLC is not what the cheaters lost"


TRUSTS = (1, 2, 3, 5, 10)


def _attack_rate(trust: int) -> float:
    from iexec_kit.poco.consensus import attack_success_rate

    return attack_success_rate(trust, 0.2, trials=2000, rng=random.Random(7))


def _smallest_trust(answer, sb):
    if answer not in TRUSTS:
        return f"{answer!r} is not one of {TRUSTS}"
    if _attack_rate(answer) >= 0.01:
        return f"at trust {answer} the wrong-result rate is still 1 % or more"
    lower = [t for t in TRUSTS if t < answer]
    return not lower or _attack_rate(lower[-1]) >= 0.01 or "a smaller trust is enough"


def _app_order_page(answer, sb, *, app):
    entries = getattr(answer, "entries", None)
    if not entries:
        return "that is not a page of the book with your order in it"
    if any(not _same_address(x.order.app, app) for x in entries):
        return "that page holds other apps' orders too: filter by your app"
    return entries[0].order.appprice == 500_000_000 or "that order's price is not 0.5 RLC"


def _sponsor(answer, sb, *, deal):
    if not isinstance(answer, str):
        return f"an address is a '0x…' string; got {type(answer).__name__}"
    if _same_address(answer, sb.app_developer.address):
        return "that is the app's owner: the sellers are paid, the sponsor pays"
    sponsor = sb.hub.deal(deal.dealid).sponsor
    return _same_address(answer, sponsor) or f"{answer} is not the deal's sponsor"


EXERCISES: dict[str, Exercise] = {
    x.id: x
    for x in (
        Exercise(
            "00-owner",
            _owner,
            "the app table has an owner() row; the sandbox's participants have names "
            "(sb.app_developer, sb.requester, ...) and addresses (.address)",
            "the app developer owns the app, and only they can sign its orders.",
            wrong="answer = sb.requester.address",
        ),
        Exercise(
            "01-cid",
            lambda a, sb, **g: _cid(a, sb, **g),
            "sb.storage.ipfs.add_bytes(my_bytes) adds them and returns their CID",
            "content addressing: the CID names these bytes and nothing else.",
            wrong='answer = sb.storage.ipfs.add_bytes(b"other bytes")',
        ),
        Exercise(
            "02-price",
            _three_tasks,
            "a task costs app_order.appprice + pool_order.workerpoolprice (in nRLC)",
            lambda a, sb: (
                f"{a / 1e9:g} RLC. iExec is pay-per-task: the requester pays for each task "
                "of a deal."
            ),
            wrong="answer = app_order.appprice + pool_order.workerpoolprice",
        ),
        Exercise(
            "03-locked",
            lambda a, sb, **g: _locked(a, sb, **g),
            "sb.account(sb.requester) reads the requester's account on the hub: wallet, stake "
            "and locked",
            lambda a, sb, **g: (
                f"{a / 1e9:g} RLC locked = price per task x volume, until the tasks end."
            ),
            wrong="answer = sb.account(sb.requester).stake",
        ),
        Exercise(
            "04-task-id",
            lambda a, sb, **g: _second_task(a, sb, **g),
            "the second task's index is deal.bot_first + 1; hash "
            'encode(["bytes32", "uint256"], [dealid bytes, index]) with keccak, and add "0x"',
            "the task ids are known as soon as the deal exists; the scheduler initializes "
            "them on chain.",
            wrong=(
                'answer = "0x" + keccak(encode(["bytes32", "uint256"], '
                "[bytes.fromhex(deal.dealid[2:]), deal.bot_first])).hex()"
            ),
        ),
        Exercise(
            "05-consensus",
            _needed_at_10,
            "contributions_needed(trust) gives the number of agreeing fresh workers",
            "4 agreeing fresh workers reach trust 10; veterans with a higher score weigh more.",
            wrong="answer = contributions_needed(5)",
        ),
        Exercise(
            "06-cheaters-lost",
            lambda a, sb, **g: _cheaters_lost(a, sb, **g),
            "for each cheater, total(before[a]) - total(after[a]); sum over the cheaters",
            lambda a, sb, **g: (
                f"{a / 1e9:g} RLC lost: each wrong contribution forfeits the worker's stake."
            ),
            wrong="answer = sum(total(after[a]) - total(before[a]) for a in cheaters)",
        ),
        Exercise(
            "07-trust",
            _smallest_trust,
            "try each trust in order with attack_success_rate(t, 0.2, trials=2000, "
            "rng=random.Random(7)) and keep the first under 0.01",
            lambda a, sb: (
                f"trust {a} keeps wrong results under 1 % against 20 % of colluding cheaters."
            ),
            wrong="answer = 1",
        ),
        Exercise(
            "08-book",
            lambda a, sb, **g: _app_order_page(a, sb, **g),
            'sb.book.list("app", app=address) lists the app orders of your app only',
            "your app is on sale: a requester can now buy runs of it with a request order.",
            wrong='answer = sb.book.list("app", app=sb.app_address)  # the demo app\'s',
        ),
        Exercise(
            "09-sponsor",
            lambda a, sb, **g: _sponsor(a, sb, **g),
            "`iexec deal show <dealid>` prints the deal's fields; its last one, sponsor, is "
            "who paid (deal.sponsor in Python)",
            "the requester sponsored its own deal: matchOrders makes the requester the "
            "sponsor, while sponsorMatchOrders lets someone else pay.",
            wrong="answer = node.sb.app_developer.address",
        ),
    )
}


def check(exercise: str, answer, sb=None, **given) -> Feedback:
    """The feedback on ``answer`` for ``exercise`` (an id of :data:`EXERCISES`); never raises.
    ``given``: what else the exercise's check reads (the deal, the summary, ...)."""
    if exercise not in EXERCISES:
        return Feedback(
            exercise, "not right", f"no exercise {exercise!r}; there are {', '.join(EXERCISES)}"
        )
    return EXERCISES[exercise].check(answer, sb, **given)


def solution_source(markdown: str) -> str:
    """The code between ``### BEGIN SOLUTION`` and ``### END SOLUTION`` in a solution cell."""
    start, end = markdown.index(BEGIN), markdown.index(END)
    return markdown[start + len(BEGIN) : end].strip("\n") + "\n"


__all__ = ["EXERCISES", "Exercise", "Feedback", "check", "solution_source"]
