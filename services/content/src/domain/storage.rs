//! Object storage: where bytes live (object_store: the local file system by default,
//! S3 or an S3-compatible store by URL) and how keys are laid out.
//!
//! Layout, below the store's root (a directory, or `s3://bucket/prefix`):
//! `<tenant>/<owner>/<asset>/original` (the uploaded bytes),
//! `<tenant>/<owner>/<asset>/display.<ext>` (images re-encoded without metadata) and
//! `<tenant>/<owner>/<asset>/thumbnail.jpg`.

use crate::settings::ContentSettings;
use object_store::ObjectStore;
use object_store::aws::{AmazonS3Builder, AmazonS3ConfigKey};
use object_store::local::LocalFileSystem;
use object_store::path::Path;
use object_store::prefix::PrefixStore;
use std::sync::Arc;

/// Opens the store the settings name.
pub fn open(settings: &ContentSettings) -> anyhow::Result<Arc<dyn ObjectStore>> {
    match settings
        .object_store_url
        .as_deref()
        .filter(|u| !u.is_empty())
    {
        None => local(&settings.data_dir.join("objects")),
        Some(url) if url.starts_with("file://") => {
            local(std::path::Path::new(url.trim_start_matches("file://")))
        }
        Some(url) if url.starts_with("s3://") => s3(url, settings.object_store_options.iter()),
        Some(url) => anyhow::bail!("object_store_url must be s3://… or file://…, got {url:?}"),
    }
}

fn local(root: &std::path::Path) -> anyhow::Result<Arc<dyn ObjectStore>> {
    std::fs::create_dir_all(root)?;
    Ok(Arc::new(
        LocalFileSystem::new_with_prefix(root)?.with_automatic_cleanup(true),
    ))
}

/// `s3://bucket/prefix`: credentials, region and endpoint from the `AWS_*` environment,
/// overridden by `options` (keys as object_store names them: `aws_endpoint`,
/// `aws_access_key_id`, `aws_allow_http`, …).
fn s3<'a>(
    url: &str,
    options: impl Iterator<Item = (&'a String, &'a String)>,
) -> anyhow::Result<Arc<dyn ObjectStore>> {
    let rest = url.trim_start_matches("s3://");
    let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
    anyhow::ensure!(
        !bucket.is_empty(),
        "object_store_url {url:?} names no bucket"
    );
    let mut builder = AmazonS3Builder::from_env().with_bucket_name(bucket);
    for (key, value) in options {
        let key: AmazonS3ConfigKey = key
            .parse()
            .map_err(|error| anyhow::anyhow!("object_store_options: {error}"))?;
        builder = builder.with_config(key, value.clone());
    }
    let store = builder.build()?;
    let prefix = prefix.trim_matches('/');
    if prefix.is_empty() {
        Ok(Arc::new(store))
    } else {
        Ok(Arc::new(PrefixStore::new(store, prefix)))
    }
}

/// The folder of one asset's objects.
pub fn asset_dir(tenant_id: &str, owner_id: &str, asset_id: &str) -> String {
    format!(
        "{}/{}/{}",
        segment(tenant_id),
        segment(owner_id),
        segment(asset_id)
    )
}

pub fn original_key(dir: &str) -> Path {
    Path::from(format!("{dir}/original"))
}

pub fn key(raw: &str) -> Path {
    Path::from(raw)
}

/// Ids are UUIDs, but never let one escape its folder.
fn segment(id: &str) -> String {
    id.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_stay_in_their_folder() {
        assert_eq!(asset_dir("t1", "u/../x", "a"), "t1/u____x/a");
        assert_eq!(original_key("t/u/a").as_ref(), "t/u/a/original");
    }

    #[test]
    fn urls_choose_the_store() {
        let dir = tempfile::tempdir().unwrap();
        let mut settings = ContentSettings {
            data_dir: dir.path().to_path_buf(),
            ..Default::default()
        };
        assert!(
            open(&settings)
                .unwrap()
                .to_string()
                .contains("LocalFileSystem")
        );
        settings.object_store_url = Some("s3://bucket/some/prefix".into());
        settings.object_store_options = [
            ("aws_endpoint".to_string(), "http://127.0.0.1:1".to_string()),
            ("aws_region".to_string(), "us-east-1".to_string()),
        ]
        .into();
        assert!(open(&settings).unwrap().to_string().contains("some/prefix"));
        settings.object_store_url = Some("gs://nope".into());
        assert!(open(&settings).is_err());
        settings.object_store_url = Some("s3://b".into());
        settings.object_store_options = [("no_such_key".to_string(), "x".to_string())].into();
        assert!(open(&settings).is_err());
    }
}
