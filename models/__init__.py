"""SQLAlchemy models and the queries the portal and the jobs share.

Importing this package registers every table on `Base.metadata` (alembic and the test
fixtures rely on that). It never imports `portal` or `jobs`.
"""

from models.accounts.mailed_links import MailedLink
from models.accounts.revoked_tokens import RevokedToken
from models.accounts.users import RememberToken, Role, SocialIdentity, User
from models.base import Base
from models.batch.named_lock import NamedLock
from models.batch.tables import BatchPartition, BatchRun, RunState, RunTrigger
from models.catalog.tables import Ad, AdSlot, Video, ad_slot_positions
from models.figures.cache import FigureVersion
from models.figures.retention import VideoDailyRetention, VideoPeriodRetention  # noqa: F401  (registers the retention tables)
from models.figures.tables import (
    Metric,
    PeriodKind,
    RollupPeriod,
    TopVideo,
    VideoDailyStats,
    VideoPeriodStats,
)
from models.money.restatements import Restatement
from models.money.settlement import PricePlan, PriceTier, PricingBasis, VideoDailySettlement
from models.money.tables import StatementMonth  # noqa: F401  (registers §13 tables)
from models.playback.ad_rotation import AdPickHour
from models.playback.tables import AdView, PlayHistory, PlaySession, PlayStatus, RejectReason

__all__ = [
    "Ad",
    "AdPickHour",
    "AdSlot",
    "AdView",
    "Base",
    "BatchPartition",
    "BatchRun",
    "FigureVersion",
    "Metric",
    "NamedLock",
    "PeriodKind",
    "MailedLink",
    "PlayHistory",
    "PlaySession",
    "PlayStatus",
    "PricePlan",
    "PriceTier",
    "PricingBasis",
    "RejectReason",
    "RememberToken",
    "Restatement",
    "RevokedToken",
    "Role",
    "RollupPeriod",
    "RunState",
    "RunTrigger",
    "SocialIdentity",
    "TopVideo",
    "User",
    "Video",
    "VideoDailySettlement",
    "VideoDailyStats",
    "VideoPeriodStats",
    "ad_slot_positions",
]
