"""Headless Chromium over a real finalized and paid month: a seller sees the dashboard's money
cards, opens the statement list and a statement (with its PDF link), and saves payout details
after a refusal shown next to its field; an admin finalizes from the console and sees the run.
axe-core finds nothing serious; screenshots at 1280 and 390 px are saved for a person."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.browser_support import ARTIFACTS, sign_in_browser
from tests.conftest import LiveServer
from tests.statement_support import scene_app

pytestmark = pytest.mark.browser
AXE = Path(__file__).resolve().parent.parent / "node_modules" / "axe-core" / "axe.min.js"
SERIOUS = """async () => (await axe.run(document, {resultTypes: ['violations']})).violations
  .filter(v => v.impact === 'serious' || v.impact === 'critical')
  .map(v => v.id + ': ' + v.help + ' — ' + v.nodes.slice(0, 3).map(n => n.target.join(' ') + ' ' + n.failureSummary).join(' | '))"""
SIDEWAYS = "document.documentElement.scrollWidth - window.innerWidth"


def _check(page, name: str, problems: list[str]) -> None:  # type: ignore[no-untyped-def]
    """axe-core, no sideways scrolling, and a screenshot at each width."""
    page.add_script_tag(content=AXE.read_text())
    problems += [f"{name}: {v}" for v in page.evaluate(SERIOUS)]
    folder = ARTIFACTS / "statements"
    folder.mkdir(parents=True, exist_ok=True)
    for width in (1280, 390):
        page.set_viewport_size({"width": width, "height": 900})
        page.wait_for_timeout(50)
        if (overflow := page.evaluate(SIDEWAYS)) > 0:
            problems.append(f"{name} at {width} px scrolls sideways by {overflow} px")
        page.screenshot(path=str(folder / f"{name}-{width}.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})


@pytest.mark.slow
def test_a_seller_and_an_admin_use_the_money_pages(browser, money_backend):
    with scene_app(money_backend) as (scene, app, _):
        server = LiveServer(app).start()
        problems: list[str] = []
        try:
            context = browser.new_context(bypass_csp=True, viewport={"width": 1280, "height": 900})
            page = context.new_page()
            page.set_default_timeout(20_000)
            sign_in_browser(page, server.url, scene.paid, "/dashboard")
            cards = page.locator(".money-cards")
            assert "Balance" in cards.inner_text() and "Estimated this month" in cards.inner_text()
            _check(page, "dashboard", problems)
            page.get_by_role("link", name="Statements").first.click()
            page.wait_for_url("**/statements")
            _check(page, "statements", problems)
            page.get_by_role("link", name="2026-02").click()
            page.wait_for_url("**/statements/2026-02")
            assert page.locator("[data-statement-status]").inner_text() == "final"
            assert page.locator("[data-payout=paid]").is_visible()
            assert page.locator("a[data-pdf]").get_attribute("href") == "/statements/2026-02/pdf"
            _check(page, "statement", problems)

            page.goto(server.url + "/account/payout-details")
            assert "ending in 6789" in page.locator("[data-shown-details]").inner_text()
            page.fill("#account_number", "12")
            page.fill("#password", "wrong password")
            page.get_by_role("button", name="Save payout details").click()
            error = page.locator("label:has(#account_number) ~ p.field-error")  # its own, first after it
            assert "10 to 16 digits" in error.first.inner_text()
            assert page.input_value("#account_number") == ""
            _check(page, "payout-details-refused", problems)
            context.close()

            admin = browser.new_context(bypass_csp=True, viewport={"width": 1280, "height": 900}).new_page()
            sign_in_browser(admin, server.url, scene.admin, "/admin/money/")
            admin.fill("#finalize-month", "2026-02")
            admin.get_by_role("button", name="Finalize", exact=True).click()
            assert "already final" in admin.locator(".flash").inner_text()
            _check(admin, "console-month", problems)
            admin.locator("[data-run-link]").click()
            assert admin.locator("tr[data-state=paid]").count() == 1
            assert admin.locator("tr[data-carried]").count() == 2
            _check(admin, "console-run", problems)
            admin.goto(server.url + "/admin/money/")
            _check(admin, "console", problems)
        finally:
            server.stop()
        assert not problems, "\n".join(problems)
