"""The seller portal (§11): dashboard, settlement history with receipts, per-video statistics.

Every figure comes from `models/figures/`, the same functions the JSON API uses.
"""

from portal.seller_portal import (
    audience,  # noqa: F401  (registers the audience pages)
    retention,  # noqa: F401  (registers the page's retention global)
    skip_rates,  # noqa: F401  (registers the page's skip-rate global)
)
from portal.seller_portal.views import bp

__all__ = ["bp"]
