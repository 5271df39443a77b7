"""Small HTML tables of kit views, for notebooks (``display(accounts_table(sb.accounts()))``)."""

from __future__ import annotations

from html import escape

from iexec_kit.protocol.units import RLC

ETH = 10**18


class HTMLTable:
    """An HTML table that Jupyter renders (``_repr_html_``) and that prints as text elsewhere."""

    def __init__(self, headers: list[str], rows: list[list[str]], caption: str = ""):
        self.headers, self.rows, self.caption = headers, rows, caption

    def _repr_html_(self) -> str:
        head = "".join(f"<th>{escape(h)}</th>" for h in self.headers)
        body = "".join(
            "<tr>" + "".join(f"<td><code>{escape(c)}</code></td>" for c in r) + "</tr>"
            for r in self.rows
        )
        cap = f"<caption>{escape(self.caption)}</caption>" if self.caption else ""
        return f"<table>{cap}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"

    def __str__(self) -> str:
        widths = [max(len(str(x)) for x in col) for col in zip(self.headers, *self.rows)]
        line = lambda r: "  ".join(str(c).ljust(w) for c, w in zip(r, widths))  # noqa: E731
        return "\n".join(
            ([self.caption] if self.caption else [])
            + [line(self.headers)]
            + [line(r) for r in self.rows]
        )

    __repr__ = __str__


def accounts_table(accounts, caption: str = "Participants") -> HTMLTable:
    """Participants with ETH, RLC in the wallet, and stake/locked on the hub."""
    rows = [
        [
            a.name,
            a.address,
            f"{a.eth / ETH:,.4f}",
            f"{a.wallet_rlc / RLC:,.9g}",
            f"{a.stake / RLC:,.9g}",
            f"{a.locked / RLC:,.9g}",
        ]
        for a in accounts
    ]
    return HTMLTable(
        ["participant", "address", "ETH", "RLC wallet", "stake (RLC)", "locked (RLC)"],
        rows,
        caption,
    )


def app_table(app) -> HTMLTable:
    """The on-chain fields of an app."""
    rows = [
        ["address", app.address],
        ["owner()", app.owner],
        ["m_appName", app.name],
        ["m_appType", app.type],
        ["m_appMultiaddr", app.multiaddr],
        ["m_appChecksum", app.checksum],
        ["m_appMREnclave", app.mrenclave or "(none: not a TEE app)"],
    ]
    return HTMLTable(["field", "value"], rows, f"App {app.name}")


def workerpool_table(pool) -> HTMLTable:
    rows = [
        ["address", pool.address],
        ["owner()", pool.owner],
        ["m_workerpoolDescription", pool.description],
        ["m_workerStakeRatioPolicy", f"{pool.worker_stake_ratio} %"],
        ["m_schedulerRewardRatioPolicy", f"{pool.scheduler_reward_ratio} %"],
    ]
    return HTMLTable(["field", "value"], rows, "Workerpool")
