#!/usr/bin/env bash
# Installs every Debian package that building sds and running its tests need.
# Idempotent: packages already present are not touched. As root it runs apt-get;
# otherwise it prints the exact command to run and stops.
set -euo pipefail

build_pkgs=(
  build-essential cmake ninja-build pkg-config
  libsimdjson-dev libcli11-dev libfmt-dev doctest-dev
  libcurl4-openssl-dev libssl-dev zlib1g-dev libzstd-dev libisal-dev
  libmaxminddb-dev libyaml-cpp-dev libpugixml-dev libre2-dev
)
test_pkgs=(
  python3 jq gojq clang libclang-rt-14-dev openssl ca-certificates
  swift swift-proxy swift-object swift-container swift-account python3-swift
  nmap sslscan hyperfine mmdb-bin time procps iproute2 curl groff-base zsh fish memcached
)
want=("${build_pkgs[@]}")
if [[ "${1:-}" != "--build-only" ]]; then want+=("${test_pkgs[@]}"); fi

missing=()
for p in "${want[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
if ((${#missing[@]} == 0)); then exit 0; fi

cmd=(apt-get install -y --no-install-recommends "${missing[@]}")
if [[ $(id -u) -ne 0 ]]; then
  echo "sds: missing packages; run as root:" >&2
  echo "  sudo apt-get update && sudo ${cmd[*]}" >&2
  exit 2
fi
echo "sds: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
"${cmd[@]}" >/dev/null
