"""Gas per operation, side by side: the kit's hub and iExec's published PoCo 6.1.0 (npm
@iexec/poco), the same scenario with the same Python client, in one run.

Run: ``python -m benchmarks gas``. Both hubs are deployed on the in-process chain
(iexec_kit.chain.deploy and iexec_kit.chain.published). Every figure is the gas of one real
transaction (deterministic: the same every run); the last column is the kit's over PoCo's.
"""

from __future__ import annotations

import random
from dataclasses import replace

from iexec_kit.protocol.units import RLC

RESULTS = '{"storage":"ipfs","location":"/ipfs/Qm"}'


def _deployment_gas(protocol: str) -> int:
    """The gas of every transaction of one deployment (the protocol only, no participants)."""
    from iexec_kit.chain import Chain
    from iexec_kit.chain.deploy import deploy_protocol
    from iexec_kit.chain.published import deploy_published_poco

    chain = Chain.in_process(1)
    first = chain.block_number()
    (deploy_published_poco if protocol == "poco" else deploy_protocol)(chain)
    w3 = chain.w3
    return sum(w3.eth.get_block(n)["gasUsed"] for n in range(first + 1, chain.block_number() + 1))


def scenario(protocol: str) -> dict[str, int]:
    """{operation: gas} of the whole scenario on one hub."""
    from iexec_kit.poco import sign_authorization
    from iexec_kit.poco.consensus import contributions_needed
    from iexec_kit.poco.orders import AppOrder, DatasetOrder, RequestOrder, WorkerpoolOrder
    from iexec_kit.sandbox import Sandbox

    sb = Sandbox.start(workers=7, protocol=protocol)
    hub, rng, dom = sb.hub, random.Random(1), sb.hub.domain()
    gas = {"deployment (protocol only)": _deployment_gas(protocol)}
    gas["deposit (approveAndCall, first)"] = sb.deposit(sb.requester, 500 * RLC).gas_used
    gas["deposit (approveAndCall, again)"] = sb.deposit(sb.requester, 100 * RLC).gas_used
    sb.deposit(sb.scheduler, 500 * RLC)
    for w in sb.workers:
        sb.deposit(w, 50 * RLC)
    before = sb.chain.block_number()
    hub.create_app(sb.app_developer, "bench-app", "example/bench:1", b"\x05" * 32)
    gas["createApp"] = sb.chain.w3.eth.get_block(before + 1)["gasUsed"]
    dataset = hub.create_dataset(sb.dataset_owner, "bench", "/ipfs/QmBench", b"\x06" * 32)

    def orders(with_dataset: bool = False, trust: int = 5, pool_trust: int = 100):
        app = AppOrder(
            app=sb.app_address, appprice=5 * RLC, volume=100, salt=rng.randbytes(32)
        ).signed(sb.app_developer.key, dom)
        pool = WorkerpoolOrder(
            workerpool=sb.workerpool_address,
            workerpoolprice=RLC,
            volume=100,
            trust=pool_trust,
            salt=rng.randbytes(32),
        ).signed(sb.scheduler.key, dom)
        ds = None
        if with_dataset:
            ds = DatasetOrder(
                dataset=dataset, datasetprice=RLC, volume=100, salt=rng.randbytes(32)
            ).signed(sb.dataset_owner.key, dom)
        req = RequestOrder(
            app=sb.app_address,
            appmaxprice=5 * RLC,
            dataset=dataset if with_dataset else "0x" + "00" * 20,
            datasetmaxprice=RLC if with_dataset else 0,
            workerpoolmaxprice=RLC,
            requester=sb.requester.address,
            volume=1,
            trust=trust,
            beneficiary=sb.requester.address,
            params='{"iexec_args":"--style gimpfu"}',
            salt=rng.randbytes(32),
        ).signed(sb.requester.key, dom)
        return app, ds, pool, req

    gas["matchOrders (no dataset, first)"] = hub.match_orders(*orders()).receipt.gas_used
    gas["matchOrders (with dataset)"] = hub.match_orders(*orders(True)).receipt.gas_used
    gas["matchOrders (no dataset, warm)"] = hub.match_orders(*orders()).receipt.gas_used
    app = replace(orders()[0], sign=b"")
    gas["manageAppOrder (SIGN)"] = hub.manage_order(app, 0, sb.app_developer).gas_used
    gas["manageAppOrder (CLOSE)"] = hub.manage_order(app, 1, sb.app_developer).gas_used

    digest = b"\x42" * 32

    def task(trust: int) -> str:
        m = hub.match_orders(*orders(trust=trust))
        taskid, r = hub.initialize(m.dealid, 0, sb.scheduler)
        gas.setdefault("initialize", r.gas_used)
        return taskid

    def contribute(taskid: str, w) -> int:
        auth = sign_authorization(sb.scheduler, w.address, taskid)
        return hub.contribute(taskid, digest, w, auth).gas_used

    # trusts at which exactly n fresh workers reach the consensus (POCO.md): 1 -> 2, 3 -> 5,
    # 7 -> 100; the medians of the contributions and reveals, then finalize
    for n, trust in ((1, 2), (3, 5), (7, 100)):
        assert contributions_needed(trust) == n <= len(sb.workers)
        taskid = task(trust)
        c = sorted(contribute(taskid, w) for w in sb.workers[:n])
        r = sorted(hub.reveal(taskid, digest, w).gas_used for w in sb.workers[:n])
        s = "s" if n > 1 else ""
        gas[f"contribute (median of {n})"] = c[n // 2]
        gas[f"reveal (median of {n})"] = r[n // 2]
        gas[f"finalize ({n} contributor{s})"] = hub.finalize(taskid, RESULTS, sb.scheduler).gas_used
    # contributeAndFinalize at trust 1 (no consensus to wait for); its callback-free form
    taskid = task(1)
    w = sb.workers[0]
    auth = sign_authorization(sb.scheduler, w.address, taskid)
    gas["contributeAndFinalize"] = hub.contribute_and_finalize(
        taskid, digest, RESULTS, w, auth
    ).gas_used
    # reopen: 2 workers agree at trust 3, nobody reveals, the reveal deadline passes; then claim
    taskid = task(3)
    for w in sb.workers[:2]:
        contribute(taskid, w)
    sb.time_travel(hub.task(taskid).reveal_deadline - sb.chain.now() + 1)
    gas["reopen"] = hub.reopen(taskid, sb.scheduler).gas_used
    sb.time_travel(hub.task(taskid).final_deadline - sb.chain.now() + 1)
    gas["claim (2 contributors)"] = hub.claim(taskid, sb.requester).gas_used
    gas["withdraw"] = hub.withdraw(sb.requester, 10 * RLC).gas_used
    sb.close()
    return gas


def measure() -> list[tuple[str, int, int]]:
    """(operation, the kit's gas, PoCo 6.1.0's gas), in the scenario's order."""
    kit, poco = scenario("kit"), scenario("poco")
    return [(name, kit[name], poco[name]) for name in kit]


def main() -> None:
    print("Gas per operation: the kit's hub vs iExec's published PoCo 6.1.0, same client, one run")
    print(f"{'operation':36} {'kit gas':>11} {'PoCo 6.1.0':>11} {'kit/PoCo':>9}")
    for name, kit, poco in measure():
        print(f"{name:36} {kit:>11,} {poco:>11,} {kit / poco:>9.2f}")


if __name__ == "__main__":
    main()
