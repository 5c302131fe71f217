"""The seller portal (§11): dashboard, settlement history with receipts, per-video statistics.

Every figure comes from `models/figures/`, the same functions the JSON API uses.
"""

from portal.seller_portal import retention, skip_rates  # noqa: F401  (register the page's retention and skip-rate globals)
from portal.seller_portal.views import bp

__all__ = ["bp"]
