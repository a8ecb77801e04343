//! A test filesystem that loses what was not synced, in the manner of Jepsen's LazyFS: a FUSE layer over a
//! backing directory that holds only what a disk would hold after a power cut.
//!
//! - Reads see everything written; writes (and truncations) stay in memory until the file is synced
//!   (`fsync` or `fdatasync` of that file), which writes them to the backing directory and syncs it there.
//! - Directory changes (create, mkdir, rename, unlink, rmdir) stay pending until their directory is synced
//!   (`fsync` of the directory): only then does the backing directory get (or lose) the entry. A new file
//!   reaches the backing directory with what was synced of it, nothing more.
//! - [`Mounted::power_cut`] discards everything unsynced and unmounts: the backing directory is then what
//!   survived. Optionally it tears the last unsynced write: the first bytes of the unsynced writes of the
//!   file written last reach the disk, up to a sector boundary (as an interrupted write leaves them).
//!   [`Mounted::cut_at_next_write`] picks the moment: right after a write, before its sync.
//!
//! The whole tree is held in memory (loaded from the backing directory at mount): it is for test data
//! directories of a few megabytes. Metadata other than names and sizes (modes, times) is not modelled as
//! durable or not; hard links, symbolic links and special files are not supported.
//!
//! The backing directory always holds exactly the durable state: a file's synced bytes are written to the
//! backing path of every durable name it has (normally one), and a directory sync writes the entries added
//! since the last one (with their synced bytes, recursively for new directories) and removes those gone.

use std::collections::{BTreeMap, HashMap};
use std::ffi::{OsStr, OsString};
use std::fs::{self, File, OpenOptions};
use std::io;
use std::os::unix::fs::{FileExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, SystemTime};

use fuser::{
    BackgroundSession, Config, Errno, FileAttr, FileHandle, FileType, Filesystem, FopenFlags, Generation,
    INodeNo, MountOption, OpenFlags, RenameFlags, ReplyAttr, ReplyCreate, ReplyData, ReplyDirectory,
    ReplyEmpty, ReplyEntry, ReplyStatfs, ReplyWrite, Request, TimeOrNow, WriteFlags,
};

const TTL: Duration = Duration::from_secs(1);
const ROOT: u64 = 1;
/// The unit a disk writes whole: a torn write keeps whole sectors.
pub const SECTOR: u64 = 512;

/// A change to a file not synced yet.
#[derive(Debug, Clone)]
enum Pending {
    Write { offset: u64, bytes: Vec<u8> },
    SetLen(u64),
}

impl Pending {
    fn apply(&self, buf: &mut Vec<u8>) {
        match self {
            Pending::Write { offset, bytes } => write_into(buf, *offset, bytes),
            Pending::SetLen(len) => buf.resize(to_usize(*len), 0),
        }
    }

    fn apply_to_file(&self, file: &File) -> io::Result<()> {
        match self {
            Pending::Write { offset, bytes } => file.write_all_at(bytes, *offset),
            Pending::SetLen(len) => file.set_len(*len),
        }
    }
}

#[derive(Debug)]
enum Node {
    File {
        perm: u16,
        /// What readers see.
        data: Vec<u8>,
        /// What survives a power cut.
        durable: Vec<u8>,
        /// The changes from `durable` to `data`, in order.
        pending: Vec<Pending>,
    },
    Dir {
        perm: u16,
        entries: BTreeMap<OsString, u64>,
        durable: BTreeMap<OsString, u64>,
    },
}

/// What a power cut discarded.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CutReport {
    /// Bytes written to files and never synced (they are gone, except those kept by the tear).
    pub unsynced_bytes: u64,
    /// Files with unsynced writes or truncations.
    pub unsynced_files: u64,
    /// Directories with unsynced entries.
    pub unsynced_dirs: u64,
    /// Bytes of the last written file's unsynced writes that reached the disk anyway (the tear).
    pub torn_bytes_kept: u64,
}

#[derive(Debug)]
struct State {
    backing: PathBuf,
    nodes: HashMap<u64, Node>,
    next_ino: u64,
    /// The file written last while it had unsynced writes: the one a tear applies to.
    last_written: Option<u64>,
    /// After a power cut every operation fails.
    dead: bool,
    /// Cut the power right after the next write ([`Mounted::cut_at_next_write`]).
    armed: bool,
    mounted_at: SystemTime,
}

/// The filesystem; mount it with [`LazyFs::mount`].
#[derive(Debug, Clone)]
pub struct LazyFs {
    state: Arc<Mutex<State>>,
    /// Notified when an armed write cut the power.
    tripped: Arc<Condvar>,
}

/// A mounted [`LazyFs`]; dropping it unmounts (as a clean shutdown would not: what was unsynced is lost
/// the same way as by [`Mounted::power_cut`] without a tear).
#[derive(Debug)]
pub struct Mounted {
    fs: LazyFs,
    session: Option<BackgroundSession>,
    mountpoint: PathBuf,
}

fn to_usize(n: u64) -> usize {
    usize::try_from(n).unwrap_or(usize::MAX)
}

fn write_into(buf: &mut Vec<u8>, offset: u64, bytes: &[u8]) {
    let start = to_usize(offset);
    let end = start + bytes.len();
    if buf.len() < end {
        buf.resize(end, 0);
    }
    buf[start..end].copy_from_slice(bytes);
}

fn errno(error: &io::Error) -> Errno {
    error.raw_os_error().map_or(Errno::EIO, Errno::from_i32)
}

fn sync_dir(path: &Path) -> io::Result<()> {
    File::open(path)?.sync_all()
}

impl State {
    fn load(&mut self, path: &Path) -> io::Result<u64> {
        let meta = fs::symlink_metadata(path)?;
        let perm = (meta.permissions().mode() & 0o7777) as u16;
        let node = if meta.is_dir() {
            let mut entries = BTreeMap::new();
            for entry in fs::read_dir(path)? {
                let entry = entry?;
                let ino = self.load(&entry.path())?;
                entries.insert(entry.file_name(), ino);
            }
            Node::Dir { perm, durable: entries.clone(), entries }
        } else if meta.is_file() {
            let data = fs::read(path)?;
            Node::File { perm, durable: data.clone(), data, pending: Vec::new() }
        } else {
            return Err(io::Error::new(
                io::ErrorKind::Unsupported,
                format!("lazyfs: {} is neither a file nor a directory", path.display()),
            ));
        };
        let ino = if path == self.backing { ROOT } else { self.allocate() };
        self.nodes.insert(ino, node);
        Ok(ino)
    }

    fn allocate(&mut self) -> u64 {
        let ino = self.next_ino;
        self.next_ino += 1;
        ino
    }

    fn attr(&self, ino: u64) -> Option<FileAttr> {
        let (kind, perm, size, nlink) = match self.nodes.get(&ino)? {
            Node::File { perm, data, .. } => (FileType::RegularFile, *perm, data.len() as u64, 1),
            Node::Dir { perm, .. } => (FileType::Directory, *perm, 4096, 2),
        };
        Some(FileAttr {
            ino: INodeNo(ino),
            size,
            blocks: size.div_ceil(512),
            atime: self.mounted_at,
            mtime: self.mounted_at,
            ctime: self.mounted_at,
            crtime: self.mounted_at,
            kind,
            perm,
            nlink,
            uid: 0,
            gid: 0,
            rdev: 0,
            blksize: 4096,
            flags: 0,
        })
    }

    fn entries(&self, dir: u64) -> Result<&BTreeMap<OsString, u64>, Errno> {
        match self.nodes.get(&dir) {
            Some(Node::Dir { entries, .. }) => Ok(entries),
            Some(Node::File { .. }) => Err(Errno::ENOTDIR),
            None => Err(Errno::ENOENT),
        }
    }

    fn entries_mut(&mut self, dir: u64) -> Result<&mut BTreeMap<OsString, u64>, Errno> {
        match self.nodes.get_mut(&dir) {
            Some(Node::Dir { entries, .. }) => Ok(entries),
            Some(Node::File { .. }) => Err(Errno::ENOTDIR),
            None => Err(Errno::ENOENT),
        }
    }

    /// The backing paths at which `ino` is durable (reachable from the root by durable entries).
    fn durable_paths(&self, ino: u64) -> Vec<PathBuf> {
        let mut found = Vec::new();
        let mut stack = vec![(ROOT, self.backing.clone())];
        while let Some((dir, path)) = stack.pop() {
            if dir == ino {
                found.push(path.clone());
            }
            if let Some(Node::Dir { durable, .. }) = self.nodes.get(&dir) {
                for (name, child) in durable {
                    stack.push((*child, path.join(name)));
                }
            }
        }
        found
    }

    /// Writes the durable state of `ino` at the backing `path` (new there).
    fn materialize(&self, ino: u64, path: &Path) -> io::Result<()> {
        match self.nodes.get(&ino) {
            Some(Node::File { perm, durable, .. }) => {
                let file = OpenOptions::new().write(true).create(true).truncate(true).open(path)?;
                file.write_all_at(durable, 0)?;
                file.set_permissions(fs::Permissions::from_mode(u32::from(*perm)))?;
                file.sync_all()
            }
            Some(Node::Dir { perm, durable, .. }) => {
                fs::create_dir(path)?;
                fs::set_permissions(path, fs::Permissions::from_mode(u32::from(*perm)))?;
                for (name, child) in durable {
                    self.materialize(*child, &path.join(name))?;
                }
                sync_dir(path)
            }
            None => Ok(()),
        }
    }

    fn sync_file(&mut self, ino: u64) -> io::Result<()> {
        let paths = self.durable_paths(ino);
        let Some(Node::File { durable, pending, .. }) = self.nodes.get_mut(&ino) else {
            return Ok(());
        };
        for path in paths {
            let file = OpenOptions::new().write(true).open(path)?;
            for change in pending.iter() {
                change.apply_to_file(&file)?;
            }
            file.sync_data()?;
        }
        for change in pending.drain(..) {
            change.apply(durable);
        }
        if self.last_written == Some(ino) {
            self.last_written = None;
        }
        Ok(())
    }

    fn sync_dir(&mut self, ino: u64) -> io::Result<()> {
        let paths = self.durable_paths(ino);
        let Some(Node::Dir { entries, durable, .. }) = self.nodes.get(&ino) else {
            return Ok(());
        };
        let (entries, durable) = (entries.clone(), durable.clone());
        for path in &paths {
            for (name, old) in &durable {
                if entries.get(name) != Some(old) {
                    let gone = path.join(name);
                    match self.nodes.get(old) {
                        Some(Node::Dir { .. }) => fs::remove_dir_all(&gone)?,
                        _ => fs::remove_file(&gone)?,
                    }
                }
            }
            for (name, new) in &entries {
                if durable.get(name) != Some(new) {
                    self.materialize(*new, &path.join(name))?;
                }
            }
            sync_dir(path)?;
        }
        if let Some(Node::Dir { durable, .. }) = self.nodes.get_mut(&ino) {
            *durable = entries;
        }
        Ok(())
    }

    fn insert(&mut self, parent: u64, name: &OsStr, node: Node) -> Result<u64, Errno> {
        if self.entries(parent)?.contains_key(name) {
            return Err(Errno::EEXIST);
        }
        let ino = self.allocate();
        self.nodes.insert(ino, node);
        self.entries_mut(parent)?.insert(name.to_owned(), ino);
        Ok(ino)
    }

    fn is_empty_dir(&self, ino: u64) -> Option<bool> {
        match self.nodes.get(&ino) {
            Some(Node::Dir { entries, .. }) => Some(entries.is_empty()),
            _ => None,
        }
    }

    fn rename(
        &mut self,
        parent: u64,
        name: &OsStr,
        new_parent: u64,
        new_name: &OsStr,
        no_replace: bool,
    ) -> Result<(), Errno> {
        let ino = *self.entries(parent)?.get(name).ok_or(Errno::ENOENT)?;
        if let Some(&target) = self.entries(new_parent)?.get(new_name) {
            if target == ino {
                return Ok(());
            }
            if no_replace {
                return Err(Errno::EEXIST);
            }
            match (self.is_empty_dir(ino), self.is_empty_dir(target)) {
                (_, Some(false)) => return Err(Errno::ENOTEMPTY),
                (Some(_), None) => return Err(Errno::ENOTDIR),
                (None, Some(_)) => return Err(Errno::EISDIR),
                _ => {}
            }
        }
        self.entries_mut(parent)?.remove(name);
        self.entries_mut(new_parent)?.insert(new_name.to_owned(), ino);
        Ok(())
    }

    /// Discards everything unsynced; with `tear`, first writes that many bytes of the last written file's
    /// unsynced writes (in the order they were made) to its durable paths.
    fn power_cut(&mut self, tear: Option<u64>) -> io::Result<CutReport> {
        let mut report = CutReport::default();
        for node in self.nodes.values() {
            match node {
                Node::File { pending, .. } if !pending.is_empty() => {
                    report.unsynced_files += 1;
                    for change in pending {
                        if let Pending::Write { bytes, .. } = change {
                            report.unsynced_bytes += bytes.len() as u64;
                        }
                    }
                }
                Node::Dir { entries, durable, .. } if entries != durable => report.unsynced_dirs += 1,
                _ => {}
            }
        }
        if let (Some(mut keep), Some(ino)) = (tear, self.last_written) {
            let paths = self.durable_paths(ino);
            if let Some(Node::File { pending, .. }) = self.nodes.get(&ino) {
                let mut kept = Vec::new();
                for change in pending {
                    match change {
                        Pending::Write { offset, bytes } if keep > 0 => {
                            let mut n = bytes.len().min(to_usize(keep));
                            if n < bytes.len() {
                                // A disk writes whole sectors: the torn write ends on a sector boundary.
                                let end = (*offset + n as u64) / SECTOR * SECTOR;
                                n = to_usize(end.saturating_sub(*offset));
                                keep = n as u64;
                            }
                            kept.push(Pending::Write { offset: *offset, bytes: bytes[..n].to_vec() });
                            keep -= n as u64;
                            report.torn_bytes_kept += n as u64;
                        }
                        Pending::SetLen(_) if keep > 0 => kept.push(change.clone()),
                        _ => break,
                    }
                }
                for path in paths {
                    let file = OpenOptions::new().write(true).open(path)?;
                    for change in &kept {
                        change.apply_to_file(&file)?;
                    }
                    file.sync_data()?;
                }
            }
        }
        self.dead = true;
        Ok(report)
    }
}

impl LazyFs {
    /// Mounts a `LazyFs` over `backing` (an existing directory, read into memory) at `mountpoint` (an
    /// existing empty directory), served on a background thread of this process.
    ///
    /// # Errors
    /// When the backing directory cannot be read or the mount fails (no `/dev/fuse`, not permitted).
    pub fn mount(backing: &Path, mountpoint: &Path) -> io::Result<Mounted> {
        let backing = fs::canonicalize(backing)?;
        let mut state = State {
            backing: backing.clone(),
            nodes: HashMap::new(),
            next_ino: ROOT + 1,
            last_written: None,
            dead: false,
            armed: false,
            mounted_at: SystemTime::now(),
        };
        state.load(&backing)?;
        let fs = LazyFs { state: Arc::new(Mutex::new(state)), tripped: Arc::new(Condvar::new()) };
        let mut config = Config::default();
        config.mount_options =
            vec![MountOption::FSName("lazyfs".into()), MountOption::DefaultPermissions, MountOption::RW];
        let session = fuser::spawn_mount(fs.clone(), mountpoint, &config)?;
        Ok(Mounted { fs, session: Some(session), mountpoint: mountpoint.to_owned() })
    }

    fn state(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock leaves at worst a half-applied operation of a test that failed.
        self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Runs `f` on the state unless the power is cut.
    fn live<T>(&self, f: impl FnOnce(&mut State) -> Result<T, Errno>) -> Result<T, Errno> {
        let mut state = self.state();
        if state.dead {
            return Err(Errno::EIO);
        }
        f(&mut state)
    }
}

impl Mounted {
    /// Where the filesystem is mounted.
    pub fn mountpoint(&self) -> &Path {
        &self.mountpoint
    }

    /// Arms a cut at the next write: that write is taken (unsynced, as any write) and every operation after
    /// it fails with `EIO`, as if the power went right after it. Waits for that write, at most `timeout`;
    /// returns whether it happened. Then stop the processes and call [`Mounted::power_cut`] to discard what
    /// was not synced: a cut at this moment always finds unsynced data (the write) and an fsync that did not
    /// happen.
    pub fn cut_at_next_write(&self, timeout: Duration) -> bool {
        let mut state = self.fs.state();
        state.armed = true;
        let (state, _) = self
            .fs
            .tripped
            .wait_timeout_while(state, timeout, |state| !state.dead)
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        state.dead
    }

    /// Cuts the power: from now on every operation fails with `EIO`; what was not synced is discarded
    /// (except, with `tear = Some(n)`, the first `n` bytes of the unsynced writes of the file written
    /// last, which reach the backing directory, cut back to a [`SECTOR`] boundary of the file where a write
    /// is torn); then unmounts. Stop the processes using the mount first
    /// (`kill -9`): a process still writing gets `EIO`, and the unmount is lazy.
    ///
    /// # Errors
    /// When the torn bytes cannot be written to the backing directory or the unmount fails.
    pub fn power_cut(mut self, tear: Option<u64>) -> io::Result<CutReport> {
        let report = self.fs.state().power_cut(tear)?;
        if let Some(session) = self.session.take() {
            session.umount_and_join()?;
        }
        Ok(report)
    }
}

impl Drop for Mounted {
    fn drop(&mut self) {
        self.fs.state().dead = true;
        if let Some(session) = self.session.take() {
            let _ = session.umount_and_join();
        }
    }
}

fn reply_entry(reply: ReplyEntry, state: &State, result: Result<u64, Errno>) {
    match result.and_then(|ino| state.attr(ino).ok_or(Errno::ENOENT)) {
        Ok(attr) => reply.entry(&TTL, &attr, Generation(0)),
        Err(error) => reply.error(error),
    }
}

impl Filesystem for LazyFs {
    fn lookup(&self, _req: &Request, parent: INodeNo, name: &OsStr, reply: ReplyEntry) {
        let state = self.state();
        let result = if state.dead {
            Err(Errno::EIO)
        } else {
            state.entries(parent.0).and_then(|entries| entries.get(name).copied().ok_or(Errno::ENOENT))
        };
        reply_entry(reply, &state, result);
    }

    fn getattr(&self, _req: &Request, ino: INodeNo, _fh: Option<FileHandle>, reply: ReplyAttr) {
        match self.live(|state| state.attr(ino.0).ok_or(Errno::ENOENT)) {
            Ok(attr) => reply.attr(&TTL, &attr),
            Err(error) => reply.error(error),
        }
    }

    fn setattr(
        &self,
        _req: &Request,
        ino: INodeNo,
        mode: Option<u32>,
        _uid: Option<u32>,
        _gid: Option<u32>,
        size: Option<u64>,
        _atime: Option<TimeOrNow>,
        _mtime: Option<TimeOrNow>,
        _ctime: Option<SystemTime>,
        _fh: Option<FileHandle>,
        _crtime: Option<SystemTime>,
        _chgtime: Option<SystemTime>,
        _bkuptime: Option<SystemTime>,
        _flags: Option<fuser::BsdFileFlags>,
        reply: ReplyAttr,
    ) {
        let result = self.live(|state| {
            let node = state.nodes.get_mut(&ino.0).ok_or(Errno::ENOENT)?;
            if let Some(len) = size {
                let Node::File { data, pending, .. } = node else {
                    return Err(Errno::EISDIR);
                };
                data.resize(to_usize(len), 0);
                pending.push(Pending::SetLen(len));
            }
            if let Some(mode) = mode {
                let (Node::File { perm, .. } | Node::Dir { perm, .. }) = node;
                *perm = (mode & 0o7777) as u16;
            }
            if size.is_some() {
                state.last_written = Some(ino.0);
            }
            state.attr(ino.0).ok_or(Errno::ENOENT)
        });
        match result {
            Ok(attr) => reply.attr(&TTL, &attr),
            Err(error) => reply.error(error),
        }
    }

    fn mkdir(&self, _req: &Request, parent: INodeNo, name: &OsStr, mode: u32, umask: u32, reply: ReplyEntry) {
        let perm = (mode & !umask & 0o7777) as u16;
        let mut state = self.state();
        let result = if state.dead {
            Err(Errno::EIO)
        } else {
            state.insert(
                parent.0,
                name,
                Node::Dir { perm, entries: BTreeMap::new(), durable: BTreeMap::new() },
            )
        };
        reply_entry(reply, &state, result);
    }

    fn unlink(&self, _req: &Request, parent: INodeNo, name: &OsStr, reply: ReplyEmpty) {
        let result = self.live(|state| {
            let ino = *state.entries(parent.0)?.get(name).ok_or(Errno::ENOENT)?;
            if state.is_empty_dir(ino).is_some() {
                return Err(Errno::EISDIR);
            }
            state.entries_mut(parent.0)?.remove(name);
            Ok(())
        });
        reply_empty(reply, result);
    }

    fn rmdir(&self, _req: &Request, parent: INodeNo, name: &OsStr, reply: ReplyEmpty) {
        let result = self.live(|state| {
            let ino = *state.entries(parent.0)?.get(name).ok_or(Errno::ENOENT)?;
            match state.is_empty_dir(ino) {
                None => return Err(Errno::ENOTDIR),
                Some(false) => return Err(Errno::ENOTEMPTY),
                Some(true) => {}
            }
            state.entries_mut(parent.0)?.remove(name);
            Ok(())
        });
        reply_empty(reply, result);
    }

    fn rename(
        &self,
        _req: &Request,
        parent: INodeNo,
        name: &OsStr,
        newparent: INodeNo,
        newname: &OsStr,
        flags: RenameFlags,
        reply: ReplyEmpty,
    ) {
        let result = self.live(|state| {
            if !(flags - RenameFlags::RENAME_NOREPLACE).is_empty() {
                return Err(Errno::EINVAL);
            }
            let no_replace = flags.contains(RenameFlags::RENAME_NOREPLACE);
            state.rename(parent.0, name, newparent.0, newname, no_replace)
        });
        reply_empty(reply, result);
    }

    fn open(&self, _req: &Request, ino: INodeNo, _flags: OpenFlags, reply: fuser::ReplyOpen) {
        match self.live(|state| state.attr(ino.0).ok_or(Errno::ENOENT)) {
            Ok(_) => reply.opened(FileHandle(0), FopenFlags::empty()),
            Err(error) => reply.error(error),
        }
    }

    fn read(
        &self,
        _req: &Request,
        ino: INodeNo,
        _fh: FileHandle,
        offset: u64,
        size: u32,
        _flags: OpenFlags,
        _lock_owner: Option<fuser::LockOwner>,
        reply: ReplyData,
    ) {
        let state = self.state();
        match state.nodes.get(&ino.0) {
            _ if state.dead => reply.error(Errno::EIO),
            Some(Node::File { data, .. }) => {
                let start = to_usize(offset).min(data.len());
                let end = start.saturating_add(size as usize).min(data.len());
                reply.data(&data[start..end]);
            }
            Some(Node::Dir { .. }) => reply.error(Errno::EISDIR),
            None => reply.error(Errno::ENOENT),
        }
    }

    fn write(
        &self,
        _req: &Request,
        ino: INodeNo,
        _fh: FileHandle,
        offset: u64,
        bytes: &[u8],
        _write_flags: WriteFlags,
        _flags: OpenFlags,
        _lock_owner: Option<fuser::LockOwner>,
        reply: ReplyWrite,
    ) {
        let result = self.live(|state| {
            let Some(Node::File { data, pending, .. }) = state.nodes.get_mut(&ino.0) else {
                return Err(Errno::EISDIR);
            };
            write_into(data, offset, bytes);
            pending.push(Pending::Write { offset, bytes: bytes.to_vec() });
            state.last_written = Some(ino.0);
            if state.armed {
                // This write is the last one the disk's cache takes: everything after it fails.
                state.dead = true;
                self.tripped.notify_all();
            }
            Ok(())
        });
        match result {
            Ok(()) => reply.written(u32::try_from(bytes.len()).unwrap_or(u32::MAX)),
            Err(error) => reply.error(error),
        }
    }

    fn flush(
        &self,
        _req: &Request,
        _ino: INodeNo,
        _fh: FileHandle,
        _owner: fuser::LockOwner,
        reply: ReplyEmpty,
    ) {
        reply.ok();
    }

    fn fsync(&self, _req: &Request, ino: INodeNo, _fh: FileHandle, _datasync: bool, reply: ReplyEmpty) {
        let result = self.live(|state| state.sync_file(ino.0).map_err(|e| errno(&e)));
        reply_empty(reply, result);
    }

    fn readdir(&self, _req: &Request, ino: INodeNo, _fh: FileHandle, offset: u64, mut reply: ReplyDirectory) {
        let state = self.state();
        let entries = match state.entries(ino.0) {
            _ if state.dead => return reply.error(Errno::EIO),
            Ok(entries) => entries,
            Err(error) => return reply.error(error),
        };
        let listing =
            [(ino.0, FileType::Directory, OsStr::new(".")), (ino.0, FileType::Directory, OsStr::new(".."))]
                .into_iter()
                .chain(entries.iter().map(|(name, child)| {
                    let kind = match state.nodes.get(child) {
                        Some(Node::Dir { .. }) => FileType::Directory,
                        _ => FileType::RegularFile,
                    };
                    (*child, kind, name.as_os_str())
                }));
        for (i, (child, kind, name)) in listing.enumerate().skip(to_usize(offset)) {
            if reply.add(INodeNo(child), i as u64 + 1, kind, name) {
                break;
            }
        }
        reply.ok();
    }

    fn fsyncdir(&self, _req: &Request, ino: INodeNo, _fh: FileHandle, _datasync: bool, reply: ReplyEmpty) {
        let result = self.live(|state| state.sync_dir(ino.0).map_err(|e| errno(&e)));
        reply_empty(reply, result);
    }

    fn statfs(&self, _req: &Request, _ino: INodeNo, reply: ReplyStatfs) {
        // Plenty of room (the server refuses to write on a full disk).
        reply.statfs(1 << 24, 1 << 24, 1 << 24, 1 << 20, 1 << 20, 4096, 255, 4096);
    }

    fn access(&self, _req: &Request, _ino: INodeNo, _mask: fuser::AccessFlags, reply: ReplyEmpty) {
        reply.ok();
    }

    fn create(
        &self,
        _req: &Request,
        parent: INodeNo,
        name: &OsStr,
        mode: u32,
        umask: u32,
        _flags: i32,
        reply: ReplyCreate,
    ) {
        let perm = (mode & !umask & 0o7777) as u16;
        let result = self.live(|state| {
            let ino = state.insert(
                parent.0,
                name,
                Node::File { perm, data: Vec::new(), durable: Vec::new(), pending: Vec::new() },
            )?;
            state.attr(ino).ok_or(Errno::ENOENT)
        });
        match result {
            Ok(attr) => reply.created(&TTL, &attr, Generation(0), FileHandle(0), FopenFlags::empty()),
            Err(error) => reply.error(error),
        }
    }
}

fn reply_empty(reply: ReplyEmpty, result: Result<(), Errno>) {
    match result {
        Ok(()) => reply.ok(),
        Err(error) => reply.error(error),
    }
}
