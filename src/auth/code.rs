//! Authorization codes: what the owner approved at /authorize and what is stored of a code (its
//! hash, never the code). Pure: no IO.

use crate::auth::pkce::CodeChallenge;
use crate::auth::secrets::SecretHash;
use crate::auth::token::FamilyId;

/// What the owner approved at /authorize, to be bound to the code.
#[derive(Debug, Clone)]
pub struct CodeRequest {
    pub client_id: String,
    /// The `redirect_uri` parameter exactly as the authorization request carried it; the token
    /// request must repeat it (RFC 6749 §4.1.3).
    pub redirect_uri: Option<String>,
    pub code_challenge: CodeChallenge,
    pub scopes: Vec<String>,
    /// The RFC 8707 resource the tokens will be bound to.
    pub resource: String,
}

/// A stored code. `family` names the tokens its redemption issues, so a replay can revoke them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeRecord {
    pub hash: SecretHash,
    pub client_id: String,
    pub redirect_uri: Option<String>,
    pub code_challenge: CodeChallenge,
    pub scopes: Vec<String>,
    pub resource: String,
    pub family: FamilyId,
    pub expires_at: i64,
    pub redeemed_at: Option<i64>,
}
