//! Write combining for connections driven by a protocol engine such as `h2`.
//!
//! `h2` writes every large DATA frame with a system call of its own (it flushes whenever a
//! frame payload is queued behind its buffer). Under streaming load that is one `writev`
//! per 16 KiB frame. [`coalesce`] splits an I/O object into the half the engine owns, which
//! copies writes into a buffer and treats the engine's flushes as hints, and a
//! [`FlushHandle`] the connection task uses to write the buffer out once the engine has done
//! everything it can in one poll. Large bursts still go out as soon as [`HIGH_WATER`] bytes
//! are waiting, so memory stays bounded and the socket is never idle for long.

use std::io::{self, IoSlice};
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, ready};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// Bytes buffered before a write goes out regardless of flush hints (and the buffer's
/// largest size). Large enough for several 64 KiB replies per system call: with 64 KiB
/// buffers a 64 KiB echo cost about 10% more server CPU (`bench --only unary-64k-c16`).
/// The buffer grows only as far as a connection's bursts need.
pub(crate) const HIGH_WATER: usize = 256 * 1024;

/// The buffer and the I/O object it writes to, shared by both halves (only ever used from
/// the one connection task, so the lock is never contended).
struct Shared<IO> {
    io: IO,
    buf: Vec<u8>,
    /// Bytes of `buf` already written.
    written: usize,
    /// A write error to report to the engine on its next write or flush.
    failed: Option<io::ErrorKind>,
}

impl<IO: AsyncWrite + Unpin> Shared<IO> {
    fn pending(&self) -> usize {
        self.buf.len() - self.written
    }

    /// Writes buffered bytes until the buffer is empty or the socket would block.
    fn poll_drain(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if let Some(kind) = self.failed {
            return Poll::Ready(Err(kind.into()));
        }
        while self.written < self.buf.len() {
            let result = ready!(Pin::new(&mut self.io).poll_write(cx, &self.buf[self.written..]));
            match result {
                Ok(0) => {
                    self.failed = Some(io::ErrorKind::WriteZero);
                    return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
                }
                Ok(n) => self.written += n,
                Err(err) => {
                    self.failed = Some(err.kind());
                    return Poll::Ready(Err(err));
                }
            }
        }
        self.buf.clear();
        self.written = 0;
        Poll::Ready(Ok(()))
    }

    /// Copies as much of `bufs` as fits below [`HIGH_WATER`], writing the buffer out first
    /// when it is full.
    fn poll_append(
        &mut self,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        if let Some(kind) = self.failed {
            return Poll::Ready(Err(kind.into()));
        }
        let total: usize = bufs.iter().map(|b| b.len()).sum();
        if total == 0 {
            return Poll::Ready(Ok(0));
        }
        if self.buf.len() >= HIGH_WATER {
            ready!(self.poll_drain(cx))?;
        }
        let room = HIGH_WATER - self.buf.len();
        let take = total.min(room);
        if self.buf.capacity() - self.buf.len() < take {
            let want = (self.buf.len() + take).max((self.buf.capacity() * 2).min(HIGH_WATER));
            self.buf.reserve_exact(want - self.buf.len());
        }
        let mut left = take;
        for slice in bufs {
            if left == 0 {
                break;
            }
            let n = slice.len().min(left);
            self.buf.extend_from_slice(&slice[..n]);
            left -= n;
        }
        Poll::Ready(Ok(take))
    }
}

fn lock<IO>(shared: &Mutex<Shared<IO>>) -> MutexGuard<'_, Shared<IO>> {
    // A panic while holding the lock leaves the buffer consistent (every update is a
    // single step), so a poisoned lock is still usable.
    shared
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The engine's side of a [`coalesce`]d connection: reads pass through, writes are buffered.
pub(crate) struct Coalesced<IO> {
    shared: Arc<Mutex<Shared<IO>>>,
}

/// The connection task's side of a [`coalesce`]d connection.
pub(crate) struct FlushHandle<IO> {
    shared: Arc<Mutex<Shared<IO>>>,
}

/// Splits `io` into the write-combining half for the protocol engine and the handle that
/// writes its buffer out.
pub(crate) fn coalesce<IO>(io: IO) -> (Coalesced<IO>, FlushHandle<IO>) {
    let shared = Arc::new(Mutex::new(Shared {
        io,
        buf: Vec::new(),
        written: 0,
        failed: None,
    }));
    (
        Coalesced {
            shared: Arc::clone(&shared),
        },
        FlushHandle { shared },
    )
}

impl<IO: AsyncWrite + Unpin> FlushHandle<IO> {
    /// Writes out everything the engine has buffered. `Pending` means the socket is full;
    /// the task is woken when it can take more. Errors are also reported to the engine.
    pub(crate) fn poll_flush(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let mut shared = lock(&self.shared);
        if shared.pending() == 0 {
            return Poll::Ready(Ok(()));
        }
        ready!(shared.poll_drain(cx))?;
        Pin::new(&mut shared.io).poll_flush(cx)
    }
}

impl<IO: AsyncRead + Unpin> AsyncRead for Coalesced<IO> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut lock(&self.shared).io).poll_read(cx, buf)
    }
}

impl<IO: AsyncWrite + Unpin> AsyncWrite for Coalesced<IO> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        lock(&self.shared).poll_append(cx, &[IoSlice::new(buf)])
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        lock(&self.shared).poll_append(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        true
    }

    /// A hint only: the connection task writes the buffer out after the engine's poll.
    /// Reports an earlier write error so the engine sees a broken connection.
    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match lock(&self.shared).failed {
            Some(kind) => Poll::Ready(Err(kind.into())),
            None => Poll::Ready(Ok(())),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let mut shared = lock(&self.shared);
        ready!(shared.poll_drain(cx))?;
        Pin::new(&mut shared.io).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::future::poll_fn;
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

    #[tokio::test]
    async fn writes_wait_for_the_flush_handle() {
        let (ours, mut peer) = tokio::io::duplex(1 << 20);
        let (mut engine, flush) = coalesce(ours);
        engine.write_all(b"hello ").await.unwrap();
        engine.flush().await.unwrap();
        engine.write_all(b"world").await.unwrap();
        let mut probe = [0u8; 16];
        let early =
            tokio::time::timeout(std::time::Duration::from_millis(50), peer.read(&mut probe)).await;
        assert!(
            early.is_err(),
            "nothing reaches the peer before the handle flushes"
        );
        poll_fn(|cx| flush.poll_flush(cx)).await.unwrap();
        let mut got = vec![0u8; 11];
        peer.read_exact(&mut got).await.unwrap();
        assert_eq!(&got, b"hello world");
    }

    #[tokio::test]
    async fn a_full_buffer_goes_out_without_a_flush() {
        let (ours, mut peer) = tokio::io::duplex(4 * HIGH_WATER);
        let (mut engine, _flush) = coalesce(ours);
        let data: Vec<u8> = (0..HIGH_WATER + 100).map(|i| i as u8).collect();
        engine.write_all(&data).await.unwrap();
        let mut got = vec![0u8; HIGH_WATER];
        peer.read_exact(&mut got).await.unwrap();
        assert_eq!(got, data[..HIGH_WATER]);
    }

    #[tokio::test]
    async fn back_pressure_when_the_socket_is_full() {
        // The peer never reads and its pipe holds 1 KiB: the engine's writes must stop.
        let (ours, _peer) = tokio::io::duplex(1024);
        let (mut engine, flush) = coalesce(ours);
        let data = vec![7u8; 4 * HIGH_WATER];
        let stuck = tokio::time::timeout(
            std::time::Duration::from_millis(100),
            engine.write_all(&data),
        )
        .await;
        assert!(stuck.is_err(), "writes beyond the buffer and socket wait");
        let pending = poll_fn(|cx| Poll::Ready(flush.poll_flush(cx))).await;
        assert!(pending.is_pending());
    }

    #[tokio::test]
    async fn write_errors_reach_the_engine() {
        let (ours, peer) = tokio::io::duplex(1024);
        drop(peer);
        let (mut engine, flush) = coalesce(ours);
        engine.write_all(b"lost").await.unwrap();
        assert!(poll_fn(|cx| flush.poll_flush(cx)).await.is_err());
        assert!(engine.flush().await.is_err());
        assert!(engine.write_all(b"more").await.is_err());
    }

    #[tokio::test]
    async fn reads_pass_through_and_shutdown_drains() {
        let (ours, mut peer) = tokio::io::duplex(1 << 16);
        let (mut engine, _flush) = coalesce(ours);
        peer.write_all(b"ping").await.unwrap();
        let mut got = [0u8; 4];
        engine.read_exact(&mut got).await.unwrap();
        assert_eq!(&got, b"ping");
        engine.write_all(b"pong").await.unwrap();
        engine.shutdown().await.unwrap();
        let mut rest = Vec::new();
        peer.read_to_end(&mut rest).await.unwrap();
        assert_eq!(rest, b"pong");
    }
}
