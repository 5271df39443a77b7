"""``iexec-kit node --listen``: the node's services opened to a LAN, tested on 127.0.0.1.

One node runs for the module with ``listen="127.0.0.1"``: LAN mode as on a real LAN (a front per
service, the JSON-RPC filter before the chain, the workshop's token on every write), only bound
to the loopback address, as every test here must be. Its two worker processes get the fronts'
URLs (token joined) from the scheduler, so a deal they complete went through the filter and the
token checks. Then real HTTP requests probe each front: the chain's allow and deny lists (one
call and batches), the IPFS API's writes, the signature checks of the result proxy, the market
API and the SMS behind their fronts, the scheduler's front; and the sockets: the Hardhat node
listens on 127.0.0.1 only."""

from __future__ import annotations

import os

import pytest
import requests
from workshop_helpers import buy, logs, need_hardhat, wait_done, wait_for

from iexec_kit.chain.rpc_filter import NO_TOKEN_CODE, REFUSED_CODE
from iexec_kit.node import Node, NodeConfig
from iexec_kit.protocol.statuses import TaskStatus
from iexec_kit.storage.lan import join_token, split_token

# one node for the module (make test runs --dist loadfile: a file's tests share a process)
pytestmark = pytest.mark.xdist_group("workshop_lan")


@pytest.fixture(scope="module")
def node(tmp_path_factory):
    need_hardhat()
    folder = tmp_path_factory.mktemp("lan-node")
    n = Node(
        folder,
        port=None,
        config=NodeConfig(workers=2, workerpool="processes", listen="127.0.0.1", ping_timeout=5),
    ).start()
    try:
        yield n
    finally:
        n.stop()


def rpc(url: str, method: str, params=None, id_=1):
    body = {"jsonrpc": "2.0", "id": id_, "method": method, "params": params or []}
    res = requests.post(url, json=body, timeout=10)
    assert res.status_code == 200, res.text
    return res.json()


def test_a_deal_completes_through_the_lan_fronts(node):
    lan = node.lan
    token = lan.token
    # the worker processes are given the fronts' URLs, token joined (their calls go through them)
    assert node.pool.urls["chain"] == join_token(lan.url("chain"), token)
    assert node.pool.urls["result_proxy"] == join_token(lan.url("result_proxy"), token)
    assert node.info.sample_input.startswith(lan.url("ipfs") + "/ipfs/")
    wait_for(lambda: len(node.pool.view()["workers"]) == 2, 60, "2 workers registered")
    deal = buy(node, volume=1, trust=1)
    assert wait_done(node, deal, 120, what=lambda: logs(node)) == [TaskStatus.COMPLETED]
    refused = lan.services["chain"].front.refused
    assert not refused, f"the workers' calls were refused by the filter: {refused}"


@pytest.mark.parametrize(
    "method",
    ["eth_blockNumber", "eth_chainId", "eth_gasPrice", "net_version", "eth_accounts"],
)
def test_the_chain_front_answers_reads_without_a_token(node, method):
    answer = rpc(node.lan.url("chain"), method)
    assert "result" in answer and "error" not in answer, answer


@pytest.mark.parametrize(
    ("method", "params", "words"),
    [
        ("eth_sendTransaction", [{"from": "0x" + "11" * 20}], "unlocked accounts"),
        ("eth_sign", ["0x" + "11" * 20, "0x00"], "unlocked keys"),
        ("eth_signTypedData_v4", ["0x" + "11" * 20, "{}"], "unlocked keys"),
        ("personal_sign", ["0x00", "0x" + "11" * 20], "own accounts"),
        ("personal_unlockAccount", ["0x" + "11" * 20, ""], "own accounts"),
        ("hardhat_setBalance", ["0x" + "11" * 20, "0xffff"], "rewrites the chain"),
        ("hardhat_impersonateAccount", ["0x" + "11" * 20], "rewrites the chain"),
        ("evm_mine", [], "moves the whole room's chain"),
        ("evm_increaseTime", [3600], "moves the whole room's chain"),
        ("evm_snapshot", [], "moves the whole room's chain"),
        ("debug_traceTransaction", ["0x" + "00" * 32], "stall the node"),
        ("eth_someMethodNobodyKnows", [], "not on the LAN's list of reads"),
    ],
)
def test_the_chain_front_refuses_what_the_lan_must_not_do(node, method, params, words):
    before = rpc(node.lan.url("chain"), "eth_blockNumber")["result"]
    for url in (node.lan.url("chain"), node.lan.joined("chain")):  # the token changes nothing
        answer = rpc(url, method, params)
        assert "result" not in answer, answer
        err = answer["error"]
        assert err["code"] == REFUSED_CODE
        assert err["message"].startswith(f"{method} is refused over the workshop's LAN: ")
        assert words in err["message"]
        assert err["data"]["method"] == method
    assert rpc(node.lan.url("chain"), "eth_blockNumber")["result"] == before  # nothing mined


def test_send_transaction_through_web3_says_why(node):
    from web3 import Web3

    w3 = Web3(Web3.HTTPProvider(node.lan.joined("chain")))
    sender = w3.eth.accounts[0]  # a read: the node's unlocked account, public anyway
    with pytest.raises(Exception) as refused:
        w3.eth.send_transaction({"from": sender, "to": sender, "value": 1})
    assert "eth_sendTransaction is refused over the workshop's LAN" in str(refused.value)


def test_a_signed_transaction_needs_the_token(node):
    from eth_account import Account
    from web3 import Web3

    requester = node.sb.requester
    local = Web3(Web3.HTTPProvider(node.info.urls["chain"]))
    nonce = local.eth.get_transaction_count(requester.address, "pending")
    base = local.eth.get_block("latest")["baseFeePerGas"]
    tx = {
        "to": requester.address,
        "value": 1,
        "gas": 21_000,
        "nonce": nonce,
        "chainId": node.info.chain_id,
        "maxFeePerGas": 2 * base + 10**9,
        "maxPriorityFeePerGas": 10**9,
    }
    raw = "0x" + Account.sign_transaction(tx, requester.key).raw_transaction.hex()
    answer = rpc(node.lan.url("chain"), "eth_sendRawTransaction", [raw])
    assert answer["error"]["code"] == NO_TOKEN_CODE
    assert "needs the workshop's token" in answer["error"]["message"]
    assert local.eth.get_transaction_count(requester.address, "pending") == nonce  # not sent
    answer = rpc(node.lan.joined("chain"), "eth_sendRawTransaction", [raw])
    assert answer.get("result", "").startswith("0x"), answer
    assert local.eth.wait_for_transaction_receipt(answer["result"], timeout=30)["status"] == 1
    # the node's filters are numbered in order: creating or reading one asks the token too,
    # and the header works as the joined URL does; a wrong token is refused
    body = {"jsonrpc": "2.0", "id": 7, "method": "eth_newBlockFilter", "params": []}
    answer = requests.post(node.lan.url("chain"), json=body, timeout=10).json()
    assert answer["error"]["code"] == NO_TOKEN_CODE
    hdr = {"X-Iexec-Kit-Token": node.lan.token}
    answer = requests.post(node.lan.url("chain"), json=body, headers=hdr, timeout=10).json()
    assert answer.get("result", "").startswith("0x"), answer
    wrong = requests.post(join_token(node.lan.url("chain"), "not-the-token"), json=body)
    assert wrong.status_code == 401 and "token is wrong" in wrong.json()["message"]


def test_a_batch_is_filtered_call_by_call(node):
    batch = [
        {"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []},
        {"jsonrpc": "2.0", "id": 2, "method": "hardhat_mine", "params": []},
        {"jsonrpc": "2.0", "id": 3, "method": "eth_blockNumber", "params": []},
        {"jsonrpc": "2.0", "id": 4, "method": "eth_sendRawTransaction", "params": ["0x00"]},
    ]
    answers = requests.post(node.lan.url("chain"), json=batch, timeout=10).json()
    assert [a["id"] for a in answers] == [1, 2, 3, 4]
    assert answers[0]["result"] == hex(node.info.chain_id)
    assert answers[1]["error"]["code"] == REFUSED_CODE
    assert "hardhat_mine" in answers[1]["error"]["message"]
    assert answers[2]["result"].startswith("0x")
    assert answers[3]["error"]["code"] == NO_TOKEN_CODE
    bad = requests.post(node.lan.url("chain"), data=b"not json", timeout=10).json()
    assert bad["error"]["code"] == -32700


def test_ipfs_writes_need_the_token_reads_stay_open(node):
    url = node.lan.url("ipfs")
    res = requests.post(url + "/api/v0/add", files={"file": b"no token"}, timeout=10)
    assert res.status_code == 401 and "workshop's token" in res.json()["message"]
    res = requests.post(url + "/api/v0/pin/add?arg=QmXyz", timeout=10)
    assert res.status_code == 401
    res = requests.post(node.lan.joined("ipfs") + "/api/v0/add", files={"file": b"hi"}, timeout=10)
    assert res.status_code == 200, res.text
    cid = res.json()["Hash"]
    headers = {"X-Iexec-Kit-Token": node.lan.token}
    res = requests.post(url + "/api/v0/add", files={"file": b"hey"}, headers=headers, timeout=10)
    assert res.status_code == 200
    assert requests.post(url + f"/api/v0/cat?arg={cid}", timeout=10).content == b"hi"
    assert requests.get(url + f"/ipfs/{cid}", timeout=10).content == b"hi"  # the gateway
    # a path the upstream URL would normalize into the API is not forwarded (sent raw: clients
    # normalize dot segments themselves)
    import http.client
    from urllib.parse import urlsplit

    where = urlsplit(url)
    for raw in ("/ipfs/../api/v0/add", "//x/api/v0/add", "/ipfs/%2E%2E/api/v0/add"):
        conn = http.client.HTTPConnection(where.hostname, where.port, timeout=10)
        conn.request("GET", raw)
        res = conn.getresponse()
        assert res.status == 400, (raw, res.status)
        assert b"not forwarded" in res.read()
        conn.close()


def test_signature_services_check_their_writes_behind_the_front(node):
    """The result proxy, the market API and the SMS authenticate writes by signatures: with the
    token but no signature, the service itself refuses (its own message); without the token,
    the front refuses first. Their reads stay open."""
    lan, chain_id = node.lan, node.info.chain_id
    taskid = "0x" + "ab" * 32
    writes = {
        "result_proxy": ("POST", f"/v1/results/{taskid}", b"zip"),
        "market": ("POST", f"/apporders?chainId={chain_id}", b'{"order": {}}'),
        "sms": ("POST", "/secrets/web2?ownerAddress=0x" + "11" * 20 + "&secretName=x", b"s"),
    }
    for key, (method, path, body) in writes.items():
        res = requests.request(method, lan.url(key) + path, data=body, timeout=10)
        assert res.status_code == 401, (key, res.text)
        assert res.json()["service"] == key and "workshop's token" in res.json()["message"]
        assert res.json()["error"] == res.json()["message"]  # what iExec's SDK prints
        res = requests.request(method, lan.joined(key) + path, data=body, timeout=10)
        assert res.status_code in (400, 401, 403), (key, res.status_code, res.text)
        assert "service" not in res.json(), (key, res.text)  # the service's own refusal
    assert requests.get(lan.url("result_proxy") + "/version", timeout=10).ok
    listing = f"/apporders?chainId={chain_id}&app={node.info.app}"
    assert requests.get(lan.url("market") + listing, timeout=10).json()["count"] >= 1
    assert requests.get(lan.url("sms") + "/version", timeout=10).ok


def test_the_scheduler_front_asks_the_token_of_every_call(node):
    lan = node.lan
    res = requests.get(lan.url("scheduler") + "/workers/config", timeout=10)
    assert res.status_code == 401 and "workshop's token" in res.json()["message"]
    res = requests.get(lan.url("scheduler") + "/pool", timeout=10)
    assert res.status_code == 401
    config = requests.get(lan.joined("scheduler") + "/workers/config", timeout=10).json()
    for key, front in (
        ("blockchainNodeUrl", "chain"),
        ("resultRepositoryURL", "result_proxy"),
        ("smsURL", "sms"),
        ("ipfsGatewayURL", "ipfs"),
    ):
        assert split_token(config[key]) == (lan.url(front), lan.token), key
    # a worker still signs in with its wallet behind the front
    res = requests.post(lan.joined("scheduler") + "/workers/ping", timeout=10)
    assert res.status_code == 401 and "sign in" in res.json()["message"]


def test_the_hardhat_node_stays_on_loopback_and_the_fronts_bind_the_address(node):
    from lan_helpers import listening

    hardhat = listening(node.devnode.proc.pid)
    assert hardhat and all(host == "127.0.0.1" for host, _ in hardhat), hardhat
    ports = {port for _, port in listening(os.getpid())}
    for s in node.lan.services.values():
        assert s.front.server.host == "127.0.0.1" and s.front.server.port in ports


def test_the_banner_names_every_url_and_how_an_attendee_joins(node):
    from iexec_kit.cli.node import lan_banner

    lines = [text for text, _ in lan_banner(node)]
    text = "\n".join(lines)
    assert lines[0].startswith("WARNING: this node is OPEN TO THE NETWORK on 127.0.0.1")
    for s in node.lan.services.values():
        assert s.front.url in text and s.what in text
    assert node.lan.token in text
    assert f"--scheduler {node.lan.url('scheduler')} --token {node.lan.token}" in text
    assert node.lan.joined("scheduler") in text
    lan_json = (node.folder / "lan.json").stat()
    assert lan_json.st_mode & 0o077 == 0  # the token's file: the facilitator's alone


def test_a_front_refusal_is_not_taken_for_an_expired_login(node):
    """A 401 from the LAN front (a wrong token: the node restarted with a new one, say) stops a
    worker's client at once, without signing in; a 401 from the scheduler itself (no login yet)
    is one to sign in again for. (No worker registers here: the module's deal counts two.)"""
    from iexec_kit.actors.pool import LanFrontRefusedError, NotSignedInError, SchedulerClient

    key = bytes(node.sb.workers[-1].key)
    wrong = SchedulerClient(
        join_token(node.lan.url("scheduler"), "0" * 32), key, name="w", behaviour="honest"
    )
    with pytest.raises(LanFrontRefusedError) as err:
        wrong.ping()
    assert wrong.logins == 0 and isinstance(err.value, NotSignedInError)
    assert "0" * 32 not in str(err.value)
    # the scheduler's own 401 (no JWT yet) through the right front: a login to renew
    res = requests.post(node.lan.joined("scheduler") + "/workers/ping", timeout=10)
    own = SchedulerClient._error(res)
    assert res.status_code == 401 and type(own) is NotSignedInError, res.text
