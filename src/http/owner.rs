//! The owner's consent password: argon2id hashes (never the password) in the database, checked
//! off the async threads because argon2 is deliberately slow, at most [`CONCURRENT_CHECKS`] at a
//! time in working memory allocated once and reused; and the one-time consent codes the owner
//! can print from the server's shell.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use argon2::{
    Algorithm, Argon2, Block, Params, PasswordHash, PasswordHasher, Version,
    password_hash::{Output, SaltString},
};

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

/// Argon2 working memory for the checks: at most one buffer per check slot, allocated on first
/// use and then reused. Letting argon2 allocate per check made the allocator keep every
/// blocking thread's freed 19 MiB (90 wrong guesses: 17 → 571 MB RSS); reused buffers keep RSS
/// at start-up size plus `CONCURRENT_CHECKS` × 19 MiB. A lock-protected free list, not actor
/// state: it holds scratch memory, never data, and each lock is a push or a pop.
struct Memory {
    free: std::sync::Mutex<Vec<Vec<Block>>>,
    allocated: AtomicUsize,
}

impl Memory {
    /// Blocks of one buffer: what the default parameters (the ones `set` hashes with) need.
    const BLOCKS: usize = Params::DEFAULT.block_count();

    fn take(&self) -> Vec<Block> {
        let reused = self.free.lock().map(|mut free| free.pop()).unwrap_or(None);
        reused.unwrap_or_else(|| {
            self.allocated.fetch_add(1, Ordering::Relaxed);
            vec![Block::new(); Self::BLOCKS]
        })
    }

    fn give_back(&self, blocks: Vec<Block>) {
        if let Ok(mut free) = self.free.lock() {
            free.push(blocks);
        }
    }
}

#[derive(Clone)]
pub struct OwnerPassword {
    repo: OwnerRepo,
    clock: Clock,
    checks: Arc<tokio::sync::Semaphore>,
    memory: Arc<Memory>,
}

impl OwnerPassword {
    pub fn new(repo: OwnerRepo, clock: Clock) -> OwnerPassword {
        OwnerPassword {
            repo,
            clock,
            checks: Arc::new(tokio::sync::Semaphore::new(CONCURRENT_CHECKS)),
            memory: Arc::new(Memory {
                free: std::sync::Mutex::new(Vec::with_capacity(CONCURRENT_CHECKS)),
                allocated: AtomicUsize::new(0),
            }),
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
        // Owned, and moved into the blocking task: a caller that gives up (a closed connection)
        // frees its slot only when the check it started has given its memory back.
        let turn = self
            .checks
            .clone()
            .acquire_owned()
            .await
            .map_err(|e| OwnerError::Hash(e.to_string()))?;
        let stored = self.repo.password_hash().await?.ok_or(OwnerError::NotSet)?;
        let password = password.to_string();
        let memory = self.memory.clone();
        tokio::task::spawn_blocking(move || {
            let mut blocks = memory.take();
            let matched = matches(&stored, password.as_bytes(), &mut blocks);
            memory.give_back(blocks);
            drop(turn);
            matched
        })
        .await
        .map_err(|e| OwnerError::Hash(e.to_string()))?
    }
}

/// Checks `password` against a PHC-format argon2 hash in `blocks` (argon2's own
/// `verify_password`, minus its allocation); the comparison is constant-time (`Output`'s `==`).
fn matches(stored: &str, password: &[u8], blocks: &mut [Block]) -> Result<bool, OwnerError> {
    let bad = |e: &dyn std::fmt::Display| OwnerError::Hash(format!("the stored hash: {e}"));
    let parsed = PasswordHash::new(stored).map_err(|e| bad(&e))?;
    let algorithm = Algorithm::try_from(parsed.algorithm).map_err(|e| bad(&e))?;
    let version = parsed
        .version
        .map(Version::try_from)
        .transpose()
        .map_err(|e| bad(&e))?
        .unwrap_or_default();
    let params = Params::try_from(&parsed).map_err(|e| bad(&e))?;
    let (Some(salt), Some(expected)) = (parsed.salt, parsed.hash) else {
        return Err(OwnerError::Hash(
            "the stored hash has no salt or output".into(),
        ));
    };
    let mut salt_bytes = [0u8; 64];
    let salt = salt.decode_b64(&mut salt_bytes).map_err(|e| bad(&e))?;
    let mut out = vec![0u8; expected.len()];
    Argon2::new(algorithm, version, params)
        .hash_password_into_with_memory(password, salt, &mut out, blocks)
        .map_err(|e| bad(&e))?;
    let computed = Output::new(&out).map_err(|e| bad(&e))?;
    Ok(computed == expected)
}

async fn hash(password: String) -> Result<String, OwnerError> {
    // 16 bytes from the OS generator (through the same source as every token).
    let random = Secret::generate().map_err(|e| OwnerError::Hash(e.to_string()))?;
    let salt = SaltString::encode_b64(&random.hash().as_bytes()[..16])
        .map_err(|e| OwnerError::Hash(e.to_string()))?;
    tokio::task::spawn_blocking(move || {
        let hashed = Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| OwnerError::Hash(e.to_string()));
        crate::memory::release_freed();
        hashed
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
    async fn a_burst_of_wrong_guesses_reuses_the_same_memory() {
        let (_dir, owner) = owner().await;
        owner.set("correct horse battery").await.unwrap();
        let guesses = (0..12).map(|i| {
            let owner = owner.clone();
            async move { owner.verify(&format!("wrong guess {i}")).await }
        });
        for answer in futures::future::join_all(guesses).await {
            assert!(!answer.unwrap());
        }
        assert!(owner.verify("correct horse battery").await.unwrap());
        let allocated = owner.memory.allocated.load(Ordering::Relaxed);
        assert!(
            (1..=CONCURRENT_CHECKS).contains(&allocated),
            "13 checks, {allocated} buffers"
        );
    }

    #[test]
    fn hashes_of_other_parameters_still_verify_or_fail_clearly() {
        // A hash with a smaller memory cost (argon2 encodes its parameters) verifies in the
        // same buffer; one that needs more than the buffer is an error, not a silent `false`.
        let salt = SaltString::encode_b64(b"0123456789abcdef").unwrap();
        let small = Argon2::new(
            Algorithm::Argon2id,
            Version::V0x13,
            Params::new(8 * 1024, 2, 1, None).unwrap(),
        )
        .hash_password(b"pw", &salt)
        .unwrap()
        .to_string();
        let mut blocks = vec![Block::new(); Memory::BLOCKS];
        assert!(matches(&small, b"pw", &mut blocks).unwrap());
        assert!(!matches(&small, b"pW", &mut blocks).unwrap());
        let big = Argon2::new(
            Algorithm::Argon2id,
            Version::V0x13,
            Params::new(64 * 1024, 1, 1, None).unwrap(),
        )
        .hash_password(b"pw", &salt)
        .unwrap()
        .to_string();
        assert!(matches(&big, b"pw", &mut blocks).is_err());
        assert!(matches("not a hash", b"pw", &mut blocks).is_err());
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
