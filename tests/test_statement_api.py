"""§13 money API over a real finalized month: sellers read their own statements, balance and
payouts (another seller's is 404), admins name the seller, finalize once (409 with the days
when refused) and create a payout run once; the answers match the pages' numbers."""

from __future__ import annotations

import io
import threading

from sqlalchemy import text

from tests.ops_support import bearer
from tests.statement_support import scene_app


def _world(money_backend):  # type: ignore[no-untyped-def]
    return scene_app(money_backend, pay=False, finalize=False)


def test_the_money_api(money_backend):
    with _world(money_backend) as (scene, app, _):
        client = app.test_client()
        seller, admin, stranger = (bearer(client, u) for u in (scene.no_details, scene.admin, scene.stranger))

        refused = client.post("/api/v1/admin/statements/2026-03/finalize", headers=admin)
        assert refused.status_code == 409 and refused.get_json()["error"] == "month_not_ready"
        assert "2026-03-01" in refused.get_json()["message"]
        assert client.post("/api/v1/admin/statements/2026-3/finalize", headers=admin).status_code == 422
        assert client.post("/api/v1/admin/statements/2026-02/finalize", headers=seller).status_code == 403

        answers: list = []
        barrier = threading.Barrier(4)

        def press() -> None:
            barrier.wait()
            answers.append(client.post("/api/v1/admin/statements/2026-02/finalize", headers=admin).get_json())

        threads = [threading.Thread(target=press) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sorted(a["finalized"] for a in answers) == [False, False, False, True]
        assert [a["statements"] for a in answers if a["finalized"]] == [3]

        listing = client.get("/api/v1/statements", headers=seller).get_json()
        feb = next(s for s in listing["statements"] if s["month"] == "2026-02")
        assert feb == {"month": "2026-02", "status": "final", "earnings": scene.earnings[scene.no_details.id]}
        assert listing["statements"][0]["status"] == "estimated"

        statement = client.get("/api/v1/statements/2026-02", headers=seller).get_json()
        assert statement["status"] == "final" and statement["earnings"] == scene.earnings[scene.no_details.id]
        assert sum(line["total"] for line in statement["lines"]) == statement["lines_total"] == statement["earnings"]
        assert statement["brought_forward"] == 0 and statement["payout"] is None
        current = client.get(f"/api/v1/statements/{listing['statements'][0]['month']}", headers=seller).get_json()
        assert current["status"] == "estimated" and current["days_not_final"]

        assert client.get("/api/v1/statements/2026-02", headers=stranger).status_code == 404
        assert client.get(f"/api/v1/statements/2026-02?seller_id={scene.paid.id}", headers=seller).status_code == 404
        assert client.get(f"/api/v1/balance?seller_id={scene.paid.id}", headers=seller).status_code == 404
        assert client.get("/api/v1/statements/2026-13", headers=seller).status_code == 422
        assert client.get("/api/v1/statements", headers=admin).status_code == 422  # admins name the seller
        as_admin = client.get(f"/api/v1/statements/2026-02?seller_id={scene.paid.id}", headers=admin).get_json()
        assert as_admin["earnings"] == scene.earnings[scene.paid.id]

        balance = client.get("/api/v1/balance", headers=seller).get_json()
        assert balance["balance"] == scene.earnings[scene.no_details.id]
        assert balance["no_payout_reason"] == "no payout details are on file"

        assert client.post("/api/v1/admin/payout-runs", json={"month": "2026-03"}, headers=admin).status_code == 409
        made = client.post("/api/v1/admin/payout-runs", json={"month": "2026-02"}, headers=admin)
        assert made.status_code == 201, made.get_json()
        run = made.get_json()
        assert [p["seller_id"] for p in run["payouts"]] == [scene.paid.id]
        assert {c["seller_id"]: c["reason"] for c in run["carried"]} == {
            scene.below.id: "the balance is below the payout threshold",
            scene.no_details.id: "no payout details are on file"}
        assert "110123456789" not in str(run) and "account" not in str(run)
        again = client.post("/api/v1/admin/payout-runs", json={"month": "2026-02"}, headers=admin)
        assert again.status_code == 409 and again.get_json()["error"] == "payout_run_exists"
        assert client.get(f"/api/v1/admin/payout-runs/{run['id']}", headers=admin).get_json() == run
        assert client.get("/api/v1/admin/payout-runs/999999", headers=admin).status_code == 404
        assert client.get(f"/api/v1/admin/payout-runs/{run['id']}", headers=seller).status_code == 403

        paid = bearer(client, scene.paid)
        payouts = client.get("/api/v1/payouts", headers=paid).get_json()["payouts"]
        assert [(p["month"], p["state"]) for p in payouts] == [("2026-02", "scheduled")]
        carried = client.get("/api/v1/payouts", headers=seller).get_json()["payouts"]
        assert carried[0]["state"] == "carried" and carried[0]["gross"] == scene.earnings[scene.no_details.id]
        with money_backend.engine.connect() as conn:
            assert conn.execute(text("SELECT COUNT(*) FROM payout_runs")).scalar() == 1


def test_a_failed_payout_is_mailed_and_its_gross_returns_to_the_balance(money_backend):
    from portal.mail_outbox import mail_outbox
    from tests.ops_support import signed_in

    with scene_app(money_backend, pay=False) as (scene, app, inbox):
        admin = signed_in(app, scene.admin)
        made = admin.post("/admin/money/2026-02/payout-run", data={"csrf_token": admin.csrf}, follow_redirects=True)
        run_id = int(made.request.path.rsplit("/", 1)[1])
        lines = admin.post(f"/admin/money/runs/{run_id}/transfer.csv", data={"csrf_token": admin.csrf}) \
            .get_data(as_text=True).strip().split("\n")
        net, reference = lines[1].split(",")[3:5]

        upload = admin.post(f"/admin/money/runs/{run_id}/results", content_type="multipart/form-data", data={
            "csrf_token": admin.csrf,
            "file": (io.BytesIO(f"reference,status,amount,reason\n{reference},failed,{net},account closed\n".encode()),
                     "r.csv")}, follow_redirects=True)
        assert "0 paid, 1 failed" in upload.get_data(as_text=True)
        assert mail_outbox(app).wait_until_idle()
        failed = [m for m in inbox.to(scene.paid.email) if "failed" in m["Subject"]]
        assert len(failed) == 1
        body = failed[0].get_payload(decode=True).decode()
        assert "account closed" in body and f"₩{int(net):,}" in body and "back in your balance" in body
        balance = app.test_client().get("/api/v1/balance", headers=bearer(app.test_client(), scene.paid)).get_json()
        assert balance["balance"] == scene.earnings[scene.paid.id]


def test_one_month_syntax_for_every_month_argument():
    """models/money/months.py `month_of` is the one reading of YYYY-MM (the status API's Month
    type and the money pages alike): ASCII digits, months 1–12."""
    from datetime import date

    from models.money.months import month_of

    assert month_of("2026-11") == date(2026, 11, 1) and month_of(" 2026-02 ") == date(2026, 2, 1)
    for bad in ("2026-13", "2026-00", "٢٠٢٦-١١", "2026-1", "2026-11-01", "0000-01", ""):
        assert month_of(bad) is None, bad
