"""`/api/v1/docs` in headless Chromium (issue 11): Swagger UI, installed from npm and started by
our own script, renders every operation of the generated document under the enforced
Content-Security-Policy (the `page` fixture fails the test on any violation)."""

from __future__ import annotations

import pytest

from tests.browser_support import ARTIFACTS, screenshot, wait_for_js

pytestmark = [pytest.mark.browser]


@pytest.mark.slow
def test_the_docs_page_renders_every_operation_under_the_csp(page, live_server, app):
    document = app.test_client().get("/api/v1/openapi.json").get_json()
    operations = sum(len(item) for item in document["paths"].values())
    assert operations > 20

    response = page.goto(live_server.url + "/api/v1/docs")
    assert response is not None and response.status == 200
    wait_for_js(page, f"document.querySelectorAll('#swagger-ui .opblock').length === {operations}")
    paths = page.eval_on_selector_all("#swagger-ui .opblock-summary-path", "els => els.map(e => e.dataset.path)")
    assert set(paths) == set(document["paths"])

    top5 = page.locator("#swagger-ui .opblock-summary-path[data-path='/api/v1/stats/top5']")
    top5.click()  # opens the operation: its parameters and responses come from the models
    wait_for_js(page, "document.querySelector('#swagger-ui .opblock.is-open .parameters-container') !== null")
    names = page.eval_on_selector_all("#swagger-ui .opblock.is-open .parameter__name",
                                      "els => els.map(e => e.textContent)")
    assert {"metric", "period", "date"} <= {name.replace("*", "").strip() for name in names}
    page.wait_for_load_state("networkidle")
    screenshot(page, "api-docs")  # the whole page; below, the top of it and the opened operation
    page.locator("#swagger-ui .opblock.is-open").screenshot(path=str(ARTIFACTS / "api-docs-top5.png"))
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(ARTIFACTS / "api-docs-top.png"))


# Swagger UI's own markup, which no stylesheet of ours can change: a control nested in each
# operation's summary button, and parameter selects without a label.
SWAGGER_MARKUP = ("nested-interactive", "select-name")


@pytest.mark.slow
def test_the_docs_page_has_no_serious_accessibility_violation_of_ours(browser, live_server):
    """axe-core as in tests/test_pages_browser.py (whose sweep leaves /api/ out): Swagger UI's
    colours fail contrast, so portal/static/css/api-docs.css darkens them."""
    from tests.test_pages_browser import AXE, RUN_AXE

    context = browser.new_context(bypass_csp=True, viewport={"width": 1280, "height": 900})  # to inject axe
    try:
        page = context.new_page()
        page.goto(live_server.url + "/api/v1/docs")
        wait_for_js(page, "document.querySelectorAll('#swagger-ui .opblock').length > 20")
        page.locator("#swagger-ui .opblock-summary-path[data-path='/api/v1/stats/top5']").click()
        wait_for_js(page, "document.querySelector('#swagger-ui .opblock.is-open .parameters-container') !== null")
        page.evaluate(AXE.read_text())
        violations = [v for v in page.evaluate(RUN_AXE) if not v.startswith(SWAGGER_MARKUP)]
        assert violations == []
    finally:
        context.close()
