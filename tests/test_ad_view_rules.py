"""Defects 4 and 7 of issue 13: an ad view is the ad the server chose for that slot (§5), and
concurrent duplicate ad views of one slot answer 409, never 500."""

from __future__ import annotations

from collections import Counter

import pytest
from sqlalchemy import func, select

from models import AdView, PlaySession, Role, User
from tests.security_support import at_once, post_json
from tests.watching_support import add_ad, add_video, bearer, csrf_token, sign_in


@pytest.fixture
def player(make_user, session_factory, settings, live_server):  # type: ignore[no-untyped-def]
    """A viewer's open session of a 12-minute video (slot 0 due), with two active ads."""
    seller, viewer = make_user(Role.SELLER), make_user(Role.VIEWER)
    video = add_video(session_factory, seller, seconds=720)
    add_ad(session_factory, only=True, impressions=0)
    add_ad(session_factory, impressions=50)
    auth = bearer(viewer, settings)
    base = f"{live_server.url}/api/v1/videos/{video.id}"
    sid = post_json(f"{base}/sessions", {}, auth).json()["session_id"]
    return f"{base}/sessions/{sid}", auth, sid


def _chosen(session_url: str, auth: dict[str, str], slot: int = 0) -> int:
    import requests

    reply = requests.get(f"{session_url}/slots/{slot}/ad", headers=auth, timeout=30)
    assert reply.status_code == 200, reply.text
    return reply.json()["ad"]["id"]


def _views(session_factory, sid: int) -> int:  # type: ignore[no-untyped-def]
    with session_factory() as db:
        return db.scalar(select(func.count()).select_from(AdView).where(AdView.session_id == sid))


def test_concurrent_duplicate_ad_views_of_a_slot_answer_409(player, session_factory):
    session_url, auth, sid = player
    ad_id = _chosen(session_url, auth)
    replies = at_once(8, lambda _: post_json(f"{session_url}/ad-views", {"slot_index": 0, "ad_id": ad_id}, auth))
    assert Counter(r.status_code for r in replies) == Counter({201: 1, 409: 7}), [r.text[:120] for r in replies]
    assert {r.json()["error"] for r in replies if r.status_code == 409} == {"duplicate_ad_view"}
    assert _views(session_factory, sid) == 1


def test_concurrent_duplicate_ad_views_from_the_browser_player_answer_409(app, player, session_factory):
    """The browser's cookie session loads the user before the ad view is decided."""
    session_url, auth, sid = player
    ad_id = _chosen(session_url, auth)
    with session_factory() as db:
        viewer_id = db.scalar(select(PlaySession.viewer_id).where(PlaySession.id == sid))
        video_id = db.scalar(select(PlaySession.video_id).where(PlaySession.id == sid))
        viewer = db.get(User, viewer_id)
        db.expunge(viewer)
    browsers = [app.test_client() for _ in range(8)]
    for browser in browsers:
        sign_in(browser, viewer)
    headers = [{"X-CSRFToken": csrf_token(b), "Accept": "application/json"} for b in browsers]
    url = f"/videos/{video_id}/sessions/{sid}/ad-views"
    replies = at_once(8, lambda i: browsers[i].post(url, json={"slot_index": 0, "ad_id": ad_id}, headers=headers[i]))
    assert Counter(r.status_code for r in replies) == Counter({201: 1, 409: 7}), [r.data[:120] for r in replies]
    assert _views(session_factory, sid) == 1


def test_an_ad_view_must_be_the_ad_the_server_chose(player, session_factory):
    session_url, auth, sid = player
    inactive = add_ad(session_factory, active=False)
    other = add_ad(session_factory, impressions=10)
    url = f"{session_url}/ad-views"
    # Nothing chosen for the slot yet: the player must ask first.
    early = post_json(url, {"slot_index": 0, "ad_id": other.id}, auth)
    assert (early.status_code, early.json()["error"]) == (409, "ad_not_chosen") and early.json()["message"]
    chosen = _chosen(session_url, auth)
    assert _chosen(session_url, auth) == chosen  # asking again gives the same ad
    for wrong in (inactive.id, other.id, chosen + 10_000):
        refused = post_json(url, {"slot_index": 0, "ad_id": wrong}, auth)
        assert (refused.status_code, refused.json()["error"]) == (422, "not_the_chosen_ad"), wrong
    assert _views(session_factory, sid) == 0
    assert post_json(url, {"slot_index": 0, "ad_id": chosen}, auth).status_code == 201
    assert _views(session_factory, sid) == 1


def test_one_break_per_jump_and_the_chosen_ad_hold_together(make_user, session_factory, settings, live_server):
    """§5 twice: a session opened at 5:22 of a 12:00 video (slots at 0:00 and 5:00) has spent
    the pre-roll (no ad may be chosen or viewed for it), and its one break, the 5:00 slot's,
    still takes only the ad the server chose."""
    seller, viewer = make_user(Role.SELLER), make_user(Role.VIEWER)
    video = add_video(session_factory, seller, seconds=720)
    add_ad(session_factory, only=True, impressions=0)
    other = add_ad(session_factory, impressions=50)
    auth = bearer(viewer, settings)
    base = f"{live_server.url}/api/v1/videos/{video.id}"
    opened = post_json(f"{base}/sessions", {"start_position_ms": 322_000}, auth).json()
    assert opened["due_slots"] == [1]
    session_url, sid = f"{base}/sessions/{opened['session_id']}", opened["session_id"]
    import requests

    spent_pick = requests.get(f"{session_url}/slots/0/ad", headers=auth, timeout=30)
    assert (spent_pick.status_code, spent_pick.json()["error"]) == (409, "slot_spent")
    spent_view = post_json(f"{session_url}/ad-views", {"slot_index": 0, "ad_id": other.id}, auth)
    assert (spent_view.status_code, spent_view.json()["error"]) == (409, "slot_spent")
    unasked = post_json(f"{session_url}/ad-views", {"slot_index": 1, "ad_id": other.id}, auth)
    assert (unasked.status_code, unasked.json()["error"]) == (409, "ad_not_chosen")
    chosen = _chosen(session_url, auth, slot=1)
    assert chosen != other.id
    wrong = post_json(f"{session_url}/ad-views", {"slot_index": 1, "ad_id": other.id}, auth)
    assert (wrong.status_code, wrong.json()["error"]) == (422, "not_the_chosen_ad")
    assert post_json(f"{session_url}/ad-views", {"slot_index": 1, "ad_id": chosen}, auth).status_code == 201
    assert _views(session_factory, sid) == 1
