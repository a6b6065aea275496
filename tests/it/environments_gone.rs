//! An environment's own secret taken away behind a consumer's back: a
//! writer of the file deletes `K (prod)`, or ci's access row to it, so
//! that exec in prod would hand on the shared `K` under the same name.
//! The clone remembers which environment secrets the identity's last
//! verified view held, and refuses loudly; a deletion made on this clone,
//! or `vault trust accept`, is taken.

use crate::support::Env;

const HINT: &str = "if it was deleted or its access removed on purpose, run `vault trust accept`; otherwise restore the vault file from a copy you trust";

/// K shared and K in prod; ci granted both.
fn setup() -> (Env, String) {
    let env = Env::init();
    env.add("K", "shared-value-1");
    env.vault(&["add", "K", "--environment", "prod"])
        .passphrase()
        .stdin("prod-value-1")
        .run()
        .success();
    let token = env
        .vault(&["identity", "add", "ci", "--token"])
        .passphrase()
        .run()
        .success()
        .stdout
        .trim()
        .to_owned();
    env.owner_runs(&["grant", "K", "--to", "ci"]);
    env.owner_runs(&["grant", "K", "--to", "ci", "--environment", "prod"]);
    (env, token)
}

fn ci_prod(env: &Env, token: &str) -> crate::support::Run {
    env.vault(&[
        "exec",
        "--mask",
        "never",
        "--environment",
        "prod",
        "--",
        "printenv",
        "K",
    ])
    .env("VAULT_ACCESS_TOKEN", token)
}

const PROD_ID: &str = "(SELECT id FROM secrets WHERE name = 'K' AND environment = 'prod')";

#[test]
fn a_deleted_access_row_or_secret_does_not_let_the_shared_value_stand_in() {
    let gone = "secret K (prod) is gone from what ci can use (deleted, or its access removed, \
                outside this clone): exec in prod would take the shared K in its place";
    for attack in [
        format!(
            "DELETE FROM access WHERE secret_id = {PROD_ID} \
             AND identity_id = (SELECT id FROM identities WHERE name = 'ci');"
        ),
        format!("DELETE FROM access WHERE secret_id = {PROD_ID}; DELETE FROM secrets WHERE id = {PROD_ID};"),
    ] {
        let (env, token) = setup();
        ci_prod(&env, &token).run().success().stdout_is("prod-value-1\n");
        env.sql(&attack);
        let before = std::fs::read(&env.vault).unwrap();
        let out = env.refuses(ci_prod(&env, &token), 125, gone, Some(HINT));
        assert_eq!(out.stdout, "", "the program did not run: {attack}");
        assert_eq!(std::fs::read(&env.vault).unwrap(), before);
        // Outside prod nothing changed: the shared value is what it was.
        env.vault(&["exec", "--mask", "never", "--", "printenv", "K"])
            .env("VAULT_ACCESS_TOKEN", &token)
            .run()
            .success()
            .stdout_is("shared-value-1\n");
        // Taken on purpose, the file is accepted as it is.
        env.owner_runs(&["trust", "accept"]);
        ci_prod(&env, &token).run().success().stdout_is("shared-value-1\n");
    }
}

#[test]
fn a_deletion_made_on_this_clone_is_not_an_alarm() {
    let (env, token) = setup();
    ci_prod(&env, &token)
        .run()
        .success()
        .stdout_is("prod-value-1\n");
    env.owner_runs(&["delete", "K", "--environment", "prod", "--yes"]);
    ci_prod(&env, &token)
        .run()
        .success()
        .stdout_is("shared-value-1\n");
}

#[test]
fn a_secret_never_in_the_view_is_no_alarm() {
    // ci never had the prod secret: the shared one is what it always got.
    let env = Env::init();
    env.add("K", "shared-value-1");
    let token = env
        .vault(&["identity", "add", "ci", "--token"])
        .passphrase()
        .run()
        .success()
        .stdout
        .trim()
        .to_owned();
    env.owner_runs(&["grant", "K", "--to", "ci"]);
    env.vault(&["add", "K", "--environment", "prod"])
        .passphrase()
        .stdin("prod-value-1")
        .run()
        .success();
    ci_prod(&env, &token)
        .run()
        .success()
        .stdout_is("shared-value-1\n");
    env.sql(&format!(
        "DELETE FROM access WHERE secret_id = {PROD_ID}; DELETE FROM secrets WHERE id = {PROD_ID};"
    ));
    ci_prod(&env, &token)
        .run()
        .success()
        .stdout_is("shared-value-1\n");
}
