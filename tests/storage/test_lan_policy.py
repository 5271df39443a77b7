"""What a LAN user can do with each opened service is one list (iexec_kit.storage.lan_policy
.LAN_USES): the README's table is generated from it, the banner's lines are its words, and the
docstrings point to it rather than repeat it. Without a node: the rules as plain functions."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from iexec_kit.chain import rpc_filter
from iexec_kit.errors import KitValueError
from iexec_kit.storage import lan, lan_policy
from iexec_kit.storage.lan_policy import IPFS_READS, LAN_USES, Rules, needs_token

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"


def test_the_readme_holds_the_generated_table():
    text = README.read_text()
    assert lan_policy.markdown_table() in text, (
        "README.md's table of what a LAN user can do is not LAN_USES in "
        "iexec_kit/storage/lan_policy.py: paste the output of "
        "`python -m iexec_kit.storage.lan_policy` in its place"
    )
    assert text.count(lan_policy.TABLE_START) == 1 and text.count("| service | over the LAN |") == 1


def test_every_use_is_a_table_cell_and_a_banner_line():
    for key, use in LAN_USES.items():
        assert use.key == key and use.title and use.rules in Rules
        assert "|" not in use.title + use.markdown, key
        assert "`" not in use.what and "`" in LAN_USES["chain"].markdown  # plain for a terminal


def test_the_words_name_what_the_rules_check():
    chain = LAN_USES["chain"].markdown
    for name, _ in rpc_filter.REFUSED:
        shown = f"`{name}*`" if name.endswith("_") else f"`{name}`"  # a prefix, or a name
        assert shown in chain, name
    for name in rpc_filter.WRITE_METHODS:
        assert f"`{name}`" in chain, name
    ipfs = LAN_USES["ipfs"].markdown
    for path in IPFS_READS:
        assert path.removeprefix("/api/v0/") in ipfs, path


@pytest.mark.parametrize(
    ("rules", "method", "path", "needed"),
    [
        (Rules.WRITES, "GET", "/v1/results/0x01", False),
        (Rules.WRITES, "head", "/", False),
        (Rules.WRITES, "POST", "/v1/results/0x01", True),
        (Rules.WRITES, "DELETE", "/apporders", True),
        (Rules.IPFS, "GET", "/ipfs/Qm", False),
        (Rules.IPFS, "head", "/ipfs/Qm/a.png", False),
        (Rules.IPFS, "GET", "/ipns/k51", False),
        (Rules.IPFS, "POST", "/ipfs/Qm", True),
        (Rules.IPFS, "OPTIONS", "/ipfs/Qm", True),
        (Rules.IPFS, "POST", "/api/v0/cat", False),
        (Rules.IPFS, "POST", "/api/v0/cat/", False),
        (Rules.IPFS, "GET", "/api/v0/version", False),
        (Rules.IPFS, "HEAD", "/api/v0/cat", True),
        (Rules.IPFS, "POST", "/api/v0/add", True),
        (Rules.IPFS, "GET", "/api/v0/pin/add", True),
        # a Kubo daemon's other pages: an allow-list leaves them closed (a deny-list did not)
        (Rules.IPFS, "GET", "/debug/pprof/heap", True),
        (Rules.IPFS, "GET", "/debug/metrics/prometheus", True),
        (Rules.IPFS, "GET", "/webui", True),
        (Rules.IPFS, "GET", "/", True),
        (Rules.IPFS, "GET", "/ipfs", True),
        (Rules.IPFS, "GET", "/ipfsx/Qm", True),
        (Rules.ALL, "GET", "/pool", True),
    ],
)
def test_which_calls_need_the_token(rules, method, path, needed):
    assert needs_token(rules, method, path) is needed


def test_json_rpc_and_an_unknown_rule_are_not_decided_by_path():
    with pytest.raises(KitValueError) as asked:
        needs_token(Rules.JSONRPC, "POST", "/")  # decided call by call (rpc_filter)
    assert "call by call" in str(asked.value) and "rpc_filter.verdict" in str(asked.value)
    with pytest.raises(KitValueError) as unknown:
        needs_token("ipfs", "GET", "/ipfs/Qm")  # not a Rules member: no silent "open"
    assert "no such rule" in str(unknown.value) and "Rules.IPFS" in str(unknown.value)


def test_the_ipfs_words_say_the_allow_list():
    ipfs = LAN_USES["ipfs"].markdown
    for prefix in lan_policy.GATEWAY_PREFIXES:
        assert f"`{prefix}...`" in ipfs, prefix
    for method in lan_policy.GATEWAY_HTTP_METHODS | lan_policy.IPFS_READ_HTTP_METHODS:
        assert method in ipfs, method
    assert "only" in ipfs and "any other path" in ipfs and "OPTIONS" not in ipfs


def test_the_raw_transaction_is_named_once():
    source = (ROOT / "iexec_kit/storage/lan_policy.py").read_text()
    assert rpc_filter.SEND_RAW_TRANSACTION == "eth_sendRawTransaction"
    assert rpc_filter.SEND_RAW_TRANSACTION in rpc_filter.WRITE_METHODS
    assert '"eth_sendRawTransaction"' not in source  # imported from rpc_filter
    assert f"`{rpc_filter.SEND_RAW_TRANSACTION}` (a transaction you signed)" in (
        LAN_USES["chain"].markdown
    )


def test_a_service_without_a_policy_is_refused_before_anything_starts():
    gate = lan.LanGate("127.0.0.1", token="t")
    with pytest.raises(KitValueError) as refused:
        gate.open("ftp", "http://127.0.0.1:1")
    assert "no LAN policy" in str(refused.value) and "chain" in str(refused.value)
    assert gate.services == {}


def test_the_docstrings_point_to_the_list_and_repeat_none_of_it():
    import iexec_kit.cli.node as cli_node
    import iexec_kit.node as node

    pieces = {
        p.strip()
        for use in LAN_USES.values()
        for p in re.split(r"[;:]", use.what)
        if len(p.strip()) >= 25
    }
    for module in (lan, node, rpc_filter, cli_node):
        doc = " ".join(module.__doc__.split())
        assert "LAN_USES" in doc or module is cli_node, module.__name__
        for piece in pieces:
            assert piece not in doc, f"{module.__name__}'s docstring repeats {piece!r}"
