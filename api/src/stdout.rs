//! Standard output closed by its reader: `voucher-ledger export vouchers | head -1` ends quietly.
//!
//! Rust ignores SIGPIPE, so a write to a pipe whose reader has gone fails with `BrokenPipe`: `println!`
//! panics ("failed printing to stdout: Broken pipe"), and a `write` returns the error. Either way the reader
//! has all it wanted, so the command ends there, with status 0 and nothing on stderr, as `cat | head` does
//! for a shell user (but without dying of a signal). This is decided here only: [`end_quietly_when_closed`]
//! (called first in `main`) for every `println!` of every command, and [`Stdout`] for the commands that
//! write a stream (`export`). A broken pipe anywhere else (a socket to PostgreSQL) stays an error.
//!
//! Commands print their result when their work is done (a writing command, `demo` or `migrate-store`, has
//! appended and verified before it prints), so ending at a closed stdout cuts only output nobody reads.

use std::io::{self, Write};

/// Ends the process quietly: the reader of stdout closed it.
fn quiet_end() -> ! {
    std::process::exit(0)
}

/// True for the panic `println!` raises when stdout is a closed pipe.
fn is_closed_stdout(message: &str) -> bool {
    message.starts_with("failed printing to stdout") && message.contains("Broken pipe")
}

/// Makes a `println!` to a closed stdout end the process quietly (status 0) instead of panicking with
/// "failed printing to stdout: Broken pipe"; every other panic is reported as before.
pub fn end_quietly_when_closed() {
    let report = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let payload = info.payload();
        let message = payload
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| payload.downcast_ref::<&str>().copied());
        if message.is_some_and(is_closed_stdout) {
            quiet_end();
        }
        report(info);
    }));
}

/// Standard output for a stream of bytes: a write its reader has closed ends the process quietly.
#[derive(Debug, Default)]
pub struct Stdout;

impl Write for Stdout {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match io::stdout().lock().write(buf) {
            Err(error) if error.kind() == io::ErrorKind::BrokenPipe => quiet_end(),
            result => result,
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match io::stdout().lock().flush() {
            Err(error) if error.kind() == io::ErrorKind::BrokenPipe => quiet_end(),
            result => result,
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn only_a_closed_stdout_is_a_quiet_end() {
        assert!(super::is_closed_stdout("failed printing to stdout: Broken pipe (os error 32)"));
        assert!(!super::is_closed_stdout("failed printing to stderr: Broken pipe (os error 32)"));
        assert!(!super::is_closed_stdout("failed printing to stdout: No space left on device (os error 28)"));
        assert!(!super::is_closed_stdout("index out of bounds"));
    }
}
