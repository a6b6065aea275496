#!/usr/bin/env bash
# Builds vault's release binary and prints its path.
#
# On Linux with glibc the binary is linked statically: no dynamic loader,
# and no shared library to map, relocate and initialise each time it starts,
# which is about 0.3 ms of every `vault exec` (docs/BENCHMARKS.md). Cargo
# cannot make that its default: the flag would reach the proc-macros vault
# builds with, which cannot be static. With the target named, it reaches
# vault's own code only. Elsewhere this is a plain `cargo build --release`.
#
# Where the linker and glibc support it (binutils 2.38, glibc 2.36), the
# static binary packs its relative relocations (DT_RELR): its 19,000
# relocations take 6 KB instead of 460 KB that every start read, which
# was 400 KiB of peak memory (docs/BENCHMARKS.md). The binary is static, so
# where it runs needs nothing of the kind.
set -euo pipefail
cd "$(dirname "$0")/.."
host=$(rustc -vV | sed -n 's/^host: //p')
case "$host" in
*-linux-gnu)
  flags='"-C", "target-feature=+crt-static"'
  glibc=$(getconf GNU_LIBC_VERSION 2>/dev/null | sed -n 's/^glibc //p')
  if ld --help 2>/dev/null | grep -q pack-relative-relocs &&
    [ -n "$glibc" ] && [ "$(printf '%s\n' 2.36 "$glibc" | sort -V | head -1)" = 2.36 ]; then
    flags="$flags"', "-C", "link-arg=-Wl,-z,pack-relative-relocs"'
  fi
  cargo build --release --locked --quiet --target "$host" \
    --config "build.rustflags = [$flags]"
  echo "$PWD/target/$host/release/vault"
  ;;
*)
  cargo build --release --locked --quiet
  echo "$PWD/target/release/vault"
  ;;
esac
