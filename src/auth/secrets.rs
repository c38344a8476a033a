//! Opaque secrets (tokens, codes, client secrets): generation, SHA-256 hashing for storage, and
//! constant-time comparison. Clear values live only in [`Secret`], whose `Debug` is redacted.

use std::fmt;
use std::hash::{Hash, Hasher};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use rand::TryRng as _;
use rand::rngs::SysRng;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// Bytes of randomness in a token, code or client secret (256 bits).
const SECRET_BYTES: usize = 32;
/// Bytes of randomness in public identifiers (client ids, token family ids).
const ID_BYTES: usize = 16;

/// The operating system could not supply randomness.
#[derive(Debug, thiserror::Error)]
#[error("the operating system's random number generator failed: {0}")]
pub struct EntropyError(rand::rngs::SysError);

fn random_b64(len: usize) -> Result<String, EntropyError> {
    let mut bytes = [0u8; SECRET_BYTES];
    let bytes = &mut bytes[..len.min(SECRET_BYTES)];
    SysRng.try_fill_bytes(bytes).map_err(EntropyError)?;
    Ok(URL_SAFE_NO_PAD.encode(bytes))
}

/// A fresh random public identifier (128 bits, url-safe base64).
pub fn new_id() -> Result<String, EntropyError> {
    random_b64(ID_BYTES)
}

/// 256 fresh random bits that are stored, never handed out (salts).
pub fn random_bytes() -> Result<[u8; SECRET_BYTES], EntropyError> {
    let mut bytes = [0u8; SECRET_BYTES];
    SysRng.try_fill_bytes(&mut bytes).map_err(EntropyError)?;
    Ok(bytes)
}

/// A secret in clear: one we generated to hand out once, or one a client presented.
#[derive(Clone)]
pub struct Secret(String);

impl Secret {
    /// A fresh 256-bit random secret, url-safe base64 without padding (43 characters).
    pub fn generate() -> Result<Secret, EntropyError> {
        random_b64(SECRET_BYTES).map(Secret)
    }

    /// A secret derived from `key`: HMAC-SHA256 keyed with its clear value over `label` and
    /// `salt`, in the form of a generated one. Knowing the salt and the label, but not `key` in
    /// clear, tells nothing of the result.
    pub fn derive(key: &Secret, label: &str, salt: &[u8; SECRET_BYTES]) -> Secret {
        let mut mac =
            Hmac::<Sha256>::new_from_slice(key.0.as_bytes()).expect("HMAC takes any key length");
        mac.update(label.as_bytes());
        mac.update(salt);
        Secret(URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes()))
    }

    /// Wraps a value received from a client so it cannot leak through `Debug`.
    pub fn from_presented(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }

    /// The clear value, for the one response that hands it out (or for hashing).
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The SHA-256 of the clear value: the only form that is stored or used as a key.
    pub fn hash(&self) -> SecretHash {
        SecretHash(Sha256::digest(self.0.as_bytes()).into())
    }
}

// Constant-time like every other comparison of secret material.
impl PartialEq for Secret {
    fn eq(&self, other: &Secret) -> bool {
        self.0.as_bytes().ct_eq(other.0.as_bytes()).into()
    }
}

impl Eq for Secret {}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

/// SHA-256 of a [`Secret`]. Equality is constant-time: comparing a presented client secret's
/// hash with the stored one must not reveal how many leading bytes matched.
#[derive(Clone, Copy)]
pub struct SecretHash([u8; 32]);

impl SecretHash {
    /// Rebuilds a hash read from storage; `None` unless exactly 32 bytes.
    pub fn from_slice(bytes: &[u8]) -> Option<SecretHash> {
        <[u8; 32]>::try_from(bytes).ok().map(SecretHash)
    }

    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl PartialEq for SecretHash {
    fn eq(&self, other: &SecretHash) -> bool {
        self.0.ct_eq(&other.0).into()
    }
}

impl Eq for SecretHash {}

// Hashing a SHA-256 digest for a HashMap reveals nothing about the secret: an attacker cannot
// steer the digest of a value they do not know.
impl Hash for SecretHash {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.0.hash(state);
    }
}

impl fmt::Debug for SecretHash {
    /// A short prefix is enough to correlate log lines and reveals nothing usable.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SecretHash({}…)", hex::encode(&self.0[..4]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_secrets_are_43_url_safe_chars_and_distinct() {
        let a = Secret::generate().unwrap();
        let b = Secret::generate().unwrap();
        assert_eq!(a.expose().len(), 43);
        assert!(
            a.expose()
                .bytes()
                .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_')
        );
        assert_ne!(a, b);
        assert_eq!(new_id().unwrap().len(), 22);
    }

    #[test]
    fn hash_is_sha256_of_the_clear_value() {
        let hash = Secret::from_presented("abc").hash();
        assert_eq!(
            hex::encode(hash.as_bytes()),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(SecretHash::from_slice(hash.as_bytes()), Some(hash));
        assert_eq!(SecretHash::from_slice(&[0u8; 31]), None);
        assert_ne!(hash, Secret::from_presented("abd").hash());
    }

    #[test]
    fn debug_never_shows_the_secret() {
        let secret = Secret::from_presented("super-secret-value");
        assert!(!format!("{secret:?}").contains("super"));
        assert!(!format!("{:?}", secret.hash()).contains("super"));
    }
}
