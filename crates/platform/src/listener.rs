//! Where a gRPC server takes its connections: its TCP listener and, in the embedded
//! fleet (`marquee up`), also a Unix-domain socket.
//!
//! Every service of the embedded fleet runs in one process and calls the others over
//! loopback. Over TCP a third of the request path's kernel time was the TCP stack
//! (`docs/benchmarks.md`, "Request path"); a Unix-domain socket carries the same HTTP/2
//! and gRPC (the same signed identities, deadlines and limits) without it. The TCP
//! listener stays: the fleet's readiness wait, the operator's tools and the tests reach
//! a service by address. In a cluster each service is its own pod and only TCP is used.

use futures::{Stream, StreamExt as _};
use std::io;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream, UnixListener, UnixStream};
use tonic::transport::server::{Connected, TcpConnectInfo};

/// A gRPC server's listeners: TCP always, a Unix-domain socket beside it when given.
#[derive(Debug)]
pub struct GrpcListener {
    tcp: TcpListener,
    unix: Option<UnixListener>,
}

impl From<TcpListener> for GrpcListener {
    fn from(tcp: TcpListener) -> Self {
        Self { tcp, unix: None }
    }
}

impl GrpcListener {
    /// Also accepts calls on `unix` (see [`bind_unix`]).
    pub fn with_unix(mut self, unix: UnixListener) -> Self {
        self.unix = Some(unix);
        self
    }

    /// The TCP listener's address.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.tcp.local_addr()
    }

    /// The Unix-domain socket's path, when there is one.
    pub fn unix_path(&self) -> Option<PathBuf> {
        let address = self.unix.as_ref()?.local_addr().ok()?;
        address.as_pathname().map(Path::to_path_buf)
    }

    pub(crate) fn has_unix(&self) -> bool {
        self.unix.is_some()
    }

    pub(crate) fn into_tcp(self) -> TcpListener {
        self.tcp
    }

    /// Both listeners' connections, as one stream. Accept errors (out of file
    /// descriptors and the like) are passed on like TCP's; the Unix side pauses briefly
    /// after one so that it does not spin.
    pub(crate) fn incoming(self) -> impl Stream<Item = io::Result<LocalStream>> + Send + 'static {
        let tcp = tonic::transport::server::TcpIncoming::from(self.tcp)
            .with_nodelay(Some(true))
            .map(|accepted| accepted.map(LocalStream::Tcp));
        let Some(unix) = self.unix else {
            return tcp.boxed();
        };
        let unix = futures::stream::unfold(unix, |listener| async move {
            let accepted = listener.accept().await;
            if accepted.is_err() {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Some((
                accepted.map(|(stream, _)| LocalStream::Unix(stream)),
                listener,
            ))
        });
        futures::stream::select(tcp, unix).boxed()
    }
}

/// Binds a Unix-domain socket at `path` that only this user can connect to. A file left
/// at `path` by an earlier run that did not stop cleanly is replaced.
pub fn bind_unix(path: &Path) -> io::Result<UnixListener> {
    use std::os::unix::fs::PermissionsExt as _;
    match std::fs::remove_file(path) {
        Err(error) if error.kind() != io::ErrorKind::NotFound => return Err(error),
        _ => {}
    }
    let listener = UnixListener::bind(path)?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
    Ok(listener)
}

/// The `unix:` URL a client dials to reach the socket at `path`.
pub fn unix_url(path: &Path) -> String {
    format!("unix://{}", path.display())
}

/// Whether `url` names a Unix-domain socket (`unix:/path` or `unix:///path`).
pub fn is_unix_url(url: &str) -> bool {
    url.starts_with("unix:")
}

/// An accepted connection, over TCP or a Unix-domain socket.
pub enum LocalStream {
    Tcp(TcpStream),
    Unix(UnixStream),
}

impl Connected for LocalStream {
    // One type for both, so `Request::remote_addr` keeps working over TCP; a Unix
    // socket's peer has no address.
    type ConnectInfo = TcpConnectInfo;

    fn connect_info(&self) -> Self::ConnectInfo {
        match self {
            Self::Tcp(stream) => stream.connect_info(),
            Self::Unix(_) => TcpConnectInfo {
                local_addr: None,
                remote_addr: None,
            },
        }
    }
}

impl AsyncRead for LocalStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Self::Tcp(stream) => Pin::new(stream).poll_read(cx, buf),
            Self::Unix(stream) => Pin::new(stream).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for LocalStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Self::Tcp(stream) => Pin::new(stream).poll_write(cx, buf),
            Self::Unix(stream) => Pin::new(stream).poll_write(cx, buf),
        }
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Self::Tcp(stream) => Pin::new(stream).poll_write_vectored(cx, bufs),
            Self::Unix(stream) => Pin::new(stream).poll_write_vectored(cx, bufs),
        }
    }

    fn is_write_vectored(&self) -> bool {
        match self {
            Self::Tcp(stream) => stream.is_write_vectored(),
            Self::Unix(stream) => stream.is_write_vectored(),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Self::Tcp(stream) => Pin::new(stream).poll_flush(cx),
            Self::Unix(stream) => Pin::new(stream).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Self::Tcp(stream) => Pin::new(stream).poll_shutdown(cx),
            Self::Unix(stream) => Pin::new(stream).poll_shutdown(cx),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unix_urls_are_told_apart() {
        let path = Path::new("/run/marquee/auth.sock");
        assert_eq!(unix_url(path), "unix:///run/marquee/auth.sock");
        assert!(is_unix_url(&unix_url(path)));
        assert!(!is_unix_url("http://127.0.0.1:50051"));
    }

    #[tokio::test]
    async fn a_stale_socket_file_is_replaced_and_only_the_owner_may_connect() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("svc.sock");
        drop(bind_unix(&path).unwrap());
        // The file outlives the listener, as after a crash; binding again must work.
        assert!(path.exists());
        let listener = bind_unix(&path).unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        let grpc =
            GrpcListener::from(TcpListener::bind("127.0.0.1:0").await.unwrap()).with_unix(listener);
        assert_eq!(grpc.unix_path().as_deref(), Some(path.as_path()));
    }
}
