"""The market API: iExec's marketplace HTTP API (iexec-market-api) over the kit's order book.

Enough of it for iExec's SDK and CLI (``iexec`` 8.x, ``iexecGatewayURL`` = this server's URL):
``order publish|unpublish``, ``orderbook app|dataset|workerpool|requester`` and ``app run``.

    api = MarketApi(book, hub).start()            # 127.0.0.1, a free port; or .start(host, port)
    api.url                                       # -> give it to the SDK as iexecGatewayURL
    api.stop()                                    # or: with MarketApi(book, hub) as api: ...

``iexec-kit node`` starts it with ``MarketApi(OrderBook(hub, folder), hub).start("127.0.0.1",
port)``. Routes (``chainId`` is required on each, and must be this chain's: else 400):

- ``GET /version``; ``GET /challenge?chainId&address``: an EIP-712 challenge (domain "iExec
  Gateway" v1, ``Challenge(string challenge)``) for ``address``, live :data:`CHALLENGE_TTL`
  seconds, answered again until used, then burnt (single use: a replayed Authorization is 403).
- ``POST /{app,dataset,workerpool,request}orders?chainId`` body ``{"order": <signed order>}``,
  header ``Authorization: <typed-data hash>_<signature>_<address>`` (the signed challenge, as
  the SDK's ``getAuthorization`` sends it). The order is checked before anything is stored: the
  asset registered in the hub's registry, its owner on chain (the requester for a request
  order) is the authenticated address, the EIP-712 signature is the owner's, volume is left on
  chain, and the owner's stake covers what iExec's market requires (30 % of the workerpool
  price for each task left; the requester's full price), and for a request order an open app
  (and dataset) order it could match at its max price is published. Answer
  ``{"ok": true, "published": <record>}``.
- ``PUT /{kind}orders?chainId`` (Authorization too) body ``{"target": "unpublish_orderHash",
  "orderHash"}`` or ``{"target": "unpublish_last"|"unpublish_all", "<app|dataset|workerpool|
  requester>": address}``: only the order's signer; ``{"ok": true, "unpublished": [records]}``.
- ``GET /{kind}orders?chainId&...``: open orders, with iExec's filters (``app``, ``dataset``,
  ``workerpool``, ``requester``, ``beneficiary`` or "any"; ``appOwner``/``datasetOwner``/
  ``workerpoolOwner``; ``isAppStrict``, ``isDatasetStrict``, ``isWorkerpoolStrict``,
  ``isRequesterStrict``; ``category``, ``minTrust``, ``maxTrust``, ``minTag``, ``maxTag``,
  ``minVolume``, ``bulkOnly``) and pages (``pageIndex``, ``pageSize`` 10..1000, default 20):
  ``{"ok": true, "orders": [records], "count": n, "nextPage"?: skip}``. As in iExec, an unset
  restriction filter lists only orders without that restriction; "any" lists all.
- ``GET /{kind}orders/{orderHash}?chainId``: one record, 404 if not published.

A record is iExec's: ``{orderHash, chainId, order, remaining, status, publicationTimestamp,
signer}``. ``remaining`` and ``status`` ("open", "filled", "canceled") come from the chain: before
each request the server reads the hub's ``OrdersMatched`` and ``Closed*Order`` events since the
last block it saw, and re-reads ``viewConsumed`` for the orders they name; a consumed or
cancelled order is no longer listed. Refusals are iExec's: ``{"ok": false, "error": message}``,
400 for malformed input, 403 for authorization (``invalid authorization``) and refusals, 404 for
an unknown order. :class:`MarketApiClient` is the Python side, for tests and scripts.
"""

import datetime
import json
import secrets
import threading
import time

from eth_utils import is_address, to_checksum_address

from iexec_kit.market.book import OrderBook
from iexec_kit.market.errors import (
    AssetNotRegisteredError,
    InvalidSignatureError,
    MarketApiError,
    MarketAuthError,
    MarketNotFoundError,
    MarketRefusedError,
    MarketValidationError,
    OrderNotLiveError,
)
from iexec_kit.market.store import ENTRY_SELECT, INT_MAX, KINDS, ZERO, entry_from_row, low
from iexec_kit.storage.server import HttpService

CHALLENGE_TTL = 300  # seconds, as iExec's challenge model (expires: 5 min)
DOMAIN_NAME, DOMAIN_VERSION = "iExec Gateway", "1"
CHALLENGE_TEXT = "Sign this message to log into iExec Gateway: "
MIN_PAGE, MAX_PAGE, DEFAULT_PAGE = 10, 1000, 20
ANY = "any"
DATASET_INFINITE_VOLUME = 2**53 - 1  # Number.MAX_SAFE_INTEGER
WORKERPOOL_STAKE_RATIO = 30  # % of the workerpool price locked per task (PoCo)
#: route -> order kind, and the address field unpublish_last/unpublish_all name
ROUTES = {"apporders": "app", "datasetorders": "dataset", "workerpoolorders": "workerpool",
          "requestorders": "request"}  # fmt: skip
ADDRESS_FIELD = {"app": "app", "dataset": "dataset", "workerpool": "workerpool",
                 "request": "requester"}  # fmt: skip
UNPUBLISH_HASH, UNPUBLISH_LAST, UNPUBLISH_ALL = (
    "unpublish_orderHash",
    "unpublish_last",
    "unpublish_all",
)
AUTH_ERROR = "invalid authorization"


def challenge_typed_data(chain_id: int, value: str) -> dict:
    """The EIP-712 challenge a wallet signs to publish or unpublish (iExec Gateway's)."""
    from iexec_kit.protocol.eip712 import challenge_typed_data as typed

    return typed(CHALLENGE_TEXT + value, chain_id, name=DOMAIN_NAME, version=DOMAIN_VERSION)


def sign_challenge(typed: dict, private_key) -> str:
    """The Authorization header for a challenge: ``<hash>_<signature>_<address>``."""
    from iexec_kit.storage.auth import sign_challenge as sign

    return sign(typed, private_key)


class Challenges:
    """Live challenges, one per address: issued, answered again until used, burnt on use."""

    def __init__(self, chain_id: int, ttl: float = CHALLENGE_TTL, clock=time.time):
        self.chain_id, self.ttl, self._clock = chain_id, ttl, clock
        self._live: dict[str, tuple[str, str, float]] = {}  # address -> (value, hash, expiry)
        self._lock = threading.Lock()

    def issue(self, address: str) -> dict:
        from iexec_kit.storage.auth import typed_data_hash

        address = low(address)
        with self._lock:
            now = self._clock()
            self._live = {a: v for a, v in self._live.items() if v[2] > now}
            if address in self._live:
                return challenge_typed_data(self.chain_id, self._live[address][0])
            value = secrets.token_urlsafe(16)
            typed = challenge_typed_data(self.chain_id, value)
            self._live[address] = (value, typed_data_hash(typed).lower(), now + self.ttl)
            return typed

    def check(self, authorization: str | None) -> str:
        """The address an Authorization speaks for; its challenge is burnt (MarketAuthError)."""
        from eth_account import Account
        from eth_account.messages import encode_typed_data

        if not authorization:
            raise MarketAuthError(
                "missing Authorization, please first sign a challenge",
                expected="an Authorization header: <hash>_<signature>_<address>",
                got="none",
                hint="GET /challenge?chainId=..&address=.., sign it (EIP-712), send it",
            )
        parts = authorization.strip().split("_")
        if len(parts) != 3 or not is_address(parts[2]):
            raise MarketAuthError(
                "Authorization check failed",
                expected="<hash>_<signature>_<address>",
                got=authorization[:80],
            )
        digest, signature, address = parts[0].lower(), parts[1], low(parts[2])
        if address == ZERO:
            raise MarketAuthError("Null address", got=address)
        with self._lock:
            live = self._live.get(address)
            if live is None or live[1] != digest or live[2] <= self._clock():
                raise MarketAuthError(
                    "Challenge not valid. Need to request a new challenge.",
                    expected="the hash of a live challenge issued to this address",
                    got=digest[:20] + "...",
                    hint=f"a challenge is used once and lives {self.ttl:.0f} s: ask for a new one",
                )
            typed = challenge_typed_data(self.chain_id, live[0])
            try:
                signer = Account.recover_message(
                    encode_typed_data(full_message=typed), signature=signature
                )
            except Exception:  # noqa: BLE001 - a malformed signature recovers to nobody
                signer = None
            if signer is None or low(signer) != address:
                raise MarketAuthError(
                    "Failed to verify signer, addresses mismatch.", expected=address, got=signer
                )
            del self._live[address]  # burnt: the same Authorization cannot be replayed
        return to_checksum_address(address)


# ----- request parsing (iExec's validation messages) ----------------------------------------
def _address(name: str, value, *, allow_any: bool = False) -> str:
    if allow_any and value == ANY:
        return ANY
    if not isinstance(value, str) or not is_address(value):
        what = (
            f'neither "{ANY}" nor a valid ethereum address'
            if allow_any
            else ("not a valid ethereum address")
        )
        raise MarketValidationError(f"{name} is {what}", got=repr(value)[:80])
    return to_checksum_address(value)


def _uint(name: str, value, *, low_bound: int = 0, high: int | None = None) -> int:
    try:
        if isinstance(value, bool) or isinstance(value, float) and not value.is_integer():
            raise ValueError
        n = int(value)
    except (TypeError, ValueError):
        raise MarketValidationError(f"{name} must be a number", got=repr(value)[:80]) from None
    if n < low_bound:
        raise MarketValidationError(
            f"{name} must be greater than or equal to {low_bound}", got=str(n)
        )
    if high is not None and n > high:
        raise MarketValidationError(f"{name} must be less than or equal to {high}", got=str(n))
    if n >= 2**256:
        raise MarketValidationError(f"{name} must be a uint256", got=str(n))
    return n


def _bytes32(name: str, value) -> bytes:
    text = value.lower() if isinstance(value, str) else ""
    if len(text) != 66 or not text.startswith("0x"):
        raise MarketValidationError(f"{name} must be a bytes32 hexstring", got=repr(value)[:80])
    try:
        return bytes.fromhex(text[2:])
    except ValueError:
        raise MarketValidationError(
            f"{name} must be a bytes32 hexstring", got=repr(value)[:80]
        ) from None


def _bool(name: str, value) -> bool:
    if value in (None, ""):
        return False
    if str(value).lower() in ("true", "1"):
        return True
    if str(value).lower() in ("false", "0"):
        return False
    raise MarketValidationError(f"{name} must be a `boolean` type", got=repr(value)[:40])


def parse_order(kind: str, data) -> object:
    """A signed order from the JSON the SDK posts (uints as decimal strings or numbers)."""
    cls = KINDS[kind]
    name = f"{kind}order"
    if not isinstance(data, dict):
        raise MarketValidationError("order is a required field", got=repr(data)[:80])
    kwargs = {}
    for field, typ in cls.TYPE_FIELDS:
        if field not in data:
            raise MarketValidationError(f"order.{field} is a required field", expected=name)
        v = data[field]
        if typ == "address":
            kwargs[field] = _address(f"order.{field}", v)
        elif typ == "uint256":
            kwargs[field] = _uint(f"order.{field}", v)
        elif typ == "bytes32":
            kwargs[field] = _bytes32(f"order.{field}", v)
        elif not isinstance(v, str):
            raise MarketValidationError(f"order.{field} must be a `string` type", got=repr(v))
        else:
            kwargs[field] = v
    sign = data.get("sign")
    if not sign:
        raise MarketValidationError(
            "order.sign is a required field",
            expected=f"a signed {name}",
            got="no signature",
            hint="sign the order with its owner's wallet (iexec order sign)",
        )
    text = sign.lower() if isinstance(sign, str) else ""
    try:
        if not text.startswith("0x"):
            raise ValueError
        kwargs["sign"] = bytes.fromhex(text[2:])
    except ValueError:
        raise MarketValidationError(
            "order.sign must be a valid signature", got=repr(sign)[:80]
        ) from None
    return cls(**kwargs)


def order_json(order, *, numbers: bool = True) -> dict:
    """An order as iExec's market API shows it (``numbers=False``: uints as strings, as the
    SDK posts them)."""
    out = {}
    for field, typ in order.TYPE_FIELDS:
        v = getattr(order, field)
        if typ == "address":
            out[field] = to_checksum_address(v)
        elif typ == "uint256":
            out[field] = v if numbers else str(v)
        elif typ == "bytes32":
            out[field] = "0x" + bytes(v).hex()
        else:
            out[field] = v
    out["sign"] = "0x" + bytes(order.sign).hex()
    return out


def _iso(ts: float) -> str:
    d = datetime.datetime.fromtimestamp(ts, datetime.UTC)
    return d.strftime("%Y-%m-%dT%H:%M:%S.") + f"{d.microsecond // 1000:03d}Z"


def _tag_int(value: bytes) -> int:
    return int.from_bytes(value, "big")


class MarketApi(HttpService):
    """iExec's market API over an :class:`OrderBook` and the hub it reads (see the module's doc).

    ``MarketApi(book)`` uses ``book.hub``; ``chain_id`` defaults to the hub's chain and is the
    only one accepted. Callable directly (``publish``, ``unpublish``, ``orders``, ``order``) or
    over HTTP once :meth:`start` ed.
    """

    SERVICE_NAME = "market-api"

    def __init__(
        self,
        book: OrderBook,
        hub=None,
        chain_id: int | None = None,
        *,
        challenge_ttl: float = CHALLENGE_TTL,
        clock=time.time,
    ):
        self.book = book
        self.hub = hub or book.hub
        self.chain_id = int(chain_id if chain_id is not None else book.domain.chain_id)
        self.challenges = Challenges(self.chain_id, challenge_ttl, clock)
        self._lock = threading.RLock()  # one request at a time against the chain and the book
        self._synced = -1
        self._cancelled: set[str] = set()
        self.server = None

    # ----- the chain's view ---------------------------------------------------------------
    def sync(self) -> None:
        """Read the hub's events since the last block seen; re-read the volume left of every
        order they name (and of all partly used ones after a chain revert)."""
        chain = self.hub.chain
        head = chain.block_number()
        with self._lock:
            if head == self._synced:
                return
            reverted = head < self._synced
            start = 0 if reverted or self._synced < 0 else self._synced + 1
            if start == 0:
                self._cancelled = set()
            touched: set[str] = set()
            events = self.hub.contract.events
            for log in events.OrdersMatched.get_logs(from_block=start, to_block=head):
                a = log["args"]
                for key in ("appHash", "datasetHash", "workerpoolHash", "requestHash"):
                    touched.add("0x" + bytes(a[key]).hex())
            for kind in ("App", "Dataset", "Workerpool", "Request"):
                event = getattr(events, f"Closed{kind}Order")
                for log in event.get_logs(from_block=start, to_block=head):
                    h = "0x" + bytes(next(iter(log["args"].values()))).hex()
                    touched.add(h)
                    self._cancelled.add(h)
            sql = f"{ENTRY_SELECT} WHERE hash IN ({{}})"
            hashes = sorted(touched)
            for i in range(0, len(hashes), 500):
                chunk = hashes[i : i + 500]
                for row in self.book.store.query(sql.format(",".join("?" * len(chunk))), chunk):
                    self.book.refresh(entry_from_row(row))
            if reverted:
                for row in self.book.store.query(f"{ENTRY_SELECT} WHERE remaining < volume"):
                    self.book.refresh(entry_from_row(row))
            self._synced = head

    def status(self, entry) -> str:
        """iExec's status of a book entry: "open", "canceled" or "filled"."""
        if entry.remaining > 0:
            return "open"
        return "canceled" if entry.hash in self._cancelled else "filled"

    def record(self, entry) -> dict:
        """A book entry as iExec's market API answers it."""
        return {
            "orderHash": entry.hash,
            "chainId": self.chain_id,
            "order": order_json(entry.order),
            "remaining": entry.remaining,
            "status": self.status(entry),
            "publicationTimestamp": _iso(entry.published_at),
            "signer": entry.owner,
        }

    def check_chain(self, chain_id) -> int:
        """The request's chainId, which must be this chain's (400 otherwise)."""
        if chain_id is None or str(chain_id).strip() == "":
            raise MarketValidationError("chainId is a required field")
        if str(chain_id).strip() != str(self.chain_id):
            raise MarketValidationError(
                f"chainId {chain_id} is not supported",
                expected=f"chainId {self.chain_id}",
                got=str(chain_id),
                hint="point the SDK at the hub of this chain (chain.json / hubAddress)",
            )
        return self.chain_id

    # ----- routes' logic ------------------------------------------------------------------
    def challenge(self, chain_id, address) -> dict:
        self.check_chain(chain_id)
        if address is None:
            raise MarketValidationError("address is a required field")
        return self.challenges.issue(_address("address", address))

    def publish(self, kind: str, chain_id, authorization: str | None, body) -> dict:
        """Check and store a signed order (nothing is stored if a check fails)."""
        self.check_chain(chain_id)
        who = self.challenges.check(authorization)
        if not isinstance(body, dict) or body.get("order") is None:
            raise MarketValidationError("order is a required field", got=repr(body)[:80])
        order = parse_order(kind, body["order"])
        with self._lock:
            self.sync()
            order_hash = "0x" + order.hash(self.book.domain).hex()
            existing = self.book._entry(order_hash)
            if existing is not None and existing.remaining > 0:
                raise MarketRefusedError(
                    "order already published",
                    got=order_hash,
                    hint="it is on the book already: GET it by hash",
                )
            try:
                signer = self.book.owner_of(order)
            except AssetNotRegisteredError as exc:
                raise MarketRefusedError(
                    "Resource not deployed",
                    expected=exc.expected,
                    got=exc.got,
                    hint=exc.hint,
                ) from None
            if low(signer) != low(who):
                raise MarketRefusedError(
                    f"only order signer {signer} can publish an order",
                    expected=signer,
                    got=who,
                    hint="sign in with the wallet that owns the asset (or the requester)",
                )
            signer_of = order.signer(self.book.domain)
            if signer_of is None or low(signer_of) != low(signer):
                raise MarketRefusedError(
                    "invalid sign",
                    expected=f"an EIP-712 signature by {signer}",
                    got=f"a signature by {signer_of}" if signer_of else "a malformed signature",
                    hint="sign the final order with the owner's key (iexec order sign)",
                )
            remaining = self.hub.remaining(order)
            if remaining == 0:
                raise MarketRefusedError(
                    "order already consumed",
                    expected="an order with volume left on chain",
                    got=f"remaining 0 of {order.volume} (consumed by deals or cancelled)",
                    hint="sign a new order (a new salt)",
                )
            self._check_stake(kind, order, signer, remaining)
            if kind == "request":
                self._check_matchable(order)
            try:
                entry = self.book.publish(order)
            except (InvalidSignatureError, OrderNotLiveError, AssetNotRegisteredError) as exc:
                raise MarketRefusedError(
                    str(exc).splitlines()[0], expected=exc.expected, got=exc.got
                ) from None
            return self.record(entry)

    def _check_stake(self, kind: str, order, signer: str, remaining: int) -> None:
        if kind == "workerpool":
            need = order.workerpoolprice * WORKERPOOL_STAKE_RATIO // 100 * remaining
            have = self.hub.account(signer).stake
            if have < need:
                raise MarketRefusedError(
                    "workerpool owner's stake is too low to cover required workerpool lock",
                    expected=f"a stake >= {need} nRLC",
                    got=f"{have} nRLC",
                    hint="deposit RLC on the hub (iexec account deposit)",
                )
        elif kind == "request":
            need = order.total_max_price * remaining
            have = self.hub.account(signer).stake
            if have < need:
                raise MarketRefusedError(
                    "requester stake is too low to cover requestorder payment, "
                    f"minimum stake required is {need} nRLC",
                    expected=f"a stake >= {need} nRLC",
                    got=f"{have} nRLC",
                    hint="deposit RLC on the hub (iexec account deposit)",
                )

    def _check_matchable(self, request) -> None:
        """iExec's market takes a request order only if an open app order (and dataset order)
        it could match is published, at a price it accepts."""
        from iexec_kit.protocol.tags import Tag

        tee = bool(int(Tag.parse(request.tag)) & int(Tag.TEE))
        sides = [("app", "dataset", request.appmaxprice)]
        if low(request.dataset) != ZERO:
            sides.append(("dataset", "app", request.datasetmaxprice))
        for kind, other, max_price in sides:
            asset = getattr(request, kind)
            rows = self.book.store.query(
                f"SELECT price FROM orders WHERE kind = ? AND {kind} = ? AND remaining > 0 "
                f"AND workerpoolrestrict IN (?, ?) AND {other}restrict IN (?, ?) "
                "AND requesterrestrict IN (?, ?)"
                + (" AND (tag & ?) != 0" if tee and kind == "app" else "")
                + " ORDER BY price, seq LIMIT 1",
                [
                    kind,
                    low(asset),
                    ZERO,
                    low(request.workerpool),
                    ZERO,
                    low(getattr(request, other)),
                ]
                + [ZERO, low(request.requester)]
                + ([int(Tag.TEE)] if tee and kind == "app" else []),
            )
            if not rows:
                what = "tee enabled " if tee and kind == "app" else ""
                raise MarketRefusedError(
                    f"No {what}{kind}order published for {kind} {to_checksum_address(asset)}",
                    expected=f"an open {kind} order on this market the request can match",
                    got="none",
                    hint=f"publish the {kind}'s order first",
                )
            if max_price < rows[0][0]:
                raise MarketRefusedError(
                    f"{kind}maxprice for {kind} {to_checksum_address(asset)} is too low, "
                    f"actual best price is {rows[0][0]} nRLC",
                    expected=f"{kind}maxprice >= {rows[0][0]}",
                    got=str(max_price),
                )

    def unpublish(self, kind: str, chain_id, authorization: str | None, body) -> list[dict]:
        """Take orders off the book: one by hash, the signer's last or all for an asset."""
        self.check_chain(chain_id)
        who = self.challenges.check(authorization)
        if not isinstance(body, dict):
            raise MarketValidationError("body must be a JSON object", got=repr(body)[:80])
        target = body.get("target") or UNPUBLISH_HASH
        if target not in (UNPUBLISH_HASH, UNPUBLISH_LAST, UNPUBLISH_ALL):
            raise MarketValidationError(
                f"target must be one of the following values: {UNPUBLISH_HASH}, "
                f"{UNPUBLISH_LAST}, {UNPUBLISH_ALL}",
                got=repr(target)[:80],
            )
        name, field = f"{kind}order", ADDRESS_FIELD[kind]
        with self._lock:
            self.sync()
            if target == UNPUBLISH_HASH:
                if body.get("orderHash") is None:
                    raise MarketValidationError("orderHash is a required field")
                h = "0x" + _bytes32("orderHash", body["orderHash"]).hex()
                entry = self.book._entry(h)
                if entry is None or entry.kind != kind or entry.remaining == 0:
                    raise MarketRefusedError(f"{name} with orderHash {h} is not published", got=h)
                if low(entry.owner) != low(who):
                    raise MarketRefusedError(
                        f"only order signer {entry.owner} can unpublish an order",
                        expected=entry.owner,
                        got=who,
                    )
                entries = [entry]
            else:
                if body.get(field) is None:
                    raise MarketValidationError(f"{field} is a required field")
                address = _address(field, body[field])
                rows = self.book.store.query(
                    f"{ENTRY_SELECT} WHERE kind = ? AND {field} = ? AND owner = ? "
                    "AND remaining > 0 ORDER BY seq DESC",
                    (kind, low(address), low(who)),
                )
                if not rows:
                    raise MarketRefusedError(
                        f"no open {name} published by signer {who} for {field} {address}"
                    )
                entries = [
                    entry_from_row(r) for r in rows[: 1 if target == UNPUBLISH_LAST else None]
                ]
            records = [self.record(e) for e in entries]
            self.book.remove([e.hash for e in entries])
            return records

    def order(self, kind: str, chain_id, order_hash: str) -> dict:
        """One published order's record, its volume left read from the chain now."""
        self.check_chain(chain_id)
        h = "0x" + _bytes32("orderHash", order_hash).hex()
        with self._lock:
            self.sync()
            entry = self.book._entry(h)
            if entry is None or entry.kind != kind:
                raise MarketNotFoundError(f"{kind}order not found", got=h)
            return self.record(self.book.refresh(entry))

    def orders(self, kind: str, query: dict) -> dict:
        """Open orders of one kind with iExec's filters and pages: {orders, count, nextPage}."""
        self.check_chain(query.get("chainId"))
        where, args = self._filters(kind, query)
        limit, skip = self._page(query)
        if kind == "request":
            sort = "CAST(json_extract(body, '$.workerpoolmaxprice') AS INTEGER) DESC, seq, hash"
        else:
            sort = "price ASC, seq ASC, hash ASC"
        sql_where = " AND ".join(where)
        with self._lock:
            self.sync()
            with self.book.store.read() as c:
                count = c.execute(
                    f"SELECT COUNT(*) FROM orders WHERE {sql_where}", args
                ).fetchone()[0]
                rows = c.execute(
                    f"{ENTRY_SELECT} WHERE {sql_where} ORDER BY {sort} LIMIT ? OFFSET ?",
                    [*args, limit, skip],
                ).fetchall()
            out = {"orders": [self.record(entry_from_row(r)) for r in rows], "count": count}
        if len(rows) == limit:
            out["nextPage"] = skip + limit
        return out

    @staticmethod
    def _page(query: dict) -> tuple[int, int]:
        size, index, page = (query.get(k) for k in ("pageSize", "pageIndex", "page"))
        if size is not None:
            size = _uint("pageSize", size)
            if size < MIN_PAGE:
                raise MarketValidationError(
                    f"pageSize must be greater than or equal to {MIN_PAGE}", got=str(size)
                )
            if size > MAX_PAGE:
                raise MarketValidationError(
                    f"pageSize must be less than or equal to {MAX_PAGE}", got=str(size)
                )
        if index is not None or size is not None:
            limit = size or DEFAULT_PAGE
            return limit, limit * _uint("pageIndex", index or 0, high=2**53 - 1)
        return DEFAULT_PAGE, _uint("page", page or 0, high=2**53 - 1)  # legacy: page = skip

    def _filters(self, kind: str, q: dict) -> tuple[list, list]:
        where, args = ["kind = ?", "remaining > 0"], [kind]

        def eq_or_any(param: str, column: str, *, required: str | None = None, json_key=None):
            value = q.get(param)
            if value is None:
                if required:
                    raise MarketValidationError(required)
                return
            value = _address(param, value, allow_any=True)
            if value != ANY:
                col = f"lower(json_extract(body, '$.{json_key}'))" if json_key else column
                where.append(f"{col} = ?")
                args.append(low(value))

        def restrict(param: str, column: str, strict_param: str):
            value, strict = q.get(param), _bool(strict_param, q.get(strict_param))
            if value is None:
                where.append(f"{column} = ?")
                args.append(ZERO)
                return
            value = _address(param, value, allow_any=True)
            if value == ANY:
                return
            if strict:
                where.append(f"{column} = ?")
                args.append(low(value))
            else:
                where.append(f"{column} IN (?, ?)")
                args.extend([ZERO, low(value)])

        def owner(param: str):
            if q.get(param) is not None:
                where.append("owner = ?")
                args.append(low(_address(param, q[param])))

        def category():
            if q.get("category") is not None:
                where.append("category = ?")
                args.append(min(_uint("category", q["category"]), INT_MAX))

        if kind == "app":
            need = None if q.get("appOwner") else "app or appOwner is required"
            eq_or_any("app", "app", required=need)
            owner("appOwner")
            restrict("dataset", "datasetrestrict", "isDatasetStrict")
            restrict("workerpool", "workerpoolrestrict", "isWorkerpoolStrict")
            restrict("requester", "requesterrestrict", "isRequesterStrict")
        elif kind == "dataset":
            need = None if q.get("datasetOwner") else "dataset or datasetOwner is required"
            eq_or_any("dataset", "dataset", required=need)
            owner("datasetOwner")
            if _bool("bulkOnly", q.get("bulkOnly")):
                where.append("volume >= ? AND price = 0")
                args.append(DATASET_INFINITE_VOLUME - 1)
            restrict("app", "apprestrict", "isAppStrict")
            restrict("workerpool", "workerpoolrestrict", "isWorkerpoolStrict")
            restrict("requester", "requesterrestrict", "isRequesterStrict")
        elif kind == "workerpool":
            category()
            eq_or_any("workerpool", "workerpool")
            owner("workerpoolOwner")
            restrict("app", "apprestrict", "isAppStrict")
            restrict("dataset", "datasetrestrict", "isDatasetStrict")
            restrict("requester", "requesterrestrict", "isRequesterStrict")
            if q.get("minTrust") is not None:
                trust = _uint("minTrust", q["minTrust"])
                if trust > 1:  # iExec: trust 0 and 1 both mean "no replication"
                    where.append("trust >= ?")
                    args.append(min(trust, INT_MAX))
        else:
            category()
            eq_or_any("app", "app")
            eq_or_any("dataset", "dataset")
            eq_or_any("requester", "requester")
            eq_or_any("beneficiary", "", json_key="beneficiary")
            restrict("workerpool", "workerpool", "isWorkerpoolStrict")
            if q.get("maxTrust") is not None:
                where.append("trust <= ?")
                args.append(min(_uint("maxTrust", q["maxTrust"]), INT_MAX))
        if q.get("minVolume") is not None:
            where.append("remaining >= ?")
            args.append(min(_uint("minVolume", q["minVolume"], low_bound=1), INT_MAX))
        # tags: the store keeps bits 0..62 in `tag` and "any bit above" in `tag_high`
        if q.get("minTag") is not None:
            t = _tag_int(_bytes32("minTag", q["minTag"]))
            if t & INT_MAX:
                where.append("(tag & ?) = ?")
                args += [t & INT_MAX, t & INT_MAX]
            if t >> 63:
                where.append("tag_high = 1")
        if q.get("maxTag") is not None:
            t = _tag_int(_bytes32("maxTag", q["maxTag"]))
            where.append("(tag & ?) = 0")
            args.append(INT_MAX & ~(t & INT_MAX))
            if not t >> 63:
                where.append("tag_high = 0")
        return where, args

    # ----- HTTP ---------------------------------------------------------------------------
    def http_app(self):
        """The ASGI app :meth:`start` serves (:class:`~iexec_kit.storage.server.HttpService`)."""
        return create_market_app(self)


def error_body(exc: MarketApiError) -> dict:
    """iExec's refusal: ``{"ok": false, "error": message}`` (auth errors all say
    ``invalid authorization``, as iExec's market does)."""
    if isinstance(exc, MarketAuthError):
        return {"ok": False, "error": AUTH_ERROR}
    return {"ok": False, "error": str(exc).splitlines()[0]}


def create_market_app(api: MarketApi):
    """The market API's HTTP routes (FastAPI); the logic is :class:`MarketApi`'s."""
    from fastapi import FastAPI, Request
    from fastapi.responses import JSONResponse

    app = FastAPI(title="iexec-kit market API", version="1", docs_url=None, redoc_url=None)

    @app.exception_handler(MarketApiError)
    async def refused(request, exc: MarketApiError):
        return JSONResponse(error_body(exc), status_code=exc.status)

    async def body_of(request: Request):
        raw = await request.body()
        if not raw:
            return {}
        try:
            return json.loads(raw)
        except ValueError:
            raise MarketValidationError(
                "the body is not JSON", got=raw[:60].decode("utf-8", "replace")
            ) from None

    @app.get("/version")
    def version():
        return {"ok": True, "version": "iexec-kit-1"}

    @app.get("/challenge")
    def challenge(request: Request):
        q = request.query_params
        return {"ok": True, "data": api.challenge(q.get("chainId"), q.get("address"))}

    for route, kind in ROUTES.items():

        def routes(route=route, kind=kind):
            @app.get(f"/{route}")
            def listing(request: Request):
                return {"ok": True, **api.orders(kind, dict(request.query_params))}

            @app.get(f"/{route}/{{order_hash}}")
            def one(request: Request, order_hash: str):
                return {
                    "ok": True,
                    **api.order(kind, request.query_params.get("chainId"), order_hash),
                }

            def writing(method: str, answer_key: str):
                """POST publishes, PUT unpublishes: the same signed body, checked off the loop."""

                async def write(request: Request):
                    from starlette.concurrency import run_in_threadpool

                    chain_id = request.query_params.get("chainId")
                    api.check_chain(chain_id)
                    body = await body_of(request)
                    done = await run_in_threadpool(
                        method,
                        kind,
                        chain_id,
                        request.headers.get("authorization"),
                        body,
                    )
                    return {"ok": True, answer_key: done}

                return write

            app.post(f"/{route}")(writing(api.publish, "published"))
            app.put(f"/{route}")(writing(api.unpublish, "unpublished"))

        routes()
    return app


class MarketApiClient:
    """The Python side of the market API (what the SDK does, for tests and scripts)."""

    ERRORS = {400: MarketValidationError, 403: MarketRefusedError, 404: MarketNotFoundError}

    def __init__(self, url: str, *, chain_id: int, timeout: float = 30.0):
        import requests

        self.url, self.chain_id, self.timeout = url.rstrip("/"), chain_id, timeout
        self._http = requests.Session()

    def call(self, method: str, path: str, *, params=None, json_body=None, headers=None):
        """(HTTP status, JSON answer) of one request, refusals included."""
        params = {"chainId": self.chain_id, **(params or {})}
        res = self._http.request(
            method,
            self.url + path,
            params={k: v for k, v in params.items() if v is not None},
            json=json_body,
            headers=headers,
            timeout=self.timeout,
        )
        try:
            return res.status_code, res.json()
        except ValueError:
            return res.status_code, {"ok": False, "error": res.text}

    def _ok(self, status: int, body: dict) -> dict:
        if status >= 400 or not body.get("ok"):
            kind = self.ERRORS.get(status, MarketApiError)
            if status == 403 and body.get("error") == AUTH_ERROR:
                kind = MarketAuthError
            error = kind(f"market API: HTTP {status}: {body.get('error')}")
            error.status_code, error.body = status, body
            raise error
        return body

    def challenge(self, address: str) -> dict:
        """The EIP-712 challenge to sign for ``address``."""
        return self._ok(*self.call("GET", "/challenge", params={"address": address}))["data"]

    def authorization(self, private_key) -> str:
        """A fresh Authorization header value, signed with ``private_key``."""
        from eth_account import Account

        return sign_challenge(self.challenge(Account.from_key(private_key).address), private_key)

    def publish(self, order, private_key=None, *, authorization: str | None = None) -> dict:
        """Publish a signed order; returns its record."""
        kind = _kind_of(order)
        auth = authorization or self.authorization(private_key)
        body = {"order": order_json(order, numbers=False)}
        return self._ok(
            *self.call("POST", f"/{kind}orders", json_body=body, headers={"Authorization": auth})
        )["published"]

    def unpublish(self, kind: str, private_key, order_hash: str | None = None, *, target=None,
                  address: str | None = None) -> list[dict]:  # fmt: skip
        """Unpublish by hash (default), or ``target="unpublish_last"|"unpublish_all"`` for an
        ``address`` (app, dataset, workerpool; the requester for request orders)."""
        body = {"target": target or UNPUBLISH_HASH}
        if order_hash is not None:
            body["orderHash"] = order_hash
        if address is not None:
            body[ADDRESS_FIELD[kind]] = address
        auth = self.authorization(private_key)
        return self._ok(
            *self.call("PUT", f"/{kind}orders", json_body=body, headers={"Authorization": auth})
        )["unpublished"]

    def orders(self, kind: str, **query) -> dict:
        """One page of open orders: {orders, count, nextPage?} (iExec's query parameters)."""
        query = {k: (str(v).lower() if isinstance(v, bool) else v) for k, v in query.items()}
        body = self._ok(*self.call("GET", f"/{kind}orders", params=query))
        body.pop("ok")
        return body

    def order(self, kind: str, order_hash: str) -> dict:
        """The record of one published order."""
        body = self._ok(*self.call("GET", f"/{kind}orders/{order_hash}"))
        body.pop("ok")
        return body


def _kind_of(order) -> str:
    from iexec_kit.market.store import kind_of

    return kind_of(order)


__all__ = [
    "MarketApi",
    "MarketApiClient",
    "Challenges",
    "challenge_typed_data",
    "sign_challenge",
    "parse_order",
    "order_json",
    "create_market_app",
]
