"""Seller pages of §13: `/statements`, `/statements/<YYYY-MM>` (and its PDF), `/payouts`,
`/account/payout-details`, and the dashboard's money cards (`money_outlook`, a template
global the dashboard includes).

A seller sees only their own money: a `seller_id` of somebody else, or a month without a
statement of theirs, is 404. Admins see any seller's with `?seller_id=`.
"""

from __future__ import annotations

from datetime import date
from functools import partial

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from models import Role, User
from models.base import utcnow
from models.catalog.cards import has_videos
from models.errors import Forbidden, NotFound
from models.money import history
from models.money.months import BadMonth, month_label, parse_month
from models.money.payout_details import (
    DetailsInput,
    InvalidPayoutDetails,
    WrongPassword,
    account_cipher,
    check_details,
    set_payout_details,
    shown_details,
)
from portal.auth import role_required
from portal.database import db_session
from portal.mail_outbox import mail_outbox
from portal.presentation import local_time
from portal.queries.money import SellerQuery
from portal.queries.parse import parse_query
from portal.settings import settings
from portal.statements.forms import PayoutDetailsForm
from portal.statements.mail import send_details_changed_mail
from portal.statements.pdf import statement_pdf
from portal.statements.subject import statement_subject

bp = Blueprint("statements", __name__)


@bp.app_template_global("month_label")
def _month_label(month) -> str:  # type: ignore[no-untyped-def]
    return month_label(month)


@bp.app_template_global("money_outlook")
def money_outlook() -> history.Outlook | None:
    """The signed-in seller's balance and this month's outlook, for the dashboard's cards
    (None for anyone else: an admin's dashboard is platform-wide; and for a seller who never had
    a video, who has no money and gets the first-run prompt instead)."""
    if not current_user.is_authenticated or current_user.role != Role.SELLER:
        return None
    if not has_videos(db_session(), current_user.id, ever=True):
        return None
    config = settings()
    return history.outlook(db_session().connection(), current_user._get_current_object(), config.tz,
                           threshold_won=config.payout_threshold_won, finalize_day=config.statement_finalize_day)


def subject() -> User:
    """Whose money the page shows: the signed-in seller, or for an admin `?seller_id=`.
    (portal/statements/subject.py)."""
    return statement_subject(current_user._get_current_object(), parse_query(SellerQuery).seller_id)


def month_or_404(value: str) -> date:
    """The month in a page's URL; a malformed one is a page that does not exist (404)."""
    try:
        return parse_month(value)
    except BadMonth:
        raise NotFound(f"{value[:20]!r} is not a month (YYYY-MM).") from None


def scope_args(seller: User) -> dict[str, int]:
    """The query arguments that keep an admin on the seller they picked."""
    return {"seller_id": seller.id} if current_user.role == Role.ADMIN else {}


@bp.get("/statements")
@role_required(Role.SELLER)
def index() -> ResponseReturnValue:
    if current_user.role == Role.ADMIN and parse_query(SellerQuery).seller_id is None:
        return redirect(url_for("ops_money.index"))  # admins start from the months
    seller = subject()
    months = history.seller_months(db_session().connection(), seller.id, settings().tz)
    return render_template("statements/list.html", seller=seller, months=months, scope=scope_args(seller))


def document_for(seller: User, month_text: str) -> history.Document:
    """The seller's statement of the month, or 404 when they have none (another seller's final
    month, a future month)."""
    month = month_or_404(month_text)
    conn = db_session().connection()
    if not history.has_statement(conn, seller.id, month, settings().tz):
        raise NotFound(f"There is no statement of {month_label(month)}.")
    return history.statement_document(conn, seller, month, settings().tz)


@bp.get("/statements/<month>")
@role_required(Role.SELLER)
def detail(month: str) -> ResponseReturnValue:
    seller = subject()
    doc = document_for(seller, month)
    return render_template("statements/detail.html", doc=doc, seller=seller, scope=scope_args(seller),
                           threshold=settings().payout_threshold_won, tz_name=settings().timezone)


@bp.get("/statements/<month>/pdf")
@role_required(Role.SELLER)
def pdf(month: str) -> ResponseReturnValue:
    """The statement as a PDF, from the same template as the page."""
    seller = subject()
    doc = document_for(seller, month)
    body = statement_pdf(doc, threshold=settings().payout_threshold_won, tz_name=settings().timezone,
                         printed=local_time(utcnow()))
    name = f"paysystem-statement-{month_label(doc.statement.month)}-{seller.id}.pdf"
    return body, 200, {"Content-Type": "application/pdf", "Content-Disposition": f'attachment; filename="{name}"',
                       "Cache-Control": "private, no-store"}


@bp.get("/payouts")
@role_required(Role.SELLER)
def payouts() -> ResponseReturnValue:
    seller = subject()
    lines = history.payout_history(db_session().connection(), seller.id)
    return render_template("statements/payouts.html", seller=seller, lines=lines, scope=scope_args(seller))


def _details_input(form: PayoutDetailsForm) -> DetailsInput:
    return DetailsInput(legal_name=form.legal_name.data or "", kind=form.kind.data or "",
                        bank_code=form.bank_code.data or "", account_number=form.account_number.data or "",
                        holder_name=form.holder_name.data or "", business_number=form.business_number.data or None)


@bp.route("/account/payout-details", methods=["GET", "POST"])
@role_required(Role.SELLER)
def payout_details() -> ResponseReturnValue:
    """The payout details: each refusal next to its field, the password asked again, only the
    account's last 4 digits ever shown (the number typed is not sent back, even on a refusal),
    and a change recorded and mailed to the seller."""
    if current_user.role != Role.SELLER:
        raise Forbidden("Payout details are the seller's own; admins see their last 4 digits in the console.")
    session = db_session()
    shown = shown_details(session, current_user.id)
    form = PayoutDetailsForm()
    if request.method == "GET" and shown is not None:
        form.legal_name.data, form.kind.data, form.business_number.data = shown.legal_name, shown.kind, shown.business_number
        form.bank_code.data, form.holder_name.data = shown.bank_code, shown.holder_name
    status = 200
    if form.validate_on_submit():
        details = _details_input(form)
        try:
            check_details(details)
            changed = set_payout_details(session, account_cipher(settings().payout_details_keys,
                                                                 settings().secret_key),
                                         current_user._get_current_object(), form.password.data or "", details)
        except InvalidPayoutDetails as exc:
            for name, message in exc.fields.items():
                getattr(form, name).errors = [*getattr(form, name).errors, message[0].upper() + message[1:] + "."]
            status = 422
        except WrongPassword:
            form.password.errors = ["The password is not right."]
            status = 422
        else:
            if changed.fields:
                mail_outbox().submit(partial(send_details_changed_mail, current_user.id, changed.fields,
                                             changed.changed_at))
                flash("Your payout details were saved; we mailed you a note of the change.", "success")
            else:
                flash("Nothing changed.", "info")
            return redirect(url_for("statements.payout_details"))
    elif request.method == "POST":
        status = 422
    form.account_number.data = ""
    form.password.data = ""
    return render_template("statements/payout_details.html", form=form, shown=shown), status
