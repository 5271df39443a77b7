"""Every revert of the kit's contracts, as one table: what it means in words, what to do, and
what iExec's PoCo 6.1.0 does at the same check (matchOrders' meanings come from
:data:`iexec_kit.protocol.rules.MEANINGS`).

Reading a revert string from the kit's contracts:

- ``iExecV5-matchOrders-0x03 app price above max``: PoCo's own code (PoCo 6.1.0 reverts with
  ``iExecV5-matchOrders-0x03``; the phrase after it is the kit's);
- ``iexec-kit (not PoCo): contribute-0x05 worker not authorized by the scheduler``: the kit's
  own message. PoCo makes that check with no reason (a bare ``require``), with a message of its
  own, or not at all; :data:`CHECKS` says which, and the sentence says it too.

:func:`explain_revert` turns a revert string into a sentence that says what went wrong and what
to do next; callers that know the numbers (balances, prices) pass them as ``context``. It also
recognises PoCo 6.1.0's own messages (on ``Sandbox.start(protocol="poco")``).
:func:`refused_as` tells whether a revert is a given check's on either protocol (the tests that
run on both ask it). ``python -m iexec_kit.protocol.reverts`` prints the table.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum

from iexec_kit.protocol.rules import MEANINGS

#: How the kit marks a revert message of its own (every one but matchOrders' PoCo codes).
MARK = "iexec-kit (not PoCo): "
#: The scope of the revert codes that are PoCo's own.
POCO_SCOPE = "iExecV5-matchOrders"
#: The kit's contracts that stand on both protocols (Sandbox.start(protocol="poco") deploys the
#: kit's RLC too; the consensus probe is no part of either hub).
KIT_ON_BOTH = ("RLC", "ConsensusProbe")
PROTOCOLS = ("kit", "poco")

_REVERT = re.compile(
    r"(?P<mark>" + re.escape(MARK) + r")?"
    r"(?P<scope>" + POCO_SCOPE + r"|[A-Za-z]+)-(?P<code>0x[0-9a-fA-F]{2})\b\s*(?P<phrase>.*)"
)


class PoCo(Enum):
    """What iExec's PoCo 6.1.0 does at one of the kit's checks."""

    SAME = "the same code"
    BARE = "the same check, no reason"
    OTHER = "the same check, its own message"
    PANIC = "the same check by an assert or checked arithmetic: a Panic"
    NONE = "no such check"


@dataclass(frozen=True)
class Check:
    """One revert of the kit's contracts. ``what`` and ``todo`` are the learner's sentence
    (``{detail}`` is filled from the caller's context); ``poco`` and ``says`` are what PoCo 6.1.0
    (for RLC: iExec's RLC token) reverts with at the same check ("" for no reason); ``note`` says
    where that differs for some inputs."""

    what: str
    todo: str
    poco: PoCo
    says: tuple[str, ...] = ()
    note: str = ""


S, BARE, OTHER, PANIC, NONE = PoCo.SAME, PoCo.BARE, PoCo.OTHER, PoCo.PANIC, PoCo.NONE
_SIG = "invalid-signature-format"
_SIG_NOTE = f"a signature that is neither 64 nor 65 bytes long makes PoCo say {_SIG!r} first"
_BUG = "this is a bug of the kit's contracts: report it"


def _c(what, todo, poco, *says, note=""):
    return Check(what, todo, poco, tuple(says), note)


#: code ("<scope>-0xNN", as in the revert string) -> the check. Walked by
#: tests/protocol/test_revert_table.py: every revert string in the kit's contracts has its row.
CHECKS: dict[str, Check] = {
    # ----- the hub (IexecStore, IexecRouter; PoCo: the diamond and its facets)
    "hub-0x01": _c("only the hub's owner may do this", "send it from the deployer account", OTHER,
                   "Ownable: caller is not the owner",
                   note="the diamond's own transferOwnership reverts with its custom error "
                        "NotContractOwner"),
    "hub-0x02": _c("the new owner cannot be the zero address", "give a real address", NONE),
    "hub-0x03": _c("a module must be a deployed contract", "deploy the module first", OTHER,
                   "LibDiamondCut: Add facet has no code",
                   note="in diamondCut, PoCo's counterpart of the kit's updateModule"),
    "hub-0x04": _c("the hub has no module for this function",
                   "check the function name, or deploy the module that provides it", OTHER,
                   "fallback-disabled",
                   note="the diamond routes an unknown function to the escrow facet's fallback"),
    # ----- the hub's ERC-20 of deposited RLC (EscrowModule; PoCo: ERC20, EscrowToken facets)
    "escrow-0x01": _c("RLC cannot be sent to the zero address", "give a real address", OTHER,
                      "ERC20: transfer to the zero address"),
    "escrow-0x02": _c("the amount exceeds the account's free stake{detail}",
                      "ask for at most the stake shown by viewAccount, or deposit more", BARE),
    "escrow-0x03": _c("RLC cannot be credited to the zero address", "give a real address", OTHER,
                      "ERC20: mint to the zero address"),
    "escrow-0x04": _c("an approval needs real addresses", "give a real spender", OTHER,
                      "ERC20: approve to the zero address", "ERC20: approve from the zero address"),
    "escrow-0x05": _c("the account's free stake is too low to lock{detail}",
                      "deposit more RLC into the hub", OTHER,
                      "IexecEscrow: Transfer amount exceeds balance"),
    "escrow-0x06": _c("cannot unlock more than is locked", _BUG, PANIC, "Panic error 0x11"),
    "escrow-0x07": _c("cannot seize more than is locked", _BUG, PANIC, "Panic error 0x11"),
    "escrow-0x08": _c("the allowance would go below zero", "decrease it by less", BARE),
    "escrow-0x09": _c("the allowance on the hub is too low", "approve the spender first", BARE,
                      note="PoCo checks the sender's balance first"),
    "escrow-0x0a": _c("the receiver refused the approval", "check the spender contract", OTHER,
                      "approval-refused"),
    "escrow-0x0b": _c("the amounts and targets differ in length", "give one amount per target",
                      OTHER, "invalid-array-length"),
    "escrow-0x0c": _c("the hub only accepts deposits of its own RLC token",
                      "call approveAndCall on the RLC token the hub was configured with", OTHER,
                      "wrong-token"),
    "escrow-0x0d": _c("the RLC token refused the transfer{detail}",
                      "check the wallet's RLC balance and its allowance to the hub", OTHER,
                      "failled-transferFrom"),
    "escrow-0x0e": _c("receiveApproval is the RLC token's to call, inside approveAndCall",
                      "deposit with RLC's approveAndCall, or approve then deposit", NONE,
                      note="PoCo does not check the caller: the token's transferFrom refuses "
                           "instead, unless the sender approved the hub"),
    "escrow-0x0f": _c("the RLC token refused to pay the withdrawal out", _BUG, NONE,
                      note="PoCo ignores the token's answer"),
    # ----- configuration and categories (ConfigModule; PoCo: Configuration, CategoryManager)
    "config-0x01": _c("the hub is already configured", "deploy a new hub to change its token",
                      OTHER, "already-configured"),
    "config-0x02": _c("the hub needs a token address", "give the RLC token's address", NONE),
    "config-0x03": _c("a category's work clock must be positive", "give a number of seconds > 0",
                      NONE),
    "config-0x04": _c("there is no such category", "use an id below countCategory()", BARE),
    # ----- orders (OrderModule; PoCo: OrderManagement)
    "manageOrder-0x01": _c("only the order's owner may sign or cancel it on chain "
                           "(or someone bringing the owner's signature)",
                           "send it from the owner's account", OTHER,
                           "invalid-sender-or-signature", _SIG, note=_SIG_NOTE),
    # ----- Proof-of-Contribution (PocoModule; PoCo: Poco2, PocoAccessors)
    "poco-0x01": _c("only the deal's workerpool owner (the scheduler) may do this",
                    "send it from the workerpool owner's account", BARE),
    "poco-0x02": _c("the task is not completed: it has no result yet",
                    "wait for finalize (hub.task(taskid).status)", OTHER, "task-pending"),
    "initialize-0x01": _c("the deal has no task at this index",
                          "use an index from botFirst to botFirst + botSize - 1", BARE),
    "initialize-0x02": _c("this task is already initialized", "use its taskid as it is", BARE),
    "initialize-0x03": _c("the deal ids and indexes differ in length", "give one index per deal",
                          BARE),
    "contribute-0x01": _c("the task is not open to contributions (not ACTIVE)",
                          "check the task's status: it may be initialized yet, revealing, or "
                          "over", BARE),
    "contribute-0x02": _c("the contribution deadline has passed",
                          "contribute earlier; the task can now only be claimed", BARE),
    "contribute-0x03": _c("this worker already contributed to this task",
                          "contribute once per task", BARE),
    "contribute-0x04": _c("a TEE task needs an enclave challenge",
                          "contribute from an enclave, with its address and signature", BARE),
    "contribute-0x05": _c("the scheduler did not authorize this worker for this task",
                          "ask the workerpool owner for an authorization signed for this worker "
                          "and this task", BARE, _SIG, note=_SIG_NOTE),
    "contribute-0x06": _c("the enclave's signature of the result does not match",
                          "sign (result hash, result seal) with the enclave's key", BARE),
    "contributeAndFinalize-0x01": _c("the task is not open to contributions (not ACTIVE)",
                                     "check the task's status", BARE),
    "contributeAndFinalize-0x02": _c("the contribution deadline has passed",
                                     "the task can now only be claimed", BARE),
    "contributeAndFinalize-0x03": _c("the task already has contributors",
                                     "contribute, reveal and finalize as usual", BARE),
    "contributeAndFinalize-0x04": _c("contributeAndFinalize is for deals of trust 1 only",
                                     "contribute, then reveal; the scheduler finalizes", BARE),
    "contributeAndFinalize-0x05": _c("the callback data does not match the result digest",
                                     "send no callback data, or data whose keccak256 is the "
                                     "digest", BARE),
    "reveal-0x01": _c("the task is not revealing: no consensus yet, or it is over",
                      "wait for the consensus (status REVEALING)", BARE),
    "reveal-0x02": _c("the reveal deadline has passed",
                      "reveal earlier; the scheduler may now reopen or finalize", BARE),
    "reveal-0x03": _c("this worker has no contribution to reveal in this task",
                      "only a worker that contributed reveals", BARE),
    "reveal-0x04": _c("this worker's contribution is not the consensus",
                      "nothing to do: only the consensus' contributors reveal", BARE),
    "reveal-0x05": _c("the digest does not match the contributed result hash",
                      "reveal the digest that was contributed", BARE),
    "reveal-0x06": _c("the digest does not match the contributed result seal",
                      "reveal from the worker that contributed, the digest it contributed", BARE),
    "reopen-0x01": _c("the task is not revealing", "reopen only a task in REVEALING", BARE),
    "reopen-0x02": _c("the final deadline has passed", "the task can now only be claimed", BARE),
    "reopen-0x03": _c("a reopen needs the reveal deadline passed with no reveal",
                      "wait for the reveal deadline, or finalize if someone revealed", BARE),
    "finalize-0x01": _c("the task is not revealing", "finalize only a task in REVEALING", BARE),
    "finalize-0x02": _c("the final deadline has passed", "the task can now only be claimed", BARE),
    "finalize-0x03": _c("the consensus' workers have not all revealed yet",
                        "wait for their reveals, or for the reveal deadline", BARE),
    "finalize-0x04": _c("the callback data does not match the revealed digest",
                        "send no callback data, or data whose keccak256 is the digest", BARE),
    "finalize-0x05": _c("too little gas was left after the callback",
                        "send the transaction with more gas", PANIC, "Panic error 0x01"),
    "claim-0x01": _c("the task is not active or revealing: it is completed, failed or unset",
                     "nothing to claim", BARE),
    "claim-0x02": _c("the final deadline is not reached yet", "wait until the final deadline",
                     BARE),
    # ----- registries and assets (Registries.sol; PoCo: OpenZeppelin 3.3's ERC-721, App & co.)
    "registry-0x01": _c("the registry has no asset at that index",
                        "use an index below balanceOf(owner) (or totalSupply() for tokenByIndex)",
                        OTHER, "EnumerableMap: index out of bounds",
                        "EnumerableSet: index out of bounds"),
    "registry-0x02": _c("this very asset (same owner, same fields) is already registered",
                        "use the existing one (predictApp & co. give its address), or change a "
                        "field", OTHER, "Create2: Failed on deploy"),
    "registry-0x03": _c("no asset with this address (token id) is registered here",
                        "check the address, or create the asset first", OTHER,
                        "ERC721: owner query for nonexistent token"),
    "registry-0x04": _c("only the asset's owner, or an account it approved, may do this",
                        "send it from the owner's account, or have the owner approve this one",
                        OTHER, "ERC721: transfer caller is not owner nor approved",
                        "ERC721: approve caller is not owner nor approved for all"),
    "registry-0x05": _c("the 'from' address does not own this asset",
                        "give the asset's current owner (its owner()) as 'from'", OTHER,
                        "ERC721: transfer of token that is not own"),
    "registry-0x06": _c("an asset cannot go to the zero address", "give a real address", OTHER,
                        "ERC721: transfer to the zero address", "ERC721: mint to the zero address"),
    "registry-0x07": _c("the receiving contract does not accept ERC-721 tokens",
                        "send it to an account, or to a contract implementing onERC721Received",
                        OTHER, "ERC721: transfer to non ERC721Receiver implementer"),
    "registry-0x08": _c("the zero address owns nothing", "give a real address", OTHER,
                        "ERC721: balance query for the zero address"),
    "registry-0x09": _c("the new asset refused its initialization", _BUG, BARE),
    "asset-0x01": _c("this asset is already initialized (its registry did it at creation)",
                     "nothing to do: an asset is initialized once, by its registry", OTHER,
                     "already initialized"),
    "workerpool-0x01": _c("only the workerpool's owner may change its policy",
                          "send it from the workerpool manager's account", OTHER,
                          "caller is not the owner"),
    "workerpool-0x02": _c("the scheduler reward ratio is a percentage",
                          "give a value from 0 to 100", BARE),
    # ----- the sandbox's RLC token (iExec's: rlc-faucet-contract, SafeMath's assert)
    "RLC-0x01": _c("the RLC allowance is too low{detail}",
                   "approve the spender first, or deposit with approveAndCall in one step", BARE),
    "RLC-0x02": _c("the receiver refused the approval", "check the spender contract", NONE,
                   note="iExec's RLC ignores the receiver's answer"),
    "RLC-0x03": _c("only the token's owner may mint RLC", "use the faucet instead", BARE,
                   note="iExec's RLC has refill (owner only) where the kit's has mint"),
    "RLC-0x04": _c("the faucet gives once a day per account", "wait, or ask the network operator",
                   NONE, note="iExec's RLC has no faucet"),
    "RLC-0x05": _c("RLC cannot be minted to the zero address", "give a real address", NONE),
    "RLC-0x06": _c("RLC cannot be sent to the zero address", "give a real address", NONE),
    "RLC-0x07": _c("the wallet's RLC balance is too low{detail}",
                   "draw from the faucet (sandbox.faucet) or ask someone to send you RLC", BARE),
    # ----- not part of the hub
    "ConsensusProbe-0x01": _c("the consensus probe needs one score per hash and a trust > 0",
                              "give as many scores as hashes, and trust >= 1", NONE),
}  # fmt: skip

_NOT_REGISTERED = (
    "PoCo reads the asset's owner() before isRegistered: for an address without code it "
    "reverts there, without a reason"
)
for _code, (_what, _todo) in MEANINGS.items():
    CHECKS[f"{POCO_SCOPE}-{_code}"] = (
        _c(_what + "{detail}", _todo, S, "", note=_NOT_REGISTERED)
        if _code in ("0x20", "0x30", "0x40")
        else _c(_what + "{detail}", _todo, S)
    )


def is_pocos(code: str) -> bool:
    """True for PoCo's own codes (matchOrders'), which the kit's strings do not mark."""
    return CHECKS[code].poco is PoCo.SAME


def reference(code: str) -> str:
    """What the kit's check is compared with: PoCo 6.1.0, or iExec's RLC token."""
    return "iExec's RLC token" if code.startswith("RLC-") else "PoCo 6.1.0"


def poco_reasons(code: str) -> tuple[str, ...]:
    """The reasons PoCo 6.1.0 reverts with at the kit's check ``code`` ("" for none), or () when
    it has no such check."""
    check = CHECKS[code]
    return {S: (code,), BARE: ("",), NONE: ()}.get(check.poco, ()) + check.says


def provenance(code: str) -> str:
    """Whose message this is, in words ("" for PoCo's own codes)."""
    check, ref = CHECKS[code], reference(code)
    head = "this check's message is the kit's; "
    if check.poco is PoCo.SAME:
        return ""
    if check.poco is PoCo.NONE:
        return f"this check is the kit's: {ref} has no such check"
    if check.poco is PoCo.BARE:
        return head + f"{ref} reverts without a reason here"
    if check.poco is PoCo.PANIC:
        return head + f"{ref} fails here with a {check.says[0]}, no message"
    return head + f"{ref} says " + " or ".join(repr(s) for s in check.says) + " here"


def parse_revert(reason: str) -> tuple[str, str, str] | None:
    """Split a kit revert string into (scope, code, phrase), or None if it is not one."""
    m = _REVERT.search(reason or "")
    if not m:
        return None
    return m["scope"], m["code"].lower(), m["phrase"].strip()


def code_of(reason: str) -> str | None:
    """The check's code in a kit revert string ("contribute-0x05"), or None."""
    parsed = parse_revert(reason)
    return None if parsed is None else f"{parsed[0]}-{parsed[1]}"


def _by_poco_message() -> dict[str, str]:
    """PoCo 6.1.0's own messages that belong to one check only -> that check's code."""
    owners: dict[str, list[str]] = {}
    for code, check in CHECKS.items():
        if not code.startswith(KIT_ON_BOTH):
            for said in check.says:
                owners.setdefault(said, []).append(code)
    return {said: codes[0] for said, codes in owners.items() if said and len(codes) == 1}


_BY_POCO_MESSAGE = _by_poco_message()


def explain_revert(reason: str, **context) -> tuple[str, str | None, str | None]:
    """(sentence, code, what to do) for a revert reason. Unknown reasons are returned as they are.

    ``context`` may hold ``detail`` (e.g. ": asked 5 RLC, stake 2 RLC") that fills the sentence.
    A message of PoCo 6.1.0's own that belongs to one check gets that check's sentence (its code
    is None: the reason carries none).
    """
    detail = context.get("detail", "")
    code = code_of(reason)
    if code is None:
        mine = _BY_POCO_MESSAGE.get((reason or "").strip())
        if mine is None:
            return (f"the transaction reverted: {reason or 'no reason given'}", None, None)
        check = CHECKS[mine]
        return (f"{check.what.format(detail=detail)} (PoCo 6.1.0's message)", None, check.todo)
    check = CHECKS.get(code)
    if check is None:
        phrase = parse_revert(reason)[2]
        return (f"the contract refused ({code}): {phrase}", code, None)
    said = provenance(code)
    sentence = check.what.format(detail=detail) + (f" ({said})" if said else "")
    return (sentence, code, check.todo)


def refused_as(code: str, reason: str | None, protocol: str = "kit") -> bool:
    """True when ``reason`` is what ``protocol``'s contracts ("kit" or "poco") revert with at
    the kit's check ``code``: on the kit's, its code; on PoCo 6.1.0, what :data:`CHECKS` says
    PoCo says there (a bare revert where it has no message)."""
    if code not in CHECKS:
        raise KeyError(f"no check {code!r} in iexec_kit.protocol.reverts.CHECKS")
    if protocol not in PROTOCOLS:
        raise ValueError(f"protocol must be one of {PROTOCOLS}, not {protocol!r}")
    reason = (reason or "").strip()
    if protocol == "kit" or code.startswith(KIT_ON_BOTH):
        return code_of(reason) == code
    return any(reason == s or (s and reason.startswith(s)) for s in poco_reasons(code))


def table() -> str:
    """The table as Markdown: code, meaning, what PoCo 6.1.0 does there."""
    rows = ["| code | means | PoCo 6.1.0 (RLC: iExec's RLC token) |", "|---|---|---|"]
    for code, check in CHECKS.items():
        said = {
            PoCo.SAME: "the same code",
            PoCo.BARE: "no reason",
            PoCo.PANIC: "a Panic",
            PoCo.NONE: "no such check",
        }.get(check.poco, "")
        says = ", ".join(f"`{s}`" for s in check.says if s)
        if check.poco is PoCo.SAME and "" in check.says:
            said += ", or no reason"
        poco = "; ".join(p for p in (said, says, check.note) if p)
        rows.append(f"| `{code}` | {check.what.format(detail='')} | {poco} |")
    return "\n".join(rows)


if __name__ == "__main__":
    print(table())
