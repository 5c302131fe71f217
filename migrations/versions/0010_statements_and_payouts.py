"""statements and payouts (issue 20, SPEC §13)

- statement_months: one row per month, open or final, the lock finalization and adjustments
  serialise on, and why the last finalization attempt was refused.
- statements, statement_lines, statement_adjustments: final statements (written once).
- ledger_entries, ledger_postings: the balance ledger (every entry's postings sum to zero).
- payout_details (+ payout_details_changes), payout_holds, payout_runs, payouts,
  payout_carries, payout_transfer_exports: payouts.

Money is BIGINT whole won.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-05
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

UTC_DATETIME = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")
BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


revision: str = '0010'
down_revision: str | None = '0009'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('ledger_entries',
    sa.Column('id', BIG_ID, nullable=False),
    sa.Column('kind', sa.Enum('statement_final', 'payout', 'payout_failed', name='ledger_entry_kind', native_enum=False, create_constraint=True, length=19), nullable=False),
    sa.Column('seller_id', BIG_ID, nullable=False),
    sa.Column('month', sa.Date(), nullable=False),
    sa.Column('payout_id', BIG_ID, nullable=True),
    sa.Column('created_at', UTC_DATETIME, nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ledger_entries')),
    sa.UniqueConstraint('kind', 'month', 'seller_id', name=op.f('uq_ledger_entries_kind_month_seller_id')),
    sa.UniqueConstraint('kind', 'payout_id', name=op.f('uq_ledger_entries_kind_payout_id')),
    mysql_charset='utf8mb4',
    mysql_collate='utf8mb4_unicode_ci',
    mysql_engine='InnoDB'
    )
    with op.batch_alter_table('ledger_entries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ledger_entries_seller_id'), ['seller_id'], unique=False)

    op.create_table('ledger_postings',
    sa.Column('entry_id', BIG_ID, nullable=False),
    sa.Column('account', sa.Enum('seller_payable', 'tax_withheld', 'cash', name='ledger_account', native_enum=False, create_constraint=True, length=18), nullable=False),
    sa.Column('seller_id', BIG_ID, nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('entry_id', 'account', name=op.f('pk_ledger_postings')),
    mysql_charset='utf8mb4',
    mysql_collate='utf8mb4_unicode_ci',
    mysql_engine='InnoDB'
    )
    with op.batch_alter_table('ledger_postings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ledger_postings_seller_id_account'), ['seller_id', 'account'], unique=False)

    op.create_table('payout_carries',
    sa.Column('run_id', BIG_ID, nullable=False),
    sa.Column('seller_id', BIG_ID, nullable=False),
    sa.Column('balance', sa.BigInteger(), nullable=False),
    sa.Column('reason', sa.String(length=40), nullable=False),
    sa.PrimaryKeyConstraint('run_id', 'seller_id', name=op.f('pk_payout_carries')),
    mysql_charset='utf8mb4',
    mysql_collate='utf8mb4_unicode_ci',
    mysql_engine='InnoDB'
    )
    op.create_table('payout_details',
    sa.Column('seller_id', BIG_ID, autoincrement=False, nullable=False),
    sa.Column('legal_name', sa.String(length=100), nullable=False),
    sa.Column('kind', sa.String(length=12), nullable=False),
    sa.Column('business_number', sa.String(length=10), nullable=True),
    sa.Column('bank_code', sa.String(length=3), nullable=False),
    sa.Column('account_encrypted', sa.Text(), nullable=False),
    sa.Column('account_last4', sa.String(length=4), nullable=False),
    sa.Column('holder_name', sa.String(length=100), nullable=False),
    sa.Column('updated_at', UTC_DATETIME, nullable=False),
    sa.PrimaryKeyConstraint('seller_id', name=op.f('pk_payout_details')),
    mysql_charset='utf8mb4',
    mysql_collate='utf8mb4_unicode_ci',
    mysql_engine='InnoDB'
    )
    op.create_table('payout_details_changes',
    sa.Column('id', BIG_ID, nullable=False),
    sa.Column('seller_id', BIG_ID, nullable=False),
    sa.Column('changed_by', BIG_ID, nullable=False),
    sa.Column('changed_at', UTC_DATETIME, nullable=False),
    sa.Column('fields', sa.String(length=200), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_payout_details_changes')),
    mysql_charset='utf8mb4',
    mysql_collate='utf8mb4_unicode_ci',
    mysql_engine='InnoDB'
    )
    with op.batch_alter_table('payout_details_changes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_payout_details_changes_seller_id'), ['seller_id'], unique=False)

    op.create_table('payout_holds',
    sa.Column('id', BIG_ID, nullable=False),
    sa.Column('seller_id', BIG_ID, nullable=False),
    sa.Column('reason', sa.String(length=500), nullable=False),
    sa.Column('created_by', BIG_ID, nullable=True),
    sa.Column('created_at', UTC_DATETIME, nullable=False),
    sa.Column('released_at', UTC_DATETIME, nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_payout_holds')),
    mysql_charset='utf8mb4',
    mysql_collate='utf8mb4_unicode_ci',
    mysql_engine='InnoDB'
    )
    with op.batch_alter_table('payout_holds', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_payout_holds_seller_id'), ['seller_id'], unique=False)

    op.create_table('payout_runs',
    sa.Column('id', BIG_ID, nullable=False),
    sa.Column('month', sa.Date(), nullable=False),
    sa.Column('created_at', UTC_DATETIME, nullable=False),
    sa.Column('created_by', BIG_ID, nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_payout_runs')),
    sa.UniqueConstraint('month', name=op.f('uq_payout_runs_month')),
    mysql_charset='utf8mb4',
    mysql_collate='utf8mb4_unicode_ci',
    mysql_engine='InnoDB'
    )
    op.create_table('payout_transfer_exports',
    sa.Column('id', BIG_ID, nullable=False),
    sa.Column('run_id', BIG_ID, nullable=False),
    sa.Column('exported_by', BIG_ID, nullable=False),
    sa.Column('exported_at', UTC_DATETIME, nullable=False),
    sa.Column('rows', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_payout_transfer_exports')),
    mysql_charset='utf8mb4',
    mysql_collate='utf8mb4_unicode_ci',
    mysql_engine='InnoDB'
    )
    with op.batch_alter_table('payout_transfer_exports', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_payout_transfer_exports_run_id'), ['run_id'], unique=False)

    op.create_table('payouts',
    sa.Column('id', BIG_ID, nullable=False),
    sa.Column('run_id', BIG_ID, nullable=False),
    sa.Column('seller_id', BIG_ID, nullable=False),
    sa.Column('reference', sa.String(length=32), nullable=False),
    sa.Column('kind', sa.String(length=12), nullable=False),
    sa.Column('gross', sa.BigInteger(), nullable=False),
    sa.Column('income_tax', sa.BigInteger(), nullable=False),
    sa.Column('local_tax', sa.BigInteger(), nullable=False),
    sa.Column('net', sa.BigInteger(), nullable=False),
    sa.Column('bank_code', sa.String(length=3), nullable=False),
    sa.Column('account_encrypted', sa.Text(), nullable=False),
    sa.Column('holder_name', sa.String(length=100), nullable=False),
    sa.Column('state', sa.Enum('scheduled', 'sent', 'paid', 'failed', name='payout_state', native_enum=False, create_constraint=True, length=13), nullable=False),
    sa.Column('sent_at', UTC_DATETIME, nullable=True),
    sa.Column('settled_at', UTC_DATETIME, nullable=True),
    sa.Column('failure_reason', sa.String(length=500), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_payouts')),
    sa.UniqueConstraint('reference', name=op.f('uq_payouts_reference')),
    sa.UniqueConstraint('run_id', 'seller_id', name=op.f('uq_payouts_run_id_seller_id')),
    mysql_charset='utf8mb4',
    mysql_collate='utf8mb4_unicode_ci',
    mysql_engine='InnoDB'
    )
    with op.batch_alter_table('payouts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_payouts_seller_id'), ['seller_id'], unique=False)

    op.create_table('statement_adjustments',
    sa.Column('restatement_id', BIG_ID, autoincrement=False, nullable=False),
    sa.Column('month', sa.Date(), nullable=False),
    sa.Column('seller_id', BIG_ID, nullable=False),
    sa.Column('video_id', BIG_ID, nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('created_at', UTC_DATETIME, nullable=False),
    sa.PrimaryKeyConstraint('restatement_id', name=op.f('pk_statement_adjustments')),
    mysql_charset='utf8mb4',
    mysql_collate='utf8mb4_unicode_ci',
    mysql_engine='InnoDB'
    )
    with op.batch_alter_table('statement_adjustments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_statement_adjustments_month_seller_id'), ['month', 'seller_id'], unique=False)

    op.create_table('statement_lines',
    sa.Column('month', sa.Date(), nullable=False),
    sa.Column('seller_id', BIG_ID, nullable=False),
    sa.Column('video_id', BIG_ID, nullable=False),
    sa.Column('views', sa.BigInteger(), nullable=False),
    sa.Column('ad_views', sa.BigInteger(), nullable=False),
    sa.Column('video_amount', sa.BigInteger(), nullable=False),
    sa.Column('ad_amount', sa.BigInteger(), nullable=False),
    sa.Column('total', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('month', 'seller_id', 'video_id', name=op.f('pk_statement_lines')),
    mysql_charset='utf8mb4',
    mysql_collate='utf8mb4_unicode_ci',
    mysql_engine='InnoDB'
    )
    op.create_table('statement_months',
    sa.Column('month', sa.Date(), nullable=False),
    sa.Column('state', sa.Enum('open', 'final', name='statement_month_state', native_enum=False, create_constraint=True, length=9), nullable=False),
    sa.Column('finalized_at', UTC_DATETIME, nullable=True),
    sa.Column('finalized_by', BIG_ID, nullable=True),
    sa.Column('last_refusal', sa.String(length=1000), nullable=True),
    sa.Column('refused_at', UTC_DATETIME, nullable=True),
    sa.PrimaryKeyConstraint('month', name=op.f('pk_statement_months')),
    mysql_charset='utf8mb4',
    mysql_collate='utf8mb4_unicode_ci',
    mysql_engine='InnoDB'
    )
    op.create_table('statements',
    sa.Column('month', sa.Date(), nullable=False),
    sa.Column('seller_id', BIG_ID, nullable=False),
    sa.Column('lines_total', sa.BigInteger(), nullable=False),
    sa.Column('adjustments_total', sa.BigInteger(), nullable=False),
    sa.Column('earnings', sa.BigInteger(), nullable=False),
    sa.Column('finalized_at', UTC_DATETIME, nullable=False),
    sa.PrimaryKeyConstraint('month', 'seller_id', name=op.f('pk_statements')),
    mysql_charset='utf8mb4',
    mysql_collate='utf8mb4_unicode_ci',
    mysql_engine='InnoDB'
    )
    with op.batch_alter_table('statements', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_statements_seller_id_month'), ['seller_id', 'month'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('statements', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_statements_seller_id_month'))

    op.drop_table('statements')
    op.drop_table('statement_months')
    op.drop_table('statement_lines')
    with op.batch_alter_table('statement_adjustments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_statement_adjustments_month_seller_id'))

    op.drop_table('statement_adjustments')
    with op.batch_alter_table('payouts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_payouts_seller_id'))

    op.drop_table('payouts')
    with op.batch_alter_table('payout_transfer_exports', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_payout_transfer_exports_run_id'))

    op.drop_table('payout_transfer_exports')
    op.drop_table('payout_runs')
    with op.batch_alter_table('payout_holds', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_payout_holds_seller_id'))

    op.drop_table('payout_holds')
    with op.batch_alter_table('payout_details_changes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_payout_details_changes_seller_id'))

    op.drop_table('payout_details_changes')
    op.drop_table('payout_details')
    op.drop_table('payout_carries')
    with op.batch_alter_table('ledger_postings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ledger_postings_seller_id_account'))

    op.drop_table('ledger_postings')
    with op.batch_alter_table('ledger_entries', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ledger_entries_seller_id'))

    op.drop_table('ledger_entries')
