"""Benchmark of §13 money on MariaDB: `.venv/bin/python -m bench.statements`.

1. generate a whole calendar month (last month) of play sessions and ad views for 10,000
   videos of 1,000 sellers into a scratch database, and compute every day of it with the
   real batch (inline: this is set-up, not measured);
2. give 95 % of the sellers payout details (encrypted account numbers, written in bulk) and
   hold 1 % of them, as set-up;
3. time the finalization of the month (lines, statements and ledger entries of every
   seller, in one transaction), then its payouts: the payout run (withholding and ledger
   entries of every payee), the transfer file (decrypting every account), and the bank's
   result file (all paid but 1 % failed, validated whole and applied in one transaction);
4. check the ledger (`ledger.check`) and print a table; the target is ≤ 5 s for the
   finalization and ≤ 5 s for the payouts.

Servers as in bench/dataset.py (BENCH_DATABASE_URL, BENCH_REDIS_URL); the scratch database
and Redis DB are removed afterwards. Do not run it while another benchmark runs:
`flock /tmp/paysystem-bench.lock .venv/bin/python -m bench.statements`.
"""

from __future__ import annotations

import argparse
import time
from datetime import timedelta

from sqlalchemy import insert, text

from bench.dataset import bench_settings, scratch_database, scratch_redis
from jobs.engine import engine_for
from jobs.inline import run_days_inline
from models.accounts.users import User
from models.batch.tables import RunTrigger
from models.business_time import days_between, today
from models.money import ledger
from models.money.payout_details import account_cipher, encrypt_account
from models.money.payouts import create_payout_run, import_results, transfer_file
from models.money.statements import finalize_month
from models.money.tables import PayoutDetails, PayoutHold
from paysystem.synthetic_data import GenerateSpec, generate

TARGET_SECONDS = 5.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--videos", type=int, default=10_000)
    parser.add_argument("--sellers", type=int, default=1_000)
    parser.add_argument("--viewers", type=int, default=20_000)
    parser.add_argument("--sessions", type=int, default=300_000, help="play sessions over the month")
    parser.add_argument("--ad-views", type=int, default=300_000)
    parser.add_argument("--threshold", type=int, default=1_000,
                        help="payout threshold in won (the synthetic month earns a few thousand won a seller, so "
                             "the default 10,000 would carry nearly everyone and time no payouts)")
    args = parser.parse_args()

    with scratch_redis() as redis_url, scratch_database("statements") as url:
        settings = bench_settings(url, redis_url)
        engine = engine_for(url)
        last = today(settings.tz).replace(day=1) - timedelta(days=1)
        month = last.replace(day=1)
        days = days_between(month, last)
        print(f"set-up: {args.sessions:,} sessions + {args.ad_views:,} ad views in {month:%Y-%m} for "
              f"{args.videos:,} videos of {args.sellers:,} sellers, and the batch of its {len(days)} days ...",
              flush=True)
        generate(engine, GenerateSpec(args.videos, args.sellers, args.viewers, len(days), args.sessions,
                                      args.ad_views, 1, last), settings.tz)
        run_days_inline(settings, days, RunTrigger.BACKFILL, use_cache=False)
        cipher = account_cipher((), settings.secret_key)
        with engine.begin() as conn:
            sellers = conn.execute(text("SELECT id FROM users WHERE role = 'seller' ORDER BY id")).scalars().all()
            conn.execute(text("UPDATE users SET email_verified_at = UTC_TIMESTAMP() WHERE role = 'seller'"))
            admin = conn.execute(insert(User).values(email="bench-admin@example.test", display_name="bench admin",
                                                     role="admin", is_active=True)).inserted_primary_key[0]
            token = encrypt_account(cipher, "110123456789")  # one token: the set-up is not what is measured
            conn.execute(insert(PayoutDetails), [
                dict(seller_id=s, legal_name=f"Seller {s}", kind="business" if s % 10 == 0 else "individual",
                     business_number="1248100998" if s % 10 == 0 else None, bank_code="088",
                     account_encrypted=token, account_last4="6789", holder_name=f"Seller {s}")
                for i, s in enumerate(sellers) if i % 20])
            conn.execute(insert(PayoutHold), [dict(seller_id=s, reason="bench", created_by=admin)
                                              for i, s in enumerate(sellers) if i % 100 == 1])
            settlements = conn.execute(text("SELECT COUNT(*) FROM video_daily_settlements")).scalar()
        with engine.connect() as conn:
            admin_user = conn.execute(text("SELECT * FROM users WHERE id = :a"), {"a": admin}).one()
        admin_row = User(id=admin_user.id, role="admin", email=admin_user.email)

        stages: list[tuple[str, float, int]] = []
        t0 = time.perf_counter()
        result = finalize_month(engine, month, settings.tz)
        stages.append((f"finalize {month:%Y-%m} ({settlements:,} daily settlements)", time.perf_counter() - t0,
                       result.statements))
        t0 = time.perf_counter()
        run = create_payout_run(engine, month, threshold_won=args.threshold, by=admin)
        stages.append((f"payout run (threshold {args.threshold:,} won; {len(run.carried):,} carried)",
                       time.perf_counter() - t0, run.payouts))
        t0 = time.perf_counter()
        csv_text = transfer_file(engine, cipher, run.run_id, admin_row)
        rows = csv_text.strip().split("\n")[1:]
        stages.append(("transfer file", time.perf_counter() - t0, len(rows)))
        results = ["reference,status,amount,reason"]
        for i, row in enumerate(rows):
            net, reference = row.split(",")[3:5]
            results.append(f"{reference},failed,{net},account closed" if i % 100 == 7 else f"{reference},paid,{net},")
        t0 = time.perf_counter()
        settled = import_results(engine, "\n".join(results) + "\n")
        stages.append((f"result file ({len(settled.failed)} failed)", time.perf_counter() - t0,
                       len(settled.paid) + len(settled.failed)))
        t0 = time.perf_counter()
        with engine.connect() as conn:
            problems = ledger.check(conn)
        check_s = time.perf_counter() - t0
        engine.dispose()

    print()
    print(f"{'stage':<52} {'seconds':>9} {'rows':>9}")
    print("-" * 72)
    for name, seconds, count in stages:
        print(f"{name:<52} {seconds:>9.2f} {count:>9,}")
    finalize_s, payouts_s = stages[0][1], sum(s for _, s, _ in stages[1:])
    print("-" * 72)
    print(f"{'finalization (target ≤ 5 s)':<52} {finalize_s:>9.2f} {'ok' if finalize_s <= TARGET_SECONDS else 'OVER':>9}")
    print(f"{'payouts: run + transfer + results (target ≤ 5 s)':<52} {payouts_s:>9.2f} "
          f"{'ok' if payouts_s <= TARGET_SECONDS else 'OVER':>9}")
    print(f"{'ledger check (not timed against the target)':<52} {check_s:>9.2f} "
          f"{'ok' if not problems else str(len(problems)) + ' bad':>9}")
    if problems:
        raise SystemExit("ledger check failed:\n" + "\n".join(problems[:20]))


if __name__ == "__main__":
    main()
