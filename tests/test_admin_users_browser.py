"""The users page in Chromium (issue 21, item 1): a role changed in a row is the role stored;
the admin's own row offers no change that would be refused; accounts are switched off and on."""

from __future__ import annotations

import pytest

from models import Role, User
from tests.browser_support import screenshot, sign_in_browser, wait_for_js

pytestmark = pytest.mark.browser


def _user(session_factory, user_id: int) -> User:
    with session_factory() as session:
        user = session.get(User, user_id)
        session.expunge(user)
        return user


@pytest.mark.slow
def test_a_role_chosen_in_a_row_is_saved_and_an_account_is_switched_off(page, live_server, make_user,
                                                                         session_factory):
    admin, viewer = make_user(Role.ADMIN), make_user(Role.VIEWER)
    sign_in_browser(page, live_server.url, admin, "/admin/users/")
    page.goto(f"{live_server.url}/admin/users/?q={viewer.email}")
    row = page.locator(f"#user-{viewer.id}")
    # Choosing a role used to fire the role *filter*'s htmx trigger too: the table reloaded,
    # the select snapped back to "viewer", and Save stored the old role while saying "saved".
    row.locator("select[name=role]").select_option("seller")
    page.wait_for_timeout(500)  # a reload, if one were triggered, would have landed by now
    assert page.locator(f"#user-{viewer.id} select[name=role]").input_value() == "seller"
    page.locator(f"#user-{viewer.id} .role-form button").click()
    wait_for_js(page, f"document.querySelector('#user-{viewer.id} .saved') !== null")
    assert _user(session_factory, viewer.id).role == Role.SELLER

    # Switching the account off (after the confirmation) and on again.
    page.on("dialog", lambda dialog: dialog.accept())
    page.locator(f"#user-{viewer.id}").get_by_role("button", name="Deactivate").click()
    wait_for_js(page, f"document.querySelector('#user-{viewer.id}').textContent.includes('Reactivate')")
    assert _user(session_factory, viewer.id).is_active is False
    assert "(deactivated)" in page.locator(f"#user-{viewer.id}").inner_text()
    screenshot(page, "admin-users-deactivated")
    page.locator(f"#user-{viewer.id}").get_by_role("button", name="Reactivate").click()
    wait_for_js(page, f"document.querySelector('#user-{viewer.id}').textContent.includes('Deactivate')")
    assert _user(session_factory, viewer.id).is_active is True

    # The admin's own row: no role select and no switch that would only be refused.
    page.goto(f"{live_server.url}/admin/users/?q={admin.email}")
    own = page.locator(f"#user-{admin.id}")
    assert own.locator("select").count() == 0 and own.locator("button").count() == 0
    assert "(you" in own.inner_text()
