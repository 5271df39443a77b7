"""Everything storage a local network needs, in one folder: what a Sandbox starts and stops.

    storage = LocalStorage(".sandbox/storage", oracle=oracle, chain_id=65535).start()
    token = storage.storage_init(requester_key)           # the demo's "Storage Set-up"
    keys = storage.beneficiary_keys(beneficiary_address)  # when results are encrypted
    ...                                                   # a worker: storage.upload(...)
    data = storage.fetch(receipt.location)                # the requester, at the end
    storage.stop()

Layout: ``<folder>/ipfs`` (the embedded node's repo, unless a Kubo API is named),
``<folder>/proxy`` (the result proxy's index and private results), ``<folder>/secrets/
beneficiary`` (RSA key pairs), ``<folder>/tokens.json`` (the requesters' proxy tokens, which
the kit keeps for the workers that upload on their behalf).

With an SMS (``sms=Sms(...)``, :mod:`iexec_kit.storage.sms`, or ``sms=True`` for one of its own
under ``<folder>/sms``), the token is not kept in tokens.json: storage init pushes it to the SMS
signed by the requester (secret ``iexec-result-iexec-ipfs-token``, as ``iexec storage init``
does), and a worker's upload reads the task's requester's token from the SMS, which checks with
the chain that the worker contributed to the task. A requester who pushed no token (e.g. never
ran storage init) makes the upload fail with a :class:`~iexec_kit.storage.sms.SecretNotFoundError`
saying so.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from iexec_kit.storage.oracle import TaskOracle


class LocalStorage:
    """The IPFS node (embedded + its HTTP API and gateway, or a named Kubo) and the result proxy."""

    def __init__(
        self,
        folder: str | os.PathLike[str],
        *,
        oracle: TaskOracle,
        chain_id: int,
        ipfs_api: str | None = None,
        max_upload_bytes: int | None = None,
        sms=None,
    ):
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.oracle, self.chain_id = oracle, chain_id
        self.ipfs_api = ipfs_api if ipfs_api is not None else os.environ.get("IEXEC_KIT_IPFS_API")
        self.max_upload_bytes = max_upload_bytes
        self.daemon = None
        self.ipfs = None
        self.proxy = None
        self._tokens_file = self.folder / "tokens.json"
        self._own_sms = sms is True
        self.sms = None if sms is True or sms is None or sms is False else sms

    def start(self) -> LocalStorage:
        """Start the IPFS daemon (or check the named Kubo API) and the result proxy."""
        from iexec_kit.storage.proxy import DEFAULT_MAX_UPLOAD, ResultProxy

        if self.proxy is not None and self.proxy.server is not None and self.proxy.server.running:
            return self  # already started
        if self.ipfs_api:
            from iexec_kit.storage.kubo import KuboClient

            self.ipfs = KuboClient(self.ipfs_api)
            self.ipfs.version()  # fail now, with a hint, if it does not answer
        else:
            from iexec_kit.storage.daemon import IpfsDaemon

            self.daemon = IpfsDaemon(self.folder / "ipfs").start()
            self.ipfs = self.daemon.node
        try:
            if self._own_sms and self.sms is None:
                from iexec_kit.storage.sms import Sms

                self.sms = Sms(self.folder / "sms", oracle=self.oracle)
            if self._own_sms:
                self.sms.start()
            self.proxy = ResultProxy(
                self.oracle,
                self.ipfs,
                self.folder / "proxy",
                chain_id=self.chain_id,
                max_upload_bytes=self.max_upload_bytes or DEFAULT_MAX_UPLOAD,
            ).start()
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """Stop the proxy, the daemon and an SMS this storage started; idempotent."""
        if self.proxy is not None:
            self.proxy.stop()
        if self._own_sms and self.sms is not None:
            self.sms.stop()
        if self.daemon is not None:
            self.daemon.stop()

    def __enter__(self) -> LocalStorage:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def gateway_url(self) -> str:
        """Where a browser loads /ipfs/<cid> (the kit's gateway, or the Kubo API's host)."""
        return self.daemon.gateway_url if self.daemon else self.ipfs.base

    @property
    def proxy_url(self) -> str:
        return self.proxy.url

    def client(self):
        """A :class:`ResultProxyClient` for this proxy."""
        from iexec_kit.storage.proxy import ResultProxyClient

        return ResultProxyClient(self.proxy.url, chain_id=self.chain_id)

    # -- storage init: the requester's token, kept for the workers --
    def _tokens(self) -> dict:
        try:
            return json.loads(self._tokens_file.read_text())
        except FileNotFoundError:
            return {}

    def storage_init(self, requester_key) -> str:
        """Sign the proxy's EIP-712 challenge as the requester; keep and return the token."""
        return self.sign_in(requester_key).token

    def sign_in(self, requester_key):
        """:meth:`storage_init` with its steps kept (a :class:`~iexec_kit.storage.proxy.SignIn`:
        the challenge, the signature, the token); the token is kept for the workers."""
        from eth_account import Account

        signed = self.client().sign_in(requester_key)
        token = signed.token
        if self.sms is not None:  # as `iexec storage init`: the token goes to the SMS
            from iexec_kit.storage.sms import RESULT_IPFS_TOKEN

            self.sms.push_web2_secret(requester_key, RESULT_IPFS_TOKEN, token)
            return signed
        tokens = self._tokens()
        tokens[Account.from_key(requester_key).address.lower()] = token
        tmp = self._tokens_file.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            json.dump(tokens, fh)
        os.replace(tmp, self._tokens_file)
        return signed

    def token_for(self, requester: str) -> str | None:
        """The token stored for a requester by :meth:`storage_init` (None when there is none;
        with an SMS, the one the requester pushed there)."""
        if self.sms is not None:
            from iexec_kit.storage.sms import RESULT_IPFS_TOKEN

            return self.sms.web2_secret(requester, RESULT_IPFS_TOKEN)
        return self._tokens().get(requester.lower())

    # -- keys, uploads, downloads --
    def beneficiary_keys(self, address: str, *, bits: int = 4096, wallet_key=None):
        """The beneficiary's RSA key pair (created once) under secrets/beneficiary/. With an SMS
        and the beneficiary's ``wallet_key``, its public key is also pushed there (as
        ``iexec result push-encryption-key`` does), for the workers."""
        from iexec_kit.storage.encryption import generate_beneficiary_keys

        pair = generate_beneficiary_keys(
            self.folder / "secrets" / "beneficiary", address, bits=bits
        )
        if self.sms is not None and wallet_key is not None:
            from iexec_kit.storage.sms import RESULT_ENCRYPTION_PUBLIC_KEY, encode_public_key

            pushed = encode_public_key(pair.public.read_bytes())
            self.sms.push_web2_secret(wallet_key, RESULT_ENCRYPTION_PUBLIC_KEY, pushed)
        return pair

    def result_encryption_key(self, beneficiary: str, taskid: str, worker_key) -> bytes:
        """The PEM public key a worker encrypts a task's result with: the beneficiary's key
        from the SMS (read as the task's worker; SecretNotFoundError when never pushed), or
        without an SMS the one under secrets/beneficiary/."""
        if self.sms is None:
            return self.beneficiary_keys(beneficiary).public.read_bytes()
        from iexec_kit.storage.sms import RESULT_ENCRYPTION_PUBLIC_KEY, decode_public_key

        return decode_public_key(
            self._secret_from_sms(taskid, RESULT_ENCRYPTION_PUBLIC_KEY, worker_key)
        )

    def upload(self, requester: str, taskid: str, archive: bytes, worker_key):
        """A revealed worker uploads a result with the requester's stored token (with an SMS:
        the token the SMS hands this worker for this task, or SecretNotFoundError)."""
        from iexec_kit.storage import messages as M
        from iexec_kit.storage.errors import ProxyAuthError

        if self.sms is not None:
            from iexec_kit.storage.sms import RESULT_IPFS_TOKEN

            token = self._secret_from_sms(taskid, RESULT_IPFS_TOKEN, worker_key)
            return self.client().upload(token, taskid, archive, worker_key)
        token = self.token_for(requester)
        if token is None:
            raise ProxyAuthError(
                M.TOKEN_MISSING,
                expected=f"a storage token for {requester}",
                got="none",
                hint="run storage_init(requester_key) first",
            )
        return self.client().upload(token, taskid, archive, worker_key)

    def _secret_from_sms(self, taskid: str, name: str, worker_key) -> str:
        """A task's secret (the requester's token, the beneficiary's key), read from the SMS as
        the task's worker."""
        from eth_account import Account

        from iexec_kit.storage.sms import sign_worker_read

        worker = Account.from_key(worker_key).address
        signature = sign_worker_read(taskid, name, worker_key)
        return self.sms.web2_secret_for_task(taskid, name, worker, signature)

    def fetch(self, location: str, *, token: str | None = None) -> bytes:
        """A result by its location: ``/ipfs/<cid>`` from IPFS, ``/results/<taskid>`` from the
        proxy's private storage (then ``token`` must be the beneficiary's)."""
        if location.startswith("/results/"):
            return self.client().download(token or "", location.rsplit("/", 1)[-1])
        return self.ipfs.cat(location)
