"""Statements and payouts in the operations console (`/admin/money`, SPEC §13): each month's
state, totals and refusal with a Finalize button; a month's sellers (earnings, paid or why
carried) with the button that creates its payout run; a run's payouts with the transfer-file
download (admins only, every download logged) and the bank's result upload (validated as a
whole: every problem listed, nothing applied); holds placed and released.

The rules are the services' (models/money/); finalizing and applying results go through
portal/statements/actions.py, which also hands the mails to the outbox.
"""

from __future__ import annotations

from typing import TypeVar

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from models import Role, User
from models.errors import DomainError, NotFound
from models.money import overview
from models.money.months import month_label
from models.money.payout_details import account_cipher
from models.money.payouts import (
    BadResultFile,
    create_payout_run,
    place_hold,
    release_hold,
    transfer_file,
)
from models.money.statements import MonthNotReady
from portal.auth import role_required
from portal.database import db_session
from portal.queries.base import LenientQuery
from portal.queries.ops import FinalizeForm, HoldForm
from portal.queries.parse import INVALID_STATUS, RequestInvalid, parse_query
from portal.settings import settings
from portal.statements.actions import apply_results, engine, finalize
from portal.statements.views import month_or_404

bp = Blueprint("ops_money", __name__, url_prefix="/admin/money")
F = TypeVar("F", bound=LenientQuery)
RESULT_LIMIT = 5 * 1024 * 1024  # a bank result file for a few hundred thousand payouts


@bp.get("/")
@role_required(Role.ADMIN)
def index() -> ResponseReturnValue:
    return _index_page()


def _index_page(status: int = 200) -> ResponseReturnValue:
    conn = db_session().connection()
    return render_template("ops/money.html", months=overview.months(conn), holds=overview.open_holds(conn)), status


def _form(model: type[F]) -> F | None:
    """The posted console form read by its model, or None: the refusal (the one 422
    `invalid_request`) is flashed, for the view to answer with the console page beside the forms."""
    try:
        return parse_query(model, request.form)
    except RequestInvalid as exc:
        flash(exc.message, "error")
        return None


@bp.get("/<month>")
@role_required(Role.ADMIN)
def month(month: str) -> ResponseReturnValue:
    when = month_or_404(month)
    conn = db_session().connection()
    row = overview.month_row(conn, when)
    return render_template("ops/money_month.html", month=when, row=row, sellers=overview.month_sellers(conn, when))


@bp.post("/finalize")
@role_required(Role.ADMIN)
def finalize_month_view() -> ResponseReturnValue:
    """Finalize the month of the form (once however often it is pressed); a refusal is shown
    with its reason, which is also recorded for the console and /healthz/batch."""
    form = _form(FinalizeForm)
    if form is None:
        return _index_page(INVALID_STATUS)
    try:
        result = finalize(month_label(form.month), current_user._get_current_object())
    except MonthNotReady as exc:
        flash(exc.message, "error")
        return redirect(url_for("ops_money.index"))
    if result.finalized:
        flash(f"{month_label(result.month)} is final: {result.statements} statements; the sellers are mailed.", "success")
    else:
        flash(f"{month_label(result.month)} was already final: nothing changed.", "info")
    return redirect(url_for("ops_money.month", month=month_label(result.month)))


@bp.post("/<month>/payout-run")
@role_required(Role.ADMIN)
def create_run(month: str) -> ResponseReturnValue:
    when = month_or_404(month)
    try:
        run = create_payout_run(engine(), when, threshold_won=settings().payout_threshold_won, by=current_user.id)
    except DomainError as exc:  # flashed on the page it returns to
        flash(exc.message, "error")
        return redirect(url_for("ops_money.month", month=month_label(when)))
    flash(f"Payout run of {month_label(when)}: {run.payouts} payouts, {len(run.carried)} carried.", "success")
    return redirect(url_for("ops_money.run", run_id=run.run_id))


@bp.get("/runs/<int:run_id>")
@role_required(Role.ADMIN)
def run(run_id: int) -> ResponseReturnValue:
    detail = overview.run_detail(db_session().connection(), run_id)
    if detail is None:
        raise NotFound(f"There is no payout run {run_id}.")
    return render_template("ops/money_run.html", run=detail, problems=None)


@bp.post("/runs/<int:run_id>/transfer.csv")
@role_required(Role.ADMIN)
def transfer(run_id: int) -> ResponseReturnValue:
    """The bank transfer file (decrypted account numbers: admins only, logged, never cached);
    its scheduled payouts become sent."""
    config = settings()
    body = transfer_file(engine(), account_cipher(config.payout_details_keys, config.secret_key), run_id,
                         current_user._get_current_object())
    return body, 200, {"Content-Type": "text/csv; charset=utf-8", "Cache-Control": "no-store",
                       "Content-Disposition": f'attachment; filename="paysystem-transfer-run-{run_id}.csv"'}


@bp.post("/runs/<int:run_id>/results")
@role_required(Role.ADMIN)
def results(run_id: int) -> ResponseReturnValue:
    """Apply the bank's result CSV: all of it or none, every problem listed."""
    detail = overview.run_detail(db_session().connection(), run_id)
    if detail is None:
        raise NotFound(f"There is no payout run {run_id}.")
    upload = request.files.get("file")
    problems: list[str] = []
    if upload is None or not upload.filename:
        problems = ["Choose the bank's result file (CSV: reference,status,amount,reason)."]
    else:
        raw = upload.read(RESULT_LIMIT + 1)
        try:
            content = raw.decode("utf-8-sig") if len(raw) <= RESULT_LIMIT else None
        except UnicodeDecodeError:
            content = None
        if content is None:
            problems = ["The file must be UTF-8 text of at most 5 MB."]
        else:
            try:
                settled = apply_results(content)
            except BadResultFile as exc:
                problems = [p.strip() for p in exc.message.removeprefix("nothing was applied:").split(";")]
            else:
                flash(f"Applied: {len(settled.paid)} paid, {len(settled.failed)} failed; the sellers are mailed.",
                      "success")
                return redirect(url_for("ops_money.run", run_id=run_id))
    return render_template("ops/money_run.html", run=detail, problems=problems), 422


@bp.post("/holds")
@role_required(Role.ADMIN)
def hold() -> ResponseReturnValue:
    form = _form(HoldForm)
    if form is None:
        return _index_page(INVALID_STATUS)
    seller = db_session().get(User, form.seller_id)
    if seller is None or seller.role != Role.SELLER:
        flash(f"There is no seller {form.seller_id}.", "error")
        return redirect(url_for("ops_money.index"))
    try:
        place_hold(db_session(), seller.id, form.reason, current_user._get_current_object())
    except DomainError as exc:  # flashed on the page it returns to
        flash(exc.message, "error")
    else:
        flash(f"Payouts of {seller.display_name} are on hold.", "success")
    return redirect(url_for("ops_money.index"))


@bp.post("/holds/<int:hold_id>/release")
@role_required(Role.ADMIN)
def release(hold_id: int) -> ResponseReturnValue:
    released = release_hold(db_session(), hold_id, current_user._get_current_object())
    flash("The hold is released." if released else "That hold was already released.", "success" if released else "info")
    return redirect(url_for("ops_money.index"))
