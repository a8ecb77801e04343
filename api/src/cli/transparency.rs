//! The transparency log on the command line: `keygen` (a checkpoint signing key), `serve --signing-key`,
//! `proof` (a party's proof bundle, offline), `check-proof` (a bundle checked with no database and no
//! network), `verify --checkpoint` (the local log extends a signed checkpoint) and `check-consistency` (two
//! signed checkpoints and the consistency proof between them).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context as _, anyhow, bail};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use domain::CreditCode;
use engine::open::{Access, StoreSpec, open_store};
use engine::transparency::{Signer, tree_hash_for};
use tlog::{Algorithm, Bundle, Checkpoint, NodeHash, SigningKey, TreeHash, VerifierKey};

/// The key name of `serve --dev`'s ephemeral key (and so the origin of its checkpoints).
pub const DEV_KEY_NAME: &str = "voucher-ledger-dev";

/// `serve`'s and `proof`'s signing key.
#[derive(clap::Args, Debug, Default)]
pub struct SigningArgs {
    /// The checkpoint signing key (written by `voucher-ledger keygen`). Its algorithm decides the Merkle
    /// tree's hash: Ed25519 signs a SHA-256 tree, SM2 an SM3 tree (the 国密 option). Without it, `serve --dev`
    /// generates an Ed25519 key for the run and prints its verifier key; otherwise no checkpoint is signed
    /// (GET /v1/checkpoint answers 404 no_signing_key; proofs are still served).
    #[arg(long, value_name = "FILE")]
    pub signing_key: Option<PathBuf>,
    /// The checkpoint's origin line (default: the signing key's name, which `keygen --name` sets; name the
    /// key after the log, e.g. `voucher-ledger.example.gov.cn/guiyang`).
    #[arg(long, requires = "signing_key")]
    pub origin: Option<String>,
}

impl SigningArgs {
    /// The signer `serve` uses: the key file's, or with `dev` and no file a fresh Ed25519 key whose
    /// verifier key is printed on stderr.
    ///
    /// # Errors
    /// The key file cannot be read or is not a signing key.
    pub fn signer(&self, dev: bool) -> anyhow::Result<Option<Signer>> {
        match &self.signing_key {
            Some(path) => {
                let key = read_signing_key(path)?;
                let origin = self.origin.clone().unwrap_or_else(|| key.name().to_owned());
                Ok(Some(Signer { key, origin }))
            }
            None if dev => {
                let key = SigningKey::generate(DEV_KEY_NAME, Algorithm::Ed25519)
                    .map_err(|error| anyhow!("generating the dev signing key: {error}"))?;
                eprintln!("dev mode: generated checkpoint signing key; verifier key {}", key.verifier());
                Ok(Some(Signer { origin: key.name().to_owned(), key }))
            }
            None => Ok(None),
        }
    }
}

fn read_signing_key(path: &Path) -> anyhow::Result<SigningKey> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    SigningKey::from_file_text(&text)
        .map_err(|error| anyhow!("{}: not a signing key: {error}", path.display()))
}

/// The signature algorithm of `keygen --algorithm`.
#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub enum AlgorithmArg {
    Ed25519,
    Sm2,
}

/// `voucher-ledger keygen`.
#[derive(clap::Args, Debug)]
pub struct KeygenArgs {
    /// The key's name (the checkpoints' origin by default; no spaces or '+').
    #[arg(long)]
    pub name: String,
    /// Where to write the signing key (mode 0600; an existing file is not overwritten).
    #[arg(long)]
    pub out: PathBuf,
    /// ed25519 (default) or sm2 (GB/T 32918; the tree is then hashed with SM3).
    #[arg(long, value_enum, default_value_t = AlgorithmArg::Ed25519)]
    pub algorithm: AlgorithmArg,
}

/// Writes a signing key (mode 0600, never over an existing file) and prints its verifier key.
///
/// # Errors
/// The name is refused, or the file exists or cannot be written.
pub fn keygen(args: KeygenArgs) -> anyhow::Result<ExitCode> {
    let algorithm = match args.algorithm {
        AlgorithmArg::Ed25519 => Algorithm::Ed25519,
        AlgorithmArg::Sm2 => Algorithm::Sm2,
    };
    let key = SigningKey::generate(&args.name, algorithm).map_err(|error| anyhow!("{error}"))?;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options
        .open(&args.out)
        .with_context(|| format!("creating {} (an existing key is never overwritten)", args.out.display()))?;
    std::io::Write::write_all(&mut file, key.to_file_text().as_bytes())
        .and_then(|()| file.sync_all())
        .with_context(|| format!("writing {}", args.out.display()))?;
    println!("{}", key.verifier());
    Ok(ExitCode::SUCCESS)
}

/// `voucher-ledger proof`.
#[derive(clap::Args, Debug)]
pub struct ProofArgs {
    /// The embedded store's directory.
    #[arg(long, default_value = "./data")]
    pub data: PathBuf,
    /// Another store instead of --data: postgres://... or kurrentdb://...
    #[arg(long, env = "VOUCHER_LEDGER_STORE", hide_env_values = true, conflicts_with = "data")]
    pub store: Option<StoreSpec>,
    /// The applicant's (or provider's) unified social credit code.
    #[arg(long)]
    pub credit_code: String,
    /// Where to write the bundle (JSON, as GET /v1/applicants/{credit_code}/proof answers it).
    #[arg(long)]
    pub out: PathBuf,
    #[command(flatten)]
    pub signing: SigningArgs,
}

/// Writes a party's proof bundle from the log, offline: the records that concern it, proven against a
/// checkpoint of the whole log signed with --signing-key.
///
/// # Errors
/// No key, the store cannot be read or its chain does not verify, the credit code is unknown.
pub fn proof(args: ProofArgs) -> anyhow::Result<ExitCode> {
    let credit_code = CreditCode::parse(&args.credit_code)?;
    let Some(signer) = args.signing.signer(false)? else {
        bail!("proof signs the bundle's checkpoint: give --signing-key FILE");
    };
    let store = args.store.unwrap_or(StoreSpec::File(args.data));
    let runtime = tokio::runtime::Runtime::new().context("starting the runtime")?;
    let bundle = runtime.block_on(async {
        let opened = open_store(&store, Access::ReadOnly).await?;
        let hash = tree_hash_for(signer.key.algorithm());
        let loaded = engine::writer::Loaded::from_log_hashed(opened.log.as_ref(), hash).await?;
        if crate::http::transparency::party_jurisdiction(&loaded.projections, &credit_code).is_none() {
            bail!("{credit_code} is neither a registered applicant nor a provider in {store}");
        }
        let size = loaded.tree.len();
        let root = loaded.tree.root(size).map_err(|error| anyhow!("{error}"))?;
        let checkpoint = engine::transparency::sign(&signer, size, root)?;
        let projections = &loaded.projections;
        let tree = &loaded.tree;
        crate::http::transparency::assemble(
            opened.log.as_ref(),
            &checkpoint,
            hash,
            &credit_code,
            &|events| {
                events
                    .iter()
                    .map(|event| crate::http::access::concerns(event, projections, &credit_code))
                    .collect()
            },
            &|indexes| indexes.iter().map(|index| tree.inclusion_proof(*index, size)).collect(),
        )
        .await
        .map_err(|error| anyhow!("{}: {}", error.code, error.detail))
    })?;
    let text = serde_json::to_string_pretty(&bundle)?;
    std::fs::write(&args.out, text).with_context(|| format!("writing {}", args.out.display()))?;
    println!(
        "proof: wrote {} records of {credit_code} proven against checkpoint size {} into {}",
        bundle.records.len(),
        checkpoint_size(&bundle.checkpoint),
        args.out.display()
    );
    Ok(ExitCode::SUCCESS)
}

fn checkpoint_size(note: &str) -> String {
    note.lines().nth(1).unwrap_or("?").to_owned()
}

/// `voucher-ledger check-proof`.
#[derive(clap::Args, Debug)]
pub struct CheckProofArgs {
    /// The bundle (JSON, from GET /v1/applicants/{credit_code}/proof or `voucher-ledger proof`).
    pub file: PathBuf,
    /// The ledger's verifier key, NAME+<key id hex>+<base64>, as keygen or serve printed it.
    #[arg(long)]
    pub key: String,
}

fn parse_key(text: &str) -> anyhow::Result<VerifierKey> {
    text.trim().parse().map_err(|error| anyhow!("--key {text:?} is not a verifier key: {error}"))
}

/// Checks a bundle offline (no database, no network): the checkpoint's signature, every record's inclusion,
/// and that every record decodes; prints the history in words. Exit 0 only when everything checks.
///
/// # Errors
/// The file cannot be read, or the key is malformed (a bundle that fails a check is exit 1, not an error).
pub fn check_proof(args: CheckProofArgs) -> anyhow::Result<ExitCode> {
    let key = parse_key(&args.key)?;
    let text =
        std::fs::read_to_string(&args.file).with_context(|| format!("reading {}", args.file.display()))?;
    let bundle: Bundle = match serde_json::from_str(&text) {
        Ok(bundle) => bundle,
        Err(error) => return Ok(failed(&format!("the bundle is not a proof bundle: {error}"))),
    };
    if bundle.format != crate::http::transparency::BUNDLE_FORMAT {
        return Ok(failed(&format!("unknown bundle format {:?}", bundle.format)));
    }
    let (checkpoint, records) = match bundle.check(&key) {
        Ok(checked) => checked,
        Err(error) => return Ok(failed(&error.to_string())),
    };
    println!(
        "check-proof: checkpoint origin={} size={} root={} signed by {} ({}, {} tree)",
        checkpoint.origin,
        checkpoint.size,
        BASE64.encode(checkpoint.root),
        key.name(),
        algorithm_name(key.algorithm()),
        bundle.tree_hash.as_str()
    );
    println!("history of {} ({} records, each included in the checkpoint):", bundle.subject, records.len());
    for (position, bytes) in &records {
        let record = store::StoredRecord {
            position: *position,
            ends_command: false,
            hash: [0; 32],
            bytes: bytes.clone(),
        };
        match ledger_proto::decode_record(&record) {
            Ok(recorded) => println!("  {}", in_words(&recorded)),
            Err(error) => {
                return Ok(failed(&format!("the record at position {position} does not decode: {error}")));
            }
        }
    }
    println!(
        "check-proof: ok subject={} records={} checkpoint_size={}",
        bundle.subject,
        records.len(),
        checkpoint.size
    );
    Ok(ExitCode::SUCCESS)
}

fn failed(reason: &str) -> ExitCode {
    println!("check-proof: FAILED {reason}");
    ExitCode::FAILURE
}

fn algorithm_name(algorithm: Algorithm) -> &'static str {
    match algorithm {
        Algorithm::Ed25519 => "Ed25519",
        Algorithm::Sm2 => "SM2",
    }
}

/// One record in words: where, when, what, by whom, and its fields.
fn in_words(recorded: &ledger_proto::Recorded) -> String {
    let actor = &recorded.meta.actor;
    let payload = ledger_proto::event_payload_json(&recorded.event);
    format!(
        "#{} {} {} by {} {}: {}",
        recorded.position,
        recorded.meta.business_date,
        recorded.event.event_type(),
        actor.role.as_str(),
        actor.subject,
        payload
    )
}

/// Reads a signed checkpoint file and, with a key, checks its signature.
fn read_checkpoint(path: &Path, key: Option<&VerifierKey>) -> anyhow::Result<Result<Checkpoint, String>> {
    let note = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let text = match key {
        Some(key) => match tlog::open_note(&note, std::slice::from_ref(key)) {
            Ok(text) => text,
            Err(error) => {
                return Ok(Err(format!("{}: the signature does not check: {error}", path.display())));
            }
        },
        None => match tlog::split_note(&note) {
            Ok((text, _)) => text,
            Err(error) => return Ok(Err(format!("{}: not a signed note: {error}", path.display()))),
        },
    };
    Ok(Checkpoint::parse(&text).map_err(|error| format!("{}: not a checkpoint: {error}", path.display())))
}

/// `verify --checkpoint FILE [--key K]`: whether the log in `store` extends the checkpoint (it holds at
/// least its size, and its tree at that size has the checkpoint's root). Prints one line; true when it does.
///
/// # Errors
/// The file or the store cannot be read.
pub async fn verify_checkpoint(store: &StoreSpec, path: &Path, key: Option<&str>) -> anyhow::Result<bool> {
    let key = key.map(parse_key).transpose()?;
    let checkpoint = match read_checkpoint(path, key.as_ref())? {
        Ok(checkpoint) => checkpoint,
        Err(reason) => {
            println!("verify: FAILED checkpoint: {reason}");
            return Ok(false);
        }
    };
    // The tree's hash follows the key's algorithm; without a key, SHA-256 (the default).
    let hash = key.as_ref().map_or(TreeHash::Sha256, |key| tree_hash_for(key.algorithm()));
    let opened = open_store(store, Access::ReadOnly).await?;
    let head = opened.log.head().await?.position;
    if head < checkpoint.size {
        println!(
            "verify: FAILED checkpoint size={}: the log holds {head} records, fewer than the checkpoint's {} (cut back?)",
            checkpoint.size, checkpoint.size
        );
        return Ok(false);
    }
    let tree = engine::transparency::build_tree(opened.log.as_ref(), hash, checkpoint.size).await?;
    let root = tree.root(checkpoint.size).map_err(|error| anyhow!("{error}"))?;
    if root != checkpoint.root {
        println!(
            "verify: FAILED checkpoint size={}: the log's root at that size is {}, the checkpoint's {} (rewritten?)",
            checkpoint.size,
            BASE64.encode(root),
            BASE64.encode(checkpoint.root)
        );
        return Ok(false);
    }
    println!(
        "verify: checkpoint ok origin={} size={} root={} (the log holds {head} records){}",
        checkpoint.origin,
        checkpoint.size,
        BASE64.encode(root),
        if key.is_some() { ", signature checked" } else { ", signature NOT checked (no --key)" }
    );
    Ok(true)
}

/// `voucher-ledger check-consistency`.
#[derive(clap::Args, Debug)]
pub struct CheckConsistencyArgs {
    /// The older signed checkpoint (a file as GET /v1/checkpoint served it).
    pub old: PathBuf,
    /// The newer signed checkpoint.
    pub new: PathBuf,
    /// The ledger's verifier key; both checkpoints must be signed by it.
    #[arg(long)]
    pub key: String,
    /// Compute the consistency proof from this local log (its directory).
    #[arg(long, conflicts_with_all = ["store", "proof"])]
    pub data: Option<PathBuf>,
    /// Compute the consistency proof from this store: postgres://... or kurrentdb://...
    #[arg(long, conflicts_with = "proof")]
    pub store: Option<StoreSpec>,
    /// The consistency proof as GET /v1/proofs/consistency?from=OLD&to=NEW served it (JSON), fetched from
    /// the ledger's server; checked offline.
    #[arg(long, required_unless_present_any = ["data", "store"])]
    pub proof: Option<PathBuf>,
}

/// Checks two signed checkpoints against a consistency proof: the newer tree extends the older one.
///
/// # Errors
/// A file or the store cannot be read, or the key is malformed (a failed check is exit 1).
pub fn check_consistency(args: CheckConsistencyArgs) -> anyhow::Result<ExitCode> {
    let key = parse_key(&args.key)?;
    let fail = |reason: String| -> anyhow::Result<ExitCode> {
        println!("check-consistency: FAILED {reason}");
        Ok(ExitCode::FAILURE)
    };
    let old = match read_checkpoint(&args.old, Some(&key))? {
        Ok(checkpoint) => checkpoint,
        Err(reason) => return fail(reason),
    };
    let new = match read_checkpoint(&args.new, Some(&key))? {
        Ok(checkpoint) => checkpoint,
        Err(reason) => return fail(reason),
    };
    if old.origin != new.origin {
        return fail(format!("the checkpoints are of two logs: {:?} and {:?}", old.origin, new.origin));
    }
    if old.size > new.size {
        return fail(format!(
            "the old checkpoint's size {} is larger than the new one's {}",
            old.size, new.size
        ));
    }
    let hash = tree_hash_for(key.algorithm());
    let proof: Vec<NodeHash> =
        match (&args.proof, args.store.clone().or(args.data.clone().map(StoreSpec::File))) {
            (Some(path), _) => {
                let text =
                    std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
                let served: serde_json::Value =
                    serde_json::from_str(&text).with_context(|| format!("{} is not JSON", path.display()))?;
                if served["first"] != old.size || served["second"] != new.size {
                    return fail(format!(
                        "the proof is from {} to {}, not from {} to {}",
                        served["first"], served["second"], old.size, new.size
                    ));
                }
                let mut hashes = Vec::new();
                for item in served["consistency"].as_array().cloned().unwrap_or_default() {
                    let decoded = item.as_str().and_then(|text| BASE64.decode(text).ok());
                    match decoded.and_then(|bytes| NodeHash::try_from(bytes.as_slice()).ok()) {
                        Some(hash) => hashes.push(hash),
                        None => return fail(format!("the proof holds {item}, not a base64 hash")),
                    }
                }
                hashes
            }
            (None, Some(store)) => {
                let runtime = tokio::runtime::Runtime::new().context("starting the runtime")?;
                let tree = runtime.block_on(async {
                    let opened = open_store(&store, Access::ReadOnly).await?;
                    anyhow::Ok(engine::transparency::build_tree(opened.log.as_ref(), hash, new.size).await?)
                })?;
                if tree.len() < new.size {
                    return fail(format!(
                        "the local log holds {} records, fewer than the new checkpoint's {}",
                        tree.len(),
                        new.size
                    ));
                }
                match tree.consistency_proof(old.size, new.size) {
                    Ok(proof) => proof,
                    Err(error) => return fail(error.to_string()),
                }
            }
            (None, None) => bail!("give --proof FILE, --data DIR or --store URL"),
        };
    match tlog::verify_consistency(hash, old.size, new.size, &old.root, &new.root, &proof) {
        Ok(()) => {
            println!(
                "check-consistency: ok origin={} {} extends {} (signed by {})",
                new.origin,
                new.size,
                old.size,
                key.name()
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(error) => {
            fail(format!("the tree of {} does not extend the tree of {}: {error}", new.size, old.size))
        }
    }
}
