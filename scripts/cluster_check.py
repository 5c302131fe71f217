"""One end-to-end look at a running cluster (scripts/cluster.sh start): the demo data through
the web balancer, a seller page served from the read replica, the replica's lag in /metrics.

    .venv/bin/python scripts/cluster_check.py [--base http://127.0.0.1:8100] [--state var/cluster-web]

Prints what it saw and exits 1 when a check fails. It reads the metrics token from the
cluster-web state directory; the seller is a demo account (password paysystem-demo).
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import requests

READS = re.compile(r'^paysystem_figure_reads_total\{([^}]*)\} ([0-9.e+]+)$', re.M)
LAG = re.compile(r'^paysystem_read_replica_lag_seconds ([-0-9.e+]+)$', re.M)


def replica_reads(metrics: str) -> float:
    """The figure reads counted with target="replica" (summed over reasons); the balancer
    spreads requests over the web nodes, so the check scrapes each node itself."""
    return sum(float(value) for labels, value in READS.findall(metrics) if 'target="replica"' in labels)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base", default="http://127.0.0.1:8100")
    parser.add_argument("--nodes", default="http://127.0.0.1:8101,http://127.0.0.1:8102")
    parser.add_argument("--state", default="var/cluster-web")
    parser.add_argument("--seller", default="seller1@demo.paysystem.test")
    args = parser.parse_args()
    token = (Path(args.state) / "metrics-token").read_text().strip()
    nodes = args.nodes.split(",")

    def scrape() -> tuple[float, str]:
        texts = [requests.get(f"{node}/metrics", headers={"Authorization": f"Bearer {token}"}, timeout=10).text
                 for node in nodes]
        return sum(replica_reads(text) for text in texts), texts[0]

    browser = requests.Session()
    form = browser.get(f"{args.base}/auth/signin", timeout=10).text
    csrf = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', form).group(1)
    signed_in = browser.post(f"{args.base}/auth/signin", timeout=10, data={
        "csrf_token": csrf, "email": args.seller, "password": "paysystem-demo", "next": ""})
    before, _ = scrape()  # after signing in: the sign-in itself lands on the dashboard
    page = browser.get(f"{args.base}/dashboard", timeout=30)
    after, metrics = scrape()
    lag = LAG.search(metrics)
    checks = {
        "signed in as the demo seller through the balancer": signed_in.ok and "signin" not in signed_in.url,
        "seller dashboard answered 200 with the demo data (₩ figures)": page.status_code == 200 and "₩" in page.text,
        f"figure reads from the replica rose ({before:.0f} -> {after:.0f})": after > before,
        f"replica lag in /metrics ({lag.group(1) if lag else 'missing'} s)": lag is not None and float(lag.group(1)) >= 0,
    }
    for what, ok in checks.items():
        print(f"{'ok  ' if ok else 'FAIL'} {what}")
    return 0 if all(checks.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
