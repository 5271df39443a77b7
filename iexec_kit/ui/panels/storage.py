"""Step 01: where results go, and the requester's sign-in to the result proxy."""

from __future__ import annotations

import ipywidgets as W

from iexec_kit.ui.html import code, e, render_sign_in
from iexec_kit.ui.panels.base import Panel

STORAGE_CHOICES = {
    "IPFS": dict(storage_provider="ipfs", encryption=False),
    "encrypted IPFS": dict(storage_provider="ipfs", encryption=True),
    "private": dict(storage_provider="dropbox", encryption=False),
}
STORAGE_HELP = {
    "IPFS": "the result is pinned on IPFS: anyone with the CID can read it",
    "encrypted IPFS": (
        "on IPFS, encrypted for the beneficiary's RSA key: only the beneficiary reads it"
    ),
    "private": (
        "the result proxy keeps it (iExec's 'dropbox' slot): "
        "only the beneficiary's token fetches it"
    ),
}


class StorageSetupPanel(Panel):
    """Step 01: where results go, and the requester's sign-in to the result proxy (the EIP-712
    challenge, its signature, the token the kit keeps for the workers)."""

    title = "Result storage"

    def __init__(self, sb):
        self.sb = sb
        self.choice = W.ToggleButtons(
            options=list(STORAGE_CHOICES), value="IPFS", description="storage"
        )
        self.help = W.HTML()
        self.challenge = W.HTML()
        self.choice.observe(lambda _: self._render(), names="value")
        self.sign_in = self._button(
            "Sign in to the result proxy", self.login, button_style="primary"
        )
        super().__init__([self.choice, self.help, self.sign_in, self.challenge])
        self._render()

    def params(self) -> dict:
        """The request params this choice gives (fields of
        :class:`iexec_kit.poco.orders.RequestParams`). The proxy is the sandbox's own, left out as
        in :func:`iexec_kit.tutorial.steps.request_params`: its port changes every run, and left
        out, the deal id repeats."""
        return dict(STORAGE_CHOICES[self.choice.value])

    def _render(self) -> None:
        token = self.sb.storage.token_for(self.sb.requester.address)
        p = self.params()
        self.help.value = (
            f"{e(STORAGE_HELP[self.choice.value])}<br>params: "
            f"<code>iexec_result_storage_provider={e(p['storage_provider'])}</code>, "
            f"<code>iexec_result_encryption={str(p['encryption']).lower()}</code><br>"
            f"token kept for the requester: {code(token, 30) if token else '(none yet)'}"
        )

    def login(self) -> str:
        """Storage init: the proxy's challenge, signed as the requester, gives the token the kit
        keeps for the workers (:meth:`iexec_kit.storage.LocalStorage.sign_in`)."""
        sb = self.sb
        signed = sb.storage.sign_in(sb.requester.key)
        key = None
        if self.choice.value == "encrypted IPFS":
            key = sb.storage.beneficiary_keys(sb.requester.address, bits=2048).public
        self.challenge.value = render_sign_in(signed, key)
        self.say(
            f"signed in as {sb.requester.name} ({sb.requester.address}); "
            "the token is kept for the workers"
        )
        self._render()
        return signed.token


__all__ = ["STORAGE_CHOICES", "StorageSetupPanel"]
