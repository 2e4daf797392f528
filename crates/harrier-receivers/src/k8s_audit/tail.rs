//! Following the audit log backend's file: [`Follower`] reads complete lines in
//! bounded batches and notices rotation; [`OffsetStore`] keeps its [`Position`] on disk.
//!
//! kube-apiserver's log backend (lumberjack) rotates by renaming the file and creating
//! a new one at the same path. The follower keeps the old file open, so once the path
//! names a different inode it first reads the old file to its end, then switches to the
//! new file at offset 0. A file that shrank under the same inode (copytruncate) is read
//! again from 0. A trailing line without its newline is never consumed: it is read once
//! it is complete, or counted as abandoned if the file is rotated first.
//!
//! The offset only moves by [`Follower::commit`], which the caller invokes after the
//! batch was accepted downstream; the position (path, inode, offset) is then written to
//! `<storage_dir>/<receiver>.offset.json` atomically (temporary file, fsync, rename).
//! On start, [`Follower::resume`] continues at the stored offset when the inode
//! matches; when the file was rotated meanwhile it looks for the old inode in the same
//! directory to finish that file first. All I/O here is blocking: the caller runs it on
//! the blocking pool.

use serde::{Deserialize, Serialize};
use std::fs::{File, Metadata};
use std::io::{self, BufRead, BufReader, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

/// Where reading stands, as persisted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Position {
    /// The followed path (a stored position for another path is ignored).
    pub log_path: PathBuf,
    /// The inode of the file the offset belongs to.
    pub inode: u64,
    /// Bytes consumed: the start of the first line not yet accepted.
    pub offset: u64,
}

/// The position file of one receiver.
#[derive(Debug, Clone)]
pub struct OffsetStore {
    path: PathBuf,
}

impl OffsetStore {
    /// The store for receiver `receiver_id` under `storage_dir`.
    pub fn new(storage_dir: &Path, receiver_id: &str) -> OffsetStore {
        let name: String = receiver_id
            .chars()
            .map(|c| match c {
                'a'..='z' | 'A'..='Z' | '0'..='9' | '-' | '_' | '.' => c,
                _ => '_',
            })
            .collect();
        OffsetStore {
            path: storage_dir.join(format!("{name}.offset.json")),
        }
    }

    /// The file the position is kept in.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The stored position; `None` when there is none yet.
    ///
    /// # Errors
    /// When the file cannot be read or does not hold a position.
    pub fn load(&self) -> io::Result<Option<Position>> {
        match std::fs::read(&self.path) {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .map(Some)
                .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Replaces the stored position atomically.
    ///
    /// # Errors
    /// When the temporary file cannot be written, synced or renamed.
    pub fn save(&self, position: &Position) -> io::Result<()> {
        let json = serde_json::to_vec(position).map_err(io::Error::other)?;
        let tmp = self.path.with_extension("json.tmp");
        {
            let mut file = File::create(&tmp)?;
            file.write_all(&json)?;
            file.sync_all()?;
        }
        std::fs::rename(&tmp, &self.path)?;
        if let Some(dir) = self.path.parent()
            && let Ok(dir) = File::open(dir)
        {
            // Makes the rename itself durable; not every platform can sync a directory.
            let _ = dir.sync_all();
        }
        Ok(())
    }
}

/// One line read from the file, without its line ending.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Line {
    /// A complete line.
    Complete(Vec<u8>),
    /// A line longer than the limit (its length in bytes); skipped.
    TooLong(u64),
}

/// Complete lines read from the current offset.
#[derive(Debug, Default)]
pub struct Chunk {
    /// The non-empty lines, in order.
    pub lines: Vec<Line>,
    /// The offset just after the last line read: commit it once the lines are accepted.
    pub end: u64,
    /// Bytes covered (`end` minus the offset read from).
    pub bytes: u64,
}

/// Why the follower changed files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Switch {
    /// The file appeared (it did not exist before).
    Opened,
    /// The file was rotated: the old one was read to its end, the new one is read from
    /// 0. `abandoned` bytes of an unfinished last line were left in the old one.
    Rotated {
        /// Bytes after the old file's last newline.
        abandoned: u64,
    },
    /// The file shrank under the same inode: read again from 0.
    Truncated,
}

/// What one call to [`Follower::next`] found.
#[derive(Debug)]
pub enum Step {
    /// Lines to process, then commit.
    Chunk(Chunk),
    /// Nothing new: wait for the poll interval.
    Idle,
    /// Now reading another file (or again from 0).
    Switched(Switch),
}

/// How [`Follower::resume`] started.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resume {
    /// No usable stored position: from the start of the file.
    Fresh,
    /// At the stored offset of the same file.
    Continued,
    /// At the stored offset of the previous file, found rotated in the same directory.
    RotatedFileFound,
    /// The stored file is gone (rotated away and deleted, or truncated): from the start
    /// of the current file.
    StoredFileGone,
}

struct Current {
    file: File,
    inode: u64,
}

/// Follows one file; see the module docs.
pub struct Follower {
    path: PathBuf,
    current: Option<Current>,
    offset: u64,
    max_lines: usize,
    max_bytes: usize,
}

#[cfg(unix)]
fn inode(meta: &Metadata) -> u64 {
    std::os::unix::fs::MetadataExt::ino(meta)
}

#[cfg(not(unix))]
fn inode(_meta: &Metadata) -> u64 {
    0
}

fn open(path: &Path) -> io::Result<Option<Current>> {
    match File::open(path) {
        Ok(file) => {
            let inode = inode(&file.metadata()?);
            Ok(Some(Current { file, inode }))
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

/// Finds a regular file with `wanted` inode beside `path` (the rotated-away file).
fn find_rotated(path: &Path, wanted: u64) -> Option<Current> {
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty())?;
    std::fs::read_dir(dir)
        .ok()?
        .filter_map(Result::ok)
        .filter(|entry| entry.path() != path)
        .filter(|entry| {
            entry
                .metadata()
                .is_ok_and(|m| m.is_file() && inode(&m) == wanted)
        })
        .find_map(|entry| open(&entry.path()).ok().flatten())
        .filter(|c| c.inode == wanted)
}

impl Follower {
    /// Starts following `path` at `stored` when it still applies; reads at most
    /// `max_lines` lines or about `max_bytes` bytes per batch, and skips lines longer
    /// than `max_bytes`.
    ///
    /// # Errors
    /// When the file exists but cannot be opened.
    pub fn resume(
        path: PathBuf,
        stored: Option<Position>,
        max_lines: usize,
        max_bytes: usize,
    ) -> io::Result<(Follower, Resume)> {
        let current = open(&path)?;
        let mut follower = Follower {
            current,
            path,
            offset: 0,
            max_lines: max_lines.max(1),
            max_bytes: max_bytes.max(1),
        };
        let Some(stored) = stored.filter(|p| p.log_path == follower.path) else {
            return Ok((follower, Resume::Fresh));
        };
        let how = match &follower.current {
            Some(c) if c.inode == stored.inode => {
                if c.file.metadata()?.len() < stored.offset {
                    Resume::StoredFileGone
                } else {
                    follower.offset = stored.offset;
                    Resume::Continued
                }
            }
            _ => match find_rotated(&follower.path, stored.inode) {
                Some(old) => {
                    follower.current = Some(old);
                    follower.offset = stored.offset;
                    Resume::RotatedFileFound
                }
                None => Resume::StoredFileGone,
            },
        };
        Ok((follower, how))
    }

    /// The position to persist, once a file is open.
    pub fn position(&self) -> Option<Position> {
        self.current.as_ref().map(|c| Position {
            log_path: self.path.clone(),
            inode: c.inode,
            offset: self.offset,
        })
    }

    /// Marks everything before `end` (a [`Chunk::end`]) as consumed.
    pub fn commit(&mut self, end: u64) {
        self.offset = self.offset.max(end);
    }

    /// Reads the next batch of complete lines, or notices a rotation or truncation.
    ///
    /// # Errors
    /// When reading or inspecting the file fails.
    pub fn next(&mut self) -> io::Result<Step> {
        let Some(current) = &self.current else {
            return Ok(match open(&self.path)? {
                Some(c) => {
                    self.current = Some(c);
                    self.offset = 0;
                    Step::Switched(Switch::Opened)
                }
                None => Step::Idle,
            });
        };
        let chunk = self.read_chunk(&current.file)?;
        if chunk.end > self.offset {
            return Ok(Step::Chunk(chunk));
        }
        let meta = match std::fs::metadata(&self.path) {
            Ok(m) => m,
            // Renamed away, the new file not created yet: keep the old one for now.
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Step::Idle),
            Err(e) => return Err(e),
        };
        if inode(&meta) != current.inode {
            // Lines written just before the rename may have landed after the read above.
            let chunk = self.read_chunk(&current.file)?;
            if chunk.end > self.offset {
                return Ok(Step::Chunk(chunk));
            }
            let abandoned = current.file.metadata()?.len().saturating_sub(self.offset);
            return Ok(match open(&self.path)? {
                Some(c) => {
                    self.current = Some(c);
                    self.offset = 0;
                    Step::Switched(Switch::Rotated { abandoned })
                }
                None => Step::Idle,
            });
        }
        if meta.len() < self.offset {
            self.offset = 0;
            return Ok(Step::Switched(Switch::Truncated));
        }
        Ok(Step::Idle)
    }

    fn read_chunk(&self, file: &File) -> io::Result<Chunk> {
        let mut reader = BufReader::with_capacity(64 * 1024, file);
        reader.seek(SeekFrom::Start(self.offset))?;
        let mut chunk = Chunk {
            end: self.offset,
            ..Chunk::default()
        };
        while chunk.lines.len() < self.max_lines && chunk.bytes < self.max_bytes as u64 {
            let Some((line, len)) = read_line(&mut reader, self.max_bytes)? else {
                break;
            };
            chunk.end += len;
            chunk.bytes += len;
            match line {
                Line::Complete(l) if l.iter().all(u8::is_ascii_whitespace) => {}
                line => chunk.lines.push(line),
            }
        }
        Ok(chunk)
    }
}

/// Reads one line ending in `\n`; `None` at the end of the file or before an
/// unfinished line. Returns the line and the bytes it took, newline included.
fn read_line(reader: &mut impl BufRead, max: usize) -> io::Result<Option<(Line, u64)>> {
    let mut buf = Vec::new();
    let mut taken = 0u64;
    let mut too_long = false;
    loop {
        let available = reader.fill_buf()?;
        if available.is_empty() {
            return Ok(None);
        }
        let (take, done) = match available.iter().position(|&b| b == b'\n') {
            Some(i) => (i + 1, true),
            None => (available.len(), false),
        };
        if !too_long {
            buf.extend_from_slice(&available[..take]);
            if buf.len() > max.saturating_add(2) {
                too_long = true;
                buf = Vec::new();
            }
        }
        reader.consume(take);
        taken += take as u64;
        if done {
            break;
        }
    }
    if too_long {
        return Ok(Some((Line::TooLong(taken), taken)));
    }
    while buf.last().is_some_and(|b| *b == b'\n' || *b == b'\r') {
        buf.pop();
    }
    Ok(Some((Line::Complete(buf), taken)))
}

#[cfg(test)]
#[path = "tail_tests.rs"]
mod tests;
