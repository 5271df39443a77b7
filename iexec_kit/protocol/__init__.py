"""The protocol's facts, each written once: the leaf of the kit (it imports nothing else from it).

- :mod:`~iexec_kit.protocol.units`: RLC and nRLC, amounts in words, the zero address;
- :mod:`~iexec_kit.protocol.statuses`: task and contribution statuses;
- :mod:`~iexec_kit.protocol.categories`: the categories the kit deploys and the deadline formulas
  (the ratios themselves are the hub's: :class:`ProtocolConfig` holds what it returns);
- :mod:`~iexec_kit.protocol.results`: the result digest, result hash and result seal, and where
  computed.json's deterministic output lives;
- :mod:`~iexec_kit.protocol.rules`: matchOrders' checks as one table of (code, predicate, phrase),
  which both the hub client's pre-check and the order book evaluate;
- :mod:`~iexec_kit.protocol.reverts`: every revert of the kit's contracts, in words, and what PoCo
  6.1.0 does at the same check (one table).

Values the chain holds (category clocks, the kitty's address, the stake and kitty ratios) are
read from the hub by the code that runs against one (``hub.config()``, ``hub.category(i)``);
the constants here are what the kit deploys and what PoCo's formulas are.
"""

from iexec_kit.protocol.categories import (
    DEFAULT_CATEGORIES,
    DEFAULT_CLOCK,
    CategorySpec,
    Deadlines,
    ProtocolConfig,
)
from iexec_kit.protocol.results import (
    COMPUTED_JSON,
    IEXEC_OUT,
    callback_digest,
    output_relpath,
    path_digest,
    result_hash,
    result_seal,
)
from iexec_kit.protocol.statuses import ContributionStatus, TaskStatus
from iexec_kit.protocol.units import RLC, ZERO_ADDRESS, is_zero_address, nrlc, same_address

__all__ = [
    "COMPUTED_JSON",
    "DEFAULT_CATEGORIES",
    "DEFAULT_CLOCK",
    "IEXEC_OUT",
    "RLC",
    "ZERO_ADDRESS",
    "CategorySpec",
    "ContributionStatus",
    "Deadlines",
    "ProtocolConfig",
    "TaskStatus",
    "callback_digest",
    "is_zero_address",
    "nrlc",
    "output_relpath",
    "path_digest",
    "result_hash",
    "result_seal",
    "same_address",
]
