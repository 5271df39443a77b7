"""The HTTP services start, serve and stop inside a real Jupyter kernel (whose event loop runs)."""

from __future__ import annotations

import pytest


def test_daemon_and_proxy_run_inside_a_kernel(tmp_path):
    nbformat = pytest.importorskip(
        "nbformat", reason="nbformat is missing (pip install -e '.[dev]')"
    )
    nbclient = pytest.importorskip(
        "nbclient", reason="nbclient is missing (pip install -e '.[dev]')"
    )
    cells = [
        "import asyncio, requests\n"
        "asyncio.get_running_loop()  # a kernel has a running loop; the servers get their own\n"
        "from iexec_kit.storage.daemon import IpfsDaemon\n"
        f"d = IpfsDaemon({str(tmp_path / 'repo')!r}).start()\n"
        "cid = d.node.add_bytes(b'from a notebook')\n"
        "assert requests.get(f'{d.gateway_url}/ipfs/{cid}', timeout=10).content "
        "== b'from a notebook'",
        "from iexec_kit.storage.oracle import StaticTaskOracle\n"
        "from iexec_kit.storage.proxy import ResultProxy, ResultProxyClient\n"
        "p = ResultProxy(StaticTaskOracle(), d.node, "
        f"{str(tmp_path / 'proxy')!r}, chain_id=1).start()\n"
        "token = ResultProxyClient(p.url, chain_id=1).login('0x' + '11' * 32)\n"
        "assert token.count('.') == 2",
        "p.stop(); d.stop()\n"
        "assert not d.api_server.running and not p.server.running\n"
        "print('stopped cleanly')",
    ]
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    client = nbclient.NotebookClient(
        nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    )
    client.execute()
    outputs = nb.cells[-1].outputs
    assert any("stopped cleanly" in o.get("text", "") for o in outputs)
