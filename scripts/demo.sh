#!/usr/bin/env bash
# Builds the release binary (scripts/build-release.sh) and runs its main job
# on a throwaway demo vault: init, add, list, grant to a CI token, rotate,
# exec, and the audit log, then removes everything.
set -euo pipefail
cd "$(dirname "$0")/.."
vault=$(./scripts/build-release.sh)

demo=$(mktemp -d)
trap 'rm -rf "$demo"' EXIT
# XDG_DATA_HOME too: the pin and freshness state stay with the demo.
export VAULT_PATH="$demo/vault/vault.db" VAULT_NO_KEYRING=1 XDG_DATA_HOME="$demo/data"
printf 'demo passphrase\n' >"$demo/passphrase"
export VAULT_PASSPHRASE_FILE="$demo/passphrase"

# Each command in bold at a terminal; plain into a file or a pipe.
if [ -t 1 ]; then
  step() { printf '\n\033[1m$ %s\033[0m\n' "$*"; }
else
  step() { printf '\n$ %s\n' "$*"; }
fi

step vault init --name demo
"$vault" init --name demo
step 'echo sk_test_4eC39HqLyjWDarjtT1zdp7dc | vault add STRIPE_KEY --service stripe --expires 90d'
echo sk_test_4eC39HqLyjWDarjtT1zdp7dc | "$vault" add STRIPE_KEY --service stripe --description "Stripe test key" --expires 90d
step 'printf "%s\n" "-----BEGIN KEY-----" "MIIB..." "-----END KEY-----" | vault add DEPLOY_KEY'
printf '%s\n' "-----BEGIN KEY-----" "MIIB..." "-----END KEY-----" | "$vault" add DEPLOY_KEY --service deploy
step 'vault identity add ci --token'
token=$("$vault" identity add ci --token 2>/dev/null)
echo "(token kept in a variable, as a CI secret store would)"
step vault grant STRIPE_KEY --to ci
"$vault" grant STRIPE_KEY --to ci
step vault list
"$vault" list
step 'echo sk_test_rotated | vault rotate STRIPE_KEY'
echo sk_test_rotated | "$vault" rotate STRIPE_KEY
step "vault exec -- sh -c 'echo \"stripe key has \${#STRIPE_KEY} characters; deploy key has \$(printf %s \"\$DEPLOY_KEY\" | wc -l) newlines\"'"
"$vault" exec -- sh -c 'echo "stripe key has ${#STRIPE_KEY} characters; deploy key has $(printf %s "$DEPLOY_KEY" | wc -l) newlines"'
step "vault exec -- sh -c 'echo \"connecting with \$STRIPE_KEY\"' | cat   # output into a pipe is masked"
"$vault" exec -- sh -c 'echo "connecting with $STRIPE_KEY"' | cat
step 'VAULT_ACCESS_TOKEN=$token vault exec -- sh -c '\''echo "CI sees: ${STRIPE_KEY:+STRIPE_KEY} ${DEPLOY_KEY:-(no DEPLOY_KEY)}"'\'''
VAULT_ACCESS_TOKEN=$token env -u VAULT_PASSPHRASE_FILE "$vault" exec -- sh -c 'echo "CI sees: ${STRIPE_KEY:+STRIPE_KEY} ${DEPLOY_KEY:-(no DEPLOY_KEY)}"'
step 'vault trust   # the root every certificate chains to, pinned by this clone'
"$vault" trust
step 'vault identity list'
"$vault" identity list
step vault delete DEPLOY_KEY --yes
"$vault" delete DEPLOY_KEY --yes
step vault list --json
"$vault" list --json
step vault audit
"$vault" audit
step vault audit verify
"$vault" audit verify
echo
echo "demo vault removed: $demo"
