"""Resource limits of an app run: the process runner's memory limit (and the app's own refusal
of a picture it cannot process within it), and the overall deadline of an http input."""

from __future__ import annotations

import socket
import threading
import time

import pytest

from iexec_kit.compute import InputFetchError, ProcessRunner
from iexec_kit.compute.fetch import fetch_inputs


def test_process_runner_limits_memory(toyapp):
    """600 MB asked under a 256 MiB limit: the app fails (MemoryError), the run says so."""
    r = ProcessRunner(max_memory_bytes=256 * 1024**2).run(
        toyapp, [], "bigmem", timeout=60, check=False
    )
    assert not r.ok and r.exit_code != 0
    assert "MemoryError" in r.logs
    ok = ProcessRunner(max_memory_bytes=2 * 1024**3).run(toyapp, [], "bigmem", timeout=60)
    assert ok.ok


def test_the_app_refuses_a_picture_too_large_for_the_memory_limit(tmp_path):
    from PIL import Image

    from iexec_kit.sandbox import DEMO_APP_DIR

    picture = tmp_path / "wide.png"
    Image.new("RGB", (3000, 2000)).save(picture)  # 6 MP: about 1.3 GiB at 240 B/pixel
    r = ProcessRunner(max_memory_bytes=512 * 1024**2).run(
        DEMO_APP_DIR, [picture], "--engine numpy", timeout=120, check=False
    )
    assert not r.ok
    assert "GiB this runner allows" in (r.error_message or "")


@pytest.fixture
def trickling_server():
    """An http server on 127.0.0.1 that sends its body one byte every 0.2 s (stops by itself)."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)
    srv.settimeout(10)
    stop = threading.Event()

    def serve():
        try:
            conn, _ = srv.accept()
        except OSError:
            return
        with conn:
            conn.recv(65536)
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n")
            for _ in range(1000):
                if stop.is_set():
                    return
                try:
                    conn.sendall(b"x")
                except OSError:
                    return
                time.sleep(0.2)

    t = threading.Thread(target=serve, daemon=True)
    t.start()
    yield f"http://127.0.0.1:{srv.getsockname()[1]}/slow.png"
    stop.set()
    srv.close()
    t.join(5)


def test_a_trickling_http_input_hits_the_overall_deadline(trickling_server, tmp_path):
    started = time.monotonic()
    with pytest.raises(InputFetchError, match="took too long"):
        fetch_inputs([trickling_server], tmp_path / "in", timeout=5, deadline=1.0)
    assert time.monotonic() - started < 5  # each byte comes well within the read timeout
