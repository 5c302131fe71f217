"""Headless Chromium: the retention section of a video's statistics page is drawn (curve and ad
breaks), sits beside the skip rate and the filtered plays, survives the htmx range switch, has
no serious accessibility finding and no sideways scrolling on a phone; screenshots saved."""

from __future__ import annotations

import pytest

from tests.browser_support import axe_findings, screenshot, sign_in_browser
from tests.test_pages_browser import SIDEWAYS

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.mark.parametrize("width", [1280, 390])
def test_retention_section_is_drawn_beside_skips_and_filtered_plays(browser, portal_server, portal_data, width):
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    page.set_default_timeout(20_000)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        seller = portal_data.sellers[0]
        vid = portal_data.videos[seller.id][0]
        path = f"/videos/{vid}/stats?from={portal_data.first}&to={portal_data.last}"
        sign_in_browser(page, portal_server.url, seller, path)
        page.goto(portal_server.url + path)
        curve = page.locator("[data-retention] .chart[data-drawn] .main-svg").first
        curve.wait_for()
        assert page.locator("[data-retention] .chart .shapelayer path").count() == 4  # four ad breaks marked
        facts = page.locator("[data-retention] .retention-facts")
        assert facts.locator("[data-skip-rate]").is_visible() and facts.locator("[data-filtered-own]").is_visible()
        if width == 1280:  # beside the curve, not below it
            chart_box, facts_box = curve.bounding_box(), facts.bounding_box()
            assert facts_box["x"] >= chart_box["x"] + chart_box["width"] - 1
        assert page.evaluate(SIDEWAYS) <= 0
        page.locator("[data-retention]").scroll_into_view_if_needed()
        screenshot(page, f"retention-video-stats-{width}")
        assert axe_findings(page) == []
        assert errors == []
    finally:
        context.close()
