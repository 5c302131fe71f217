"""Landing pages and catalog cards (issue 14, items 3–4): who lands where, what a card shows."""

from __future__ import annotations

import re
from datetime import UTC, datetime, time, timedelta

from models import PlayHistory, PlaySession, PlayStatus, Role, Video
from models.business_time import today
from models.catalog.service import create_video
from tests.watching_support import add_video, clip, sign_in


def test_visitor_home_is_the_video_grid_with_both_ways_in(client, make_user, session_factory):
    seller = make_user(Role.SELLER)
    video = add_video(session_factory, seller, title="Gyeongbokgung in snow")
    html = client.get("/").get_data(as_text=True)
    assert "Latest videos" in html and "Gyeongbokgung in snow" in html
    assert 'href="/auth/signup"' in html and 'href="/auth/signin"' in html
    assert "Statistics and settlement for the sellers" not in html
    # The whole card is one link to the player.
    card = re.search(rf'<li class="video-card" data-video-id="{video.id}">\s*<a class="card-link" href="/videos/{video.id}"',
                     html)
    assert card, html


def test_viewer_home_shows_continue_watching_with_resume_bars(client, make_user, session_factory):
    seller, viewer = make_user(Role.SELLER), make_user(Role.VIEWER)
    started = add_video(session_factory, seller, seconds=600, title="Half-watched river walk")
    finished = add_video(session_factory, seller, seconds=600, title="Finished market tour")
    now = datetime.now(UTC)
    with session_factory() as db:
        db.add_all([
            PlayHistory(viewer_id=viewer.id, video_id=started.id, last_position_ms=150_000,
                        status=PlayStatus.PAUSE, updated_at=now),
            PlayHistory(viewer_id=viewer.id, video_id=finished.id, last_position_ms=0,
                        status=PlayStatus.END, updated_at=now),
        ])
        db.commit()
    sign_in(client, viewer)
    html = client.get("/").get_data(as_text=True)
    row = html.split('id="continue-heading"')[1].split("</section>")[0]
    assert "Half-watched river walk" in row and "Finished market tour" not in row
    assert '<progress class="resume-bar" max="100" value="25"' in row


def test_seller_without_videos_gets_the_first_run_prompt(client, make_user, session_factory):
    seller = make_user(Role.SELLER)
    sign_in(client, seller)
    response = client.get("/")
    assert response.status_code == 200
    assert "Upload your first video" in response.get_data(as_text=True)


def test_sellers_and_admins_land_on_their_pages(client, make_user, session_factory):
    """Sellers land on their dashboard, admins on the job runs; a seller without videos and a
    viewer get the grid (the seller with the first-run prompt)."""
    seller, admin, newcomer, viewer = (make_user(Role.SELLER), make_user(Role.ADMIN), make_user(Role.SELLER),
                                       make_user(Role.VIEWER))
    add_video(session_factory, seller)
    for user, path in ((seller, "/dashboard"), (admin, "/admin/runs/"), (newcomer, None), (viewer, None)):
        browser = client.application.test_client()
        sign_in(browser, user)
        response = browser.get("/")
        if path is None:
            assert response.status_code == 200, user.role
        else:
            assert response.status_code == 302 and response.headers["Location"] == path, user.role


def test_visitor_on_a_video_page_is_told_watching_needs_an_account(client, make_user, session_factory):
    seller = make_user(Role.SELLER)
    video = add_video(session_factory, seller, title="Jeju coastline")
    hidden = add_video(session_factory, seller, published=False)
    response = client.get(f"/videos/{video.id}")
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "Jeju coastline" in html and "Watching needs an account" in html
    assert f'href="/auth/signin?next=/videos/{video.id}"' in html
    assert f'href="/auth/signup?next=/videos/{video.id}"' in html
    assert client.get(f"/videos/{hidden.id}").status_code == 404


def test_catalog_cards_show_views_age_and_past_the_end_says_no_more_results(client, make_user, session_factory,
                                                                            settings):
    # Business days (Asia/Seoul by default), not UTC ones: between 15:00 and 24:00 UTC the two differ.
    business_today = today(settings.tz)
    seller, viewer = make_user(Role.SELLER), make_user(Role.VIEWER)
    video = add_video(session_factory, seller, title="Busan fish market at 5am",
                      created_at=datetime.combine(business_today - timedelta(days=3), time(12), tzinfo=settings.tz))
    now = datetime.now(UTC)
    with session_factory() as db:
        for counted in (True, True, False):
            db.add(PlaySession(viewer_id=viewer.id, video_id=video.id, day=business_today, started_at=now,
                               last_report_at=now, counted=counted, updated_at=now,
                               length_ms=video.duration_seconds * 1000))
        db.commit()
    html = client.get("/videos?q=Busan+fish").get_data(as_text=True)
    assert "2 views" in html and "3 days ago" in html
    past = client.get("/videos?page=9999").get_data(as_text=True)
    assert "No more results" in past and "No videos are published yet" not in past


def test_upload_extracts_a_poster_frame_served_with_the_card(client, make_user, session_factory, settings,
                                                             tmp_path_factory):
    seller = make_user(Role.SELLER)
    with session_factory() as db, clip(tmp_path_factory.getbasetemp(), 30).open("rb") as upload:
        video = create_video(db, seller=db.merge(seller), title="Poster please", description="", upload=upload,
                             filename="p.webm", media_root=settings.media_root)
        video_id, poster = video.id, video.poster_path
    assert poster and (settings.media_root / poster).is_file()
    response = client.get(f"/videos/{video_id}/poster.jpg")
    assert response.status_code == 200 and response.mimetype == "image/jpeg"
    assert response.data[:3] == b"\xff\xd8\xff"  # a JPEG
    with session_factory() as db:
        assert db.get(Video, video_id).poster_path == poster
    html = client.get("/videos?q=Poster+please").get_data(as_text=True)
    assert f'src="/videos/{video_id}/poster.jpg"' in html


def test_a_seller_reads_on_their_own_player_that_their_plays_do_not_count(client, make_user, session_factory):
    seller, viewer = make_user(Role.SELLER), make_user(Role.VIEWER)
    video = add_video(session_factory, seller)
    sign_in(client, seller)
    assert "your plays here are not counted" in client.get(f"/videos/{video.id}").get_data(as_text=True)
    sign_in(client, viewer)
    assert "your plays here are not counted" not in client.get(f"/videos/{video.id}").get_data(as_text=True)
