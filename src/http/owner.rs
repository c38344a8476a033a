//! The owner's consent password: argon2id hashes (never the password) in the database, checked
//! off the async threads because argon2 is deliberately slow; and the one-time consent codes the
//! owner can print from the server's shell.

use argon2::{Argon2, PasswordHash, PasswordHasher, PasswordVerifier, password_hash::SaltString};

use crate::auth::secrets::Secret;
use crate::clock::Clock;
use crate::storage::{StorageError, owner::OwnerRepo};

/// Shortest password `owner set-password` accepts.
pub const MIN_PASSWORD_CHARS: usize = 10;

/// How long a one-time consent code stays valid.
pub const ONE_TIME_CODE_TTL: std::time::Duration = std::time::Duration::from_secs(10 * 60);

/// Characters of a one-time code: 120 bits of url-safe base64, short enough to type.
const ONE_TIME_CODE_CHARS: usize = 20;

#[derive(Debug, thiserror::Error)]
pub enum OwnerError {
    #[error("the password must be at least {MIN_PASSWORD_CHARS} characters")]
    TooShort,
    #[error("no owner password is set; run `food-mcp owner set-password`")]
    NotSet,
    #[error("could not hash the password: {0}")]
    Hash(String),
    #[error(transparent)]
    Storage(#[from] StorageError),
}

/// Password checks running at once: each argon2 check holds ~19 MiB and a blocking thread, so a
/// flood of guesses from many addresses queues here instead of exhausting memory.
const CONCURRENT_CHECKS: usize = 2;

#[derive(Clone)]
pub struct OwnerPassword {
    repo: OwnerRepo,
    clock: Clock,
    checks: std::sync::Arc<tokio::sync::Semaphore>,
}

impl OwnerPassword {
    pub fn new(repo: OwnerRepo, clock: Clock) -> OwnerPassword {
        let checks = std::sync::Arc::new(tokio::sync::Semaphore::new(CONCURRENT_CHECKS));
        OwnerPassword {
            repo,
            clock,
            checks,
        }
    }

    /// Replaces the owner's password.
    pub async fn set(&self, password: &str) -> Result<(), OwnerError> {
        if password.chars().count() < MIN_PASSWORD_CHARS {
            return Err(OwnerError::TooShort);
        }
        let hash = hash(password.to_string()).await?;
        self.repo.set_password_hash(&hash, self.clock.now()).await?;
        Ok(())
    }

    /// At first start: when no password is set, sets a generated one and returns it (to be shown
    /// once); `None` when one was already set.
    pub async fn generate_if_absent(&self) -> Result<Option<String>, OwnerError> {
        if self.repo.password_hash().await?.is_some() {
            return Ok(None);
        }
        let password = Secret::generate()
            .map_err(|e| OwnerError::Hash(e.to_string()))?
            .expose()[..20]
            .to_string();
        let hash = hash(password.clone()).await?;
        let set = self
            .repo
            .set_password_hash_if_absent(&hash, self.clock.now())
            .await?;
        Ok(set.then_some(password))
    }

    /// A fresh one-time consent code (`food-mcp owner one-time-code`): valid for
    /// [`ONE_TIME_CODE_TTL`], once; stored only as its hash.
    pub async fn issue_one_time_code(&self) -> Result<Secret, OwnerError> {
        let random = Secret::generate().map_err(|e| OwnerError::Hash(e.to_string()))?;
        let code = Secret::from_presented(&random.expose()[..ONE_TIME_CODE_CHARS]);
        let now = self.clock.now();
        let expires_at = now.saturating_add(crate::clock::secs(ONE_TIME_CODE_TTL));
        self.repo
            .insert_one_time_code(&code.hash(), expires_at, now)
            .await?;
        Ok(code)
    }

    /// Whether `presented` is an unexpired one-time code, using it up. Cheap (one hash and one
    /// indexed delete), so it needs no lockout: a 120-bit code cannot be guessed.
    pub async fn redeem_one_time_code(&self, presented: &str) -> Result<bool, OwnerError> {
        if presented.len() != ONE_TIME_CODE_CHARS {
            return Ok(false);
        }
        let hash = Secret::from_presented(presented).hash();
        Ok(self
            .repo
            .take_one_time_code(&hash, self.clock.now())
            .await?)
    }

    /// Whether `password` is the owner's.
    pub async fn verify(&self, password: &str) -> Result<bool, OwnerError> {
        let _turn = self
            .checks
            .acquire()
            .await
            .map_err(|e| OwnerError::Hash(e.to_string()))?;
        let stored = self.repo.password_hash().await?.ok_or(OwnerError::NotSet)?;
        let password = password.to_string();
        tokio::task::spawn_blocking(move || {
            let Ok(parsed) = PasswordHash::new(&stored) else {
                return false;
            };
            Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        })
        .await
        .map_err(|e| OwnerError::Hash(e.to_string()))
    }
}

async fn hash(password: String) -> Result<String, OwnerError> {
    // 16 bytes from the OS generator (through the same source as every token).
    let random = Secret::generate().map_err(|e| OwnerError::Hash(e.to_string()))?;
    let salt = SaltString::encode_b64(&random.hash().as_bytes()[..16])
        .map_err(|e| OwnerError::Hash(e.to_string()))?;
    tokio::task::spawn_blocking(move || {
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| OwnerError::Hash(e.to_string()))
    })
    .await
    .map_err(|e| OwnerError::Hash(e.to_string()))?
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn owner() -> (tempfile::TempDir, OwnerPassword) {
        let dir = tempfile::tempdir().unwrap();
        let pool = crate::storage::open(&dir.path().join("t.db"))
            .await
            .unwrap();
        (
            dir,
            OwnerPassword::new(OwnerRepo::new(pool), Clock::manual(1_800_000_000)),
        )
    }

    #[tokio::test]
    async fn set_verify_and_generate_once() {
        let (_dir, owner) = owner().await;
        assert!(matches!(
            owner.verify("anything").await,
            Err(OwnerError::NotSet)
        ));
        let generated = owner.generate_if_absent().await.unwrap().unwrap();
        assert_eq!(generated.len(), 20);
        assert!(owner.verify(&generated).await.unwrap());
        assert!(
            owner.generate_if_absent().await.unwrap().is_none(),
            "only the first start generates"
        );
        assert!(matches!(
            owner.set("short").await,
            Err(OwnerError::TooShort)
        ));
        owner.set("correct horse battery").await.unwrap();
        assert!(owner.verify("correct horse battery").await.unwrap());
        assert!(!owner.verify(&generated).await.unwrap());
    }

    #[tokio::test]
    async fn a_one_time_code_works_once_and_expires() {
        let (_dir, owner) = owner().await;
        let code = owner.issue_one_time_code().await.unwrap();
        assert_eq!(code.expose().len(), ONE_TIME_CODE_CHARS);
        assert!(!owner.redeem_one_time_code("x").await.unwrap());
        assert!(owner.redeem_one_time_code(code.expose()).await.unwrap());
        assert!(
            !owner.redeem_one_time_code(code.expose()).await.unwrap(),
            "single use"
        );
        let late = owner.issue_one_time_code().await.unwrap();
        owner.clock.advance(ONE_TIME_CODE_TTL);
        assert!(!owner.redeem_one_time_code(late.expose()).await.unwrap());
    }
}
