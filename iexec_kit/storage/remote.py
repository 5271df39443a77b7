"""A worker's storage when it runs in a process of its own (``iexec-kit worker``): the node's
services over HTTP, seen from outside.

It offers what :class:`~iexec_kit.actors.worker.Worker` asks of a storage (``upload``,
``result_encryption_key``, ``ipfs_cat``) the way iexec-worker gets them: the task's secrets (the
requester's result-proxy token, the beneficiary's public key) are read from the SMS as the task's
worker (signed with the worker's key; the SMS checks on chain that this worker contributed to
this task), never handed over by the scheduler, which does not hold them.
"""

from __future__ import annotations

from iexec_kit.storage.proxy import ResultProxyClient, UploadReceipt
from iexec_kit.storage.sms import (
    RESULT_ENCRYPTION_PUBLIC_KEY,
    RESULT_IPFS_TOKEN,
    SmsClient,
    decode_public_key,
)


class RemoteStorage:
    """The result proxy, the SMS and the IPFS gateway at their URLs."""

    def __init__(self, *, proxy_url: str, sms_url: str, ipfs_gateway: str, chain_id: int):
        self.proxy = ResultProxyClient(proxy_url, chain_id=chain_id)
        self.sms = SmsClient(sms_url)
        self.ipfs_gateway = ipfs_gateway.rstrip("/")
        self.chain_id = chain_id

    def upload(self, requester: str, taskid: str, archive: bytes, worker_key) -> UploadReceipt:
        """Upload a result with the requester's token, read from the SMS for this task."""
        token = self.sms.web2_secret_for_task(taskid, RESULT_IPFS_TOKEN, worker_key)
        return self.proxy.upload(token, taskid, archive, worker_key)

    def result_encryption_key(self, beneficiary: str, taskid: str, worker_key) -> bytes:
        """The beneficiary's PEM public key, read from the SMS for this task."""
        return decode_public_key(
            self.sms.web2_secret_for_task(taskid, RESULT_ENCRYPTION_PUBLIC_KEY, worker_key)
        )

    def ipfs_cat(self, path: str) -> bytes:
        """``/ipfs/<cid>[/...]`` from the node's gateway."""
        import requests

        path = path.removeprefix("ipfs://").removeprefix("/ipfs/")
        res = requests.get(f"{self.ipfs_gateway}/ipfs/{path}", timeout=60)
        res.raise_for_status()
        return res.content
