#!/usr/bin/env bash
# Compiles every *.bpf.c of DIR into OUTDIR/NAME.bpf.o as libbpf users compile (clang -O2 -g -target
# bpf) against bpfjit's headers (include/), and records the compiler in OUTDIR/clang-version.txt. The
# examples, the object benchmark and the libbpf-style test fixture are built by it (each directory's
# build.sh calls it); their objects are committed, so tests and the bench never need clang.
#
#   scripts/build-bpf-objects.sh DIR [OUTDIR]     (default OUTDIR: DIR)
set -euo pipefail

CLANG=${CLANG:-clang}
SRC_DIR=$(cd "$1" && pwd)
OUT_DIR=$(mkdir -p "${2:-$SRC_DIR}" && cd "${2:-$SRC_DIR}" && pwd)
INCLUDE=$(realpath --relative-to="$SRC_DIR" "$(dirname "$0")/../include")
# <linux/bpf.h> includes <asm/types.h>, which Debian keeps under the host's multiarch directory.
MULTIARCH=$(gcc -print-multiarch 2>/dev/null || echo x86_64-linux-gnu)

# Relative paths and a mapped build directory keep this checkout's location out of the debug info.
cd "$SRC_DIR"
for src in *.bpf.c; do
  "$CLANG" -O2 -g -target bpf -mcpu=v3 -Wall -Werror -fdebug-prefix-map="$SRC_DIR"=. -I "$INCLUDE" -I "/usr/include/$MULTIARCH" \
    -c "$src" -o "$OUT_DIR/${src%.c}.o"
done
"$CLANG" --version | head -1 > "$OUT_DIR/clang-version.txt"
