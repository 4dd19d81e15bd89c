//! Feeds arbitrary DATA chunks to the gRPC message decoder
//! (`dubbo_runtime::triple::frame::Decoder`), with an arbitrary message-size limit, with and
//! without `grpc-encoding: gzip`. Properties checked:
//! * decoding never panics (libFuzzer also enforces time and RSS limits);
//! * no message is larger than the limit (after decompression);
//! * memory stays bounded by what was received plus the limit, whatever the length prefixes
//!   claim: during any one decoder call (`push`, `next_payload`) the live heap grows by at
//!   most `2 * received + 2 * limit + 256 KiB` (the constant covers gzip's window and
//!   buffers; messages the caller keeps are not the decoder's), so a hostile 4 GiB prefix
//!   allocates nothing for the message it announces;
//! * how the bytes are split into chunks does not change the outcome: the same messages
//!   (bytes and compressed flags), then the same error code or the same partial state.
#![no_main]

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use bytes::Bytes;
use dubbo_runtime::triple::Encoding;
use dubbo_runtime::triple::frame::Decoder;
use libfuzzer_sys::arbitrary::{self, Arbitrary};
use libfuzzer_sys::fuzz_target;

/// Counts live heap bytes and their peak.
struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

fn grew(by: usize) {
    let now = LIVE.fetch_add(by, Ordering::Relaxed) + by;
    PEAK.fetch_max(now, Ordering::Relaxed);
}

// SAFETY: forwards to the system allocator unchanged; only counts.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: same contract as ours.
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            grew(layout.size());
        }
        p
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: same contract as ours.
        let p = unsafe { System.alloc_zeroed(layout) };
        if !p.is_null() {
            grew(layout.size());
        }
        p
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as ours.
        unsafe { System.dealloc(ptr, layout) };
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: same contract as ours.
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
            grew(new_size);
        }
        p
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// One frame as the harness writes it: any flags and length prefix (the real length unless
/// `length` overrides it, e.g. with a hostile 4 GiB), and a body that can be gzip data so
/// the decompression path (and compression bombs, through `zeros`) is reached.
#[derive(Arbitrary, Debug)]
struct Frame {
    flags: u8,
    length: Option<u32>,
    body: Vec<u8>,
    /// Zero bytes appended to the body (x 4) before it is compressed.
    zeros: u16,
    gzip_body: bool,
}

#[derive(Arbitrary, Debug)]
struct Input {
    /// The configured message-size limit.
    limit: u16,
    gzip: bool,
    frames: Vec<Frame>,
    /// Bytes after the frames (garbage, a partial frame).
    tail: Vec<u8>,
    /// Where the byte stream is cut into DATA chunks.
    splits: Vec<u16>,
}

impl Input {
    /// The byte stream the frames describe.
    fn stream(&self) -> Vec<u8> {
        let mut out = Vec::new();
        for frame in &self.frames {
            let mut body = frame.body.clone();
            body.resize(body.len() + usize::from(frame.zeros) * 4, 0);
            if frame.gzip_body {
                let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
                std::io::Write::write_all(&mut gz, &body).expect("in-memory write");
                body = gz.finish().expect("in-memory write");
            }
            let length = frame.length.unwrap_or(body.len() as u32);
            out.push(frame.flags);
            out.extend_from_slice(&length.to_be_bytes());
            out.extend_from_slice(&body);
        }
        out.extend_from_slice(&self.tail);
        out
    }

    /// The stream cut at the split points.
    fn chunks(&self, stream: &Bytes) -> Vec<Bytes> {
        let mut cuts: Vec<usize> = self
            .splits
            .iter()
            .map(|&s| usize::from(s) % (stream.len() + 1))
            .collect();
        cuts.sort_unstable();
        let mut chunks = Vec::new();
        let mut start = 0;
        for cut in cuts.into_iter().chain([stream.len()]) {
            chunks.push(stream.slice(start..cut));
            start = cut;
        }
        chunks
    }
}

/// What decoding produced: messages with their compressed flag, then how it stopped.
#[derive(Debug, PartialEq)]
struct Outcome {
    messages: Vec<(Bytes, Option<bool>)>,
    error: Option<dubbo_runtime::Code>,
    partial: bool,
}

/// Runs `f`, asserting that the live heap grew by at most `bound` bytes meanwhile.
fn bounded<T>(bound: usize, what: &str, f: impl FnOnce() -> T) -> T {
    let base = LIVE.load(Ordering::Relaxed);
    PEAK.store(base, Ordering::Relaxed);
    let out = f();
    let grew = PEAK.load(Ordering::Relaxed).saturating_sub(base);
    assert!(
        grew <= bound,
        "{what} grew the heap by {grew} bytes (bound {bound})"
    );
    out
}

fn decode(chunks: &[Bytes], limit: usize, encoding: Option<Encoding>) -> Outcome {
    let received: usize = chunks.iter().map(Bytes::len).sum();
    let bound = 2 * received + 2 * limit + 256 * 1024;
    let mut decoder = Decoder::new(limit, encoding);
    let mut messages = Vec::new();
    for chunk in chunks {
        bounded(bound, "push", || decoder.push(chunk.clone()));
        loop {
            match bounded(bound, "next_payload", || decoder.next_payload()) {
                Ok(Some(payload)) => {
                    let bytes = payload.as_protobuf().cloned().unwrap_or_default();
                    assert!(bytes.len() <= limit, "{} > limit {limit}", bytes.len());
                    messages.push((bytes, payload.compression()));
                }
                Ok(None) => break,
                Err(status) => {
                    return Outcome {
                        messages,
                        error: Some(status.code()),
                        partial: false,
                    };
                }
            }
        }
    }
    Outcome {
        messages,
        error: None,
        partial: decoder.has_partial(),
    }
}

fuzz_target!(|input: Input| {
    let limit = usize::from(input.limit);
    let encoding = input.gzip.then_some(Encoding::Gzip);
    let whole = Bytes::from(input.stream());
    let chunks = input.chunks(&whole);

    let chunked = decode(&chunks, limit, encoding);
    let at_once = decode(std::slice::from_ref(&whole), limit, encoding);
    assert_eq!(chunked, at_once, "chunking changed the outcome");
});
