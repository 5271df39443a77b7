"""Selling from Python: sign an order as its owner and publish it, in one call (like
``iexec app publish`` / ``iexec workerpool publish`` of iExec's SDK)."""

from __future__ import annotations

import random

from iexec_kit.chain.accounts import Participant
from iexec_kit.market.store import ZERO, BookEntry
from iexec_kit.poco.orders import AppOrder, DatasetOrder, WorkerpoolOrder, new_salt
from iexec_kit.protocol.tags import Tag


def _tag(tag) -> bytes:
    return Tag.parse(tag if tag is not None else 0).to_bytes32()


def publish_app_order(
    hub,
    book,
    developer: Participant,
    app: str,
    *,
    price: int,
    volume: int = 1,
    tag=None,
    datasetrestrict: str = ZERO,
    workerpoolrestrict: str = ZERO,
    requesterrestrict: str = ZERO,
    rng: random.Random | None = None,
) -> BookEntry:
    """Sign an app order for ``app`` as ``developer`` (its owner) and publish it.
    ``price`` is nRLC per task; ``rng`` makes the salt repeatable."""
    order = AppOrder(
        app=app,
        appprice=price,
        volume=volume,
        tag=_tag(tag),
        datasetrestrict=datasetrestrict,
        workerpoolrestrict=workerpoolrestrict,
        requesterrestrict=requesterrestrict,
        salt=new_salt(rng),
    )
    return book.publish(hub.sign_order(order, developer))


def publish_dataset_order(
    hub,
    book,
    owner: Participant,
    dataset: str,
    *,
    price: int,
    volume: int = 1,
    tag=None,
    apprestrict: str = ZERO,
    workerpoolrestrict: str = ZERO,
    requesterrestrict: str = ZERO,
    rng: random.Random | None = None,
) -> BookEntry:
    """Sign a dataset order for ``dataset`` as ``owner`` and publish it."""
    order = DatasetOrder(
        dataset=dataset,
        datasetprice=price,
        volume=volume,
        tag=_tag(tag),
        apprestrict=apprestrict,
        workerpoolrestrict=workerpoolrestrict,
        requesterrestrict=requesterrestrict,
        salt=new_salt(rng),
    )
    return book.publish(hub.sign_order(order, owner))


def publish_workerpool_order(
    hub,
    book,
    scheduler: Participant,
    workerpool: str,
    *,
    price: int,
    volume: int = 1,
    category: int = 0,
    trust: int = 0,
    tag=None,
    apprestrict: str = ZERO,
    datasetrestrict: str = ZERO,
    requesterrestrict: str = ZERO,
    rng: random.Random | None = None,
) -> BookEntry:
    """Sign a workerpool order as ``scheduler`` (the workerpool's owner) and publish it.
    When matched, the owner's stake locks 30% of ``price`` per task: deposit before."""
    order = WorkerpoolOrder(
        workerpool=workerpool,
        workerpoolprice=price,
        volume=volume,
        tag=_tag(tag),
        category=category,
        trust=trust,
        apprestrict=apprestrict,
        datasetrestrict=datasetrestrict,
        requesterrestrict=requesterrestrict,
        salt=new_salt(rng),
    )
    return book.publish(hub.sign_order(order, scheduler))
