"""Differential test: the kit's hub and iExec's published PoCo 6.1.0, run side by side.

The same seeded random sequences (hypothesis stateful) run on both hubs: deposits (approveAndCall,
approve + deposit, depositFor), withdrawals, orders signed or presigned, matches with and
without a dataset, sponsored or not, volumes 1 to 3, with or without a callback; initialize,
contributions honest, wrong or missing by workers of different scores (a prologue trains
worker1 and worker2), contributeAndFinalize at trust 1, reveals (some lazy), reopen, finalize,
claim, time passing, cancelled orders, and the attacks that must fail on both.

After every step the two hubs are compared: whether each transaction succeeded (not the revert
strings), the events emitted (names and decoded arguments, in order), and the observables the
step could change: the stake, locked amount and wallet of every account an event or the step
names (the kitty included), the task, its contributions and ``resultFor``, the scores of the
workers named, the new deal and the consumed volume of its orders. At the end of every example
every observable is compared again (every account, wallet, score, deal, task, contribution).

Every difference seen must be listed in :data:`iexec_kit.protocol.differences.DIFFERENCES` (the
README's table); a listed difference that the run never sees fails too (a stale entry).

CI runs IEXEC_KIT_DIFF_STEPS steps (1,000 by default; derandomized, so every run is the same);
set it higher to run more locally. IEXEC_KIT_DIFF_COLLECT=1 reports every new difference at the
end instead of stopping at the first.
"""

from __future__ import annotations

import gc
import os
import random
import sys
import time
import weakref
from collections import Counter

import pytest
from hypothesis import Phase
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, rule, run_state_machine_as_test

from iexec_kit.poco import result_hash, result_seal
from iexec_kit.poco.orders import DatasetOrder
from iexec_kit.protocol import differences
from iexec_kit.protocol.statuses import TaskStatus
from iexec_kit.protocol.units import ZERO_ADDRESS
from tests.poco.conftest import stateful_settings, steps_wanted
from tests.poco.twins import CALLBACK_DATA, DIGESTS, RESULTS, RLC, Outcome, Twin, flatten

STEPS_WANTED = steps_wanted("IEXEC_KIT_DIFF_STEPS", 1000)
COLLECT = os.environ.get("IEXEC_KIT_DIFF_COLLECT") == "1"
STEPS_PER_EXAMPLE = 100
WORKERS = tuple(f"worker{i}" for i in range(1, 6))
PEOPLE = ("deployer", "requester", "app_developer", "dataset_owner", "scheduler") + WORKERS
ACCOUNTS = PEOPLE + ("kitty", "hub")
OWNER = {"app": "app_developer", "dataset": "dataset_owner", "pool": "scheduler"}


class DifferenceFound(AssertionError):
    pass


class Pair:
    """The two twins, stepped together; what the run saw."""

    def __init__(self, kit: Twin, poco: Twin):
        self.kit, self.poco, self.twins = kit, poco, (kit, poco)
        self.counter = 0
        self.log: list[str] = []  # the current example's steps
        self.seen: Counter = Counter()  # listed differences seen
        self.new: list[str] = []  # differences nobody listed (IEXEC_KIT_DIFF_COLLECT)
        self.did: Counter = Counter()  # what the steps did
        self.steps = 0
        self.timing: Counter = Counter()  # seconds spent sending, and reading views
        self.reset_model()

    def reset_model(self):
        self.deals: dict[str, dict] = {}  # symbol -> {"deal": Deal (kit's), "orders": [...]}
        self.tasks: dict[str, object] = {}  # symbol -> Task (kit's view, after the last step)
        self.orders: dict[str, str] = {}  # symbol -> kind, every order of the example

    def fresh(self, prefix: str) -> str:
        self.counter += 1
        return f"{prefix}{self.counter}"

    # ----- time --------------------------------------------------------------------------
    def sync_clocks(self, at_least: int = 0) -> None:
        """Both chains at the same timestamp (so that the same blocks get the same times)."""
        now = [tw.chain.now() for tw in self.twins]
        if now[0] != now[1] or at_least:
            target = max(max(now) + 1, at_least)
            for tw in self.twins:
                tw.chain.time_travel(target - tw.chain.now())
        assert self.kit.chain.now() == self.poco.chain.now()

    def now(self) -> int:
        return self.kit.chain.now()

    # ----- one step on both ----------------------------------------------------------------
    def step(
        self, label: str, action, *, attack=False, tasks=(), deals=(), orders=(), who=(), views=True
    ):
        """Run ``action(twin, outcome)`` on both twins, then compare what they did and what
        they now show."""
        self.log.append(label)
        began = time.monotonic()
        snaps = [tw.snapshot() for tw in self.twins]
        outs = []
        for tw in self.twins:
            out = Outcome()
            action(tw, out)
            out.events = tw.norm(out.events)  # after the action, which names what it made
            outs.append(out)
        kit_out, poco_out = outs
        name = label.split(" ", 1)[0]
        if kit_out.results != poco_out.results:
            self.check(f"{name}.outcome", kit_out.results, poco_out.results)
            # a listed difference in the outcome: forget the step on both, to go on alike
            for tw, snap in zip(self.twins, snaps):
                tw.revert(snap)
            self.sync_clocks()
            return kit_out
        if attack:
            assert kit_out.reverted, f"the attack {label!r} succeeded on both hubs\n{self.tail()}"
        self.check(f"{name}.events", kit_out.events, poco_out.events)
        self.sync_clocks()
        self.timing["transactions"] += time.monotonic() - began
        if not views:
            return kit_out
        began = time.monotonic()
        # what the step touched, by name
        names, wallets = set(who), set()
        for tw, out in zip(self.twins, outs):
            names |= {tw.names[x] for x in out.touched if x in tw.names}
            wallets |= {tw.names[x] for x in out.wallets if x in tw.names}
        self.compare_accounts([n for n in ACCOUNTS if n in names], wallets)
        self.compare_scores([w for w in WORKERS if w in names])
        self.compare_tasks(sorted({*tasks, *(n for n in names if n in self.tasks)}))
        for d in deals:
            self.compare_deal(d)
        self.compare_orders(orders)
        self.timing["views"] += time.monotonic() - began
        return kit_out

    def check(self, path: str, kit_value, poco_value, detail: str = "") -> None:
        if kit_value == poco_value:
            return
        listed = differences.explaining(path)
        if listed is not None:
            self.seen[listed.key] += 1
            return
        message = (
            f"a difference no entry of iexec_kit.protocol.differences explains, at {path}"
            f"{' (' + detail + ')' if detail else ''}:\n"
            f"  kit:  {kit_value!r}\n  poco: {poco_value!r}"
        )
        if COLLECT:
            self.new.append(message + f"\n  after: {self.log[-1] if self.log else '-'}")
            return
        raise DifferenceFound(message + "\n" + self.tail())

    def tail(self) -> str:
        return "the example's steps, last 25:\n  " + "\n  ".join(self.log[-25:])

    def both(self, read, *args):
        """``read(twin, *args)`` on each twin, normalized."""
        return [tw.norm(read(tw, *args)) for tw in self.twins]

    # ----- comparisons ---------------------------------------------------------------------
    def compare_accounts(self, names, wallets) -> None:
        """Stake and locked of ``names`` on the hub, and the RLC wallets of ``wallets`` (a wallet
        changes only by an RLC transfer, which the token's events name)."""
        for n in names:
            a, b = self.both(Twin.account, n)
            for k in a:
                self.check(f"account.{k}", a[k], b[k], n)
        for n in wallets:
            a, b = self.both(Twin.wallet, n)
            self.check("wallet", a, b, n)

    def compare_scores(self, workers) -> None:
        for w in workers:
            a, b = self.both(Twin.score, w)
            self.check("score", a, b, w)

    def compare_tasks(self, symbols) -> None:
        for t in symbols:
            views = [tw.task(t) for tw in self.twins]
            a, b = (tw.norm(v) for tw, v in zip(self.twins, views))
            fa, fb = flatten("task", a), flatten("task", b)
            for k in fa:
                self.check(k, fa[k], fb.get(k), t)
            self.tasks[t] = views[0]
            contributors = set(a["contributors"]) | set(b["contributors"])
            for w in sorted(contributors):
                ca, cb = self.both(Twin.contribution, t, w)
                for k in ca:
                    self.check(f"contribution.{k}", ca[k], cb[k], f"{t} {w}")
            if views[0].status == TaskStatus.COMPLETED:
                ra, rb = self.both(Twin.result_for, t)
                self.check("resultFor", ra, rb, t)

    def compare_deal(self, d: str) -> None:
        views = [tw.deal(d) for tw in self.twins]
        a, b = (tw.norm(v) for tw, v in zip(self.twins, views))
        fa, fb = flatten("deal", a), flatten("deal", b)
        for k in fa:
            self.check(k, fa[k], fb.get(k), d)
        self.deals.setdefault(d, {"orders": []})["deal"] = views[0]

    def compare_orders(self, orders) -> None:
        for o in orders:
            a, b = self.both(Twin.consumed, o)
            self.check("consumed", a, b, o)
            a, b = self.both(Twin.presigned, o)
            self.check("presigned", a, b, o)

    def sweep(self) -> None:
        """Every observable, once: every account and wallet, score, deal, task and contribution
        of the example, and the hub's totals (an order's consumed volume changes only in the
        match or cancel step that compared it)."""
        began = time.monotonic()
        self.compare_accounts(ACCOUNTS, ACCOUNTS)
        self.compare_scores(WORKERS)
        for d in self.deals:
            self.compare_deal(d)
        self.compare_tasks(sorted(self.tasks))
        a, b = self.both(lambda tw: (tw.hub.total_supply(), tw.hub.hub_rlc()))
        self.check("hub.totals", a, b)
        self.timing["sweeps"] += time.monotonic() - began


# ----- the actions, each one step on both hubs ------------------------------------------------
def _fn(tw, name, *args):
    return getattr(tw.hub.fn, name)(*args)


def _matched(tw, out) -> str:
    """The id of the deal the step's matchOrders made (its OrdersMatched event, raw)."""
    return next(x for x in out.raw_deals)


def _b32(tw, symbol):
    return bytes.fromhex(tw.value(symbol)[2:])


class Actions:
    """Every action draws its choices from ``rng`` (the same for both hubs) and the kit's last
    views (equal to PoCo's, or the run would have stopped), then runs as one step."""

    def __init__(self, pair: Pair, rng: random.Random):
        self.p, self.rng = pair, rng

    # ----- money ---------------------------------------------------------------------------
    def deposit(self):
        who = self.rng.choice(PEOPLE[1:])
        amount = self.rng.randint(1, 60) * RLC // self.rng.choice([1, 1, 3])
        how = self.rng.choice(["approveAndCall", "approveAndCall", "deposit", "depositFor"])
        target = self.rng.choice(PEOPLE[1:])

        def act(tw, out):
            rlc = tw.hub.rlc.functions
            if how == "approveAndCall":
                tw.send(out, rlc.approveAndCall(tw.hub.address, amount, b""), who)
                return
            if tw.send(out, rlc.approve(tw.hub.address, amount), who) is None:
                return
            if how == "deposit":
                tw.send(out, _fn(tw, "deposit", amount), who)
            else:
                tw.send(out, _fn(tw, "depositFor", amount, tw.address(target)), who)

        self.p.step(f"deposit {how} {who} {amount} -> {target}", act, who=(who, target))

    def withdraw(self):
        who = self.rng.choice(PEOPLE[1:])
        stake = self.p.kit.account(who)["stake"]
        amount = int(stake * self.rng.uniform(0.05, 1.0)) or 1
        to = self.rng.choice([None, None, "app_developer"])

        def act(tw, out):
            if to is None:
                tw.send(out, _fn(tw, "withdraw", amount), who)
            else:
                tw.send(out, _fn(tw, "withdrawTo", amount, tw.address(to)), who)

        self.p.step(f"withdraw {who} {amount} to {to or who}", act, who=(who, to or who))

    # ----- orders and deals ----------------------------------------------------------------
    def _order_fields(self, with_dataset, volume, trust, category, price, callback):
        salt = lambda: self.rng.randbytes(32)  # noqa: E731
        app = {"app": "app", "appprice": price * RLC // 2, "volume": self.rng.choice([volume, 9])}
        pool = {
            "workerpool": "pool",
            "workerpoolprice": price * RLC,
            "volume": self.rng.choice([volume, 9]),
            "trust": 5,
            "category": category,
        }
        req = {
            "app": "app",
            "appmaxprice": price * RLC,
            "workerpoolmaxprice": price * RLC,
            "requester": "requester",
            "volume": volume,
            "trust": trust,
            "category": category,
            "beneficiary": "requester",
            "callback": "app_developer" if callback else ZERO_ADDRESS,
            "args": "--style gimpfu",
        }
        ds = None
        if with_dataset:
            ds = {"dataset": "dataset", "datasetprice": RLC // 2, "volume": 9}
            req |= {"dataset": "dataset", "datasetmaxprice": RLC}
        for fields in (app, pool, req, ds):
            if fields is not None:
                fields["salt"] = salt()
        return app, ds, pool, req

    def match(self, *, tamper=None):
        rng = self.rng
        with_dataset = rng.random() < 0.35
        volume = rng.choice([1, 1, 2, 3])
        trust = rng.choice([1, 3, 3, 5])
        category = rng.choice([0, 1])
        price = rng.randint(0, 3)
        callback = rng.random() < 0.15
        sponsor = "dataset_owner" if rng.random() < 0.25 else None
        presign = {k for k in ("app", "dataset", "pool", "request") if rng.random() < 0.15}
        app, ds, pool, req = self._order_fields(
            with_dataset, volume, trust, category, price, callback
        )
        syms = {k: self.p.fresh(f"o{k}") for k in ("app", "dataset", "pool", "request")}
        dealsym = self.p.fresh("d")
        orders = [syms[k] for k in ("app", "pool", "request")] + ([syms["dataset"]] * with_dataset)

        def act(tw, out):
            built = {}
            for kind, fields in (("app", app), ("dataset", ds), ("pool", pool), ("request", req)):
                if fields is None:
                    continue
                signer = (
                    None if kind in presign else ("requester" if kind == "request" else OWNER[kind])
                )
                if tamper == "signer" and kind == "request":
                    signer = "worker1"
                built[kind] = tw.order(syms[kind], kind, fields, signer)
                if kind in presign:
                    owner = "requester" if kind == "request" else OWNER[kind]
                    if tw.send(out, tw.manage(built[kind], 0), owner) is None:
                        return
            if tamper == "price":
                from dataclasses import replace

                built["request"] = replace(built["request"], appmaxprice=app["appprice"] + 1)
            dataset = built.get("dataset") or DatasetOrder.empty()
            args = [built["app"].as_tuple(), dataset.as_tuple()]
            args += [built["pool"].as_tuple(), built["request"].as_tuple()]
            fn = _fn(tw, "sponsorMatchOrders" if sponsor else "matchOrders", *args)
            r = tw.send(out, fn, sponsor or "requester")
            if r is not None:
                _name_deal(tw, dealsym, _matched(tw, out))

        label = (
            f"match{' (tampered: ' + tamper + ')' if tamper else ''} {dealsym} vol {volume} "
            f"trust {trust} cat {category} price {price} dataset {with_dataset} "
            f"callback {callback} sponsor {sponsor} presigned {sorted(presign)}"
        )
        out = self.p.step(label, act, attack=tamper is not None, orders=orders)
        for o in orders:
            self.p.orders[o] = o
        if out.reverted or tamper:
            return
        self.p.did[
            "match" + (" (dataset)" if with_dataset else "") + (" (sponsored)" if sponsor else "")
        ] += 1
        if presign:
            self.p.did["presigned order"] += 1
        self.p.compare_deal(dealsym)
        self.p.deals[dealsym]["orders"] = orders
        self.p.deals[dealsym]["syms"] = syms

    def cancel(self):
        """An order cancelled by its owner (manageXOrder CLOSE), then matched: refused on both."""
        kind = self.rng.choice(["app", "pool", "request", "dataset"])
        app, ds, pool, req = self._order_fields(kind == "dataset", 1, 1, 0, 1, False)
        syms = {k: self.p.fresh(f"o{k}") for k in ("app", "dataset", "pool", "request")}

        def act(tw, out):
            built = {}
            for k, fields in (("app", app), ("dataset", ds), ("pool", pool), ("request", req)):
                if fields is not None:
                    signer = "requester" if k == "request" else OWNER[k]
                    built[k] = tw.order(syms[k], k, fields, signer)
            owner = "requester" if kind == "request" else OWNER[kind]
            if tw.send(out, tw.manage(built[kind], 1), owner) is None:
                return
            dataset = built.get("dataset") or DatasetOrder.empty()
            args = [built["app"].as_tuple(), dataset.as_tuple()]
            args += [built["pool"].as_tuple(), built["request"].as_tuple()]
            tw.send(out, _fn(tw, "matchOrders", *args), "requester")

        out = self.p.step(f"cancel {kind} order then match it", act, orders=[syms[kind]])
        self.p.orders[syms[kind]] = syms[kind]
        assert out.results == ["ok", "revert"], f"a cancelled order was matched: {out.results}"
        self.p.did["cancelled order"] += 1

    def replay(self):
        """A deal's orders matched again once their volume is used up: refused on both."""
        full = [
            d
            for d, info in self.p.deals.items()
            if "syms" in info
            and all(self.p.kit.consumed(o) >= self.p.kit.orders[o].volume for o in info["orders"])
        ]
        if not full:
            return self.attack()
        d = self.rng.choice(full)
        syms = self.p.deals[d]["syms"]

        def act(tw, out):
            o = {k: tw.orders.get(s) for k, s in syms.items()}
            dataset = o["dataset"] or DatasetOrder.empty()
            args = [o["app"].as_tuple(), dataset.as_tuple(), o["pool"].as_tuple()]
            tw.send(out, _fn(tw, "matchOrders", *args, o["request"].as_tuple()), "requester")

        self.p.step(f"replay the orders of {d}", act, attack=True)
        self.p.did["attack: replay consumed orders"] += 1

    # ----- tasks ---------------------------------------------------------------------------
    def initialize(self):
        todo = [
            (d, i)
            for d, info in self.p.deals.items()
            if "deal" in info
            for i in range(info["deal"].bot_first, info["deal"].bot_first + info["deal"].bot_size)
            if f"{d}.t{i}" not in self.p.tasks
        ]
        if not todo:
            return self.match()
        d, i = self.rng.choice(todo)
        t = f"{d}.t{i}"
        sender = self.rng.choice(["scheduler", "worker1", "requester"])

        def act(tw, out):
            tw.send(out, _fn(tw, "initialize", _b32(tw, d), i), sender)

        self.p.step(f"initialize {t} by {sender}", act, tasks=[t])
        self.p.did["initialize"] += 1

    def _tasks(self, *statuses):
        return [t for t, v in self.p.tasks.items() if v.status in statuses]

    def _deal_of(self, t):
        return self.p.deals[t.split(".")[0]]["deal"]

    def contribute(self):
        active = self._tasks(TaskStatus.ACTIVE)
        if not active:
            return self.initialize()
        started = [t for t in active if self.p.tasks[t].contributors]
        t = self.rng.choice(started if started and self.rng.random() < 0.7 else active)
        view, deal = self.p.tasks[t], self._deal_of(t)
        done = {self.p.kit.names[c.lower()] for c in view.contributors}
        free = [w for w in WORKERS if w not in done]
        if not free:
            return self.time_passes()
        w = self.rng.choice(free)
        digest = "good" if self.rng.random() < 0.75 else "bad"
        alone = deal.trust == 1 and not view.contributors and digest == "good"
        if alone and self.rng.random() < 0.6:
            return self._contribute_and_finalize(t, w, deal)
        late = self.p.now() >= view.contribution_deadline

        act = _contribute(t, w, digest)

        out = self.p.step(
            f"contribute {t} {w} {digest}{' (late)' if late else ''}", act, tasks=[t], who=(w,)
        )
        if not out.reverted:
            self.p.did[f"contribute ({digest})"] += 1

    def _contribute_and_finalize(self, t, w, deal):
        cb = CALLBACK_DATA if deal.callback != ZERO_ADDRESS else b""

        def act(tw, out):
            tw.name_task_hashes(t, w)
            fn = _fn(
                tw,
                "contributeAndFinalize",
                _b32(tw, t),
                DIGESTS["good"],
                RESULTS,
                cb,
                ZERO_ADDRESS,
                b"",
                tw.authorization(w, t),
            )
            tw.send(out, fn, w)

        out = self.p.step(
            f"contributeAndFinalize {t} {w} callback {bool(cb)}", act, tasks=[t], who=(w,)
        )
        if not out.reverted:
            self.p.did["contributeAndFinalize"] += 1

    def reveal(self):
        revealing = self._tasks(TaskStatus.REVEALING)
        if not revealing:
            return self.contribute()
        t = self.rng.choice(revealing)
        view = self.p.tasks[t]
        mine = []
        for c in view.contributors:
            w = self.p.kit.names[c.lower()]
            con = self.p.kit.contribution(t, w)
            if con.status.name == "CONTRIBUTED" and con.result_hash == view.consensus_value:
                mine.append(w)
        if not mine:
            return self.finalize()
        w = self.rng.choice(mine)
        digest = next(
            k
            for k, d in DIGESTS.items()
            if self.p.kit.names.get(view.consensus_value) == f"rh({t},{k})"
        )

        def act(tw, out):
            tw.send(out, _fn(tw, "reveal", _b32(tw, t), DIGESTS[digest]), w)

        out = self.p.step(f"reveal {t} {w} {digest}", act, tasks=[t], who=(w,))
        if not out.reverted:
            self.p.did["reveal"] += 1

    def finalize(self):
        revealing = self._tasks(TaskStatus.REVEALING)
        if not revealing:
            return self.contribute()
        t = self.rng.choice(revealing)
        deal = self._deal_of(t)
        cb = CALLBACK_DATA if deal.callback != ZERO_ADDRESS else b""

        def act(tw, out):
            tw.send(out, _fn(tw, "finalize", _b32(tw, t), RESULTS, cb), "scheduler")

        out = self.p.step(f"finalize {t}", act, tasks=[t])
        if not out.reverted:
            self.p.did["finalize"] += 1

    def reopen(self):
        revealing = self._tasks(TaskStatus.REVEALING)
        if not revealing:
            return self.time_passes()
        t = self.rng.choice(revealing)

        def act(tw, out):
            tw.send(out, _fn(tw, "reopen", _b32(tw, t)), "scheduler")

        out = self.p.step(f"reopen {t}", act, tasks=[t])
        if not out.reverted:
            self.p.did["reopen"] += 1

    def claim(self):
        open_ = self._tasks(TaskStatus.ACTIVE, TaskStatus.REVEALING)
        if not open_:
            return self.time_passes()
        t = self.rng.choice(open_)
        sender = self.rng.choice(["requester", "worker2"])

        def act(tw, out):
            tw.send(out, _fn(tw, "claim", _b32(tw, t)), sender)

        out = self.p.step(f"claim {t} by {sender}", act, tasks=[t])
        if not out.reverted:
            self.p.did["claim"] += 1

    def time_passes(self):
        minutes = self.rng.choice([5, 10, 20, 40, 60, 120, 240])

        def act(tw, out):
            tw.chain.time_travel(minutes * 60)

        self.p.step(f"time passes {minutes} min", act)
        self.p.did["time passes"] += 1

    # ----- the attacks that must fail --------------------------------------------------------
    def attack(self):
        kinds = ["withdraw-too-much", "recover", "transferFrom", "manage-foreign-order", "tamper"]
        kinds += ["receiveApproval-direct", "category-zero-clock"]
        if self._tasks(TaskStatus.ACTIVE):
            kinds += [
                "contribute-unauthorized",
                "contribute-twice",
                "claim-early",
                "finalize-active",
                "contributeAndFinalize-trust",
            ]
        if self._tasks(TaskStatus.REVEALING):
            kinds += ["reveal-wrong", "reveal-stranger", "finalize-stranger", "reopen-early"]
        if self.p.tasks:
            kinds += ["initialize-again"]
        kind = self.rng.choice(kinds)
        self.p.did[f"attack: {kind}"] += 1
        rng = self.rng
        if kind == "tamper":
            return self.match(tamper=rng.choice(["price", "signer"]))
        t = None
        if kind in (
            "contribute-unauthorized",
            "contribute-twice",
            "claim-early",
            "finalize-active",
            "contributeAndFinalize-trust",
        ):
            t = rng.choice(self._tasks(TaskStatus.ACTIVE))
        elif kind in ("reveal-wrong", "reveal-stranger", "finalize-stranger", "reopen-early"):
            t = rng.choice(self._tasks(TaskStatus.REVEALING))
        elif kind == "initialize-again":
            t = rng.choice(sorted(self.p.tasks))
        view = self.p.tasks.get(t)
        contributors = [self.p.kit.names[c.lower()] for c in view.contributors] if view else []
        strangers = [w for w in WORKERS if w not in contributors]
        w = rng.choice(strangers or list(WORKERS))
        digest = DIGESTS["good"]
        # the two 'attacks' that may be fair: a claim after the final deadline, a trust-1 task
        valid = (kind == "claim-early" and self.p.now() >= view.final_deadline) or (
            kind == "contributeAndFinalize-trust"
            and self._deal_of(t).trust == 1
            and not contributors
        )

        def act(tw, out):
            if kind == "withdraw-too-much":
                stake = tw.account("requester")["stake"]
                tw.send(out, _fn(tw, "withdraw", stake + 1), "requester")
            elif kind == "recover":
                tw.send(out, _fn(tw, "recover"), "requester")
            elif kind == "receiveApproval-direct":  # not through RLC's approveAndCall
                rlc = tw.hub.rlc.functions
                if tw.send(out, rlc.approve(tw.hub.address, RLC), "requester") is not None:
                    fn = _fn(
                        tw, "receiveApproval", tw.address("requester"), RLC, tw.address("rlc"), b""
                    )
                    tw.send(out, fn, "requester")
            elif kind == "category-zero-clock":  # the owner, with a work clock of 0
                tw.send(out, _fn(tw, "createCategory", "ZERO", "{}", 0), "deployer")
            elif kind == "transferFrom":  # the hub's ERC-20 without an allowance
                fn = _fn(tw, "transferFrom", tw.address("requester"), tw.address("worker5"), 1)
                tw.send(out, fn, "worker5")
            elif kind == "manage-foreign-order":  # cancel the app developer's order, unsigned
                o = tw.order(
                    self.p.fresh("oapp"),
                    "app",
                    {"app": "app", "appprice": 1, "volume": 1, "salt": b"\x05" * 32},
                    "app_developer",
                )
                tw.send(out, tw.manage(o, 1), "requester")
            elif kind == "contribute-unauthorized":  # the worker signs its own authorization
                taskid = _b32(tw, t)
                auth = tw.authorization(w, t, signer=w)
                fn = _fn(
                    tw,
                    "contribute",
                    taskid,
                    result_hash(taskid, digest),
                    result_seal(tw.address(w), taskid, digest),
                    ZERO_ADDRESS,
                    b"",
                    auth,
                )
                tw.send(out, fn, w)
            elif kind == "contribute-twice":
                who = contributors[0] if contributors else w
                taskid = _b32(tw, t)
                fn = _fn(
                    tw,
                    "contribute",
                    taskid,
                    result_hash(taskid, digest),
                    result_seal(tw.address(who), taskid, digest),
                    ZERO_ADDRESS,
                    b"",
                    tw.authorization(who, t),
                )
                if not contributors and tw.send(out, fn, who) is None:  # the first time
                    return
                tw.send(out, fn, who)  # refused: contributed already (or no longer ACTIVE)
            elif kind == "claim-early":
                tw.send(out, _fn(tw, "claim", _b32(tw, t)), "requester")
            elif kind == "finalize-active":
                tw.send(out, _fn(tw, "finalize", _b32(tw, t), RESULTS, b""), "scheduler")
            elif kind == "contributeAndFinalize-trust":
                fn = _fn(
                    tw,
                    "contributeAndFinalize",
                    _b32(tw, t),
                    digest,
                    RESULTS,
                    CALLBACK_DATA if self._deal_of(t).callback != ZERO_ADDRESS else b"",
                    ZERO_ADDRESS,
                    b"",
                    tw.authorization(w, t),
                )
                tw.send(out, fn, w)
            elif kind == "reveal-wrong":
                who = contributors[0]
                tw.send(out, _fn(tw, "reveal", _b32(tw, t), b"\xcc" * 32), who)
            elif kind == "reveal-stranger":
                tw.send(out, _fn(tw, "reveal", _b32(tw, t), digest), w)
            elif kind == "finalize-stranger":
                tw.send(out, _fn(tw, "finalize", _b32(tw, t), RESULTS, b""), "requester")
            elif kind == "reopen-early":
                tw.send(out, _fn(tw, "reopen", _b32(tw, t)), "requester")
            elif kind == "initialize-again":
                d, i = t.split(".t")
                tw.send(out, _fn(tw, "initialize", _b32(tw, d), int(i)), "scheduler")

        label = f"attack:{kind}" + (f" on {t}" if t else "")
        self.p.step(label, act, attack=not valid, tasks=[t] if t else (), who=("requester",))


# ----- the prologue: funds, a dataset, workers of different scores -------------------------
def prologue(p: Pair) -> None:
    def act_all(sends):
        def act(tw, out):
            for fn_of, who in sends:
                tw.send(out, fn_of(tw), who)

        return act

    mint = [
        (lambda tw: tw.hub.rlc.functions.mint(tw.address("dataset_owner"), 400 * RLC), "deployer")
    ]
    p.step("prologue mint", act_all(mint), who=("dataset_owner",))
    for who, rlc in (("requester", 600), ("scheduler", 400), ("dataset_owner", 300)) + tuple(
        (w, 60) for w in WORKERS
    ):
        p.step(
            f"prologue deposit {who}",
            act_all(
                [
                    (
                        lambda tw, a=rlc: tw.hub.rlc.functions.approveAndCall(
                            tw.hub.address, a * RLC, b""
                        ),
                        who,
                    )
                ]
            ),
            who=(who,),
        )

    def dataset(tw, out):
        reg = tw.hub.datasetregistry.functions
        args = [tw.address("dataset_owner"), "faces", b"/ipfs/QmFaces", b"\x07" * 32]
        tw.name("dataset", tw.chain.call(reg.predictDataset(*args)))
        tw.send(out, reg.createDataset(*args), "dataset_owner")

    p.step("prologue createDataset", dataset, who=("dataset_owner",))
    # scores: worker1 and worker2 contribute together (trust 3: two fresh workers reach the
    # consensus) until their score is 12, then worker1 with worker3 at trust 5
    rng = random.Random(7)
    acts = Actions(p, rng)
    for volume, trust, team in ((12, 3, ("worker1", "worker2")), (3, 5, ("worker1", "worker3"))):
        _train(p, acts, volume, trust, team)
    p.sweep()
    p.reset_model()


def _train(p: Pair, acts: Actions, volume: int, trust: int, team) -> None:
    """One deal of ``volume`` tasks, each contributed by ``team`` (then the other workers, until
    the consensus), revealed by all and finalized: each contributor's score grows by one."""
    app, _, pool, req = acts._order_fields(False, volume, trust, 0, 1, False)
    app["volume"] = pool["volume"] = volume
    d = p.fresh("d")
    syms = {k: p.fresh(f"o{k}") for k in ("app", "pool", "request")}

    def match(tw, out):
        o = {
            k: tw.order(syms[k], k, f, "requester" if k == "request" else OWNER[k])
            for k, f in (("app", app), ("pool", pool), ("request", req))
        }
        args = [o["app"].as_tuple(), DatasetOrder.empty().as_tuple()]
        tw.send(
            out,
            _fn(tw, "matchOrders", *args, o["pool"].as_tuple(), o["request"].as_tuple()),
            "requester",
        )
        _name_deal(tw, d, _matched(tw, out))

    p.step(f"prologue match {d} volume {volume} trust {trust}", match, views=False)
    p.compare_deal(d)
    for i in range(volume):
        t = f"{d}.t{i}"

        def send(name, *args, who="scheduler", t=t):
            p.step(
                f"prologue {name} {t} {who}",
                lambda tw, out: tw.send(out, _fn(tw, name, _b32(tw, t), *args), who),
                views=False,
            )

        p.step(
            f"prologue initialize {t}",
            lambda tw, out, i=i: tw.send(out, _fn(tw, "initialize", _b32(tw, d), i), "scheduler"),
            views=False,
        )
        used = []
        for w in list(team) + [w for w in WORKERS if w not in team]:
            p.step(f"prologue contribute {t} {w}", _contribute(t, w, "good"), views=False)
            used.append(w)
            if p.kit.task(t).status != TaskStatus.ACTIVE:
                break
        for w in used:
            send("reveal", DIGESTS["good"], who=w)
        send("finalize", RESULTS, b"")
        p.tasks[t] = p.kit.task(t)


def _contribute(t: str, w: str, digest: str):
    """The action of ``w`` contributing ``digest`` ("good" or "bad") to task ``t``."""

    def act(tw, out):
        tw.name_task_hashes(t, w)
        taskid, d = _b32(tw, t), DIGESTS[digest]
        rh, seal = result_hash(taskid, d), result_seal(tw.address(w), taskid, d)
        fn = _fn(tw, "contribute", taskid, rh, seal, ZERO_ADDRESS, b"", tw.authorization(w, t))
        tw.send(out, fn, w)

    return act


def _name_deal(tw: Twin, d: str, dealid: str) -> None:
    """Name a new deal, its tasks and their result hashes on ``tw``."""
    tw.name(d, dealid)
    deal = tw.hub.deal(dealid)
    for i in range(deal.bot_first, deal.bot_first + deal.bot_size):
        tw.name(f"{d}.t{i}", deal.task_id(i))
        tw.name_task_hashes(f"{d}.t{i}")


# ----- the state machine ------------------------------------------------------------------------
WEIGHTS = {
    "contribute": 8,
    "reveal": 5,
    "finalize": 3,
    "initialize": 3,
    "match": 3,
    "deposit": 2,
    "withdraw": 1,
    "time_passes": 3,
    "claim": 2,
    "reopen": 1,
    "cancel": 1,
    "replay": 1,
    "attack": 3,
}


class DifferentialMachine(RuleBasedStateMachine):
    pair: Pair = None  # set by the test

    @initialize(seed=st.integers(0, 2**32 - 1))
    def start(self, seed):
        self.p = self.pair
        for tw, snap in zip(self.p.twins, self.p.base):
            tw.revert(snap)
        self.p.reset_model()
        self.p.log = [f"example seed {seed}"]
        self.acts = Actions(self.p, random.Random(seed))

    @rule()
    def act(self):
        name = self.acts.rng.choices(list(WEIGHTS), weights=list(WEIGHTS.values()))[0]
        getattr(self.acts, name)()
        self.p.steps += 1

    def teardown(self):
        if getattr(self, "p", None) is not None:
            self.p.sweep()
            print(f"differential: {self.p.steps} steps so far", flush=True)


@pytest.fixture(scope="module")
def pair(tmp_path_factory, module_failed):
    """The two twins after the prologue. At teardown their sandboxes are closed and let go (the
    pair, which pytest and hypothesis's machines may still hold, forgets them): nothing keeps
    their two in-process chains while the test process goes on with other files (checked once
    the test passed: a failed test's traceback still holds them)."""
    from iexec_kit.sandbox import Sandbox

    started = []
    p = None
    try:
        for protocol in ("kit", "poco"):
            folder = tmp_path_factory.mktemp(f"differential-{protocol}")
            started.append(Sandbox.start(workers=5, protocol=protocol, folder=folder))
        p = Pair(Twin(started[0], "kit"), Twin(started[1], "poco"))
        # far ahead of the wall clock: from here each block is its parent's time + 1 s on both
        # chains
        p.sync_clocks(at_least=max(tw.chain.now() for tw in p.twins) + 365 * 86400)
        prologue(p)
        p.base = [tw.snapshot() for tw in p.twins]
        yield p
    finally:
        DifferentialMachine.pair = None
        if p is not None:
            p.kit = p.poco = None
            p.twins, p.base = (), []
        for sb in started:
            sb.close()
    chains = [weakref.ref(sb.chain) for sb in started]
    del started, sb
    if module_failed():
        print("differential pair: chains not checked as let go (the test failed)", file=sys.stderr)
        return
    gc.collect()
    kept = [label for label, ref in zip(("kit", "poco"), chains) if ref() is not None]
    assert not kept, f"the differential pair's chains are still referenced after it: {kept}"


def test_the_kit_and_poco_6_1_0_agree_step_by_step(pair):
    started, cpu = time.monotonic(), time.process_time()
    prologue_steps = len(pair.log)
    DifferentialMachine.pair = pair
    examples = -(-STEPS_WANTED // (STEPS_PER_EXAMPLE - 1))  # an example runs 99 steps
    run_state_machine_as_test(
        DifferentialMachine,
        settings=stateful_settings(
            examples, STEPS_PER_EXAMPLE, phases=[Phase.generate], database=None
        ),
    )
    elapsed, cpu = time.monotonic() - started, time.process_time() - cpu
    scores = {w: pair.kit.hub.score(pair.kit.address(w)) for w in WORKERS}
    print(
        f"\ndifferential kit vs PoCo {differences.POCO_VERSION}: {pair.steps} steps in "
        f"{elapsed:.0f} s ({cpu:.0f} s of CPU; after a prologue of {prologue_steps}); "
        f"scores at the end {scores}\n"
        f"listed differences seen: {dict(pair.seen)}\n"
        f"what the steps did: {dict(sorted(pair.did.items()))}\n"
        f"seconds: { ({k: round(v, 1) for k, v in pair.timing.items()}) }"
    )
    assert not pair.new, "differences no entry explains:\n" + "\n".join(pair.new[:30])
    assert pair.steps >= STEPS_WANTED, f"only {pair.steps} steps ran, {STEPS_WANTED} wanted"
    stale = [d.key for d in differences.DIFFERENCES if d.seen_in and not pair.seen[d.key]]
    assert not stale, f"listed differences the run never saw (stale entries?): {stale}"
    for what in (
        "match (dataset)",
        "contribute (bad)",
        "reveal",
        "finalize",
        "claim",
        "reopen",
        "contributeAndFinalize",
        "presigned order",
        "cancelled order",
    ):
        assert any(k.startswith(what) for k in pair.did), f"no sequence reached {what!r}"
