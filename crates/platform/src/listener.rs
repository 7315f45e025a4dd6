//! Where a gRPC server takes its calls: its TCP listener and, in the embedded fleet
//! (`marquee up`), also an in-process address ([`crate::in_process`]).
//!
//! Every service of the embedded fleet runs in one process; the others call it at its
//! in-process address, without a socket. The TCP listener stays: the fleet's readiness
//! wait, the operator's tools and the tests reach a service by address. In a cluster each
//! service is its own pod and only TCP is used.

use futures::Stream;
use std::io;
use std::net::SocketAddr;
use tokio::net::{TcpListener, TcpStream};

/// A gRPC server's listeners: TCP always, an in-process address beside it when given.
#[derive(Debug)]
pub struct GrpcListener {
    tcp: TcpListener,
    in_process: Option<String>,
}

impl From<TcpListener> for GrpcListener {
    fn from(tcp: TcpListener) -> Self {
        Self {
            tcp,
            in_process: None,
        }
    }
}

impl GrpcListener {
    /// Also answers calls made in this process to `address`
    /// ([`crate::in_process::address`]).
    pub fn with_in_process(mut self, address: String) -> Self {
        self.in_process = Some(address);
        self
    }

    /// The TCP listener's address.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.tcp.local_addr()
    }

    /// The in-process address, when there is one.
    pub fn in_process(&self) -> Option<&str> {
        self.in_process.as_deref()
    }

    pub(crate) fn into_tcp(self) -> TcpListener {
        self.tcp
    }

    /// The TCP listener's connections (no Nagle: calls are small and latency-bound).
    pub(crate) fn incoming(self) -> impl Stream<Item = io::Result<TcpStream>> + Send + 'static {
        tonic::transport::server::TcpIncoming::from(self.tcp).with_nodelay(Some(true))
    }
}
