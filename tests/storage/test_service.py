"""LocalStorage: the whole storage set-up a Sandbox starts, used end to end."""

from __future__ import annotations

import json
import stat

import pytest
import requests
from eth_account import Account

from iexec_kit.protocol.results import result_hash
from iexec_kit.protocol.statuses import ContributionStatus, TaskStatus
from iexec_kit.storage.encryption import decrypt_result, encrypt_result
from iexec_kit.storage.errors import ProxyAuthError
from iexec_kit.storage.oracle import ContributionView, StaticTaskOracle, TaskView
from iexec_kit.storage.results import result_digest, unzip_result, zip_result
from iexec_kit.storage.service import LocalStorage

REQUESTER = Account.from_key("0x" + "a1" * 32)
WORKER = Account.from_key("0x" + "b2" * 32)
TASK = "0x" + "5e" * 32


def test_storage_set_up_upload_and_fetch(tmp_path):
    out = tmp_path / "iexec_out"
    out.mkdir()
    (out / "cartoon.png").write_bytes(b"\x89PNG\r\n\x1a\n fake")
    (out / "computed.json").write_text(
        json.dumps({"deterministic-output-path": "/iexec_out/cartoon.png"})
    )
    archive, digest = zip_result(out), result_digest(out)
    oracle = StaticTaskOracle()  # stand-in until the PoCo contracts land
    oracle.set_task(TaskView(TASK, TaskStatus.REVEALING, REQUESTER.address, REQUESTER.address))
    oracle.set_contribution(
        TASK, WORKER.address, ContributionView(ContributionStatus.PROVED, result_hash(TASK, digest))
    )
    with LocalStorage(tmp_path / "storage", oracle=oracle, chain_id=65535) as storage:
        with pytest.raises(ProxyAuthError, match="storage_init"):
            storage.upload(REQUESTER.address, TASK, archive, WORKER.key)
        storage.storage_init(REQUESTER.key)
        tokens = tmp_path / "storage" / "tokens.json"
        assert stat.S_IMODE(tokens.stat().st_mode) == 0o600
        receipt = storage.upload(REQUESTER.address, TASK, archive, WORKER.key)
        assert storage.fetch(receipt.location) == archive
        res = requests.get(f"{storage.gateway_url}{receipt.location}", timeout=10)
        assert res.content == archive and res.headers["content-type"] == "application/zip"
        back = unzip_result(storage.fetch(receipt.location), tmp_path / "downloaded")
        assert (back / "cartoon.png").read_bytes().startswith(b"\x89PNG")
        keys = storage.beneficiary_keys(REQUESTER.address, bits=2048)
        assert decrypt_result(encrypt_result(archive, keys.public), keys.private) == archive
    assert not storage.proxy.server.running and not storage.daemon.api_server.running


def test_start_twice_is_one_set_of_servers(tmp_path):
    storage = LocalStorage(tmp_path / "s", oracle=StaticTaskOracle(), chain_id=1).start()
    try:
        urls = (storage.gateway_url, storage.proxy_url)
        assert storage.start() is storage and (storage.gateway_url, storage.proxy_url) == urls
        assert storage.daemon.start() is storage.daemon and storage.proxy.start() is storage.proxy
    finally:
        storage.stop()
    assert not storage.daemon.api_server.running and not storage.proxy.server.running
    storage.stop()  # idempotent
