"""SQLAlchemy models and the queries the portal and the jobs share.

Importing this package registers every table on `Base.metadata` (alembic and the test
fixtures rely on that). It never imports `portal` or `jobs`.
"""

from models.ad_rotation import AdPickHour
from models.base import Base
from models.batch import BatchPartition, BatchRun, RunState, RunTrigger
from models.catalog import Ad, AdSlot, Video, ad_slot_positions
from models.figure_cache import FigureVersion
from models.figures.retention import VideoDailyRetention  # noqa: F401  (registers the retention tables)
from models.mailed_links import MailedLink
from models.money.tables import StatementMonth  # noqa: F401  (registers §13 tables)
from models.playback import AdView, PlayHistory, PlaySession, PlayStatus, RejectReason
from models.restatements import Restatement
from models.revoked_tokens import RevokedToken
from models.settlement import PricePlan, PriceTier, PricingBasis, VideoDailySettlement
from models.stats import (
    Metric,
    PeriodKind,
    RollupPeriod,
    TopVideo,
    VideoDailyStats,
    VideoPeriodStats,
)
from models.users import RememberToken, Role, SocialIdentity, User

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
