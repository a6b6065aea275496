//! The long help after each subcommand's options (`vault CMD --help`),
//! which man.rs turns into sections of its manual page (part of `cli`).
//!
//! Shape, as man.rs reads it: a line `Heading:` starts a section; under it
//! a line indented two spaces is an item, either `TERM  text` (two spaces
//! or more between them) or a command followed by lines indented deeper
//! that say what it does; any other indented line is running text.

pub const INIT: &str = "\
Examples:
  vault init
      Creates the vault at the default path and its first identity, named
      after you; asks for the passphrase twice.
  VAULT_PATH=secrets/vault.db vault init --name ada
      A vault to keep in a team repository (then `vault git setup`).";

pub const ADD: &str = "\
Examples:
  vault add STRIPE_KEY --service stripe --expires 90d
      Asks for the value twice, without echo.
  cat key.pem | vault add DEPLOY_KEY
      Takes the value from stdin; one trailing newline is dropped. The
      passphrase is still asked on the terminal.
  vault add DB_URL --from-file db.txt
      Takes the value from a file.

A value is never an argument: it would stay in the shell's history and be
visible to other processes.";

pub const IMPORT: &str = "\
Format:
  The file is read as dotenv defines it: NAME=value lines, an optional
  export prefix, # comments, single quotes (literal), double quotes
  (multi-line values and the escapes \\n \\\" \\\\ \\$), and $NAME or ${NAME}
  replaced by a variable of vault's environment or, if there is none, an
  earlier entry (single quotes, \\$ or --no-expand keep a literal $). An
  unbraced name is letters and digits only: $DB_HOST reads $DB. The
  variables that unlock the vault are never substituted. Each entry a
  substitution changed is named, without its value, with a warning when a
  variable was not defined and became empty or a name stopped at _. The
  whole file is checked before anything is written: if any line is refused, nothing is imported. New secrets are
  managed by you; with --overwrite, existing ones are rotated and keep their
  service and grants. vault never deletes the file: once you no longer need
  it, delete it yourself (for example with shred -u FILE).

Examples:
  vault import .env --dry-run
      What would be added, rotated and skipped: names only, no unlocking.
  vault import .env --service app
      Adds each entry as a secret of the service app.
  vault import .env --overwrite
      Also rotates the secrets that already exist.

JSON output:
  --dry-run --json prints {\"add\": [names], \"rotate\": [names],
  \"skip\": [names]}: what the import would do, by name.";

pub const LIST: &str = "\
Examples:
  vault list
      Names, services, versions, dates and access; never a value. At a
      terminal the table fits the window: the access is counted, then the
      description shortened and dropped, then the rotation period, the
      creation and rotation dates and the version are left out.
  vault list --service stripe --json
      The same as JSON, for scripts.
  vault list --expiring 30d --needs-rotation
      A report for CI: exits 1 when any secret matches.

JSON output:
  {\"secrets\": [{\"name\", \"service\", \"description\", \"version\",
  \"created\", \"rotated\", \"expires\", \"expired\", \"needs_rotation\",
  \"rotate_every\", \"rotation_due\", \"rotation_overdue\", \"access\":
  [{\"identity\", \"level\", \"expires\", \"expired\"}], \"matched\":
  [{\"rule\", \"text\"}]}]}. Times are RFC 3339 in UTC, absent values null;
  rotate_every is in seconds. matched lists the report rules a secret
  matched (rule is expiring, expired, revoked_access or rotation_overdue);
  without --expiring or --needs-rotation it is empty. Fields may be added,
  never removed.";

pub const RENAME: &str = "\
Examples:
  vault rename STRIPE_KEY STRIPE_SECRET_KEY
      Keeps the value, version, dates and every grant.";

pub const ROTATE: &str = "\
Examples:
  vault rotate STRIPE_KEY
      Asks for the new value twice; every grant is kept.
  printf %s \"$NEW_KEY\" | vault rotate STRIPE_KEY --expires 90d
      The new value from stdin, with a new expiry.";

pub const DELETE: &str = "\
Examples:
  vault delete OLD_TOKEN
      Asks first, at a terminal.
  vault delete OLD_TOKEN LEGACY_KEY --yes
      Without asking (needed in scripts).";

pub const EXEC: &str = "\
Selection:
  With no --only, --service, --env, --file or --render, every secret
  granted to the identity is injected; otherwise each of them adds its
  secrets.

Files (Linux):
  --file VAR=SECRET gives the command a file that exists only in memory
  (memfd, sealed, mode 0400), VAR holding its path (/proc/self/fd/N); the
  value is not in the environment. A text of several lines gets back the
  final newline `vault add` took off. --render TEMPLATE=VAR does the same
  with TEMPLATE's placeholders replaced: {{ NAME }} is the value of NAME
  (blanks inside the braces optional, one line), {{ \"{{\" }} a literal {{.
  The descriptor is inherited by the command and by children that do not
  close it (a shell's do; Python's subprocess does not).

Masking:
  Values shorter than 6 bytes are not masked, and a value the command
  transforms (base64, URL-encoding...) is not recognised. With masking on
  and output on a terminal, the command writes to a pseudo-terminal, so it
  still sees a terminal. With --mask auto, a terminal is masked too when
  the CI variable is set (not empty, 0 or false), as CI services set it
  for jobs they give a pseudo-terminal. Without masking, vault replaces
  itself with the command.

Examples:
  vault exec -- ./deploy.sh
      Runs the script with every secret granted to you.
  vault exec --only STRIPE_KEY -- stripe listen
      With one secret only.
  vault exec --service deploy --explain
      What would happen to each secret, without running anything.
  vault exec --file GOOGLE_APPLICATION_CREDENTIALS=GCP_SA_JSON -- ./deploy.sh
      The credentials as a file in memory, never on disk.
  vault exec --render app.conf.tmpl=APP_CONFIG -- ./server
      The server finds its config, rendered from a template that holds no
      value, at the path in APP_CONFIG.

Exit status:
  N    the command's own status
  125  vault failed before running the command
  126  the command could not be run
  127  the command was not found
  128+N  while masking, the command died of signal N

JSON output:
  --explain --json prints {\"identity\", \"command\" (the program's path, or
  null), \"masking\": {\"on\", \"why\"}, \"secrets\": [{\"variable\",
  \"secret\", \"fate\", \"file\", \"text\"}], \"rendered\": [{\"variable\",
  \"template\", \"secrets\", \"text\"}], \"refused\": null or {\"error\",
  \"hint\"}}. fate is injected, kept, expired, grant_expired or not_granted;
  file is true for a --file variable; text says the same for people.
  refused is what exec would answer to this selection, which --explain
  explains instead of refusing. In a project, \"manifest\": {\"path\",
  \"environment\", \"defaults\": [names], \"optional_absent\": [names],
  \"refused\": [{\"variable\", \"why\"}]}.

Manifest:
  In a project (a vault.toml here or above, see vault(1)) and with no
  --only, --service, --env, --file or --render, exec injects exactly the
  variables the manifest declares for the environment: each one's secret
  (the environment's own, else the shared one) or its default, and
  refuses with 125, naming each, when a required one is missing, not
  granted, expired or breaks its rule.";

pub const GRANT: &str = "\
Examples:
  vault grant STRIPE_KEY DB_URL --to ci
      Use access: ci's programs receive them in exec.
  vault grant DB_URL --to bob --manage --expires 30d
      Manage access: bob may also rotate, rename, delete and grant it.";

pub const REVOKE: &str = "\
Examples:
  vault revoke STRIPE_KEY --from bob
      Marks STRIPE_KEY as needing rotation: bob may have kept the value.
  vault rotate STRIPE_KEY
      Then a new value, re-wrapped for everyone else.";

pub const IDENTITY_ADD: &str = "\
Examples:
  vault identity add bob
      bob types his own passphrase, twice.
  vault identity add ci --token
      A machine identity: prints its access token once, for the CI secret
      VAULT_ACCESS_TOKEN.
  vault identity add claude --agent --expires 4h
      A coding agent: prints its token once, for the agent's host (see
      vault-mcp(1)). It may be granted use only; its exec always masks
      output, also base64, hex and URL-encoded forms of values, and needs
      --reason; it stops working after 4 hours (8 by default).";

pub const IDENTITY_LIST: &str = "\
Examples:
  vault identity list
      Each identity, its kind, creation date and number of secrets.

JSON output:
  {\"identities\": [{\"name\", \"kind\" (person, machine or agent),
  \"created\", \"secrets\", \"default\", \"expires\" (an agent's end, else
  null)}]}.";

pub const MCP: &str = "\
Tools:
  list_secrets  the secrets the agent may use: names, services,
                environments, expiry, rotation and, in a project, whether
                the manifest declares and requires them; never a value
  check         in a project, the manifest against the vault in the
                server's environment, as vault check --json reports it;
                else what needs attention among the granted secrets:
                expired, expiring within 7 days, needing rotation, access
                expired or expiring
  run           {command: [program, args...], secrets: [names] (default:
                in a project, what the manifest declares, as vault exec;
                else all granted; [] for none), reason}: runs the command
                with those secrets in its environment (each name's secret
                of the server's environment, else the shared one) and
                returns its exit status and masked stdout and stderr, each
                cut at --max-output bytes with a note; at --timeout the
                command and its process group are ended; the reason goes
                to the audit log
  request_secret  {name}: the exact `vault add NAME` line a person runs at
                their terminal, and the grant that gives it to the agent

The server acts in one environment (--environment, VAULT_ENVIRONMENT or
the manifest's default) and one project: the manifest found from its
working directory, or --manifest; --no-manifest for none.

Examples:
  vault mcp config
      Prints the host's configuration: an mcpServers entry that runs vault
      mcp with the vault's path, the token read from VAULT_AGENT_TOKEN.
  VAULT_ACCESS_TOKEN=vtk1_... vault mcp --timeout 30s
      What the host runs: the server on stdin and stdout, as the agent the
      token belongs to (an agent identity, vault identity add --agent).

No tool returns a value, and no message of the server contains one: a
name the agent may not use, or an agent past its end, is a protocol error
naming it. Values stay out of the agent's context and transcript, not
out of the programs it runs: a command can still send a value over the
network or write it to a file.";

pub const MCP_CONFIG: &str = "\
Examples:
  vault mcp config > .mcp.json
      A project's configuration for Claude Code, which expands
      ${VAULT_AGENT_TOKEN} from the environment it starts in.
  vault mcp config --name secrets --token-variable CLAUDE_VAULT_TOKEN
      Another server name and another variable for the token.

The entry runs this vault binary as `vault mcp` on this vault file; the
token is never in its arguments, where other processes could read it.";

pub const IDENTITY_REMOVE: &str = "\
Examples:
  vault identity remove carol --yes
      Removes carol and all her access; then rotate what she could read.";

pub const PASSWD: &str = "\
Examples:
  vault passwd
      Asks for the current passphrase (even while unlocked), then the new
      one twice. No secret is re-encrypted.
  vault passwd --rekey
      The passphrase may have leaked, or a laptop holding the vault file
      was lost: a new key pair under the new passphrase, and everything
      the identity signed or holds signed and wrapped again, so the old
      passphrase with an old copy of the file opens nothing written after.
      Then have a manager rotate the secrets it lists.";

pub const AUDIT: &str = "\
Examples:
  vault audit --secret STRIPE_KEY
      Who did what to STRIPE_KEY, and when.
  vault audit --since 7d --json
      The last week, as JSON.
  vault audit verify
      Unlocks and checks every entry and the chain.

JSON output:
  {\"entries\": [{\"seq\", \"time\", \"identity\", \"action\", \"secrets\",
  \"detail\"}]}. time is RFC 3339 in UTC; secrets lists names; detail is an
  object of strings: for grant, identity, level and, for a grant that
  expires, expires; for revoke and identity remove, identity; for identity
  add, identity and kind; for rekey, receives and signs (the fingerprints
  of the new keys); for exec, program (never its arguments) and cwd;
  for other actions it is empty. Fields may be added, never removed.";

pub const SCAN: &str = "\
Examples:
  vault scan
      The working directory, as git sees it (.gitignore honoured), hidden
      files included, the vault file and its side files left out.
  vault scan config/ deploy.log
      These files, and every file below these directories.
  vault scan --staged
      What `git commit` would record: the pre-commit hook's check.
  vault scan --git-history
      Every file version the current branch's commits recorded; findings
      name the commit (COMMIT:PATH:LINE:COLUMN).
  curl -s \"$CI_LOG_URL\" | vault scan --stdin
      A log, streamed: any size, in one pass.

Output:
  PATH:LINE:COLUMN: NAME version N (current value|earlier value), one
  finding a line; the column counts bytes. A summary goes to stderr.

What it finds: the current value of every secret you may use (anywhere,
also inside a longer word), and, for every version of every secret, a
whole word whose keyed fingerprint is stored (words end at spaces, control
bytes and \"'`,;()[]{}<>|; KEY=value and key:value are also tried without
the key). Not found: a value shorter than 6 bytes, a value cut by a line
break, an earlier value inside a longer word, a value encoded (base64,
URL-encoding) or otherwise transformed.

JSON output:
  {\"findings\": [{\"path\", \"commit\", \"line\", \"column\", \"secret\",
  \"version\", \"current\", \"by\"}], \"files\", \"bytes\"}. commit is null
  outside --git-history; current says whether the version is the secret's
  current one; by is \"value\" or \"fingerprint\". Fields may be added,
  never removed.";

pub const UNLOCK: &str = "\
Examples:
  vault unlock
      Keeps the unlocked key 15 minutes.
  vault unlock --for 2h
      Two hours; a key already kept as long is left as it is.";

pub const LOCK: &str = "\
Examples:
  vault lock
      Removes every cached key of this vault, for every identity.";

pub const AUDIT_VERIFY: &str = "\
Examples:
  vault audit verify
      Prints \"audit log intact: N entries, FIRST to LAST\", or names the
      first bad entry and exits 2.";

pub const STATUS: &str = "\
Examples:
  vault status
      What the next command would do, and why.
  vault status --json
      The same as JSON.

JSON output:
  {\"vault\" (the path), \"format\" (null when there is no vault yet),
  \"reads_up_to\", \"permissions\", \"keyring\", \"identity\": {\"name\",
  \"kind\"} or null with \"identity_problem\", \"next_unlock\" (a method, or
  null), \"unlock_methods\": [{\"method\", \"available\", \"why\"}]}, the
  methods in the order they are tried.";

pub const COMPLETIONS: &str = "\
Examples:
  mkdir -p ~/.local/share/bash-completion/completions && vault completions bash > ~/.local/share/bash-completion/completions/vault
      bash, with the bash-completion package.
  mkdir -p ~/.config/fish/completions && vault completions fish > ~/.config/fish/completions/vault.fish
      fish.";

pub const GIT_SETUP: &str = "\
Examples:
  VAULT_PATH=secrets/vault.db vault git setup
      Once per clone, inside the repository.
  VAULT_PATH=secrets/vault.db vault git setup --hook
      Also installs .git/hooks/pre-commit, which runs `vault scan --staged`
      and refuses a commit that records a stored value, naming the secret.
      It unlocks as any command does (a cached key, VAULT_PASSPHRASE_FILE, or
      the terminal). `git commit --no-verify` skips it.";

pub const GIT_RESOLVE: &str = "\
Examples:
  vault git resolve STRIPE_KEY --theirs
      Keeps their side for STRIPE_KEY and merges the rest; then git add the
      vault file and commit.";

pub const TRUST: &str = "\
Examples:
  vault trust
      The vault's root (the identity every certificate chains to), its
      fingerprint, and whether this clone pinned it.
  vault trust accept
      Pin the current root and take every secret as it is now: after
      restoring a backup, or when the owner re-created the vault (check the
      fingerprint with them first).";

pub const CHECK: &str = "\
Reports:
  missing       a required variable with no secret in this environment (nor
                shared) and no default
  not_granted   its secret exists, but the current identity holds no
                access to it (or the access has expired)
  expired       its secret has expired
  expiring      its secret expires within --expiring (7d)
  needs_rotation  its secret needs rotation (access revoked, or overdue)
  undeclared    a secret of the vault, in this environment or shared, that
                the manifest does not declare

Exit status:
  0    every required variable is there and granted
  1    something is missing, not granted or expired
  2    vault failed: no manifest, a bad manifest, no vault

Examples:
  vault check --environment prod
      Before a deploy: whether prod's identity can run the project.
  vault check --json
      The same for a CI step.

JSON output:
  {\"manifest\", \"environment\" (or null), \"identity\" (or null),
  \"ok\", \"variables\": [{\"variable\", \"required\", \"status\",
  \"environment\" (the secret's, or null), \"expires\"}], \"undeclared\":
  [names]}. status is ok, default, missing, not_granted, expired, expiring,
  needs_rotation or optional_missing.";

pub const MANIFEST: &str = "\
Examples:
  vault manifest
      Writes vault.toml from .env.example (or .env): one [vars.NAME] table
      for each name, every one required. No value is read into it.
  vault manifest --from config/.env.sample --output vault.toml
      From another file.";
