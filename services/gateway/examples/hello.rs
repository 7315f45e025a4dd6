//! The peer of the request-path benchmark (`scripts/bench-request-path.sh`): a bare
//! actix-web server answering `GET /` with a short JSON body, one worker per core like the
//! gateway. What the gateway adds on top of this is what the benchmark measures.
//!
//!     cargo run --release -p marquee-gateway --example hello -- 127.0.0.1:18081

use actix_web::{App, HttpResponse, HttpServer, web};

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:18081".into());
    HttpServer::new(|| {
        App::new().route(
            "/",
            web::get().to(|| async {
                HttpResponse::Ok()
                    .content_type("application/json")
                    .body(r#"{"hello":"world"}"#)
            }),
        )
    })
    .bind(addr)?
    .run()
    .await
}
