//! Tokens: the records of access and refresh tokens (hashes only), their families, what a token
//! speaks for, and a token response's content. Pure: no IO.

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
