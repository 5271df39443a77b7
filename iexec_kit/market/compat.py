"""Which published orders matchOrders would accept together with a request, from the one table
of its rules (:data:`iexec_kit.protocol.rules.RULES`).

The book evaluates that table twice, and restates none of it:
- :func:`conditions` translates each rule that compares a candidate's column with an order
  already chosen into an SQL condition, so that SQLite pre-selects candidates on its indexes
  (a translation that could exclude a valid order is never made: the SQL is a superset);
- :func:`mismatch` runs the rules themselves on a chosen combination, which confirms it.
Signatures and the volume left (0x20-0x60) are the book's other checks: signatures at publish
time, volumes read from the chain.
"""

from __future__ import annotations

from iexec_kit.market.store import INT_MAX, ZERO, clamp, low
from iexec_kit.poco.orders import DatasetOrder
from iexec_kit.protocol.rules import RULES, Kind, asked_tags, first_failure, tag_bits
from iexec_kit.protocol.tags import Tag
from iexec_kit.protocol.units import is_zero_address

#: An order's field -> the book's column, where the names differ.
COLUMN = {"appprice": "price", "datasetprice": "price", "workerpoolprice": "price"}
_FLIP = {"=": "=", "<=": ">=", ">=": "<="}


def _value(value):
    return low(value) if isinstance(value, str) else clamp(value)


def _column(field) -> str:
    return COLUMN.get(field.name, field.name)


def known_orders(request, app=None, dataset=None, pool=None) -> dict:
    """The orders chosen so far, by side. Without a dataset in the request, the dataset side is
    known: the empty dataset order."""
    known = {"request": request}
    if dataset is None and is_zero_address(request.dataset):
        dataset = DatasetOrder.empty()
    for side, order in (("app", app), ("dataset", dataset), ("workerpool", pool)):
        if order is not None:
            known[side] = order
    return known


def conditions(kind: str, known: dict) -> tuple[list[str], list]:
    """SQL WHERE terms for orders of ``kind`` ("app", "dataset", "workerpool") usable with the
    ``known`` orders (side -> order): every rule between a column of the candidate and a field
    of a known order, as SQL."""
    where, args = [f"kind = '{kind}'", "remaining > 0"], []
    for rule in RULES:
        if rule.kind is Kind.TAGS_OFFERED:
            if kind == "workerpool":  # the pool offers at least what the known orders ask
                need = asked_tags({s: known.get(s, _NO_TAG) for s in ("app", "dataset", "request")})
                bits = need & INT_MAX  # bits above 62 are checked in Python
                if bits:
                    where.append("(tag & ?) = ?")
                    args += [bits, bits]
            continue
        if rule.kind is Kind.TEE_AGREES:
            asked = asked_tags({s: known.get(s, _NO_TAG) for s in ("app", "dataset", "request")})
            if kind == "app" and asked & Tag.TEE:  # a TEE request or dataset needs a TEE app
                where.append("(tag & 1) = 1")
            elif kind == "dataset" and "app" in known and not tag_bits(known["app"].tag) & Tag.TEE:
                where.append("(tag & 1) = 0")  # a TEE dataset needs a TEE app
            continue
        a, b = rule.a, rule.b
        if rule.kind is Kind.ALLOWS:
            if a.side == kind and b.side in known:
                where.append(f"{_column(a)} IN (?, ?)")
                args += [ZERO, _value(b.of(known))]
            elif b.side == kind and a.side in known and not is_zero_address(a.of(known)):
                where.append(f"{_column(b)} = ?")
                args.append(_value(a.of(known)))
            continue
        op = "=" if rule.kind is Kind.EQUAL else "<="
        if a.side == kind and b.side in known:
            where.append(f"{_column(a)} {op} ?")
            args.append(_value(b.of(known)))
        elif b.side == kind and a.side in known:
            where.append(f"{_column(b)} {_FLIP[op]} ?")
            args.append(_value(a.of(known)))
    return where, args


class _NoTag:
    tag = 0


_NO_TAG = _NoTag()


def mismatch(known: dict) -> str | None:
    """The first matchOrders code (0x00..0x1b) the ``known`` orders fail among the rules that
    read them alone, or None. Category existence (0x01) is the caller's check: it needs the
    chain."""
    rule = first_failure(known, frozenset(known))
    return rule.code if rule is not None else None
