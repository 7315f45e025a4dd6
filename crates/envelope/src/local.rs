//! The `local` KEK: a 32-byte key from a secret (base64 in the environment) or a key file.
//! The DEK is wrapped with AES-256-GCM under it: `nonce (12) ‖ ciphertext ‖ tag`.

use crate::{EnvelopeError, Result};
use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};
use std::path::Path;
use zeroize::Zeroizing;

pub const PROVIDER: &str = "local";

pub struct LocalKek {
    key: Zeroizing<[u8; 32]>,
    id: String,
}

impl std::fmt::Debug for LocalKek {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalKek").field("id", &self.id).finish()
    }
}

impl LocalKek {
    pub fn new(key: &[u8]) -> Result<Self> {
        let key: [u8; 32] = key
            .try_into()
            .map_err(|_| EnvelopeError::Config("a local key-encryption key is 32 bytes".into()))?;
        // A fingerprint names the key in sealed values; it reveals nothing of it.
        let digest = Sha256::new()
            .chain_update(b"marquee-envelope local kek id\0")
            .chain_update(key)
            .finalize();
        Ok(Self {
            id: format!("local:{}", hex::encode(&digest[..8])),
            key: Zeroizing::new(key),
        })
    }

    /// The key from base64 (standard alphabet, surrounding whitespace ignored).
    pub fn from_base64(key: &SecretString) -> Result<Self> {
        let bytes = Zeroizing::new(STANDARD.decode(key.expose_secret().trim()).map_err(|_| {
            EnvelopeError::Config("a local key-encryption key is not base64".into())
        })?);
        Self::new(&bytes)
    }

    /// The key in `path` (base64); with `create`, a random key is written there first
    /// when the file is missing (mode 0600, never overwritten).
    pub fn from_file(path: &Path, create: bool) -> Result<Self> {
        let file_error = |error| EnvelopeError::KeyFile {
            path: path.to_path_buf(),
            error,
        };
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(error) if create && error.kind() == std::io::ErrorKind::NotFound => {
                let key = Zeroizing::new(rand::random::<[u8; 32]>());
                let text = STANDARD.encode(*key);
                if let Some(dir) = path.parent() {
                    std::fs::create_dir_all(dir).map_err(file_error)?;
                }
                match write_private(path, &text) {
                    Ok(()) => text,
                    // Another process made it first: use theirs.
                    Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => {
                        std::fs::read_to_string(path).map_err(file_error)?
                    }
                    Err(error) => return Err(file_error(error)),
                }
            }
            Err(error) => return Err(file_error(error)),
        };
        Self::from_base64(&SecretString::from(text))
    }

    pub fn id(&self) -> &str {
        &self.id
    }

    /// The raw key, for code that still reads an older format sealed directly under it.
    pub fn expose_key(&self) -> &[u8; 32] {
        &self.key
    }

    pub(crate) fn wrap(&self, dek: &[u8; 32], aad: &[u8]) -> Result<Vec<u8>> {
        let nonce = rand::random::<[u8; 12]>();
        let sealed = Aes256Gcm::new((&*self.key).into())
            .encrypt(&Nonce::from(nonce), Payload { msg: dek, aad })
            .map_err(|_| EnvelopeError::Config("AES-GCM refused to encrypt".into()))?;
        let mut out = nonce.to_vec();
        out.extend(sealed);
        Ok(out)
    }

    pub(crate) fn unwrap(&self, wrapped: &[u8], aad: &[u8]) -> Result<Zeroizing<Vec<u8>>> {
        if wrapped.len() < 12 {
            return Err(EnvelopeError::Malformed(
                "the wrapped data key is truncated",
            ));
        }
        let (nonce, ciphertext) = wrapped.split_at(12);
        let nonce: [u8; 12] = nonce
            .try_into()
            .map_err(|_| EnvelopeError::Malformed("the wrapped data key is truncated"))?;
        Aes256Gcm::new((&*self.key).into())
            .decrypt(
                &Nonce::from(nonce),
                Payload {
                    msg: ciphertext,
                    aad,
                },
            )
            .map(Zeroizing::new)
            .map_err(|_| EnvelopeError::Refused)
    }
}

#[cfg(unix)]
fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(text.as_bytes())?;
    file.sync_all()
}

#[cfg(not(unix))]
fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)?;
    file.write_all(text.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_file_is_made_once_and_private() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keys/svc-kek.key");
        assert!(LocalKek::from_file(&path, false).is_err(), "not created");
        let first = LocalKek::from_file(&path, true).unwrap();
        let again = LocalKek::from_file(&path, true).unwrap();
        assert_eq!(first.id(), again.id());
        assert_eq!(first.expose_key(), again.expose_key());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[test]
    fn keys_are_32_bytes_of_base64_and_do_not_print() {
        assert!(LocalKek::new(&[1u8; 16]).is_err());
        assert!(LocalKek::from_base64(&SecretString::from("not base64!")).is_err());
        let key = STANDARD.encode([0x5au8; 32]);
        let kek = LocalKek::from_base64(&SecretString::from(format!(" {key}\n"))).unwrap();
        assert!(kek.id().starts_with("local:") && kek.id().len() == 6 + 16);
        let shown = format!("{kek:?}");
        assert!(!shown.contains(&key) && !shown.contains("90,"), "{shown}");
    }
}
