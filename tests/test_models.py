"""The schema refuses what the batch and the rules must never see twice."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import insert, select, text
from sqlalchemy.exc import IntegrityError, OperationalError, StatementError

from models import (
    Ad,
    AdView,
    PlaySession,
    PriceTier,
    Role,
    SocialIdentity,
    User,
    Video,
    VideoDailySettlement,
    VideoDailyStats,
)
from models.accounts.service import AccountError, create_user
from tests.support import unique_email

# MariaDB reports a failed CHECK constraint as error 4025, which the driver maps to OperationalError.
CHECK_FAILED = (IntegrityError, OperationalError)


def _video(db, seller: User, duration: int = 600) -> Video:
    video = Video(seller_id=seller.id, title="Test clip", media_path="x.webm", content_type="video/webm",
                  size_bytes=1, duration_seconds=duration)
    db.add(video)
    db.flush()
    return video


def _stats_row(video_id: int, seller_id: int, day: date, views: int = 1) -> dict:
    return dict(day=day, video_id=video_id, seller_id=seller_id, views=views, watch_seconds=0, ad_views=0,
                rejected_own_video=0, rejected_repeat=0, cum_views=views, cum_watch_seconds=0, cum_ad_views=0)


def test_duplicate_video_day_stats_row_is_refused(db, make_user):
    seller = make_user(Role.SELLER)
    video = _video(db, seller)
    db.execute(insert(VideoDailyStats), [_stats_row(video.id, seller.id, date(2026, 3, 1))])
    db.commit()
    with pytest.raises(IntegrityError):
        db.execute(insert(VideoDailyStats), [_stats_row(video.id, seller.id, date(2026, 3, 1), views=5)])
    db.rollback()
    # the original row is intact
    assert db.scalar(select(VideoDailyStats.views).where(VideoDailyStats.video_id == video.id)) == 1


def test_duplicate_video_day_settlement_row_is_refused(db, make_user):
    seller = make_user(Role.SELLER)
    video = _video(db, seller)
    row = dict(day=date(2026, 3, 1), video_id=video.id, seller_id=seller.id, plan_id=1, basis="daily",
               views=1, ad_views=0, views_before=0, ad_views_before=0, video_amount=1, ad_amount=0, total_amount=1)
    db.execute(insert(VideoDailySettlement), [row])
    db.commit()
    with pytest.raises(IntegrityError):
        db.execute(insert(VideoDailySettlement), [row])
    db.rollback()


def test_one_ad_view_per_session_and_slot(db, make_user):
    seller, viewer = make_user(Role.SELLER), make_user(Role.VIEWER)
    video = _video(db, seller)
    ad = Ad(title="ad", media_path="a.webm", content_type="video/webm", size_bytes=1, duration_seconds=5)
    db.add(ad)
    play = PlaySession(viewer_id=viewer.id, video_id=video.id, day=date(2026, 3, 1), counted=True,
                       length_ms=video.duration_seconds * 1000)
    db.add(play)
    db.flush()
    db.add(AdView(session_id=play.id, video_id=video.id, day=play.day, counted=True, slot_index=0, ad_id=ad.id))
    db.commit()
    db.add(AdView(session_id=play.id, video_id=video.id, day=play.day, counted=True, slot_index=0, ad_id=ad.id))
    with pytest.raises(IntegrityError):
        db.commit()
    db.rollback()


def test_social_identity_is_unique_per_provider_and_subject(db, make_user):
    user_a, user_b = make_user(), make_user()
    db.add(SocialIdentity(user_id=user_a.id, provider="kakao", subject="12345"))
    db.commit()
    db.add(SocialIdentity(user_id=user_b.id, provider="kakao", subject="12345"))
    with pytest.raises(IntegrityError):
        db.commit()
    db.rollback()
    # the same subject at another provider is another person
    db.add(SocialIdentity(user_id=user_b.id, provider="naver", subject="12345"))
    db.commit()


def test_email_is_unique_and_normalized(db):
    email = unique_email()
    create_user(db, email=email.upper(), password="long enough", role=Role.VIEWER)
    db.commit()
    with pytest.raises(AccountError, match="already exists"):
        create_user(db, email=email, password="long enough", role=Role.SELLER)
    db.rollback()


def test_role_outside_the_enum_is_refused_by_the_database(db):
    with pytest.raises(CHECK_FAILED):
        db.execute(text("INSERT INTO users (email, display_name, role, is_active, created_at) "
                        "VALUES (:e, 'x', 'superuser', 1, NOW(6))"), {"e": unique_email()})
    db.rollback()


def test_price_tier_range_must_be_ordered(db):
    with pytest.raises(CHECK_FAILED):
        db.execute(insert(PriceTier), [dict(plan_id=1, position=99, from_unit=10, to_unit=5,
                                             view_rate_e4=1, ad_rate_e4=1)])
    db.rollback()


def test_datetimes_keep_microseconds_and_utc(db, make_user):
    instant = datetime(2026, 3, 1, 14, 59, 59, 123456, tzinfo=UTC)
    user = make_user()
    db.get(User, user.id).last_login_at = instant
    db.commit()
    db.expire_all()
    assert db.get(User, user.id).last_login_at == instant


def test_utf8mb4_titles_round_trip(db, make_user):
    seller = make_user(Role.SELLER)
    video = _video(db, seller)
    video.title = "비 오는 날 🌧️ 브이로그"
    db.commit()
    db.expire_all()
    assert db.get(Video, video.id).title == "비 오는 날 🌧️ 브이로그"


def test_naive_datetimes_are_refused(db, make_user):
    user = make_user()
    db.get(User, user.id).last_login_at = datetime(2026, 3, 1, 12, 0)
    with pytest.raises(StatementError, match="aware"):
        db.commit()
    db.rollback()


def test_default_price_plan_matches_spec(db):
    tiers = db.scalars(select(PriceTier).where(PriceTier.plan_id == 1).order_by(PriceTier.position)).all()
    assert [(t.from_unit, t.to_unit, str(t.view_rate), str(t.ad_rate)) for t in tiers] == [
        (1, 100_000, "1", "10"),
        (100_001, 500_000, "1.1", "12"),
        (500_001, 1_000_000, "1.3", "15"),
        (1_000_001, None, "1.5", "20"),
    ]


def test_the_raw_active_role_query_agrees_with_active_role(db, make_user):
    from models.accounts.users import ACTIVE_ROLE_SQL, active_role

    seller, admin, gone = make_user(Role.SELLER), make_user(Role.ADMIN), make_user(Role.VIEWER)
    db.execute(text("UPDATE users SET is_active = 0 WHERE id = :i"), {"i": gone.id})
    db.commit()
    raw = db.connection().connection.dbapi_connection.cursor()
    for user_id in (seller.id, admin.id, gone.id, 10**12):
        for session_version in (0, 1):  # a bearer token's `sv`: only the account's current one passes
            raw.execute(ACTIVE_ROLE_SQL.format(columns=", 7"), [user_id, session_version])
            row = raw.fetchone()
            python = active_role(db, user_id, session_version)
            assert (row[0] if row else None) == (python.value if python else None)
            assert row is None or row[1] == 7
            assert (python is not None) == (user_id in (seller.id, admin.id) and session_version == 0)
    raw.close()
