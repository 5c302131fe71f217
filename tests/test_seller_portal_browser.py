"""Headless Chromium: a seller signs in, lands on the dashboard, switches the Top-5 chart with
htmx (no page load), goes back, opens a receipt and downloads a CSV; screenshots are saved."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.browser_support import screenshot, sign_in_browser, wait_for_js
from tests.support import TEST_PASSWORD
from tests.test_pages_browser import AXE, RUN_AXE, SIDEWAYS

pytestmark = pytest.mark.browser
ARTIFACTS = Path(__file__).parent / "artifacts"
# Every drawn chart is as wide as its box (within a pixel): it neither overflows nor leaves a gap.
FITS = """() => [...document.querySelectorAll('.chart[data-drawn]')].every(c => {
  const svg = c.querySelector('.main-svg');
  return svg && Math.abs(svg.getBoundingClientRect().width - c.getBoundingClientRect().width) <= 1;
})"""


@pytest.mark.slow
def test_seller_dashboard_top5_switch_back_button_receipt_and_csv(browser, portal_server, portal_data):
    ARTIFACTS.mkdir(exist_ok=True)
    context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(20_000)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        base = portal_server.url
        seller = portal_data.sellers[1]
        page.goto(base + "/auth/signin")
        page.get_by_label("E-mail").fill(seller.email)
        page.get_by_label("Password").fill(TEST_PASSWORD)
        page.get_by_role("button", name="Sign in", exact=True).click()
        page.wait_for_url("**/dashboard")
        page.locator("#top5 .chart[data-drawn] .main-svg").first.wait_for()
        page.locator("#revenue .chart[data-drawn] .main-svg").first.wait_for()
        page.screenshot(path=str(ARTIFACTS / "dashboard.png"), full_page=True)

        page.evaluate("window.__marker = 'still here'")
        # Every htmx switch shows it is working (issue 21, item 8): the region is aria-busy
        # (dimmed, a spinner) from the request until the answer is swapped in.
        page.evaluate("""() => { window.__busy = []; new MutationObserver(ms => ms.forEach(m =>
            window.__busy.push(m.target.id + '=' + m.target.getAttribute('aria-busy'))))
            .observe(document.body, {attributes: true, attributeFilter: ['aria-busy'], subtree: true}); }""")
        page.locator("#top5 a[data-period='month']").click()
        page.wait_for_url("**period=month**")
        wait_for_js(page, "window.__busy.length >= 2")
        assert page.evaluate("window.__busy")[:2] == ["top5=true", "top5=null"]
        page.locator("#top5 a[data-metric='watch_seconds']").click()
        page.wait_for_url("**metric=watch_seconds**")
        page.locator("#top5 a.on[data-metric='watch_seconds']").wait_for()
        page.locator("#top5 .chart[data-drawn]").first.wait_for()
        assert "watch time" in page.locator("#top5 .covers").inner_text()
        assert page.evaluate("window.__marker") == "still here"  # no full page load

        page.go_back()
        page.wait_for_url(lambda url: "metric=watch_seconds" not in url and "period=month" in url)
        page.locator("#top5 a.on[data-metric='views']").wait_for()
        page.locator("#top5 a.on[data-period='month']").wait_for()
        assert page.evaluate("window.__marker") == "still here"

        page.goto(base + f"/settlements?granularity=day&from={portal_data.first}&to={portal_data.last}"
                         "&sort=total_amount&dir=desc")
        page.locator("a.receipt-link").first.click()
        page.locator("#receipt .receipt-total", has_text="matches").wait_for()
        assert "/settlements/" in page.url
        page.screenshot(path=str(ARTIFACTS / "settlements.png"), full_page=True)
        page.keyboard.press("Escape")  # the receipt is a modal dialog: close it to reach the table again
        with page.expect_download() as info:
            page.locator("a[data-csv]").first.click()
        download = info.value
        content = Path(download.path()).read_bytes()
        assert content.startswith("\ufeff".encode()) and b"period_start" in content

        vid = portal_data.videos[seller.id][0]
        page.goto(base + f"/videos/{vid}/stats?from={portal_data.first}&to={portal_data.last}")
        page.locator(".chart[data-drawn] .main-svg").first.wait_for()
        page.screenshot(path=str(ARTIFACTS / "video_stats.png"), full_page=True)

        # On a phone each chart redraws at its panel's width and nothing scrolls sideways.
        page.set_viewport_size({"width": 390, "height": 900})
        for name, path in (("video_stats", page.url.removeprefix(base)), ("dashboard", "/dashboard"),
                           ("settlements", f"/settlements?granularity=day&from={portal_data.first}&to={portal_data.last}")):
            page.goto(base + path)
            if name != "settlements":
                page.locator(".chart[data-drawn] .main-svg").first.wait_for()
                page.wait_for_function(FITS)
            assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0, name
            page.screenshot(path=str(ARTIFACTS / f"{name}-390.png"), full_page=True)
        page.set_viewport_size({"width": 1280, "height": 900})
        page.goto(base + "/dashboard")
        page.locator(".chart[data-drawn] .main-svg").first.wait_for()
        page.wait_for_function(FITS)  # and grows back on a wide window
        assert errors == []
    finally:
        context.close()


# ---------------------------------------------------------------------------------- issue 21, round 3


def _seller_context(browser, base: str, user):  # type: ignore[no-untyped-def]
    """A signed-in 1280 px page that axe can be injected into (bypass_csp: the test's script, not the page's)."""
    context = browser.new_context(bypass_csp=True, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(20_000)
    sign_in_browser(page, base, user, "/auth/account")
    return context, page


def _looked_at(page, name: str) -> None:  # type: ignore[no-untyped-def]
    """At 1280 and 390 px: axe finds nothing serious or critical, nothing scrolls sideways, and a
    screenshot is saved for a person to look at (tests/artifacts/<name>-<width>.png)."""
    for width in (1280, 390):
        page.set_viewport_size({"width": width, "height": 900})
        page.wait_for_timeout(100)
        page.evaluate(AXE.read_text())
        assert page.evaluate(RUN_AXE) == [], (name, width)
        assert page.evaluate(SIDEWAYS) <= 0, (name, width)
        screenshot(page, f"{name}-{width}")
    page.set_viewport_size({"width": 1280, "height": 900})


@pytest.mark.slow
def test_a_new_seller_sees_the_upload_button_on_the_dashboard(browser, portal_server, portal_data):
    from tests.test_seller_pages import _new_seller

    seller = _new_seller(portal_data, "browser-fresh-seller")
    context, page = _seller_context(browser, portal_server.url, seller)
    try:
        page.goto(portal_server.url + "/dashboard")
        button = page.get_by_role("link", name="Upload your first video")
        assert button.is_visible() and button.get_attribute("href") == "/videos/upload"
        assert page.locator("[data-card]").count() == 0
        _looked_at(page, "dashboard-new-seller")
    finally:
        context.close()


IN_VIEW_AND_FOCUSED = """() => {
  const d = document.getElementById('receipt'), r = d.getBoundingClientRect();
  return d.open && d.matches(':modal') && d.contains(document.activeElement)
    && r.top >= 0 && r.left >= 0 && r.bottom <= innerHeight && r.right <= innerWidth && r.height > 100;
}"""


@pytest.mark.slow
def test_a_receipt_opens_in_view_and_focused_with_its_own_url(browser, portal_server, portal_data):
    """Issue 21, item 3: Receipt on a line far down the table opens the receipt in the viewport,
    focused; its URL opened directly is the page with the receipt open; closing returns."""
    base = portal_server.url
    context, page = _seller_context(browser, base, portal_data.sellers[0])
    try:
        table = f"/settlements?granularity=day&from={portal_data.first}&to={portal_data.last}"
        page.goto(base + table)
        page.evaluate("window.__marker = 'same page'")
        link = page.locator("a.receipt-link").last
        link.scroll_into_view_if_needed()
        assert page.evaluate("scrollY") > 1000  # far down the page
        link.click()
        page.wait_for_url("**/settlements/*/*")
        wait_for_js(page, f"({IN_VIEW_AND_FOCUSED})()")
        assert page.evaluate("window.__marker") == "same page"  # htmx, no page load
        receipt_url = page.url
        _looked_at(page, "receipt-dialog")
        assert page.evaluate(f"({IN_VIEW_AND_FOCUSED})()")
        page.keyboard.press("Escape")
        page.wait_for_url(lambda url: "/settlements?" in url)
        assert not page.evaluate("document.getElementById('receipt').open")
        page.goto(receipt_url)  # the receipt's URL opened directly
        wait_for_js(page, f"({IN_VIEW_AND_FOCUSED})()")
        assert page.locator("table.settlements").count() == 1  # the whole page under it
        page.get_by_role("button", name="Close").click()
        page.wait_for_url(lambda url: "/settlements?" in url)
        assert "sort=" in page.url and page.locator("table.settlements").is_visible()
    finally:
        context.close()


@pytest.mark.slow
def test_an_inverted_custom_range_shows_its_message_after_the_htmx_switch(browser, portal_server, portal_data):
    """Issue 21, item 10: htmx swaps the 422 answer of a refused range (js/form-errors.js), so the
    message appears next to the fields instead of nothing happening."""
    base = portal_server.url
    context, page = _seller_context(browser, base, portal_data.sellers[1])
    try:
        for path, region, prefix in (("/dashboard", "#revenue", "rev"),
                                     (f"/settlements?from={portal_data.first}&to={portal_data.last}",
                                      "#settlement-table", "st")):
            page.goto(base + path)
            page.evaluate("window.__marker = 'same page'")
            page.fill(f"#{prefix}-from", str(portal_data.last))
            page.fill(f"#{prefix}-to", str(portal_data.first))
            page.locator(f"{region} button[type=submit]").click()
            message = page.locator(f"#{prefix}-range-error")
            message.wait_for()
            assert "before the start date" in message.inner_text()
            assert page.get_attribute(f"#{prefix}-to", "aria-describedby") == f"{prefix}-range-error"
            assert page.evaluate("window.__marker") == "same page"  # swapped by htmx, no page load
            _looked_at(page, f"range-error-{prefix}")
    finally:
        context.close()


@pytest.mark.slow
def test_restatements_page_and_dashboard_panel_look_right(browser, portal_server, portal_data):
    """Issue 21, item 7: the restatements page and the dashboard's latest few, at 1280 and 390 px."""
    from tests.test_seller_pages import _restated_seller

    seller, _ = _restated_seller(portal_data, "browser-restated-seller", 8)
    context, page = _seller_context(browser, portal_server.url, seller)
    try:
        page.goto(portal_server.url + "/restatements?per_page=5")
        page.locator("a[rel=next]").click()
        page.wait_for_url("**page=2**")
        page.locator("#restatement-list", has_text="Page 2 of 2").wait_for()
        _looked_at(page, "restatements")
        page.goto(portal_server.url + "/dashboard")
        page.locator("#restated-title").scroll_into_view_if_needed()
        _looked_at(page, "dashboard-restatements")
    finally:
        context.close()


# Every money cell of the first rows of each table: inside the viewport's width, not clipped by a
# scrolling box around it, and at a readable size (issue 21, item 4).
MONEY_CELLS_IN_VIEW = """(selector) => {
  const cells = [...document.querySelectorAll(selector)].filter(td => /₩/.test(td.textContent));
  const problems = [];
  for (const td of cells) {
    const r = td.getBoundingClientRect(), size = parseFloat(getComputedStyle(td).fontSize);
    let box = td.parentElement;
    for (; box && box !== document.body; box = box.parentElement) {
      const b = box.getBoundingClientRect();
      if (getComputedStyle(box).overflowX !== 'visible' && (r.left < b.left - 1 || r.right > b.right + 1)) break;
    }
    if (r.width === 0 || r.left < 0 || r.right > innerWidth || size < 12 || (box && box !== document.body))
      problems.push(`${td.dataset.label || td.className}: ${td.textContent.trim()} at ${r.left}..${r.right}`);
  }
  return {count: cells.length, problems};
}"""


@pytest.mark.slow
def test_every_money_figure_is_in_view_on_a_phone(browser, portal_server, portal_data):
    """Issue 21, item 4: at 390 px the settlement table, tier progress, the revenue and per-day tables
    and the receipt show their money without sideways scrolling (cards, not a clipped table)."""
    base = portal_server.url
    seller = portal_data.sellers[0]
    vid = portal_data.videos[seller.id][0]
    context, page = _seller_context(browser, base, seller)
    try:
        page.set_viewport_size({"width": 390, "height": 900})
        span = f"from={portal_data.first}&to={portal_data.last}"
        for path, selector, reveal in (
            (f"/settlements?granularity=day&{span}", "table.settlements tr:nth-child(-n+3) td, table.settlements tfoot td",
             None),
            (f"/settlements?granularity=week&{span}", "table.settlements tbody tr:nth-child(-n+3) td", None),
            ("/dashboard", "#revenue table tbody tr:nth-child(-n+3) td", "#revenue details.as-table summary"),
            (f"/videos/{vid}/stats?{span}", "#video-figures table tbody tr:nth-child(-n+3) td",
             "#video-figures details.as-table summary"),
        ):
            page.goto(base + path)
            if reveal:
                page.locator(reveal).click()
            result = page.evaluate(MONEY_CELLS_IN_VIEW, selector)
            assert result["count"] >= 3 and result["problems"] == [], (path, result)
            assert page.evaluate(SIDEWAYS) <= 0, path
            page.locator(selector.split(" tr")[0]).first.scroll_into_view_if_needed()
            name = re.sub(r"[^a-z0-9]+", "-", path.split("&")[0].lower()).strip("-")
            page.screenshot(path=str(ARTIFACTS / f"phone-cards-{name}.png"))  # the screen a person sees
        page.goto(base + f"/settlements?granularity=day&{span}")
        page.locator("a.receipt-link").first.click()
        page.locator("#receipt[open]").wait_for()
        result = page.evaluate(MONEY_CELLS_IN_VIEW, "#receipt td")
        assert result["count"] >= 2 and result["problems"] == [], result
        page.screenshot(path=str(ARTIFACTS / "phone-cards-receipt.png"))
        page.set_viewport_size({"width": 1280, "height": 900})
        for path in (f"/settlements?granularity=day&{span}", f"/videos/{vid}/stats?{span}", "/dashboard"):
            page.goto(base + path)
            _looked_at(page, "phone-" + path.strip("/").split("?")[0].replace("/", "-"))
    finally:
        context.close()
