"""The result proxy refuses every bad upload and serves private results to the beneficiary only.

The chain is a StaticTaskOracle here: a stand-in until the PoCo contracts land (the proxy only
sees the TaskOracle interface, which the chain-backed oracle will implement)."""

from __future__ import annotations

import io
import json
import time
import zipfile

import pytest
import requests
from eth_account import Account

from iexec_kit.protocol.results import result_hash
from iexec_kit.protocol.statuses import ContributionStatus, TaskStatus
from iexec_kit.storage.auth import Authenticator, challenge_typed_data, sign_challenge
from iexec_kit.storage.encryption import decrypt_result, encrypt_result, generate_beneficiary_keys
from iexec_kit.storage.errors import (
    BlockNotFoundError,
    ProxyAuthError,
    ResultNotFoundError,
    UploadRejectedError,
)
from iexec_kit.storage.oracle import ContributionView, StaticTaskOracle, TaskView
from iexec_kit.storage.proxy import (
    HashMismatchError,
    NotBeneficiaryError,
    PayloadTooLargeError,
    ResultProxy,
    ResultProxyClient,
    UnknownTaskError,
    UploadConflictError,
    sign_upload,
)
from iexec_kit.storage.results import result_digest, zip_result

CHAIN_ID = 65535
TASK = "0x" + "7a" * 32
REQUESTER = Account.from_key("0x" + "11" * 32)
BENEFICIARY = Account.from_key("0x" + "22" * 32)
WORKER = Account.from_key("0x" + "33" * 32)
OTHER_WORKER = Account.from_key("0x" + "44" * 32)


class Clock:
    def __init__(self):
        self.now = time.time()

    def __call__(self):
        return self.now


def _result(tmp_path, content: bytes = b"cartoon bytes") -> tuple[bytes, str]:
    out = tmp_path / f"iexec_out_{len(content)}_{content[:4].hex()}"
    out.mkdir()
    (out / "cartoon.png").write_bytes(content)
    (out / "computed.json").write_text(
        json.dumps({"deterministic-output-path": "/iexec_out/cartoon.png"})
    )
    return zip_result(out), result_digest(out)


@pytest.fixture
def world(tmp_path):
    from iexec_kit.storage.node import IpfsNode

    archive, digest = _result(tmp_path)
    rhash = result_hash(TASK, digest)
    oracle = StaticTaskOracle()  # stand-in until the PoCo contracts land
    oracle.set_task(
        TaskView(
            TASK,
            TaskStatus.REVEALING,
            REQUESTER.address,
            BENEFICIARY.address,
            consensus_value=rhash,
        )
    )
    oracle.set_contribution(
        TASK, WORKER.address, ContributionView(ContributionStatus.PROVED, rhash)
    )
    oracle.set_contribution(
        TASK, OTHER_WORKER.address, ContributionView(ContributionStatus.CONTRIBUTED, rhash)
    )
    clock = Clock()
    node = IpfsNode(tmp_path / "ipfs")
    proxy = ResultProxy(
        oracle,
        node,
        tmp_path / "proxy",
        chain_id=CHAIN_ID,
        max_upload_bytes=200_000,
        auth=Authenticator(CHAIN_ID, clock=clock, token_ttl=600),
    )
    with proxy:
        client = ResultProxyClient(proxy.url, chain_id=CHAIN_ID)
        token = client.login(REQUESTER.key)
        yield type(
            "World",
            (),
            dict(
                proxy=proxy,
                client=client,
                token=token,
                oracle=oracle,
                node=node,
                archive=archive,
                digest=digest,
                clock=clock,
                tmp=tmp_path,
            ),
        )
    assert not proxy.server.running


def _nothing_stored(w):
    assert not w.proxy.has_result(TASK)


def test_a_revealed_worker_uploads_and_it_is_pinned(world):
    w = world
    receipt = w.client.upload(w.token, TASK, w.archive, WORKER.key)
    assert receipt.storage == "ipfs" and receipt.location == f"/ipfs/{receipt.cid}"
    assert w.node.add_bytes(w.archive, only_hash=True) == receipt.cid
    assert w.node.pin_ls()[receipt.cid] == "recursive"
    assert w.node.cat(receipt.cid) == w.archive
    assert json.loads(receipt.results) == {"storage": "ipfs", "location": receipt.location}
    assert w.client.download(w.token, TASK) == w.archive
    with pytest.raises(UploadConflictError, match="already uploaded"):
        w.client.upload(w.token, TASK, w.archive, WORKER.key)


@pytest.mark.parametrize("status", [TaskStatus.ACTIVE, TaskStatus.COMPLETED, TaskStatus.FAILED])
def test_refused_unless_task_is_revealing(world, status):
    world.oracle.set_status(TASK, status)
    with pytest.raises(UploadConflictError, match="not REVEALING"):
        world.client.upload(world.token, TASK, world.archive, WORKER.key)
    _nothing_stored(world)


def test_refused_for_a_worker_that_did_not_reveal(world):
    with pytest.raises(UploadConflictError, match="not revealed"):
        world.client.upload(world.token, TASK, world.archive, OTHER_WORKER.key)
    _nothing_stored(world)


def test_refused_when_the_result_hash_differs(world):
    forged, _ = _result(world.tmp, b"another image")
    with pytest.raises(HashMismatchError, match="does not match"):
        world.client.upload(world.token, TASK, forged, WORKER.key)
    with pytest.raises(HashMismatchError):
        world.client.upload(world.token, TASK, b"not a zip at all", WORKER.key)
    _nothing_stored(world)


def test_refused_when_the_worker_signature_is_not_the_workers(world):
    w = world
    for signature in [sign_upload(TASK, w.archive, OTHER_WORKER.key), "0x1234", ""]:
        res = requests.post(
            f"{w.proxy.url}/v1/results/{TASK}",
            data=w.archive,
            timeout=10,
            headers={
                "Authorization": w.token,
                "X-Worker": WORKER.address,
                "X-Worker-Signature": signature,
            },
        )
        assert res.status_code == 403, res.text
    signed_for_other_zip = sign_upload(TASK, w.archive + b"x", WORKER.key)
    res = requests.post(
        f"{w.proxy.url}/v1/results/{TASK}",
        data=w.archive,
        timeout=10,
        headers={
            "Authorization": w.token,
            "X-Worker": WORKER.address,
            "X-Worker-Signature": signed_for_other_zip,
        },
    )
    assert res.status_code == 403
    _nothing_stored(w)


def test_refused_for_an_unknown_task(world):
    with pytest.raises(UnknownTaskError):
        world.proxy.accept_upload(
            world.token,
            "0x" + "00" * 32,
            WORKER.address,
            sign_upload("0x" + "00" * 32, world.archive, WORKER.key),
            world.archive,
        )
    with pytest.raises(ResultNotFoundError):
        world.client.upload(world.token, "0x" + "00" * 32, world.archive, WORKER.key)


def test_refused_over_the_size_limit(world):
    w = world
    big = b"\0" * 250_000
    with pytest.raises(PayloadTooLargeError):
        w.client.upload(w.token, TASK, big, WORKER.key)

    def chunks():  # no Content-Length: the proxy counts while reading
        for _ in range(25):
            yield b"\0" * 10_000

    res = requests.post(
        f"{w.proxy.url}/v1/results/{TASK}",
        data=chunks(),
        timeout=10,
        headers={
            "Authorization": w.token,
            "X-Worker": WORKER.address,
            "X-Worker-Signature": "0x00",
        },
    )
    assert res.status_code == 413
    _nothing_stored(w)


def test_refused_with_bad_tokens(world):
    w = world
    other_proxy = Authenticator(CHAIN_ID)
    foreign = other_proxy.login(sign_challenge(other_proxy.issue_challenge(), REQUESTER.key))
    for token in ["", "garbage", w.token + "x", foreign]:
        with pytest.raises(ProxyAuthError):
            w.client.upload(token, TASK, w.archive, WORKER.key)
    beneficiary_token = w.client.login(BENEFICIARY.key)
    with pytest.raises(UploadRejectedError, match="requester"):
        w.client.upload(beneficiary_token, TASK, w.archive, WORKER.key)
    w.clock.now += 601  # the token has expired
    with pytest.raises(ProxyAuthError, match="expired"):
        w.proxy.accept_upload(
            w.token, TASK, WORKER.address, sign_upload(TASK, w.archive, WORKER.key), w.archive
        )
    with pytest.raises(ProxyAuthError):
        w.client.upload(w.token, TASK, w.archive, WORKER.key)
    _nothing_stored(w)


def test_challenges_are_single_use_signed_and_expiring(world):
    w = world
    url = w.proxy.url
    typed = requests.get(
        f"{url}/results/challenge", params={"chainId": CHAIN_ID}, timeout=10
    ).json()
    assert typed["domain"] == {
        "name": "iExec Result Repository",
        "version": "1",
        "chainId": CHAIN_ID,
    }
    assert typed["types"]["Challenge"] == [{"name": "challenge", "type": "string"}]
    login = sign_challenge(typed, REQUESTER.key)
    digest, signature, address = login.split("_")

    def post(body):
        return requests.post(
            f"{url}/results/login", params={"chainId": CHAIN_ID}, data=body, timeout=10
        )

    # signed by someone else than the address claimed -> refused, and the challenge is burnt
    forged = sign_challenge(typed, OTHER_WORKER.key).split("_")[1]
    assert post(f"{digest}_{forged}_{address}").status_code == 401
    assert post(login).status_code == 401  # burnt by the failed attempt
    typed = requests.get(
        f"{url}/results/challenge", params={"chainId": CHAIN_ID}, timeout=10
    ).json()
    login = sign_challenge(typed, REQUESTER.key)
    assert post(login).status_code == 200
    assert post(login).status_code == 401  # replayed
    never_issued = sign_challenge(challenge_typed_data("0x" + "00" * 32, CHAIN_ID), REQUESTER.key)
    assert post(never_issued).status_code == 401
    assert post("not-a-login").status_code == 401
    typed = requests.get(
        f"{url}/results/challenge", params={"chainId": CHAIN_ID}, timeout=10
    ).json()
    w.clock.now += 301
    assert post(sign_challenge(typed, REQUESTER.key)).status_code == 401  # expired
    assert (
        requests.get(f"{url}/results/challenge", params={"chainId": 1}, timeout=10).status_code
        == 401
    )


def test_private_results_only_for_the_beneficiary(world):
    w = world
    w.oracle.set_task(
        TaskView(
            TASK,
            TaskStatus.REVEALING,
            REQUESTER.address,
            BENEFICIARY.address,
            storage_provider="dropbox",
        )
    )
    w.oracle.set_contribution(
        TASK,
        WORKER.address,
        ContributionView(ContributionStatus.PROVED, result_hash(TASK, w.digest)),
    )
    receipt = w.client.upload(w.token, TASK, w.archive, WORKER.key)
    assert receipt.storage == "dropbox" and receipt.cid is None
    with pytest.raises(BlockNotFoundError):  # not on IPFS
        w.node.cat(w.node.add_bytes(w.archive, only_hash=True))
    with pytest.raises(NotBeneficiaryError):
        w.client.download(w.token, TASK)  # the requester is not the beneficiary
    with pytest.raises(ProxyAuthError):
        w.client.download("", TASK)
    assert w.client.download(w.client.login(BENEFICIARY.key), TASK) == w.archive


def test_encrypted_results_travel_opaque_and_open_for_the_beneficiary(world):
    w = world
    keys = generate_beneficiary_keys(w.tmp / "secrets", BENEFICIARY.address)
    sealed = encrypt_result(w.archive, keys.public)
    w.oracle.set_task(
        TaskView(TASK, TaskStatus.REVEALING, REQUESTER.address, BENEFICIARY.address, encrypted=True)
    )
    receipt = w.client.upload(w.token, TASK, sealed, WORKER.key)
    fetched = w.node.cat(receipt.cid)
    assert fetched == sealed
    assert decrypt_result(fetched, keys.private) == w.archive
    with zipfile.ZipFile(io.BytesIO(fetched)) as zf:
        assert "computed.json" not in zf.namelist()


def test_head_says_whether_a_result_exists(world):
    w = world
    url = f"{w.proxy.url}/results/{TASK}"
    assert requests.head(url, headers={"Authorization": w.token}, timeout=10).status_code == 404
    w.client.upload(w.token, TASK, w.archive, WORKER.key)
    assert requests.head(url, headers={"Authorization": w.token}, timeout=10).status_code == 204
    assert requests.head(url, timeout=10).status_code == 401


def test_tokens_outlive_a_restart_of_the_same_proxy_only(tmp_path):
    from iexec_kit.storage.node import IpfsNode

    node, oracle = IpfsNode(tmp_path / "ipfs"), StaticTaskOracle()
    with ResultProxy(oracle, node, tmp_path / "proxy", chain_id=CHAIN_ID) as first:
        token = ResultProxyClient(first.url, chain_id=CHAIN_ID).login(REQUESTER.key)
    again = ResultProxy(oracle, node, tmp_path / "proxy", chain_id=CHAIN_ID)
    assert again.auth.verify(token).address == REQUESTER.address
    other = ResultProxy(oracle, node, tmp_path / "other", chain_id=CHAIN_ID)
    with pytest.raises(ProxyAuthError):
        other.auth.verify(token)


@pytest.mark.parametrize("taskid", ["nothex", "0x1234", "0x" + "zz" * 32])
def test_malformed_task_ids_are_400(world, taskid):
    res = requests.post(
        f"{world.proxy.url}/v1/results/{taskid}",
        data=world.archive,
        timeout=10,
        headers={
            "Authorization": world.token,
            "X-Worker": WORKER.address,
            "X-Worker-Signature": "0x00",
        },
    )
    assert res.status_code == 400
    res = requests.get(
        f"{world.proxy.url}/results/{taskid}", timeout=10, headers={"Authorization": world.token}
    )
    assert res.status_code == 400
