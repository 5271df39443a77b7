"""What each contract revert code means, in words (matchOrders' codes come from
:data:`iexec_kit.protocol.rules.MEANINGS`).

A revert string from the kit's contracts reads ``iExecV5-<scope>-0x<NN> <short phrase>`` (or
``RLC-0x<NN> ...`` from the token). :func:`explain_revert` turns it into a sentence that says
what went wrong and what to do next; callers that know the numbers (balances, prices) pass them
as ``context`` and the sentence uses them.
"""

from __future__ import annotations

import re

from iexec_kit.protocol.rules import MEANINGS

_REVERT = re.compile(
    r"(?P<scope>iExecV5-[A-Za-z]+|RLC)-(?P<code>0x[0-9a-fA-F]{2})\b\s*(?P<phrase>.*)"
)

# (scope, code) -> (what happened, what to do). Placeholders come from `context` when given.
REVERTS: dict[tuple[str, str], tuple[str, str]] = {
    ("iExecV5-hub", "0x01"): (
        "only the hub's owner may do this",
        "send it from the deployer account",
    ),
    ("iExecV5-hub", "0x02"): ("the new owner cannot be the zero address", "give a real address"),
    ("iExecV5-hub", "0x03"): ("a module must be a deployed contract", "deploy the module first"),
    ("iExecV5-hub", "0x04"): (
        "the hub has no module for this function",
        "check the function name, or deploy the module that provides it",
    ),
    ("iExecV5-escrow", "0x01"): ("RLC cannot be sent to the zero address", "give a real address"),
    ("iExecV5-escrow", "0x02"): (
        "the amount exceeds the account's free stake{detail}",
        "ask for at most the stake shown by viewAccount, or deposit more",
    ),
    ("iExecV5-escrow", "0x03"): (
        "RLC cannot be credited to the zero address",
        "give a real address",
    ),
    ("iExecV5-escrow", "0x04"): ("an approval needs real addresses", "give a real spender"),
    ("iExecV5-escrow", "0x05"): (
        "the account's free stake is too low to lock{detail}",
        "deposit more RLC into the hub",
    ),
    ("iExecV5-escrow", "0x06"): (
        "cannot unlock more than is locked",
        "this is a protocol bug: report it",
    ),
    ("iExecV5-escrow", "0x07"): (
        "cannot seize more than is locked",
        "this is a protocol bug: report it",
    ),
    ("iExecV5-escrow", "0x08"): ("the allowance would go below zero", "decrease it by less"),
    ("iExecV5-escrow", "0x09"): (
        "the allowance on the hub is too low",
        "approve the spender first",
    ),
    ("iExecV5-escrow", "0x0a"): ("the receiver refused the approval", "check the spender contract"),
    ("iExecV5-escrow", "0x0b"): (
        "the amounts and targets differ in length",
        "give one amount per target",
    ),
    ("iExecV5-escrow", "0x0c"): (
        "the hub only accepts deposits of its own RLC token",
        "call approveAndCall on the RLC token the hub was configured with",
    ),
    ("iExecV5-escrow", "0x0d"): (
        "the RLC token refused the transfer{detail}",
        "check the wallet's RLC balance and its allowance to the hub",
    ),
    ("iExecV5-config", "0x01"): (
        "the hub is already configured",
        "deploy a new hub to change its token",
    ),
    ("iExecV5-config", "0x02"): ("the hub needs a token address", "give the RLC token's address"),
    ("iExecV5-config", "0x03"): (
        "a category's work clock must be positive",
        "give a number of seconds > 0",
    ),
    ("iExecV5-config", "0x04"): ("there is no such category", "use an id below countCategory()"),
    ("iExecV5-registry", "0x01"): (
        "the registry has no asset at that index",
        "use an index below balanceOf(owner) (or totalSupply() for tokenByIndex)",
    ),
    ("iExecV5-registry", "0x02"): (
        "this very asset (same owner, same fields) is already registered",
        "use the existing one (predictApp & co. give its address), or change a field",
    ),
    ("iExecV5-registry", "0x03"): (
        "no asset with this address (token id) is registered here",
        "check the address, or create the asset first",
    ),
    ("iExecV5-registry", "0x04"): (
        "only the asset's owner, or an account it approved, may do this",
        "send it from the owner's account, or have the owner approve this one",
    ),
    ("iExecV5-registry", "0x05"): (
        "the 'from' address does not own this asset",
        "give the asset's current owner (its owner()) as 'from'",
    ),
    ("iExecV5-registry", "0x06"): (
        "an asset cannot go to the zero address",
        "give a real address",
    ),
    ("iExecV5-registry", "0x07"): (
        "the receiving contract does not accept ERC-721 tokens",
        "send it to an account, or to a contract implementing onERC721Received",
    ),
    ("iExecV5-registry", "0x08"): ("the zero address owns nothing", "give a real address"),
    ("iExecV5-registry", "0x09"): (
        "the new asset refused its initialization",
        "this is a bug of the kit's contracts: report it",
    ),
    ("iExecV5-asset", "0x01"): (
        "this asset is already initialized (its registry did it at creation)",
        "nothing to do: an asset is initialized once, by its registry",
    ),
    ("iExecV5-workerpool", "0x01"): (
        "only the workerpool's owner may change its policy",
        "send it from the workerpool manager's account",
    ),
    ("iExecV5-workerpool", "0x02"): (
        "the scheduler reward ratio is a percentage",
        "give a value from 0 to 100",
    ),
    ("RLC", "0x01"): (
        "the RLC allowance is too low{detail}",
        "approve the spender first, or deposit with approveAndCall in one step",
    ),
    ("RLC", "0x02"): ("the receiver refused the approval", "check the spender contract"),
    ("RLC", "0x03"): ("only the token's owner may mint RLC", "use the faucet instead"),
    ("RLC", "0x04"): (
        "the faucet gives once a day per account",
        "wait, or ask the network operator",
    ),
    ("RLC", "0x05"): ("RLC cannot be minted to the zero address", "give a real address"),
    ("RLC", "0x06"): ("RLC cannot be sent to the zero address", "give a real address"),
    ("RLC", "0x07"): (
        "the wallet's RLC balance is too low{detail}",
        "draw from the faucet (sandbox.faucet) or ask someone to send you RLC",
    ),
}


def parse_revert(reason: str) -> tuple[str, str, str] | None:
    """Split a kit revert string into (scope, code, phrase), or None if it is not one."""
    m = _REVERT.search(reason or "")
    if not m:
        return None
    return m["scope"], m["code"].lower(), m["phrase"].strip()


def explain_revert(reason: str, **context) -> tuple[str, str | None, str | None]:
    """(sentence, code, what to do) for a revert reason. Unknown reasons are returned as they are.

    ``context`` may hold ``detail`` (e.g. ": asked 5 RLC, stake 2 RLC") that fills the sentence.
    """
    parsed = parse_revert(reason)
    if parsed is None:
        return (f"the transaction reverted: {reason or 'no reason given'}", None, None)
    scope, code, phrase = parsed
    known = REVERTS.get((scope, code))
    if known is None:
        return (f"the contract refused ({scope}-{code}): {phrase}", f"{scope}-{code}", None)
    what, todo = known
    detail = context.get("detail", "")
    return (what.format(detail=detail), f"{scope}-{code}", todo)


for _code, (_what, _todo) in MEANINGS.items():
    REVERTS[("iExecV5-matchOrders", _code)] = (_what + "{detail}", _todo)
REVERTS[("iExecV5-manageOrder", "0x01")] = (
    "only the order's owner may sign or cancel it on chain "
    "(or someone bringing the owner's signature)",
    "send it from the owner's account",
)
