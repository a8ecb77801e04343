//! The light load generator: HTTP/1.1 keep-alive over plain tokio sockets, requests rendered to bytes
//! beforehand, answers read with `httparse` (the parser hyper uses) up to their `Content-Length`. No
//! connection pool, no header maps, no URL parsing per request: on a single-threaded runtime it costs a few
//! microseconds of CPU per request (measured and reported beside each figure that uses it, from
//! `/proc/self/stat`), against about 40 % of the two cores for `reqwest` in the `http` figure.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

/// One keep-alive connection; opened again when an answer says `Connection: close` (the server says so when
/// it answers before reading a request's body, a refusal such as 413 or 429, and then closes it).
pub struct Conn {
    address: SocketAddr,
    stream: TcpStream,
    buffer: Vec<u8>,
    closing: bool,
}

/// An answer: its status and its body.
pub struct Answer {
    pub status: u16,
    pub body: Vec<u8>,
}

/// The `host:port` of a base URL `http://host:port`.
pub fn address(base: &str) -> anyhow::Result<SocketAddr> {
    let authority = base.strip_prefix("http://").unwrap_or(base).trim_end_matches('/');
    authority.parse().with_context(|| format!("{base} is not http://address:port"))
}

/// A request as the bytes sent: `method path`, the headers given, and the body with its length.
pub fn render(method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Vec<u8> {
    let mut out =
        Vec::with_capacity(160 + body.len() + headers.iter().map(|(_, v)| v.len() + 24).sum::<usize>());
    out.extend_from_slice(format!("{method} {path} HTTP/1.1\r\nhost: bench\r\n").as_bytes());
    for (name, value) in headers {
        out.extend_from_slice(format!("{name}: {value}\r\n").as_bytes());
    }
    if !body.is_empty() || method == "POST" {
        out.extend_from_slice(
            format!("content-type: application/json\r\ncontent-length: {}\r\n", body.len()).as_bytes(),
        );
    }
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(body);
    out
}

impl Conn {
    /// Connects to `address` (no delay: a request is one write).
    pub async fn connect(address: SocketAddr) -> anyhow::Result<Conn> {
        let stream = TcpStream::connect(address).await.with_context(|| format!("connecting to {address}"))?;
        stream.set_nodelay(true)?;
        Ok(Conn { address, stream, buffer: Vec::with_capacity(4096), closing: false })
    }

    /// Sends one rendered request and reads its answer (on a new connection if the last answer closed this
    /// one).
    pub async fn send(&mut self, request: &[u8]) -> anyhow::Result<Answer> {
        if self.closing {
            *self = Conn::connect(self.address).await?;
        }
        self.stream.write_all(request).await.context("sending a request")?;
        loop {
            if let Some(answer) = self.take_answer()? {
                return Ok(answer);
            }
            let mut chunk = [0u8; 8192];
            let read = self.stream.read(&mut chunk).await.context("reading an answer")?;
            if read == 0 {
                bail!("the server closed the connection before answering");
            }
            self.buffer.extend_from_slice(&chunk[..read]);
        }
    }

    /// A complete answer from the front of the buffer, if one is there.
    fn take_answer(&mut self) -> anyhow::Result<Option<Answer>> {
        let mut headers = [httparse::EMPTY_HEADER; 32];
        let mut response = httparse::Response::new(&mut headers);
        let head = match response.parse(&self.buffer).context("an answer that is not HTTP/1.1")? {
            httparse::Status::Complete(head) => head,
            httparse::Status::Partial => return Ok(None),
        };
        let status = response.code.unwrap_or(0);
        let mut length = None;
        for header in response.headers.iter() {
            if header.name.eq_ignore_ascii_case("content-length") {
                length = std::str::from_utf8(header.value).ok().and_then(|v| v.trim().parse::<usize>().ok());
            } else if header.name.eq_ignore_ascii_case("transfer-encoding") {
                bail!("a chunked answer (the light client reads Content-Length answers only)");
            } else if header.name.eq_ignore_ascii_case("connection")
                && header.value.eq_ignore_ascii_case(b"close")
            {
                self.closing = true;
            }
        }
        let length = length.context("an answer without Content-Length")?;
        if self.buffer.len() < head + length {
            return Ok(None);
        }
        let body = self.buffer[head..head + length].to_vec();
        self.buffer.drain(..head + length);
        Ok(Some(Answer { status, body }))
    }
}

/// CPU seconds (user + system) used so far by process `pid` (`None`: this process), from `/proc`; 0 where
/// it cannot be read.
pub fn cpu_seconds(pid: Option<u32>) -> f64 {
    let path = pid.map_or_else(|| "/proc/self/stat".to_owned(), |pid| format!("/proc/{pid}/stat"));
    let Ok(stat) = std::fs::read_to_string(path) else { return 0.0 };
    // Fields after the command name (which may hold spaces, so split after its closing parenthesis):
    // state is field 3, utime 14, stime 15.
    let Some(rest) = stat.rsplit_once(')').map(|(_, rest)| rest) else { return 0.0 };
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |index: usize| fields.get(index).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    // USER_HZ is 100 on Linux.
    (ticks(11) + ticks(12)) / 100.0
}

/// Requests per second of GET `path` from `connections` connections for `seconds`, and this process's CPU
/// seconds per wall second meanwhile.
pub async fn noop_rate(
    base: &str,
    path: &str,
    connections: usize,
    seconds: f64,
) -> anyhow::Result<(f64, f64)> {
    let address = address(base)?;
    let request = Arc::new(render("GET", path, &[], b""));
    let mut conns = Vec::new();
    for _ in 0..connections {
        conns.push(Conn::connect(address).await?);
    }
    let done = Arc::new(AtomicU64::new(0));
    let cpu = cpu_seconds(None);
    let started = Instant::now();
    let deadline = started + Duration::from_secs_f64(seconds);
    let mut tasks = Vec::new();
    for mut conn in conns {
        let (request, done) = (request.clone(), done.clone());
        tasks.push(tokio::spawn(async move {
            while Instant::now() < deadline {
                let answer = conn.send(&request).await?;
                if answer.status != 200 {
                    bail!("the no-op route answered {}", answer.status);
                }
                done.fetch_add(1, Ordering::Relaxed);
            }
            anyhow::Ok(())
        }));
    }
    for task in tasks {
        task.await??;
    }
    let elapsed = started.elapsed();
    let cpu_share = (cpu_seconds(None) - cpu) / elapsed.as_secs_f64().max(f64::EPSILON);
    Ok((engine::workload::per_second(done.load(Ordering::Relaxed), elapsed), cpu_share))
}

/// The runtime the light generator runs on: one thread, so that its cost stays a fraction of one core.
pub fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread().enable_all().build().context("starting the runtime")
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::net::TcpListener;

    /// A server that answers one request per connection and closes it, saying so: the client opens a new
    /// connection for the next request instead of failing on the closed one.
    #[tokio::test]
    async fn an_answer_that_closes_the_connection_is_followed_by_a_new_connection() {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let address = listener.local_addr().expect("address");
        let server = tokio::spawn(async move {
            for status in ["429 Too Many Requests", "200 OK"] {
                let (mut stream, _) = listener.accept().await.expect("accept");
                let mut request = [0u8; 1024];
                let read = stream.read(&mut request).await.expect("read");
                assert!(read > 0, "a request on each connection");
                let answer = format!("HTTP/1.1 {status}\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok");
                stream.write_all(answer.as_bytes()).await.expect("write");
            }
        });
        let mut conn = Conn::connect(address).await.expect("connect");
        let request = render("GET", "/", &[], b"");
        assert_eq!(conn.send(&request).await.expect("first").status, 429);
        let second = conn.send(&request).await.expect("second, on a new connection");
        assert_eq!((second.status, second.body.as_slice()), (200, b"ok".as_slice()));
        server.await.expect("server");
    }
}
