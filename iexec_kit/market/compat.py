"""Which published orders matchOrders would accept together with a request: its rules (POCO.md,
codes 0x00-0x1b) written twice, as SQL conditions that pre-select candidates in the book, and as
one Python check that confirms a chosen combination. Signatures and the volume left (0x20-0x60)
are the book's other checks: signatures at publish time, volumes read from the chain.
"""

from __future__ import annotations

from iexec_kit.market.store import ZERO, low
from iexec_kit.poco.orders import AppOrder, DatasetOrder, RequestOrder, Tag, WorkerpoolOrder

TEE = int(Tag.TEE)


def _tag(order) -> int:
    return int(Tag.parse(order.tag)) if order is not None else 0


def _allows(restriction: str, account: str) -> bool:
    return low(restriction) in (ZERO, low(account))


def _sql_allows(column: str, account: str, where: list, args: list) -> None:
    where.append(f"{column} IN (?, ?)")
    args += [ZERO, low(account)]


def _sql_tag_superset(need: int, where: list, args: list) -> None:
    """The order's tag offers every bit of ``need`` (bits above 62 are checked in Python)."""
    bits = need & (2**63 - 1)
    if bits:
        where.append("(tag & ?) = ?")
        args += [bits, bits]


def app_conditions(request: RequestOrder, pool: WorkerpoolOrder | None = None) -> tuple[list, list]:
    """SQL WHERE terms for app orders usable by ``request`` (and by ``pool`` when chosen)."""
    where, args = ["kind = 'app'", "app = ?", "price <= ?", "remaining > 0"], [low(request.app), min(request.appmaxprice, 2**63 - 1)]
    _sql_allows("datasetrestrict", request.dataset, where, args)
    _sql_allows("requesterrestrict", request.requester, where, args)
    if low(request.workerpool) != ZERO:
        _sql_allows("workerpoolrestrict", request.workerpool, where, args)
    if pool is not None:
        _sql_allows("workerpoolrestrict", pool.workerpool, where, args)
    if _tag(request) & TEE:  # 0x07: a TEE request needs a TEE app
        where.append("(tag & 1) = 1")
    return where, args


def dataset_conditions(request: RequestOrder, app: AppOrder) -> tuple[list, list]:
    """SQL WHERE terms for dataset orders usable by ``request`` with ``app``."""
    where, args = ["kind = 'dataset'", "dataset = ?", "price <= ?", "remaining > 0"], [low(request.dataset), min(request.datasetmaxprice, 2**63 - 1)]
    _sql_allows("apprestrict", app.app, where, args)
    _sql_allows("requesterrestrict", request.requester, where, args)
    if low(request.workerpool) != ZERO:
        _sql_allows("workerpoolrestrict", request.workerpool, where, args)
    if low(app.workerpoolrestrict) != ZERO:
        _sql_allows("workerpoolrestrict", app.workerpoolrestrict, where, args)
    if not (_tag(app) & TEE):  # 0x07: a TEE dataset needs a TEE app
        where.append("(tag & 1) = 0")
    return where, args


def pool_conditions(request: RequestOrder, app: AppOrder | None = None,
                    dataset: DatasetOrder | None = None) -> tuple[list, list]:
    """SQL WHERE terms for workerpool orders usable by ``request`` (with ``app`` and ``dataset``
    when chosen; without them the terms give a lower bound on the price)."""
    where = ["kind = 'workerpool'", "price <= ?", "remaining > 0", "category = ?", "trust >= ?"]
    args = [min(request.workerpoolmaxprice, 2**63 - 1), min(request.category, 2**63 - 1), min(request.trust, 2**63 - 1)]
    if low(request.workerpool) != ZERO:
        where.append("workerpool = ?")
        args.append(low(request.workerpool))
    _sql_allows("datasetrestrict", request.dataset, where, args)
    _sql_allows("requesterrestrict", request.requester, where, args)
    need = _tag(request) | _tag(app) | _tag(dataset)
    _sql_tag_superset(need, where, args)
    for order in (app, dataset):
        if order is not None and low(order.workerpoolrestrict) != ZERO:
            where.append("workerpool = ?")
            args.append(low(order.workerpoolrestrict))
    if app is not None:
        _sql_allows("apprestrict", app.app, where, args)
    return where, args


def mismatch(app: AppOrder, dataset: DatasetOrder | None, pool: WorkerpoolOrder, request: RequestOrder) -> str | None:
    """The first matchOrders code (0x00..0x1b) these orders would fail, or None if they fit.
    Category existence (0x01) is the caller's check: it needs the chain."""
    dataset = dataset or DatasetOrder.empty()
    tag = _tag(app) | _tag(dataset) | _tag(request)
    checks = [
        ("0x00", request.category == pool.category),
        ("0x02", request.trust <= pool.trust),
        ("0x03", request.appmaxprice >= app.appprice),
        ("0x04", request.datasetmaxprice >= dataset.datasetprice),
        ("0x05", request.workerpoolmaxprice >= pool.workerpoolprice),
        ("0x06", tag & ~_tag(pool) == 0),
        ("0x07", (tag ^ _tag(app)) & TEE == 0),
        ("0x10", low(request.app) == low(app.app)),
        ("0x11", low(request.dataset) == low(dataset.dataset)),
        ("0x12", _allows(request.workerpool, pool.workerpool)),
        ("0x13", _allows(app.datasetrestrict, dataset.dataset)),
        ("0x14", _allows(app.workerpoolrestrict, pool.workerpool)),
        ("0x15", _allows(app.requesterrestrict, request.requester)),
        ("0x16", _allows(dataset.apprestrict, app.app)),
        ("0x17", _allows(dataset.workerpoolrestrict, pool.workerpool)),
        ("0x18", _allows(dataset.requesterrestrict, request.requester)),
        ("0x19", _allows(pool.apprestrict, app.app)),
        ("0x1a", _allows(pool.datasetrestrict, dataset.dataset)),
        ("0x1b", _allows(pool.requesterrestrict, request.requester)),
    ]
    return next((code for code, ok in checks if not ok), None)


def dataset_mismatch(app: AppOrder, dataset: DatasetOrder, request: RequestOrder) -> str | None:
    """The first code a dataset order fails with ``app`` and ``request`` alone (the workerpool's
    codes wait until one is chosen), or None."""
    checks = [
        ("0x04", request.datasetmaxprice >= dataset.datasetprice),
        ("0x07", not (_tag(dataset) & TEE) or bool(_tag(app) & TEE)),
        ("0x11", low(request.dataset) == low(dataset.dataset)),
        ("0x13", _allows(app.datasetrestrict, dataset.dataset)),
        ("0x16", _allows(dataset.apprestrict, app.app)),
        ("0x18", _allows(dataset.requesterrestrict, request.requester)),
    ]
    return next((code for code, ok in checks if not ok), None)
