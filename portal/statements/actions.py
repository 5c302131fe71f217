"""The §13 admin actions as the console and the API both perform them: call the service,
then hand the mails it implies to the outbox (statement final to each seller of a month
finalized now — not on a second press, which finalizes nothing —, payout paid, payout
failed). One home, so a page and an API call can never mail differently."""

from __future__ import annotations

from functools import partial

from flask import url_for
from sqlalchemy import Engine, text

from models.accounts.users import User
from models.money.months import month_label
from models.money.payouts import Settled, import_results
from models.money.statements import FinalizeResult, finalize_month
from portal.database import db_session
from portal.mail_outbox import mail_outbox
from portal.settings import settings
from portal.statements.mail import (
    send_payout_failed_mail,
    send_payout_paid_mail,
    send_statement_final_mail,
)


def engine() -> Engine:
    """The portal's engine (the money services commit on connections of their own)."""
    return db_session().get_bind()  # type: ignore[return-value]


def finalize(month: str, admin: User) -> FinalizeResult:
    """Finalize `month` (MonthNotReady with the reason when refused) and mail every seller
    whose statement this call made final."""
    result = finalize_month(engine(), month, settings().tz, by=admin.id)
    if result.finalized:
        label = month_label(result.month)
        link = settings().public_url(url_for("statements.detail", month=label))
        with engine().connect() as conn:
            rows = conn.execute(text("SELECT seller_id, earnings FROM statements WHERE month = :m"),
                                {"m": result.month}).all()
        outbox = mail_outbox()
        for seller, earnings in rows:
            outbox.submit(partial(send_statement_final_mail, int(seller), label, int(earnings), link))
    return result


def apply_results(content: str) -> Settled:
    """Apply a bank result CSV (all rows or none: BadResultFile lists the problems) and mail
    each seller whose payout it marked paid or failed."""
    settled = import_results(engine(), content)
    outbox = mail_outbox()
    for reference, seller, net in settled.paid:
        outbox.submit(partial(send_payout_paid_mail, seller, reference, net))
    for reference, seller, net, reason in settled.failed:
        outbox.submit(partial(send_payout_failed_mail, seller, reference, net, reason))
    return settled
