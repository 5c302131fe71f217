"""The §13 money API (`/api/v1`): a seller's statements, balance and payouts, and the admin
actions (finalize a month, create a payout run, read a run).

- `GET /statements`, `GET /statements/{month}`, `GET /balance`, `GET /payouts`: sellers see
  their own (another seller's `seller_id`, or a month without a statement of theirs, is 404);
  admins name the seller with `seller_id`.
- `POST /admin/statements/{month}/finalize`: once however often it is called (409
  `month_not_ready` with the days not final); mails the sellers like the console.
- `POST /admin/payout-runs` `{month}` (201; 409 when it exists or the month is not final),
  `GET /admin/payout-runs/{id}`.
Reads go through models/money/history.py and overview.py, the same as the pages.
"""

from __future__ import annotations

from datetime import UTC, datetime

from flask import jsonify
from flask.typing import ResponseReturnValue
from sqlalchemy import Connection

from models import Role, User
from models.errors import NotFound
from models.money import history, overview
from models.money.months import month_label, parse_month
from models.money.payouts import create_payout_run
from portal.api import statements_schemas as schema
from portal.api.auth import api_auth, current_api_caller, current_api_user
from portal.api.blueprint import api_bp
from portal.api.openapi import api_spec, responses, validated_json, validated_query
from portal.database import db_session
from portal.queries.money import SellerQuery
from portal.settings import settings
from portal.statements.actions import engine, finalize
from portal.statements.subject import statement_subject

SELLER_TAGS, ADMIN_TAGS = ["statements and payouts"], ["admin: statements and payouts"]
READ_REFUSALS = (401, 403, 404, 422)


def _utc(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).isoformat()


def _seller() -> User:
    """The seller the request is about (portal/statements/subject.py); 404/422 otherwise."""
    return statement_subject(current_api_user(), validated_query().seller_id)


def _payout(line: history.PayoutLine) -> dict:
    return {"month": month_label(line.month), "state": line.state, "gross": line.gross, "income_tax": line.income_tax,
            "local_tax": line.local_tax, "net": line.net, "reference": line.reference, "sent_at": _utc(line.sent_at),
            "settled_at": _utc(line.settled_at), "reason": line.reason}


@api_bp.get("/statements")
@api_auth(Role.SELLER)
@api_spec.validate(query=SellerQuery, resp=responses(schema.StatementList, *READ_REFUSALS), tags=SELLER_TAGS)
def api_statements() -> ResponseReturnValue:
    """The seller's statements, newest first (open months estimated so far)."""
    seller = _seller()
    months = history.seller_months(db_session().connection(), seller.id, settings().tz)
    return jsonify(seller_id=seller.id, statements=[{"month": month_label(m.month), "status": m.status,
                                                     "earnings": m.earnings} for m in months])


@api_bp.get("/statements/<month>")
@api_auth(Role.SELLER)
@api_spec.validate(query=SellerQuery, resp=responses(schema.StatementOut, *READ_REFUSALS), tags=SELLER_TAGS)
def api_statement(month: str) -> ResponseReturnValue:
    """One statement (`month` is YYYY-MM): lines, adjustments, earnings, the balance brought
    forward and the payout or why it was carried."""
    seller = _seller()
    when = parse_month(month)  # a malformed month: 422 bad_month
    conn = db_session().connection()
    if not history.has_statement(conn, seller.id, when, settings().tz):
        raise NotFound(f"{seller.id} has no statement of {month_label(when)}.")
    doc = history.statement_document(conn, seller, when, settings().tz)
    s = doc.statement
    return jsonify(
        seller_id=seller.id, month=month_label(s.month), status=s.status,
        days_not_final=[{"day": d.day.isoformat(), "status": d.status.value} for d in s.days_not_final],
        lines=[{"video_id": line.video_id, "title": doc.video_titles.get(line.video_id), "views": line.views,
                "ad_views": line.ad_views, "video_amount": line.video_amount, "ad_amount": line.ad_amount,
                "total": line.total} for line in s.lines],
        adjustments=[{"restatement_id": a.restatement_id, "video_id": a.video_id, "day": a.day.isoformat(),
                      "amount": a.amount} for a in s.adjustments],
        lines_total=s.lines_total, adjustments_total=s.adjustments_total, earnings=s.earnings,
        brought_forward=doc.brought_forward, balance_after=doc.balance_after,
        payout=_payout(doc.payout) if doc.payout else None)


@api_bp.get("/balance")
@api_auth(Role.SELLER)
@api_spec.validate(query=SellerQuery, resp=responses(schema.BalanceOut, *READ_REFUSALS), tags=SELLER_TAGS)
def api_balance() -> ResponseReturnValue:
    """The balance, this month's estimate and why no payout is expected (if none is)."""
    seller = _seller()
    config = settings()
    o = history.outlook(db_session().connection(), seller, config.tz, threshold_won=config.payout_threshold_won,
                        finalize_day=config.statement_finalize_day)
    return jsonify(seller_id=seller.id, balance=o.balance, this_month=o.this_month, pending=o.pending,
                   month=month_label(o.month), payout_after=o.payout_after.isoformat(), no_payout_reason=o.carry)


@api_bp.get("/payouts")
@api_auth(Role.SELLER)
@api_spec.validate(query=SellerQuery, resp=responses(schema.PayoutList, *READ_REFUSALS), tags=SELLER_TAGS)
def api_payouts() -> ResponseReturnValue:
    """Every payout and carry of the seller, newest month first."""
    seller = _seller()
    return jsonify(seller_id=seller.id, payouts=[_payout(p) for p in
                                                 history.payout_history(db_session().connection(), seller.id)])


@api_bp.post("/admin/statements/<month>/finalize")
@api_auth(Role.ADMIN)
@api_spec.validate(resp=responses(schema.FinalizeOut, 401, 403, 409, 422), tags=ADMIN_TAGS)
def api_finalize(month: str) -> ResponseReturnValue:
    """Finalize a month (once; 409 `month_not_ready` naming the days not final)."""
    result = finalize(month, current_api_user())
    return jsonify(month=month_label(result.month), finalized=result.finalized, statements=result.statements,
                   earnings=result.earnings)


def _run(conn: Connection, run_id: int) -> dict | None:
    """The run as the API shows it; None when there is no such run."""
    detail = overview.run_detail(conn, run_id)
    if detail is None:
        return None
    totals = detail.totals
    return dict(
        id=detail.id, month=month_label(detail.month), created_at=_utc(detail.created_at), gross=totals["gross"],
        taxes=totals["taxes"], net=totals["net"],
        payouts=[{"id": p.id, "seller_id": p.seller_id, "reference": p.reference, "kind": p.kind, "gross": p.gross,
                  "income_tax": p.income_tax, "local_tax": p.local_tax, "net": p.net, "state": p.state,
                  "sent_at": _utc(p.sent_at), "settled_at": _utc(p.settled_at), "failure_reason": p.failure_reason}
                 for p in detail.payouts],
        carried=[{"seller_id": c.seller_id, "balance": c.balance, "reason": c.reason} for c in detail.carries])


@api_bp.post("/admin/payout-runs")
@api_auth(Role.ADMIN)
@api_spec.validate(json=schema.PayoutRunBody, resp=responses(schema.PayoutRunOut, 401, 403, 409, 413, 422, status=201),
                   tags=ADMIN_TAGS)
def api_create_run() -> ResponseReturnValue:
    """The payout run of a final month (once: 409 `payout_run_exists`; 409 when not final)."""
    month = parse_month(validated_json().month)
    result = create_payout_run(engine(), month, threshold_won=settings().payout_threshold_won,
                               by=current_api_caller().id)
    with engine().connect() as conn:  # the request's session began before the run was committed
        return jsonify(_run(conn, result.run_id)), 201


@api_bp.get("/admin/payout-runs/<int:run_id>")
@api_auth(Role.ADMIN)
@api_spec.validate(resp=responses(schema.PayoutRunOut, 401, 403, 404), tags=ADMIN_TAGS)
def api_payout_run(run_id: int) -> ResponseReturnValue:
    """A payout run: its payouts (no account numbers) and who was carried and why."""
    run = _run(db_session().connection(), run_id)
    if run is None:
        raise NotFound(f"There is no payout run {run_id}.", code="no_such_run")
    return jsonify(run)
