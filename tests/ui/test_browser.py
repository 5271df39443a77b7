"""The tutorial in a real browser: JupyterLab on 127.0.0.1, Debian's headless chromium driven by
Playwright, notebooks 05 and 06 run from the Run menu; the contribution watcher must show the
consensus and the result viewer's images must render. Screenshots go to .sandbox/screenshots/.

Playwright's own browser download cannot work offline: the test uses /usr/bin/chromium (Debian's
chromium package, which ``make sysdeps`` installs) and is skipped, saying why, without it.
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = Path(
    os.environ.get("IEXEC_KIT_CHROMIUM", "/usr/bin/chromium")
)  # Debian's package by default
SHOTS = REPO / ".sandbox" / "screenshots"
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
RUN_TIMEOUT_MS = 180_000  # a notebook's run, kernel start included (about 10 s here)

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_http(url: str, proc: subprocess.Popen, log: Path, timeout: float = 60) -> None:
    import requests

    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if proc.poll() is not None:
            raise RuntimeError(
                f"jupyter lab exited with {proc.returncode}:\n{log.read_text()[-3000:]}"
            )
        try:
            if requests.get(url, timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.3)
    raise TimeoutError(
        f"jupyter lab did not answer {url} in {timeout} s:\n{log.read_text()[-3000:]}"
    )


@pytest.fixture
def lab(tmp_path):
    """JupyterLab over a copy of notebooks/, token auth, stopped at the end (also on failure)."""
    if not CHROMIUM.exists():
        reason = (
            f"{CHROMIUM} is absent: install Debian's chromium "
            "(apt-get install chromium, or make sysdeps)"
        )
        print("SKIPPED:", reason)
        pytest.skip(reason)
    pytest.importorskip(
        "playwright.sync_api",
        reason="Playwright for Python is not installed (pip install -e .[dev])",
    )
    root = tmp_path / "notebooks"
    shutil.copytree(REPO / "notebooks", root, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    port, token = _free_port(), secrets.token_hex(16)
    env = dict(
        os.environ,
        JUPYTER_RUNTIME_DIR=str(tmp_path / "runtime"),
        JUPYTERLAB_WORKSPACES_DIR=str(tmp_path / "workspaces"),
        JUPYTER_CONFIG_DIR=str(tmp_path / "config"),
        PYTHONUNBUFFERED="1",
    )
    cmd = [
        sys.executable,
        "-m",
        "jupyter",
        "lab",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
        "--ServerApp.open_browser=False",
        f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={root}",
        f"--LabApp.workspaces_dir={tmp_path / 'workspaces'}",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
    ]
    if os.geteuid() == 0:
        cmd.append("--allow-root")
    log = tmp_path / "jupyter.log"
    with open(log, "wb") as fh:
        proc = subprocess.Popen(
            cmd, cwd=root, env=env, stdout=fh, stderr=subprocess.STDOUT, start_new_session=True
        )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_http(f"{base}/api/status?token={token}", proc, log)
        yield base, token, tmp_path
    finally:
        _stop_lab(proc, base, token)
        print(f"jupyter lab log: {log}")


def _stop_lab(proc: subprocess.Popen, base: str, token: str) -> None:
    import requests

    try:  # the kernels first, then the server; whatever is left of its group is killed
        headers = {"Authorization": f"token {token}"}
        for k in requests.get(f"{base}/api/kernels", headers=headers, timeout=5).json():
            requests.delete(f"{base}/api/kernels/{k['id']}", headers=headers, timeout=10)
    except Exception:  # noqa: BLE001 - stopping anyway
        pass
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            pass
    try:
        os.killpg(proc.pid, signal.SIGKILL)  # the group this test started (start_new_session)
    except (ProcessLookupError, PermissionError):
        pass
    proc.wait(timeout=10)


def _run_notebook(page, base: str, token: str, name: str) -> None:
    """Open a notebook fresh (?reset), wait for its kernel, Run > Run All Cells, wait for the
    end."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    page.goto(f"{base}/lab/tree/{name}?reset&token={token}")
    page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=60_000)
    # JupyterLab may ask which kernel to start: the notebook's own (python3)
    select = page.locator(".jp-Dialog .jp-Dialog-button.jp-mod-accept")
    try:
        select.wait_for(state="visible", timeout=10_000)
        select.click()
    except PlaywrightTimeout:
        pass
    no_news = page.locator(
        ".jp-toast-button", has_text="No"
    )  # the "Jupyter news?" toast, out of the screenshots
    if no_news.count():
        no_news.first.click()
    # the kernel is connected and idle (widgets render only after that)
    page.wait_for_selector(".jp-Notebook-ExecutionIndicator[data-status='idle']", timeout=60_000)
    # record what the watcher shows as the run goes (to see it update live, not only at the end)
    page.evaluate("""() => {
        window.__iexecSeen = [];
        new MutationObserver(() => {
            const state = document.querySelector('.iexec-consensus') ? 'consensus'
                : document.querySelector('.iexec-task .iexec-waiting') ? 'contributing'
                : document.querySelector('.iexec-waiting') ? 'waiting' : null;
            const seen = window.__iexecSeen;
            if (state && seen[seen.length - 1] !== state) seen.push(state);
        }).observe(document.body, {subtree: true, childList: true, characterData: true});
    }""")
    page.locator(".lm-MenuBar-itemLabel", has_text="Run").first.click()
    page.locator(".lm-Menu-itemLabel", has_text="Run All Cells").first.click()
    # every code cell ran: numbered prompts, none pending
    page.wait_for_function(
        """() => {
            const prompts = [...document.querySelectorAll('.jp-CodeCell .jp-InputArea-prompt')];
            return prompts.length > 0 && prompts.every(p => /\\[\\d+\\]/.test(p.textContent));
        }""",
        timeout=RUN_TIMEOUT_MS,
    )
    errors = page.locator(
        ".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr'] .ansi-red-fg, "
        ".jp-RenderedText[data-mime-type='application/vnd.jupyter.error']"
    )
    assert errors.count() == 0, (
        f"{name}: a cell raised:\n" + "\n".join(errors.all_inner_texts())[:3000]
    )


def test_notebooks_05_and_06_in_jupyterlab(lab):
    from playwright.sync_api import sync_playwright

    base, token, tmp = lab
    SHOTS.mkdir(parents=True, exist_ok=True)
    (SHOTS / "failure.png").unlink(missing_ok=True)
    print(f"screenshots: {SHOTS}")
    with sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            str(tmp / "chromium-profile"),
            executable_path=str(CHROMIUM),
            headless=True,
            args=CHROMIUM_FLAGS,
            viewport={"width": 1400, "height": 1000},
        )
        try:
            page = context.new_page()
            # 05: the watcher shows the consensus
            t0 = time.monotonic()
            _run_notebook(page, base, token, "05_execution.ipynb")
            marker = page.locator(".iexec-consensus").first
            marker.wait_for(state="visible", timeout=RUN_TIMEOUT_MS)
            # textContent, not innerText: JupyterLab defers rendering the cells out of view
            # (content-visibility), and a long notebook leaves the watcher out of view at the end
            assert "Consensus reached" in marker.text_content()
            seen = page.evaluate("window.__iexecSeen")
            print(f"05 watcher states seen in the browser: {seen}")
            assert seen[-1] == "consensus" and "contributing" in seen, (
                f"the watcher did not update live: {seen}"
            )
            watcher = page.locator(".iexec-panel", has=page.locator(".iexec-watcher")).first
            assert "colluding" in watcher.text_content()
            watcher.scroll_into_view_if_needed()
            watcher.screenshot(path=str(SHOTS / "05_watcher.png"))
            page.screenshot(path=str(SHOTS / "05_execution.png"))
            print(f"05 ran in the browser in {time.monotonic() - t0:.1f} s")
            # 06: the consensus again, then the before/after images rendered
            t0 = time.monotonic()
            _run_notebook(page, base, token, "06_finalization.ipynb")
            page.locator(".iexec-consensus").first.wait_for(state="visible", timeout=RUN_TIMEOUT_MS)
            page.wait_for_function(
                """() => ['img.iexec-before', 'img.iexec-after'].every(sel => {
                    const i = document.querySelector(sel);
                    return i && i.complete && i.naturalWidth > 0;
                })""",
                timeout=RUN_TIMEOUT_MS,
            )
            viewer = page.locator(".iexec-panel", has=page.locator("img.iexec-after")).first
            viewer.scroll_into_view_if_needed()
            assert "same digest" in viewer.text_content()
            viewer.screenshot(path=str(SHOTS / "06_result_viewer.png"))
            page.screenshot(path=str(SHOTS / "06_finalization.png"))
            page.locator(".iexec-consensus").first.scroll_into_view_if_needed()
            page.screenshot(path=str(SHOTS / "06_consensus.png"))
            print(f"06 ran in the browser in {time.monotonic() - t0:.1f} s")
        except Exception:
            for p in context.pages:
                p.screenshot(path=str(SHOTS / "failure.png"))
            print(f"failure screenshot: {SHOTS / 'failure.png'}")
            raise
        finally:
            context.close()
