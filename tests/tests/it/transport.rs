//! Transport: TLS to PostgreSQL as the URL's `sslmode` asks (against the throwaway cluster of
//! `scripts/pg-cluster.sh`, which serves a certificate for localhost and 127.0.0.1 signed by its own root),
//! and `serve --dev` bound to loopback only.

use std::path::PathBuf;
use std::process::{Command, Stdio};

use e2e::{Backend, TestStore, binary};
use engine::open::StoreSpec;
use store::postgres::PgLog;

/// The cluster's directory (`scripts/test.sh` sets it): its `root.crt` and `other-root.crt`. The test was
/// built for that cluster, so a cluster without them (no openssl when it was made) fails the test rather
/// than letting it pass without checking anything.
fn cluster_roots(test: &str) -> (PathBuf, PathBuf) {
    let dir = PathBuf::from(std::env::var_os(e2e::POSTGRES_DIR_VARIABLE).unwrap_or_else(|| {
        panic!(
            "{test}: built for the cluster of scripts/test.sh, but {} is not set",
            e2e::POSTGRES_DIR_VARIABLE
        )
    }));
    let (root, other) = (dir.join("root.crt"), dir.join("other-root.crt"));
    assert!(
        root.exists() && other.exists(),
        "{test}: the PostgreSQL cluster in {} has no TLS root (pg-cluster.sh had no openssl)",
        dir.display()
    );
    (root, other)
}

fn with(url: &str, query: &str) -> String {
    let separator = if url.contains('?') { '&' } else { '?' };
    format!("{url}{separator}{query}")
}

async fn refused(url: &str) -> String {
    match PgLog::open(url).await {
        Ok(_) => panic!("the connection must be refused: {url}"),
        Err(error) => format!("{error:#}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(not(e2e_postgres_cluster), ignore = "no PostgreSQL cluster to crash: scripts/test.sh starts one")]
async fn postgres_tls_follows_sslmode_and_checks_the_certificate() {
    let test = "postgres_tls_follows_sslmode_and_checks_the_certificate";
    e2e::require_backend(Backend::Postgres, test);
    let (root, other_root) = cluster_roots(test);
    let store = TestStore::new(Backend::Postgres).await.unwrap();
    let StoreSpec::Postgres(url) = &store.spec else { panic!("a PostgreSQL store") };
    assert!(url.contains("@127.0.0.1:"), "the throwaway cluster listens on 127.0.0.1: {url}");
    let root = root.display().to_string();
    let other_root = other_root.display().to_string();

    // require: encrypted (the certificate is not checked, as libpq does without a root).
    let log = PgLog::open(&with(url, "sslmode=require")).await.unwrap();
    assert!(log.session_uses_tls().await.unwrap(), "sslmode=require encrypts");
    drop(log);
    // disable: not encrypted.
    let log = PgLog::open_read_only(&with(url, "sslmode=disable")).await.unwrap();
    assert!(!log.session_uses_tls().await.unwrap());
    drop(log);
    // verify-full with the cluster's root, for the host the certificate names.
    let log = PgLog::open(&with(url, &format!("sslmode=verify-full&sslrootcert={root}"))).await.unwrap();
    assert!(log.session_uses_tls().await.unwrap());
    drop(log);

    // The same server reached under a name its certificate does not carry.
    let wrong_host = with(&url.replacen("@127.0.0.1:", "@db.wrong.example:", 1), "hostaddr=127.0.0.1");
    let error = refused(&with(&wrong_host, &format!("sslmode=verify-full&sslrootcert={root}"))).await;
    assert!(error.contains("connecting") && error.contains("certificate not valid for name"), "{error}");
    // verify-ca checks the chain only: the wrong name is accepted, a wrong root is not.
    let log =
        PgLog::open(&with(&wrong_host, &format!("sslmode=verify-ca&sslrootcert={root}"))).await.unwrap();
    assert!(log.session_uses_tls().await.unwrap());
    drop(log);
    let error = refused(&with(url, &format!("sslmode=verify-full&sslrootcert={other_root}"))).await;
    assert!(error.contains("invalid peer certificate: UnknownIssuer"), "{error}");
    let error = refused(&with(url, &format!("sslmode=verify-ca&sslrootcert={other_root}"))).await;
    assert!(error.contains("UnknownIssuer"), "{error}");
    // Without sslrootcert, verify-full trusts the public roots, which did not sign the cluster's certificate.
    let error = refused(&with(url, "sslmode=verify-full")).await;
    assert!(error.contains("UnknownIssuer"), "{error}");
    // An unreadable root file and an unknown mode are clear errors.
    let error = refused(&with(url, "sslmode=verify-full&sslrootcert=/nonexistent/root.crt")).await;
    assert!(error.contains("sslrootcert /nonexistent/root.crt"), "{error}");
    let error = refused(&with(url, "sslmode=verify-everything")).await;
    assert!(error.contains("sslmode=verify-everything is not one of"), "{error}");
    // The password never shows in an error.
    let password = url.split_once("://").and_then(|(_, rest)| rest.split_once('@')).map(|(user, _)| user);
    let password = password.and_then(|user| user.split_once(':')).map(|(_, password)| password).unwrap();
    assert!(!error.contains(password));
}

#[test]
fn serve_dev_refuses_a_listen_address_that_is_not_loopback() {
    let data = tempfile::tempdir().unwrap();
    for listen in ["0.0.0.0:0", "[::]:0"] {
        let output = Command::new(binary())
            .args(["serve", "--dev", "--listen", listen, "--data"])
            .arg(data.path().join("data"))
            .env_remove("VOUCHER_LEDGER_JWT_SECRET")
            .env_remove("VOUCHER_LEDGER_STORE")
            .stdin(Stdio::null())
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!output.status.success(), "{listen}: {stderr}");
        assert!(stderr.contains("--dev") && stderr.contains("loopback"), "{listen}: {stderr}");
        assert!(!data.path().join("data").exists(), "{listen}: refused before opening the store");
    }
}

#[test]
fn the_store_url_from_the_environment_is_not_shown_in_help() {
    let output = Command::new(binary())
        .args(["verify", "--help"])
        .env("VOUCHER_LEDGER_STORE", "postgres://ledger:s3cret-in-env@db.example/ledger")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let help = String::from_utf8_lossy(&output.stdout);
    assert!(help.contains("VOUCHER_LEDGER_STORE"), "{help}");
    assert!(!help.contains("s3cret-in-env"), "{help}");
}
