#!/usr/bin/env bash
# Rebuilds the benchmark programs: each NAME.c becomes NAME.bin, the raw bytes of its .text section.
#
#   bench/programs/build.sh [OUTDIR]     (default: next to the sources)
#
# The .bin files are committed so a clone without clang can run the benchmarks; the test
# test/bench-programs.test.ts rebuilds into a temporary directory and checks the bytes still match.
# clang-version.txt records the compiler that made the committed bytes (other versions may emit
# different, equally valid, code).
#
# Every program must be self-contained: one function at the start of .text, no data sections (no
# .rodata: a switch turned into a lookup table would land there) and no relocations but map
# references: an `extern` object the program passes to a helper (`extern char hist[];`, helpers
# called as `(void *)ID` function pointers need none). Each such lddw becomes
# `lddw rX, map_by_idx(N)`, maps numbered in the order they are first referenced, so the benchmark
# binds them by position. The checks below refuse anything else.
set -euo pipefail

CLANG=${CLANG:-clang}
OBJCOPY=${LLVM_OBJCOPY:-llvm-objcopy}
OBJDUMP=${LLVM_OBJDUMP:-llvm-objdump}
CFLAGS=(-O2 -target bpf -mcpu=v3 -c)

SRC_DIR=$(cd "$(dirname "$0")" && pwd)
OUT_DIR=$(mkdir -p "${1:-$SRC_DIR}" && cd "${1:-$SRC_DIR}" && pwd)
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

fail() { echo "build.sh: $*" >&2; exit 1; }

check_object() {
  local name=$1 obj=$2
  if "$OBJDUMP" -r "$obj" | grep -v -e '^$' -e '^RELOCATION RECORDS FOR \[\.text\]:' -e '^OFFSET ' -e ' R_BPF_64_64 ' \
      | grep -q -v 'file format'; then
    "$OBJDUMP" -r "$obj" >&2
    fail "$name: has relocations other than map references (a call, a global or a jump table); keep everything in .text"
  fi
  local sections
  sections=$("$OBJDUMP" -h "$obj" | awk '$1 ~ /^[0-9]+$/ && $2 ~ /^\./ { print $2 }' | grep -v -x -e .text -e .rel.text -e .strtab -e .symtab -e .llvm_addrsig || true)
  [ -z "$sections" ] || fail "$name: unexpected sections: $sections"
  local functions
  functions=$("$OBJDUMP" -t "$obj" | grep -c ' F .text' || true)
  [ "$functions" = 1 ] || fail "$name: .text holds $functions functions, want exactly 1 (inline the rest)"
}

# Patches each map reference's lddw in BIN: src_reg 5 (map_by_idx), imm the map's number.
resolve_maps() {
  local obj=$1 bin=$2 off sym i byte
  local -A number=()
  while read -r off sym; do
    [ -n "${number[$sym]:-}" ] || number[$sym]=${#number[@]}
    i=${number[$sym]}
    off=$((16#$off))
    byte=$(od -An -tu1 -j $((off + 1)) -N1 "$bin" | tr -d ' ')
    put_bytes "$bin" $((off + 1)) $(( (byte & 15) | (5 << 4) ))
    put_bytes "$bin" $((off + 4)) $((i & 255)) $((i >> 8 & 255)) 0 0
  done < <("$OBJDUMP" -r "$obj" | awk '$2 == "R_BPF_64_64" { print $1, $3 }')
}

# put_bytes FILE OFFSET BYTE...: overwrites bytes in place.
put_bytes() {
  local file=$1 at=$2 text='' b
  shift 2
  for b in "$@"; do text+=$(printf '\\x%02x' "$b"); done
  printf "$text" | dd of="$file" bs=1 seek="$at" conv=notrunc status=none
}

for src in "$SRC_DIR"/*.c; do
  name=$(basename "$src" .c)
  obj="$TMP/$name.o"
  "$CLANG" "${CFLAGS[@]}" "$src" -o "$obj"
  check_object "$name" "$obj"
  "$OBJCOPY" -O binary --only-section=.text "$obj" "$OUT_DIR/$name.bin"
  resolve_maps "$obj" "$OUT_DIR/$name.bin"
  echo "$name.bin: $(( $(wc -c < "$OUT_DIR/$name.bin") / 8 )) slots"
done
"$CLANG" --version | head -n 1 > "$OUT_DIR/clang-version.txt"
