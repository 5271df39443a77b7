"""Benchmarks of the demo page (Voilà, notebooks/page/demo_page.ipynb) in Debian's headless
chromium; prints a table.

    .venv/bin/python -m benchmarks page

- the time from opening the page to the page ready (the progress line shown and Step 0's button
  enabled: kernel started, the kit imported, the visitor's sandbox up), with Voilà's default (a
  kernel started per visitor) and as ``make page`` serves it (preheated kernels);
- the whole click-through (every step's button in order, to the cartoon and its digest check);
- the peak memory of a visitor's session (its kernel's peak RSS, VmHWM, after the click-through);
- concurrent sessions held: N visitors open the page at the same moment (N browser contexts),
  the largest N whose every page is ready in under 10 s (N = 1, 2, 3, 4, 6, 8; it stops at the
  first N that fails).
"""

from __future__ import annotations

import time

from iexec_kit.ui.page_driver import CHROMIUM, READY_JS, click_through, launch
from iexec_kit.ui.voila_server import MAKE_PAGE_PREHEAT, VoilaServer, memory_mb

LIMIT = 10.0  # seconds: a page load a visitor waits for
ROUNDS = (1, 2, 3, 4, 6, 8)


def one_visitor(pw, preheat: int) -> dict:
    """Load and click through the page once; the kernel's peak RSS after."""
    with VoilaServer(preheat=preheat) as server:
        browser = launch(pw)
        try:
            page = browser.new_page(viewport={"width": 1300, "height": 1000})
            times = click_through(page, server.url)
            peaks = [memory_mb(pid)[1] for pid in server.kernels()]
            # the visitor's kernel is the one that grew most (the others: preheated, waiting)
            times["peak_mb"] = max(peaks) if peaks else float("nan")
            times["idle_mb"] = min(peaks) if len(peaks) > 1 else float("nan")
        finally:
            browser.close()
    return times


def concurrent(pw, n: int, preheat: int) -> tuple[list[float], float]:
    """``n`` visitors open the page at once; each one's seconds to ready, and the kernels' RSS
    (MB, total) once all are loaded."""
    with VoilaServer(preheat=preheat) as server:
        browser = launch(pw)
        try:
            pages = [
                browser.new_context(viewport={"width": 1300, "height": 1000}).new_page()
                for _ in range(n)
            ]
            starts = []
            for page in pages:
                starts.append(time.monotonic())
                page.goto(server.url, wait_until="commit", timeout=120_000)
            ready: dict[int, float] = {}
            end = time.monotonic() + 180
            while len(ready) < n and time.monotonic() < end:
                for i, page in enumerate(pages):
                    if i not in ready and page.evaluate(READY_JS):
                        ready[i] = time.monotonic() - starts[i]
                time.sleep(0.1)
            loads = [ready.get(i, float("inf")) for i in range(n)]
            rss = sum(memory_mb(pid)[0] for pid in server.kernels())
        finally:
            browser.close()
    return loads, rss


def main() -> None:
    if not CHROMIUM.exists():
        print(f"skipped: {CHROMIUM} is absent (apt-get install chromium, or make sysdeps)")
        return
    from playwright.sync_api import sync_playwright

    rows = []
    with sync_playwright() as pw:
        for label, preheat in (
            ("Voila's default (a kernel per visitor)", 0),
            (f"make page (preheat {MAKE_PAGE_PREHEAT})", MAKE_PAGE_PREHEAT),
        ):
            single = one_visitor(pw, preheat)
            held, seen = 0, []
            for n in ROUNDS:
                loads, rss = concurrent(pw, n, preheat)
                seen.append(f"{n}: max {max(loads):.1f} s, {rss:.0f} MB")
                print(f"  {label}: {n} at once -> loads {', '.join(f'{x:.1f}' for x in loads)} s")
                if max(loads) >= LIMIT:
                    break
                held = n
            rows.append((label, single, held, seen))
    print()
    print(
        f"{'serving':40} {'page ready':>11} {'click-through':>14} {'peak RSS/session':>17} "
        f"{'sessions < 10 s':>16}"
    )
    for label, single, held, _ in rows:
        print(
            f"{label:40} {single['load']:>9.1f} s {single['click_through']:>12.1f} s "
            f"{single['peak_mb']:>14.0f} MB {held:>16}"
        )
    for label, _, _, seen in rows:
        print(f"  {label}, at once: " + "; ".join(seen))
    print(f"  a preheated kernel waiting for its visitor: {rows[-1][1]['idle_mb']:.0f} MB")


if __name__ == "__main__":
    main()
