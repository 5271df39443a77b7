"""matchOrders' checks as one table: (code, predicate, phrase), in the contract's order.

PoCo's matchOrders refuses four orders with a code (POCO.md): 0x00-0x07 for categories, trust,
prices and tags; 0x10-0x1b for the assets asked for and the restrictions; then 0x20-0x60 for
what needs the chain (registration, signatures, volume left). Each check is written here once:

- :data:`RULES` holds the checks on the orders' own fields, each with its code, its predicate
  (a :class:`Kind` over named fields, so a caller can evaluate it in Python or translate it to a
  query, as the order book does in SQL) and the phrase that says what is wrong with the numbers;
- :data:`MEANINGS` says, for every code, what the contract's refusal means and what to do.

The hub client's pre-check (:mod:`iexec_kit.poco.matching`) and the order book
(:mod:`iexec_kit.market`) both evaluate :data:`RULES`; neither restates a rule.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any

from iexec_kit.protocol.tags import Tag
from iexec_kit.protocol.units import ZERO_ADDRESS, is_zero_address, nrlc, same_address

#: The four sides of a match, as matchOrders takes them.
SIDES = ("app", "dataset", "workerpool", "request")


class Kind(Enum):
    """The shape of a predicate over two fields ``a`` and ``b`` (``Field`` pairs)."""

    EQUAL = "a == b"  # numbers, or addresses in any case
    AT_MOST = "a <= b"
    ALLOWS = "a is the zero address or a == b"  # a restriction ``a`` lets account ``b`` in
    TAGS_OFFERED = "the tags asked for (app | dataset | request) are all in b"
    TEE_AGREES = "the TEE bit asked for equals the app order's TEE bit"


@dataclass(frozen=True)
class Field:
    """One field of one of the four orders: ``Field("request", "appmaxprice")``."""

    side: str
    name: str

    def of(self, orders: Mapping[str, Any]) -> Any:
        return getattr(orders[self.side], self.name)


@dataclass(frozen=True)
class Rule:
    """One of matchOrders' checks: fails with ``code`` unless ``kind`` holds for ``a`` and ``b``.

    ``detail(orders)`` is the phrase that says what is wrong, with the orders' own numbers."""

    code: str
    kind: Kind
    a: Field
    b: Field
    detail: Callable[[Mapping[str, Any]], str]

    @property
    def sides(self) -> frozenset[str]:
        """The orders this rule reads (TAGS_OFFERED and TEE_AGREES read all but the pool's)."""
        if self.kind in (Kind.TAGS_OFFERED, Kind.TEE_AGREES):
            return frozenset(("app", "dataset", "request", self.b.side))
        return frozenset((self.a.side, self.b.side))

    def holds(self, orders: Mapping[str, Any]) -> bool:
        """True when the orders pass this check (``orders`` maps each side to its order)."""
        if self.kind in (Kind.TAGS_OFFERED, Kind.TEE_AGREES):
            asked = asked_tags(orders)
            if self.kind is Kind.TAGS_OFFERED:
                return asked & ~tag_bits(self.b.of(orders)) == 0
            return (asked ^ tag_bits(self.b.of(orders))) & Tag.TEE == 0
        a, b = self.a.of(orders), self.b.of(orders)
        if self.kind is Kind.EQUAL:
            return same_address(a, b) if isinstance(a, str) else a == b
        if self.kind is Kind.AT_MOST:
            return a <= b
        return is_zero_address(a) or same_address(a, b)  # ALLOWS


def tag_bits(tag: Any) -> int:
    """An order's tag as an int (from bytes32, 0x-hex, an int or a Tag)."""
    return int(Tag.parse(tag))


def asked_tags(orders: Mapping[str, Any]) -> int:
    """The tags the app, dataset and request orders ask the workerpool for, together."""
    return (
        tag_bits(orders["app"].tag)
        | tag_bits(orders["dataset"].tag)
        | tag_bits(orders["request"].tag)
    )


def _f(spec: str) -> Field:
    side, name = spec.split(".")
    return Field(side, name)


def _price(kind: str, mine: str) -> Callable[[Mapping[str, Any]], str]:
    def detail(o):
        return (
            f"your {kind} max price {nrlc(getattr(o['request'], f'{kind}maxprice'))} is below "
            f"the {kind} order's price {nrlc(getattr(o[mine], f'{kind}price'))}"
        )

    return detail


def _restriction(phrase: str, a: str, b: str) -> Callable[[Mapping[str, Any]], str]:
    return lambda o: f"{phrase} {_f(a).of(o)}, not {_f(b).of(o)}"


def _missing_tags(o) -> str:
    offered = Tag.parse(o["workerpool"].tag)
    asked = Tag(asked_tags(o))
    return (
        f"the workerpool order does not offer {Tag(int(asked) & ~int(offered))!s} "
        f"(asked: {asked!s}, offered: {offered!s})"
    )


def _rule(code, kind, a, b, detail) -> Rule:
    return Rule(code, kind, _f(a), _f(b), detail)


E, LE, OK = Kind.EQUAL, Kind.AT_MOST, Kind.ALLOWS

#: matchOrders' checks on the orders' fields, in the contract's order (0x01 and 0x20-0x60 need
#: the chain: see :data:`CHAIN_CODES`).
RULES: tuple[Rule, ...] = (
    _rule("0x00", E, "request.category", "workerpool.category", lambda o: (
        f"the request asks for category {o['request'].category}, "
        f"the workerpool order sells category {o['workerpool'].category}")),
    _rule("0x02", LE, "request.trust", "workerpool.trust", lambda o: (
        f"the request asks for trust {o['request'].trust}, "
        f"the workerpool order offers at most {o['workerpool'].trust}")),
    _rule("0x03", LE, "app.appprice", "request.appmaxprice", _price("app", "app")),
    _rule("0x04", LE, "dataset.datasetprice", "request.datasetmaxprice",
          _price("dataset", "dataset")),
    _rule("0x05", LE, "workerpool.workerpoolprice", "request.workerpoolmaxprice",
          _price("workerpool", "workerpool")),
    _rule("0x06", Kind.TAGS_OFFERED, "request.tag", "workerpool.tag", _missing_tags),
    # (asked ^ app) & TEE fails only for a TEE dataset or request with a non-TEE app
    _rule("0x07", Kind.TEE_AGREES, "request.tag", "app.tag", lambda o: (
        "the dataset or the request asks for TEE, but the app order is not tagged TEE")),
    _rule("0x10", E, "request.app", "app.app", lambda o: (
        f"the request is for app {o['request'].app}, the app order sells {o['app'].app}")),
    _rule("0x11", E, "request.dataset", "dataset.dataset", lambda o: (
        f"the request is for dataset {o['request'].dataset}, "
        f"the dataset order sells {o['dataset'].dataset}")),
    _rule("0x12", OK, "request.workerpool", "workerpool.workerpool", _restriction(
        "the request only accepts workerpool", "request.workerpool", "workerpool.workerpool")),
    _rule("0x13", OK, "app.datasetrestrict", "dataset.dataset", _restriction(
        "the app order only accepts dataset", "app.datasetrestrict", "dataset.dataset")),
    _rule("0x14", OK, "app.workerpoolrestrict", "workerpool.workerpool", _restriction(
        "the app order only accepts workerpool", "app.workerpoolrestrict",
        "workerpool.workerpool")),
    _rule("0x15", OK, "app.requesterrestrict", "request.requester", _restriction(
        "the app order only accepts requester", "app.requesterrestrict", "request.requester")),
    _rule("0x16", OK, "dataset.apprestrict", "app.app", _restriction(
        "the dataset order only accepts app", "dataset.apprestrict", "app.app")),
    _rule("0x17", OK, "dataset.workerpoolrestrict", "workerpool.workerpool", _restriction(
        "the dataset order only accepts workerpool", "dataset.workerpoolrestrict",
        "workerpool.workerpool")),
    _rule("0x18", OK, "dataset.requesterrestrict", "request.requester", _restriction(
        "the dataset order only accepts requester", "dataset.requesterrestrict",
        "request.requester")),
    _rule("0x19", OK, "workerpool.apprestrict", "app.app", _restriction(
        "the workerpool order only accepts app", "workerpool.apprestrict", "app.app")),
    _rule("0x1a", OK, "workerpool.datasetrestrict", "dataset.dataset", _restriction(
        "the workerpool order only accepts dataset", "workerpool.datasetrestrict",
        "dataset.dataset")),
    _rule("0x1b", OK, "workerpool.requesterrestrict", "request.requester", _restriction(
        "the workerpool order only accepts requester", "workerpool.requesterrestrict",
        "request.requester")),
)  # fmt: skip

#: The codes whose check needs the chain, in the contract's order: 0x01 comes right after 0x00.
CHAIN_CODES = ("0x01", "0x20", "0x21", "0x30", "0x31", "0x40", "0x41", "0x50", "0x60")


def first_failure(orders: Mapping[str, Any], sides: frozenset[str] | None = None) -> Rule | None:
    """The first rule the orders fail, or None. With ``sides``, only the rules that read those
    orders alone are checked (the others wait until every order they read is chosen)."""
    for rule in RULES:
        if sides is not None and not rule.sides <= sides:
            continue
        if not rule.holds(orders):
            return rule
    return None


#: Every matchOrders code -> (what the contract's refusal means, what to do).
MEANINGS: dict[str, tuple[str, str]] = {
    "0x00": ("the request's category differs from the workerpool order's",
             "ask for the category the workerpool sells"),
    "0x01": ("the category does not exist on this hub", "use a category id below countCategory()"),
    "0x02": ("the request asks for more trust than the workerpool order offers",
             "lower the trust or find another workerpool order"),
    "0x03": ("the request's app max price is below the app order's price",
             "raise appmaxprice or find a cheaper app order"),
    "0x04": ("the request's dataset max price is below the dataset order's price",
             "raise datasetmaxprice or find a cheaper dataset order"),
    "0x05": ("the request's workerpool max price is below the workerpool order's price",
             "raise workerpoolmaxprice or find a cheaper workerpool order"),
    "0x06": ("the workerpool order lacks a tag that the app, dataset or request asks for",
             "find a workerpool order with those tags, or ask for fewer"),
    "0x07": ("TEE is asked for, but the app order is not tagged TEE",
             "use a TEE app, or do not ask for TEE"),
    "0x10": ("the request is for another app than the app order's",
             "match the app order of the app you asked for"),
    "0x11": ("the request is for another dataset than the dataset order's",
             "match the dataset order of the dataset you asked for"),
    "0x12": ("the request only accepts another workerpool",
             "use that workerpool's order, or lift the restriction"),
    "0x13": ("the app order only accepts another dataset",
             "use the dataset the app developer allows"),
    "0x14": ("the app order only accepts another workerpool",
             "use the workerpool the app developer allows"),
    "0x15": ("the app order only accepts another requester",
             "ask the app developer for an order open to you"),
    "0x16": ("the dataset order only accepts another app", "use the app the dataset owner allows"),
    "0x17": ("the dataset order only accepts another workerpool",
             "use the workerpool the dataset owner allows"),
    "0x18": ("the dataset order only accepts another requester",
             "ask the dataset owner for an order open to you"),
    "0x19": ("the workerpool order only accepts another app", "use an app the workerpool accepts"),
    "0x1a": ("the workerpool order only accepts another dataset",
             "use a dataset the workerpool accepts"),
    "0x1b": ("the workerpool order only accepts another requester",
             "ask the workerpool manager for an order open to you"),
    "0x20": ("the app is not registered in the app registry", "register the app first (createApp)"),
    "0x21": ("the app order is not signed by the app's owner",
             "have the app's owner sign it (or presign it with manageAppOrder)"),
    "0x30": ("the dataset is not registered in the dataset registry",
             "register the dataset first (createDataset)"),
    "0x31": ("the dataset order is not signed by the dataset's owner",
             "have the dataset's owner sign it"),
    "0x40": ("the workerpool is not registered in the workerpool registry",
             "register the workerpool first (createWorkerpool)"),
    "0x41": ("the workerpool order is not signed by the workerpool's owner",
             "have the workerpool manager sign it"),
    "0x50": ("the request order is not signed by its requester",
             "sign the request order with the requester's key"),
    "0x60": ("nothing is left to match: an order is fully consumed or was cancelled",
             "get fresh orders with volume left"),
}  # fmt: skip

assert set(MEANINGS) == {r.code for r in RULES} | set(CHAIN_CODES), "a code without a meaning"

__all__ = [
    "CHAIN_CODES",
    "MEANINGS",
    "RULES",
    "SIDES",
    "ZERO_ADDRESS",
    "Field",
    "Kind",
    "Rule",
    "asked_tags",
    "first_failure",
    "tag_bits",
]
