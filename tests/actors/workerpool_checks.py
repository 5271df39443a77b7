"""Checks on a demo summary (the --json output): money, totals, accounts by name."""

from __future__ import annotations


def money_conserved(summary: dict) -> bool:
    """Every nRLC the hub holds belongs to an account's stake or locked, or to the kitty."""
    after = summary["accounts"]["after"]
    held = sum(a["stake"] + a["locked"] for a in after.values()) + summary["kitty"]["after"]
    return held == summary["hub_rlc"]["after"]


def total(account: dict) -> int:
    return account["wallet_rlc"] + account["stake"] + account["locked"]


def by_name(summary: dict, when: str = "after") -> dict:
    return {a["name"]: a for a in summary["accounts"][when].values()}
