#!/usr/bin/env bash
# Rebuilds the load-time benchmark's object (bench/README.md, "Load time of objects"): each NAME.bpf.c
# becomes NAME.bpf.o, a whole ELF object compiled as examples/build.sh compiles the examples (clang -O2
# -g -target bpf, bpfjit's headers). Unlike ../build.sh, nothing is cut out: the bench loads the object
# with parseObject + loadObject. clang-version.txt records the compiler of the committed objects.
#
#   bench/programs/objects/build.sh [OUTDIR]     (default: next to the sources)
set -euo pipefail

CLANG=${CLANG:-clang}
HERE=$(cd "$(dirname "$0")" && pwd)
OUT_DIR=$(mkdir -p "${1:-$HERE}" && cd "${1:-$HERE}" && pwd)
# <linux/bpf.h> includes <asm/types.h>, which Debian keeps under the host's multiarch directory.
MULTIARCH=$(gcc -print-multiarch 2>/dev/null || echo x86_64-linux-gnu)

# Relative paths and a mapped build directory keep this checkout's location out of the debug info.
cd "$HERE"
for src in *.bpf.c; do
  "$CLANG" -O2 -g -target bpf -mcpu=v3 -Wall -Werror -fdebug-prefix-map="$HERE"=. -I ../../../include -I "/usr/include/$MULTIARCH" \
    -c "$src" -o "$OUT_DIR/${src%.c}.o"
done
"$CLANG" --version | head -1 > "$OUT_DIR/clang-version.txt"
