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
use marquee_platform::{Principal, PrincipalKind, SecretString};
use marquee_testkit::TestDatabase;
use std::collections::HashMap;
use std::sync::Arc;

/// Keeps the database and files alive for the test's duration.
pub struct Guard {
    _dir: tempfile::TempDir,
    _database: Option<TestDatabase>,
}

pub async fn start(
    backend: &str,
    configure: impl FnOnce(&mut ContentSettings),
) -> (Content, Guard) {
    let dir = tempfile::tempdir().unwrap();
    let mut settings = ContentSettings {
        data_dir: dir.path().to_path_buf(),
        ..Default::default()
    };
    let database = match backend {
        "sqlite" => None,
        _ => {
            let database = TestDatabase::create("content").await.unwrap();
            settings.database_url = Some(SecretString::from(database.url.clone()));
            Some(database)
        }
    };
    configure(&mut settings);
    let db = open_database(&settings).await.unwrap();
    // Migrations are idempotent.
    marquee_content::store::migrate(&db).await.unwrap();
    let objects = marquee_content::domain::storage::open(&settings).unwrap();
    let flags = StaticFlags(HashMap::from([("auto_approve_assets".to_string(), false)]));
    let content = Content::new(db, objects, settings, Arc::new(flags));
    (
        content,
        Guard {
            _dir: dir,
            _database: database,
        },
    )
}

pub fn user(tenant: &str, subject: &str, roles: &[&str]) -> Principal {
    Principal {
        kind: PrincipalKind::User,
        subject: subject.into(),
        tenant_id: tenant.into(),
        roles: roles.iter().map(|r| r.to_string()).collect(),
        scopes: vec!["assets:read".into(), "assets:write".into()],
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
