"""The table of reverts (iexec_kit.protocol.reverts.CHECKS) against the kit's Solidity sources:
every revert the contracts can give has a row saying what it means and what PoCo 6.1.0 does at
the same check, its string is marked as the kit's unless the code is PoCo's own, and the table
has no row the contracts lost. A new require without a row fails here."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from iexec_kit.protocol.reverts import (
    CHECKS,
    MARK,
    POCO_SCOPE,
    PoCo,
    code_of,
    explain_revert,
    poco_reasons,
    refused_as,
)

CONTRACTS = Path(__file__).resolve().parents[2] / "iexec_kit" / "chain" / "contracts"
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')


def _strip_comments(src: str) -> str:
    """Comments blanked out (strings kept), so a require in a comment is not counted."""
    out, i = [], 0
    while i < len(src):
        if src.startswith("//", i):
            j = src.find("\n", i)
            i = len(src) if j < 0 else j
        elif src.startswith("/*", i):
            i = src.index("*/", i) + 2
        elif src[i] == '"':
            m = _STRING.match(src, i)
            out.append(m.group())
            i = m.end()
        else:
            out.append(src[i])
            i += 1
    return "".join(out)


def _closing(src: str, start: int, open_: str, close: str) -> int:
    """The index of the bracket closing the one at ``start`` (strings skipped)."""
    depth, i = 0, start
    while True:
        if src[i] == '"':
            i = _STRING.match(src, i).end()
            continue
        depth += (src[i] == open_) - (src[i] == close)
        if depth == 0:
            return i
        i += 1


def _top_level_args(text: str) -> list[str]:
    args, depth, cur, i = [], 0, [], 0
    while i < len(text):
        ch = text[i]
        if ch == '"':
            m = _STRING.match(text, i)
            cur.append(m.group())
            i = m.end()
            continue
        depth += ch in "([{"
        depth -= ch in ")]}"
        if ch == "," and depth == 0:
            args.append("".join(cur).strip())
            cur = []
        else:
            cur.append(ch)
        i += 1
    return [*args, "".join(cur).strip()]


def reverts_in(src: str) -> list[tuple[int, str, str | None]]:
    """(line, call, message) for every require/revert/assert outside assembly; message is None
    when the call carries no string literal (a bare require, a custom error, an assert)."""
    src = _strip_comments(src)
    for m in reversed(list(re.finditer(r"\bassembly\s*\{", src))):
        end = _closing(src, m.end() - 1, "{", "}")
        src = src[: m.start()] + re.sub(r"[^\n]", " ", src[m.start() : end + 1]) + src[end + 1 :]
    found = []
    for m in re.finditer(r"\b(require|revert|assert)\b\s*(\(|[A-Za-z_])", src):
        line = src.count("\n", 0, m.start()) + 1
        if m[2] != "(":  # revert SomeError(...)
            found.append((line, f"revert {m[2]}…", None))
            continue
        args = _top_level_args(src[m.end() : _closing(src, m.end() - 1, "(", ")")])
        wants = 2 if m[1] == "require" else 1
        last = args[-1] if len(args) == wants else ""
        message = last[1:-1] if m[1] != "assert" and _STRING.fullmatch(last) else None
        found.append((line, m[1], message))
    return found


def _inventory() -> list[tuple[str, int, str, str | None]]:
    return [
        (path.name, line, call, message)
        for path in sorted(CONTRACTS.glob("*.sol"))
        for line, call, message in reverts_in(path.read_text())
    ]


INVENTORY = _inventory()


def test_the_scanner_finds_what_it_should():
    src = """
    // require(false, "in a comment");
    function f() { require(a > b && c(d, e), "iexec-kit (not PoCo): x-0x01 a, b");
      require(ok);  revert("iexec-kit (not PoCo): x-0x02 no");  revert Oops(1);
      assembly { revert(0, returndatasize()) }  assert(x);
      require(
          g(h),
          "iExecV5-matchOrders-0x00 multi-line"
      ); }"""
    assert reverts_in(src) == [
        (3, "require", "iexec-kit (not PoCo): x-0x01 a, b"),
        (4, "require", None),
        (4, "revert", "iexec-kit (not PoCo): x-0x02 no"),
        (4, "revert O…", None),
        (5, "assert", None),
        (6, "require", "iExecV5-matchOrders-0x00 multi-line"),
    ]
    assert len(INVENTORY) > 100  # the kit's contracts: about 110 reverts


def test_every_revert_in_the_kits_contracts_has_a_row_and_the_right_mark():
    problems = []
    for name, line, call, message in INVENTORY:
        where = f"{name}:{line}"
        if message is None:
            problems.append(f"{where}: {call} without a message (give it a code and a row)")
            continue
        code = code_of(message)
        if code is None or code not in CHECKS:
            problems.append(f"{where}: {message!r} has no row in CHECKS")
            continue
        pocos = CHECKS[code].poco is PoCo.SAME
        if pocos and not message.startswith(code + " "):
            problems.append(f"{where}: PoCo's own code {code} must start the message, unmarked")
        if not pocos and not message.startswith(MARK + code + " "):
            problems.append(f"{where}: the kit's own {code} must read {MARK!r}{code} …")
    assert not problems, "\n".join(problems)


def test_every_row_is_a_revert_of_the_kits_contracts():
    in_sources = {code_of(m) for *_, m in INVENTORY if m}
    assert set(CHECKS) - in_sources == set()


def test_one_code_one_place_in_pocos_behaviour():
    """A code used at several places must mean one check: the same phrase everywhere, or the
    row lists a PoCo message for each (registry-0x06: transfer and mint to the zero address)."""
    phrases: dict[str, set[str]] = {}
    for *_, message in INVENTORY:
        if message:
            phrases.setdefault(code_of(message), set()).add(message)
    for code, seen in phrases.items():
        if len(seen) > 1:
            assert len(CHECKS[code].says) >= len(seen), (code, seen)


@pytest.mark.parametrize("code", sorted(CHECKS))
def test_every_row_is_complete(code):
    check = CHECKS[code]
    assert check.what and check.todo, code
    if check.poco in (PoCo.OTHER, PoCo.PANIC):
        assert check.says and all(check.says), f"{code}: say what PoCo says"
    if check.poco is PoCo.NONE:
        assert check.says == (), f"{code}: PoCo has no such check, so it says nothing"
    assert code.startswith(POCO_SCOPE) == (check.poco is PoCo.SAME), code


def test_the_sentences_say_whose_message_it_is():
    sentence, code, todo = explain_revert(
        MARK + "contribute-0x05 worker not authorized by the scheduler"
    )
    assert code == "contribute-0x05" and "the scheduler did not authorize" in sentence
    assert "this check's message is the kit's; PoCo 6.1.0 reverts without a reason here" in sentence
    assert todo.startswith("ask the workerpool owner")
    sentence, *_ = explain_revert(MARK + "config-0x03 work clock must be positive")
    assert "PoCo 6.1.0 has no such check" in sentence
    sentence, *_ = explain_revert(MARK + "escrow-0x0b arrays differ in length")
    assert "PoCo 6.1.0 says 'invalid-array-length' here" in sentence
    sentence, *_ = explain_revert(MARK + "RLC-0x04 faucet cooldown not over")
    assert "iExec's RLC token has no such check" in sentence
    sentence, *_ = explain_revert(MARK + "escrow-0x02 amount exceeds stake", detail=": asked 5")
    assert sentence.startswith("the amount exceeds the account's free stake: asked 5 (")
    # PoCo's own codes: no mark, no provenance; with or without the kit's phrase
    for reason in ("iExecV5-matchOrders-0x03 app price above max", "iExecV5-matchOrders-0x03"):
        sentence, code, todo = explain_revert(reason)
        assert code == "iExecV5-matchOrders-0x03" and "(" not in sentence and "appmaxprice" in todo
    # PoCo 6.1.0's own message, on the published hub: the check's sentence, no code
    sentence, code, todo = explain_revert("Ownable: caller is not the owner")
    assert code is None and sentence.startswith("only the hub's owner") and todo
    assert explain_revert("") == ("the transaction reverted: no reason given", None, None)


def test_refused_as_answers_from_the_table():
    assert refused_as("contribute-0x05", MARK + "contribute-0x05 worker not authorized")
    assert not refused_as("contribute-0x05", "")
    assert refused_as("contribute-0x05", "", "poco")
    assert refused_as("contribute-0x05", "invalid-signature-format", "poco")
    assert not refused_as("contribute-0x05", MARK + "contribute-0x05 x", "poco")
    assert refused_as("escrow-0x05", "IexecEscrow: Transfer amount exceeds balance", "poco")
    assert not refused_as("escrow-0x05", "", "poco")
    assert refused_as("iExecV5-matchOrders-0x03", "iExecV5-matchOrders-0x03", "poco")
    assert refused_as("iExecV5-matchOrders-0x20", "", "poco")  # owner() of a codeless address
    assert not refused_as("iExecV5-matchOrders-0x03", "", "poco")
    assert not refused_as("config-0x03", "", "poco")  # PoCo has no such check: it accepts
    # the sandbox's RLC is the kit's on both protocols
    assert refused_as("RLC-0x01", MARK + "RLC-0x01 allowance too low", "poco")
    assert poco_reasons("escrow-0x06") == ("Panic error 0x11",)
    with pytest.raises(KeyError, match="no check"):
        refused_as("contribute-0x99", "")
    with pytest.raises(ValueError, match="protocol must be one of"):
        refused_as("contribute-0x05", "", "v3")
