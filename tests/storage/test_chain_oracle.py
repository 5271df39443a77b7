"""The result proxy against the real PoCo contracts on the in-process chain: a worker
contributes and reveals for real, and the proxy consults the hub (HubTaskOracle)."""

from __future__ import annotations

import json

import pytest

from iexec_kit.protocol.statuses import ContributionStatus, TaskStatus
from iexec_kit.protocol.units import RLC
from iexec_kit.storage.chain_oracle import HubTaskOracle
from iexec_kit.storage.proxy import HashMismatchError, UploadConflictError
from iexec_kit.storage.results import result_digest, unzip_result, zip_result
from iexec_kit.storage.service import LocalStorage


def _output(folder, image: bytes):
    folder.mkdir()
    (folder / "cartoon.png").write_bytes(image)
    (folder / "computed.json").write_text(
        json.dumps({"deterministic-output-path": "/iexec_out/cartoon.png"})
    )
    return zip_result(folder), result_digest(folder)


class Flow:
    """One trust-1 task on the sandbox's real hub, through the kit's public poco API."""

    def __init__(self, sb):
        self.sb, self.hub = sb, sb.hub

    def task(self, params: str) -> str:
        from iexec_kit.poco.orders import AppOrder, RequestOrder, WorkerpoolOrder

        sb, hub = self.sb, self.hub
        sb.deposit(sb.requester, 20 * RLC)
        sb.deposit(sb.scheduler, 20 * RLC)
        for worker in sb.workers[:2]:  # a worker stakes when it contributes
            sb.deposit(worker, 5 * RLC)
        domain = hub.domain()
        app = AppOrder(app=sb.app_address, appprice=RLC, volume=1, salt=b"\x01" * 32).signed(
            sb.app_developer.key, domain
        )
        pool = WorkerpoolOrder(
            workerpool=sb.workerpool_address,
            workerpoolprice=RLC,
            volume=1,
            trust=1,
            category=0,
            salt=b"\x02" * 32,
        ).signed(sb.scheduler.key, domain)
        request = RequestOrder(
            app=sb.app_address,
            appmaxprice=RLC,
            workerpoolmaxprice=RLC,
            requester=sb.requester.address,
            volume=1,
            trust=1,
            category=0,
            beneficiary=sb.requester.address,
            params=params,
            salt=b"\x03" * 32,
        ).signed(sb.requester.key, domain)
        m = hub.match_orders(app, None, pool, request)
        taskid, _ = hub.initialize(m.dealid, m.deal.bot_first, sb.scheduler)
        return taskid

    def contribute(self, taskid, worker, digest):
        from iexec_kit.poco import sign_authorization

        auth = sign_authorization(self.sb.scheduler, worker.address, taskid)
        return self.hub.contribute(taskid, digest, worker, auth)


@pytest.fixture
def tk(sandbox):
    return Flow(sandbox)


@pytest.mark.parametrize("provider", ["ipfs", "dropbox"])
def test_upload_checked_against_the_hub(tk, tmp_path, provider):
    from iexec_kit.poco.orders import RequestParams

    sb, hub = tk.sb, tk.hub
    worker, bystander = sb.workers[0], sb.workers[1]
    taskid = tk.task(RequestParams(storage_provider=provider).to_json())
    archive, digest = _output(tmp_path / "iexec_out", b"\x89PNG honest cartoon")
    forged, _ = _output(tmp_path / "forged", b"\x89PNG another picture")
    oracle = HubTaskOracle(hub)
    with LocalStorage(tmp_path / "storage", oracle=oracle, chain_id=sb.chain.chain_id) as storage:
        storage.storage_init(sb.requester.key)
        assert oracle.task(taskid).status == TaskStatus.ACTIVE
        with pytest.raises(UploadConflictError, match="not REVEALING"):
            storage.upload(sb.requester.address, taskid, archive, worker.key)

        tk.contribute(taskid, worker, digest)  # trust 1: consensus at once -> REVEALING
        assert oracle.task(taskid).status == TaskStatus.REVEALING
        with pytest.raises(UploadConflictError, match="not revealed"):
            storage.upload(sb.requester.address, taskid, archive, worker.key)

        hub.reveal(taskid, digest, worker)
        assert oracle.contribution(taskid, worker.address).status == ContributionStatus.PROVED
        with pytest.raises(UploadConflictError, match="not revealed"):
            storage.upload(sb.requester.address, taskid, archive, bystander.key)
        with pytest.raises(HashMismatchError):
            storage.upload(sb.requester.address, taskid, forged, worker.key)

        receipt = storage.upload(sb.requester.address, taskid, archive, worker.key)
        assert receipt.storage == provider
        hub.finalize(taskid, receipt.results, sb.scheduler)
        task = hub.task(taskid)
        assert task.status == TaskStatus.COMPLETED and task.result_digest == digest
        location = task.results_json()["location"]
        token = storage.token_for(sb.requester.address)  # the requester is the beneficiary
        fetched = storage.fetch(location, token=token)
        assert fetched == archive
        assert result_digest(unzip_result(fetched, tmp_path / "downloaded")) == task.result_digest
        with pytest.raises(UploadConflictError):
            storage.upload(sb.requester.address, taskid, archive, worker.key)


def test_unknown_task_is_none(sandbox):
    assert HubTaskOracle(sandbox.hub).task("0x" + "00" * 32) is None


def test_the_deal_params_say_provider_and_encryption(tk):
    from iexec_kit.poco.orders import RequestParams

    taskid = tk.task(RequestParams(storage_provider="dropbox", encryption=True).to_json())
    view = HubTaskOracle(tk.hub).task(taskid)
    assert view.storage_provider == "dropbox" and view.encrypted
    assert view.requester == view.beneficiary == tk.sb.requester.address
    assert view.status == TaskStatus.ACTIVE
