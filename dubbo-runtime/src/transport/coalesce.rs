//! Write combining for connections driven by a protocol engine such as `h2`.
//!
//! `h2` writes every large DATA frame with a system call of its own (it flushes whenever a
//! frame payload is queued behind its buffer). Under streaming load that is one `writev`
//! per 16 KiB frame. [`coalesce`] splits an I/O object into the half the engine owns, which
//! copies writes into a buffer and treats the engine's flushes as hints, and a
//! [`FlushHandle`] the connection task uses to write the buffer out once the engine has done
//! everything it can in one poll. Large bursts still go out as soon as [`HIGH_WATER`] bytes
//! are waiting, so memory stays bounded and the socket is never idle for long.
//!
//! The read side has the mirror problem: `h2` reads into a buffer of about 8 KiB, so a
//! 64 KiB request costs eight `recvfrom` calls. Once a read fills the engine's buffer to the
//! brim (more is probably waiting), the engine half reads [`READ_AHEAD`] bytes at a time into
//! a buffer of its own and hands them out from there; when the socket runs dry the buffer is
//! released, so idle connections keep nothing.

use std::io::{self, IoSlice};
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, ready};

use bytes::{Buf as _, BytesMut};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio_util::io::poll_read_buf;

/// Bytes buffered before a write goes out regardless of flush hints (and the buffer's
/// largest size). Large enough for several 64 KiB replies per system call: with 64 KiB
/// buffers a 64 KiB echo cost about 10% more server CPU (`bench --only unary-64k-c16`).
/// The buffer grows only as far as a connection's bursts need.
pub(crate) const HIGH_WATER: usize = 256 * 1024;

/// Largest read the engine half makes on its own once the engine's reads keep coming back
/// full (`bench --only unary-64k-c16`: a 64 KiB echo takes about 2 reads instead of 8).
pub(crate) const READ_AHEAD: usize = 64 * 1024;

/// Engine buffers smaller than this never switch read-ahead on (a nearly full buffer says
/// nothing about what is waiting).
const MIN_EAGER: usize = 4 * 1024;

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

/// The engine's side of a [`coalesce`]d connection: writes are buffered, reads pass through
/// or, while data keeps arriving faster than the engine asks for it, come from [`ReadAhead`].
pub(crate) struct Coalesced<IO> {
    shared: Arc<Mutex<Shared<IO>>>,
    ahead: ReadAhead,
}

/// Bytes read from the socket but not yet handed to the engine.
#[derive(Default)]
struct ReadAhead {
    /// Unread bytes; no allocation unless the connection is in a burst.
    buf: BytesMut,
    /// The last read filled the engine's buffer: read ahead next time.
    eager: bool,
}

impl ReadAhead {
    fn poll_read<IO: AsyncRead + Unpin>(
        &mut self,
        io: &mut IO,
        cx: &mut Context<'_>,
        dst: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let wanted = dst.remaining();
        if !self.buf.is_empty() || wanted == 0 {
            let n = wanted.min(self.buf.len());
            dst.put_slice(&self.buf[..n]);
            self.buf.advance(n);
            return Poll::Ready(Ok(()));
        }
        if !self.eager || wanted >= READ_AHEAD {
            let before = dst.filled().len();
            let result = Pin::new(io).poll_read(cx, dst);
            if result.is_pending() {
                self.release();
            }
            ready!(result)?;
            let got = dst.filled().len() - before;
            self.eager = (MIN_EAGER..READ_AHEAD).contains(&wanted) && got == wanted;
            return Poll::Ready(Ok(()));
        }
        // Reuses the allocation once everything in it has been handed out.
        self.buf.reserve(READ_AHEAD);
        let result = poll_read_buf(Pin::new(io), cx, &mut self.buf);
        if result.is_pending() {
            self.release();
        }
        let got = ready!(result)?;
        // Keep reading ahead while it saves reads; a read the engine's own buffer could
        // have taken means the burst is over.
        self.eager = got > wanted;
        let n = wanted.min(got);
        dst.put_slice(&self.buf[..n]);
        self.buf.advance(n);
        Poll::Ready(Ok(()))
    }

    /// The socket has nothing more for now: an idle connection keeps no read buffer.
    fn release(&mut self) {
        if self.buf.capacity() > 0 {
            self.buf = BytesMut::new();
        }
    }
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
            ahead: ReadAhead::default(),
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
        let this = self.get_mut();
        this.ahead.poll_read(&mut lock(&this.shared).io, cx, buf)
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

    /// A socket stand-in: `ready` holds what has arrived; once it is empty, reads are
    /// `Pending` until more is pushed. Counts the reads it serves.
    #[derive(Default)]
    struct FakeSocket {
        ready: Vec<u8>,
        closed: bool,
        reads: usize,
        fail: bool,
    }

    impl AsyncRead for FakeSocket {
        fn poll_read(
            mut self: Pin<&mut Self>,
            _cx: &mut Context<'_>,
            buf: &mut ReadBuf<'_>,
        ) -> Poll<io::Result<()>> {
            if self.fail {
                return Poll::Ready(Err(io::ErrorKind::ConnectionReset.into()));
            }
            if self.ready.is_empty() {
                return if self.closed {
                    Poll::Ready(Ok(()))
                } else {
                    Poll::Pending
                };
            }
            self.reads += 1;
            let n = buf.remaining().min(self.ready.len());
            buf.put_slice(&self.ready[..n]);
            self.ready.drain(..n);
            Poll::Ready(Ok(()))
        }
    }

    /// Reads like h2 does (8 KiB at a time) until the socket is pending or closed.
    fn engine_reads(ahead: &mut ReadAhead, socket: &mut FakeSocket) -> (Vec<u8>, bool) {
        let mut cx = Context::from_waker(std::task::Waker::noop());
        let mut got = Vec::new();
        loop {
            let mut space = [0u8; 8 * 1024];
            let mut dst = ReadBuf::new(&mut space);
            match ahead.poll_read(socket, &mut cx, &mut dst) {
                Poll::Pending => return (got, false),
                Poll::Ready(Ok(())) if dst.filled().is_empty() => return (got, true),
                Poll::Ready(Ok(())) => got.extend_from_slice(dst.filled()),
                Poll::Ready(Err(err)) => panic!("unexpected read error {err}"),
            }
        }
    }

    #[test]
    fn a_burst_is_read_in_large_pieces_and_arrives_intact() {
        let data: Vec<u8> = (0..1024 * 1024).map(|i| (i % 251) as u8).collect();
        let mut socket = FakeSocket {
            ready: data.clone(),
            ..FakeSocket::default()
        };
        let mut ahead = ReadAhead::default();
        let (got, eof) = engine_reads(&mut ahead, &mut socket);
        assert!(!eof);
        assert_eq!(got, data);
        // 128 reads of 8 KiB without read-ahead; one 8 KiB read, then 64 KiB pieces.
        assert!(
            socket.reads <= 1 + data.len() / READ_AHEAD + 1,
            "{} socket reads for 1 MiB",
            socket.reads
        );
        assert_eq!(
            ahead.buf.capacity(),
            0,
            "a drained connection keeps no buffer"
        );
    }

    #[test]
    fn small_messages_are_read_directly() {
        let mut socket = FakeSocket::default();
        let mut ahead = ReadAhead::default();
        for round in 0..10u8 {
            socket.ready.extend_from_slice(&[round; 100]);
            let (got, _) = engine_reads(&mut ahead, &mut socket);
            assert_eq!(got, vec![round; 100]);
            assert!(!ahead.eager);
            assert_eq!(ahead.buf.capacity(), 0);
        }
        assert_eq!(socket.reads, 10);
    }

    #[test]
    fn read_ahead_stops_when_the_burst_ends() {
        let mut socket = FakeSocket {
            ready: vec![1; 100 * 1024],
            ..FakeSocket::default()
        };
        let mut ahead = ReadAhead::default();
        let (got, _) = engine_reads(&mut ahead, &mut socket);
        assert_eq!(got.len(), 100 * 1024);
        assert_eq!(
            ahead.buf.capacity(),
            0,
            "released while the socket is empty"
        );
        // A small message after the burst takes one read and switches read-ahead off.
        socket.ready.extend_from_slice(&[2; 10]);
        let reads = socket.reads;
        let (got, _) = engine_reads(&mut ahead, &mut socket);
        assert_eq!(got, vec![2; 10]);
        assert_eq!(socket.reads, reads + 1);
        assert!(!ahead.eager);
        assert_eq!(ahead.buf.capacity(), 0);
    }

    #[test]
    fn end_of_stream_and_errors_reach_the_engine() {
        let mut socket = FakeSocket {
            ready: vec![3; 200 * 1024],
            closed: true,
            ..FakeSocket::default()
        };
        let mut ahead = ReadAhead::default();
        let (got, eof) = engine_reads(&mut ahead, &mut socket);
        assert_eq!(got.len(), 200 * 1024);
        assert!(eof, "end of stream after the buffered bytes");

        let mut failing = FakeSocket {
            fail: true,
            ..FakeSocket::default()
        };
        let mut cx = Context::from_waker(std::task::Waker::noop());
        let mut space = [0u8; 8 * 1024];
        let mut dst = ReadBuf::new(&mut space);
        let result = ahead.poll_read(&mut failing, &mut cx, &mut dst);
        assert!(
            matches!(result, Poll::Ready(Err(e)) if e.kind() == io::ErrorKind::ConnectionReset)
        );
    }

    #[tokio::test]
    async fn large_transfers_through_the_engine_half_are_intact() {
        let (ours, mut peer) = tokio::io::duplex(256 * 1024);
        let (mut engine, _flush) = coalesce(ours);
        let data: Vec<u8> = (0..3 * 1024 * 1024).map(|i| (i % 253) as u8).collect();
        let sent = data.clone();
        let writer = tokio::spawn(async move {
            peer.write_all(&sent).await.unwrap();
            peer.shutdown().await.unwrap();
            peer
        });
        let mut got = Vec::new();
        let mut chunk = vec![0u8; 8 * 1024];
        loop {
            let n = engine.read(&mut chunk).await.unwrap();
            if n == 0 {
                break;
            }
            got.extend_from_slice(&chunk[..n]);
        }
        assert_eq!(got, data);
        writer.await.unwrap();
    }
}
