"""The chain: web3.py on an in-process py-evm chain (eth-tester), or on any JSON-RPC node.

Transactions are signed locally (eth-account) and sent raw with an explicit gas limit: py-evm's
gas estimation costs about 5x the transaction itself, so the in-process chain skips it; over RPC
the node estimates (which also surfaces a revert's reason before anything is mined).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

from iexec_kit.chain.accounts import (
    DEFAULT_MNEMONIC,
    DEFAULT_WORKERS,
    ROLES,
    Participant,
    participants,
)
from iexec_kit.errors import (
    ChainConnectionError,
    ContractRevertError,
    InsufficientFundsError,
    KitValueError,
)
from iexec_kit.protocol.reverts import explain_revert

IN_PROCESS = "in-process"
DEFAULT_GAS = 12_000_000  # explicit limit in-process (only used gas is paid)
ETH = 10**18
MIN_ETH = ETH // 10  # below this an account is topped up from the deployer (RPC)
TOP_UP_ETH = 10 * ETH
_USE_CALL = "use call()"  # Chain._views: this name is not one function (overloaded): call() it


@dataclass(frozen=True)
class Receipt:
    """What a mined transaction left: its hash, block, gas used, and the raw web3 receipt."""

    tx_hash: str
    block: int
    gas_used: int
    raw: Any

    @property
    def logs(self):
        return self.raw["logs"]


class Chain:
    """One Ethereum chain and the kit's participants on it.

    ``Chain.in_process()`` starts a fresh py-evm chain in this process (the default, offline);
    ``Chain.connect(url)`` uses a JSON-RPC node (Hardhat, Anvil, geth --dev...).
    """

    def __init__(
        self, w3, kind: str, people: list[Participant], tester=None, url: str | None = None
    ):
        self.w3 = w3
        self.kind = kind
        self.url = url
        self.participants = people
        self._tester = tester  # eth_tester.EthereumTester when in-process
        self.chain_id = w3.eth.chain_id
        self._nonces: dict[str, int] = {}
        self._views: dict = {}  # (contract address, function name) -> ABI entry or _USE_CALL
        # in-process: the VM at the latest block, kept for views until a new block comes
        self._view_vm: tuple | None = None  # (block hash, VM)
        self._view_lock = threading.Lock()

    # ----- construction -------------------------------------------------------------------
    @classmethod
    def in_process(cls, workers: int = DEFAULT_WORKERS, mnemonic: str = DEFAULT_MNEMONIC) -> Chain:
        """A fresh in-process py-evm chain whose genesis funds every participant with ETH."""
        # do not import eth_tester until runtime: only the in-process chain needs it
        from eth_tester import EthereumTester, PyEVMBackend
        from web3 import EthereumTesterProvider, Web3

        people = participants(workers, mnemonic)
        backend = PyEVMBackend.from_mnemonic(
            mnemonic, num_accounts=len(people), hd_path="m/44'/60'/0'/0"
        )
        tester = EthereumTester(backend)
        w3 = Web3(EthereumTesterProvider(tester))
        return cls(w3, IN_PROCESS, people, tester=tester)

    @classmethod
    def connect(
        cls,
        url: str,
        workers: int = DEFAULT_WORKERS,
        mnemonic: str = DEFAULT_MNEMONIC,
        timeout: float = 10.0,
    ) -> Chain:
        """A JSON-RPC node at ``url`` (http(s) or ws). Participants lacking ETH are topped up
        from the deployer's account, or from the node's first unlocked account."""
        from web3 import Web3

        if not isinstance(url, str) or not url.startswith(
            ("http://", "https://", "ws://", "wss://")
        ):
            raise KitValueError(
                "an Ethereum node URL must start with http://, https://, ws:// or wss://",
                expected="e.g. http://127.0.0.1:8545",
                got=repr(url),
            )
        if url.startswith("ws"):
            provider = Web3.LegacyWebSocketProvider(url, websocket_timeout=timeout)
        else:
            provider = Web3.HTTPProvider(url, request_kwargs={"timeout": timeout})
        w3 = Web3(provider)
        try:
            _ = w3.eth.chain_id  # the probe: any node answers it
        except Exception as exc:  # noqa: BLE001 - any failure here means "no node"
            raise ChainConnectionError(
                f"no Ethereum node answers at {url}",
                expected="a JSON-RPC node (e.g. `npx hardhat node` listening on 127.0.0.1:8545)",
                got=f"{type(exc).__name__}: {exc}",
                hint="start the node, check the URL and port, "
                "or drop --chain to use the in-process chain",
            ) from None
        chain = cls(w3, "rpc", participants(workers, mnemonic), url=url)
        chain._fund_participants()
        return chain

    def _fund_participants(self) -> None:
        deployer = self.participants[0]
        for p in self.participants:
            if self.eth_balance(p.address) >= MIN_ETH:
                continue
            if p is not deployer and self.eth_balance(deployer.address) >= TOP_UP_ETH + MIN_ETH:
                self.send_eth(deployer, p.address, TOP_UP_ETH)
                continue
            node_accounts = self.w3.eth.accounts
            if node_accounts:
                tx = self.w3.eth.send_transaction(
                    {"from": node_accounts[0], "to": p.address, "value": TOP_UP_ETH}
                )
                self.w3.eth.wait_for_transaction_receipt(tx)
                continue
            raise InsufficientFundsError(
                f"{p.name} ({p.address}) has no ETH to pay for gas on {self.url}",
                expected=f"at least {MIN_ETH / ETH} ETH",
                got=f"{self.eth_balance(p.address) / ETH} ETH",
                hint="fund the kit's accounts (mnemonic 'test ... junk') "
                "or use a dev node that does",
            )

    # ----- participants -------------------------------------------------------------------
    def participant(self, name: str) -> Participant:
        """The participant called ``name`` (a role such as 'requester', or 'worker3')."""
        for p in self.participants:
            if p.name == name:
                return p
        raise KitValueError(
            f"no participant named {name!r}",
            expected=", ".join(p.name for p in self.participants),
            got=name,
        )

    def participant_by_address(self, address: str) -> Participant:
        """The participant whose address this is (a kit error if it is not one of the kit's)."""
        for p in self.participants:
            if p.address.lower() == str(address).lower():
                return p
        raise KitValueError(
            "that address is not one of the sandbox's participants",
            got=str(address),
            hint="pass the sender explicitly",
        )

    @property
    def deployer(self) -> Participant:
        return self.participants[0]

    @property
    def workers(self) -> list[Participant]:
        return [p for p in self.participants if p.role == "worker"]

    # ----- reads --------------------------------------------------------------------------
    def eth_balance(self, address: str) -> int:
        try:
            return self.w3.eth.get_balance(address)
        except Exception as exc:  # noqa: BLE001
            raise self._down_or(exc) from None

    def now(self) -> int:
        """The latest block's timestamp (chain time, seconds)."""
        try:
            return self._latest()["timestamp"]
        except Exception as exc:  # noqa: BLE001
            raise self._down_or(exc) from None

    def _latest(self) -> dict:
        """The latest block's header fields the kit reads (timestamp, baseFeePerGas), as ints;
        over RPC one raw request (web3's pipeline costs more than the node's answer)."""
        if self._tester is not None:
            return self.w3.eth.get_block("latest")
        res = self.w3.provider.make_request("eth_getBlockByNumber", ["latest", False])
        if "result" not in res or not res["result"]:
            return self.w3.eth.get_block("latest")  # says what is wrong
        block = res["result"]
        fee = block.get("baseFeePerGas")
        return {"timestamp": int(block["timestamp"], 16), "baseFeePerGas": fee and int(fee, 16)}

    def block_number(self) -> int:
        try:
            return self.w3.eth.block_number
        except Exception as exc:  # noqa: BLE001
            raise self._down_or(exc) from None

    def contract(self, abi, address: str):
        return self.w3.eth.contract(address=self.w3.to_checksum_address(address), abi=abi)

    def call(self, fn, sender: Participant | str | None = None, **context):
        """Call a view (or simulate a transaction) and return its result; reverts become kit
        errors."""
        frm = sender.address if isinstance(sender, Participant) else sender
        try:
            if self._tester is not None:
                return self._fast_call(fn, frm)
            return fn.call({"from": frm} if frm else {})
        except Exception as exc:  # noqa: BLE001
            raise self._as_kit_error(exc, fn, context) from None

    def view(self, contract, name: str, *args, sender: Participant | str | None = None, **context):
        """Call the view ``name`` of ``contract`` with ``args``: what :meth:`call` returns, for a
        tenth of its cost. web3's function objects check the whole ABI on every call (a keccak
        per function) and ask the node its chain id each time: here the function's ABI entry is
        looked up once and the call goes to the node as one ``eth_call``. A name that is not
        exactly one function of the ABI (overloaded: web3 picks the overload from ``args``) is
        remembered as such and always goes through :meth:`call`; so does anything else unusual
        (an argument eth-abi does not take, an error from the node), whose errors then say why."""
        from eth_abi import decode, encode
        from eth_utils.abi import collapse_if_tuple, function_abi_to_4byte_selector

        key = (contract.address, name)
        entry = self._views.get(key)
        if entry is None:
            abis = [e for e in contract.abi if e.get("type") == "function" and e["name"] == name]
            entry = _USE_CALL
            if len(abis) == 1:
                abi = abis[0]
                entry = (
                    abi,
                    [collapse_if_tuple(i) for i in abi["inputs"]],
                    function_abi_to_4byte_selector(abi),
                )
            self._views[key] = entry
        if entry is _USE_CALL:
            return self.call(getattr(contract.functions, name)(*args), sender, **context)
        abi, inputs, selector = entry
        frm = sender.address if isinstance(sender, Participant) else sender
        try:
            tx = {
                "from": frm or self.participants[0].address,
                "to": contract.address,
                "data": "0x" + (selector + encode(inputs, args)).hex(),
            }
            if self._tester is not None:
                raw = self._tester_call(tx)
            else:
                raw = self.w3.provider.make_request("eth_call", [tx, "latest"])["result"]
            outputs = abi.get("outputs", [])
            values = decode([collapse_if_tuple(o) for o in outputs], bytes.fromhex(raw[2:]))
        except Exception:  # noqa: BLE001 - the full path raises the kit's error, if any
            return self.call(getattr(contract.functions, name)(*args), sender, **context)
        values = tuple(_checksum(o, v) for o, v in zip(outputs, values))
        return values[0] if len(values) == 1 else values

    def _fast_call(self, fn, frm):
        """In-process: ask eth-tester directly and decode with eth-abi, as web3 would (addresses
        checksummed, one output unwrapped), without web3's request pipeline (3x faster)."""
        from eth_abi import decode
        from eth_utils.abi import collapse_if_tuple

        tx = {
            "from": frm or self.participants[0].address,
            "to": fn.address,
            "data": fn._encode_transaction_data(),
        }
        raw = self._tester_call(tx)
        outputs = fn.abi.get("outputs", [])
        values = decode([collapse_if_tuple(o) for o in outputs], bytes.fromhex(raw[2:]))
        values = tuple(_checksum(o, v) for o, v in zip(outputs, values))
        return values[0] if len(values) == 1 else values

    def _tester_call(self, tx: dict) -> str:
        """``eth_call`` at the latest block on the in-process chain, as eth-tester's ``call``
        does it (the same VM, transaction and gas), but on a VM kept until the next block:
        eth-tester builds a fresh one, with cold caches, for every call (about 45 ms; a kept
        one answers the next views at the same block in a few). A call that fails goes through
        eth-tester itself, so its error is exactly eth-tester's."""
        from eth.vm.spoof import SpoofTransaction

        tester = self._tester
        backend = tester.backend
        chain = backend.chain
        raw = tester.normalizer.normalize_inbound_transaction(tx)
        with self._view_lock:
            pending = chain.get_block().header
            latest = chain.get_canonical_block_header_by_number(max(0, pending.block_number - 1))
            if self._view_vm is None or self._view_vm[0] != latest.hash:
                self._view_vm = (latest.hash, chain.get_vm(at_header=latest))
            state = self._view_vm[1].state
            raw["gas"] = pending.gas_limit - pending.gas_used
            raw["nonce"] = state.get_nonce(raw["from"])
            unsigned = backend._get_normalized_and_unsigned_evm_transaction(raw)
            snapshot = state.snapshot()
            try:
                computation = state.apply_transaction(SpoofTransaction(unsigned, from_=raw["from"]))
            except Exception:  # noqa: BLE001 - eth-tester says it in its own words, below
                computation = None
            finally:
                state.revert(snapshot)
        if computation is None or computation.is_error:
            return tester.call(tx, "latest")  # raises eth-tester's own error
        return tester.normalizer.normalize_outbound_return_data(computation.output)

    # ----- writes -------------------------------------------------------------------------
    def transact(
        self,
        fn,
        sender: Participant,
        *,
        value: int = 0,
        gas: int | None = None,
        margin: int = 20_000,
        **context,
    ) -> Receipt:
        """Sign ``fn`` (a web3 contract function call) as ``sender``, send it, wait, and return
        its receipt. Over RPC the gas limit is the node's estimate plus ``margin`` (more for a
        call whose cost depends on transactions that may land first).

        A revert raises :class:`ContractRevertError` with the reason in words; ``context`` (e.g.
        ``detail=": asked 5 RLC, stake 2 RLC"``) makes the sentence precise.
        """
        tx = self._build(fn, sender, value=value, gas=gas, margin=margin, named=fn, context=context)
        return self._send(tx, sender, fn, context)

    def deploy(self, artifact: dict, sender: Participant, *args) -> tuple[str, Receipt]:
        """Deploy a contract from its artifact; return (address, receipt)."""
        factory = self.w3.eth.contract(abi=artifact["abi"], bytecode=artifact["bytecode"])
        tx = self._build(
            factory.constructor(*args),
            sender,
            value=0,
            gas=None,
            margin=50_000,
            named=None,
            context={},
        )
        receipt = self._send(tx, sender, None, {})
        return receipt.raw["contractAddress"], receipt

    def _build(
        self, fn, sender: Participant, *, value: int, gas: int | None, margin: int, named, context
    ) -> dict:
        """The signed-to-be transaction of a call or a deployment: the explicit gas limit
        in-process, the node's estimate (plus ``margin``) over RPC; a refusal becomes a kit
        error."""
        tx = {"from": sender.address, "value": value}
        if named is not None and self.kind != IN_PROCESS:
            quick = self._quick_build(fn, tx, gas, margin)
            if quick is not None:
                return quick
        try:
            if gas is None:
                gas = (
                    DEFAULT_GAS
                    if self.kind == IN_PROCESS
                    else int(fn.estimate_gas(tx) * 1.2) + margin
                )
            return fn.build_transaction(
                {
                    **tx,
                    **self._fees(),
                    "gas": gas,
                    "nonce": self._next_nonce(sender.address),
                    "chainId": self.chain_id,
                }
            )
        except Exception as exc:  # noqa: BLE001
            self._nonces.pop(sender.address, None)
            raise self._as_kit_error(exc, named, context) from None

    def _quick_build(self, fn, tx: dict, gas: int | None, margin: int) -> dict | None:
        """A contract call's transaction over RPC in raw requests (web3's build checks the
        whole ABI and asks the chain id each time): the same fields as build_transaction. None
        when the node refuses the estimate: the full path then raises the kit's error."""
        try:
            call = {**tx, "to": fn.address, "data": fn._encode_transaction_data()}
            if gas is None:
                rpc = {**call, "value": hex(tx["value"])}
                res = self.w3.provider.make_request("eth_estimateGas", [rpc])
                if "result" not in res:
                    return None
                gas = int(int(res["result"], 16) * 1.2) + margin
            fees = self._fees()
            nonce = self._next_nonce(tx["from"])  # last: a nonce taken is a nonce spent
        except Exception:  # noqa: BLE001 - the full path says what is wrong
            return None
        return {**call, **fees, "gas": gas, "nonce": nonce, "chainId": self.chain_id}

    def send_eth(self, sender: Participant, to: str, value: int) -> Receipt:
        tx = {
            "from": sender.address,
            "to": self.w3.to_checksum_address(to),
            "value": value,
            "gas": 21_000,
            "nonce": self._next_nonce(sender.address),
            "chainId": self.chain_id,
            **self._fees(),
        }
        return self._send(tx, sender, None, {})

    def _fees(self) -> dict:
        base = self._latest().get("baseFeePerGas") or 10**9
        tip = 10**9
        return {"maxFeePerGas": 2 * base + tip, "maxPriorityFeePerGas": tip}

    def _next_nonce(self, address: str) -> int:
        if address not in self._nonces or self.kind != IN_PROCESS:
            self._nonces[address] = self._tx_count(address)
        nonce = self._nonces[address]
        self._nonces[address] = nonce + 1
        return nonce

    def _tx_count(self, address: str) -> int:
        if self._tester is None:
            res = self.w3.provider.make_request("eth_getTransactionCount", [address, "pending"])
            if "result" in res:
                return int(res["result"], 16)
        return self.w3.eth.get_transaction_count(address, "pending")

    def _send(self, tx: dict, sender: Participant, fn, context) -> Receipt:
        signed = self.w3.eth.account.sign_transaction(tx, sender.key)
        try:
            tx_hash = self.w3.eth.send_raw_transaction(signed.raw_transaction)
        except Exception as exc:  # noqa: BLE001
            self._nonces.pop(sender.address, None)
            raise self._as_kit_error(exc, fn, context) from None
        raw = self.w3.eth.wait_for_transaction_receipt(tx_hash, timeout=120)
        if raw["status"] != 1:
            # a node that mines failed transactions: replay as a call to learn the reason
            reason = ""
            try:
                self.w3.eth.call(
                    {k: tx[k] for k in ("from", "to", "data", "value") if k in tx},
                    raw["blockNumber"] - 1,
                )
            except Exception as exc:  # noqa: BLE001
                reason = _reason_of(exc)
            raise self._revert(reason, fn, context)
        return Receipt(
            "0x" + bytes(raw["transactionHash"]).hex(), raw["blockNumber"], raw["gasUsed"], raw
        )

    # ----- errors -------------------------------------------------------------------------
    def _as_kit_error(self, exc: Exception, fn, context):
        from iexec_kit.errors import IexecKitError

        if isinstance(exc, IexecKitError):
            return exc
        text = _message_of(exc)
        low = text.lower()
        # geth/anvil: "insufficient funds ..."; Hardhat: "Sender doesn't have enough funds ...";
        # py-evm: "Sender does not have enough balance ..."
        if (
            "insufficient funds" in low
            or "have enough funds" in low
            or "not have enough balance" in low
        ):
            return InsufficientFundsError(
                "the sender has too little ETH to pay for gas",
                got=text[:300],
                hint="fund the account with ETH",
            )
        if _is_connection_error(exc):
            return self._down(exc)
        return self._revert(_reason_of(exc), fn, context)

    def _down(self, exc: Exception) -> ChainConnectionError:
        return ChainConnectionError(
            f"the Ethereum node stopped answering ({self.url or self.kind})",
            got=f"{type(exc).__name__}: {str(exc)[:300]}",
            hint="check that the node is still running",
        )

    def _down_or(self, exc: Exception) -> Exception:
        """A dead node as a kit error; any other exception as it is."""
        return self._down(exc) if _is_connection_error(exc) else exc

    def _rpc(self, method: str, params: list):
        """A node-specific JSON-RPC method (evm_*); an error answer becomes a kit error."""
        try:
            resp = self.w3.provider.make_request(method, params)
        except Exception as exc:  # noqa: BLE001
            if _is_connection_error(exc):
                raise self._down(exc) from None
            resp = {
                "error": (getattr(exc, "rpc_response", None) or {}).get("error")
                or {"message": str(exc)}
            }
        if "error" in resp:
            err = resp["error"]
            msg = err.get("message", str(err)) if isinstance(err, dict) else str(err)
            raise ChainConnectionError(
                f"the node at {self.url} refused {method}",
                got=msg[:300],
                hint="use a dev node that has it (Hardhat, Anvil) or the in-process chain",
            )
        return resp.get("result")

    def _revert(self, reason: str, fn, context) -> ContractRevertError:
        sentence, code, todo = explain_revert(reason, **context)
        where = f" in {fn.fn_name}" if fn is not None and hasattr(fn, "fn_name") else ""
        return ContractRevertError(
            f"the contract refused{where}: {sentence}",
            reason=reason,
            code=code,
            got=reason or None,
            hint=todo,
        )

    # ----- time and snapshots -------------------------------------------------------------
    def snapshot(self) -> Any:
        """Remember the chain's state; :meth:`revert` returns to it."""
        self._nonces.clear()
        if self._tester is not None:
            return self._tester.take_snapshot()
        return self._rpc("evm_snapshot", [])

    def revert(self, snapshot_id) -> None:
        """Return to a snapshot taken earlier (in-process: it can be reverted to again)."""
        self._nonces.clear()
        if self._tester is not None:
            self._tester.revert_to_snapshot(snapshot_id)
            return
        ok = self._rpc("evm_revert", [snapshot_id])
        if not ok:
            raise KitValueError(
                "the node refused to revert to that snapshot",
                got=str(snapshot_id),
                hint="on RPC nodes a snapshot can be used once: take a new one",
            )

    def time_travel(self, seconds: int) -> int:
        """Move chain time forward by ``seconds`` and mine a block; return the new timestamp."""
        if seconds < 0:
            raise KitValueError(
                "time travel only goes forward", expected="seconds >= 0", got=str(seconds)
            )
        target = self.now() + int(seconds)
        if self._tester is not None:
            # eth-tester mines the travel block one second early: aim one second later
            self._tester.time_travel(target + 1)
        else:
            if seconds > 0:  # nodes refuse a next timestamp equal to the latest one
                self._rpc("evm_setNextBlockTimestamp", [target])
            self._rpc("evm_mine", [])
        return self.now()

    def mine(self, blocks: int = 1) -> None:
        if self._tester is not None:
            self._tester.mine_blocks(blocks)
        else:
            for _ in range(blocks):
                self._rpc("evm_mine", [])

    def describe(self) -> str:
        return f"{self.kind} chain {self.chain_id}" + (f" at {self.url}" if self.url else "")


_ERROR_STRING = bytes.fromhex(
    "08c379a0"
)  # Error(string), what require(cond, "reason") reverts with


def _message_of(exc: Exception) -> str:
    """The node's own message: a JSON-RPC error's ``message`` (web3's Web3RPCError puts the
    whole error dict in its text), else the exception's message."""
    resp = getattr(exc, "rpc_response", None)
    if isinstance(resp, dict) and isinstance(resp.get("error"), dict):
        msg = resp["error"].get("message")
        if isinstance(msg, str) and msg:
            return msg
    msg = getattr(exc, "message", None)
    if isinstance(msg, str) and msg:
        return msg
    return str(exc.args[0]) if exc.args else str(exc)


def _revert_data(exc: Exception) -> bytes | None:
    """The raw revert data an RPC node attached to its error (Hardhat, Anvil, geth), if any."""
    resp = getattr(exc, "rpc_response", None)
    todo = [getattr(exc, "data", None), resp.get("error") if isinstance(resp, dict) else None]
    while todo:
        item = todo.pop(0)
        if isinstance(item, dict):
            todo.extend(item.get(k) for k in ("data", "originalError"))
        elif isinstance(item, str) and item.startswith("0x") and len(item) >= 10:
            try:
                return bytes.fromhex(item[2:])
            except ValueError:
                continue
    return None


def _checksum(abi_param: dict, value):
    """Checksum the addresses inside a decoded value, following its ABI type."""
    from eth_utils import to_checksum_address

    typ = abi_param["type"]
    if typ.endswith("]"):
        inner = dict(abi_param, type=typ[: typ.rindex("[")])
        return [_checksum(inner, v) for v in value]
    if typ == "address":
        return to_checksum_address(value)
    if typ == "tuple":
        return tuple(_checksum(c, v) for c, v in zip(abi_param["components"], value))
    return value


def _reason_of(exc: Exception) -> str:
    """The revert reason string inside whatever web3 or eth-tester raised."""
    data = _revert_data(exc)
    if data is not None and data[:4] == _ERROR_STRING:
        try:
            from eth_abi import decode

            return decode(["string"], data[4:])[0].strip()
        except Exception:  # noqa: BLE001 - malformed data: fall back to the message
            pass
    text = _message_of(exc)
    for prefix in (
        "execution reverted: ",
        "Execution reverted: ",
        "Error: VM Exception while processing transaction: ",
        "VM Exception while processing transaction: ",
        "reverted with reason string ",
    ):
        if prefix in text:
            text = text.split(prefix, 1)[1]
    text = text.strip()
    if text in ("b''", 'b""'):  # eth-tester's "execution reverted: b''": a bare require/revert
        return ""
    return text.strip("'\"")


def _is_connection_error(exc: Exception) -> bool:
    import requests

    return isinstance(
        exc,
        (
            ConnectionError,
            TimeoutError,
            requests.exceptions.ConnectionError,
            requests.exceptions.Timeout,
        ),
    )


__all__ = ["Chain", "Receipt", "IN_PROCESS", "ETH", "ROLES"]
