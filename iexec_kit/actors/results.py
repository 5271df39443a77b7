"""The requester's last step: fetch a task's result, unzip it, check its digest against the chain.

    got = download_result(sb.hub, sb.storage, taskid, "result", token=token)
    got.matches, got.image          # True when the recomputed digest is the chain's; the image

Where the result is comes from the chain (the task's finalized ``results``): ``/ipfs/<cid>`` is
read from IPFS, ``/results/<taskid>`` from the result proxy with the beneficiary's token. The
digest is recomputed from the unzipped folder by :func:`iexec_kit.storage.results.result_digest`,
the same rule the workers and the proxy use.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from iexec_kit.errors import IexecKitError, KitValueError
from iexec_kit.protocol.statuses import TaskStatus
from iexec_kit.storage.results import (
    deterministic_output,
    read_computed,
    result_digest,
    unzip_result,
)

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".gif")


@dataclass(frozen=True)
class DownloadedResult:
    """A task's result on disk, and its digest check."""

    taskid: str
    location: str  # as finalized on chain: /ipfs/<cid> or /results/<taskid>
    folder: Path  # the unzipped result (what the app wrote to /iexec_out)
    output: Path  # computed.json's deterministic output, on this machine
    digest: str | None  # recomputed from the folder (None: its computed.json is unusable)
    chain_digest: str  # the task's resultDigest on chain
    images: tuple[Path, ...]  # the images in the result, the deterministic output first

    @property
    def cid(self) -> str | None:
        """The result's CID when it is on IPFS."""
        parts = self.location.split("/")
        return parts[2] if self.location.startswith("/ipfs/") and len(parts) > 2 else None

    @property
    def matches(self) -> bool:
        """Whether the recomputed digest is the chain's."""
        return self.digest is not None and self.digest.lower() == self.chain_digest.lower()

    @property
    def image(self) -> Path | None:
        """The result's image (the deterministic output when it is one), or None."""
        return self.images[0] if self.images else None


def _fetch(storage, location: str, token: str | None) -> bytes:
    if hasattr(storage, "fetch"):  # a LocalStorage: IPFS and the result proxy
        return storage.fetch(location, token=token)
    if location.startswith("/ipfs/"):  # an IPFS client (embedded node or Kubo)
        return storage.cat(location)
    raise KitValueError(
        "This result is not on IPFS, and only an IPFS client was given to fetch it.",
        expected="a location /ipfs/<cid>, or the sandbox's storage (sb.storage) to read the proxy",
        got=location or "(no location)",
        hint="pass sb.storage and the beneficiary's token",
    )


def download_result(
    hub,
    storage,
    taskid: str,
    dest: str | os.PathLike[str],
    *,
    token: str | None = None,
    private_key=None,
    stream=None,
) -> DownloadedResult:
    """Fetch a COMPLETED task's result from its on-chain location into ``dest``, unzip it and
    recompute its digest.

    ``storage``: the sandbox's storage (``sb.storage``, reads IPFS and the proxy) or an IPFS
    client (``cat``); ``token``: the beneficiary's proxy token, for a private result (by default
    the one ``storage`` keeps for the task's requester); ``private_key``: the beneficiary's RSA
    key, for an encrypted result; ``stream``: an EventStream that gets a ResultDownloaded."""
    task = hub.task(taskid)
    if task.status != TaskStatus.COMPLETED:
        raise KitValueError(
            f"Task {taskid} has no result yet.",
            expected="a COMPLETED task",
            got=task.status.name,
            hint="run the workers until the scheduler finalizes the task",
        )
    location = (task.results_json() or {}).get("location", "")
    if token is None and hasattr(storage, "token_for"):
        token = storage.token_for(hub.deal(task.dealid).requester)
    archive = _fetch(storage, location, token)
    if private_key is not None:
        from iexec_kit.storage.encryption import decrypt_result

        archive = decrypt_result(archive, private_key)
    folder = unzip_result(archive, dest)
    try:
        digest = result_digest(folder)
        computed = read_computed(folder)
        # a callback result has no output file: the folder is the result
        output = (
            folder if computed.callback_data is not None else deterministic_output(folder, computed)
        )
    except IexecKitError:  # a bad or missing computed.json: no digest, the folder is the result
        digest, output = None, folder
    found = [p for p in sorted(folder.rglob("*")) if p.suffix.lower() in IMAGE_SUFFIXES]
    images = tuple(([output] if output in found else []) + [p for p in found if p != output])
    got = DownloadedResult(
        task.taskid, location, folder, output, digest, task.result_digest, images
    )
    if stream is not None:
        from iexec_kit.actors.events import ResultDownloaded

        stream.emit(
            ResultDownloaded(task.taskid, location, str(output), got.matches, time=hub.chain.now())
        )
    return got


__all__ = ["DownloadedResult", "download_result"]
