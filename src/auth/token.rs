//! Tokens: the records of access and refresh tokens (hashes only), their families, what a token
//! speaks for, and a token response's content. Pure: no IO.

use std::fmt;

use crate::auth::secrets::{EntropyError, Secret, SecretHash, new_id};

/// The tokens descending from one authorization code; revoked together.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct FamilyId(String);

impl FamilyId {
    pub fn generate() -> Result<FamilyId, EntropyError> {
        new_id().map(FamilyId)
    }

    /// Rebuilds an id read from storage.
    pub fn from_stored(id: String) -> FamilyId {
        FamilyId(id)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// What a redeemed authorization code grants: the input of `TokenStoreMsg::Issue`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    pub client_id: String,
    pub scopes: Vec<String>,
    /// RFC 8707 resource (audience) the tokens are bound to.
    pub resource: String,
    pub family: FamilyId,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    Access,
    Refresh,
    /// A refresh token already exchanged for a successor; using it again is a replay.
    Rotated,
}

/// A token as stored: never the token itself, only its hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRecord {
    pub hash: SecretHash,
    pub kind: TokenKind,
    pub client_id: String,
    pub family: FamilyId,
    pub scopes: Vec<String>,
    pub resource: String,
    pub expires_at: i64,
    /// On a `Rotated` token until its grace ends: how a retry gets the same successor.
    pub grace: Option<Grace>,
}

/// A rotated refresh token's grace: until `until`, presenting it again yields the successor
/// pair derived from it and `salt` ([`successors`]), the same pair its rotation handed out —
/// also after a restart, since the salt is stored with the rotation. The salt alone yields
/// nothing: the derivation is keyed with the rotated token in clear, which only its holder has
/// (storage keeps its hash). A fresh salt per rotation keeps the chain of tokens from being a
/// function of the first one.
#[derive(Clone, PartialEq, Eq)]
pub struct Grace {
    pub salt: [u8; 32],
    pub until: i64,
}

impl fmt::Debug for Grace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Grace")
            .field("until", &self.until)
            .finish_non_exhaustive()
    }
}

/// The access and refresh tokens that succeed `rotated` under `salt`.
pub fn successors(rotated: &Secret, salt: &[u8; 32]) -> (Secret, Secret) {
    (
        Secret::derive(rotated, "food-mcp successor access token v1", salt),
        Secret::derive(rotated, "food-mcp successor refresh token v1", salt),
    )
}

/// One all-or-nothing write: `delete` first, then `insert` (which may re-insert a deleted hash).
#[derive(Debug, Default)]
pub struct TokenChange {
    pub delete: Vec<SecretHash>,
    pub insert: Vec<TokenRecord>,
}

/// Who an access token speaks for, as the bearer middleware needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub client_id: String,
    pub scopes: Vec<String>,
    pub resource: String,
    pub expires_at: i64,
}

/// A token response's content; the tokens are in clear here and in no other place.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssuedTokens {
    pub access_token: Secret,
    pub refresh_token: Secret,
    /// When the access token expires (`expires_in` = this minus now).
    pub expires_at: i64,
    pub scopes: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn successors_depend_on_the_rotated_token_and_the_salt_and_nothing_else() {
        let rotated = Secret::generate().unwrap();
        let salt = [7u8; 32];
        let (access, refresh) = successors(&rotated, &salt);
        assert_eq!(
            successors(&rotated, &salt),
            (access.clone(), refresh.clone())
        );
        assert_ne!(access, refresh);
        assert_eq!(refresh.expose().len(), 43, "shaped like a generated token");
        let other_salt = successors(&rotated, &[8u8; 32]);
        let other_token = successors(&Secret::generate().unwrap(), &salt);
        for (a, r) in [other_salt, other_token] {
            assert_ne!(a, access);
            assert_ne!(r, refresh);
        }
    }

    #[test]
    fn a_grace_never_shows_its_salt() {
        let grace = Grace {
            salt: [0xab; 32],
            until: 5,
        };
        assert_eq!(format!("{grace:?}"), "Grace { until: 5, .. }");
    }
}
