"""§13 in the operations console over real batch output: finalize (refused with the reason,
once under parallel presses, sellers mailed once), the payout run (once), the transfer file
(admins only, logged), the result upload (validated whole, every problem listed, nothing
half-applied), holds, and /healthz/batch naming a refused month."""

from __future__ import annotations

import html
import io
import re
import threading

import pytest
from sqlalchemy import text

from portal.mail_outbox import mail_outbox
from tests.ops_support import signed_in
from tests.statement_support import scene_app


@pytest.fixture(scope="module")
def world(money_backend):
    with scene_app(money_backend, pay=False, finalize=False) as made:
        yield made


def _one(money_backend, sql, **params):
    with money_backend.engine.connect() as conn:
        return conn.execute(text(sql), params).scalar()


def _page(client, url):
    return client.get(url).get_data(as_text=True)


def test_finalize_is_refused_with_the_reason_then_happens_once_under_parallel_presses(world, money_backend):
    scene, app, inbox = world
    admin = signed_in(app, scene.admin)
    refused = admin.post("/admin/money/finalize", data={"csrf_token": admin.csrf, "month": "2026-03"},
                         follow_redirects=True)
    body = refused.get_data(as_text=True)
    assert "2026-03 was not finalized" in body and "not final" in body and "2026-03-01" in body
    assert 'data-month="2026-03" data-state="open"' in body and "data-refusal" in body
    health = app.test_client().get("/healthz/batch").get_json()
    assert [r["month"] for r in health["open_refusals"]] == ["2026-03"]
    assert "2026-03-01" in health["open_refusals"][0]["reason"]
    bad = admin.post("/admin/money/finalize", data={"csrf_token": admin.csrf, "month": "13-2026"})
    # The one refusal of a bad value (issue 19): 422, the console again with the reason naming the field.
    assert bad.status_code == 422 and "month: Value error, must look like 2026-11" in html.unescape(bad.get_data(as_text=True))

    clients = [signed_in(app, scene.admin) for _ in range(4)]
    barrier = threading.Barrier(len(clients))
    answers: list[str] = []

    def press(client):  # type: ignore[no-untyped-def]
        barrier.wait()
        answers.append(client.post("/admin/money/finalize", data={"csrf_token": client.csrf, "month": "2026-02"},
                                   follow_redirects=True).get_data(as_text=True))

    threads = [threading.Thread(target=press, args=(c,)) for c in clients]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum("2026-02 is final: 3 statements" in a for a in answers) == 1
    assert sum("2026-02 was already final" in a for a in answers) == 3
    assert _one(money_backend, "SELECT COUNT(*) FROM statements WHERE month = '2026-02-01'") == 3
    assert _one(money_backend, "SELECT COUNT(*) FROM ledger_entries WHERE kind = 'statement_final'") == 3
    for seller in (scene.paid, scene.below, scene.no_details):
        mail = inbox.wait_for(seller.email)
        assert "2026-02 is final" in mail["Subject"]
        assert f"₩{scene.earnings[seller.id]:,}" in mail.get_payload(decode=True).decode()
    assert mail_outbox(app).wait_until_idle()
    assert len([m for m in inbox.messages if "is final" in m["Subject"]]) == 3  # once each, not per press
    month_page = _page(admin, "/admin/money/2026-02")
    assert 'data-month-state="final"' in month_page and month_page.count('data-outcome="no run yet"') == 3


def test_payout_run_transfer_file_and_result_upload(world, money_backend):
    scene, app, inbox = world
    admin = signed_in(app, scene.admin)
    made = admin.post("/admin/money/2026-02/payout-run", data={"csrf_token": admin.csrf}, follow_redirects=True)
    body = made.get_data(as_text=True)
    assert "1 payouts, 2 carried" in body
    assert "below the payout threshold" in body and "no payout details are on file" in body
    run_id = int(re.search(r"Payout run (\d+)", body).group(1))
    again = admin.post("/admin/money/2026-02/payout-run", data={"csrf_token": admin.csrf}, follow_redirects=True)
    assert "already exists" in again.get_data(as_text=True)
    assert _one(money_backend, "SELECT COUNT(*) FROM payout_runs") == 1

    seller = signed_in(app, scene.paid)
    assert seller.post(f"/admin/money/runs/{run_id}/transfer.csv", data={"csrf_token": seller.csrf}).status_code == 403
    assert seller.get(f"/admin/money/runs/{run_id}").status_code == 403
    csv_answer = admin.post(f"/admin/money/runs/{run_id}/transfer.csv", data={"csrf_token": admin.csrf})
    assert csv_answer.status_code == 200 and csv_answer.mimetype == "text/csv"
    assert csv_answer.headers["Cache-Control"] == "no-store"
    lines = csv_answer.get_data(as_text=True).strip().split("\n")
    assert lines[0] == "bank_code,account_number,holder,net,reference" and "110123456789" in lines[1]
    reference, net = lines[1].split(",")[4], int(lines[1].split(",")[3])
    assert _one(money_backend, "SELECT COUNT(*) FROM payout_transfer_exports WHERE exported_by = :a", a=scene.admin.id) == 1
    assert "Downloaded by admin" in _page(admin, f"/admin/money/runs/{run_id}")

    def upload(content: str):  # type: ignore[no-untyped-def]
        return admin.post(f"/admin/money/runs/{run_id}/results", content_type="multipart/form-data",
                          data={"csrf_token": admin.csrf, "file": (io.BytesIO(content.encode()), "results.csv")},
                          follow_redirects=True)

    bad = upload(f"reference,status,amount,reason\n{reference},paid,{net + 1},\nPS-000000-9,paid,5,\n")
    body = bad.get_data(as_text=True)
    assert bad.status_code == 422 and "Nothing was applied" in body
    assert "does not match" in body and "unknown reference" in body  # every problem listed
    assert _one(money_backend, "SELECT state FROM payouts") == "sent"
    assert upload("ref,status\n").status_code == 422
    good = upload(f"reference,status,amount,reason\n{reference},paid,{net},\n")
    assert good.status_code == 200 and "1 paid, 0 failed" in good.get_data(as_text=True)
    assert _one(money_backend, "SELECT state FROM payouts") == "paid"
    assert mail_outbox(app).wait_until_idle()
    paid_mails = [m for m in inbox.to(scene.paid.email) if "was paid" in m["Subject"]]
    assert len(paid_mails) == 1 and f"₩{net:,}" in paid_mails[0].get_payload(decode=True).decode()


def test_holds_are_placed_and_released(world, money_backend):
    scene, app, _ = world
    admin = signed_in(app, scene.admin)
    placed = admin.post("/admin/money/holds", data={"csrf_token": admin.csrf, "seller_id": str(scene.below.id),
                                                    "reason": "identity check"}, follow_redirects=True)
    body = placed.get_data(as_text=True)
    assert "on hold" in body and "identity check" in body
    hold_id = _one(money_backend, "SELECT id FROM payout_holds WHERE released_at IS NULL")
    assert "payouts are on hold" in _page(signed_in(app, scene.below), "/dashboard")
    assert "needs a reason" in admin.post("/admin/money/holds", data={"csrf_token": admin.csrf, "seller_id": str(scene.below.id),
                                                                      "reason": " "}, follow_redirects=True).get_data(as_text=True)
    assert "no seller" in admin.post("/admin/money/holds", data={"csrf_token": admin.csrf, "seller_id": "999999999"},
                                     follow_redirects=True).get_data(as_text=True)
    for hostile in ("²", "9" * 25, "-1", ""):
        refused = admin.post("/admin/money/holds", data={"csrf_token": admin.csrf, "seller_id": hostile, "reason": "x"})
        assert refused.status_code == 422 and "seller_id:" in refused.get_data(as_text=True), hostile
    released = admin.post(f"/admin/money/holds/{hold_id}/release", data={"csrf_token": admin.csrf}, follow_redirects=True)
    assert "released" in released.get_data(as_text=True)
    assert _one(money_backend, "SELECT COUNT(*) FROM payout_holds WHERE released_at IS NULL") == 0
