//! Redemption announcements and the periods they run (SPEC §3, §6, Measures art. 11, 14) over HTTP:
//! [`periods`] (5 working days of the published holiday calendar) and [`policy_end`] (money outlives its
//! policy; a period touching the end of December). Both start from the one scene here.

use domain::Jurisdiction;
use e2e::{
    Client, InProcessServer, MORNING, admitted_provider, contract_body, credit_code, filed_contract,
    run_verify, voucher_holder,
};

mod periods;
mod policy_end;

const GY: Jurisdiction = Jurisdiction::Guiyang;
const TESTING: &str = "inspection_testing";

struct Scene {
    server: InProcessServer,
    client: Client,
    provider: String,
    applicant: String,
    voucher_id: String,
    contract_id: String,
    data: tempfile::TempDir,
}

/// From 2025-03-03: a 10,000,000.00 budget, a batch of 1,000,000.00 under the shipped Measures (vouchers
/// valid to 2025-12-31), enterprise 1 with a 100,000.00 voucher, provider 501 admitted, and a filed contract
/// of 80,000.00 on the voucher.
async fn scene() -> anyhow::Result<Scene> {
    let data = tempfile::tempdir()?;
    let server = InProcessServer::start(data.path(), MORNING).await?;
    let client = Client::new(&server.base);
    let batch_id = e2e::publish_batch(&client, GY, "10000000.00", "1000000.00", "100000.00").await?;
    let (applicant, voucher_id) = voucher_holder(&client, GY, &batch_id, 1).await?;
    let provider = admitted_provider(&client, GY, 501, &[TESTING]).await?;
    let terms = contract_body(&voucher_id, &credit_code(501), TESTING, "100000.00", "80000.00");
    let contract_id = filed_contract(&client, GY, &provider, &applicant, &terms).await?;
    Ok(Scene { server, client, provider, applicant, voucher_id, contract_id, data })
}

/// Stops the server and runs `voucher-ledger verify` on its log.
async fn stop_and_verify(scene: Scene) -> anyhow::Result<()> {
    scene.server.stop().await;
    let verification = run_verify(scene.data.path())?;
    anyhow::ensure!(verification.success, "verify failed: {verification:?}");
    Ok(())
}
