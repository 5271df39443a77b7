"""Gas side by side: the kit's hub and iExec's published PoCo 6.1.0 (npm @iexec/poco), one run.

Run: ``python -m benchmarks published``. Both hubs are deployed on the in-process chain
(iexec_kit.chain.deploy and iexec_kit.chain.published); the same scenario then runs on each with
the same Python client: deposits, createApp, matchOrders without and with a dataset, and one task
with 3 honest contributors (initialize, contribute, reveal, finalize). Every figure is the gas of
one real transaction (deterministic: the same every run).
"""

from __future__ import annotations

import random

RLC = 10**9


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
    """{operation: gas} of the same scenario on one hub."""
    from iexec_kit.poco import sign_authorization
    from iexec_kit.poco.orders import AppOrder, DatasetOrder, RequestOrder, WorkerpoolOrder
    from iexec_kit.sandbox import Sandbox

    sb = Sandbox.start(workers=3, protocol=protocol)
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

    def orders(with_dataset: bool, trust: int = 5):
        app = AppOrder(
            app=sb.app_address, appprice=5 * RLC, volume=100, salt=rng.randbytes(32)
        ).signed(sb.app_developer.key, dom)
        pool = WorkerpoolOrder(
            workerpool=sb.workerpool_address,
            workerpoolprice=RLC,
            volume=100,
            trust=trust,
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

    gas["matchOrders (no dataset, first)"] = hub.match_orders(*orders(False)).receipt.gas_used
    gas["matchOrders (with dataset)"] = hub.match_orders(*orders(True)).receipt.gas_used
    m = hub.match_orders(*orders(False))
    gas["matchOrders (no dataset, warm)"] = m.receipt.gas_used
    taskid, r = hub.initialize(m.dealid, 0, sb.scheduler)
    gas["initialize"] = r.gas_used
    digest = b"\x42" * 32
    for i, w in enumerate(sb.workers[:3]):
        auth = sign_authorization(sb.scheduler, w.address, taskid)
        gas[f"contribute ({i + 1} of 3)"] = hub.contribute(taskid, digest, w, auth).gas_used
    for i, w in enumerate(sb.workers[:3]):
        gas[f"reveal ({i + 1} of 3)"] = hub.reveal(taskid, digest, w).gas_used
    gas["finalize (3 contributors)"] = hub.finalize(
        taskid, '{"storage":"ipfs","location":"/ipfs/Qm"}', sb.scheduler
    ).gas_used
    gas["withdraw"] = hub.withdraw(sb.requester, 10 * RLC).gas_used
    sb.close()
    return gas


def measure() -> list[tuple[str, int, int]]:
    kit, poco = scenario("kit"), scenario("poco")
    return [(name, kit[name], poco[name]) for name in kit]


def main() -> None:
    print("Gas per operation: the kit's hub vs iExec's published PoCo 6.1.0, same client, one run")
    print(f"{'operation':36} {'kit gas':>11} {'PoCo 6.1.0':>11} {'kit/PoCo':>9}")
    for name, kit, poco in measure():
        print(f"{name:36} {kit:>11,} {poco:>11,} {kit / poco:>9.2f}")


if __name__ == "__main__":
    main()
