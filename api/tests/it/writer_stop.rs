//! Crash-only: when the writer task stops (here: a log whose append panics inside it, standing for any bug
//! that panics the writer), `/readyz` answers 503 at once, naming why, and `server::serve` ends with an error
//! so that the process exits non-zero and a supervisor restarts it.

use std::sync::Arc;
use std::time::Duration;

use api::http::App;
use async_trait::async_trait;
use axum::http::StatusCode;
use domain::{Actor, Cny, Command, Jurisdiction, Role};
use engine::clock::Clock;
use engine::writer::{self, Loaded, WriteError};
use store::file::FileLog;
use store::{EventLog, Head, StoreError, StoredRecord};

/// The embedded log, except that an append panics (in the writer task, which calls it).
struct PanicsOnAppend(FileLog);

#[async_trait]
impl EventLog for PanicsOnAppend {
    async fn head(&self) -> Result<Head, StoreError> {
        self.0.head().await
    }

    async fn append(&self, _expected: Head, _records: Vec<StoredRecord>) -> Result<Head, StoreError> {
        panic!("injected panic in the writer's append");
    }

    async fn read_batch(&self, from: u64, max: usize) -> Result<Vec<StoredRecord>, StoreError> {
        self.0.read_batch(from, max).await
    }
}

fn appropriation() -> (Command, Actor) {
    let command = Command::AppropriateBudget {
        jurisdiction: Jurisdiction::Guiyang,
        fiscal_year: 2025,
        amount: Cny::from_fen(100).expect("positive"),
    };
    let actor = Actor {
        subject: "finance-1".into(),
        role: Role::Finance,
        jurisdiction: Some(Jurisdiction::Guiyang),
        credit_code: None,
    };
    (command, actor)
}

async fn app(dir: &std::path::Path) -> App {
    let (inner, _) = FileLog::open(dir).expect("open");
    let log: Arc<dyn EventLog> = Arc::new(PanicsOnAppend(inner));
    let loaded = Loaded::from_log(log.as_ref()).await.expect("load");
    let clock = Clock::manual(
        chrono::DateTime::parse_from_rfc3339("2025-03-03T09:00:00+08:00").expect("date").to_utc(),
    );
    let (writer, shared) = writer::spawn(log.clone(), loaded, clock.clone());
    let (_never_closing, closing) = tokio::sync::watch::channel(false);
    App {
        writer,
        shared,
        auth: Arc::new(api::auth::Authenticator::new(b"a test secret of at least 32 bytes!").expect("key")),
        clock,
        metrics: None,
        log,
        as_of: Arc::default(),
        closing,
        follow_halted: Arc::default(),
    }
}

async fn readyz(app: &App) -> (StatusCode, serde_json::Value) {
    use axum::response::IntoResponse;
    let response = api::http::readyz(axum::extract::State(app.clone())).await.into_response();
    let status = response.status();
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 16).await.expect("body");
    (status, serde_json::from_slice(&bytes).expect("json"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn when_the_writer_task_stops_readiness_flips_at_once_and_serve_ends_with_an_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let app = app(dir.path()).await;
    let (status, body) = readyz(&app).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(app.writer.stopped(), None);

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let served = tokio::spawn(api::server::serve(listener, app.clone(), std::future::pending()));

    let (command, actor) = appropriation();
    let answer = app.writer.submit(command, actor, None, [0; 32]).await;
    assert!(matches!(answer, Err(WriteError::Unavailable(_))), "{answer:?}");

    let reason =
        tokio::time::timeout(Duration::from_secs(5), app.writer.wait_stopped()).await.expect("stopped");
    assert!(reason.contains("injected panic in the writer's append"), "{reason}");
    let (status, body) = readyz(&app).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(body["ready"], false);
    assert!(body["writer_stopped"].as_str().is_some_and(|why| why.contains("panicked")), "{body}");

    let served =
        tokio::time::timeout(Duration::from_secs(5), served).await.expect("serve ended").expect("task");
    let error = served.expect_err("serve ends with an error when the writer stops");
    assert!(error.to_string().contains("supervisor restarts"), "{error}");

    // Later commands are answered 503 at once, never hang.
    let (command, actor) = appropriation();
    let later =
        tokio::time::timeout(Duration::from_secs(1), app.writer.submit(command, actor, None, [0; 32]))
            .await
            .expect("answered at once");
    assert!(matches!(later, Err(WriteError::Unavailable(_))), "{later:?}");
}
