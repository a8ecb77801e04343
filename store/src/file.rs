//! The embedded file log (the default backend): append-only segment files of CRC-checked frames.
//!
//! # Layout
//! ```text
//! DIR/LOCK                                  exclusive flock held by the one writer process
//! DIR/segments/{first_position:020}.seg     segment files, named by the position of their first frame
//! DIR/SEGMENTS_STARTED                      one line per segment started after the first: its first position
//! DIR/quarantine/{segment}-{offset}-{unix_seconds}.bin
//!                                           bytes recovery cut from a segment, unchanged (see below)
//! ```
//! The data directory and its subdirectories are created 0700, segment, quarantine and lock files 0600.
//!
//! # Frame format (all integers little endian)
//! ```text
//! len:  u32        length of the body in bytes (>= 41)
//! crc:  u32        CRC32C (Castagnoli) of the body
//! body:
//!   position: u64  global position of the record (from 1, no gaps)
//!   flags:    u8   bit 0 = ends_command; the other bits must be zero
//!   hash:     [u8; 32]
//!   bytes:    [u8; len - 41]   the record bytes
//! ```
//!
//! # Invariants
//! - Segment `n + 1` starts at the position after the last frame of segment `n`; the first segment starts at 1.
//! - A new segment is started only between commands (after a frame with `ends_command`), and only when the
//!   current segment is not empty and the next frame would take it past `segment_bytes_max`. So every sealed
//!   segment ends on a command boundary and a command larger than the limit still fits in one segment.
//! - An append is one write per touched segment plus `fdatasync`; the in-memory index and head move only after
//!   the sync succeeded.
//! - The current (last) segment is zero-filled ahead of the appends, [`PREALLOCATE_BYTES`] at a time, so that
//!   an append overwrites blocks already written and its `fdatasync` flushes data only (a growing file makes
//!   every `fdatasync` also write the inode's new size). A segment is cut back to its frames when it is
//!   sealed (before the next segment is created) and when the log is closed; a crash leaves the zeros.
//! - A failed write poisons the log (no further appends until reopened) and is rolled back on a best-effort
//!   basis.
//!
//! # Recovery at open
//! Zeros after the last frame of the last segment are the space written ahead (kept, not a problem). Only
//! the tail of the last segment may be repaired, and only what an interrupted write can leave: an
//! incomplete last frame (its header, or a length reaching past the end of the file), a last frame whose
//! CRC fails *and that shows unwritten space* (see [`TORN_ZEROS_MIN`]) with nothing but zeros after it, and
//! complete frames after the last frame that ends a command. A write that never reached the disk leaves
//! zeros (the space written ahead, or blocks a crash allocated but never wrote), never other bytes; so a
//! complete frame whose CRC fails without such zeros, or whose length field was damaged (its CRC matches a
//! shorter body), is a damaged record that may have been acknowledged: [`StoreError::Corrupt`], not cut.
//! Anything else that is wrong (a damaged frame followed by more data, a damaged sealed segment, positions
//! out of order, a missing segment) is [`StoreError::Corrupt`] too.
//!
//! Recovery never deletes bytes: what it cuts is first copied to a new file in `DIR/quarantine/`, which is
//! synced (and its directory) before the segment is cut. The open's [`Recovery`] and a log line name the
//! file, the positions and hashes of the complete frames in it and the position the damaged frame claims;
//! [`quarantined`] lists every quarantine file for `verify`.
//!
//! # What a shortened log looks like
//! A log cut back at a frame boundary is a valid shorter log: nothing in the remaining frames says more
//! followed. One case is caught cheaply: every segment started after the first is recorded in
//! `DIR/SEGMENTS_STARTED` (appended and synced after the segment's first frames are durable, and filled in at
//! open for older logs), so a deleted last segment (or several) is [`ScanProblem::MissingSegment`]. A cut
//! inside the last segment, or a deletion that also edits that file, is caught only by comparing with a head
//! kept elsewhere (`verify --expect-head`).

use std::fs::{self, File, OpenOptions, TryLockError};
use std::io::{self, BufReader, Read};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::{fmt, mem};

use async_trait::async_trait;

use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::time::{SystemTime, UNIX_EPOCH};

use crate::{EventLog, Hash, Head, Quarantined, Recovery, StoreError, StoredRecord};

/// Default size limit of a segment file: 64 MiB.
pub const DEFAULT_SEGMENT_BYTES_MAX: u64 = 64 << 20;

/// Zeros written ahead of the appends in the current segment, at a time.
pub const PREALLOCATE_BYTES: u64 = 4 << 20;

const HEADER_LEN: usize = 8;
/// position (8) + flags (1) + hash (32).
const BODY_FIXED_LEN: usize = 8 + 1 + 32;
const MIN_FRAME_LEN: usize = HEADER_LEN + BODY_FIXED_LEN;
const FLAG_ENDS_COMMAND: u8 = 1;
const SEGMENTS_DIR: &str = "segments";
const LOCK_FILE: &str = "LOCK";
const SEGMENT_SUFFIX: &str = ".seg";
const QUARANTINE_DIR: &str = "quarantine";
const SEGMENTS_STARTED: &str = "SEGMENTS_STARTED";
const QUARANTINE_SUFFIX: &str = ".bin";
/// Mode of the directories the log creates (owner only: the log holds applicants' identities).
const DIR_MODE: u32 = 0o700;
/// Mode of the files the log creates.
const FILE_MODE: u32 = 0o600;
/// A damaged last frame of full length is taken for a torn write only when it shows space a write never
/// reached: at least this many zero bytes at its end, or zeros at its end from a 512-byte boundary of the
/// file on (a write interrupted between pages, as a killed process leaves it), or an all-zero 512-byte
/// sector of the file inside it. A record's bytes end with the 32-byte previous hash (zeros for the first
/// record), so no intact record ends with this many zeros.
pub const TORN_ZEROS_MIN: usize = 64;
/// The sector size assumed for [`TORN_ZEROS_MIN`]'s second test.
const SECTOR: u64 = 512;
/// Buffer of the sequential scan at open.
const SCAN_BUFFER: usize = 1 << 20;
/// Largest byte range one `read_batch` reads with a single positioned read (at least one frame is read).
const READ_CHUNK_MAX: u64 = 4 << 20;
/// Number of cached read handles (segment files).
const HANDLE_CACHE: usize = 4;

/// Options of [`FileLog::open_with`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileLogOptions {
    /// A new segment is started when appending the next frame would take the current one past this size
    /// (only between commands, and never for an empty segment).
    pub segment_bytes_max: u64,
}

impl Default for FileLogOptions {
    fn default() -> Self {
        FileLogOptions { segment_bytes_max: DEFAULT_SEGMENT_BYTES_MAX }
    }
}

/// The embedded file log. Opened for writing ([`FileLog::open`], one process at a time, with recovery) or
/// read-only ([`FileLog::open_read_only`], a snapshot up to the last complete command, no lock).
pub struct FileLog {
    shared: Arc<Shared>,
}

struct Shared {
    dir: PathBuf,
    segments_dir: PathBuf,
    options: FileLogOptions,
    index: RwLock<Index>,
    /// `None` when read-only.
    writer: Option<Mutex<Writer>>,
    /// Small most-recently-used cache of read handles, keyed by segment first position.
    handles: Mutex<Vec<(u64, Arc<File>)>>,
    /// Held for the lifetime of the log; closing it releases the flock.
    _lock: Option<File>,
}

/// The writer's view of the last segment. Guarded by a mutex held only inside blocking code.
struct Writer {
    file: File,
    first_position: u64,
    /// The end of the last frame.
    len: u64,
    /// The file's size: `len` plus the zeros written ahead.
    allocated: u64,
    poisoned: bool,
}

impl Drop for Writer {
    /// Closing: the current segment is cut back to its frames (best effort; zeros left by a failure here or
    /// by a crash are read as space written ahead).
    fn drop(&mut self) {
        if !self.poisoned
            && self.allocated > self.len
            && let Err(error) = self.file.set_len(self.len).and_then(|()| self.file.sync_all())
        {
            tracing::warn!(%error, "file log: could not cut the space written ahead at close");
        }
    }
}

/// Per segment: the first position and the byte offset of every frame; enough to locate any record.
struct IndexSegment {
    first_position: u64,
    offsets: Vec<u64>,
    /// Bytes of the segment covered by indexed frames (end of the last one).
    len: u64,
}

struct Index {
    segments: Vec<IndexSegment>,
    head: Head,
}

/// A contiguous byte range of one segment holding `count` frames starting at `first`.
struct ReadPlan {
    segment_first_position: u64,
    first: u64,
    count: usize,
    start: u64,
    end: u64,
}

impl Index {
    /// Where the frames from `position` (at most `max`, at most up to the head, within one segment) are.
    fn plan(&self, position: u64, max: usize) -> Option<ReadPlan> {
        if position == 0 || position > self.head.position || max == 0 {
            return None;
        }
        let slot = self.segments.partition_point(|s| s.first_position <= position).checked_sub(1)?;
        let segment = &self.segments[slot];
        let local = usize::try_from(position - segment.first_position).ok()?;
        if local >= segment.offsets.len() {
            return None;
        }
        let up_to_head = usize::try_from(self.head.position - position + 1).unwrap_or(usize::MAX);
        let wanted = max.min(segment.offsets.len() - local).min(up_to_head);
        let end_of = |i: usize| segment.offsets.get(i + 1).copied().unwrap_or(segment.len);
        let start = segment.offsets[local];
        let mut count = 1;
        while count < wanted && end_of(local + count) - start <= READ_CHUNK_MAX {
            count += 1;
        }
        Some(ReadPlan {
            segment_first_position: segment.first_position,
            first: position,
            count,
            start,
            end: end_of(local + count - 1),
        })
    }
}

impl fmt::Debug for FileLog {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FileLog")
            .field("dir", &self.shared.dir)
            .field("read_only", &self.shared.writer.is_none())
            .field("head", &self.head_now())
            .finish()
    }
}

impl FileLog {
    /// Opens (creating if needed) the log in `dir` for writing, with the default options.
    ///
    /// # Errors
    /// See [`FileLog::open_with`].
    pub fn open(dir: &Path) -> Result<(FileLog, Recovery), StoreError> {
        FileLog::open_with(dir, FileLogOptions::default())
    }

    /// Opens (creating if needed) the log in `dir` for writing: takes the lock, validates every frame,
    /// cuts a torn tail off the last segment (reported in the returned [`Recovery`] and logged), and builds the
    /// in-memory index.
    ///
    /// # Errors
    /// `Locked` when another open log (in this or another process) holds `DIR/LOCK`; `Corrupt` when a frame
    /// other than the torn tail is damaged or positions are missing or out of order; `Unavailable` on I/O
    /// failure.
    pub fn open_with(dir: &Path, options: FileLogOptions) -> Result<(FileLog, Recovery), StoreError> {
        let created = !dir.exists();
        fs::DirBuilder::new().recursive(true).mode(DIR_MODE).create(dir).map_err(StoreError::Unavailable)?;
        if created && let Some(parent) = dir.parent().filter(|p| !p.as_os_str().is_empty()) {
            // Best effort: the data directory's own entry.
            let _ = sync_dir(parent);
        }
        let lock = lock_dir(dir)?;
        let segments_dir = dir.join(SEGMENTS_DIR);
        if !segments_dir.is_dir() {
            fs::DirBuilder::new().mode(DIR_MODE).create(&segments_dir).map_err(StoreError::Unavailable)?;
            sync_dir(dir).map_err(StoreError::Unavailable)?;
        }

        let loaded = load(&segments_dir)?;
        let mut recovery = Recovery::default();
        if let Some(cut) = &loaded.cut {
            let file =
                OpenOptions::new().read(true).write(true).open(&cut.path).map_err(StoreError::Unavailable)?;
            // Moved, not deleted: copied and synced to quarantine before the cut.
            let quarantine = quarantine_tail(dir, cut, &file).map_err(StoreError::Unavailable)?;
            file.set_len(cut.keep_len).map_err(StoreError::Unavailable)?;
            file.sync_all().map_err(StoreError::Unavailable)?;
            if let Some(q) = &quarantine {
                let frames: Vec<String> =
                    q.frames.iter().map(|(p, h)| format!("{p}:{}", hex_hash(h))).collect();
                tracing::warn!(
                    dir = %dir.display(),
                    segment = %cut.path.display(),
                    offset = cut.keep_len,
                    truncated_bytes = q.bytes,
                    truncated_from_position = cut.from_position,
                    quarantine = %q.path.display(),
                    complete_frames = %frames.join(","),
                    damaged_frame_claims_position = ?q.damaged_position,
                    "file log: moved a torn tail (an interrupted append) to quarantine and cut it at open"
                );
            }
            recovery = Recovery {
                truncated_bytes: cut.written_end - cut.keep_len,
                truncated_from_position: Some(cut.from_position),
                quarantine,
            };
        }

        let mut index = loaded.index;
        if let Some(last) = index.segments.last().filter(|s| s.first_position > 1)
            && read_segments_started(dir)
                .map_err(StoreError::Unavailable)?
                .is_none_or(|max| max < last.first_position)
        {
            // A log written before segments were recorded (or whose record lags): record the last one.
            record_segment_started(dir, last.first_position).map_err(StoreError::Unavailable)?;
        }
        if index.segments.is_empty() {
            let path = segment_path(&segments_dir, 1);
            OpenOptions::new()
                .read(true)
                .write(true)
                .create_new(true)
                .mode(FILE_MODE)
                .open(&path)
                .map_err(StoreError::Unavailable)?;
            sync_dir(&segments_dir).map_err(StoreError::Unavailable)?;
            index.segments.push(IndexSegment { first_position: 1, offsets: Vec::new(), len: 0 });
        }
        let (first_position, len) = match index.segments.last() {
            Some(last) => (last.first_position, last.len),
            None => (1, 0),
        };
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .open(segment_path(&segments_dir, first_position))
            .map_err(StoreError::Unavailable)?;
        let allocated = file.metadata().map_err(StoreError::Unavailable)?.len().max(len);

        let log = FileLog {
            shared: Arc::new(Shared {
                dir: dir.to_path_buf(),
                segments_dir,
                options,
                index: RwLock::new(index),
                writer: Some(Mutex::new(Writer { file, first_position, len, allocated, poisoned: false })),
                handles: Mutex::new(Vec::new()),
                _lock: Some(lock),
            }),
        };
        log.shared.load_head_hash()?;
        Ok((log, recovery))
    }

    /// Opens the log in `dir` read-only, without the lock and without repairing anything: a snapshot of the
    /// records up to the last complete command at the time of opening (safe while a writer is running).
    /// `append` on it fails with `Unavailable`.
    ///
    /// # Errors
    /// `Corrupt` as for [`FileLog::open_with`] (a torn tail is ignored, not an error); `Unavailable` when
    /// `DIR/segments` does not exist or on I/O failure.
    pub fn open_read_only(dir: &Path) -> Result<FileLog, StoreError> {
        let segments_dir = dir.join(SEGMENTS_DIR);
        if !segments_dir.is_dir() {
            return Err(StoreError::Unavailable(io::Error::new(
                io::ErrorKind::NotFound,
                format!("{} is not a file log (no {SEGMENTS_DIR}/ directory)", dir.display()),
            )));
        }
        let loaded = load(&segments_dir)?;
        let log = FileLog {
            shared: Arc::new(Shared {
                dir: dir.to_path_buf(),
                segments_dir,
                options: FileLogOptions::default(),
                index: RwLock::new(loaded.index),
                writer: None,
                handles: Mutex::new(Vec::new()),
                _lock: None,
            }),
        };
        log.shared.load_head_hash()?;
        Ok(log)
    }

    /// The current head (position and hash of the last durable record).
    pub fn head_now(&self) -> Head {
        self.shared.index().head
    }

    /// The directory this log lives in.
    pub fn dir(&self) -> &Path {
        &self.shared.dir
    }

    /// True when opened with [`FileLog::open_read_only`].
    pub fn is_read_only(&self) -> bool {
        self.shared.writer.is_none()
    }

    /// Blocking form of [`EventLog::append`], for callers outside an async runtime.
    ///
    /// # Errors
    /// As [`EventLog::append`]; also `Unavailable` when read-only or poisoned by an earlier I/O failure.
    pub fn append_blocking(&self, expected: Head, records: Vec<StoredRecord>) -> Result<Head, StoreError> {
        self.shared.append(expected, &records)
    }

    /// Blocking form of [`EventLog::read_batch`], for callers outside an async runtime.
    ///
    /// # Errors
    /// `Corrupt` when a frame read fails its CRC or does not match the index; `Unavailable` on I/O failure.
    pub fn read_batch_blocking(&self, from: u64, max: usize) -> Result<Vec<StoredRecord>, StoreError> {
        self.shared.read_batch(from, max)
    }
}

#[async_trait]
impl EventLog for FileLog {
    async fn head(&self) -> Result<Head, StoreError> {
        Ok(self.head_now())
    }

    async fn append(&self, expected: Head, records: Vec<StoredRecord>) -> Result<Head, StoreError> {
        let shared = Arc::clone(&self.shared);
        tokio::task::spawn_blocking(move || shared.append(expected, &records))
            .await
            .map_err(|e| StoreError::Unavailable(io::Error::other(e)))?
    }

    async fn read_batch(&self, from: u64, max: usize) -> Result<Vec<StoredRecord>, StoreError> {
        let shared = Arc::clone(&self.shared);
        tokio::task::spawn_blocking(move || shared.read_batch(from, max))
            .await
            .map_err(|e| StoreError::Unavailable(io::Error::other(e)))?
    }
}

/// One segment's frames to write in an append.
struct Chunk {
    segment_first_position: u64,
    new_segment: bool,
    start: u64,
    buf: Vec<u8>,
    offsets: Vec<u64>,
}

impl Shared {
    fn index(&self) -> RwLockReadGuard<'_, Index> {
        // The index is only replaced wholesale-consistent under the write lock; a panic elsewhere cannot
        // leave it half-updated, so a poisoned lock is still safe to read.
        self.index.read().unwrap_or_else(|e| e.into_inner())
    }

    fn index_mut(&self) -> RwLockWriteGuard<'_, Index> {
        self.index.write().unwrap_or_else(|e| e.into_inner())
    }

    /// Fills in the head's hash from the last indexed frame (the index knows only positions).
    fn load_head_hash(&self) -> Result<(), StoreError> {
        let position = self.index().head.position;
        if position == 0 {
            return Ok(());
        }
        let records = self.read_batch(position, 1)?;
        let hash = match records.first() {
            Some(record) => record.hash,
            None => {
                return Err(StoreError::Corrupt { position, reason: "head record not readable".into() });
            }
        };
        self.index_mut().head.hash = hash;
        Ok(())
    }

    fn handle(&self, segment_first_position: u64) -> Result<Arc<File>, StoreError> {
        let mut cache = self.handles.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(i) = cache.iter().position(|(p, _)| *p == segment_first_position) {
            let entry = cache.remove(i);
            let file = Arc::clone(&entry.1);
            cache.push(entry);
            return Ok(file);
        }
        let file = File::open(segment_path(&self.segments_dir, segment_first_position))
            .map_err(StoreError::Unavailable)?;
        let file = Arc::new(file);
        cache.push((segment_first_position, Arc::clone(&file)));
        if cache.len() > HANDLE_CACHE {
            cache.remove(0);
        }
        Ok(file)
    }

    fn read_batch(&self, from: u64, max: usize) -> Result<Vec<StoredRecord>, StoreError> {
        let mut out = Vec::new();
        let mut next = from.max(1);
        let mut buf = Vec::new();
        while out.len() < max {
            let Some(plan) = self.index().plan(next, max - out.len()) else { break };
            let file = self.handle(plan.segment_first_position)?;
            let len = usize::try_from(plan.end - plan.start)
                .map_err(|_| StoreError::Unavailable(io::Error::other("read range too large")))?;
            buf.clear();
            buf.resize(len, 0);
            file.read_exact_at(&mut buf, plan.start).map_err(StoreError::Unavailable)?;
            decode_frames(&buf, plan.first, plan.count, &mut out)?;
            next += plan.count as u64;
        }
        Ok(out)
    }

    fn append(&self, expected: Head, records: &[StoredRecord]) -> Result<Head, StoreError> {
        let Some(writer) = &self.writer else {
            return Err(StoreError::Unavailable(io::Error::new(
                io::ErrorKind::PermissionDenied,
                "the file log was opened read-only",
            )));
        };
        let mut writer = writer
            .lock()
            .map_err(|_| StoreError::Unavailable(io::Error::other("file log writer lock poisoned")))?;
        if writer.poisoned {
            return Err(StoreError::Unavailable(io::Error::other(
                "an earlier append to the file log failed; reopen the log before appending",
            )));
        }
        let head = self.index().head;
        if expected != head {
            return Err(StoreError::Conflict { expected, actual: head });
        }
        check_batch(head, records)?;
        let chunks = plan_chunks(&writer, self.options.segment_bytes_max, records);

        let mut created: Vec<(u64, File)> = Vec::new();
        let allocated = match self.write_chunks(&writer, &chunks, &mut created) {
            Ok(allocated) => allocated,
            Err(error) => {
                tracing::error!(dir = %self.dir.display(), %error, "file log: append failed; the log refuses appends until reopened");
                self.roll_back(&writer, created);
                writer.poisoned = true;
                return Err(StoreError::Unavailable(error));
            }
        };

        // Durable: publish.
        let chunks_started: Vec<u64> =
            chunks.iter().filter(|c| c.new_segment).map(|c| c.segment_first_position).collect();
        let last = &records[records.len() - 1];
        let new_head = Head { position: last.position, hash: last.hash };
        let mut index = self.index_mut();
        for chunk in chunks {
            let end = chunk.start + chunk.buf.len() as u64;
            if chunk.new_segment {
                if let Some(previous) = index.segments.last_mut() {
                    previous.offsets.shrink_to_fit();
                }
                index.segments.push(IndexSegment {
                    first_position: chunk.segment_first_position,
                    offsets: chunk.offsets,
                    len: end,
                });
            } else if let Some(current) = index.segments.last_mut() {
                current.offsets.extend_from_slice(&chunk.offsets);
                current.len = end;
            }
            writer.first_position = chunk.segment_first_position;
            writer.len = end;
        }
        writer.allocated = allocated.max(writer.len);
        index.head = new_head;
        drop(index);
        for chunk in chunks_started {
            if let Err(error) = record_segment_started(&self.dir, chunk) {
                tracing::warn!(%error, "file log: could not record a started segment in {SEGMENTS_STARTED}");
            }
        }
        if let Some((_, file)) = created.pop() {
            writer.file = file;
        }
        Ok(new_head)
    }

    /// Writes and syncs the chunks; returns the size of the segment that is current after them (its frames
    /// and the zeros written ahead).
    fn write_chunks(
        &self,
        writer: &Writer,
        chunks: &[Chunk],
        created: &mut Vec<(u64, File)>,
    ) -> io::Result<u64> {
        let mut allocated = writer.allocated;
        let mut previous_end = writer.len;
        for (index, chunk) in chunks.iter().enumerate() {
            let last = index + 1 == chunks.len();
            let end = chunk.start + chunk.buf.len() as u64;
            if chunk.new_segment {
                // Seal the segment being left: cut the zeros written ahead, durably, before the next
                // segment exists (a sealed segment ends with its last frame). Segments created by this append
                // have none.
                if created.is_empty() && allocated > previous_end {
                    writer.file.set_len(previous_end)?;
                    writer.file.sync_all()?;
                }
                let path = segment_path(&self.segments_dir, chunk.segment_first_position);
                let file =
                    OpenOptions::new().read(true).write(true).create_new(true).mode(FILE_MODE).open(&path)?;
                created.push((chunk.segment_first_position, file));
                sync_dir(&self.segments_dir)?;
                if let Some((_, file)) = created.last() {
                    file.write_all_at(&chunk.buf, 0)?;
                    allocated = if last { self.write_ahead(file, end, end)? } else { end };
                    file.sync_data()?;
                }
            } else {
                writer.file.write_all_at(&chunk.buf, chunk.start)?;
                if last {
                    allocated = self.write_ahead(&writer.file, end, allocated)?;
                }
                writer.file.sync_data()?;
            }
            previous_end = end;
        }
        Ok(allocated)
    }

    /// Zero-fills the current segment [`PREALLOCATE_BYTES`] past `end` when fewer than 64 KiB of zeros are
    /// left ahead of it (not past the segment limit, unless a frame already is); returns the new size.
    /// The caller's `sync_data` makes them durable with the frames.
    fn write_ahead(&self, file: &File, end: u64, allocated: u64) -> io::Result<u64> {
        static ZEROS: [u8; 64 << 10] = [0; 64 << 10];
        if allocated > end + ZEROS.len() as u64 {
            return Ok(allocated);
        }
        let target = (end + PREALLOCATE_BYTES).min(self.options.segment_bytes_max.max(end));
        let mut at = allocated.max(end);
        while at < target {
            let n = usize::try_from(target - at).unwrap_or(ZEROS.len()).min(ZEROS.len());
            file.write_all_at(&ZEROS[..n], at)?;
            at += n as u64;
        }
        Ok(at.max(allocated))
    }

    /// Best effort: removes the segments this append created (newest first) and truncates the current segment
    /// back to its length before the append. Stops at the first failure, so what stays on disk is always a
    /// prefix of the append ending on a command boundary plus at most one torn tail, which a reopen repairs.
    fn roll_back(&self, writer: &Writer, created: Vec<(u64, File)>) {
        let mut removed_any = false;
        for (first_position, file) in created.into_iter().rev() {
            let path = segment_path(&self.segments_dir, first_position);
            if let Err(error) = fs::remove_file(&path) {
                tracing::error!(segment = %path.display(), %error, "file log: could not remove a segment after a failed append");
                if let Err(error) = file.set_len(0).and_then(|()| file.sync_all()) {
                    tracing::error!(segment = %path.display(), %error, "file log: could not truncate it either");
                }
                return;
            }
            removed_any = true;
        }
        if removed_any && let Err(error) = sync_dir(&self.segments_dir) {
            tracing::error!(%error, "file log: could not sync the segments directory after a failed append");
        }
        if let Err(error) = writer.file.set_len(writer.len).and_then(|()| writer.file.sync_all()) {
            tracing::error!(%error, "file log: could not truncate the segment back after a failed append");
        }
    }
}

fn check_batch(head: Head, records: &[StoredRecord]) -> Result<(), StoreError> {
    let Some(last) = records.last() else {
        return Err(StoreError::OutOfSequence("empty batch".into()));
    };
    for (i, record) in records.iter().enumerate() {
        let want = head.position + 1 + i as u64;
        if record.position != want {
            return Err(StoreError::OutOfSequence(format!(
                "record {i} of the batch has position {} but {want} was expected (head {})",
                record.position, head.position
            )));
        }
        if record.bytes.len() > u32::MAX as usize - BODY_FIXED_LEN {
            return Err(StoreError::OutOfSequence(format!(
                "record at position {} is too large ({} bytes)",
                record.position,
                record.bytes.len()
            )));
        }
    }
    if !last.ends_command {
        return Err(StoreError::OutOfSequence(format!(
            "the last record of the batch (position {}) does not end a command",
            last.position
        )));
    }
    Ok(())
}

/// Splits the batch into per-segment buffers, rolling only between commands.
fn plan_chunks(writer: &Writer, segment_bytes_max: u64, records: &[StoredRecord]) -> Vec<Chunk> {
    let mut chunks = Vec::new();
    let mut current = Chunk {
        segment_first_position: writer.first_position,
        new_segment: false,
        start: writer.len,
        buf: Vec::with_capacity(records.iter().map(|r| MIN_FRAME_LEN + r.bytes.len()).sum()),
        offsets: Vec::with_capacity(records.len()),
    };
    let mut segment_len = writer.len;
    let mut previous_ends_command = true;
    for record in records {
        let frame_len = (MIN_FRAME_LEN + record.bytes.len()) as u64;
        if segment_len > 0 && previous_ends_command && segment_len + frame_len > segment_bytes_max {
            let next = Chunk {
                segment_first_position: record.position,
                new_segment: true,
                start: 0,
                buf: Vec::new(),
                offsets: Vec::new(),
            };
            let done = mem::replace(&mut current, next);
            if !done.offsets.is_empty() {
                chunks.push(done);
            }
            segment_len = 0;
        }
        current.offsets.push(segment_len);
        encode_frame(&mut current.buf, record);
        segment_len += frame_len;
        previous_ends_command = record.ends_command;
    }
    chunks.push(current);
    chunks
}

fn encode_frame(buf: &mut Vec<u8>, record: &StoredRecord) {
    let body_len = BODY_FIXED_LEN + record.bytes.len();
    let start = buf.len();
    buf.reserve(HEADER_LEN + body_len);
    // `check_batch` bounded the length.
    buf.extend_from_slice(&(body_len as u32).to_le_bytes());
    buf.extend_from_slice(&[0; 4]);
    let body_start = buf.len();
    buf.extend_from_slice(&record.position.to_le_bytes());
    buf.push(if record.ends_command { FLAG_ENDS_COMMAND } else { 0 });
    buf.extend_from_slice(&record.hash);
    buf.extend_from_slice(&record.bytes);
    let crc = crc32c::crc32c(&buf[body_start..]);
    buf[start + 4..start + 8].copy_from_slice(&crc.to_le_bytes());
}

/// Decodes `count` frames from `buf` (which must hold exactly them), checking CRC, position and flags.
fn decode_frames(
    buf: &[u8],
    first: u64,
    count: usize,
    out: &mut Vec<StoredRecord>,
) -> Result<(), StoreError> {
    let mut rest = buf;
    out.reserve(count);
    for i in 0..count {
        let position = first + i as u64;
        let corrupt = |reason: &str| StoreError::Corrupt { position, reason: reason.to_string() };
        let Some((len, crc)) = read_header(rest) else {
            return Err(corrupt("frame header past the indexed end"));
        };
        let body_len = len as usize;
        if body_len < BODY_FIXED_LEN || rest.len() < HEADER_LEN + body_len {
            return Err(corrupt("frame length does not match the index"));
        }
        let body = &rest[HEADER_LEN..HEADER_LEN + body_len];
        if crc32c::crc32c(body) != crc {
            return Err(corrupt("CRC mismatch on read"));
        }
        let (found, flags, hash, bytes) = split_body(body);
        if found != position {
            return Err(corrupt(&format!("frame holds position {found}")));
        }
        if flags & !FLAG_ENDS_COMMAND != 0 {
            return Err(corrupt(&format!("unknown flags {flags:#04x}")));
        }
        out.push(StoredRecord {
            position,
            ends_command: flags & FLAG_ENDS_COMMAND != 0,
            hash,
            bytes: bytes.to_vec(),
        });
        rest = &rest[HEADER_LEN + body_len..];
    }
    if rest.is_empty() {
        Ok(())
    } else {
        Err(StoreError::Corrupt {
            position: first + count as u64,
            reason: "trailing bytes in indexed range".into(),
        })
    }
}

fn read_header(buf: &[u8]) -> Option<(u32, u32)> {
    let len = u32::from_le_bytes(buf.get(0..4)?.try_into().ok()?);
    let crc = u32::from_le_bytes(buf.get(4..8)?.try_into().ok()?);
    Some((len, crc))
}

/// Splits a body of at least `BODY_FIXED_LEN` bytes.
fn split_body(body: &[u8]) -> (u64, u8, Hash, &[u8]) {
    let mut position = [0u8; 8];
    position.copy_from_slice(&body[0..8]);
    let mut hash = [0u8; 32];
    hash.copy_from_slice(&body[9..BODY_FIXED_LEN]);
    (u64::from_le_bytes(position), body[8], hash, &body[BODY_FIXED_LEN..])
}

fn segment_path(segments_dir: &Path, first_position: u64) -> PathBuf {
    segments_dir.join(format!("{first_position:020}{SEGMENT_SUFFIX}"))
}

fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

fn lock_dir(dir: &Path) -> Result<File, StoreError> {
    let path = dir.join(LOCK_FILE);
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .mode(FILE_MODE)
        .open(&path)
        .map_err(StoreError::Unavailable)?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(TryLockError::WouldBlock) => Err(StoreError::Locked { path: path.display().to_string() }),
        Err(TryLockError::Error(error)) => Err(StoreError::Unavailable(error)),
    }
}

// ---------------------------------------------------------------------------------------------------------
// Scanning
// ---------------------------------------------------------------------------------------------------------

/// What [`scan`] found in a log directory, read-only.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ScanReport {
    /// The segment files, in position order.
    pub segments: Vec<SegmentSummary>,
    /// The position of every complete, CRC-valid frame, in file order (segment by segment). Includes the
    /// frames of an unfinished last command (see [`ScanProblem::IncompleteCommand`]).
    pub positions: Vec<u64>,
    /// Every problem found, in file order.
    pub problems: Vec<ScanProblem>,
}

impl ScanReport {
    /// True when nothing at all is wrong (not even a repairable tail).
    pub fn is_clean(&self) -> bool {
        self.problems.is_empty()
    }

    /// The first problem, in file order.
    pub fn first_problem(&self) -> Option<&ScanProblem> {
        self.problems.first()
    }

    /// The first problem that opening the log for writing would not repair (what makes it fail with
    /// `Corrupt`).
    pub fn first_corruption(&self) -> Option<&ScanProblem> {
        self.problems.iter().find(|p| !p.is_repairable())
    }
}

/// One segment file seen by [`scan`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SegmentSummary {
    /// The segment file.
    pub path: PathBuf,
    /// The first position, from the file name.
    pub first_position: u64,
    /// The file's length in bytes.
    pub bytes: u64,
    /// The number of complete, CRC-valid frames in it.
    pub frames: u64,
    /// The end of its last complete, CRC-valid frame (zeros written ahead, if any, follow it).
    pub frames_end: u64,
}

/// A problem found by [`scan`]. `position` is the position the damaged or missing record has (or would have,
/// counting from the previous valid frame); `offset` is a byte offset in `segment`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScanProblem {
    /// A file or directory could not be read.
    Io { path: PathBuf, error: String },
    /// A `.seg` file whose name is not a 20-digit position.
    BadSegmentName { path: PathBuf },
    /// A segment does not start where the previous one ended (or the first one does not start at 1):
    /// positions are missing (`found > expected`) or overlap (`found < expected`).
    Gap { segment: PathBuf, expected: u64, found: u64 },
    /// A damaged frame that is not a torn tail.
    Corrupt { segment: PathBuf, position: u64, offset: u64, reason: String },
    /// A valid frame whose position does not follow the previous frame's.
    OutOfOrder { segment: PathBuf, offset: u64, expected: u64, found: u64 },
    /// Repairable: the last segment ends in an incomplete or damaged frame (an interrupted append).
    TornTail { segment: PathBuf, position: u64, offset: u64, bytes: u64 },
    /// Repairable: complete frames at the end of the log whose command's last record is missing.
    IncompleteCommand { segment: PathBuf, position: u64, offset: u64, frames: u64 },
    /// The log ends inside a command whose earlier records are in a sealed segment (the writer never rolls
    /// a segment inside a command).
    EndsInsideCommand { segment: PathBuf, position: u64 },
    /// `record` (DIR/SEGMENTS_STARTED) says a segment starting at `expected` was started, but the log's
    /// segments end before it: the last segment(s) were deleted.
    MissingSegment { expected: u64, record: PathBuf },
}

impl ScanProblem {
    /// The position the problem is at (0 when it is not about a position).
    pub fn position(&self) -> u64 {
        match self {
            ScanProblem::Io { .. } | ScanProblem::BadSegmentName { .. } => 0,
            ScanProblem::Gap { expected, .. } | ScanProblem::OutOfOrder { expected, .. } => *expected,
            ScanProblem::Corrupt { position, .. }
            | ScanProblem::TornTail { position, .. }
            | ScanProblem::IncompleteCommand { position, .. }
            | ScanProblem::EndsInsideCommand { position, .. } => *position,
            ScanProblem::MissingSegment { expected, .. } => *expected,
        }
    }

    /// True for what opening the log for writing repairs by cutting the tail (an interrupted append).
    pub fn is_repairable(&self) -> bool {
        matches!(self, ScanProblem::TornTail { .. } | ScanProblem::IncompleteCommand { .. })
    }

    fn to_error(&self) -> StoreError {
        StoreError::Corrupt { position: self.position(), reason: self.to_string() }
    }
}

impl fmt::Display for ScanProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ScanProblem::Io { path, error } => write!(f, "cannot read {}: {error}", path.display()),
            ScanProblem::BadSegmentName { path } => {
                write!(f, "{} is not named {{first_position:020}}.seg", path.display())
            }
            ScanProblem::Gap { segment, expected, found } if found > expected => write!(
                f,
                "positions {expected}..{} are missing: segment {} starts at {found}",
                found - 1,
                segment.display()
            ),
            ScanProblem::Gap { segment, expected, found } => write!(
                f,
                "segment {} starts at {found}, overlapping the previous one (expected {expected})",
                segment.display()
            ),
            ScanProblem::Corrupt { segment, offset, reason, .. } => {
                write!(f, "{reason} (segment {}, offset {offset})", segment.display())
            }
            ScanProblem::OutOfOrder { segment, offset, expected, found } => write!(
                f,
                "frame holds position {found} where {expected} was expected (segment {}, offset {offset})",
                segment.display()
            ),
            ScanProblem::TornTail { segment, offset, bytes, .. } => write!(
                f,
                "torn tail: {bytes} bytes of an incomplete or damaged last frame (segment {}, offset {offset})",
                segment.display()
            ),
            ScanProblem::IncompleteCommand { segment, offset, frames, .. } => write!(
                f,
                "{frames} records of an unfinished command at the end (segment {}, offset {offset})",
                segment.display()
            ),
            ScanProblem::MissingSegment { expected, record } => write!(
                f,
                "the segment starting at position {expected} is missing ({} records that it was started): the log was shortened",
                record.display()
            ),
            ScanProblem::EndsInsideCommand { segment, .. } => write!(
                f,
                "the log ends inside a command whose records are in the sealed segment {}",
                segment.display()
            ),
        }
    }
}

/// Scans the log in `dir` read-only and reports every valid frame and every problem, without stopping at the
/// first one. Safe while a writer is running (its unfinished append then shows as a repairable tail).
pub fn scan(dir: &Path) -> ScanReport {
    let segments_dir = dir.join(SEGMENTS_DIR);
    let mut positions = Vec::new();
    let result = scan_log(&segments_dir, false, &mut |_, frame| positions.push(frame.position));
    match result {
        Ok(log) => ScanReport {
            segments: log
                .segments
                .into_iter()
                .map(|s| SegmentSummary {
                    path: s.file.path,
                    first_position: s.file.first_position,
                    bytes: s.outcome.file_len,
                    frames: s.outcome.frames as u64,
                    frames_end: s.outcome.frames_end,
                })
                .collect(),
            positions,
            problems: log.problems,
        },
        Err(error) => ScanReport {
            problems: vec![ScanProblem::Io { path: segments_dir, error: error.to_string() }],
            ..ScanReport::default()
        },
    }
}

struct SegmentFile {
    first_position: u64,
    path: PathBuf,
}

#[derive(Clone, Copy)]
struct FrameInfo {
    offset: u64,
    position: u64,
}

#[derive(Default)]
struct SegmentOutcome {
    file_len: u64,
    /// Valid frames reported.
    frames: usize,
    /// Valid frames up to and including the last one that ends a command, and the end of that one.
    command_frames: usize,
    command_len: u64,
    /// Position of the last frame that ends a command.
    command_position: Option<u64>,
    /// The last valid frame: position and `ends_command`.
    last: Option<(u64, bool)>,
    /// The position expected after this segment, `None` when unknown (the segment's end is damaged).
    next_expected: Option<u64>,
    /// A repairable tail was found (torn frame or unfinished command); only in the last segment.
    repairable: bool,
    /// The last segment ends with zeros after its last frame: space written ahead, not a problem.
    zeros_ahead: bool,
    /// The end of the last complete, CRC-valid frame.
    frames_end: u64,
    /// The end of what was written: `file_len` without the zeros written ahead after a torn tail or the
    /// last frame (what a cut reports as cut).
    data_end: u64,
}

struct ScannedSegment {
    file: SegmentFile,
    outcome: SegmentOutcome,
}

struct LogScan {
    segments: Vec<ScannedSegment>,
    problems: Vec<ScanProblem>,
}

/// Lists `segments_dir`'s segment files in position order.
fn list_segments(segments_dir: &Path, problems: &mut Vec<ScanProblem>) -> io::Result<Vec<SegmentFile>> {
    let mut segments = Vec::new();
    for entry in fs::read_dir(segments_dir)? {
        let entry = entry?;
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        let Some(stem) = name.strip_suffix(SEGMENT_SUFFIX) else { continue };
        match stem.parse::<u64>() {
            Ok(first_position) if stem.len() == 20 && stem.bytes().all(|b| b.is_ascii_digit()) => {
                segments.push(SegmentFile { first_position, path: entry.path() });
            }
            _ => problems.push(ScanProblem::BadSegmentName { path: entry.path() }),
        }
    }
    segments.sort_by_key(|s| s.first_position);
    Ok(segments)
}

/// Scans every segment. `strict`: I/O errors are returned (open) instead of reported as problems (`scan`).
fn scan_log(
    segments_dir: &Path,
    strict: bool,
    on_frame: &mut dyn FnMut(usize, FrameInfo),
) -> io::Result<LogScan> {
    let mut problems = Vec::new();
    // Read before listing: a segment is recorded only after it exists, so a running writer's new segment
    // is never missing from the listing that follows.
    let started = segments_dir.parent().map(read_segments_started).transpose()?.flatten();
    let files = list_segments(segments_dir, &mut problems)?;
    let count = files.len();
    let mut segments = Vec::with_capacity(count);
    let mut expected = Some(1);
    for (i, file) in files.into_iter().enumerate() {
        if let Some(expected) = expected
            && file.first_position != expected
        {
            problems.push(ScanProblem::Gap {
                segment: file.path.clone(),
                expected,
                found: file.first_position,
            });
        }
        let is_last = i + 1 == count;
        let outcome = match scan_segment(&file, is_last, &mut |frame| on_frame(i, frame), &mut problems) {
            Ok(outcome) => outcome,
            Err(error) if !strict => {
                problems.push(ScanProblem::Io { path: file.path.clone(), error: error.to_string() });
                SegmentOutcome::default()
            }
            Err(error) => return Err(error),
        };
        expected = outcome.next_expected;
        segments.push(ScannedSegment { file, outcome });
    }
    if let Some(started) = started
        && segments.last().is_none_or(|last| last.file.first_position < started)
    {
        problems.push(ScanProblem::MissingSegment {
            expected: started,
            record: segments_dir.parent().map(|d| d.join(SEGMENTS_STARTED)).unwrap_or_default(),
        });
    }
    // After the tail is cut, the log must end on a command boundary. The last segment's kept frames do by
    // construction; when it keeps none, the sealed segment before it must end a command.
    if let [.., previous, last] = segments.as_slice()
        && last.outcome.command_frames == 0
        && let Some((position, false)) = previous.outcome.last
    {
        problems.push(ScanProblem::EndsInsideCommand { segment: previous.file.path.clone(), position });
    }
    Ok(LogScan { segments, problems })
}

/// Why the frame at the end of a segment could not be read.
#[derive(Clone, Copy)]
enum TailKind {
    ShortHeader,
    BadLength(u32),
    ShortBody(u32, u32),
    BadCrc(u32),
}

impl TailKind {
    fn describe(self) -> String {
        match self {
            TailKind::ShortHeader => "incomplete frame header at the end of a sealed segment".into(),
            TailKind::BadLength(len) => format!("impossible frame length {len}"),
            TailKind::ShortBody(len, crc) => {
                format!("frame of {len} bytes (crc {crc:#010x}) extends past the end of the segment")
            }
            TailKind::BadCrc(_) => "CRC mismatch on a complete frame that shows no unwritten space".into(),
        }
    }
}

fn scan_segment(
    segment: &SegmentFile,
    is_last: bool,
    on_frame: &mut dyn FnMut(FrameInfo),
    problems: &mut Vec<ScanProblem>,
) -> io::Result<SegmentOutcome> {
    let file = File::open(&segment.path)?;
    let file_len = file.metadata()?.len();
    let mut reader = BufReader::with_capacity(SCAN_BUFFER, (&file).take(file_len));
    let mut out = SegmentOutcome { file_len, data_end: file_len, ..SegmentOutcome::default() };
    let mut expected = segment.first_position;
    let mut offset = 0u64;
    let mut header = [0u8; HEADER_LEN];
    let mut body = Vec::new();
    let mut tail = None;
    // A read-only open may scan the last segment while a writer appends to it (backup and verify on a served
    // ledger): bytes read early in a buffer can be older than bytes read after them, so the writer's next
    // frame can read as the zeros written ahead, or half copied. Before a frame of the last segment is called
    // damaged it is read again; if it changed, the segment grew under the scan and the frame is a write in
    // flight: the scan ends before it, as at the zeros written ahead. A log nobody writes reads the same.
    let mut in_flight = false;
    while offset < file_len {
        let remaining = file_len - offset;
        if remaining < HEADER_LEN as u64 {
            tail = Some(TailKind::ShortHeader);
            break;
        }
        if cut_under_scan(is_last, reader.read_exact(&mut header))? {
            in_flight = true;
            break;
        }
        let Some((len, crc)) = read_header(&header) else { break };
        if (len as usize) < BODY_FIXED_LEN {
            tail = Some(TailKind::BadLength(len));
            break;
        }
        let frame_len = HEADER_LEN as u64 + u64::from(len);
        if frame_len > remaining {
            tail = Some(TailKind::ShortBody(len, crc));
            break;
        }
        body.resize(len as usize, 0);
        if cut_under_scan(is_last, reader.read_exact(&mut body))? {
            in_flight = true;
            break;
        }
        let frame_end = offset + frame_len;
        if crc32c::crc32c(&body) != crc {
            if frame_end == file_len || (is_last && only_zeros(&file, frame_end, file_len)?) {
                tail = Some(TailKind::BadCrc(len));
                break;
            }
            // Written past: if the frame reads differently now, it was being copied when first read.
            if is_last && bytes_changed(&file, offset, &[&header, &body])? {
                in_flight = true;
                break;
            }
            problems.push(ScanProblem::Corrupt {
                segment: segment.path.clone(),
                position: expected,
                offset,
                reason: "CRC mismatch".into(),
            });
            expected += 1;
            offset = frame_end;
            continue;
        }
        let (position, flags, _, _) = split_body(&body);
        if flags & !FLAG_ENDS_COMMAND != 0 {
            problems.push(ScanProblem::Corrupt {
                segment: segment.path.clone(),
                position: expected,
                offset,
                reason: format!("unknown flags {flags:#04x}"),
            });
            expected += 1;
            offset = frame_end;
            continue;
        }
        if position != expected {
            problems.push(ScanProblem::OutOfOrder {
                segment: segment.path.clone(),
                offset,
                expected,
                found: position,
            });
        }
        let ends_command = flags & FLAG_ENDS_COMMAND != 0;
        on_frame(FrameInfo { offset, position });
        out.frames += 1;
        out.frames_end = frame_end;
        out.last = Some((position, ends_command));
        offset = frame_end;
        if ends_command {
            out.command_frames = out.frames;
            out.command_len = offset;
            out.command_position = Some(position);
        }
        expected = position + 1;
    }
    out.next_expected = Some(expected);

    let zeros_ahead = in_flight
        || is_last
            && matches!(tail, Some(TailKind::BadLength(0) | TailKind::ShortHeader))
            && only_zeros(&file, offset, file_len)?;
    if zeros_ahead {
        out.zeros_ahead = true;
        out.data_end = offset;
    } else if let Some(kind) = tail {
        let mut bytes = file_len - offset;
        let mut rest = vec![0u8; if is_last { usize::try_from(bytes).map_err(io::Error::other)? } else { 0 }];
        let cut = cut_under_scan(is_last, file.read_exact_at(&mut rest, offset))?;
        let torn = is_last && !cut && {
            // Zeros written ahead after the torn part are not part of it (a torn header's own zeros are).
            let written = rest.iter().rposition(|&b| b != 0).map_or(0, |last| last as u64 + 1);
            bytes = written.max(bytes.min(HEADER_LEN as u64));
            out.data_end = offset + bytes;
            match kind {
                // A length below a record's fixed part is damage, never a torn write: zeros past the last
                // frame (blocks allocated by a crash but never written) were taken as space written ahead
                // above, so the bytes here are not all zeros.
                TailKind::BadLength(_) => false,
                // A real torn write has no later valid frame inside it; if one is there, the length field
                // of a frame in the middle was damaged. Nor does its CRC match a shorter body: then the
                // frame is complete and its length field was damaged.
                TailKind::ShortBody(_, crc) => {
                    !contains_frame_for(&rest, expected + 1) && !crc_matches_shorter_body(&rest, crc)
                }
                // Fewer bytes than a header: no frame can follow inside them.
                TailKind::ShortHeader => true,
                // A complete frame: torn only if part of it was never written (reads as zeros).
                TailKind::BadCrc(len) => {
                    let frame_len = (HEADER_LEN + len as usize).min(rest.len());
                    shows_unwritten_space(&rest[..frame_len], offset)
                }
            }
        };
        // Checked last, after every other read of the tail: bytes written after this frame mean the frame
        // itself was written before them, so it reads differently now if the scan met it half copied.
        let changed = || match kind {
            TailKind::BadLength(_) | TailKind::ShortBody(..) => bytes_changed(&file, offset, &[&header]),
            TailKind::BadCrc(_) => bytes_changed(&file, offset, &[&header, &body]),
            TailKind::ShortHeader => Ok(false),
        };
        if cut || !torn && is_last && changed()? {
            out.zeros_ahead = true;
            out.data_end = offset;
        } else if torn {
            problems.push(ScanProblem::TornTail {
                segment: segment.path.clone(),
                position: expected,
                offset,
                bytes,
            });
            out.repairable = true;
        } else {
            problems.push(ScanProblem::Corrupt {
                segment: segment.path.clone(),
                position: expected,
                offset,
                reason: kind.describe(),
            });
            out.next_expected = None;
        }
    }
    if is_last && out.frames > out.command_frames {
        problems.push(ScanProblem::IncompleteCommand {
            segment: segment.path.clone(),
            position: out.command_position.map_or(segment.first_position, |p| p + 1),
            offset: out.command_len,
            frames: (out.frames - out.command_frames) as u64,
        });
        out.repairable = true;
    }
    Ok(out)
}

/// True when `frame` (a complete frame whose CRC fails, at `offset` in its segment) shows space a write never
/// reached: at least [`TORN_ZEROS_MIN`] zero bytes at its end, zeros at its end from a sector boundary on, or
/// an all-zero sector of the file inside it.
/// A bit flipped in a record that was written in full shows neither.
fn shows_unwritten_space(frame: &[u8], offset: u64) -> bool {
    let trailing = frame.iter().rev().take_while(|&&b| b == 0).count();
    if trailing >= TORN_ZEROS_MIN {
        return true;
    }
    let end = offset + frame.len() as u64;
    let zeros_from = end - trailing as u64;
    // (No zeros: `zeros_from` is `end`, and no boundary lies before it and at or after it.)
    if zeros_from.div_ceil(SECTOR) * SECTOR < end {
        return true;
    }
    let mut sector = offset.div_ceil(SECTOR) * SECTOR;
    while sector + SECTOR <= end {
        let from = usize::try_from(sector - offset).unwrap_or(usize::MAX);
        let to = from.saturating_add(SECTOR as usize).min(frame.len());
        if frame.get(from..to).is_some_and(|s| s.iter().all(|&b| b == 0)) {
            return true;
        }
        sector += SECTOR;
    }
    false
}

/// True when `rest` (a frame whose length reaches past the end of the file, then the rest of the file)
/// holds a complete frame of a shorter length followed only by zeros whose CRC is `crc`: a complete record
/// whose length field was damaged, not a torn write. Only the lengths that end within [`TORN_ZEROS_MIN`]
/// bytes before the last non-zero byte are tried.
fn crc_matches_shorter_body(rest: &[u8], crc: u32) -> bool {
    let Some(body) = rest.get(HEADER_LEN..) else { return false };
    let written = body.iter().rposition(|&b| b != 0).map_or(0, |last| last + 1);
    let from = written.saturating_sub(TORN_ZEROS_MIN).max(BODY_FIXED_LEN);
    if from > body.len() {
        return false;
    }
    let mut running = crc32c::crc32c(&body[..from]);
    if running == crc {
        return true;
    }
    for &byte in &body[from..] {
        running = crc32c::crc32c_append(running, &[byte]);
        if running == crc {
            return true;
        }
    }
    false
}

/// True when a read of the last segment met its end before the length the scan started with: the writer
/// sealed the segment while it was scanned, cutting the zeros written ahead (see [`scan_segment`]). Other
/// errors, and an early end of any other segment, are errors.
fn cut_under_scan(is_last: bool, read: io::Result<()>) -> io::Result<bool> {
    match read {
        Ok(()) => Ok(false),
        Err(error) if is_last && error.kind() == io::ErrorKind::UnexpectedEof => Ok(true),
        Err(error) => Err(error),
    }
}

/// True when the bytes of `file` at `offset` are no longer `seen` (its parts in order), or no longer there.
fn bytes_changed(file: &File, offset: u64, seen: &[&[u8]]) -> io::Result<bool> {
    let mut now = vec![0u8; seen.iter().map(|part| part.len()).sum()];
    match file.read_exact_at(&mut now, offset) {
        Ok(()) => Ok(seen.iter().flat_map(|part| part.iter()).ne(now.iter())),
        Err(error) if error.kind() == io::ErrorKind::UnexpectedEof => Ok(true),
        Err(error) => Err(error),
    }
}

/// True when the bytes of `file` from `from` to `to` are all zero.
fn only_zeros(file: &File, from: u64, to: u64) -> io::Result<bool> {
    let mut buf = vec![0u8; SCAN_BUFFER];
    let mut at = from;
    while at < to {
        let n = usize::try_from(to - at).unwrap_or(buf.len()).min(buf.len());
        let chunk = &mut buf[..n];
        match file.read_exact_at(chunk, at) {
            // Cut while read: a writer sealing the segment cuts only the zeros it wrote ahead.
            Err(error) if error.kind() == io::ErrorKind::UnexpectedEof => return Ok(true),
            read => read?,
        }
        if chunk.iter().any(|&b| b != 0) {
            return Ok(false);
        }
        at += n as u64;
    }
    Ok(true)
}

/// True when `buf` (the bytes from a damaged frame to the end of the file) contains, after the damaged
/// frame's header, a CRC-valid frame holding `position`.
fn contains_frame_for(buf: &[u8], position: u64) -> bool {
    let wanted = position.to_le_bytes();
    let mut at = MIN_FRAME_LEN;
    while at + MIN_FRAME_LEN <= buf.len() {
        let candidate = &buf[at..];
        if candidate[HEADER_LEN..HEADER_LEN + 8] == wanted
            && let Some((len, crc)) = read_header(candidate)
            && (len as usize) >= BODY_FIXED_LEN
            && HEADER_LEN + len as usize <= candidate.len()
            && crc32c::crc32c(&candidate[HEADER_LEN..HEADER_LEN + len as usize]) == crc
        {
            return true;
        }
        at += 1;
    }
    false
}

/// A cut to make at open: the last segment keeps `keep_len` bytes.
struct Cut {
    path: PathBuf,
    segment_first_position: u64,
    /// The end of what was written (the zeros written ahead after it are cut too, not counted).
    written_end: u64,
    keep_len: u64,
    from_position: u64,
}

struct Loaded {
    index: Index,
    cut: Option<Cut>,
}

/// Scans and validates the log, building the index up to the last complete command (the head's hash is
/// filled in afterwards). Fails on the first problem that is not a repairable tail.
fn load(segments_dir: &Path) -> Result<Loaded, StoreError> {
    let mut offsets: Vec<Vec<u64>> = Vec::new();
    let scanned = scan_log(segments_dir, true, &mut |segment, frame| {
        if offsets.len() <= segment {
            offsets.resize_with(segment + 1, Vec::new);
        }
        offsets[segment].push(frame.offset);
    })
    .map_err(StoreError::Unavailable)?;
    if let Some(problem) = scanned.problems.iter().find(|p| !p.is_repairable()) {
        return Err(problem.to_error());
    }
    offsets.resize_with(scanned.segments.len(), Vec::new);

    let count = scanned.segments.len();
    let mut segments = Vec::with_capacity(count);
    let mut cut = None;
    let mut head_position = 0;
    for (i, (scanned, mut offsets)) in scanned.segments.into_iter().zip(offsets).enumerate() {
        let outcome = &scanned.outcome;
        let is_last = i + 1 == count;
        let len = if is_last {
            offsets.truncate(outcome.command_frames);
            let zeros_only = outcome.zeros_ahead && outcome.frames == outcome.command_frames;
            if outcome.repairable || (outcome.file_len > outcome.command_len && !zeros_only) {
                cut = Some(Cut {
                    path: scanned.file.path.clone(),
                    segment_first_position: scanned.file.first_position,
                    written_end: outcome.data_end.max(outcome.command_len),
                    keep_len: outcome.command_len,
                    from_position: outcome.command_position.map_or(scanned.file.first_position, |p| p + 1),
                });
            }
            outcome.command_len
        } else {
            outcome.file_len
        };
        offsets.shrink_to_fit();
        if !offsets.is_empty() {
            head_position = scanned.file.first_position + offsets.len() as u64 - 1;
        }
        segments.push(IndexSegment { first_position: scanned.file.first_position, offsets, len });
    }
    Ok(Loaded { index: Index { segments, head: Head { position: head_position, hash: [0; 32] } }, cut })
}

// ---------------------------------------------------------------------------------------------------------
// Quarantine
// ---------------------------------------------------------------------------------------------------------

/// Copies the bytes `cut` is about to remove from `file` to a new file in `DIR/quarantine/` and makes it
/// durable (file and directory synced) before returning. `None` when only zeros would be cut.
fn quarantine_tail(dir: &Path, cut: &Cut, file: &File) -> io::Result<Option<Quarantined>> {
    let Some(len) = cut.written_end.checked_sub(cut.keep_len).filter(|&len| len > 0) else {
        return Ok(None);
    };
    let mut bytes = vec![0u8; usize::try_from(len).map_err(io::Error::other)?];
    file.read_exact_at(&mut bytes, cut.keep_len)?;
    let quarantine_dir = dir.join(QUARANTINE_DIR);
    if !quarantine_dir.is_dir() {
        fs::DirBuilder::new().mode(DIR_MODE).create(&quarantine_dir)?;
        sync_dir(dir)?;
    }
    let seconds = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let stem = format!("{:020}-{}-{seconds}", cut.segment_first_position, cut.keep_len);
    let mut attempt = 0u32;
    let (path, out) = loop {
        let name = if attempt == 0 { stem.clone() } else { format!("{stem}-{attempt}") };
        let path = quarantine_dir.join(format!("{name}{QUARANTINE_SUFFIX}"));
        match OpenOptions::new().write(true).create_new(true).mode(FILE_MODE).open(&path) {
            Ok(out) => break (path, out),
            Err(error) if error.kind() == io::ErrorKind::AlreadyExists && attempt < 1000 => attempt += 1,
            Err(error) => return Err(error),
        }
    };
    out.write_all_at(&bytes, 0)?;
    out.sync_all()?;
    sync_dir(&quarantine_dir)?;
    let (frames, damaged_position) = read_quarantined_frames(&bytes);
    Ok(Some(Quarantined {
        path,
        segment: cut.path.clone(),
        offset: cut.keep_len,
        bytes: len,
        frames,
        damaged_position,
    }))
}

/// What can be read of quarantined bytes (which start at a frame boundary): the complete, CRC-valid frames
/// at their start (position, hash), then the position the next (damaged or incomplete) frame's header
/// claims, when its position field is there.
fn read_quarantined_frames(bytes: &[u8]) -> (Vec<(u64, Hash)>, Option<u64>) {
    let mut frames = Vec::new();
    let mut rest = bytes;
    while !rest.is_empty() {
        let complete = read_header(rest).and_then(|(len, crc)| {
            let body = rest.get(HEADER_LEN..HEADER_LEN.checked_add(len as usize)?)?;
            (body.len() >= BODY_FIXED_LEN && crc32c::crc32c(body) == crc).then_some(body)
        });
        let Some(body) = complete else {
            let claimed = rest.get(HEADER_LEN..HEADER_LEN + 8).and_then(|b| b.try_into().ok());
            return (frames, claimed.map(u64::from_le_bytes));
        };
        let (position, _, hash, _) = split_body(body);
        frames.push((position, hash));
        rest = &rest[HEADER_LEN + body.len()..];
    }
    (frames, None)
}

/// Every quarantine file of the log in `dir` (bytes recovery moved out of the log), in name order, with what
/// can be read of them. Empty when there is no `DIR/quarantine/`.
///
/// # Errors
/// When the quarantine directory or one of its files cannot be read.
pub fn quarantined(dir: &Path) -> io::Result<Vec<Quarantined>> {
    let quarantine_dir = dir.join(QUARANTINE_DIR);
    if !quarantine_dir.exists() {
        return Ok(Vec::new());
    }
    let mut paths: Vec<PathBuf> =
        fs::read_dir(&quarantine_dir)?.map(|entry| entry.map(|e| e.path())).collect::<io::Result<_>>()?;
    paths.sort();
    let segments_dir = dir.join(SEGMENTS_DIR);
    let mut out = Vec::with_capacity(paths.len());
    for path in paths {
        if !path.is_file() {
            continue;
        }
        let bytes = fs::read(&path)?;
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default();
        let mut parts = name.trim_end_matches(QUARANTINE_SUFFIX).split('-');
        let first = parts.next().and_then(|p| p.parse::<u64>().ok());
        let offset = parts.next().and_then(|p| p.parse::<u64>().ok()).unwrap_or(0);
        let segment = first.map_or_else(|| segments_dir.clone(), |first| segment_path(&segments_dir, first));
        let (frames, damaged_position) = read_quarantined_frames(&bytes);
        out.push(Quarantined { path, segment, offset, bytes: bytes.len() as u64, frames, damaged_position });
    }
    Ok(out)
}

fn hex_hash(hash: &Hash) -> String {
    hash.iter().map(|b| format!("{b:02x}")).collect()
}

// ---------------------------------------------------------------------------------------------------------
// Started segments
// ---------------------------------------------------------------------------------------------------------

/// Appends `first_position` to `DIR/SEGMENTS_STARTED` and syncs it (created 0600 on first use).
fn record_segment_started(dir: &Path, first_position: u64) -> io::Result<()> {
    use std::io::Write as _;
    let path = dir.join(SEGMENTS_STARTED);
    let created = !path.exists();
    let mut file = OpenOptions::new().append(true).create(true).mode(FILE_MODE).open(&path)?;
    writeln!(file, "{first_position}")?;
    file.sync_all()?;
    if created {
        sync_dir(dir)?;
    }
    Ok(())
}

/// The highest first position recorded in `DIR/SEGMENTS_STARTED`; `None` when the file does not exist.
/// Lines that do not parse (a torn last line) are skipped.
fn read_segments_started(dir: &Path) -> io::Result<Option<u64>> {
    match fs::read_to_string(dir.join(SEGMENTS_STARTED)) {
        Ok(text) => Ok(text.lines().filter_map(|line| line.trim().parse::<u64>().ok()).max()),
        Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(error) => Err(error),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A frame whose CRC fails: non-zero bytes, then `trailing` zero bytes.
    fn frame(len: usize, trailing: usize) -> Vec<u8> {
        let mut frame = vec![0x5a; len];
        frame[len - trailing..].fill(0);
        frame
    }

    /// A valid frame is found after the damaged frame's own bytes only for the position it holds.
    #[test]
    fn a_frame_is_found_only_for_the_position_it_holds() {
        let mut buf = vec![0xee; MIN_FRAME_LEN];
        let record = StoredRecord { position: 7, ends_command: true, hash: [9; 32], bytes: vec![1, 2, 3] };
        encode_frame(&mut buf, &record);
        assert!(contains_frame_for(&buf, 7));
        assert!(!contains_frame_for(&buf, 3));
        assert!(!contains_frame_for(&buf[..buf.len() - 1], 7), "a frame cut short is not found");
    }

    /// `only_zeros` reads its whole range, chunk after chunk; a range the file no longer reaches (the writer
    /// cut the zeros it wrote ahead) counts as zeros; any other read error is an error.
    #[test]
    fn only_zeros_reads_every_chunk_of_its_range_and_reports_read_errors() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("segment");
        let len = 3 * SCAN_BUFFER;
        fs::write(&path, vec![0u8; len]).expect("write");
        let file = File::open(&path).expect("open");
        assert!(only_zeros(&file, 2, len as u64).expect("read"));
        assert!(only_zeros(&file, 2, len as u64 + 100).expect("read past the end"));
        // A byte just after the first chunk (2 + SCAN_BUFFER bytes from the start).
        let mut bytes = vec![0u8; len];
        bytes[2 + SCAN_BUFFER + 1] = 1;
        fs::write(&path, bytes).expect("write");
        assert!(!only_zeros(&file, 2, len as u64).expect("read"));
        let write_only = File::options().write(true).open(&path).expect("open");
        assert!(only_zeros(&write_only, 0, 10).is_err(), "a file that cannot be read is an error");
    }

    /// A frame's header, then `body`: the tail `crc_matches_shorter_body` looks at.
    fn tail(body: &[u8]) -> Vec<u8> {
        [&[0xff; HEADER_LEN][..], body].concat()
    }

    /// A complete record whose length field was damaged is recognised by its CRC at a shorter length, down
    /// to a body of exactly the fixed part; a tail that is all zeros but for its first byte matches nothing.
    #[test]
    fn a_shorter_body_is_found_by_its_crc_down_to_the_fixed_part() {
        let body: Vec<u8> = (1..=BODY_FIXED_LEN as u8).collect();
        let crc = crc32c::crc32c(&body);
        assert!(crc_matches_shorter_body(&tail(&body), crc));
        assert!(crc_matches_shorter_body(&tail(&[body.as_slice(), &[0; 30]].concat()), crc));
        assert!(!crc_matches_shorter_body(&tail(&body), crc ^ 1));
        let mut first_only = vec![0; 100];
        first_only[0] = 5;
        assert!(!crc_matches_shorter_body(&tail(&first_only), crc));
    }

    /// Where the frame sits decides what its zeros mean: the same few trailing zeros are unwritten space when
    /// they reach back to a sector boundary of the file, and a damaged record when they do not.
    #[test]
    fn a_few_trailing_zeros_are_unwritten_space_only_from_a_sector_boundary_of_the_file_on() {
        // Bytes 1059..1659 of the segment: the 8 zeros (1651..1659) lie inside the sector 1536..2048.
        assert!(!shows_unwritten_space(&frame(600, 8), 1059));
        // Bytes 1000..1560: 30 zeros from 1530 on cross the boundary at 1536.
        assert!(shows_unwritten_space(&frame(560, 30), 1000));
        // Bytes 1000..1560 again, 20 zeros from 1540: inside one sector, and no whole sector inside the frame.
        assert!(!shows_unwritten_space(&frame(560, 20), 1000));
        // Bytes 1448..2048: 8 zeros at the very end of a sector, none from its start: a damaged record.
        assert!(!shows_unwritten_space(&frame(600, 8), 1448));
        // As many zeros as a torn write leaves, wherever they are.
        assert!(shows_unwritten_space(&frame(600, TORN_ZEROS_MIN), 1059));
        // A whole zero sector inside the frame (1024..1536 of bytes 1000..1600), its end written.
        let mut holed = frame(600, 0);
        holed[24..536].fill(0);
        assert!(shows_unwritten_space(&holed, 1000));
        // The same hole in the second of three whole sectors (1536..2048 of bytes 1000..2600).
        let mut holed = frame(1600, 0);
        holed[536..1048].fill(0);
        assert!(shows_unwritten_space(&holed, 1000));
    }
}
