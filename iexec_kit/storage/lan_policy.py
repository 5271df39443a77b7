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

from iexec_kit.chain.rpc_filter import REFUSED, SEND_RAW_TRANSACTION, WRITE_METHODS
from iexec_kit.errors import KitValueError


class Rules(Enum):
    """Which calls a front asks the token for (:data:`RULE_WORDS` says it in words)."""

    JSONRPC = "jsonrpc"  # the chain: call by call, iexec_kit.chain.rpc_filter (not needs_token)
    IPFS = "ipfs"  # an allow-list: the gateway's reads and the Kubo API's reads open
    WRITES = "writes"  # the HTTP reads open
    ALL = "all"  # nothing open


#: HTTP methods that only read (open under Rules.WRITES)
READ_HTTP_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
#: the IPFS gateway's paths: open to reads (GATEWAY_HTTP_METHODS) under Rules.IPFS
GATEWAY_PREFIXES = ("/ipfs/", "/ipns/")
#: the HTTP methods the gateway's paths are open to
GATEWAY_HTTP_METHODS = frozenset({"GET", "HEAD"})
#: the Kubo API's calls that only read (open under Rules.IPFS; every other path needs the token)
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
#: the HTTP methods IPFS_READS are open to: Kubo's RPC API takes POST (it answers a GET with
#: 405 itself); a GET is a read all the same
IPFS_READ_HTTP_METHODS = frozenset({"POST", "GET"})


def needs_token(rules: Rules, method: str, path: str) -> bool:
    """Whether an HTTP call needs the token under ``rules``. Under :attr:`Rules.IPFS` an
    allow-list: only the gateway's reads and the Kubo API's reads pass without it (a Kubo
    daemon's /webui, /debug/pprof, /debug/metrics... do not). :attr:`Rules.JSONRPC` is decided
    call by call (:func:`iexec_kit.chain.rpc_filter.verdict`), not here: asking raises, as any
    rule this function does not know does."""
    method = method.upper()
    if rules is Rules.ALL:
        return True
    if rules is Rules.WRITES:
        return method not in READ_HTTP_METHODS
    if rules is Rules.IPFS:
        if path.startswith(GATEWAY_PREFIXES):
            return method not in GATEWAY_HTTP_METHODS
        return not (path.rstrip("/") in IPFS_READS and method in IPFS_READ_HTTP_METHODS)
    if rules is Rules.JSONRPC:
        raise KitValueError(
            "a JSON-RPC front decides call by call, not by HTTP method and path",
            expected="Rules.IPFS, Rules.WRITES or Rules.ALL",
            got="Rules.JSONRPC",
            hint="ask iexec_kit.chain.rpc_filter.verdict(method) for each call",
        )
    raise KitValueError(
        "needs_token knows no such rule",
        expected=" or ".join(f"Rules.{r.name}" for r in Rules if r is not Rules.JSONRPC),
        got=repr(rules),
        hint="give a front one of the Rules; a new rule needs its case in needs_token",
    )


def _names(names) -> str:
    return ", ".join(f"`{n}`" for n in names)


def _chain_words() -> str:
    filters = sorted(WRITE_METHODS - {SEND_RAW_TRANSACTION})
    refused = [f"{name}*" if name.endswith("_") else name for name, _ in REFUSED]
    return (
        "through the kit's filtering proxy (`iexec_kit.chain.rpc_filter`): reads for anyone; "
        f"with the token, `{SEND_RAW_TRANSACTION}` (a transaction you signed) and the node's "
        f"filters ({_names(filters)}); refused, with a JSON-RPC error naming the method and why: "
        f"{_names(refused)} and any method not on the list of reads"
    )


def _ipfs_words() -> str:
    reads = sorted(p.removeprefix("/api/v0/") for p in IPFS_READS)
    gateway = " and ".join(f"`{p}...`" for p in GATEWAY_PREFIXES)
    return (
        f"for anyone, only the gateway ({'/'.join(sorted(GATEWAY_HTTP_METHODS))} under "
        f"{gateway}) and the Kubo API's reads ({', '.join(reads)}; "
        f"{' or '.join(sorted(IPFS_READ_HTTP_METHODS, reverse=True))}); every other call with "
        "the token: the API's other calls (add, pin add and rm...) and any other path "
        "(a Kubo daemon's /webui, /debug...)"
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
    "GATEWAY_HTTP_METHODS",
    "GATEWAY_PREFIXES",
    "IPFS_READS",
    "IPFS_READ_HTTP_METHODS",
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
