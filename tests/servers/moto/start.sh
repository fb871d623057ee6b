#!/usr/bin/env bash
# Starts moto_server (AWS service mocks: SQS, STS, ...) on 127.0.0.1 for the
# tests. See tests/servers/README.md.
#
#   start.sh [STATE_DIR]
#
# STATE_DIR (or $SDS_MOTO_DIR; default ${TMPDIR:-/tmp}/sds-moto-$SDS_MOTO_PORT)
# receives moto.log and two files:
#   moto.env   KEY=VALUE lines: endpoint, region, credentials (tests read it)
#   moto.pids  what stop.sh must stop
# moto keeps its state in memory: every start is clean.
#
# Environment:
#   SDS_MOTO_PORT           port; 0 = any free one
#                           default $SDS_MOTO_DEFAULT_PORT, else 18081
#   SDS_MOTO_START_TIMEOUT  seconds to wait for readiness      default 90
#   SDS_MOTO_PYTHON         a Python that has moto             default python3
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
port=${SDS_MOTO_PORT:-${SDS_MOTO_DEFAULT_PORT:-18081}}
timeout=${SDS_MOTO_START_TIMEOUT:-90}
state=${1:-${SDS_MOTO_DIR:-${TMPDIR:-/tmp}/sds-moto-$port}}

die() { echo "moto/start.sh: $*" >&2; exit 1; }

py=${SDS_MOTO_PYTHON:-python3}
"$py" -c 'import moto.server' 2>/dev/null ||
  die "$py has no moto (pip package moto[server], preinstalled in this project's image); set SDS_MOTO_PYTHON"
command -v curl >/dev/null || die "curl is missing; run scripts/deps.sh as root"

mkdir -p "$state"
state=$(cd "$state" && pwd)
t0=$(date +%s.%N)

"$here/stop.sh" "$state" >/dev/null 2>&1 || true

if [[ $port == 0 ]]; then
  port=$("$py" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])') || die "cannot pick a free port"
fi
if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
  ss -ltnp "sport = :$port" >&2 2>/dev/null || true
  die "127.0.0.1:$port is already in use (another moto? run its stop.sh, or set SDS_MOTO_PORT)"
fi

rm -f "$state/moto.env" "$state/moto.pids" "$state/moto.log"
# SDS_MOTO_STATE tags the process so stop.sh can tell it is ours.
SDS_MOTO_STATE=$state "$py" -m moto.server -H 127.0.0.1 -p "$port" </dev/null >"$state/moto.log" 2>&1 &
pid=$!
echo "pid $pid moto" >"$state/moto.pids"

base=http://127.0.0.1:$port
deadline=$(($(date +%s) + timeout))
ready=0
while (($(date +%s) < deadline)); do
  if ! kill -0 "$pid" 2>/dev/null; then
    tail -n 20 "$state/moto.log" >&2
    die "moto_server (pid $pid) exited"
  fi
  if curl -fsS -m 2 -o /dev/null "$base/moto-api/data.json" 2>/dev/null; then
    ready=1
    break
  fi
  sleep 0.2
done
if ((!ready)); then
  tail -n 20 "$state/moto.log" >&2
  "$here/stop.sh" "$state" >&2 || true
  die "not ready after ${timeout}s"
fi

cat >"$state/moto.env" <<EOT
SDS_MOTO_ENDPOINT=$base
SDS_SQS_ENDPOINT=$base
SDS_STS_ENDPOINT=$base
SDS_MOTO_REGION=us-east-1
SDS_MOTO_ACCESS_KEY=testing
SDS_MOTO_SECRET_KEY=testing
SDS_MOTO_ACCOUNT_ID=123456789012
SDS_MOTO_DIR=$state
SDS_MOTO_LOG=$state/moto.log
EOT
secs=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
echo "moto: SQS/STS endpoint $base (region us-east-1), ready in ${secs}s; env $state/moto.env"
