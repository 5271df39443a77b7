"""Step 00: the Dapp's data on the blockchain: the app contract, its registry entry, its owner."""

from __future__ import annotations

import ipywidgets as W

from iexec_kit.ui.display import app_html
from iexec_kit.ui.html import addr, e, table
from iexec_kit.ui.panels.base import Panel


def registry_entry(sb, address: str) -> dict:
    """What the app registry says of ``address``, read with the hub client's views: whether it
    is registered, its owner (``owner()`` of the app contract; once the registries are ERC-721,
    the current token holder) and how many apps that owner holds in the registry."""
    hub = sb.hub
    registry = hub.appregistry
    registered = bool(hub.chain.call(registry.functions.isRegistered(address)))
    owner = hub.asset_owner(address)
    fns = registry.functions
    count = None
    for name in ("balanceOf", "viewCount"):  # ERC-721's name, then the pre-ERC-721 one
        if name in {f["name"] for f in registry.abi if f.get("type") == "function"}:
            count = int(hub.chain.call(getattr(fns, name)(owner)))
            break
    return {"registry": registry.address, "registered": registered, "owner": owner, "count": count}


class DappInspector(Panel):
    """Step 00: "inspect the Dapp's blockchain data": the app as the hub's ``viewApp`` returns it,
    its entry in the app registry, and who owns it (a sandbox participant's name when known)."""

    title = "The Dapp on the blockchain"

    def __init__(self, sb, app: str | None = None):
        self.sb = sb
        self.address = app or sb.app_address
        self.view = W.HTML("<i>press the button to read the chain</i>")
        self.inspect_button = self._button(
            "Inspect the Dapp's blockchain data", self.inspect, button_style="primary"
        )
        super().__init__([self.inspect_button, self.view])

    def _name(self, address: str) -> str:
        return next(
            (p.name for p in self.sb.participants if p.address.lower() == address.lower()),
            "not a sandbox participant",
        )

    def inspect(self) -> dict:
        """Read the app, its registry entry and its owner from the chain, and show them."""
        app = self.sb.hub.app(self.address)
        entry = registry_entry(self.sb, self.address)
        rows = [
            ["app registry", addr(entry["registry"])],
            ["registered there", "yes" if entry["registered"] else "<b>no</b>"],
            ["owner", f"{addr(entry['owner'])} ({e(self._name(entry['owner']))})"],
        ]
        if entry["count"] is not None:
            rows.append(["apps this owner holds", str(entry["count"])])
        self.view.value = (
            app_html(app)
            + "<div class='iexec-rich'><b>Registry entry</b>"
            + table(["", ""], rows)
            + "</div>"
        )
        self.say(f"read app {app.name} at {app.address}: owned by {self._name(entry['owner'])}")
        return {"app": app, **entry}


__all__ = ["DappInspector", "registry_entry"]
