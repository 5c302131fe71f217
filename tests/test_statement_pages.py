"""§13 seller pages over a real finalized and paid month: statements, payouts, the dashboard's
money cards and the payout-details form (field messages, password, last 4 digits, mail)."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from sqlalchemy import text

from models import Role
from tests.ops_support import signed_in
from tests.statement_support import ACCOUNT, scene_app
from tests.support import TEST_PASSWORD


@pytest.fixture(scope="module")
def world(money_backend):
    with scene_app(money_backend) as made:
        yield made


def _text(response) -> str:  # type: ignore[no-untyped-def]
    return response.get_data(as_text=True)


def test_a_seller_sees_their_statements_and_nobody_elses(world):
    scene, app, _ = world
    paid = signed_in(app, scene.paid)
    listing = _text(paid.get("/statements"))
    assert 'data-month="2026-02"' in listing and f"₩{scene.earnings[scene.paid.id]:,}" in listing

    page = paid.get("/statements/2026-02")
    assert page.status_code == 200
    body = _text(page)
    assert 'data-statement-status>final<' in body and scene.paid.display_name in body
    assert f"₩{scene.earnings[scene.paid.id]:,}" in body
    assert 'data-payout="paid"' in body and "Asia/Seoul" in body  # the payout's date, labelled
    assert re.search(r'data-net>₩[\d,]+<', body)

    below = _text(signed_in(app, scene.below).get("/statements/2026-02"))
    assert "data-carried" in below and "below the payout threshold" in below and "₩" in below
    no_details = _text(signed_in(app, scene.no_details).get("/statements/2026-02"))
    assert "no payout details are on file" in no_details

    # Another seller's month, a forged seller id, nonsense and the future: all 404.
    assert signed_in(app, scene.stranger).get("/statements/2026-02").status_code == 404
    assert paid.get(f"/statements/2026-02?seller_id={scene.below.id}").status_code == 404
    assert paid.get(f"/statements?seller_id={scene.below.id}").status_code == 404
    assert paid.get(f"/payouts?seller_id={scene.below.id}").status_code == 404
    assert paid.get("/statements/2026-13").status_code == 404
    assert paid.get("/statements/2031-01").status_code == 404
    admin = signed_in(app, scene.admin)
    assert admin.get(f"/statements/2026-02?seller_id={scene.below.id}").status_code == 200
    assert admin.get(f"/statements/2026-02?seller_id={scene.admin.id}").status_code == 404


def test_the_current_month_is_estimated_and_names_the_days_not_computed(world):
    scene, app, _ = world
    client = signed_in(app, scene.paid)
    months = re.findall(r'data-month="(\d{4}-\d{2})"', _text(client.get("/statements")))
    current = months[0]
    assert current > "2026-02" and "2026-02" in months
    body = _text(client.get(f"/statements/{current}"))
    assert "data-statement-status>estimated<" in body and "not computed yet" in body
    assert re.search(r"\d{4}-\d{2}-\d{2} \((pending|live|stale)\)", body)


def test_payout_history(world):
    scene, app, _ = world
    paid = _text(signed_in(app, scene.paid).get("/payouts"))
    assert 'data-state="paid"' in paid and "Asia/Seoul" in paid
    carried = _text(signed_in(app, scene.no_details).get("/payouts"))
    assert 'data-state="carried"' in carried and "no payout details" in carried


def test_the_dashboard_shows_the_balance_and_why_no_payout_is_expected(world):
    scene, app, _ = world
    body = _text(signed_in(app, scene.no_details).get("/dashboard"))
    assert 'data-card="balance"' in body
    assert f"data-balance>₩{scene.earnings[scene.no_details.id]:,}<" in body  # carried, still owed
    assert 'data-payout-outlook="none"' in body and "no payout details" in body
    paid = _text(signed_in(app, scene.paid).get("/dashboard"))
    assert "data-balance>₩0<" in paid and "below the payout threshold" in paid


def test_payout_details_form(world, money_backend):
    scene, app, inbox = world
    client = signed_in(app, scene.no_details)
    assert 'name="account_number"' in _text(client.get("/account/payout-details"))
    form = {"csrf_token": client.csrf, "legal_name": "", "kind": "business", "business_number": "1248100997",
            "bank_code": "088", "account_number": "12-34", "holder_name": "이영희", "password": TEST_PASSWORD}
    refused = client.post("/account/payout-details", data=form)
    body = _text(refused)
    assert refused.status_code == 422
    for field, message in [("legal_name", "legal name is required"), ("business_number", "business registration"),
                           ("account_number", "10 to 16 digits")]:
        # the message follows its own field (the form's next label starts after it)
        after = body[body.index(f'name="{field}"'):]
        assert message in after[:after.index("<label", 10) if "<label" in after[10:] else None], field
    assert 'value="12-34"' not in body

    wrong = client.post("/account/payout-details", data={**form, "legal_name": "이영희", "kind": "individual",
                                                         "account_number": "333-444-5556667", "password": "nope"})
    body = _text(wrong)
    assert wrong.status_code == 422 and "password is not right" in body and "3334445556667" not in body
    assert "333-444-5556667" not in body

    ok = client.post("/account/payout-details", data={**form, "legal_name": "이영희", "kind": "individual",
                                                      "account_number": "333-444-5556667"})
    assert ok.status_code == 302
    page = _text(client.get("/account/payout-details"))
    assert "ending in 6667" in page and "5556667" not in page and "saved" in page
    with money_backend.engine.connect() as conn:
        assert conn.execute(text("SELECT fields FROM payout_details_changes WHERE seller_id = :s"),
                            {"s": scene.no_details.id}).scalar().startswith("legal_name")
    mail = inbox.wait_for(scene.no_details.email)
    assert "payout details" in mail["Subject"] and "account number" in mail.get_payload(decode=True).decode()
    assert "5556667" not in mail.get_payload(decode=True).decode()

    admin = signed_in(app, scene.admin)
    assert admin.get("/account/payout-details").status_code == 403
    assert ACCOUNT.replace("-", "") not in _text(signed_in(app, scene.paid).get("/statements/2026-02"))
    assert scene.no_details.role == Role.SELLER


def test_the_statement_pdf_is_a_pdf_with_the_month_and_a_korean_title(world, money_backend, tmp_path):
    import shutil
    import subprocess

    scene, app, _ = world
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext is not installed (apt-get install -y poppler-utils): cannot read the PDF's text")
    with money_backend.engine.begin() as conn:
        video = conn.execute(text("SELECT video_id FROM statement_lines WHERE seller_id = :s ORDER BY video_id"),
                             {"s": scene.paid.id}).scalars().first()
        conn.execute(text("UPDATE videos SET title = '서울의 봄 여행기' WHERE id = :v"), {"v": video})
    client = signed_in(app, scene.paid)
    assert "/statements/2026-02/pdf" in _text(client.get("/statements/2026-02"))
    response = client.get("/statements/2026-02/pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.data.startswith(b"%PDF-")
    path = tmp_path / "statement.pdf"
    path.write_bytes(response.data)
    words = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True).stdout
    assert "Statement 2026-02" in words and "서울의 봄 여행기" in words
    assert f"₩{scene.earnings[scene.paid.id]:,}" in words and "paid" in words
    assert signed_in(app, scene.stranger).get("/statements/2026-02/pdf").status_code == 404
    assert client.get(f"/statements/2026-02/pdf?seller_id={scene.below.id}").status_code == 404
    out = Path(os.environ.get("SCREENSHOT_DIR", "/tmp/paysystem-screenshots"))
    out.mkdir(parents=True, exist_ok=True)
    subprocess.run(["pdftoppm", "-png", "-r", "60", "-singlefile", str(path), str(out / "statement-pdf")], check=True)
