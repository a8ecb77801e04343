//! Which backends the end-to-end tests can run on, decided when they are built, so that a test that cannot
//! run here is reported `ignored` with its reason instead of passing without running (cfgs used by the
//! `#[cfg_attr(not(...), ignore = "...")]` of the tests and by `e2e::per_backend!`):
//! - `e2e_postgres`: a PostgreSQL server to create test databases on;
//! - `e2e_postgres_cluster`: that server is the throwaway cluster of `scripts/pg-cluster.sh`, which the crash
//!   tests stop and start;
//! - `e2e_kurrentdb`: a KurrentDB server (`KURRENTDB_URL`) and the `kurrentdb` feature;
//! - `e2e_openapi_validator`: the `openapi-spec-validator` command (`VOUCHER_LEDGER_OPENAPI_VALIDATOR`, which
//!   `scripts/test.sh` installs into a virtualenv);
//! - `e2e_promtool`: Prometheus's `promtool` (`VOUCHER_LEDGER_PROMTOOL`, which `scripts/test.sh` finds, or
//!   installs with Debian's `prometheus` package as root), for `promtool check rules` of the shipped alerts;
//! - `e2e_fuse`: FUSE (`/dev/fuse` and Debian's `fuse3`; `VOUCHER_LEDGER_FUSE`, which `scripts/test.sh` sets
//!   when both are there, installing `fuse3` as root), for the power-loss tests on `lazyfs`;
//! - `e2e_systemd_analyze`: `systemd-analyze` (`VOUCHER_LEDGER_SYSTEMD_ANALYZE`, which `scripts/test.sh` sets
//!   when it is on the PATH; never installed, never required), for `systemd-analyze verify` of the unit.
//! - `e2e_browser`: Debian's `chromium`, `node` and `tests/browser`'s npm packages (`VOUCHER_LEDGER_CHROMIUM`,
//!   which `scripts/test.sh` sets once it has them), for the console's browser tests.
//!
//! `scripts/test.sh` says which PostgreSQL it has in `VOUCHER_LEDGER_TEST_POSTGRES` (`cluster` or `server`), a
//! value that stays the same from run to run (the URL's port and password do not, and watching them would
//! rebuild the tests on every run). Without it, the URL and the cluster directory are looked at directly.
//! `VOUCHER_LEDGER_REQUIRE_POSTGRES=1` (CI) builds every PostgreSQL test, the OpenAPI validation and the
//! promtool check (and the power-loss tests): they run, and fail when their server, validator, promtool or
//! FUSE is missing.

fn set(name: &str) -> bool {
    println!("cargo::rerun-if-env-changed={name}");
    std::env::var(name).is_ok_and(|value| !value.is_empty())
}

fn main() {
    for cfg in [
        "e2e_postgres",
        "e2e_postgres_cluster",
        "e2e_kurrentdb",
        "e2e_openapi_validator",
        "e2e_promtool",
        "e2e_systemd_analyze",
        "e2e_browser",
        "e2e_fuse",
    ] {
        println!("cargo::rustc-check-cfg=cfg({cfg})");
    }
    println!("cargo::rerun-if-env-changed=VOUCHER_LEDGER_REQUIRE_POSTGRES");
    println!("cargo::rerun-if-env-changed=VOUCHER_LEDGER_TEST_POSTGRES");
    let required = std::env::var("VOUCHER_LEDGER_REQUIRE_POSTGRES").is_ok_and(|value| value == "1");
    let (postgres, cluster) = match std::env::var("VOUCHER_LEDGER_TEST_POSTGRES").as_deref() {
        Ok("cluster") => (true, true),
        Ok("server") => (true, false),
        _ => (set("VOUCHER_LEDGER_TEST_POSTGRES_URL"), set("VOUCHER_LEDGER_TEST_POSTGRES_DIR")),
    };
    if required || postgres {
        println!("cargo::rustc-cfg=e2e_postgres");
    }
    if required || (postgres && cluster) {
        println!("cargo::rustc-cfg=e2e_postgres_cluster");
    }
    if set("KURRENTDB_URL") && std::env::var_os("CARGO_FEATURE_KURRENTDB").is_some() {
        println!("cargo::rustc-cfg=e2e_kurrentdb");
    }
    if required || set("VOUCHER_LEDGER_OPENAPI_VALIDATOR") {
        println!("cargo::rustc-cfg=e2e_openapi_validator");
    }
    if required || set("VOUCHER_LEDGER_PROMTOOL") {
        println!("cargo::rustc-cfg=e2e_promtool");
    }
    if required || set("VOUCHER_LEDGER_CHROMIUM") {
        println!("cargo::rustc-cfg=e2e_browser");
    }
    if required || set("VOUCHER_LEDGER_FUSE") {
        println!("cargo::rustc-cfg=e2e_fuse");
    }
    if set("VOUCHER_LEDGER_SYSTEMD_ANALYZE") {
        println!("cargo::rustc-cfg=e2e_systemd_analyze");
    }
}
