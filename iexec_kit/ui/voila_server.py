"""Voilà serving the demo page on 127.0.0.1, for the browser test and the benchmark.

    with VoilaServer() as server:       # a free port; stopped (kernels included) at the end
        server.url                      # the page: http://127.0.0.1:<port>/
        server.kernels()                # the pids of the visitors' kernels (one per session)

``make page`` runs the same command in the foreground (:func:`voila_command`).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PAGE = REPO / "notebooks" / "page" / "demo_page.ipynb"
MAKE_PAGE_PREHEAT = 2  # the Makefile's PAGE_POOL: kernels that run the page before a visitor comes


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def voila_command(
    notebook: Path | str = PAGE, port: int = 8866, python: str | None = None, *, preheat: int = 0
):
    """Voilà on ``notebook``: 127.0.0.1, no browser, no tracebacks on the page (a visitor reads
    sentences; the panels catch the kit's errors). ``preheat``: that many kernels run the page
    in advance (Voilà's preheated kernels; a visitor gets one at once), 0 for none."""
    pool = ["--preheat_kernel=True", f"--pool_size={preheat}"] if preheat else []
    return [
        python or sys.executable,
        "-m",
        "voila",
        str(notebook),
        "--Voila.ip=127.0.0.1",
        f"--port={port}",
        "--no-browser",
        "--show_tracebacks=False",
        "--Voila.log_level=WARN",
        *pool,
    ]


def _children(pid: int) -> list[int]:
    """Every descendant of ``pid`` (from /proc)."""
    parents: dict[int, list[int]] = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as fh:
                ppid = int(fh.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        parents.setdefault(ppid, []).append(int(d))
    out, todo = [], [pid]
    while todo:
        for c in parents.get(todo.pop(), []):
            out.append(c)
            todo.append(c)
    return out


def memory_mb(pid: int) -> tuple[float, float]:
    """(RSS now, peak RSS) of ``pid`` in MB, from /proc/<pid>/status (VmRSS, VmHWM)."""
    values = {}
    with open(f"/proc/{pid}/status") as fh:
        for line in fh:
            if line.startswith(("VmRSS:", "VmHWM:")):
                key, kb = line.split()[:2]
                values[key] = int(kb) / 1024
    return values.get("VmRSS:", 0.0), values.get("VmHWM:", 0.0)


class VoilaServer:
    """Voilà on a free port of 127.0.0.1 in its own process group; :meth:`stop` ends it (the
    kernels too). ``env``: added to the environment (the kernels inherit it)."""

    def __init__(
        self, notebook: Path | str = PAGE, *, port: int | None = None, env=None, preheat: int = 0
    ):
        self.notebook = Path(notebook)
        self.preheat = preheat
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        self.folder = Path(tempfile.mkdtemp(prefix="iexec-voila-"))
        self.log = self.folder / "voila.log"
        self.env = dict(
            os.environ,
            PYTHONPATH=os.pathsep.join(
                p for p in (str(REPO), os.environ.get("PYTHONPATH", "")) if p
            ),
            JUPYTER_RUNTIME_DIR=str(self.folder / "runtime"),
            PYTHONUNBUFFERED="1",
            **(env or {}),
        )
        self.proc: subprocess.Popen | None = None

    def start(self, timeout: float = 60) -> VoilaServer:
        import requests

        with open(self.log, "wb") as fh:
            self.proc = subprocess.Popen(
                voila_command(self.notebook, self.port, preheat=self.preheat),
                cwd=self.notebook.parent,
                env=self.env,
                stdout=fh,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if self.proc.poll() is not None:
                raise RuntimeError(f"voila exited with {self.proc.returncode}:\n{self.tail()}")
            try:  # the static files answer without starting a kernel
                if requests.get(self.url + "voila/static/", timeout=2).status_code < 500:
                    if self.preheat:
                        self.wait_idle(count=self.preheat, timeout=end - time.monotonic())
                    return self
            except requests.RequestException:
                pass
            time.sleep(0.3)
        self.stop()
        raise TimeoutError(f"voila did not answer {self.url} in {timeout} s:\n{self.tail()}")

    def tail(self, n: int = 3000) -> str:
        return self.log.read_text(errors="replace")[-n:] if self.log.exists() else ""

    def kernels(self) -> list[int]:
        """The pids of the kernels Voilà started (one per visitor's session)."""
        if self.proc is None:
            return []
        pids = []
        for pid in _children(self.proc.pid):
            try:
                with open(f"/proc/{pid}/cmdline", "rb") as fh:
                    if b"ipykernel" in fh.read():
                        pids.append(pid)
            except OSError:
                continue
        return pids

    def wait_idle(self, count: int = 0, timeout: float = 120, quiet: float = 1.5) -> None:
        """Wait until at least ``count`` kernels run and none used CPU for ``quiet`` seconds
        (the preheated ones have run the page)."""

        def cpu(pids):
            total = 0
            for pid in pids:
                try:
                    with open(f"/proc/{pid}/stat") as fh:
                        fields = fh.read().rsplit(")", 1)[1].split()
                    total += int(fields[11]) + int(fields[12])
                except (OSError, IndexError, ValueError):
                    pass
            return total

        end = time.monotonic() + timeout
        last, since = None, time.monotonic()
        while time.monotonic() < end:
            pids = self.kernels()
            now = cpu(pids) if len(pids) >= count else None
            if now is None or now != last:
                last, since = now, time.monotonic()
            elif time.monotonic() - since >= quiet:
                return
            time.sleep(0.25)

    def stop(self) -> None:
        if self.proc is None:
            return
        kernels = self.kernels()  # before the server goes: then they are its children no more
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                pass
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)  # the group this server started
        except (ProcessLookupError, PermissionError):
            pass
        for pid in kernels:  # a kernel that left the group
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.proc.wait(timeout=10)

    def __enter__(self) -> VoilaServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


__all__ = ["MAKE_PAGE_PREHEAT", "PAGE", "VoilaServer", "free_port", "memory_mb", "voila_command"]
