//! The accept loop both backends share: one task owns the listener and every connection task,
//! so aborting it closes the port and every open connection together.

use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use tokio::net::{TcpListener, TcpStream};
use tokio::task::{JoinHandle, JoinSet};

use crate::SimError;

/// Binds `listen` for the backend `name`.
pub(crate) async fn bind(name: &str, listen: SocketAddr) -> Result<TcpListener, SimError> {
    TcpListener::bind(listen)
        .await
        .map_err(|source| SimError::Bind {
            name: name.to_owned(),
            addr: listen,
            source,
        })
}

/// Spawns the accept loop on the current runtime; `handle` runs once per connection.
pub(crate) fn spawn_accept_loop<F, Fut>(listener: TcpListener, handle: F) -> JoinHandle<()>
where
    F: Fn(TcpStream, SocketAddr) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    tokio::spawn(async move {
        // Dropping the JoinSet (when this task is aborted) aborts every connection task.
        let mut connections = JoinSet::new();
        loop {
            tokio::select! {
                accepted = listener.accept() => match accepted {
                    Ok((stream, peer)) => {
                        connections.spawn(handle(stream, peer));
                    }
                    // EMFILE and friends: back off instead of spinning; the listener stays.
                    Err(_) => tokio::time::sleep(Duration::from_millis(20)).await,
                },
                Some(_) = connections.join_next(), if !connections.is_empty() => {}
            }
        }
    })
}
