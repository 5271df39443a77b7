"""Step 06: the image before and after, where the result came from, and the digest check."""

from __future__ import annotations

from pathlib import Path

import ipywidgets as W

from iexec_kit.ui.html import render_result_info
from iexec_kit.ui.panels.base import Panel


def image_format(data: bytes) -> str:
    """The image format of ``data`` for an ``ipywidgets.Image`` (png unless it says otherwise)."""
    if data.startswith(b"\xff\xd8"):
        return "jpeg"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "gif"
    return "png"


class ResultViewer(Panel):
    """Step 06: the image before and after, side by side, with where the result came from (its
    CID) and the digest check (the digest recomputed from the result against the chain's).

    ``before``/``after``: a path or bytes. :meth:`for_task` fetches a task's result with
    :func:`iexec_kit.actors.results.download_result`, which does the check."""

    title = "Result"

    def __init__(
        self,
        before,
        after,
        *,
        cid: str | None = None,
        digest: str | None = None,
        chain_digest: str | None = None,
        width: str = "320px",
    ):
        self.cid, self.digest, self.chain_digest = cid, digest, chain_digest
        images = []
        for label, src in (("before", before), ("after", after)):
            data = Path(src).read_bytes() if isinstance(src, (str, Path)) else bytes(src)
            img = W.Image(value=data, format=image_format(data), layout=W.Layout(width=width))
            img.add_class(f"iexec-{label}")
            images.append(W.VBox([W.HTML(f"<b>{label}</b>"), img]))
        self.before_image, self.after_image = (box.children[1] for box in images)
        self.info = W.HTML(render_result_info(cid, digest, chain_digest, self.ok))
        super().__init__([W.HBox(images), self.info])

    @property
    def ok(self) -> bool | None:
        """True when the digest matches the chain's (None when there was nothing to compare)."""
        if self.digest is None or self.chain_digest is None:
            return None
        return self.digest.lower() == self.chain_digest.lower()

    @classmethod
    def for_task(cls, sb, taskid: str, before, *, folder=None, **kwargs) -> ResultViewer:
        """Fetch a COMPLETED task's result (:func:`iexec_kit.actors.results.download_result`:
        IPFS by CID, or the proxy with the requester's token), and show its image next to
        ``before`` with the digest check."""
        from iexec_kit.actors.results import download_result

        dest = Path(folder) if folder else sb.folder / "viewer" / taskid[2:14]
        got = download_result(sb.hub, sb.storage, taskid, dest)
        if got.image is None:
            from iexec_kit.errors import KitValueError

            raise KitValueError(
                "The task's result holds no image to show.",
                expected="a .png, .jpg or .gif in the result",
                got=", ".join(p.name for p in got.folder.rglob("*")) or "an empty result",
            )
        return cls(
            before,
            got.image,
            cid=got.cid or got.location,
            digest=got.digest,
            chain_digest=got.chain_digest,
            **kwargs,
        )


__all__ = ["ResultViewer"]
