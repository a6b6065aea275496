//! `vault exec --file` with the programs that read secrets from files:
//! openssl (a certificate and its key), curl against a local HTTPS server
//! with a CA only vault holds, ssh-keygen (which checks the key's mode),
//! Python reading JSON credentials. Each runs in both exec modes.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

use crate::exec::RunExt;
use crate::exec_files::{add_file, exec_sh, tool, workshop, MODES};
use crate::support::Env;

#[test]
fn openssl_reads_a_certificate_and_a_key_from_memory_files() {
    let env = Env::init();
    let work = workshop();
    tool(
        work.path(),
        "openssl",
        &[
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-keyout",
            "key.pem",
            "-out",
            "cert.pem",
            "-subj",
            "/CN=vault-test",
            "-days",
            "1",
        ],
    );
    add_file(&env, "TLS_CERT", &work.path().join("cert.pem"));
    add_file(&env, "TLS_KEY", &work.path().join("key.pem"));
    let script = r#"openssl x509 -in "$TLS_CERT" -noout -subject &&
        openssl x509 -in "$TLS_CERT" -noout -pubkey > /dev/null &&
        a=$(openssl x509 -in "$TLS_CERT" -noout -pubkey) && b=$(openssl pkey -in "$TLS_KEY" -pubout) &&
        [ "$a" = "$b" ] && echo "key matches""#;
    for mode in MODES {
        exec_sh(
            &env,
            mode,
            &["--file", "TLS_CERT", "--file", "TLS_KEY"],
            script,
        )
        .success()
        .stdout_is("subject=CN = vault-test\nkey matches\n");
    }
    // The file is the certificate as it was added, byte for byte.
    let expected = std::fs::read(work.path().join("cert.pem")).unwrap();
    let out = exec_sh(&env, "never", &["--file", "C=TLS_CERT"], r#"cat "$C""#).success();
    assert_eq!(out.raw_stdout, expected);
}

#[test]
fn ssh_keygen_accepts_the_key_and_its_mode() {
    let env = Env::init();
    let work = workshop();
    tool(
        work.path(),
        "ssh-keygen",
        &[
            "-q",
            "-t",
            "ed25519",
            "-N",
            "",
            "-C",
            "vault-test",
            "-f",
            "id",
        ],
    );
    add_file(&env, "DEPLOY_KEY", &work.path().join("id"));
    let public = std::fs::read_to_string(work.path().join("id.pub")).unwrap();
    for mode in MODES {
        // ssh-keygen refuses a private key that others can read: this
        // passes only because the file is 0400 and the key is whole.
        exec_sh(
            &env,
            mode,
            &["--file", "SSH_KEY=DEPLOY_KEY"],
            r#"ssh-keygen -y -f "$SSH_KEY" && stat -L -c %a "$SSH_KEY""#,
        )
        .success()
        .stdout_is(&format!("{public}400\n"));
    }
}

/// A Python HTTPS server on 127.0.0.1 (port 0), killed when dropped.
struct Server {
    child: Child,
    port: u16,
}

impl Server {
    fn start(cert: &Path, key: &Path) -> Server {
        let script = r#"
import http.server, ssl, sys
class Hello(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"hello over tls\n")
    def log_message(self, *args):
        pass
server = http.server.HTTPServer(("127.0.0.1", 0), Hello)
context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
context.load_cert_chain(sys.argv[1], sys.argv[2])
server.socket = context.wrap_socket(server.socket, server_side=True)
print(server.server_address[1], flush=True)
server.serve_forever()
"#;
        let mut child = Command::new("python3")
            .arg("-c")
            .arg(script)
            .arg(cert)
            .arg(key)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start the HTTPS server");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let port = line.trim().parse().unwrap_or_else(|_| {
            let _ = child.kill();
            let _ = child.wait();
            panic!("the HTTPS server did not start: {line:?}")
        });
        Server { child, port }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn curl_trusts_a_ca_that_only_vault_holds() {
    let env = Env::init();
    let work = workshop();
    let ec = [
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
    ];
    let mut ca = vec!["req", "-x509"];
    ca.extend(ec);
    ca.extend([
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
        "-subj",
        "/CN=vault test CA",
        "-days",
        "1",
    ]);
    tool(work.path(), "openssl", &ca);
    let mut csr = vec!["req"];
    csr.extend(ec);
    csr.extend([
        "-keyout",
        "server.key",
        "-out",
        "server.csr",
        "-subj",
        "/CN=127.0.0.1",
    ]);
    tool(work.path(), "openssl", &csr);
    std::fs::write(work.path().join("san.ext"), "subjectAltName=IP:127.0.0.1\n").unwrap();
    tool(
        work.path(),
        "openssl",
        &[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            "server.pem",
            "-days",
            "1",
            "-extfile",
            "san.ext",
        ],
    );
    add_file(&env, "INTERNAL_CA", &work.path().join("ca.pem"));
    std::fs::remove_file(work.path().join("ca.pem")).unwrap();
    let server = Server::start(
        &work.path().join("server.pem"),
        &work.path().join("server.key"),
    );
    let url = format!("https://127.0.0.1:{}/", server.port);
    // Without the CA, curl refuses the server (60: peer certificate
    // cannot be authenticated), so the test below proves the file works.
    exec_sh(
        &env,
        "never",
        &["--file", "CA=INTERNAL_CA"],
        &format!("curl -sS {url}"),
    )
    .code(60);
    for mode in MODES {
        exec_sh(
            &env,
            mode,
            &["--file", "CA=INTERNAL_CA"],
            &format!(r#"curl -sS --cacert "$CA" {url}"#),
        )
        .success()
        .stdout_is("hello over tls\n");
    }
    drop(server);
}

#[test]
fn python_reads_json_credentials_from_the_variable() {
    let env = Env::init();
    let credentials = r#"{"type": "service_account", "client_email": "deploy@example.iam", "private_key": "-----BEGIN PRIVATE KEY-----\nMIIE-not-a-real-key\n-----END PRIVATE KEY-----\n"}"#;
    env.add("GCP_SA_JSON", credentials);
    let script = r#"
import json, os
path = os.environ["GOOGLE_APPLICATION_CREDENTIALS"]
with open(path) as f:
    first = json.load(f)
with open(path, "rb") as f:
    raw = f.read()
    f.seek(0)
    again = f.read()
print(first["client_email"], raw == again, "GCP_SA_JSON" in os.environ,
      any(raw in v for v in os.environb.values()))
"#;
    for mode in MODES {
        env.vault(&["exec", "--mask", mode])
            .args_of(&["--file", "GOOGLE_APPLICATION_CREDENTIALS=GCP_SA_JSON"])
            .args_of(&["--", "python3", "-c", script])
            .passphrase()
            .run()
            .success()
            .stdout_is("deploy@example.iam True False False\n");
    }
}
