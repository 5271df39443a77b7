"""The kit's SMS: web2 secrets pushed signed by their owner over real HTTP (127.0.0.1), checked
for existence only, read in-process by a worker of the task; and the kit's workers uploading
with the requester's token from it."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
import requests
from eth_account import Account

from iexec_kit.protocol.results import result_hash
from iexec_kit.protocol.statuses import ContributionStatus, TaskStatus
from iexec_kit.storage.errors import ApiArgumentError
from iexec_kit.storage.oracle import ContributionView, StaticTaskOracle, TaskView
from iexec_kit.storage.results import result_digest, zip_result
from iexec_kit.storage.service import LocalStorage
from iexec_kit.storage.sms import (
    RESULT_ENCRYPTION_PUBLIC_KEY,
    RESULT_IPFS_TOKEN,
    SECRET_MAX_SIZE,
    SecretAuthError,
    SecretExistsError,
    SecretNotFoundError,
    Sms,
    SmsClient,
    WorkerNotAuthorizedError,
    sign_web2_secret,
    sign_worker_read,
    web2_challenge,
)

OWNER = Account.from_key("0x" + "c1" * 32)
INTRUDER = Account.from_key("0x" + "d2" * 32)
WORKER = Account.from_key("0x" + "e3" * 32)
TASK = "0x" + "4b" * 32


@pytest.fixture(scope="module")
def small_png(tmp_path_factory):
    """A 48x32 PNG (the demo's app runs fast on it)."""
    import numpy as np
    from PIL import Image

    y, x = np.mgrid[0:32, 0:48]
    rgb = np.stack([(x * 5) % 256, (y * 8) % 256, ((x + y) * 3) % 256], axis=-1).astype("uint8")
    path = tmp_path_factory.mktemp("img") / "small.png"
    Image.fromarray(rgb).save(path)
    return path


@pytest.fixture
def sms(tmp_path):
    with Sms(tmp_path / "sms") as server:
        yield server


def _post(sms, owner, name, value, authorization, method="POST"):
    return requests.request(
        method,
        f"{sms.url}/secrets/web2",
        params={"ownerAddress": owner, "secretName": name},
        data=value.encode(),
        headers={"Authorization": authorization, "Content-Type": "text/plain"},
        timeout=10,
    )


def _head(sms, owner, name) -> int:
    res = requests.head(
        f"{sms.url}/secrets/web2",
        params={"ownerAddress": owner, "secretName": name},
        timeout=10,
    )
    return res.status_code


def test_challenge_is_iexec_sms_layout():
    """keccak(keccak(domain) ++ owner ++ keccak(name) ++ keccak(value)), computed by hand."""
    from eth_utils import keccak

    expected = keccak(
        keccak(b"IEXEC_SMS_DOMAIN")
        + bytes.fromhex(OWNER.address[2:])
        + keccak(b"iexec-result-iexec-ipfs-token")
        + keccak(b"tok")
    )
    assert web2_challenge(OWNER.address, RESULT_IPFS_TOKEN, "tok") == expected
    assert web2_challenge(OWNER.address.lower(), RESULT_IPFS_TOKEN, "tok") == expected


def test_push_then_check_existence(sms):
    client = SmsClient(sms.url)
    assert _head(sms, OWNER.address, RESULT_IPFS_TOKEN) == 404
    assert not client.has_web2_secret(OWNER.address, RESULT_IPFS_TOKEN)
    pushed = client.push_web2_secret(OWNER.key, RESULT_IPFS_TOKEN, "token-1")
    assert pushed.pushed and not pushed.updated
    assert _head(sms, OWNER.address, RESULT_IPFS_TOKEN) == 204
    # owner and name are case-insensitive, as iexec-sms lowercases both
    assert client.has_web2_secret(OWNER.address.lower(), RESULT_IPFS_TOKEN.upper())
    assert not client.has_web2_secret(INTRUDER.address, RESULT_IPFS_TOKEN)
    assert not client.has_web2_secret(OWNER.address, RESULT_ENCRYPTION_PUBLIC_KEY)
    assert sms.web2_secret(OWNER.address, RESULT_IPFS_TOKEN) == "token-1"


def test_no_route_returns_a_secret(sms):
    SmsClient(sms.url).push_web2_secret(OWNER.key, RESULT_IPFS_TOKEN, "very-secret-token")
    params = {"ownerAddress": OWNER.address, "secretName": RESULT_IPFS_TOKEN}
    res = requests.get(f"{sms.url}/secrets/web2", params=params, timeout=10)
    assert res.status_code == 405 and "very-secret-token" not in res.text
    head = requests.head(f"{sms.url}/secrets/web2", params=params, timeout=10)
    assert head.status_code == 204 and head.content == b""


@pytest.mark.parametrize("how", ["stranger", "other_secret", "replay_other_value", "garbage"])
def test_push_not_signed_by_the_owner_is_refused_and_nothing_stored(sms, how):
    client = SmsClient(sms.url)
    client.push_web2_secret(OWNER.key, "note", "first")  # a signature to replay
    old_signature = sign_web2_secret(OWNER.key, "note", "first")
    authorization = {
        "stranger": sign_web2_secret(INTRUDER.key, RESULT_IPFS_TOKEN, "evil"),
        "other_secret": sign_web2_secret(OWNER.key, "note", "evil"),
        "replay_other_value": old_signature,
        "garbage": "0x1234",
    }[how]
    res = _post(sms, OWNER.address, RESULT_IPFS_TOKEN, "evil", authorization)
    assert res.status_code == 401
    body = res.json()
    assert body["status"] == 401 and body["error"] == "Unauthorized"
    assert body["path"] == "/secrets/web2" and "owner did not sign" in body["message"]
    assert _head(sms, OWNER.address, RESULT_IPFS_TOKEN) == 404
    # the replayed signature cannot change the secret it was made for, either
    res = _post(sms, OWNER.address, "note", "evil", old_signature, method="PUT")
    assert res.status_code == 401
    with pytest.raises(SecretAuthError):  # the same check in-process
        sms.add_web2_secret(OWNER.address, RESULT_IPFS_TOKEN, "evil", authorization)
    assert sms.web2_secret(OWNER.address, RESULT_IPFS_TOKEN) is None
    assert sms.web2_secret(OWNER.address, "note") == "first"
    assert "evil" not in sms.path.read_text()


def test_update_rules_as_iexec(sms):
    name, key = RESULT_IPFS_TOKEN, OWNER.key
    # PUT of a secret that does not exist: 404
    res = _post(sms, OWNER.address, name, "v1", sign_web2_secret(key, name, "v1"), "PUT")
    assert res.status_code == 404 and _head(sms, OWNER.address, name) == 404
    # POST adds (204), a second POST is a conflict (409) and changes nothing
    assert (
        _post(sms, OWNER.address, name, "v1", sign_web2_secret(key, name, "v1")).status_code == 204
    )
    res = _post(sms, OWNER.address, name, "v2", sign_web2_secret(key, name, "v2"))
    assert res.status_code == 409 and sms.web2_secret(OWNER.address, name) == "v1"
    # PUT, signed for the new value, updates (204)
    res = _post(sms, OWNER.address, name, "v2", sign_web2_secret(key, name, "v2"), "PUT")
    assert res.status_code == 204 and sms.web2_secret(OWNER.address, name) == "v2"
    # the client, as the SDK: no update without force_update, an update with it
    client = SmsClient(sms.url)
    with pytest.raises(SecretExistsError):
        client.push_web2_secret(key, name, "v3")
    assert client.push_web2_secret(key, name, "v3", force_update=True).updated
    assert sms.web2_secret(OWNER.address, name) == "v3"


def test_size_limit_and_bad_arguments(sms):
    big = "x" * (SECRET_MAX_SIZE + 1)
    res = _post(sms, OWNER.address, "big", big, sign_web2_secret(OWNER.key, "big", big))
    assert res.status_code == 413 and _head(sms, OWNER.address, "big") == 404
    ok = "x" * SECRET_MAX_SIZE
    assert (
        _post(sms, OWNER.address, "ok", ok, sign_web2_secret(OWNER.key, "ok", ok)).status_code
        == 204
    )
    assert _head(sms, "not-an-address", "ok") == 400
    res = requests.post(
        f"{sms.url}/secrets/web2",
        params={"ownerAddress": OWNER.address, "secretName": "n"},
        data=b"v",
        timeout=10,
    )
    assert res.status_code == 400 and "Authorization" in res.json()["message"]
    res = requests.head(f"{sms.url}/secrets/web2", params={"secretName": "n"}, timeout=10)
    assert res.status_code == 400
    with pytest.raises(ApiArgumentError):
        SmsClient(sms.url).has_web2_secret("0x12", "n")


def test_secrets_file_is_0600_and_survives_a_restart(tmp_path):
    folder = tmp_path / "sms"
    with Sms(folder) as sms:
        SmsClient(sms.url).push_web2_secret(OWNER.key, RESULT_IPFS_TOKEN, "kept")
        assert stat.S_IMODE(sms.path.stat().st_mode) == 0o600
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    with Sms(folder) as again:
        assert SmsClient(again.url).has_web2_secret(OWNER.address, RESULT_IPFS_TOKEN)
    memory = Sms(None)
    memory.push_web2_secret(OWNER.key, RESULT_IPFS_TOKEN, "in memory")
    assert memory.path is None and memory.web2_secret(OWNER.address, RESULT_IPFS_TOKEN)
    assert not Sms(None).has_web2_secret(OWNER.address, RESULT_IPFS_TOKEN)


def _task_world(tmp_path, status=TaskStatus.REVEALING, contributed=True):
    out = tmp_path / "iexec_out"
    out.mkdir(exist_ok=True)
    (out / "result.txt").write_text("hello")
    (out / "computed.json").write_text(
        json.dumps({"deterministic-output-path": "/iexec_out/result.txt"})
    )
    archive, digest = zip_result(out), result_digest(out)
    oracle = StaticTaskOracle()
    oracle.set_task(TaskView(TASK, status, OWNER.address, OWNER.address))
    if contributed:
        oracle.set_contribution(
            TASK,
            WORKER.address,
            ContributionView(ContributionStatus.PROVED, result_hash(TASK, digest)),
        )
    return oracle, archive


def test_a_worker_reads_the_task_requesters_token_only(tmp_path):
    oracle, _ = _task_world(tmp_path)
    sms = Sms(None, oracle=oracle)
    sms.push_web2_secret(OWNER.key, RESULT_IPFS_TOKEN, "the-token")
    sms.push_web2_secret(OWNER.key, "private-note", "not for workers")
    read = sign_worker_read(TASK, RESULT_IPFS_TOKEN, WORKER.key)
    assert sms.web2_secret_for_task(TASK, RESULT_IPFS_TOKEN, WORKER.address, read) == "the-token"
    with pytest.raises(WorkerNotAuthorizedError, match="only the storage token"):
        sms.web2_secret_for_task(
            TASK, "private-note", WORKER.address, sign_worker_read(TASK, "private-note", WORKER.key)
        )
    # someone else claiming to be the worker, with their own signature
    with pytest.raises(WorkerNotAuthorizedError, match="signature"):
        sms.web2_secret_for_task(
            TASK,
            RESULT_IPFS_TOKEN,
            WORKER.address,
            sign_worker_read(TASK, RESULT_IPFS_TOKEN, INTRUDER.key),
        )
    # a real signature, but from a worker that never contributed
    with pytest.raises(WorkerNotAuthorizedError, match="not contributed"):
        sms.web2_secret_for_task(
            TASK,
            RESULT_IPFS_TOKEN,
            INTRUDER.address,
            sign_worker_read(TASK, RESULT_IPFS_TOKEN, INTRUDER.key),
        )
    oracle.set_status(TASK, TaskStatus.COMPLETED)
    with pytest.raises(WorkerNotAuthorizedError, match="not running"):
        sms.web2_secret_for_task(TASK, RESULT_IPFS_TOKEN, WORKER.address, read)
    other = "0x" + "99" * 32
    with pytest.raises(WorkerNotAuthorizedError, match="no such task"):
        sms.web2_secret_for_task(
            other,
            RESULT_IPFS_TOKEN,
            WORKER.address,
            sign_worker_read(other, RESULT_IPFS_TOKEN, WORKER.key),
        )


def test_worker_uploads_with_the_token_from_the_sms(tmp_path):
    oracle, archive = _task_world(tmp_path)
    with LocalStorage(tmp_path / "storage", oracle=oracle, chain_id=65535, sms=True) as storage:
        # no storage init yet: the upload says whose token is missing and what to do
        with pytest.raises(SecretNotFoundError) as missing:
            storage.upload(OWNER.address, TASK, archive, WORKER.key)
        text = str(missing.value)
        assert f"The requester {OWNER.address} pushed no result-proxy token to the SMS" in text
        assert "storage init" in text
        assert not storage.proxy.has_result(TASK)
        storage.storage_init(OWNER.key)
        # the token went to the SMS, not to tokens.json
        assert not (tmp_path / "storage" / "tokens.json").exists()
        assert SmsClient(storage.sms.url).has_web2_secret(OWNER.address, RESULT_IPFS_TOKEN)
        token = storage.sms.web2_secret(OWNER.address, RESULT_IPFS_TOKEN)
        assert storage.proxy.auth.verify(token).address == OWNER.address
        receipt = storage.upload(OWNER.address, TASK, archive, WORKER.key)
        assert storage.proxy.has_result(TASK) and storage.fetch(receipt.location) == archive
    assert not storage.sms.server.running


def test_worker_encrypts_with_the_beneficiarys_key_from_the_sms(tmp_path):
    oracle, _ = _task_world(tmp_path)
    with LocalStorage(tmp_path / "storage", oracle=oracle, chain_id=65535, sms=True) as storage:
        with pytest.raises(SecretNotFoundError, match="pushed no result encryption key") as e:
            storage.result_encryption_key(OWNER.address, TASK, WORKER.key)
        assert "push-encryption-key" in str(e.value)
        pair = storage.beneficiary_keys(OWNER.address, bits=2048, wallet_key=OWNER.key)
        assert SmsClient(storage.sms.url).has_web2_secret(
            OWNER.address, RESULT_ENCRYPTION_PUBLIC_KEY
        )
        pem = storage.result_encryption_key(OWNER.address, TASK, WORKER.key)
        assert pem == pair.public.read_bytes()
        with pytest.raises(WorkerNotAuthorizedError):  # not a worker of the task
            storage.result_encryption_key(OWNER.address, TASK, INTRUDER.key)


def test_demo_runs_with_the_sms_as_the_token_source(tmp_path, small_png):
    """The kit's real workers on the in-process chain: the requester's token reaches the
    uploading worker through the SMS (tokens.json is never written)."""
    from iexec_kit.actors.events import ResultUploaded
    from iexec_kit.sandbox import Sandbox
    from iexec_kit.storage.chain_oracle import HubTaskOracle
    from iexec_kit.tutorial.demo import DemoConfig, run_demo

    with Sandbox.start(workers=1, folder=tmp_path / "sb") as sb:
        sb._storage = LocalStorage(
            sb.folder / "storage",
            oracle=HubTaskOracle(sb.hub),
            chain_id=sb.chain.chain_id,
            sms=True,
        ).start()
        # the beneficiary (the requester here) pushes its public key, as `iexec result
        # push-encryption-key`; the worker encrypts with the key it reads from the SMS
        sb.storage.beneficiary_keys(sb.requester.address, bits=2048, wallet_key=sb.requester.key)
        report = run_demo(
            DemoConfig(workers=1, trust=1, engine="numpy", input=str(small_png), encrypt=True),
            sandbox=sb,
        )
        assert report.ok, report.summary
        assert report.stream.of(ResultUploaded)
        assert sb.storage.sms.web2_secret(sb.requester.address, RESULT_IPFS_TOKEN)
        assert not (sb.folder / "storage" / "tokens.json").exists()


SDK_SCRIPT = Path(__file__).with_name("sdk_sms.mjs")
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def hardhat_url():
    import shutil

    from iexec_kit.chain.devnode import HardhatNode, find_hardhat
    from iexec_kit.errors import DependencyMissingError

    if shutil.which("node") is None or not (REPO / "node_modules" / "iexec").is_dir():
        pytest.skip("node or node_modules/iexec is missing: run `npm ci`")
    try:
        find_hardhat()
    except DependencyMissingError as exc:
        pytest.skip(f"{str(exc).splitlines()[0]}: run `npm ci`")
    with HardhatNode() as node:
        yield node.url


@pytest.fixture
def kit_on_hardhat(hardhat_url):
    """A sandbox on the Hardhat node whose storage has an SMS: ``(sandbox, storage)``."""
    from iexec_kit.sandbox import Sandbox
    from iexec_kit.storage.chain_oracle import HubTaskOracle

    with Sandbox.start(workers=1, chain_url=hardhat_url) as sb:
        sb._storage = LocalStorage(
            sb.folder / "storage",
            oracle=HubTaskOracle(sb.hub),
            chain_id=sb.chain.chain_id,
            sms=True,
        ).start()
        yield sb, sb._storage


def test_iexec_cli_storage_init_and_push_encryption_key(kit_on_hardhat, hardhat_url, tmp_path):
    """iExec's CLI (``node_modules/.bin/iexec`` 8.24.0) with a chain.json naming the kit's hub,
    SMS and result proxy: ``iexec storage check``, ``storage init`` (login + push), ``storage
    init`` again (refused: already initialized), ``storage init --force-update`` (PUT),
    ``result generate-encryption-keypair``, ``result push-encryption-key``, ``result
    check-encryption-key``."""
    import subprocess

    from iexec_kit.storage.sms import decode_public_key

    sb, storage = kit_on_hardhat
    who = sb.app_developer  # any wallet: the SMS keeps secrets per owner
    (tmp_path / "chain.json").write_text(
        json.dumps(
            {
                "default": "kit",
                "chains": {
                    "kit": {
                        "id": str(sb.chain.chain_id),
                        "host": hardhat_url,
                        "hub": sb.deployment.hub,
                        "sms": storage.sms.url,
                        "resultProxy": storage.proxy_url,
                    }
                },
            }
        )
    )
    (tmp_path / "wallet.json").write_text(
        json.dumps({"privateKey": "0x" + who.key.hex(), "address": who.address})
    )

    def iexec(*args) -> dict:
        run = subprocess.run(
            [str(REPO / "node_modules" / ".bin" / "iexec"), *args, "--raw"],
            cwd=tmp_path,
            capture_output=True,
            timeout=120,
        )
        return json.loads(run.stdout or run.stderr)

    assert iexec("storage", "check") == {"ok": True, "isInitialized": False}
    assert iexec("storage", "init") == {"ok": True, "isInitialized": True, "isUpdated": False}
    assert iexec("storage", "check") == {"ok": True, "isInitialized": True}
    first = storage.sms.web2_secret(who.address, RESULT_IPFS_TOKEN)
    assert storage.proxy.auth.verify(first).address == who.address
    again = iexec("storage", "init")
    assert again["ok"] is False and "already initialized" in again["error"]["message"]
    assert storage.sms.web2_secret(who.address, RESULT_IPFS_TOKEN) == first
    forced = iexec("storage", "init", "--force-update")
    assert forced == {"ok": True, "isInitialized": True, "isUpdated": True}
    assert storage.sms.web2_secret(who.address, RESULT_IPFS_TOKEN) != first
    keys = iexec("result", "generate-encryption-keypair")
    assert keys["ok"], keys
    assert iexec("result", "push-encryption-key") == {
        "ok": True,
        "isPushed": True,
        "isUpdated": False,
    }
    assert iexec("result", "check-encryption-key") == {"ok": True, "isEncryptionKeySet": True}
    pushed = storage.sms.web2_secret(who.address, RESULT_ENCRYPTION_PUBLIC_KEY)
    public = Path(keys["secretPath"]) / keys["publicKeyFile"]
    assert decode_public_key(pushed) == public.read_bytes()


def test_iexec_sdk_storage_init_and_encryption_key_against_the_kit(
    kit_on_hardhat, hardhat_url, small_png
):
    """iExec's own SDK (npm ``iexec`` 8.24.0) against the kit on a Hardhat dev node, through
    ``tests/storage/sdk_sms.mjs``. SDK calls exercised: ``iexec.storage.defaultStorageLogin()``
    (the kit's result proxy: GET /results/challenge, POST /results/login),
    ``iexec.storage.checkStorageTokenExists(address)`` (HEAD /secrets/web2, before and after, and
    for another address), ``iexec.storage.pushStorageToken(token)`` (POST), again without
    forceUpdate (refused by the SDK after its HEAD), and with ``{forceUpdate: true}`` (PUT),
    ``iexec.result.pushResultEncryptionKey(pem)`` and
    ``iexec.result.checkResultEncryptionKeyExists(address)``. Then the kit's workers run the
    demo for that requester and upload with the token the SDK pushed (the kit's own storage
    init is switched off, so no other token exists), encrypting the result with the key the SDK
    pushed."""
    import base64
    import subprocess

    from iexec_kit.actors.events import ResultUploaded
    from iexec_kit.tutorial.demo import DemoConfig, run_demo

    sb, storage = kit_on_hardhat
    requester = sb.requester
    pem = storage.beneficiary_keys(requester.address, bits=2048).public.read_text()
    cfg = {
        "rpcUrl": hardhat_url,
        "privateKey": "0x" + requester.key.hex(),
        "hubAddress": sb.deployment.hub,
        "smsURL": storage.sms.url,
        "resultProxyURL": storage.proxy_url,
        "publicKeyPem": pem,
    }
    run = subprocess.run(
        ["node", str(SDK_SCRIPT)],
        input=json.dumps(cfg).encode(),
        capture_output=True,
        cwd=REPO,
        timeout=180,
    )
    assert run.returncode == 0, run.stderr.decode()[-2000:]
    out = json.loads(run.stdout)
    assert out["address"] == requester.address
    assert out["tokenExistsBefore"] is False and out["tokenExistsAfter"] is True
    assert out["push"] == {"isPushed": True, "isUpdated": False}
    assert "already exists" in out["pushAgain"]["error"]
    assert out["forcePush"] == {"isPushed": True, "isUpdated": True}
    assert out["keyExistsBefore"] is False and out["keyExistsAfter"] is True
    assert out["keyPush"] == {"isPushed": True, "isUpdated": False}
    assert out["otherExists"] is False
    # what the SMS holds is what the SDK sent: the proxy's token (the second, forced one)
    # and the key as the SDK formats it (base64 of the PEM)
    token = storage.sms.web2_secret(requester.address, RESULT_IPFS_TOKEN)
    assert token == out["token2"] != out["token"]
    assert storage.proxy.auth.verify(token).address == requester.address
    key = storage.sms.web2_secret(requester.address, RESULT_ENCRYPTION_PUBLIC_KEY)
    assert base64.b64decode(key).decode() == pem
    # the kit's workers encrypt with the key the SDK pushed and upload with the SDK's token:
    # no storage init of the kit's own
    storage.storage_init = lambda key: None  # the SDK did it, above
    report = run_demo(
        DemoConfig(workers=1, trust=1, engine="numpy", input=str(small_png), encrypt=True),
        sandbox=sb,
    )
    assert report.ok, report.summary
    assert report.stream.of(ResultUploaded)
    assert not (sb.folder / "storage" / "tokens.json").exists()


def test_a_worker_in_another_process_reads_its_tasks_token_over_http(tmp_path):
    """GET /secrets/web2/task: the same checks as the in-process read (workshop mode)."""
    from iexec_kit.storage.sms import SecretNotFoundError

    oracle, _ = _task_world(tmp_path)
    with Sms(None, oracle=oracle) as sms:
        client = SmsClient(sms.url)
        with pytest.raises(SecretNotFoundError):
            client.web2_secret_for_task(TASK, RESULT_IPFS_TOKEN, WORKER.key)
        sms.push_web2_secret(OWNER.key, RESULT_IPFS_TOKEN, "the-token")
        assert client.web2_secret_for_task(TASK, RESULT_IPFS_TOKEN, WORKER.key) == "the-token"
        with pytest.raises(WorkerNotAuthorizedError):  # never contributed to the task
            client.web2_secret_for_task(TASK, RESULT_IPFS_TOKEN, INTRUDER.key)
        forged = requests.get(
            f"{sms.url}/secrets/web2/task",
            params={
                "taskId": TASK,
                "secretName": RESULT_IPFS_TOKEN,
                "workerAddress": WORKER.address,
            },
            headers={"Authorization": sign_worker_read(TASK, RESULT_IPFS_TOKEN, INTRUDER.key)},
            timeout=10,
        )
        assert forged.status_code == 401 and "the-token" not in forged.text
