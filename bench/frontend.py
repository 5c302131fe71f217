"""What the seller dashboard costs a browser: `.venv/bin/python -m bench.frontend`.

1. Data: the demo (paysystem/demo.py: 30 days of plays, computed by the batch) in a scratch
   MariaDB database, a scratch Redis DB number (bench/dataset.py).
2. Server: gunicorn with the project's gunicorn.conf.py and production settings on a free
   loopback port, as bench/portal.py starts it.
3. Browser: Debian's Chromium (headless, through Playwright) signs in as the demo's first
   seller with the form, then for each of `--runs` rounds:
   - `first load`: the browser cache emptied (DevTools `Network.clearBrowserCache`), then
     `GET /dashboard` until the network is idle;
   - `repeat visit`: `GET /dashboard` again with the cache as the first load left it.
   Transferred bytes are the sum of DevTools' `encodedDataLength` of every response (what
   crossed the wire, compressed, headers included; 0 for a cache hit). Largest contentful
   paint comes from the page's own PerformanceObserver. The table shows the median of the
   rounds and the issue's targets (issue 21, item 8): first load ≤ 700 KB and LCP ≤ 1 s,
   repeat visit ≤ 60 KB.
4. Clean-up: gunicorn stopped, database dropped, Redis DB emptied.

Never run two benchmarks at once: `flock /tmp/paysystem-bench.lock .venv/bin/python -m bench.frontend`.
"""

from __future__ import annotations

import argparse
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
from dataclasses import replace
from pathlib import Path

from bench.dataset import scratch_database, scratch_redis
from bench.progress import free_port, start_gunicorn, stop
from paysystem.demo import ACCOUNTS, DEMO_PASSWORD
from settings import PROJECT_ROOT, Settings, generate_fernet_key

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
TARGETS = {"first load": (700 * 1024, 1000.0), "repeat visit": (60 * 1024, None)}
# Records the page's largest contentful paint before any of its own scripts run.
_LCP_SCRIPT = """
window.__lcp = 0;
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) window.__lcp = Math.max(window.__lcp, entry.startTime);
}).observe({type: "largest-contentful-paint", buffered: true});
"""


def seed(settings: Settings, media_root: Path) -> None:
    env = dict(os.environ, PAYSYSTEM_ENV="test", DATABASE_URL=settings.database_url,
               REDIS_URL=settings.redis_url, SECRET_KEY=settings.secret_key, MEDIA_ROOT=str(media_root),
               PAYOUT_DETAILS_KEY=",".join(settings.payout_details_keys))
    subprocess.run([sys.executable, "-m", "paysystem", "seed-demo"], env=env, cwd=PROJECT_ROOT, check=True,
                   stdout=subprocess.DEVNULL)


def measure(base: str, runs: int) -> dict[str, list[tuple[int, float, int]]]:
    """(bytes transferred, LCP ms, responses) per round and kind of visit."""
    from playwright.sync_api import sync_playwright

    seller = next(a for a in ACCOUNTS if a.role.value == "seller")
    results: dict[str, list[tuple[int, float, int]]] = {"first load": [], "repeat visit": []}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        context.add_init_script(_LCP_SCRIPT)
        page = context.new_page()
        page.goto(base + "/auth/signin")
        page.fill("input[name=email]", seller.email)
        page.fill("input[name=password]", DEMO_PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(lambda url: "/auth/signin" not in url)
        cdp = context.new_cdp_session(page)
        cdp.send("Network.enable")
        received: list[int] = []
        cdp.on("Network.loadingFinished", lambda event: received.append(int(event["encodedDataLength"])))

        def visit() -> tuple[int, float, int]:
            received.clear()
            page.goto(base + "/dashboard", wait_until="networkidle")
            page.wait_for_selector(".js-plotly-plot .main-svg")  # the charts are drawn
            lcp = float(page.evaluate("window.__lcp"))
            return sum(received), lcp, len(received)

        for _ in range(runs):
            cdp.send("Network.clearBrowserCache")
            results["first load"].append(visit())
            results["repeat visit"].append(visit())
        browser.close()
    return results


def table(results: dict[str, list[tuple[int, float, int]]]) -> str:
    lines = ["| visit | transferred (median) | LCP (median) | responses | target | result |",
             "|---|---:|---:|---:|---|---|"]
    for name, rounds in results.items():
        size = statistics.median(r[0] for r in rounds)
        lcp = statistics.median(r[1] for r in rounds)
        count = statistics.median(r[2] for r in rounds)
        max_size, max_lcp = TARGETS[name]
        ok = size <= max_size and (max_lcp is None or lcp <= max_lcp)
        target = f"≤ {max_size // 1024} KB" + (f", LCP ≤ {max_lcp / 1000:g} s" if max_lcp else "")
        lines.append(f"| {name} | {size / 1024:,.1f} KB | {lcp:,.0f} ms | {count:g} | {target} | "
                     f"{'PASS' if ok else 'FAIL'} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="rounds of first load + repeat visit")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes")
    parser.add_argument("--threads", type=int, default=2, help="threads per gunicorn worker")
    args = parser.parse_args(argv)
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    with scratch_redis() as redis_url, scratch_database("frontend") as url, \
            tempfile.TemporaryDirectory(prefix="paysystem-frontend-") as media:
        settings = replace(Settings(), environment="production", database_url=url, redis_url=redis_url,
                           secret_key=secrets.token_urlsafe(48), media_root=Path(media),
                           payout_details_keys=(generate_fernet_key(),)).validate()
        print("* seeding the demo (30 days, computed by the batch)", flush=True)
        seed(settings, Path(media))
        port = free_port()
        print(f"* gunicorn {args.workers} × {args.threads} on port {port}; Chromium, {args.runs} rounds", flush=True)
        os.environ["MEDIA_ROOT"] = media
        gunicorn = start_gunicorn(settings, port, args.workers, args.threads, "gthread",
                                  PROJECT_ROOT / "gunicorn.conf.py")
        try:
            results = measure(f"http://127.0.0.1:{port}", args.runs)
        finally:
            stop(gunicorn)
    print()
    print(table(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
