#!/usr/bin/env bash
# Builds vault's release binary and prints its path.
#
# On Linux with glibc the binary is linked statically: no dynamic loader,
# and no shared library to map, relocate and initialise each time it starts,
# which is about 0.3 ms of every `vault exec` (docs/BENCHMARKS.md). Cargo
# cannot make that its default: the flag would reach the proc-macros vault
# builds with, which cannot be static. With the target named, it reaches
# vault's own code only. Elsewhere this is a plain `cargo build --release`.
set -euo pipefail
cd "$(dirname "$0")/.."
host=$(rustc -vV | sed -n 's/^host: //p')
case "$host" in
*-linux-gnu)
  cargo build --release --locked --quiet --target "$host" \
    --config 'build.rustflags = ["-C", "target-feature=+crt-static"]'
  echo "$PWD/target/$host/release/vault"
  ;;
*)
  cargo build --release --locked --quiet
  echo "$PWD/target/release/vault"
  ;;
esac
