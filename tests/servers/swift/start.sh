#!/usr/bin/env bash
# Starts a throw-away single-node, single-replica OpenStack Swift with the s3api
# middleware on 127.0.0.1, for the tests. See tests/servers/README.md.
#
#   start.sh [STATE_DIR]
#
# STATE_DIR (or $SDS_SWIFT_DIR; default ${TMPDIR:-/tmp}/sds-swift-$SDS_SWIFT_PORT)
# receives the config, rings, object data, logs and two files:
#   swift.env   KEY=VALUE lines: endpoint, region, credentials (tests read it)
#   swift.pids  what stop.sh must stop (pids, and a loop mount if one was needed)
# The data of a previous run in the same STATE_DIR is wiped: every start is clean.
#
# Environment:
#   SDS_SWIFT_PORT           proxy (S3 + Swift API) port; 0 = any free one
#                            default $SDS_SWIFT_DEFAULT_PORT, else 18080
#   SDS_SWIFT_ACCOUNT_PORT   backend ports (127.0.0.1 only)     default port+10
#   SDS_SWIFT_CONTAINER_PORT                                    default port+11
#   SDS_SWIFT_OBJECT_PORT    (free ones when port is 0)         default port+12
#   SDS_SWIFT_START_TIMEOUT  seconds to wait for readiness      default 90
#   SDS_SWIFT_LOG_LEVEL      Swift log level                    default INFO
#   SDS_SWIFT_LOOP           1: always keep data on a loop-mounted ext4 image
#                            (normally only when STATE_DIR lacks user xattrs)
#   SDS_SWIFT_PROXY_WORKERS  proxy worker processes                default 0
#                            (0: one process with an in-process token cache;
#                            N > 0: N forked workers sharing a memcached on
#                            127.0.0.1 -- the benchmarks use it so the Python
#                            proxy is less of a bottleneck; Debian memcached)
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
py=${SDS_SWIFT_PYTHON:-/usr/bin/python3}   # Debian's Python: python3-swift lives there
port=${SDS_SWIFT_PORT:-${SDS_SWIFT_DEFAULT_PORT:-18080}}
timeout=${SDS_SWIFT_START_TIMEOUT:-90}
log_level=${SDS_SWIFT_LOG_LEVEL:-INFO}
state=${1:-${SDS_SWIFT_DIR:-${TMPDIR:-/tmp}/sds-swift-$port}}

die() { echo "swift/start.sh: $*" >&2; exit 1; }

"$py" -c 'import swift.common.middleware.s3api' 2>/dev/null ||
  die "OpenStack Swift is not installed (Debian packages swift swift-proxy swift-object swift-container swift-account python3-swift); run scripts/deps.sh as root"
command -v curl >/dev/null || die "curl is missing; run scripts/deps.sh as root"

mkdir -p "$state"
state=$(cd "$state" && pwd)
t0=$(date +%s.%N)

# Leftovers of an earlier run in this state dir: stop them first.
"$here/stop.sh" "$state" >/dev/null 2>&1 || true

if [[ $port == 0 ]]; then
  # Any free ports: lets several build trees run their fixtures at once.
  read -r port a c o < <("$py" -c '
import socket
socks = [socket.socket() for _ in range(4)]
for s in socks:
    s.bind(("127.0.0.1", 0))
print(*(s.getsockname()[1] for s in socks))') || die "cannot pick free ports"
  acct_port=${SDS_SWIFT_ACCOUNT_PORT:-$a} cont_port=${SDS_SWIFT_CONTAINER_PORT:-$c} obj_port=${SDS_SWIFT_OBJECT_PORT:-$o}
else
  acct_port=${SDS_SWIFT_ACCOUNT_PORT:-$((port + 10))}
  cont_port=${SDS_SWIFT_CONTAINER_PORT:-$((port + 11))}
  obj_port=${SDS_SWIFT_OBJECT_PORT:-$((port + 12))}
fi

proxy_workers=${SDS_SWIFT_PROXY_WORKERS:-0}
[[ $proxy_workers =~ ^[0-9]+$ ]] || die "SDS_SWIFT_PROXY_WORKERS must be a number, not '$proxy_workers'"
if ((proxy_workers > 0)); then
  command -v memcached >/dev/null ||
    die "SDS_SWIFT_PROXY_WORKERS=$proxy_workers needs memcached (Debian package memcached); run scripts/deps.sh as root"
  mc_port=$("$py" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])') ||
    die "cannot pick a free port for memcached"
fi

port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
for p in "$port" "$acct_port" "$cont_port" "$obj_port"; do
  if port_busy "$p"; then
    ss -ltnp "sport = :$p" >&2 2>/dev/null || true
    die "127.0.0.1:$p is already in use (another Swift? run its stop.sh, or set SDS_SWIFT_PORT)"
  fi
done

etc=$state/etc node=$state/node logs=$state/log
! mountpoint -q "$node/d1" 2>/dev/null || die "$node/d1 is still mounted; unmount it first"
rm -rf "$etc" "$node" "$logs" "$state/swift.env" "$state/swift.pids" "$state/disk.img"
mkdir -p "$etc" "$node/d1" "$logs"
: >"$state/swift.pids"

# Swift keeps object metadata in user xattrs. ext4/xfs/btrfs (and tmpfs on
# Linux >= 6.6) have them; where the state dir does not, put the data on a
# loop-mounted ext4 image (needs root and a loop device).
has_xattr() { "$py" -c 'import os,sys; os.setxattr(sys.argv[1], "user.sds.probe", b"1")' "$1" 2>/dev/null; }
if [[ "${SDS_SWIFT_LOOP:-0}" == 1 ]] || ! has_xattr "$node/d1"; then
  [[ $(id -u) -eq 0 ]] || die "$state has no user xattrs (Swift needs them) and a loop mount needs root; pass a STATE_DIR on ext4/xfs"
  truncate -s "${SDS_SWIFT_DISK_MB:-2048}M" "$state/disk.img"
  mkfs.ext4 -q -F -m 0 "$state/disk.img" || die "mkfs.ext4 failed (Debian package e2fsprogs)"
  mount -o loop,user_xattr "$state/disk.img" "$node/d1" || die "cannot loop-mount $state/disk.img"
  echo "mount $node/d1" >>"$state/swift.pids"
  has_xattr "$node/d1" || die "no user xattrs even on the loop-mounted ext4 image"
fi

user=$(id -un)
cat >"$etc/swift.conf" <<EOF
[swift-hash]
swift_hash_path_suffix = sds-tests-suffix
swift_hash_path_prefix = sds-tests-prefix

[storage-policy:0]
name = Policy-0
default = yes
EOF

# One ring per server type: one device, one replica (see make_rings.py).
"$py" "$here/make_rings.py" "$etc" "$acct_port" "$cont_port" "$obj_port" >"$logs/rings.log" 2>&1 ||
  die "building the rings failed; see $logs/rings.log"

common() { # name port
  cat <<EOF
[DEFAULT]
bind_ip = 127.0.0.1
bind_port = $2
workers = 0
user = $user
swift_dir = $etc
log_name = $1
log_level = $log_level
EOF
}
for kind in account container object; do
  case $kind in account) p=$acct_port ;; container) p=$cont_port ;; object) p=$obj_port ;; esac
  {
    common "$kind" "$p"
    cat <<EOF
devices = $node
mount_check = false
disable_fallocate = true
fallocate_reserve = 0

[pipeline:main]
pipeline = healthcheck $kind-server

[app:$kind-server]
use = egg:swift#$kind

[filter:healthcheck]
use = egg:swift#healthcheck
EOF
  } >"$etc/$kind-server.conf"
done

cache_section() {
  if ((proxy_workers > 0)); then
    cat <<EOF
# tempauth needs a token cache even for S3 requests; the forked proxy workers
# share one memcached on loopback (started below).
[filter:cache]
use = egg:swift#memcache
memcache_servers = 127.0.0.1:$mc_port
EOF
  else
    cat <<EOF
# tempauth needs a token cache even for S3 requests: an in-process dict (see
# sds_swift_cache.py) instead of memcached, since the proxy is one process.
[filter:cache]
paste.filter_factory = sds_swift_cache:filter_factory
EOF
  fi
}

{
  common proxy "$port" | sed "s/^workers = 0\$/workers = $proxy_workers/"
  cat <<EOF

[pipeline:main]
pipeline = catch_errors gatekeeper healthcheck proxy-logging cache listing_formats bulk s3api tempauth copy slo dlo versioned_writes symlink proxy-logging proxy-server

[app:proxy-server]
use = egg:swift#proxy
account_autocreate = true
sorting_method = shuffle

[filter:s3api]
use = egg:swift#s3api
# Region of the SigV4 credential scope: requests signed for another are refused.
location = us-east-1
# Virtual-hosted addressing: Host "BUCKET.localhost[:port]". Any other Host
# (127.0.0.1, localhost) means path-style addressing.
storage_domain = localhost
dns_compliant_bucket_names = true
s3_acl = false
check_bucket_owner = false
allowable_clock_skew = 900
max_bucket_listing = 1000

[filter:tempauth]
use = egg:swift#tempauth
# S3 access key "account:user", secret key = the password.
user_test_tester = testing .admin
user_test2_tester2 = testing2 .admin
user_test_reader = reading

$(cache_section)

[filter:catch_errors]
use = egg:swift#catch_errors
[filter:gatekeeper]
use = egg:swift#gatekeeper
[filter:healthcheck]
use = egg:swift#healthcheck
[filter:proxy-logging]
use = egg:swift#proxy_logging
[filter:listing_formats]
use = egg:swift#listing_formats
[filter:bulk]
use = egg:swift#bulk
[filter:copy]
use = egg:swift#copy
[filter:slo]
use = egg:swift#slo
[filter:dlo]
use = egg:swift#dlo
[filter:versioned_writes]
use = egg:swift#versioned_writes
[filter:symlink]
use = egg:swift#symlink
EOF
} >"$etc/proxy-server.conf"

if ((proxy_workers > 0)); then
  memcached -l 127.0.0.1 -p "$mc_port" -U 0 -m 64 -u "$user" </dev/null >>"$logs/memcached.out" 2>&1 &
  echo "memcached $! $mc_port" >>"$state/swift.pids"
fi
for kind in account container object proxy; do
  "$py" "$here/launch.py" "$etc/swift.conf" "$logs/$kind.log" "$etc/$kind-server.conf" "$kind-server" \
    </dev/null >>"$logs/$kind.out" 2>&1 &
  echo "pid $! $kind" >>"$state/swift.pids"
done

fail() {
  echo "swift/start.sh: $*" >&2
  for f in "$logs"/*.out "$logs"/*.log; do
    if [[ -s "$f" ]]; then echo "--- $f" >&2; tail -n 20 "$f" | cut -c1-400 >&2; fi
  done
  "$here/stop.sh" "$state" >&2 || true
  exit 1
}

# Ready = every server answers /healthcheck and a real write path works
# (tempauth token, account autocreate, container and object PUT/DELETE).
base=http://127.0.0.1:$port
deadline=$(($(date +%s) + timeout))
ready=0
while (($(date +%s) < deadline)); do
  while read -r what pid name; do
    [[ $what == pid ]] || continue
    kill -0 "$pid" 2>/dev/null || fail "the $name server (pid $pid) exited"
  done <"$state/swift.pids"
  ok=1
  for p in "$acct_port" "$cont_port" "$obj_port" "$port"; do
    curl -fsS -m 2 -o /dev/null "http://127.0.0.1:$p/healthcheck" 2>/dev/null || { ok=0; break; }
  done
  if ((ok)); then
    hdrs=$(curl -fsS -m 5 -D - -o /dev/null -H 'X-Auth-User: test:tester' -H 'X-Auth-Key: testing' "$base/auth/v1.0" 2>/dev/null | tr -d '\r') || hdrs=
    token=$(sed -n 's/^[Xx]-[Aa]uth-[Tt]oken: //p' <<<"$hdrs")
    url=$(sed -n 's/^[Xx]-[Ss]torage-[Uu]rl: //p' <<<"$hdrs")
    if [[ -n $token && -n $url ]] &&
      curl -fsS -m 5 -o /dev/null -X PUT -H "X-Auth-Token: $token" "$url/sds-ready-probe" &&
      curl -fsS -m 5 -o /dev/null -X PUT -H "X-Auth-Token: $token" --data-binary probe "$url/sds-ready-probe/o" &&
      curl -fsS -m 5 -o /dev/null -X DELETE -H "X-Auth-Token: $token" "$url/sds-ready-probe/o" &&
      curl -fsS -m 5 -o /dev/null -X DELETE -H "X-Auth-Token: $token" "$url/sds-ready-probe"; then
      ready=1
      break
    fi
  fi
  sleep 0.2
done
((ready)) || fail "not ready after ${timeout}s"

cat >"$state/swift.env" <<EOF
SDS_S3_ENDPOINT=$base
SDS_S3_REGION=us-east-1
SDS_S3_ACCESS_KEY=test:tester
SDS_S3_SECRET_KEY=testing
SDS_S3_VHOST_DOMAIN=localhost
SDS_S3_ACCESS_KEY2=test2:tester2
SDS_S3_SECRET_KEY2=testing2
SDS_S3_READER_ACCESS_KEY=test:reader
SDS_S3_READER_SECRET_KEY=reading
SDS_SWIFT_AUTH_URL=$base/auth/v1.0
SDS_SWIFT_DIR=$state
SDS_SWIFT_LOG_DIR=$logs
EOF
secs=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
echo "swift: S3 endpoint $base (region us-east-1, key test:tester / testing), ready in ${secs}s; env $state/swift.env"
