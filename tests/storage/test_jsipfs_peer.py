"""The kit over an independent Kubo RPC API peer (js-ipfs, or the daemon $IEXEC_KIT_IPFS_API
names): the demo end to end with ``ipfs_api=URL`` and ``iexec-kit demo --ipfs URL``, and the
client's own rules that the conformance suite relies on."""

from __future__ import annotations

import json

import pytest
from jsipfs_daemon import ONE_PROCESS, _url

from iexec_kit.storage.kubo import KuboClient

pytestmark = ONE_PROCESS


@pytest.fixture(scope="module")
def tiny_png(tmp_path_factory):
    import numpy as np
    from PIL import Image

    y, x = np.mgrid[0:24, 0:40]
    rgb = np.stack([(x * 7) % 256, (y * 5) % 256, ((x + 2 * y) * 3) % 256], axis=-1)
    path = tmp_path_factory.mktemp("peer") / "tiny.png"
    Image.fromarray(rgb.astype("uint8")).save(path)
    return path


def test_the_demo_over_the_peer(kubo_api, tiny_png):
    """DemoConfig(ipfs_api=URL): the input and the result go through the peer, and the result
    the requester checked is the zip that the peer holds, pinned."""
    from iexec_kit.actors.events import EventStream
    from iexec_kit.tutorial.demo import DemoConfig, run_demo

    report = run_demo(
        DemoConfig(engine="numpy", input=str(tiny_png), ipfs_api=kubo_api, workers=3),
        stream=EventStream(),
    )
    assert report.ok, report.summary
    peer = KuboClient(kubo_api)
    cid = report.summary["tasks"][0]["result_cid"]
    assert peer.cat(cid)[:2] == b"PK" and peer.pin_ls().get(cid) == "recursive"
    assert report.summary["tasks"][0]["status"] == "COMPLETED"


def test_the_demo_command_over_the_peer(kubo_api, tiny_png, tmp_path):
    """`iexec-kit demo --ipfs URL --json` (in-process, through typer): one worker at trust 1."""
    from typer.testing import CliRunner

    from iexec_kit.cli import cli

    argv = ["demo", "--ipfs", kubo_api, "--workers", "1", "--trust", "1", "--engine", "numpy"]
    argv += ["--input", str(tiny_png), "--output", str(tmp_path / "out"), "--json"]
    res = CliRunner().invoke(cli, argv, catch_exceptions=False)
    assert res.exit_code == 0, res.output
    task = json.loads(res.stdout)["tasks"][0]
    assert task["status"] == "COMPLETED"
    assert KuboClient(kubo_api).cat(task["result_cid"])[:2] == b"PK"


def test_cids_come_back_in_the_kits_text_form():
    """A CIDv1 printed in another multibase (js-ipfs prints base58btc) is given back in base32,
    as Kubo prints it; a kind the kit does not handle (dag-cbor here) is left as it came.
    The CIDs are of sha2-256("hello") as raw and as dag-cbor, from the multiformats package."""
    b58 = "zb2rhZfjRh2FHHB2RkHVEvL2vJnCTcu7kwRqgVsf9gpkLgteo"
    b32 = "bafkreibm6jg3ux5qumhcn2b3flc3tyu6dmlb4xa7u5bf44yegnrjhc4yeq"
    assert KuboClient._cid(b58) == KuboClient._cid(b32) == b32
    dag_cbor = "bafyreibm6jg3ux5qumhcn2b3flc3tyu6dmlb4xa7u5bf44yegnrjhc4yeq"
    assert KuboClient._cid(dag_cbor) == dag_cbor
    v0 = "QmWfVY9y3xjsixTgbd9AorQxH7VtMpzfx2HaWtsoUYecaX"
    assert KuboClient._cid(v0) == v0


def test_a_silent_api_is_the_kits_timeout_error():
    """A server that accepts and never answers: KuboApiError naming the call and the wait, not a
    bare requests exception."""
    import socket

    from iexec_kit.storage.errors import KuboApiError

    with socket.socket() as srv:
        srv.bind(("127.0.0.1", 0))
        srv.listen(1)
        port = srv.getsockname()[1]
        with pytest.raises(KuboApiError, match=r"did not answer in time[\s\S]*version"):
            KuboClient(f"http://127.0.0.1:{port}", timeout=0.5).version()


def test_the_api_file_address():
    assert _url("/ip4/127.0.0.1/tcp/45123/http\n") == "http://127.0.0.1:45123"
    assert _url("/ip4/127.0.0.1/tcp/") is None  # a file read while js-ipfs writes it
