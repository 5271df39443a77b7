"""Money never appears or vanishes: random sequences of deposits, deals, contributions (honest,
wrong, missing), reveals, finalizes, reopens, claims and withdrawals, with every invariant checked
after every step:

- the RLC the hub holds = every account's stake + locked (the kitty included): nothing is set
  aside by a seize without being paid out or locked again in the same transaction;
- each account's locked amount is exactly what its unfinished tasks still hold: the sponsor's
  price per task (the requester's, or a third party's through sponsorMatchOrders), the pool
  owner's 30 %, each contributor's stake; nothing stays locked once a task is COMPLETED or
  FAILED.

At least IEXEC_KIT_STATEFUL_STEPS steps (2,000 by default) run in all.
"""

from __future__ import annotations

import random

from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)

from iexec_kit.errors import ContractRevertError
from iexec_kit.poco import ContributionStatus, TaskStatus, sign_authorization
from tests.poco.conftest import RLC, OrderKit, assert_refused, stateful_settings, steps_wanted

KITTY = "0x99c2268479b93fDe36232351229815DF80837e23"
STEPS_WANTED = steps_wanted("IEXEC_KIT_STATEFUL_STEPS", 2000)
STEPS_PER_EXAMPLE = 80
GOOD, BAD = b"\x01" * 32, b"\x02" * 32
steps_run = 0
seeds: set = set()
events: dict = {}  # what the random steps actually did, over the whole run


def _saw(what):
    events[what] = events.get(what, 0) + 1


class MoneyMachine(RuleBasedStateMachine):
    sb = None  # set by the test: the session sandbox

    @initialize(seed=st.integers(0, 2**32 - 1))
    def start(self, seed):
        self.rng = random.Random(seed)
        seeds.add(seed)
        self.snap = self.sb.snapshot()
        self.kit = OrderKit(self.sb)
        self.kit.rng = random.Random(len(self.sb.participants))
        self.hub = self.sb.hub
        self.deals = []  # MatchResult
        self.tasks = {}  # taskid -> deal
        self.views = {}  # taskid -> Task, re-read after every transaction on it
        self.people = [p.address for p in self.sb.participants] + [KITTY]
        # everyone starts with some stake, so that the random steps reach deals and tasks
        # dataset_owner (no deal here has a dataset) sponsors some deals: sponsorMatchOrders
        self.hub.mint(self.sb.dataset_owner.address, 100 * RLC)
        for who, rlc in (("requester", 300), ("scheduler", 100), ("dataset_owner", 100)):
            self.sb.deposit(self.sb.chain.participant(who), rlc * RLC)
        for w in self.sb.workers:
            self.sb.deposit(w, 20 * RLC)
        # and with one deal whose tasks are started
        self.new_deal(
            volume=3, trust=self.rng.choice([1, 3, 5]), price=2, category=self.rng.choice([1, 2])
        )
        for _ in range(2):
            self.initialize_task(None)

    def teardown(self):
        if getattr(self, "snap", None) is not None:
            self.sb.revert(self.snap)

    def _refresh(self, taskid):
        self.views[taskid] = self.hub.task(taskid)

    def _step(self):
        global steps_run
        steps_run += 1

    # ----- money in and out -----
    # one rule draws an action, weighted towards what moves tasks forward (hypothesis's own rule
    # choice spent most steps on the first rules and rarely reached a finalize)
    ACTIONS = {
        "contribute": 5,
        "reveal": 3,
        "finalize": 2,
        "initialize_task": 2,
        "new_deal": 2,
        "deposit": 1,
        "withdraw": 1,
        "time_passes": 2,
        "claim": 2,
        "reopen": 1,
    }

    @rule(data=st.data())
    def act(self, data):
        # the action comes from the example's seeded RNG: hypothesis's own choices lean hard on
        # a few rules, and the random sequences then rarely reached a finalize or a claim
        action = self.rng.choices(list(self.ACTIONS), weights=list(self.ACTIONS.values()))[0]
        _saw(f"action {action}")
        method = getattr(self, action)
        kwargs = {name: pick(self.rng) for name, pick in self.ARGS.get(action, {}).items()}
        if "data" in method.__code__.co_varnames[: method.__code__.co_argcount]:
            kwargs["data"] = data
        if (
            action in ("initialize_task", "contribute", "reveal", "finalize", "reopen", "claim")
            and not self.tasks
            and action != "initialize_task"
        ):
            self._step()
            return
        if action == "initialize_task" and not self.deals:
            self._step()
            return
        method(**kwargs)

    ARGS = {
        "deposit": {
            "who": lambda r: r.choice(
                ["requester", "scheduler", "worker1", "worker2", "worker3", "worker4"]
            ),
            "rlc": lambda r: r.randint(1, 40),
        },
        "withdraw": {
            "who": lambda r: r.choice(
                ["requester", "scheduler", "worker1", "worker2", "app_developer"]
            ),
            "fraction": lambda r: r.uniform(0.05, 1.0),
        },
        "new_deal": {
            "volume": lambda r: r.randint(1, 3),
            "trust": lambda r: r.choice([1, 3, 5]),
            "price": lambda r: r.randint(0, 3),
            "category": lambda r: r.choice([1, 2]),
        },
        "contribute": {"honest": lambda r: r.random() < 0.8},
        "time_passes": {"minutes": lambda r: r.choice([5, 10, 15, 30, 60, 240])},
    }

    def deposit(self, who, rlc):
        p = self.sb.chain.participant(who)
        if self.hub.wallet(p.address) >= rlc * RLC:
            self.sb.deposit(p, rlc * RLC)
        self._step()

    def withdraw(self, who, fraction):
        p = self.sb.chain.participant(who)
        amount = int(self.hub.account(p.address).stake * fraction)
        if amount > 0:
            self.hub.withdraw(p, amount)
        self._step()

    # ----- deals and tasks -----
    def new_deal(self, volume, trust, price, category):
        sb, kit = self.sb, self.kit
        app = kit.app(appprice=price * RLC // 2, volume=50)
        pool = kit.pool(workerpoolprice=price * RLC, trust=5, volume=50, category=category)
        req = kit.request(
            appmaxprice=price * RLC,
            workerpoolmaxprice=price * RLC,
            volume=volume,
            trust=trust,
            category=category,
        )
        need = (app.appprice + pool.workerpoolprice) * volume
        sponsor = sb.chain.participant("dataset_owner") if self.rng.random() < 0.3 else None
        payer = sponsor or sb.requester
        if (
            self.hub.account(payer.address).stake < need
            or self.hub.account(sb.scheduler.address).stake
            < pool.workerpoolprice * 30 // 100 * volume
        ):
            self._step()
            return
        if sponsor is None:
            self.deals.append(self.hub.match_orders(app, None, pool, req))
            _saw("deal")
        else:
            self.deals.append(self.hub.sponsor_match_orders(app, None, pool, req, sponsor))
            _saw("deal (sponsored)")
        self._step()

    def initialize_task(self, data):
        todo = [
            (m, i)
            for m in self.deals
            for i in range(m.deal.bot_first, m.deal.bot_first + m.deal.bot_size)
            if m.deal.task_id(i) not in self.tasks
        ]
        if todo:
            m, idx = self.rng.choice(todo)
            taskid = m.deal.task_id(idx)
            self.hub.initialize(m.dealid, idx, self.sb.workers[0])
            _saw("initialize")
            self.tasks[taskid] = m.deal
            self._refresh(taskid)
        self._step()

    def _pick_task(self, data, status):
        ids = [t for t in self.tasks if self.views[t].status == status]
        return self.rng.choice(ids) if ids else None

    def contribute(self, data, honest):
        taskid = self._pick_task(data, TaskStatus.ACTIVE)
        started = [
            t
            for t in self.tasks
            if self.views[t].status == TaskStatus.ACTIVE and self.views[t].contributors
        ]
        if started and self.rng.random() < 0.7:  # mostly push a task towards its consensus
            taskid = self.rng.choice(started)
        _saw("contribute: tried" if taskid else "contribute: no active task")
        if taskid is not None:
            deal = self.tasks[taskid]
            task = self.views[taskid]
            free = [
                w
                for w in self.sb.workers
                if w.address not in task.contributors
                and self.hub.account(w.address).stake >= deal.worker_stake
            ]
            if not free:
                _saw("contribute: no free worker")
            elif self.sb.chain.now() >= task.contribution_deadline:
                _saw("contribute: too late")
            else:
                w = self.rng.choice(free)
                auth = sign_authorization(self.sb.scheduler, w.address, taskid)
                if deal.trust == 1 and not task.contributors and honest:
                    self.hub.contribute_and_finalize(
                        taskid, GOOD, '{"storage":"ipfs","location":"/ipfs/Qm"}', w, auth
                    )
                    _saw("contributeAndFinalize")
                else:
                    self.hub.contribute(taskid, GOOD if honest else BAD, w, auth)
                    _saw("contribute (honest)" if honest else "contribute (wrong)")
                self._refresh(taskid)
        self._step()

    def reveal(self, data):
        taskid = self._pick_task(data, TaskStatus.REVEALING)
        if taskid is not None:
            task = self.hub.task(taskid)
            for w in self.sb.workers:
                c = self.hub.contribution(taskid, w.address)
                if (
                    c.status == ContributionStatus.CONTRIBUTED
                    and c.result_hash == task.consensus_value
                    and self.sb.chain.now() < task.reveal_deadline
                ):
                    digest = GOOD if c.result_hash == _rh(taskid, GOOD) else BAD
                    self.hub.reveal(taskid, digest, w)
                    _saw("reveal")
                    if self.rng.random() < 0.3:
                        break  # leave the others lazy
            self._refresh(taskid)
        self._step()

    def finalize(self, data):
        taskid = self._pick_task(data, TaskStatus.REVEALING)
        if taskid is not None:
            try:
                self.hub.finalize(
                    taskid, '{"storage":"ipfs","location":"/ipfs/Qm"}', self.sb.scheduler
                )
                _saw("finalize")
            except (
                ContractRevertError
            ) as exc:  # not all revealed yet, or past a deadline: refused whole
                assert_refused(exc, self.sb, "finalize-0x03", "finalize-0x02")
            self._refresh(taskid)
        self._step()

    def reopen(self, data):
        taskid = self._pick_task(data, TaskStatus.REVEALING)
        if taskid is not None:
            try:
                self.hub.reopen(taskid, self.sb.scheduler)
                _saw("reopen")
            except ContractRevertError as exc:
                assert_refused(exc, self.sb, "reopen-0x02", "reopen-0x03")
            self._refresh(taskid)
        self._step()

    def time_passes(self, minutes):
        """Deadlines are multiples of the category's clock (S: 20 min, M: 1 h)."""
        self.sb.time_travel(minutes * 60)
        self._step()

    def claim(self, data):
        ids = [
            t
            for t in self.tasks
            if self.views[t].status in (TaskStatus.ACTIVE, TaskStatus.REVEALING)
        ]
        if ids:
            taskid = self.rng.choice(ids)
            if self.sb.chain.now() >= self.views[taskid].final_deadline:
                self.hub.claim(taskid, self.sb.requester)
                _saw("claim")
                self._refresh(taskid)
        self._step()

    # ----- the invariants (one pass over the accounts) -----
    @invariant()
    def money_adds_up(self):
        if not hasattr(self, "hub"):
            return
        accounts = {x: self.hub.account(x) for x in self.people}
        held = self.hub.hub_rlc()
        assert held == sum(a.stake + a.locked for a in accounts.values()) == self.hub.total_supply()

        expected = {x: 0 for x in self.people}
        for m in self.deals:
            d = m.deal
            for taskid in d.task_ids():
                task = self.views.get(taskid)
                status = task.status if task else TaskStatus.UNSET
                if status in (TaskStatus.UNSET, TaskStatus.ACTIVE, TaskStatus.REVEALING):
                    expected[d.sponsor] += d.price_per_task
                    expected[d.workerpool.owner] += d.workerpool.price * 30 // 100
                    for w in task.contributors if task else ():
                        expected[w] += d.worker_stake
                elif status == TaskStatus.FAILED:
                    expected[KITTY] += d.workerpool.price * 30 // 100
        assert accounts[KITTY].locked <= expected[KITTY]  # bonuses only take from the kitty
        expected[KITTY] = accounts[KITTY].locked
        for x in self.people:
            assert accounts[x].locked == expected[x], x


def _rh(taskid, digest):
    from iexec_kit.poco import result_hash

    return result_hash(taskid, digest)


def test_money_never_appears_or_vanishes(sandbox_session):
    MoneyMachine.sb = sandbox_session
    examples = -(-STEPS_WANTED // (STEPS_PER_EXAMPLE * 3 // 4)) + 2
    run_state_machine_as_test(
        MoneyMachine,
        settings=stateful_settings(examples, STEPS_PER_EXAMPLE),
    )
    print(
        f"stateful money test: {len(seeds)} seeds, {steps_run} steps; "
        f"what they did: {dict(sorted(events.items()))}"
    )
    assert steps_run >= STEPS_WANTED, f"only {steps_run} steps ran, {STEPS_WANTED} wanted"
    for what in (
        "deal",
        "deal (sponsored)",
        "contribute (honest)",
        "contribute (wrong)",
        "reveal",
        "finalize",
        "claim",
    ):
        assert events.get(what, 0) > 0, (
            f"no random sequence reached '{what}': the test would prove little"
        )
