"""User-facing strings in one place: what each contract revert code means, in words.

A revert string from the kit's contracts reads ``iExecV5-<scope>-0x<NN> <short phrase>`` (or
``RLC-0x<NN> ...`` from the token). :func:`explain_revert` turns it into a sentence that says
what went wrong and what to do next; callers that know the numbers (balances, prices) pass them
as ``context`` and the sentence uses them.
"""

from __future__ import annotations

import re

_REVERT = re.compile(r"(?P<scope>iExecV5-[A-Za-z]+|RLC)-(?P<code>0x[0-9a-fA-F]{2})\b\s*(?P<phrase>.*)")

# (scope, code) -> (what happened, what to do). Placeholders come from `context` when given.
REVERTS: dict[tuple[str, str], tuple[str, str]] = {
    ("iExecV5-hub", "0x01"): ("only the hub's owner may do this", "send it from the deployer account"),
    ("iExecV5-hub", "0x02"): ("the new owner cannot be the zero address", "give a real address"),
    ("iExecV5-hub", "0x03"): ("a module must be a deployed contract", "deploy the module first"),
    ("iExecV5-hub", "0x04"): ("the hub has no module for this function",
                              "check the function name, or deploy the module that provides it"),
    ("iExecV5-escrow", "0x01"): ("RLC cannot be sent to the zero address", "give a real address"),
    ("iExecV5-escrow", "0x02"): ("the amount exceeds the account's free stake{detail}",
                                 "ask for at most the stake shown by viewAccount, or deposit more"),
    ("iExecV5-escrow", "0x03"): ("RLC cannot be credited to the zero address", "give a real address"),
    ("iExecV5-escrow", "0x04"): ("an approval needs real addresses", "give a real spender"),
    ("iExecV5-escrow", "0x05"): ("the account's free stake is too low to lock{detail}",
                                 "deposit more RLC into the hub"),
    ("iExecV5-escrow", "0x06"): ("cannot unlock more than is locked", "this is a protocol bug: report it"),
    ("iExecV5-escrow", "0x07"): ("cannot seize more than is locked", "this is a protocol bug: report it"),
    ("iExecV5-escrow", "0x08"): ("the allowance would go below zero", "decrease it by less"),
    ("iExecV5-escrow", "0x09"): ("the allowance on the hub is too low", "approve the spender first"),
    ("iExecV5-escrow", "0x0a"): ("the receiver refused the approval", "check the spender contract"),
    ("iExecV5-escrow", "0x0b"): ("the amounts and targets differ in length", "give one amount per target"),
    ("iExecV5-escrow", "0x0c"): ("the hub only accepts deposits of its own RLC token",
                                 "call approveAndCall on the RLC token the hub was configured with"),
    ("iExecV5-escrow", "0x0d"): ("the RLC token refused the transfer{detail}",
                                 "check the wallet's RLC balance and its allowance to the hub"),
    ("iExecV5-config", "0x01"): ("the hub is already configured", "deploy a new hub to change its token"),
    ("iExecV5-config", "0x02"): ("the hub needs a token address", "give the RLC token's address"),
    ("iExecV5-config", "0x03"): ("a category's work clock must be positive", "give a number of seconds > 0"),
    ("iExecV5-config", "0x04"): ("there is no such category", "use an id below countCategory()"),
    ("iExecV5-registry", "0x01"): ("this owner has no entry at that index", "use an index below viewCount(owner)"),
    ("iExecV5-workerpool", "0x01"): ("only the workerpool's owner may change its policy",
                                     "send it from the workerpool manager's account"),
    ("iExecV5-workerpool", "0x02"): ("the scheduler reward ratio is a percentage", "give a value from 0 to 100"),
    ("RLC", "0x01"): ("the RLC allowance is too low{detail}",
                      "approve the spender first, or deposit with approveAndCall in one step"),
    ("RLC", "0x02"): ("the receiver refused the approval", "check the spender contract"),
    ("RLC", "0x03"): ("only the token's owner may mint RLC", "use the faucet instead"),
    ("RLC", "0x04"): ("the faucet gives once a day per account", "wait, or ask the network operator"),
    ("RLC", "0x05"): ("RLC cannot be minted to the zero address", "give a real address"),
    ("RLC", "0x06"): ("RLC cannot be sent to the zero address", "give a real address"),
    ("RLC", "0x07"): ("the wallet's RLC balance is too low{detail}",
                      "draw from the faucet (sandbox.faucet) or ask someone to send you RLC"),
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


def nrlc(amount: int) -> str:
    """A human amount: '5 nRLC', '1.5 RLC'. RLC has 9 decimals."""
    if amount < 10**6:
        return f"{amount:,} nRLC"
    return f"{amount / 10**9:,.9g} RLC"


# matchOrders codes -> (what the contract's refusal means, what to do). The kit's off-chain
# pre-check (iexec_kit.poco.matching) says the same with the orders' own numbers.
MATCH_ORDERS: dict[str, tuple[str, str]] = {
    "0x00": ("the request's category differs from the workerpool order's", "ask for the category the workerpool sells"),
    "0x01": ("the category does not exist on this hub", "use a category id below countCategory()"),
    "0x02": ("the request asks for more trust than the workerpool order offers", "lower the trust or find another workerpool order"),
    "0x03": ("the request's app max price is below the app order's price", "raise appmaxprice or find a cheaper app order"),
    "0x04": ("the request's dataset max price is below the dataset order's price", "raise datasetmaxprice or find a cheaper dataset order"),
    "0x05": ("the request's workerpool max price is below the workerpool order's price", "raise workerpoolmaxprice or find a cheaper workerpool order"),
    "0x06": ("the workerpool order lacks a tag that the app, dataset or request asks for", "find a workerpool order with those tags, or ask for fewer"),
    "0x07": ("TEE is asked for, but the app order is not tagged TEE", "use a TEE app, or do not ask for TEE"),
    "0x10": ("the request is for another app than the app order's", "match the app order of the app you asked for"),
    "0x11": ("the request is for another dataset than the dataset order's", "match the dataset order of the dataset you asked for"),
    "0x12": ("the request only accepts another workerpool", "use that workerpool's order, or lift the restriction"),
    "0x13": ("the app order only accepts another dataset", "use the dataset the app developer allows"),
    "0x14": ("the app order only accepts another workerpool", "use the workerpool the app developer allows"),
    "0x15": ("the app order only accepts another requester", "ask the app developer for an order open to you"),
    "0x16": ("the dataset order only accepts another app", "use the app the dataset owner allows"),
    "0x17": ("the dataset order only accepts another workerpool", "use the workerpool the dataset owner allows"),
    "0x18": ("the dataset order only accepts another requester", "ask the dataset owner for an order open to you"),
    "0x19": ("the workerpool order only accepts another app", "use an app the workerpool accepts"),
    "0x1a": ("the workerpool order only accepts another dataset", "use a dataset the workerpool accepts"),
    "0x1b": ("the workerpool order only accepts another requester", "ask the workerpool manager for an order open to you"),
    "0x20": ("the app is not registered in the app registry", "register the app first (createApp)"),
    "0x21": ("the app order is not signed by the app's owner", "have the app's owner sign it (or presign it with manageAppOrder)"),
    "0x30": ("the dataset is not registered in the dataset registry", "register the dataset first (createDataset)"),
    "0x31": ("the dataset order is not signed by the dataset's owner", "have the dataset's owner sign it"),
    "0x40": ("the workerpool is not registered in the workerpool registry", "register the workerpool first (createWorkerpool)"),
    "0x41": ("the workerpool order is not signed by the workerpool's owner", "have the workerpool manager sign it"),
    "0x50": ("the request order is not signed by its requester", "sign the request order with the requester's key"),
    "0x60": ("nothing is left to match: an order is fully consumed or was cancelled", "get fresh orders with volume left"),
}
for _code, (_what, _todo) in MATCH_ORDERS.items():
    REVERTS[("iExecV5-matchOrders", _code)] = (_what + "{detail}", _todo)
REVERTS[("iExecV5-manageOrder", "0x01")] = (
    "only the order's owner may sign or cancel it on chain (or someone bringing the owner's signature)",
    "send it from the owner's account")
