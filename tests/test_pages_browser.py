"""Every page, as a visitor, a viewer, a seller and an admin, in headless Chromium (issue 14, items 8–9).

For each page, at 1280 px and at 390 px: axe-core (installed from npm) finds no violation of
impact "serious" or "critical", and nothing scrolls sideways; a screenshot of each is saved
under tests/artifacts/pages/ for a person to look at (JPEG: about 200 full-page PNGs cost 19 of
the test's 69 s to encode, JPEG half of that).

The pages are every parameterless GET route of the app (so pages added later are checked
too) plus the pages of one video, one ad and a missing page. JSON, media, vendor files,
sign-out and the mounted rq-dashboard (third-party) are left out.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from models import BatchPartition, BatchRun, PlayHistory, PlayStatus, Role, RunState, RunTrigger
from models.business_time import today
from models.catalog.service import create_ad, create_video
from tests.browser_support import ARTIFACTS, sign_in_browser
from tests.watching_support import clip

pytestmark = [pytest.mark.browser, pytest.mark.slow]

AXE = Path(__file__).resolve().parent.parent / "node_modules" / "axe-core" / "axe.min.js"
WIDTHS = (1280, 390)
SKIP_PREFIXES = ("/api/", "/static/", "/vendor/", "/media/", "/healthz", "/admin/rq", "/auth/social", "/auth/signout",
                 "/openapi")
RUN_AXE = """async () => {
  const result = await axe.run(document, {resultTypes: ['violations']});
  return result.violations.filter(v => v.impact === 'serious' || v.impact === 'critical')
    .map(v => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(' | ')}`);
}"""
DOWNLOADS = (".csv",)  # files, not pages (tests/test_seller_portal_browser.py downloads them)
SIDEWAYS = "document.documentElement.scrollWidth - window.innerWidth"
NEXT_FRAME = "() => new Promise(done => requestAnimationFrame(() => requestAnimationFrame(done)))"


def _page_paths(app) -> list[str]:  # type: ignore[no-untyped-def]
    paths = set()
    for rule in app.url_map.iter_rules():
        if rule.arguments or "GET" not in (rule.methods or ()) or rule.rule.startswith(SKIP_PREFIXES) \
                or rule.rule.endswith(DOWNLOADS):
            continue
        paths.add(rule.rule)
    return sorted(paths)


@pytest.fixture
def world(make_user, session_factory, settings, tmp_path_factory):  # type: ignore[no-untyped-def]
    seller, viewer, admin = make_user(Role.SELLER), make_user(Role.VIEWER), make_user(Role.ADMIN)
    clips = tmp_path_factory.getbasetemp()
    with session_factory() as db:
        with clip(clips, 330).open("rb") as upload:
            video = create_video(db, seller=db.merge(seller), title="Namsan tower at golden hour",
                                 description="A walk up the hill.", upload=upload, filename="namsan.webm",
                                 media_root=settings.media_root, published=True)
        with clip(clips, 3).open("rb") as upload:
            ad = create_ad(db, admin=db.merge(admin), title="Page check ad", upload=upload, filename="a.webm",
                           media_root=settings.media_root, active=False)
        db.add(PlayHistory(viewer_id=viewer.id, video_id=video.id, last_position_ms=100_000,
                           status=PlayStatus.PAUSE, updated_at=datetime.now(UTC)))
        # A failed run, so the run page shows its partition table and error text.
        run = BatchRun(day=date(2026, 3, 2), trigger=RunTrigger.MANUAL, state=RunState.FAILED, partitions_total=1,
                       error="partition 0 failed: lock wait timeout exceeded")
        db.add(run)
        db.flush()
        db.add(BatchPartition(run_id=run.id, partition_index=0, video_id_lo=0, video_id_hi=99, state=RunState.FAILED,
                              error="lock wait timeout exceeded"))
        db.commit()
        return {"seller": seller, "viewer": viewer, "admin": admin, "video": video.id, "ad": ad.id, "run": run.id,
                "month": today(settings.tz).strftime("%Y-%m")}


def _extra_paths(role: str, world: dict) -> list[str]:
    video, ad = world["video"], world["ad"]
    extra = {
        "visitor": [f"/videos/{video}", "/videos?page=999", "/no-such-page"],
        "viewer": [f"/videos/{video}", "/videos/upload"],  # the second: a humane 403
        "seller": [f"/videos/{video}", f"/videos/{video}/edit", f"/videos/{video}/delete", f"/videos/{video}/stats",
                   f"/statements/{world['month']}"],  # this month's estimated statement
        "admin": [f"/admin/ads/{ad}", f"/admin/ads/{ad}/delete", f"/videos/{video}/stats",
                  f"/admin/runs/{world['run']}", f"/admin/money/{world['month']}",
                  f"/statements/{world['month']}?seller_id={world['seller'].id}"],
    }
    return extra[role]


def _slug(role: str, url: str) -> str:
    return f"{role}{re.sub(r'[^a-z0-9]+', '-', url.lower()).rstrip('-') or '-home'}"


@pytest.mark.slow
def test_every_page_for_every_role_is_accessible_and_fits_a_phone(browser, live_server, app, world):
    assert AXE.is_file(), "axe-core is missing: run scripts/setup.sh (npm ci) first"
    axe_source = AXE.read_text()
    folder = ARTIFACTS / "pages"
    folder.mkdir(parents=True, exist_ok=True)
    problems: list[str] = []
    checked: set[tuple[str, str]] = set()
    for role in ("visitor", "viewer", "seller", "admin"):
        # bypass_csp: axe is injected by the test; the pages' own policy is not what is checked here.
        context = browser.new_context(bypass_csp=True, viewport={"width": WIDTHS[0], "height": 900})
        # axe-core goes into every document as it is created: sent to the browser once per role,
        # not once per page (half a megabyte each time).
        context.add_init_script(axe_source)
        page = context.new_page()
        page.set_default_timeout(15_000)
        if role != "visitor":
            sign_in_browser(page, live_server.url, world[role], "/auth/account")
            assert page.url.endswith("/auth/account"), page.url
        if role == "visitor":
            # At phone width the header folds into a menu that opens and names the current page.
            page.set_viewport_size({"width": 390, "height": 900})
            page.goto(f"{live_server.url}/videos")
            assert page.is_hidden("#site-menu")
            page.click(".menu-toggle")
            assert page.is_visible("#site-menu") and page.get_attribute(".menu-toggle", "aria-expanded") == "true"
            assert page.get_attribute("#site-menu a[aria-current=page]", "href") == "/videos"
            page.set_viewport_size({"width": WIDTHS[0], "height": 900})
        if role == "viewer":
            page.goto(f"{live_server.url}/")
            row = page.locator(".continue-watching")
            assert row.is_visible() and "Namsan tower" in row.inner_text()
            assert row.locator("progress.resume-bar").get_attribute("value") == "30"
        for path in _page_paths(app) + _extra_paths(role, world):
            response = page.goto(f"{live_server.url}{path}")
            if response is None or "text/html" not in (response.headers.get("content-type") or ""):
                continue
            final = re.sub(r"\?next=.*", "", page.url.removeprefix(live_server.url))  # one sign-in page
            if (role, final) in checked:
                continue
            checked.add((role, final))
            for width in WIDTHS:
                page.set_viewport_size({"width": width, "height": 900})
                page.evaluate(NEXT_FRAME)  # laid out at the new width
                # At each width (issue 21): a phone's layout (cards, a folded menu, scroll boxes)
                # has findings of its own that the desktop layout does not.
                for violation in page.evaluate(RUN_AXE):
                    problems.append(f"{role} {final} at {width} px: {violation}")
                overflow = page.evaluate(SIDEWAYS)
                if overflow > 0:
                    problems.append(f"{role} {final} at {width} px scrolls sideways by {overflow} px")
                page.screenshot(path=str(folder / f"{_slug(role, final)}-{width}.jpg"), full_page=True, type="jpeg", quality=80)
            page.set_viewport_size({"width": WIDTHS[0], "height": 900})
        context.close()
    assert len(checked) >= 20, sorted(checked)
    assert not problems, "\n".join(problems)
