"""What a LAN user can do with each service ``iexec-kit node --listen`` opens: the one list.

Each front (:class:`iexec_kit.storage.lan.LanFront`) asks the workshop's token for what its
:class:`Rules` call a write (:func:`needs_token`; the chain's calls go method by method through
:mod:`iexec_kit.chain.rpc_filter`). :data:`LAN_USES` names, per service, its title, its rules
and the checks the service itself makes behind the front; the node's start banner and the
README's table are made from it (``python -m iexec_kit.storage.lan_policy`` prints the table; a
test checks that the README holds exactly that).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from iexec_kit.chain.rpc_filter import REFUSED, WRITE_METHODS


class Rules(Enum):
    """Which calls a front asks the token for (:data:`RULE_WORDS` says it in words)."""

    JSONRPC = "jsonrpc"  # the chain: call by call, iexec_kit.chain.rpc_filter
    IPFS = "ipfs"  # the gateway and the Kubo API's reads open
    WRITES = "writes"  # the HTTP reads open
    ALL = "all"  # nothing open


#: HTTP methods that only read (open under Rules.WRITES and on the IPFS gateway)
READ_HTTP_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
#: the Kubo API's calls that only read (the others need the token over the LAN)
IPFS_READS = frozenset(
    {
        "/api/v0/cat",
        "/api/v0/get",
        "/api/v0/ls",
        "/api/v0/block/get",
        "/api/v0/block/stat",
        "/api/v0/pin/ls",
        "/api/v0/version",
        "/api/v0/id",
    }
)


def needs_token(rules: Rules, method: str, path: str) -> bool:
    """Whether an HTTP call (not JSON-RPC, which is decided call by call) needs the token."""
    if rules is Rules.ALL:
        return True
    if rules is Rules.WRITES:
        return method.upper() not in READ_HTTP_METHODS
    if rules is Rules.IPFS:
        if path.startswith("/api/"):
            return path.rstrip("/") not in IPFS_READS
        return method.upper() not in READ_HTTP_METHODS
    return False


def _names(names) -> str:
    return ", ".join(f"`{n}`" for n in names)


def _chain_words() -> str:
    filters = sorted(WRITE_METHODS - {"eth_sendRawTransaction"})
    refused = [f"{name}*" if name.endswith("_") else name for name, _ in REFUSED]
    return (
        "through the kit's filtering proxy (`iexec_kit.chain.rpc_filter`): reads for anyone; "
        "with the token, `eth_sendRawTransaction` (a transaction you signed) and the node's "
        f"filters ({_names(filters)}); refused, with a JSON-RPC error naming the method and why: "
        f"{_names(refused)} and any method not on the list of reads"
    )


def _ipfs_words() -> str:
    reads = sorted(p.removeprefix("/api/v0/") for p in IPFS_READS)
    return (
        "the gateway (`GET /ipfs/...`) and the Kubo API's reads "
        f"({', '.join(reads)}) for anyone; any other API call (add, pin add and rm...) with "
        "the token"
    )


#: each rule in words (markdown: the banner drops the backticks)
RULE_WORDS = {
    Rules.JSONRPC: _chain_words(),
    Rules.IPFS: _ipfs_words(),
    Rules.WRITES: f"reads ({', '.join(sorted(READ_HTTP_METHODS))}) for anyone; any other call "
    "with the token",
    Rules.ALL: "every call with the token",
}


@dataclass(frozen=True)
class LanUse:
    """One service as the LAN sees it: ``key`` as in node.json's urls, its front's ``rules``,
    and ``behind``: what the service itself checks behind the front (markdown)."""

    key: str
    title: str
    rules: Rules
    behind: str = ""

    @property
    def markdown(self) -> str:
        """What a LAN user can do with it: the README's cell."""
        words = RULE_WORDS[self.rules]
        return f"{words}; behind it, {self.behind}" if self.behind else words

    @property
    def what(self) -> str:
        """The same in plain text: the start banner's line."""
        return self.markdown.replace("`", "")


#: what a LAN user can do with each service the node opens, in the banner's order
LAN_USES: dict[str, LanUse] = {
    u.key: u
    for u in (
        LanUse("chain", "chain (JSON-RPC)", Rules.JSONRPC),
        LanUse("ipfs", "IPFS API + gateway", Rules.IPFS),
        LanUse(
            "ipfs_gateway",
            "IPFS gateway",
            Rules.IPFS,
            "the kit's gateway alone, on a port of its own (no Kubo API there)",
        ),
        LanUse(
            "result_proxy",
            "result proxy",
            Rules.WRITES,
            "an upload needs a worker's signed login (a JWT) and the chain's word that it "
            "contributed; a private result's download needs the requester's JWT",
        ),
        LanUse(
            "market",
            "market API",
            Rules.WRITES,
            "publishing or cancelling an order needs its owner's signature",
        ),
        LanUse(
            "sms",
            "SMS",
            Rules.WRITES,
            "pushing a secret needs its owner's signature; a task's secret goes only to a "
            "worker that contributed to it (signed, checked on chain)",
        ),
        LanUse(
            "scheduler",
            "scheduler API",
            Rules.ALL,
            "a worker signs in with its wallet (an EIP-712 challenge): "
            "`iexec-kit worker --scheduler <joined URL> --key ...`",
        ),
    )
}

TABLE_START = "<!-- lan uses: generated by python -m iexec_kit.storage.lan_policy -->"
TABLE_END = "<!-- end of lan uses -->"


def markdown_table() -> str:
    """The README's table of what a LAN user can do, generated from :data:`LAN_USES`."""
    rows = ["| service | over the LAN |", "|---|---|"]
    rows += [f"| {u.title} | {u.markdown} |" for u in LAN_USES.values()]
    return "\n".join([TABLE_START, *rows, TABLE_END])


__all__ = [
    "IPFS_READS",
    "LAN_USES",
    "READ_HTTP_METHODS",
    "RULE_WORDS",
    "LanUse",
    "Rules",
    "markdown_table",
    "needs_token",
]

if __name__ == "__main__":
    print(markdown_table())
