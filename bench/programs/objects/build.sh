#!/usr/bin/env bash
# Rebuilds the load-time benchmark's object (bench/README.md, "Load time of objects") with
# scripts/build-bpf-objects.sh: unlike ../build.sh, nothing is cut out, the bench loads the whole object.
#
#   bench/programs/objects/build.sh [OUTDIR]     (default: next to the sources)
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
exec "$HERE/../../../scripts/build-bpf-objects.sh" "$HERE" "$@"
