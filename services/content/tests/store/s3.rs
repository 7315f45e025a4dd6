//! The S3 path against moto's S3-compatible server (`pip install 'moto[server]'`),
//! started on a free port by the test. Missing moto is a failure, never a skip: the
//! test installs it with pip when it is absent.

use crate::{parts, start, user};
use futures::TryStreamExt;
use marquee_content::domain::assets::{ByteRange, Variant};
use marquee_testkit::{Backend, wait_until};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

struct Moto(Child);

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn ensure_moto() {
    let found = Command::new("moto_server")
        .arg("--help")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !found {
        let installed = Command::new("python3")
            .args(["-m", "pip", "install", "--quiet", "moto[server]"])
            .status()
            .expect("python3 is needed to install moto");
        assert!(
            installed.success(),
            "installing moto[server] with pip failed"
        );
    }
}

async fn moto() -> (Moto, String) {
    ensure_moto();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new("moto_server")
        .args(["-H", "127.0.0.1", "-p", &port.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("starting moto_server");
    let guard = Moto(child);
    let endpoint = format!("http://127.0.0.1:{port}");
    let addr = format!("127.0.0.1:{port}");
    wait_until(
        Duration::from_secs(10),
        &format!("moto_server to start on {endpoint}"),
        || async { tokio::net::TcpStream::connect(&addr).await.is_ok() },
    )
    .await;
    (guard, endpoint)
}

/// Creates the bucket with a plain (unsigned-body) PUT; moto accepts any credentials.
async fn create_bucket(endpoint: &str, bucket: &str) {
    let addr = endpoint.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let request = format!(
        "PUT /{bucket} HTTP/1.1\r\nHost: {addr}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).await.unwrap();
    assert!(
        answer.starts_with("HTTP/1.1 200"),
        "creating the bucket: {answer}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uploads_and_ranges_through_s3() {
    let (_moto, endpoint) = moto().await;
    create_bucket(&endpoint, "marquee-test").await;
    let options = [
        ("aws_endpoint", endpoint.as_str()),
        ("aws_allow_http", "true"),
        ("aws_access_key_id", "test"),
        ("aws_secret_access_key", "test"),
        ("aws_region", "us-east-1"),
        ("aws_virtual_hosted_style_request", "false"),
    ];
    let (content, _guard) = start(Backend::Sqlite, |settings| {
        settings.object_store_url = Some("s3://marquee-test/tenant-assets".into());
        settings.object_store_options = options
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
    })
    .await;
    let ada = user("t1", "ada", &["creator"]);
    // 12 MiB of text: more than two multipart parts.
    let bytes: Vec<u8> = (0..12 * 1024 * 1024u32)
        .map(|i| b'a' + (i % 26) as u8)
        .collect();
    let uploaded = content
        .upload(&ada, parts("Big text", &bytes, 256 * 1024))
        .await
        .unwrap()
        .asset;
    assert_eq!(uploaded.size_bytes as usize, bytes.len());
    assert!(uploaded.original_key.starts_with("t1/ada/"));
    let ranged = content
        .download(
            &ada,
            &uploaded.id,
            Variant::Original,
            Some(ByteRange::From {
                start: 1_000_000,
                end: Some(1_000_099),
            }),
        )
        .await
        .unwrap();
    let body: Vec<u8> = ranged
        .body
        .try_fold(Vec::new(), |mut all, chunk| async move {
            all.extend_from_slice(&chunk);
            Ok(all)
        })
        .await
        .unwrap();
    assert_eq!(body, bytes[1_000_000..1_000_100]);
    // The object is under the configured prefix in the bucket.
    let listed: Vec<_> = content.objects().list(None).try_collect().await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].size as usize, bytes.len());
    content.delete_asset(&ada, &uploaded.id).await.unwrap();
    let listed: Vec<_> = content.objects().list(None).try_collect().await.unwrap();
    assert!(listed.is_empty());
}
