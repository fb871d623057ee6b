#!/usr/bin/env bash
# The whole test suite (README: `make test`; CI: .ci/run): release build + every ctest test
# (unit, golden, CLI, real servers started by the suite's fixtures), then the unit tests again
# under AddressSanitizer + UndefinedBehaviorSanitizer.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/deps.sh
jobs=$(nproc)
cmake --preset release >/dev/null
cmake --build --preset release -j "$jobs"
ctest --preset release -j "$jobs"
cmake --preset asan >/dev/null
cmake --build --preset asan -j "$jobs" --target sds_unit_tests
ctest --preset asan -j "$jobs"
