#!/usr/bin/env bash
# pip-audit over the pinned runtime requirements: every package the portal, the worker and the
# scheduler run with. A known vulnerability fails the run unless it is explained, one
# "ID  reason" a line, in scripts/audit-ignore.txt. Needs the dev set-up (scripts/setup.sh dev).
#
# The verdict comes from pip-audit's JSON report (scripts/audit_verdict.py), not its summary:
# pip-audit says "No known vulnerabilities found" even when it could audit nothing. Printed:
# how many packages were audited and which were skipped; exit 1 on a known vulnerability;
# exit 0 with "NOTHING WAS AUDITED" when the vulnerability service cannot be reached (a
# machine that reaches package indexes only), so CI runs on but claims nothing.
set -euo pipefail
cd "$(dirname "$0")/.."
ignored=()
while read -r id _reason; do
  [[ -z "$id" || "$id" == \#* ]] || ignored+=(--ignore-vuln "$id")
done < scripts/audit-ignore.txt
report=$(mktemp)
errors=$(mktemp)
trap 'rm -f "$report" "$errors"' EXIT
# Its exit status says less than its report (a failure without a report is judged from stderr).
.venv/bin/pip-audit -r requirements.txt --no-deps --disable-pip --progress-spinner off -f json -o "$report" \
  "${ignored[@]}" 2>"$errors" || true
exec .venv/bin/python scripts/audit_verdict.py "$report" "$errors"
