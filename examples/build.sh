#!/usr/bin/env bash
# Rebuilds the examples' objects (NAME.bpf.c -> NAME.bpf.o) with scripts/build-bpf-objects.sh. The
# objects are committed so that tests, `bpfjit demo` and the benchmarks never need clang.
#
#   examples/build.sh [OUTDIR]     (default: next to the sources)
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
exec "$HERE/../scripts/build-bpf-objects.sh" "$HERE" "$@"
