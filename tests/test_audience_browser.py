"""Headless Chromium (issue 22): the dashboard's period comparison switched with htmx, the content
table sorted and paged without a page load, the last 48 hours drawn; each at desktop width and at
390 px, where nothing scrolls sideways. Screenshots: tests/artifacts/audience-*.png."""

from __future__ import annotations

import pytest

from tests.browser_support import screenshot, sign_in_browser, wait_for_js
from tests.test_pages_browser import SIDEWAYS

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_comparison_content_table_and_last_48_hours(browser, portal_server, portal_data):
    seller = portal_data.sellers[0]
    base = portal_server.url
    for width, height in ((1280, 900), (390, 844)):
        context = browser.new_context(viewport={"width": width, "height": height})
        page = context.new_page()
        page.set_default_timeout(20_000)
        errors: list[str] = []
        page.on("pageerror", lambda exc, errors=errors: errors.append(str(exc)))
        try:
            sign_in_browser(page, base, seller, "/dashboard")
            page.goto(base + "/dashboard")
            page.locator("#revenue .chart[data-drawn] .main-svg").first.wait_for()
            page.evaluate("window.__marker = 'still here'")
            page.locator("#revenue a[data-range='90']").click()  # htmx: the period's cards and chart
            page.wait_for_url("**range=90**")
            wait_for_js(page, "document.querySelector('#revenue a[data-range=\"90\"]').classList.contains('on')")
            page.locator("#revenue .chart[data-drawn] .main-svg").first.wait_for()
            assert page.evaluate("window.__marker") == "still here"  # no page load
            assert page.locator("[data-card='period'] [data-figure-name='rpm']").count() == 1
            legend = page.locator("#revenue .chart .legendtext").all_text_contents()
            assert "previous period (total)" in legend
            assert page.evaluate(SIDEWAYS) <= 0, f"dashboard scrolls sideways at {width}px"
            screenshot(page, f"audience-dashboard-{width}")

            page.goto(base + "/content?range=90")
            page.locator("#content-table tbody tr").first.wait_for()
            page.evaluate("window.__marker = 'still here'")
            if width > 600:
                page.locator("#content-table a[data-sort='rpm']").click()
            else:  # a phone's stacked cards have no column heads: the sort menu
                page.select_option("#ct-sort", "rpm")
            page.wait_for_url("**sort=rpm**")
            wait_for_js(page, "document.querySelector('#content-table th[aria-sort=\"descending\"] a[data-sort=\"rpm\"]') !== null")
            assert page.evaluate("window.__marker") == "still here"
            assert page.evaluate(SIDEWAYS) <= 0, f"content table scrolls sideways at {width}px"
            screenshot(page, f"audience-content-{width}")

            page.goto(base + "/audience/last-48-hours")
            page.locator("#last-48-hours .chart[data-drawn] .main-svg").first.wait_for()
            assert page.locator("#last-48-hours[hx-trigger='every 60s']").count() == 1
            assert page.evaluate(SIDEWAYS) <= 0, f"last 48 hours scrolls sideways at {width}px"
            screenshot(page, f"audience-last-48-hours-{width}")
            assert not errors, errors
        finally:
            context.close()
