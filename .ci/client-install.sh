#!/usr/bin/env bash
# The agent-side package installs alone: a clean venv, `pip install ./client`, no
# Django, Presidio or spaCy pulled in, `airlock --help` runs, and a hook with Airlock
# unreachable fails closed (exit 2).
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$(command -v python3.11 || command -v python3)" -m venv "$work/venv"
# From a copy: building in place would leave client/build/ for mypy to trip over.
cp -r client "$work/client"
rm -rf "$work/client/build" "$work/client/src/"*.egg-info
"$work/venv/bin/pip" install --quiet "$work/client"
"$work/venv/bin/airlock" --help
for heavy in django presidio_analyzer spacy; do
  if "$work/venv/bin/python" -c "import $heavy" 2>/dev/null; then
    echo "airlock-client pulled in $heavy" >&2
    exit 1
  fi
done
set +e
echo '{"session_id":"ci","tool_name":"Bash","tool_input":{"command":"true"}}' \
  | AIRLOCK_URL=http://127.0.0.1:9 AIRLOCK_TOKEN=ci "$work/venv/bin/airlock" hook claude
code=$?
set -e
if [ "$code" != 2 ]; then echo "the hook exited $code with Airlock unreachable, not 2" >&2; exit 1; fi
echo "airlock-client installs alone; the hook fails closed"
