//! The start-up the fake third-party servers (Stripe, Gemini) share: one actix-web
//! worker on a free loopback port, every request to `handler` with `state` as app data.

use actix_web::dev::ServerHandle;
use actix_web::{App, FromRequest, Handler, HttpServer, Responder, web};
use std::sync::{Arc, Mutex};

/// Starts the server on the current tokio runtime; returns its handle and base URL
/// (`http://127.0.0.1:<port>/`).
pub(crate) fn start<S, F, Args>(
    what: &str,
    state: Arc<Mutex<S>>,
    max_body_bytes: usize,
    handler: F,
) -> (ServerHandle, String)
where
    S: Send + 'static,
    F: Handler<Args> + Clone + Send + 'static,
    Args: FromRequest + 'static,
    F::Output: Responder + 'static,
{
    let data = web::Data::from(state);
    let listener = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap_or_else(|e| panic!("bind the fake {what}: {e}"));
    let addr = listener.local_addr().expect("local addr");
    let server = HttpServer::new(move || {
        App::new()
            .app_data(data.clone())
            .app_data(web::PayloadConfig::new(max_body_bytes))
            .default_service(web::to(handler.clone()))
    })
    .workers(1)
    .disable_signals()
    .shutdown_timeout(1)
    .listen(listener)
    .expect("listen")
    .run();
    let handle = server.handle();
    tokio::spawn(server);
    (handle, format!("http://{addr}/"))
}
