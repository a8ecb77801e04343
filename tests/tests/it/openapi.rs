//! The OpenAPI document the server serves is valid OpenAPI, as a validator not written here sees it
//! (`openapi-spec-validator`, PyPI), so clients generated from it work. `scripts/test.sh` installs the
//! validator into a virtualenv and names it in `VOUCHER_LEDGER_OPENAPI_VALIDATOR`; without it the test is
//! ignored (built with `VOUCHER_LEDGER_REQUIRE_POSTGRES=1`, as in CI, it runs and fails instead).

use std::process::{Command, Stdio};

use e2e::{Client, InProcessServer, MORNING};

/// The variable naming the `openapi-spec-validator` command.
const VALIDATOR_VARIABLE: &str = "VOUCHER_LEDGER_OPENAPI_VALIDATOR";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(e2e_openapi_validator),
    ignore = "no openapi-spec-validator: scripts/test.sh installs it (VOUCHER_LEDGER_OPENAPI_VALIDATOR)"
)]
async fn the_served_openapi_document_is_valid() -> anyhow::Result<()> {
    let validator =
        std::env::var(VALIDATOR_VARIABLE).ok().filter(|command| !command.is_empty()).unwrap_or_else(|| {
            panic!("{VALIDATOR_VARIABLE} is not set: run scripts/test.sh (it installs the validator)")
        });
    let data = tempfile::tempdir()?;
    let server = InProcessServer::start(data.path(), MORNING).await?;
    let answer = Client::new(&server.base).get("/openapi.json", None).await?;
    server.stop().await;
    assert_eq!(answer.status, 200, "{answer:?}");
    let file = data.path().join("openapi.json");
    std::fs::write(&file, serde_json::to_vec_pretty(&answer.body)?)?;
    let output = Command::new(&validator).arg(&file).stdin(Stdio::null()).output()?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "openapi-spec-validator rejects the served /openapi.json:\n{stdout}\n{stderr}"
    );
    Ok(())
}
