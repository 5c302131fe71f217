"""Statements and payouts for sellers (SPEC §13): the dashboard's money cards, the monthly
statements (page and PDF), the payout history and the payout-details form. The rules are in
models/money/; these views only read them (models/money/history.py) and call them."""

from portal.statements.views import bp

__all__ = ["bp"]
