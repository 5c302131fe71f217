"""Demo data that makes a first start look alive.

Known accounts (one password for all), real playable media generated locally (some
titles in Korean), ads, 30 days (at least since the first of last month) of play sessions
and ad views that follow the §6 counting rules (filtered plays of both reasons), a
`lifetime`-basis price plan for the last days, and late plays of a computed day whose re-run
the seller sees as a restatement. §13 money (`settle_demo_months`): every complete month
finalized, last month's payout run with two sellers paid and the small one carried below the
threshold, and the late plays restating a day of that final month, so the current month's
estimated statement carries an adjustment. Seeding is idempotent: a database that already
has the demo admin is left alone.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import insert
from sqlalchemy.orm import Session

from models import (
    Ad,
    AdView,
    PlayHistory,
    PlaySession,
    PlayStatus,
    PricePlan,
    PriceTier,
    PricingBasis,
    RejectReason,
    Role,
    User,
    Video,
)
from models.accounts.service import create_user, find_user_by_email
from models.business_time import business_day
from models.catalog.posters import write_poster
from models.catalog.tables import AdSlot, ad_slot_positions
from paysystem.demo_media import write_clip
from settings import Settings

DEMO_PASSWORD = "paysystem-demo"
REPEAT_WINDOW = timedelta(seconds=30)


@dataclass(frozen=True)
class DemoAccount:
    email: str
    role: Role
    name: str


ACCOUNTS = (
    DemoAccount("admin@demo.paysystem.test", Role.ADMIN, "Demo Admin"),
    DemoAccount("seller1@demo.paysystem.test", Role.SELLER, "Hana Studio"),
    DemoAccount("seller2@demo.paysystem.test", Role.SELLER, "Minsu Cooking"),
    # A small channel: its month stays below the payout threshold and is carried (§13).
    DemoAccount("seller3@demo.paysystem.test", Role.SELLER, "Jisoo Pottery"),
    DemoAccount("viewer1@demo.paysystem.test", Role.VIEWER, "Jiwoo"),
    DemoAccount("viewer2@demo.paysystem.test", Role.VIEWER, "Seoyeon"),
    DemoAccount("viewer3@demo.paysystem.test", Role.VIEWER, "Doyun"),
)

# (seller index, title, duration seconds, background colour)
VIDEOS = (
    (1, "Han River at dawn", 720, (28, 64, 120)),
    (1, "Street food tour: Gwangjang market", 299, (120, 52, 30)),
    (1, "Five minutes of rain", 300, (40, 90, 80)),
    (2, "Kimchi jjigae in 10 minutes", 610, (150, 40, 40)),
    (2, "Knife skills for beginners", 95, (70, 70, 90)),
    (2, "Weekend brunch ideas", 480, (160, 110, 30)),
    (1, "한강 자전거 라이딩", 360, (30, 110, 150)),
    (2, "김치찌개 황금 레시피", 540, (170, 60, 30)),
    (1, "서울 야경 타임랩스", 330, (20, 20, 60)),
    (3, "도자기 물레 첫걸음", 240, (120, 90, 60)),
)
SMALL_SELLER = 3  # its video gets about one play a day

# A `lifetime`-basis plan in force for the last LIFETIME_DAYS days, with brackets small
# enough that the demo's videos cross them: tier progress and receipts show the basis at work.
LIFETIME_DAYS = 12
LIFETIME_TIERS = ((1, 300, 10_000, 100_000), (301, 800, 11_000, 120_000), (801, None, 13_000, 150_000))
# Late plays of a day that the batch had already computed: its re-run is a restatement (§9).
RESTATED_DAY_OFFSET = 6

# (title, duration seconds, background colour)
ADS = (
    ("Spring sale", 4, (200, 30, 90)),
    ("Fast delivery", 5, (20, 140, 60)),
    ("New phone launch", 6, (90, 30, 170)),
)


def _media_file(media_root: Path, relative: str, duration: int, colour: tuple[int, int, int], label: str) -> tuple[str, int]:
    path = media_root / relative
    if not path.exists():
        write_clip(path, duration, colour, label)
    return relative, path.stat().st_size


def is_seeded(session: Session) -> bool:
    return find_user_by_email(session, ACCOUNTS[0].email) is not None


def seed_demo(session: Session, media_root: Path, tz: ZoneInfo, *, days: int = 30, seed: int = 7,
              now: datetime | None = None) -> bool:
    """Create the demo; returns False (and changes nothing) when it already exists."""
    if is_seeded(session):
        return False
    rng = random.Random(seed)
    now = now or datetime.now(UTC)
    users = [
        # Verified: the demo's sellers can reach payouts (SPEC §13) without a mail server.
        create_user(session, email=a.email, password=DEMO_PASSWORD, role=a.role, display_name=a.name, verified=True)
        for a in ACCOUNTS
    ]
    admin, sellers, viewers = users[0], users[1:4], users[4:]

    videos: list[Video] = []
    for index, (seller_no, title, duration, colour) in enumerate(VIDEOS, start=1):
        relative, size = _media_file(media_root, f"demo/video-{index}.webm", duration, colour, "")
        video = Video(
            seller_id=sellers[seller_no - 1].id,
            title=title,
            description=f"A {duration // 60}:{duration % 60:02d} demo clip that shows its own clock.",
            media_path=relative,
            content_type="video/webm",
            size_bytes=size,
            duration_seconds=duration,
            is_published=True,
            created_at=now - timedelta(days=days + 5 - index),
            poster_path=write_poster(media_root, relative, duration),
        )
        video.slots = [AdSlot(slot_index=i, position_seconds=p) for i, p in enumerate(ad_slot_positions(duration))]
        session.add(video)
        videos.append(video)
    ads: list[Ad] = []
    for index, (title, duration, colour) in enumerate(ADS, start=1):
        relative, size = _media_file(media_root, f"demo/ad-{index}.webm", duration, colour, "AD")
        ad = Ad(title=title, media_path=relative, content_type="video/webm", size_bytes=size,
                duration_seconds=duration, is_active=True, created_by=admin.id)
        session.add(ad)
        ads.append(ad)
    session.flush()

    _seed_activity(session, rng, tz, now, days, videos, viewers, sellers, ads)
    start = business_day(now, tz) - timedelta(days=LIFETIME_DAYS)
    session.add(PricePlan(
        name="Launch promotion (lifetime)", basis=PricingBasis.LIFETIME, effective_from=start, created_by=admin.id,
        tiers=[PriceTier(position=i, from_unit=lo, to_unit=hi, view_rate_e4=v, ad_rate_e4=a)
               for i, (lo, hi, v, a) in enumerate(LIFETIME_TIERS, start=1)]))
    session.flush()
    return True


def add_late_plays(session: Session, tz: ZoneInfo, now: datetime | None = None, count: int = 7,
                   day: date | None = None) -> date:
    """Counted plays of the demo's most popular video that reach the server late, on a day the
    batch already computed (default: RESTATED_DAY_OFFSET days ago); returns the day, which
    must be re-run to restate it."""
    now = now or datetime.now(UTC)
    day = day or business_day(now, tz) - timedelta(days=RESTATED_DAY_OFFSET)
    video = session.query(Video).order_by(Video.id).first()
    viewers = session.query(User).filter(User.role == Role.VIEWER).order_by(User.id).all()
    if video is None or not viewers:
        raise ValueError("seed the demo first")
    start = datetime.combine(day, time(20, 0), tzinfo=tz).astimezone(UTC)
    rows = []
    for i in range(count):
        started = start + timedelta(minutes=5 * i)
        watched = video.duration_seconds * 1000 // 2
        rows.append({"viewer_id": viewers[i % len(viewers)].id, "video_id": video.id, "day": day,
                     "started_at": started, "last_report_at": started + timedelta(milliseconds=watched),
                     "last_position_ms": watched, "furthest_position_ms": watched, "watch_ms": watched,
                     "length_ms": video.duration_seconds * 1000, "counted": True, "reject_reason": None, "ended_at": None, "updated_at": now})
    session.execute(insert(PlaySession), rows)
    return day


def _seed_activity(session: Session, rng: random.Random, tz: ZoneInfo, now: datetime, days: int,
                   videos: list[Video], viewers: list[User], sellers: list[User], ads: list[Ad]) -> None:
    """Play sessions and ad views for the last `days` business days and today so far."""
    today = business_day(now, tz)
    session_rows: list[dict] = []
    last_counted: dict[tuple[int, int], datetime] = {}
    ad_impressions = {ad.id: 0 for ad in ads}
    planned: list[tuple[datetime, User, Video]] = []
    for offset in range(days, -1, -1):
        day: date = today - timedelta(days=offset)
        day_start = datetime.combine(day, time.min, tzinfo=tz).astimezone(UTC)
        for video_rank, video in enumerate(videos):
            # Popularity differs per video and grows over the month, so charts have a shape.
            base = (len(videos) - video_rank) * 3 + (days - offset) // 3
            if video.seller_id == sellers[SMALL_SELLER - 1].id:
                base = 1
            for _ in range(max(0, int(rng.gauss(base, base / 4)))):
                started = day_start + timedelta(seconds=rng.uniform(0, 86_399))
                if started >= now:
                    continue
                # Sellers mostly watch other people's videos; their own plays are filtered (§6).
                who = rng.choice(sellers) if rng.random() < 0.06 else rng.choice(viewers)
                planned.append((started, who, video))
                if rng.random() < 0.05:  # an impatient reload a few seconds later
                    planned.append((started + timedelta(seconds=rng.uniform(2, 25)), planned[-1][1], video))
    planned.sort(key=lambda item: item[0])

    for started, viewer, video in planned:
        key = (viewer.id, video.id)
        if viewer.id == video.seller_id:
            counted, reason = False, RejectReason.OWN_VIDEO
        elif key in last_counted and started - last_counted[key] < REPEAT_WINDOW:
            counted, reason = False, RejectReason.REPEAT_WITHIN_30S
        else:
            counted, reason = True, None
            last_counted[key] = started
        duration_ms = video.duration_seconds * 1000
        watched_ms = int(duration_ms * min(1.0, max(0.02, rng.betavariate(2, 1.4))))
        ended = started + timedelta(milliseconds=watched_ms + rng.randint(0, 4000))
        session_rows.append(
            {
                "viewer_id": viewer.id,
                "video_id": video.id,
                "day": business_day(started, tz),
                "started_at": started,
                "last_report_at": min(ended, now),
                "last_position_ms": watched_ms,
                "furthest_position_ms": watched_ms,
                "watch_ms": watched_ms,
                "length_ms": duration_ms,
                "counted": counted,
                "reject_reason": reason,
                "ended_at": ended if watched_ms >= duration_ms - 1000 else None,
                "updated_at": min(ended, now),
            }
        )
    if not session_rows:
        return
    session.execute(insert(PlaySession), session_rows)
    stored = session.query(PlaySession).order_by(PlaySession.id).all()
    by_video = {v.id: v for v in videos}

    ad_rows: list[dict] = []
    history: dict[tuple[int, int], PlaySession] = {}
    for play in stored:
        video = by_video[play.video_id]
        for slot_index, position in enumerate(ad_slot_positions(video.duration_seconds)):
            if position * 1000 > play.furthest_position_ms:
                break
            ad = min(ads, key=lambda a: (ad_impressions[a.id], a.id))
            ad_impressions[ad.id] += 1
            ad_rows.append(
                {
                    "session_id": play.id,
                    "video_id": play.video_id,
                    "day": play.day,
                    "counted": play.counted,
                    "slot_index": slot_index,
                    "ad_id": ad.id,
                    "viewed_at": play.started_at + timedelta(seconds=position),
                }
            )
        history[(play.viewer_id, play.video_id)] = play
    if ad_rows:
        session.execute(insert(AdView), ad_rows)
    for ad in ads:
        ad.impressions = ad_impressions[ad.id]
    for (viewer_id, video_id), play in history.items():
        finished = play.last_position_ms >= by_video[video_id].duration_seconds * 1000 - 1000
        session.add(
            PlayHistory(
                viewer_id=viewer_id,
                video_id=video_id,
                last_position_ms=0 if finished else play.last_position_ms,
                status=PlayStatus.END if finished else PlayStatus.PAUSE,
                updated_at=play.updated_at,
            )
        )


def demo_window(tz: ZoneInfo, days: int, now: datetime | None = None) -> tuple[date, date]:
    """The business days the demo seeds and computes: `days` days up to yesterday, widened back
    to the first of a month and at least to the first of last month, so that every month in
    it but the current one can be finalized."""
    yesterday = business_day(now or datetime.now(UTC), tz) - timedelta(days=1)
    last_month = (business_day(now or datetime.now(UTC), tz).replace(day=1) - timedelta(days=1)).replace(day=1)
    return min(yesterday - timedelta(days=days - 1), last_month).replace(day=1), yesterday


# Payout details of the demo sellers (the small one too, so its carry is "below threshold").
DEMO_BANK_ACCOUNTS = {1: ("individual", "088", "110-234-567890", None),
                      2: ("business", "004", "940-2210-33451", "1248100998"),
                      3: ("individual", "090", "3333-01-2345678", None)}


def settle_demo_months(settings: Settings, first: date, last: date) -> list[str]:
    """Finalize every complete month from `first` to `last` (computed days), then the last one's
    payout run: transfer file exported, both big sellers paid, the small one carried below
    the threshold. Returns what it did, one line each, for the command's output."""
    from sqlalchemy import text

    from jobs.engine import engine_for
    from models.money.months import month_label, next_month
    from models.money.payout_details import DetailsInput, account_cipher, set_payout_details
    from models.money.payouts import create_payout_run, import_results, transfer_file
    from models.money.statements import finalize_month

    engine = engine_for(settings.database_url)
    cipher = account_cipher(settings.payout_details_keys, settings.secret_key)
    done, month = [], first.replace(day=1)
    while next_month(month) <= last + timedelta(days=1):
        result = finalize_month(engine, month, settings.tz)
        done.append(f"{month_label(month)} finalized: {result.statements} statements")
        month = next_month(month)
    final = month - timedelta(days=1)  # a day of the last final month
    with Session(bind=engine) as session:
        admin = find_user_by_email(session, ACCOUNTS[0].email)
        for number, (kind, bank, account, business) in DEMO_BANK_ACCOUNTS.items():
            seller = find_user_by_email(session, f"seller{number}@demo.paysystem.test")
            set_payout_details(session, cipher, seller, DEMO_PASSWORD, DetailsInput(
                legal_name=seller.display_name, kind=kind, bank_code=bank, account_number=account,
                holder_name=seller.display_name, business_number=business))
        run = create_payout_run(engine, final, threshold_won=settings.payout_threshold_won, by=admin.id)
        transfer_file(engine, cipher, run.run_id, admin)
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT reference, net FROM payouts WHERE run_id = :r"), {"r": run.run_id}).all()
    if rows:
        import_results(engine, "reference,status,amount,reason\n" + "".join(f"{r},paid,{n},\n" for r, n in rows))
    done.append(f"{month_label(final)} payout run: {run.payouts} paid, carried: "
                f"{', '.join(sorted(set(run.carried.values()))) or 'nobody'}")
    return done
