"""The money questions' arguments (statements, balance, payouts: pages and API)."""

from __future__ import annotations

from portal.queries.figures import _Query


class SellerQuery(_Query):
    """`seller_id`: admins name the seller (required for them); sellers may leave it out or give
    their own id (another seller's id is 404: portal/statements/subject.py)."""
