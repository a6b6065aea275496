#!/usr/bin/env bash
# The whole test suite, on a fresh machine: installs the Debian packages the
# tests drive (real shells and their completion, tmux for a real terminal,
# the kernel keyring tools, man and mandoc, node and python for exec, and
# openssl, curl and ssh-keygen reading exec's memory files), where
# it can (root, or sudo without a password), makes the virtual environment
# with the Python MCP client that tests/it/mcp.rs drives (outside the
# repository, under ~/.cache), then runs cargo test. .ci/run is exactly this
# script. Elsewhere it says which packages are missing and
# stops: the tests that need them would fail, never skip.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(tmux keyutils strace bash-completion zsh fish mandoc man-db nodejs python3 python3-venv openssl curl openssh-client)

if command -v dpkg >/dev/null 2>&1; then
  need=()
  for pkg in "${packages[@]}"; do
    dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg")
  done
  if [ ${#need[@]} -gt 0 ]; then
    if [ "$(id -u)" -eq 0 ]; then
      as_root=()
    elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
      as_root=(sudo)
    else
      echo "error: the tests need these Debian packages: ${need[*]}" >&2
      echo "hint: run: sudo apt-get install ${need[*]}" >&2
      exit 1
    fi
    echo "installing ${need[*]}" >&2
    export DEBIAN_FRONTEND=noninteractive
    "${as_root[@]}" apt-get update -qq
    "${as_root[@]}" apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  fi
else
  for tool in tmux keyctl strace bash zsh fish mandoc man node python3 openssl curl ssh-keygen; do
    command -v "$tool" >/dev/null 2>&1 || {
      echo "error: the tests need $tool, which is not installed" >&2
      exit 1
    }
  done
fi

# The MCP client (the `mcp` package from PyPI), pinned, in a virtual
# environment of its own; made once, kept between runs.
mcp_version=2.3.0
venv="${XDG_CACHE_HOME:-$HOME/.cache}/vault-tests/mcp-venv"
if ! "$venv/bin/python" -c "import importlib.metadata as m, sys; sys.exit(m.version('mcp') != '$mcp_version')" 2>/dev/null; then
  echo "installing the Python MCP client (mcp $mcp_version) in $venv" >&2
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "mcp==$mcp_version"
fi
export VAULT_TEST_MCP_PYTHON="$venv/bin/python"

cargo test --locked --all-targets "$@"
