//! The content domain and store against real databases (every scenario on SQLite and
//! on PostgreSQL, a fresh database each) and object storage (local file system, and
//! S3 through moto's server in `s3`).

mod assets;
mod community;
mod quota;
mod s3;

use bytes::Bytes;
use marquee_content::domain::flags::StaticFlags;
use marquee_content::domain::upload::{UploadMetadata, UploadPart};
use marquee_content::error::ContentError;
use marquee_content::{Content, ContentSettings, open_database};
use marquee_platform::{Principal, PrincipalKind, Role, Scope, SecretString};
use marquee_testkit::{Backend, TestDb};
use std::collections::HashMap;
use std::sync::Arc;

/// Content on a fresh database of `backend`, its files in the guard's data dir; the
/// guard keeps both alive.
pub async fn start(
    backend: Backend,
    configure: impl FnOnce(&mut ContentSettings),
) -> (Content, TestDb) {
    let guard = TestDb::create(backend, "content").await;
    let mut settings = ContentSettings {
        data_dir: guard.data_dir().to_path_buf(),
        database_url: guard.postgres_url().map(SecretString::from),
        ..Default::default()
    };
    configure(&mut settings);
    let db = open_database(&settings).await.unwrap();
    // Migrations are idempotent.
    marquee_content::store::migrate(&db).await.unwrap();
    let objects = marquee_content::domain::storage::open(&settings).unwrap();
    let flags = StaticFlags(HashMap::from([("auto_approve_assets".to_string(), false)]));
    let content = Content::new(db, objects, settings, Arc::new(flags));
    (content, guard)
}

pub fn user(tenant: &str, subject: &str, roles: &[&str]) -> Principal {
    Principal {
        kind: PrincipalKind::User,
        subject: subject.into(),
        tenant_id: tenant.into(),
        roles: roles.iter().filter_map(|r| Role::parse(r)).collect(),
        scopes: vec![Scope::AssetsRead, Scope::AssetsWrite],
    }
}

/// An upload stream: metadata, then `bytes` in chunks of `chunk` bytes.
pub fn parts(
    title: &str,
    bytes: &[u8],
    chunk: usize,
) -> impl futures::Stream<Item = Result<UploadPart, ContentError>> + Unpin + Send + use<> {
    let mut all = vec![Ok(UploadPart::Metadata(UploadMetadata {
        title: title.into(),
        filename: "file.bin".into(),
        ..Default::default()
    }))];
    for piece in bytes.chunks(chunk) {
        all.push(Ok(UploadPart::Data(Bytes::copy_from_slice(piece))));
    }
    all.push(Ok(UploadPart::End {
        size_bytes: bytes.len() as u64,
    }));
    futures::stream::iter(all)
}

pub fn png(width: u32, height: u32) -> Vec<u8> {
    let image = image::RgbImage::from_fn(width, height, |x, y| {
        image::Rgb([(x % 256) as u8, (y % 256) as u8, 9])
    });
    let mut out = std::io::Cursor::new(Vec::new());
    image.write_to(&mut out, image::ImageFormat::Png).unwrap();
    out.into_inner()
}
