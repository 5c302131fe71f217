"""Money owed to sellers (SPEC §13): monthly statements, adjustments, the balance ledger,
withholding, payout details and payout runs. One module per rule; no Flask here."""
