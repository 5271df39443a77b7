"""The tutorial in a real browser: JupyterLab on 127.0.0.1, Debian's headless chromium driven by
Playwright. One JupyterLab, one browser: notebooks 00 to 06 and 08 each run from the Run menu (all
cells but the last, which closes the sandbox), then every button of every panel is clicked at
least once and what appears is checked: the Dapp's registry entry, the proxy's token and
signature, the orders' recovered signer, an error sentence for a URL that does not answer and a
file that is not a picture, the price check and a deal id, Buy twice (one deal), the deal
refreshed, the player's Prepare / Step / Play / Pause and its consensus, the images loaded, and
each exercise's "not yet". Screenshots per notebook go to .sandbox/screenshots/; the time from
Run All to the last widget rendered is printed (and written where ``IEXEC_KIT_BROWSER_TIMES``
says, for ``python -m benchmarks tutorial``).

Playwright's own browser download cannot work offline: the test uses /usr/bin/chromium (Debian's
chromium package, which ``make sysdeps`` installs) and is skipped, saying why, without it.
"""

from __future__ import annotations

import json
import os
import re
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
        # what 03's Buy saves (and 04 to 06 replay) stays in this test's folder
        IEXEC_KIT_CHOICES=str(tmp_path / "choices" / "choices.json"),
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


def _ran_js(skip_last: bool) -> str:
    """JS: every code cell ran (numbered prompts, none pending), the last one aside if asked."""
    cut = "prompts.slice(0, -1)" if skip_last else "prompts"
    return f"""() => {{
        const cells = [...document.querySelectorAll('.jp-Notebook .jp-Cell')];
        const last = cells[cells.length - 1];
        let prompts = [...document.querySelectorAll('.jp-CodeCell .jp-InputArea-prompt')];
        if (last && last.classList.contains('jp-CodeCell')) prompts = {cut};
        return prompts.length > 0 && prompts.every(p => /\\[\\d+\\]/.test(p.textContent));
    }}"""


def _open_notebook(page, base: str, token: str, name: str) -> None:
    """Open a notebook fresh (?reset) and wait for its kernel to be idle."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    page.goto(f"{base}/lab/tree/{name}?reset&token={token}")
    page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=60_000)
    # JupyterLab may ask which kernel to start: the notebook's own (python3)
    select = page.locator(".jp-Dialog .jp-Dialog-button.jp-mod-accept")
    try:
        select.wait_for(state="visible", timeout=5_000)
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


def _run_notebook(page, name: str, *, last_widget: str | None = None) -> float | None:
    """Run every cell but a closing last one (Run > Run All Above Selected Cell; the sandbox
    stays up for the buttons), wait for the end, check that no cell raised. Returns the seconds
    from the menu click to ``last_widget`` (a selector) being rendered, when given."""
    cells = page.locator(".jp-Notebook .jp-Cell")
    last = cells.last
    closing = "jp-CodeCell" in (last.get_attribute("class") or "")
    if closing:  # select it, then run what is above it
        last.locator(".jp-InputPrompt").first.click()
        page.keyboard.press("Escape")
    page.locator(".lm-MenuBar-itemLabel", has_text="Run").first.click()
    item = "Run All Above Selected Cell" if closing else "Run All Cells"
    t0 = time.monotonic()
    page.locator(".lm-Menu-itemLabel", has_text=item).first.click()
    took = None
    if last_widget:
        page.wait_for_selector(last_widget, state="attached", timeout=RUN_TIMEOUT_MS)
        took = time.monotonic() - t0
    page.wait_for_function(_ran_js(closing), timeout=RUN_TIMEOUT_MS)
    errors = page.locator(
        ".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr'] .ansi-red-fg, "
        ".jp-RenderedText[data-mime-type='application/vnd.jupyter.error']"
    )
    assert errors.count() == 0, (
        f"{name}: a cell raised:\n" + "\n".join(errors.all_inner_texts())[:3000]
    )
    # the exercise ships blank: its check says "not yet", without raising
    feedback = page.locator(".iexec-feedback").first
    feedback.wait_for(state="attached", timeout=30_000)
    assert "not yet" in feedback.text_content(), f"{name}: {feedback.text_content()}"
    return took


def _close_notebook(page, base: str, token: str) -> None:
    """Run the closing cell (the sandbox closes), then shut the kernels down."""
    import requests

    last = page.locator(".jp-Notebook .jp-Cell").last
    if "jp-CodeCell" in (last.get_attribute("class") or ""):
        page.keyboard.press("Escape")
        last.locator(".jp-InputPrompt").first.click()
        page.keyboard.press("Shift+Enter")
        try:
            page.wait_for_function(
                """() => { const c = [...document.querySelectorAll('.jp-Notebook .jp-Cell')];
                    const p = c[c.length - 1].querySelector('.jp-InputArea-prompt');
                    return p && /\\[\\d+\\]/.test(p.textContent); }""",
                timeout=20_000,
            )
        except Exception:  # noqa: BLE001 - the kernel is shut down below anyway
            pass
    headers = {"Authorization": f"token {token}"}
    for k in requests.get(f"{base}/api/kernels", headers=headers, timeout=5).json():
        requests.delete(f"{base}/api/kernels/{k['id']}", headers=headers, timeout=20)


def _label(text: str):
    """A button's text, exactly (whitespace around it aside)."""
    return re.compile(rf"^\s*{re.escape(text)}\s*$")


def _into_view(locator):
    """Scroll it to the middle of the notebook. JupyterLab skips rendering the cells out of view
    (content-visibility), and Playwright counts what is not rendered as hidden: roles and clicks
    find nothing there. (scrollIntoView from JS needs no visibility.)"""
    locator.evaluate("el => el.scrollIntoView({block: 'center'})")
    return locator


def _panel(page, *, button: str | None = None, title: str | None = None):
    """The panel (``.iexec-panel``) holding a button with this label, or this title, in view."""
    if button:
        found = page.locator(".iexec-panel").filter(
            has=page.locator("button", has_text=_label(button))
        )
    else:
        found = page.locator(".iexec-panel", has_text=title)
    found.last.wait_for(state="attached", timeout=30_000)
    return _into_view(found.last)


def _click(panel, label: str) -> None:
    button = panel.locator("button", has_text=_label(label)).first
    _into_view(button).click()


def _wait_text(locator, pattern: str, timeout: float = 30_000) -> str:
    """Wait until ``locator``'s textContent matches ``pattern`` (a regex); return it."""
    end = time.monotonic() + timeout / 1000
    text = ""
    while time.monotonic() < end:
        text = locator.text_content() or ""
        if re.search(pattern, text):
            return text
        time.sleep(0.1)
    raise AssertionError(f"{pattern!r} did not appear; the panel says: {text[:1500]}")


def _shoot(page, panel, name: str) -> None:
    panel.scroll_into_view_if_needed()
    panel.screenshot(path=str(SHOTS / f"{name}_panel.png"))
    page.screenshot(path=str(SHOTS / f"{name}.png"))


# ----- one function a notebook: its buttons, clicked, and what appears ---------------------------


def _nb00(page) -> None:
    panel = _panel(page, button="Inspect the Dapp's blockchain data")
    _click(panel, "Inspect the Dapp's blockchain data")
    text = _wait_text(panel, "Registry entry")
    assert "registered there" in text and "yes" in text and "owner" in text, text
    _shoot(page, panel, "00_welcome")


def _nb01(page) -> None:
    panel = _panel(page, button="Sign in to the result proxy")
    _click(panel, "encrypted IPFS")
    _wait_text(panel, "encrypted for the beneficiary")
    _click(panel, "Sign in to the result proxy")
    text = _wait_text(panel, "signed in as")
    for row in ("challenge", "signature", "token", "beneficiary key"):
        assert row in text, (row, text)
    assert re.search(r"token kept for the requester: \S{6,}", text), text  # no longer "(none yet)"
    _shoot(page, panel, "01_storage_setup")


def _nb02(page) -> None:
    panel = _panel(page, title="Order inspector")
    first = _wait_text(panel, r"signer \(recovered\)")
    assert "the hub accepts this order" in first, first
    panel.locator("select").first.select_option(index=1)  # the workerpool order
    end = time.monotonic() + 30
    while (text := panel.text_content()) == first and time.monotonic() < end:
        time.sleep(0.1)  # the view redraws for the order picked
    assert text != first and "appprice" not in text, text
    assert "the hub accepts this order" in _wait_text(panel, r"signer \(recovered\)")
    _shoot(page, panel, "02_orders")


def _nb03(page) -> None:
    panel = _panel(page, button="Buy")
    image = panel.get_by_placeholder("http(s) URL, /ipfs/<cid>/<name> or a local path")
    # a URL that does not answer: a sentence, nothing bought
    image.fill("http://127.0.0.1:9/nothing-here.png")
    _click(panel, "Buy")
    text = _wait_text(panel, "does not answer")
    assert "Nothing was signed or locked" in text and "iexec-deal-id" not in panel.inner_html()
    # a file that is not a picture, uploaded
    with page.expect_file_chooser() as chooser:  # the Upload button's own file dialog
        _into_view(panel.locator(".widget-upload").first).click()
    chooser.value.set_files(
        files=[{"name": "notes.txt", "mimeType": "text/plain", "buffer": b"just some words\n"}]
    )
    _wait_text(panel, "notes.txt is not a picture")
    # the sample, then Buy: the price check and the deal
    _click(panel, "Use the sample image")
    _wait_text(panel, "sample image on IPFS: /ipfs/")
    assert image.input_value().startswith("/ipfs/")
    _click(panel, "Buy")
    _wait_text(panel, "matchOrders made deal 0x[0-9a-f]{64}")
    assert "Price check" in panel.text_content()
    dealid = panel.locator(".iexec-deal-id").first.text_content()
    assert re.fullmatch("0x[0-9a-f]{64}", dealid), dealid
    # Buy again: one deal, not two
    _click(panel, "Buy")
    _wait_text(panel, "pressing Buy again buys nothing")
    _shoot(page, panel, "03_buy_request")
    _click(panel, "New request")
    panel.locator(".iexec-deal-id").first.wait_for(state="detached", timeout=30_000)


def _nb04(page) -> None:
    panel = _panel(page, button="Refresh from the chain")
    before = _wait_text(panel, "final deadline")
    _click(panel, "Refresh from the chain")
    time.sleep(1)
    after = _wait_text(panel, "final deadline")
    assert "contribution deadline" in after and "RLC" in before, after
    _shoot(page, panel, "04_deal")


def _nb05(page) -> None:
    # the watcher over the notebook's own run: the consensus, seen live
    marker = page.locator(".iexec-consensus").first
    marker.wait_for(state="attached", timeout=RUN_TIMEOUT_MS)
    # textContent, not innerText: JupyterLab defers rendering the cells out of view
    assert "Consensus reached" in marker.text_content()
    seen = page.evaluate("window.__iexecSeen")
    print(f"05 watcher states seen in the browser: {seen}")
    assert "consensus" in seen and "contributing" in seen, f"the watcher did not update: {seen}"
    watcher = page.locator(".iexec-panel", has=page.locator(".iexec-watcher")).first
    assert "colluding" in watcher.text_content()
    watcher.scroll_into_view_if_needed()
    watcher.screenshot(path=str(SHOTS / "05_watcher.png"))
    # the player: Step, Play, Pause, Play again to the consensus
    panel = _panel(page, button="Prepare the run")
    _click(panel, "Step")
    _wait_text(panel, "Prepare the run first")
    _click(panel, "Prepare the run")
    _wait_text(panel, "ready: deal 0x[0-9a-f]{64}", timeout=60_000)
    _click(panel, "Step")
    _wait_text(panel, "event 1:")
    _click(panel, "Play")
    _click(panel, "Play")  # pressed while playing: plays nothing twice
    page.wait_for_function(  # the sentence shows until the next event redraws the status
        "() => window.__iexecProblems.some(t => t.includes('Already playing'))", timeout=30_000
    )
    _click(panel, "Pause")
    _click(panel, "Play")
    text = _wait_text(panel, "Consensus reached", timeout=60_000)
    assert panel.locator(".iexec-consensus").count() >= 1, text
    _shoot(page, panel, "05_execution")


def _nb06(page) -> None:
    page.locator(".iexec-consensus").first.wait_for(state="attached", timeout=RUN_TIMEOUT_MS)
    page.wait_for_function(
        """() => ['img.iexec-before', 'img.iexec-after'].every(sel => {
            const i = document.querySelector(sel);
            return i && i.complete && i.naturalWidth > 0;
        })""",
        timeout=RUN_TIMEOUT_MS,
    )
    viewer = page.locator(".iexec-panel", has=page.locator("img.iexec-after")).first
    assert "same digest" in viewer.text_content()
    viewer.scroll_into_view_if_needed()
    viewer.screenshot(path=str(SHOTS / "06_result_viewer.png"))
    page.screenshot(path=str(SHOTS / "06_finalization.png"))
    page.locator(".iexec-consensus").first.scroll_into_view_if_needed()
    page.screenshot(path=str(SHOTS / "06_consensus.png"))


def _nb08(page) -> None:
    page.screenshot(path=str(SHOTS / "08_your_own_app.png"))


# notebook, what it does after its run, the selector of its last widget (timed from Run All)
NOTEBOOKS = [
    ("00_welcome.ipynb", _nb00, None),
    ("01_storage_setup.ipynb", _nb01, None),
    ("02_orders.ipynb", _nb02, None),
    ("03_buy_request.ipynb", _nb03, ".iexec-panel button.mod-success"),  # Buy
    ("04_deal.ipynb", _nb04, None),
    ("05_execution.ipynb", _nb05, ".iexec-panel button.mod-primary:has-text('Prepare the run')"),
    ("06_finalization.ipynb", _nb06, "img.iexec-after"),
    ("08_your_own_app.ipynb", _nb08, None),
]

WATCH_JS = """() => {
    window.__iexecSeen = [];
    window.__iexecProblems = [];
    new MutationObserver(() => {
        for (const p of document.querySelectorAll('.iexec-problem')) {
            const t = p.textContent;
            if (!window.__iexecProblems.includes(t)) window.__iexecProblems.push(t);
        }
        const state = document.querySelector('.iexec-consensus') ? 'consensus'
            : document.querySelector('.iexec-task .iexec-waiting') ? 'contributing'
            : document.querySelector('.iexec-waiting') ? 'waiting' : null;
        const seen = window.__iexecSeen;
        if (state && seen[seen.length - 1] !== state) seen.push(state);
    }).observe(document.body, {subtree: true, childList: true, characterData: true});
}"""


def test_tutorial_notebooks_and_their_buttons_in_jupyterlab(lab):
    from playwright.sync_api import sync_playwright

    base, token, tmp = lab
    SHOTS.mkdir(parents=True, exist_ok=True)
    (SHOTS / "failure.png").unlink(missing_ok=True)
    print(f"screenshots: {SHOTS}")
    times: dict[str, dict] = {}
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
            only = os.environ.get("IEXEC_KIT_BROWSER_ONLY")  # e.g. "03,05": those alone
            for name, after_run, last_widget in NOTEBOOKS:
                if only and name[:2] not in only.split(","):
                    continue
                t0 = time.monotonic()
                _open_notebook(page, base, token, name)
                page.evaluate(WATCH_JS)  # what the watchers show as the run goes
                to_widget = _run_notebook(page, name, last_widget=last_widget)
                ran = time.monotonic() - t0
                after_run(page)
                total = time.monotonic() - t0
                _close_notebook(page, base, token)
                times[name] = {"run_s": ran, "with_clicks_s": total, "to_last_widget_s": to_widget}
                widget = f", Run All to its last widget {to_widget:.1f} s" if to_widget else ""
                print(f"{name}: opened and ran in {ran:.1f} s{widget}; clicked by {total:.1f} s")
        except Exception:
            for p in context.pages:
                p.screenshot(path=str(SHOTS / "failure.png"))
            print(f"failure screenshot: {SHOTS / 'failure.png'}")
            raise
        finally:
            context.close()
            out = os.environ.get("IEXEC_KIT_BROWSER_TIMES")
            if out:
                Path(out).write_text(json.dumps(times, indent=1))
