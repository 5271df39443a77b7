"""The marketplace's four orders as frozen dataclasses, with EIP-712 hashing and signing.

An order is signed by its owner (the asset's owner, or the requester) over EIP-712 typed data in
the domain {name "iExecODB", version "5.0.0", chainId, verifyingContract = the hub}, with PoCo v5's
exact type strings, so an order signed here is valid for iExec's own hub and the reverse. The
order's hash is the EIP-712 digest; ``sign`` travels with the order but is not part of the typed
data.
"""

from __future__ import annotations

import json
import os
import random
import shlex
from dataclasses import asdict, dataclass, field, fields, replace
from typing import ClassVar

from eth_abi import encode
from eth_utils import keccak, to_checksum_address

from iexec_kit.errors import KitValueError
from iexec_kit.protocol.units import ZERO_ADDRESS

ZERO32 = b"\x00" * 32
DOMAIN_NAME, DOMAIN_VERSION = "iExecODB", "5.0.0"


@dataclass(frozen=True)
class Domain:
    """The EIP-712 domain of a hub."""

    chain_id: int
    verifying_contract: str
    name: str = DOMAIN_NAME
    version: str = DOMAIN_VERSION

    def as_typed(self) -> dict:
        return {
            "name": self.name,
            "version": self.version,
            "chainId": self.chain_id,
            "verifyingContract": to_checksum_address(self.verifying_contract),
        }

    def separator(self) -> bytes:
        typehash = keccak(
            b"EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"
        )
        return keccak(
            encode(
                ["bytes32", "bytes32", "bytes32", "uint256", "address"],
                [
                    typehash,
                    keccak(self.name.encode()),
                    keccak(self.version.encode()),
                    self.chain_id,
                    to_checksum_address(self.verifying_contract),
                ],
            )
        )


def new_salt(rng: random.Random | None = None) -> bytes:
    """A random 32-byte salt (from ``rng`` when given, so a seeded sandbox repeats its orders)."""
    return rng.randbytes(32) if rng is not None else os.urandom(32)


class _Order:
    """Shared behaviour of the four orders (hash, sign, verify, web3 tuple)."""

    TYPE_NAME: ClassVar[str]
    TYPE_FIELDS: ClassVar[tuple[tuple[str, str], ...]]

    @classmethod
    def type_string(cls) -> str:
        return f"{cls.TYPE_NAME}(" + ",".join(f"{t} {n}" for n, t in cls.TYPE_FIELDS) + ")"

    @classmethod
    def typehash(cls) -> bytes:
        return keccak(cls.type_string().encode())

    def _typed_values(self) -> list:
        out = []
        for name, typ in self.TYPE_FIELDS:
            v = getattr(self, name)
            out.append(to_checksum_address(v) if typ == "address" else v)
        return out

    def struct_hash(self) -> bytes:
        """hashStruct: keccak(typehash ++ encoded fields), strings hashed (EIP-712)."""
        types, values = ["bytes32"], [self.typehash()]
        for (_name, typ), v in zip(self.TYPE_FIELDS, self._typed_values()):
            if typ == "string":
                types.append("bytes32")
                values.append(keccak(v.encode()))
            else:
                types.append(typ)
                values.append(v)
        return keccak(encode(types, values))

    def hash(self, domain: Domain) -> bytes:
        """The order hash: the EIP-712 digest keccak(0x1901 ++ domainSeparator ++ structHash)."""
        return keccak(b"\x19\x01" + domain.separator() + self.struct_hash())

    def typed_data(self, domain: Domain) -> dict:
        """The full EIP-712 message (what a wallet shows before signing)."""
        from iexec_kit.protocol.eip712 import typed_data

        msg = dict(zip([n for n, _ in self.TYPE_FIELDS], self._typed_values()))
        return typed_data(self.TYPE_NAME, self.TYPE_FIELDS, domain.as_typed(), msg)

    def signed(self, key: bytes, domain: Domain):
        """A copy of this order carrying the 65-byte EIP-712 signature by ``key``."""
        from eth_account import Account
        from eth_account.messages import encode_typed_data

        sig = Account.sign_message(encode_typed_data(full_message=self.typed_data(domain)), key)
        return replace(self, sign=bytes(sig.signature))

    def signer(self, domain: Domain) -> str | None:
        """The address that signed this order (None when unsigned or malformed)."""
        from eth_account import Account

        if len(self.sign) != 65:
            return None
        try:
            return Account._recover_hash(self.hash(domain), signature=self.sign)
        except Exception:  # noqa: BLE001 - a malformed signature recovers to nobody
            return None

    def as_tuple(self) -> tuple:
        """The Solidity struct (typed fields, then ``sign``) for a web3 call."""
        return tuple(self._typed_values()) + (bytes(self.sign),)

    def as_dict(self) -> dict:
        d = asdict(self)
        for k, v in d.items():
            if isinstance(v, bytes):
                d[k] = "0x" + v.hex()
        return d

    @classmethod
    def from_dict(cls, d: dict):
        kwargs = {}
        for f in fields(cls):
            if f.name not in d:
                continue
            v = d[f.name]
            if f.type in ("bytes",) or f.name in ("tag", "salt", "sign"):
                v = bytes.fromhex(v[2:]) if isinstance(v, str) else bytes(v)
            kwargs[f.name] = v
        return cls(**kwargs)

    def __post_init__(self):
        for name, typ in self.TYPE_FIELDS:
            v = getattr(self, name)
            if typ == "uint256" and (not isinstance(v, int) or isinstance(v, bool) or v < 0):
                raise KitValueError(f"{self.TYPE_NAME}.{name} is a whole number >= 0", got=repr(v))
            if typ == "uint256" and v >= 2**256:
                raise KitValueError(
                    f"{self.TYPE_NAME}.{name} does not fit in a uint256; nothing was signed",
                    expected="a whole number below 2**256 (prices in nRLC: 1 RLC = 10**9)",
                    got=f"{v} ({v.bit_length()} bits)",
                    hint=f"give {name} a value below 2**256",
                )
            if typ == "bytes32" and (not isinstance(v, (bytes, bytearray)) or len(v) != 32):
                raise KitValueError(
                    f"{self.TYPE_NAME}.{name} is 32 bytes",
                    got=repr(v),
                    hint="use Tag.parse('tee').to_bytes32() for tags, new_salt() for salts",
                )
            if typ == "address":
                try:
                    to_checksum_address(v)
                except Exception:  # noqa: BLE001
                    raise KitValueError(
                        f"{self.TYPE_NAME}.{name} is an Ethereum address", got=repr(v)
                    ) from None


@dataclass(frozen=True)
class AppOrder(_Order):
    """The app developer's offer: run ``app`` for ``appprice`` nRLC per task, ``volume`` times."""

    TYPE_NAME: ClassVar[str] = "AppOrder"
    TYPE_FIELDS: ClassVar = (
        ("app", "address"),
        ("appprice", "uint256"),
        ("volume", "uint256"),
        ("tag", "bytes32"),
        ("datasetrestrict", "address"),
        ("workerpoolrestrict", "address"),
        ("requesterrestrict", "address"),
        ("salt", "bytes32"),
    )
    app: str
    appprice: int
    volume: int = 1
    tag: bytes = ZERO32
    datasetrestrict: str = ZERO_ADDRESS
    workerpoolrestrict: str = ZERO_ADDRESS
    requesterrestrict: str = ZERO_ADDRESS
    salt: bytes = field(default_factory=new_salt)
    sign: bytes = b""

    @property
    def asset(self) -> str:
        return self.app

    @property
    def price(self) -> int:
        return self.appprice


@dataclass(frozen=True)
class DatasetOrder(_Order):
    """The dataset owner's offer: let an app use ``dataset`` for ``datasetprice`` nRLC per task."""

    TYPE_NAME: ClassVar[str] = "DatasetOrder"
    TYPE_FIELDS: ClassVar = (
        ("dataset", "address"),
        ("datasetprice", "uint256"),
        ("volume", "uint256"),
        ("tag", "bytes32"),
        ("apprestrict", "address"),
        ("workerpoolrestrict", "address"),
        ("requesterrestrict", "address"),
        ("salt", "bytes32"),
    )
    dataset: str = ZERO_ADDRESS
    datasetprice: int = 0
    volume: int = 0
    tag: bytes = ZERO32
    apprestrict: str = ZERO_ADDRESS
    workerpoolrestrict: str = ZERO_ADDRESS
    requesterrestrict: str = ZERO_ADDRESS
    salt: bytes = ZERO32
    sign: bytes = b""

    @property
    def asset(self) -> str:
        return self.dataset

    @property
    def price(self) -> int:
        return self.datasetprice

    @classmethod
    def empty(cls) -> DatasetOrder:
        """The all-zero order matchOrders takes when the request uses no dataset."""
        return cls()


@dataclass(frozen=True)
class WorkerpoolOrder(_Order):
    """The workerpool manager's offer: compute in ``category`` with ``trust`` for a price per
    task."""

    TYPE_NAME: ClassVar[str] = "WorkerpoolOrder"
    TYPE_FIELDS: ClassVar = (
        ("workerpool", "address"),
        ("workerpoolprice", "uint256"),
        ("volume", "uint256"),
        ("tag", "bytes32"),
        ("category", "uint256"),
        ("trust", "uint256"),
        ("apprestrict", "address"),
        ("datasetrestrict", "address"),
        ("requesterrestrict", "address"),
        ("salt", "bytes32"),
    )
    workerpool: str
    workerpoolprice: int
    volume: int = 1
    tag: bytes = ZERO32
    category: int = 0
    trust: int = 0
    apprestrict: str = ZERO_ADDRESS
    datasetrestrict: str = ZERO_ADDRESS
    requesterrestrict: str = ZERO_ADDRESS
    salt: bytes = field(default_factory=new_salt)
    sign: bytes = b""

    @property
    def asset(self) -> str:
        return self.workerpool

    @property
    def price(self) -> int:
        return self.workerpoolprice


@dataclass(frozen=True)
class RequestOrder(_Order):
    """The requester's order: what to run, the most it pays for each part, and its params."""

    TYPE_NAME: ClassVar[str] = "RequestOrder"
    TYPE_FIELDS: ClassVar = (
        ("app", "address"),
        ("appmaxprice", "uint256"),
        ("dataset", "address"),
        ("datasetmaxprice", "uint256"),
        ("workerpool", "address"),
        ("workerpoolmaxprice", "uint256"),
        ("requester", "address"),
        ("volume", "uint256"),
        ("tag", "bytes32"),
        ("category", "uint256"),
        ("trust", "uint256"),
        ("beneficiary", "address"),
        ("callback", "address"),
        ("params", "string"),
        ("salt", "bytes32"),
    )
    app: str
    appmaxprice: int
    requester: str
    dataset: str = ZERO_ADDRESS
    datasetmaxprice: int = 0
    workerpool: str = ZERO_ADDRESS
    workerpoolmaxprice: int = 0
    volume: int = 1
    tag: bytes = ZERO32
    category: int = 0
    trust: int = 0
    beneficiary: str = ZERO_ADDRESS
    callback: str = ZERO_ADDRESS
    params: str = ""
    salt: bytes = field(default_factory=new_salt)
    sign: bytes = b""

    @property
    def asset(self) -> str:
        return self.app

    @property
    def total_max_price(self) -> int:
        return self.appmaxprice + self.datasetmaxprice + self.workerpoolmaxprice


ORDER_TYPES = {c.TYPE_NAME: c for c in (AppOrder, DatasetOrder, WorkerpoolOrder, RequestOrder)}


class Operation:
    """manageXOrder operations: SIGN presigns on chain, CLOSE cancels."""

    SIGN = 0
    CLOSE = 1


def operation_hash(order: _Order, operation: int, domain: Domain) -> bytes:
    """EIP-712 digest of an XOrderOperation(XOrder order,uint256 operation), signed to manage an
    order from another account than its owner."""
    type_string = (
        f"{order.TYPE_NAME}Operation({order.TYPE_NAME} order,uint256 operation)"
        + order.type_string()
    )
    struct = keccak(
        encode(
            ["bytes32", "bytes32", "uint256"],
            [keccak(type_string.encode()), order.struct_hash(), operation],
        )
    )
    return keccak(b"\x19\x01" + domain.separator() + struct)


@dataclass(frozen=True)
class RequestParams:
    """A request's params, serialised to the JSON string iExec's workers read.

    ``args`` are the app's command-line arguments (split shell-style by the worker),
    ``input_files`` URLs the worker downloads into IEXEC_IN, ``storage_provider`` "ipfs" or
    "dropbox", ``storage_proxy`` the result proxy's URL, ``encryption`` whether results are
    encrypted for the beneficiary.
    """

    args: str = ""
    input_files: tuple[str, ...] = ()
    storage_provider: str = "ipfs"
    storage_proxy: str | None = None
    encryption: bool = False
    developer_logger: bool = False

    def __post_init__(self):
        if self.storage_provider not in ("ipfs", "dropbox"):
            raise KitValueError(
                "iexec_result_storage_provider is 'ipfs' or 'dropbox'",
                got=repr(self.storage_provider),
            )
        try:
            shlex.split(self.args)
        except ValueError as exc:
            raise KitValueError(
                "iexec_args must split like a shell command line", got=f"{self.args!r}: {exc}"
            ) from None

    def to_json(self) -> str:
        d: dict = {}
        if self.args:
            d["iexec_args"] = self.args
        if self.input_files:
            d["iexec_input_files"] = list(self.input_files)
        d["iexec_result_storage_provider"] = self.storage_provider
        if self.storage_proxy:
            d["iexec_result_storage_proxy"] = self.storage_proxy
        d["iexec_result_encryption"] = self.encryption
        if self.developer_logger:
            d["iexec_developer_logger"] = True
        return json.dumps(d, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str) -> RequestParams:
        if not text:
            return cls()
        try:
            d = json.loads(text)
        except json.JSONDecodeError as exc:
            raise KitValueError(
                "request params are a JSON object", got=f"{text[:80]!r}: {exc}"
            ) from None
        if not isinstance(d, dict):
            raise KitValueError("request params are a JSON object", got=type(d).__name__)
        return cls(
            args=d.get("iexec_args", ""),
            input_files=tuple(d.get("iexec_input_files", ())),
            storage_provider=d.get("iexec_result_storage_provider", "ipfs"),
            storage_proxy=d.get("iexec_result_storage_proxy"),
            encryption=bool(d.get("iexec_result_encryption", False)),
            developer_logger=bool(d.get("iexec_developer_logger", False)),
        )

    def args_list(self) -> list[str]:
        return shlex.split(self.args)
