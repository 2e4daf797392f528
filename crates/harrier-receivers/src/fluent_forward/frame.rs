//! Framing: finding where one msgpack value ends in a byte stream, without trusting it.
//!
//! The forward protocol has no length prefix: a message is one msgpack value, and the
//! next starts right after it. [`Scanner`] walks msgpack headers only (string, binary
//! and ext payloads are skipped, not read), keeps its place between reads, and fails
//! as soon as a header announces more bytes than the limit or nesting deeper than
//! [`MAX_DEPTH`]. So a value is decoded (by `rmpv`) only once it is complete, within
//! the limit and shallow enough: a hostile length field cannot make anything allocate
//! or recurse. [`FrameReader`] applies it to a socket, reading into a bounded buffer.

use super::decode::DecodeError;
use bytes::{Bytes, BytesMut};
use tokio::io::{AsyncRead, AsyncReadExt};

/// Deepest nesting of arrays and maps accepted in a message (records nested deeper
/// than this are refused as malformed).
pub(crate) const MAX_DEPTH: usize = 64;

/// Bytes asked of the socket per read.
const READ_CHUNK: usize = 64 * 1024;

/// A resumable msgpack value scanner (see the module docs).
#[derive(Debug, Default)]
pub(crate) struct Scanner {
    /// Where the next header starts.
    pos: usize,
    /// Items still expected by each open array or map, innermost last.
    open: Vec<u64>,
}

/// The shape of one msgpack header: its length, the payload bytes after it, and how
/// many nested values follow (elements of an array, keys and values of a map).
struct Head {
    header: usize,
    payload: u64,
    children: u64,
}

fn be_len(bytes: &[u8], at: usize, width: usize) -> Option<u64> {
    let field = bytes.get(at..at + width)?;
    Some(field.iter().fold(0u64, |acc, b| (acc << 8) | u64::from(*b)))
}

/// Parses the header starting at `bytes[0]`; `None` when it is not complete yet.
fn head(bytes: &[u8]) -> Result<Option<Head>, DecodeError> {
    let Some(&marker) = bytes.first() else {
        return Ok(None);
    };
    let fixed = |header: usize, payload: u64| Head {
        header,
        payload,
        children: 0,
    };
    // Variable lengths: (header size, offset of the length field, its width, what it counts).
    enum Counts {
        Payload,
        Children,
        Pairs,
    }
    let variable = |width: usize, extra: usize, counts: Counts| {
        be_len(bytes, 1, width).map(|n| {
            let header = 1 + width + extra;
            match counts {
                Counts::Payload => Head {
                    header,
                    payload: n,
                    children: 0,
                },
                Counts::Children => Head {
                    header,
                    payload: 0,
                    children: n,
                },
                Counts::Pairs => Head {
                    header,
                    payload: 0,
                    children: n * 2,
                },
            }
        })
    };
    Ok(match marker {
        0x00..=0x7f | 0xe0..=0xff | 0xc0 | 0xc2 | 0xc3 => Some(fixed(1, 0)),
        0x80..=0x8f => Some(Head {
            header: 1,
            payload: 0,
            children: u64::from(marker & 0x0f) * 2,
        }),
        0x90..=0x9f => Some(Head {
            header: 1,
            payload: 0,
            children: u64::from(marker & 0x0f),
        }),
        0xa0..=0xbf => Some(fixed(1, u64::from(marker & 0x1f))),
        0xc1 => {
            return Err(DecodeError::Msgpack(
                "reserved marker 0xc1 (never used by msgpack)".into(),
            ));
        }
        0xc4 | 0xd9 => variable(1, 0, Counts::Payload),
        0xc5 | 0xda => variable(2, 0, Counts::Payload),
        0xc6 | 0xdb => variable(4, 0, Counts::Payload),
        // ext 8/16/32: the length, then one type byte.
        0xc7 => variable(1, 1, Counts::Payload),
        0xc8 => variable(2, 1, Counts::Payload),
        0xc9 => variable(4, 1, Counts::Payload),
        0xca => Some(fixed(1, 4)),
        0xcb => Some(fixed(1, 8)),
        0xcc | 0xd0 => Some(fixed(1, 1)),
        0xcd | 0xd1 => Some(fixed(1, 2)),
        0xce | 0xd2 => Some(fixed(1, 4)),
        0xcf | 0xd3 => Some(fixed(1, 8)),
        // fixext 1/2/4/8/16: one type byte, then the data.
        0xd4 => Some(fixed(2, 1)),
        0xd5 => Some(fixed(2, 2)),
        0xd6 => Some(fixed(2, 4)),
        0xd7 => Some(fixed(2, 8)),
        0xd8 => Some(fixed(2, 16)),
        0xdc => variable(2, 0, Counts::Children),
        0xdd => variable(4, 0, Counts::Children),
        0xde => variable(2, 0, Counts::Pairs),
        0xdf => variable(4, 0, Counts::Pairs),
    })
}

impl Scanner {
    /// Continues scanning `buf` (which must start with the bytes given before) and
    /// returns the length of the first complete value, or `None` if more bytes are
    /// needed. After `Some`, the scanner is ready for the next value at offset 0.
    ///
    /// # Errors
    /// [`DecodeError::TooLarge`] as soon as the value cannot fit in `max` bytes,
    /// [`DecodeError::TooDeep`] past [`MAX_DEPTH`], [`DecodeError::Msgpack`] for a
    /// byte that starts no msgpack value.
    pub(crate) fn advance(&mut self, buf: &[u8], max: usize) -> Result<Option<usize>, DecodeError> {
        loop {
            let rest = buf.get(self.pos..).unwrap_or_default();
            let Some(h) = head(rest)? else {
                return Ok(None);
            };
            let end = (self.pos as u64)
                .saturating_add(h.header as u64)
                .saturating_add(h.payload);
            // Every nested value takes at least one byte: fail before reading them.
            let at_least = end.saturating_add(h.children);
            if at_least > max as u64 {
                return Err(DecodeError::TooLarge {
                    size: at_least,
                    max: max as u64,
                });
            }
            if end > buf.len() as u64 {
                return Ok(None);
            }
            // `end <= buf.len()`, so it fits in usize.
            self.pos = end as usize;
            if h.children > 0 {
                if self.open.len() >= MAX_DEPTH {
                    return Err(DecodeError::TooDeep(MAX_DEPTH));
                }
                self.open.push(h.children);
                continue;
            }
            // One value is complete; so may be the containers it ends.
            loop {
                match self.open.last_mut() {
                    None => {
                        let len = self.pos;
                        self.pos = 0;
                        return Ok(Some(len));
                    }
                    Some(remaining) => {
                        *remaining -= 1;
                        if *remaining > 0 {
                            break;
                        }
                        self.open.pop();
                    }
                }
            }
        }
    }
}

/// Decodes one complete msgpack value (as delimited by a [`Scanner`]).
///
/// # Errors
/// [`DecodeError::Msgpack`] when rmpv cannot read it.
pub(crate) fn read_value(bytes: &[u8]) -> Result<rmpv::Value, DecodeError> {
    let mut cursor = bytes;
    rmpv::decode::read_value(&mut cursor).map_err(|e| DecodeError::Msgpack(e.to_string()))
}

/// Splits a stream of concatenated msgpack values (PackedForward entries) into
/// decoded values. Every value must be complete.
///
/// # Errors
/// [`DecodeError`] for a truncated, malformed or too deep value.
pub(crate) fn read_values(mut bytes: &[u8]) -> Result<Vec<rmpv::Value>, DecodeError> {
    let mut values = Vec::new();
    while !bytes.is_empty() {
        // Within the packed bytes, "more than allowed" means the entry is cut short.
        let len = match Scanner::default().advance(bytes, bytes.len()) {
            Ok(Some(len)) => len,
            Ok(None) | Err(DecodeError::TooLarge { .. }) => {
                return Err(DecodeError::Shape(
                    "the packed entries end in the middle of an entry".into(),
                ));
            }
            Err(e) => return Err(e),
        };
        let (value, rest) = bytes.split_at(len);
        values.push(read_value(value)?);
        bytes = rest;
    }
    Ok(values)
}

/// Why reading the next message from a connection failed.
#[derive(Debug, thiserror::Error)]
pub(crate) enum FrameError {
    /// The bytes are not an acceptable msgpack value.
    #[error(transparent)]
    Decode(#[from] DecodeError),
    /// The peer closed the connection in the middle of a message.
    #[error("connection closed in the middle of a message ({0} bytes buffered)")]
    Truncated(usize),
    /// Reading the socket failed.
    #[error("read failed: {0}")]
    Io(#[from] std::io::Error),
}

/// Reads whole msgpack values from a byte stream into a buffer bounded by `max`
/// (plus one read).
pub(crate) struct FrameReader<R> {
    inner: R,
    buf: BytesMut,
    scanner: Scanner,
    max: usize,
}

impl<R: AsyncRead + Unpin> FrameReader<R> {
    /// A reader refusing values larger than `max` bytes.
    pub(crate) fn new(inner: R, max: usize) -> FrameReader<R> {
        FrameReader {
            inner,
            buf: BytesMut::new(),
            scanner: Scanner::default(),
            max,
        }
    }

    /// Changes the size limit (e.g. a small one during the handshake).
    pub(crate) fn set_max(&mut self, max: usize) {
        self.max = max;
    }

    /// The next complete value's bytes; `None` at a clean end of stream. Cancel-safe:
    /// bytes read so far stay buffered.
    ///
    /// # Errors
    /// [`FrameError`] for a malformed or oversize value, a truncated stream or an I/O
    /// failure.
    pub(crate) async fn next_frame(&mut self) -> Result<Option<Bytes>, FrameError> {
        loop {
            if !self.buf.is_empty()
                && let Some(len) = self.scanner.advance(&self.buf, self.max)?
            {
                return Ok(Some(self.buf.split_to(len).freeze()));
            }
            self.buf.reserve(READ_CHUNK);
            if self.inner.read_buf(&mut self.buf).await? == 0 {
                return if self.buf.is_empty() {
                    Ok(None)
                } else {
                    Err(FrameError::Truncated(self.buf.len()))
                };
            }
        }
    }
}
