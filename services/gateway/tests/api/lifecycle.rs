use crate::helpers::spawn_app;
use std::time::Duration;

#[tokio::test]
async fn serve_returns_after_shutdown() {
    let app = spawn_app(|_| {}).await;
    assert_eq!(app.get("/healthz", None).await.status(), 200);
    let url = app.url("/healthz");
    app.shutdown.cancel();
    let result = tokio::time::timeout(Duration::from_secs(10), app.server)
        .await
        .expect("serve returns promptly")
        .expect("task joins");
    assert!(result.is_ok(), "{result:?}");
    assert!(
        app.http.get(url).send().await.is_err(),
        "no longer listening"
    );
}
