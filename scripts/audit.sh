#!/usr/bin/env bash
# pip-audit over the pinned runtime requirements: every package the portal, the worker and the
# scheduler run with. A known vulnerability fails the run unless it is explained, one
# "ID  reason" a line, in scripts/audit-ignore.txt. Needs the dev set-up (scripts/setup.sh dev).
set -euo pipefail
cd "$(dirname "$0")/.."
ignored=()
while read -r id _reason; do
  [[ -z "$id" || "$id" == \#* ]] || ignored+=(--ignore-vuln "$id")
done < scripts/audit-ignore.txt
exec .venv/bin/pip-audit -r requirements.txt --no-deps --disable-pip --progress-spinner off "${ignored[@]}"
