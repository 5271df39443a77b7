"""Gas of the kit's protocol operations against the real PoCo's test-suite averages (POCO.md).

Run: ``.venv/bin/python -m benchmarks.bench_gas``. Each figure is the gas used by one real
transaction on the in-process chain (deterministic: the same every run).
"""

from __future__ import annotations

import random
from dataclasses import replace

# real PoCo v5.3 averages (solc 0.8.21, 200 runs), from shared/reference/POCO.md
POCO = {
    "matchOrders": 760_843,
    "initialize": 225_506,
    "contribute": 346_973,
    "reveal": 78_544,
    "finalize": 403_856,
    "claim": 181_535,
    "contributeAndFinalize": 642_656,
    "reopen": 84_922,
    "manageAppOrder": 88_951,
    "deposit": 91_581,
    "createApp": 625_505,
}
RLC = 10**9


def measure() -> list[tuple[str, int, int | None]]:
    from iexec_kit.poco.orders import AppOrder, DatasetOrder, RequestOrder, WorkerpoolOrder
    from iexec_kit.sandbox import Sandbox

    sb = Sandbox.start(workers=7)
    hub, rng = sb.hub, random.Random(1)
    dom = hub.domain()
    rows = []
    r = sb.deposit(sb.requester, 500 * RLC)
    rows.append(("deposit (approveAndCall, first)", r.gas_used, POCO["deposit"]))
    r = sb.deposit(sb.requester, 500 * RLC)
    rows.append(("deposit (approveAndCall, again)", r.gas_used, POCO["deposit"]))
    sb.deposit(sb.scheduler, 500 * RLC)
    before = sb.chain.block_number()
    hub.create_app(sb.app_developer, "bench-app", "example/bench:1", b"\x05" * 32)
    rows.append(("createApp", sb.chain.w3.eth.get_block(before + 1)["gasUsed"], POCO["createApp"]))

    def orders(with_dataset: bool):
        app = AppOrder(
            app=sb.app_address, appprice=5 * RLC, volume=100, salt=rng.randbytes(32)
        ).signed(sb.app_developer.key, dom)
        pool = WorkerpoolOrder(
            workerpool=sb.workerpool_address,
            workerpoolprice=RLC,
            volume=100,
            trust=5,
            salt=rng.randbytes(32),
        ).signed(sb.scheduler.key, dom)
        ds, ds_addr = None, "0x0000000000000000000000000000000000000000"
        if with_dataset:
            ds_addr = hub.create_dataset(sb.dataset_owner, "bench", "/ipfs/QmBench", b"\x06" * 32)
            ds = DatasetOrder(
                dataset=ds_addr, datasetprice=RLC, volume=100, salt=rng.randbytes(32)
            ).signed(sb.dataset_owner.key, dom)
        req = RequestOrder(
            app=sb.app_address,
            appmaxprice=5 * RLC,
            dataset=ds_addr,
            datasetmaxprice=RLC if with_dataset else 0,
            workerpoolmaxprice=RLC,
            requester=sb.requester.address,
            volume=1,
            trust=5,
            beneficiary=sb.requester.address,
            params='{"iexec_args":"--style gimpfu"}',
            salt=rng.randbytes(32),
        ).signed(sb.requester.key, dom)
        return app, ds, pool, req

    m = hub.match_orders(*orders(False))
    rows.append(("matchOrders (no dataset, first)", m.receipt.gas_used, POCO["matchOrders"]))
    m = hub.match_orders(*orders(False))
    rows.append(("matchOrders (no dataset, warm)", m.receipt.gas_used, POCO["matchOrders"]))
    m = hub.match_orders(*orders(True))
    rows.append(("matchOrders (with dataset)", m.receipt.gas_used, POCO["matchOrders"]))
    app = replace(orders(False)[0], sign=b"")
    r = hub.manage_order(app, 0, sb.app_developer)
    rows.append(("manageAppOrder (SIGN)", r.gas_used, POCO["manageAppOrder"]))
    r = hub.manage_order(app, 1, sb.app_developer)
    rows.append(("manageAppOrder (CLOSE)", r.gas_used, POCO["manageAppOrder"]))
    rows.extend(extra_rows(sb))
    return rows


def extra_rows(sb) -> list[tuple[str, int, int | None]]:
    """Proof-of-Contribution: initialize, contribute, reveal, finalize with 1, 3 and 7 contributors,
    claim, reopen, contributeAndFinalize."""
    from iexec_kit.chain.accounts import participants
    from iexec_kit.poco import sign_authorization
    from iexec_kit.poco.consensus import contributions_needed
    from iexec_kit.poco.orders import AppOrder, RequestOrder, WorkerpoolOrder

    hub, rng, dom = sb.hub, random.Random(2), sb.hub.domain()
    workers = sb.workers
    for w in workers:
        sb.deposit(w, 50 * RLC)
    rows = []
    digest = b"\x42" * 32

    def deal(trust: int):
        app = AppOrder(
            app=sb.app_address, appprice=5 * RLC, volume=1, salt=rng.randbytes(32)
        ).signed(sb.app_developer.key, dom)
        pool = WorkerpoolOrder(
            workerpool=sb.workerpool_address,
            workerpoolprice=RLC,
            volume=1,
            trust=100,
            salt=rng.randbytes(32),
        ).signed(sb.scheduler.key, dom)
        req = RequestOrder(
            app=sb.app_address,
            appmaxprice=5 * RLC,
            workerpoolmaxprice=RLC,
            requester=sb.requester.address,
            volume=1,
            trust=trust,
            salt=rng.randbytes(32),
        ).signed(sb.requester.key, dom)
        return hub.match_orders(app, None, pool, req)

    def run_task(n_workers: int, trust: int, record: bool):
        m = deal(trust)
        taskid, r = hub.initialize(m.dealid, 0, sb.scheduler)
        if record:
            rows.append(("initialize", r.gas_used, POCO["initialize"]))
        gas_c = []
        for w in workers[:n_workers]:
            gas_c.append(
                hub.contribute(
                    taskid, digest, w, sign_authorization(sb.scheduler, w.address, taskid)
                ).gas_used
            )
        gas_r = [hub.reveal(taskid, digest, w).gas_used for w in workers[:n_workers]]
        fin = hub.finalize(
            taskid, '{"storage":"ipfs","location":"/ipfs/Qm"}', sb.scheduler
        ).gas_used
        return gas_c, gas_r, fin

    # trusts at which exactly n fresh workers reach the consensus (POCO.md):
    # 1 -> 2, 3 -> 5, 7 -> 100
    for n, trust, record in ((1, 2, True), (3, 5, False), (7, 100, False)):
        assert contributions_needed(trust) == n and len(workers) >= n
        gas_c, gas_r, fin = run_task(n, trust, record)
        if record:
            rows.append(
                ("contribute (the one that reaches consensus)", gas_c[-1], POCO["contribute"])
            )
            rows.append(("reveal (first)", gas_r[0], POCO["reveal"]))
        else:
            rows.append((f"contribute (median of {n})", sorted(gas_c)[n // 2], POCO["contribute"]))
            rows.append((f"reveal (median of {n})", sorted(gas_r)[n // 2], POCO["reveal"]))
        rows.append((f"finalize ({n} contributor{'s' if n > 1 else ''})", fin, POCO["finalize"]))
    m = deal(1)
    taskid, _ = hub.initialize(m.dealid, 0, sb.scheduler)
    w = workers[0]
    r = hub.contribute_and_finalize(
        taskid,
        digest,
        '{"storage":"ipfs","location":"/ipfs/Qm"}',
        w,
        sign_authorization(sb.scheduler, w.address, taskid),
    )
    rows.append(("contributeAndFinalize", r.gas_used, POCO["contributeAndFinalize"]))
    # reopen: 2 workers agree, nobody reveals, the reveal deadline passes
    m = deal(3)
    taskid, _ = hub.initialize(m.dealid, 0, sb.scheduler)
    for w in workers[:2]:
        hub.contribute(taskid, digest, w, sign_authorization(sb.scheduler, w.address, taskid))
    sb.time_travel(hub.task(taskid).reveal_deadline - sb.chain.now() + 1)
    rows.append(("reopen", hub.reopen(taskid, sb.scheduler).gas_used, POCO["reopen"]))
    sb.time_travel(hub.task(taskid).final_deadline - sb.chain.now() + 1)
    rows.append(("claim (2 contributors)", hub.claim(taskid, sb.requester).gas_used, POCO["claim"]))
    del participants
    return rows


def main() -> None:
    print("Gas per operation: iexec-kit vs real PoCo v5.3 averages (POCO.md)")
    print(f"{'operation':46} {'kit gas':>10} {'PoCo gas':>10} {'ratio':>7}")
    for name, gas, ref in measure():
        ratio = f"{gas / ref:.2f}" if ref else "-"
        print(f"{name:46} {gas:>10,} {ref or 0:>10,} {ratio:>7}")


if __name__ == "__main__":
    main()
