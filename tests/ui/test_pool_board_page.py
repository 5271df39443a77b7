"""The workshop's board page in a real browser: Voilà serves notebooks/page/pool_board.ipynb (as
``make board`` does) against a real scheduler service (``PoolService`` over a Hardhat node, on
127.0.0.1), and Debian's headless chromium, driven by Playwright, reads it: the workers that
signed in (with their wallets, over HTTP) appear, and one that signs in while the page is open
appears too, without a reload (the live refresh). A screenshot goes to
.sandbox/screenshots/pool_board.png.

Skipped, saying why, without /usr/bin/chromium, Playwright, Voilà or the Hardhat node."""

from __future__ import annotations

from pathlib import Path

import pytest

from iexec_kit.ui.page_driver import CHROMIUM, LOAD_MS, launch

REPO = Path(__file__).resolve().parents[2]
SHOTS = REPO / ".sandbox" / "screenshots"
BOARD = REPO / "notebooks" / "page" / "pool_board.ipynb"

pytestmark = pytest.mark.slow


def _skip(reason: str):
    print("SKIPPED:", reason)
    pytest.skip(reason)


@pytest.fixture
def scheduler(tmp_path):
    from iexec_kit.chain.devnode import HardhatNode, find_hardhat
    from iexec_kit.errors import DependencyMissingError

    try:
        find_hardhat()
    except DependencyMissingError as exc:
        _skip(f"{str(exc).splitlines()[0]}: run `npm ci`")
    from iexec_kit.actors.pool import PoolService
    from iexec_kit.sandbox import Sandbox

    with HardhatNode() as hh:
        sb = Sandbox.start(chain_url=hh.url, folder=tmp_path / "sb", workers=3)
        try:
            pool = PoolService(  # no pings here: the workers stay "connected" for the test
                sb.hub,
                sb.scheduler,
                sb.workerpool_address,
                urls={"chain": hh.url},
                ping_timeout=600,
            ).start()
            try:
                yield sb, pool
            finally:
                pool.stop()
        finally:
            sb.close()


def sign_in(sb, pool, name: str, behaviour: str = "honest"):
    from iexec_kit.actors.pool import SchedulerClient

    p = sb.chain.participant(name)
    client = SchedulerClient(pool.url, bytes(p.key), name=name, behaviour=behaviour)
    client.sign_in()
    return client


def test_the_board_page_shows_the_pool_live_in_chromium(scheduler):
    if not CHROMIUM.exists():
        _skip(f"{CHROMIUM} is absent: install Debian's chromium (make sysdeps)")
    pytest.importorskip("playwright.sync_api", reason="Playwright is not installed")
    pytest.importorskip("voila", reason="Voilà is not installed")
    from playwright.sync_api import sync_playwright

    from iexec_kit.ui.voila_server import VoilaServer

    sb, pool = scheduler
    sign_in(sb, pool, "worker1")
    sign_in(sb, pool, "worker2", "colluding")
    server = VoilaServer(BOARD, env={"IEXEC_KIT_SCHEDULER_URL": pool.url}).start()
    try:
        with sync_playwright() as pw:
            browser = launch(pw)
            page = browser.new_page(viewport={"width": 1600, "height": 900})
            try:
                page.goto(server.url, timeout=LOAD_MS)
                board = page.locator(".iexec-board h2")
                page.get_by_text("2 workers connected").wait_for(timeout=LOAD_MS)
                assert page.locator("tr[data-worker='worker1']").count() == 1
                assert "colluding" in page.locator("tr[data-worker='worker2']").text_content()
                size = board.evaluate("h => parseFloat(getComputedStyle(h).fontSize)")
                assert size >= 30, f"the headline's type is {size}px: too small for a projector"
                sign_in(sb, pool, "worker3", "cheater")  # while the page is open
                page.get_by_text("3 workers connected").wait_for(timeout=30_000)
                row = page.locator("tr[data-worker='worker3']")
                assert row.count() == 1
                assert "?" not in row.text_content()  # its score and stake read at once
                SHOTS.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=str(SHOTS / "pool_board.png"), full_page=True)
            except Exception:
                SHOTS.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=str(SHOTS / "pool_board_failure.png"), full_page=True)
                print(server.tail())
                raise
            finally:
                browser.close()
    finally:
        server.stop()
