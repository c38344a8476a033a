//! PKCE (RFC 7636), S256 only: `plain` and a missing challenge are refused (OAuth 2.1).

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::auth::secrets::Secret;

/// Why a challenge or verifier was refused; every case is `invalid_request`/`invalid_grant` on
/// the wire.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PkceError {
    #[error("code_challenge is required")]
    MissingChallenge,
    #[error("code_challenge_method must be S256")]
    UnsupportedMethod,
    #[error("code_challenge must be the base64url (no padding) SHA-256 of the code_verifier")]
    MalformedChallenge,
    #[error("code_verifier must be 43 to 128 characters of A-Z a-z 0-9 - . _ ~")]
    MalformedVerifier,
    #[error("code_verifier does not match the code_challenge")]
    Mismatch,
}

/// An S256 code challenge, validated: 43 base64url characters encoding 32 bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeChallenge(String);

impl CodeChallenge {
    /// Checks the `code_challenge` and `code_challenge_method` parameters of an authorization
    /// request. An absent method means `plain` (RFC 7636 §4.3), so it is refused too.
    pub fn parse(
        challenge: Option<&str>,
        method: Option<&str>,
    ) -> Result<CodeChallenge, PkceError> {
        let challenge = challenge
            .filter(|c| !c.is_empty())
            .ok_or(PkceError::MissingChallenge)?;
        if method != Some("S256") {
            return Err(PkceError::UnsupportedMethod);
        }
        match URL_SAFE_NO_PAD.decode(challenge) {
            Ok(digest) if digest.len() == 32 && challenge.len() == 43 => {
                Ok(CodeChallenge(challenge.to_owned()))
            }
            _ => Err(PkceError::MalformedChallenge),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Checks a `code_verifier` from the token request against this challenge.
    pub fn verify(&self, verifier: &Secret) -> Result<(), PkceError> {
        let verifier = verifier.expose();
        let well_formed = (43..=128).contains(&verifier.len())
            && verifier
                .bytes()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'.' | b'_' | b'~'));
        if !well_formed {
            return Err(PkceError::MalformedVerifier);
        }
        let computed = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
        if bool::from(computed.as_bytes().ct_eq(self.0.as_bytes())) {
            Ok(())
        } else {
            Err(PkceError::Mismatch)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // RFC 7636 Appendix B.
    const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

    fn verifier(v: &str) -> Secret {
        Secret::from_presented(v)
    }

    #[test]
    fn rfc7636_appendix_b_vector_verifies() {
        let challenge = CodeChallenge::parse(Some(CHALLENGE), Some("S256")).unwrap();
        assert_eq!(challenge.verify(&verifier(VERIFIER)), Ok(()));
        let wrong = format!("{}A", &VERIFIER[..VERIFIER.len() - 1]);
        assert_eq!(
            challenge.verify(&verifier(&wrong)),
            Err(PkceError::Mismatch)
        );
    }

    #[test]
    fn plain_missing_and_malformed_challenges_are_refused() {
        use PkceError::*;
        assert_eq!(
            CodeChallenge::parse(None, Some("S256")),
            Err(MissingChallenge)
        );
        assert_eq!(
            CodeChallenge::parse(Some(""), Some("S256")),
            Err(MissingChallenge)
        );
        assert_eq!(
            CodeChallenge::parse(Some(CHALLENGE), None),
            Err(UnsupportedMethod)
        );
        assert_eq!(
            CodeChallenge::parse(Some(CHALLENGE), Some("plain")),
            Err(UnsupportedMethod)
        );
        assert_eq!(
            CodeChallenge::parse(Some(CHALLENGE), Some("s256")),
            Err(UnsupportedMethod)
        );
        assert_eq!(
            CodeChallenge::parse(Some(VERIFIER), Some("S256")).map(|_| ()),
            Ok(())
        );
        assert_eq!(
            CodeChallenge::parse(Some("short"), Some("S256")),
            Err(MalformedChallenge)
        );
        let padded = format!("{CHALLENGE}=");
        assert_eq!(
            CodeChallenge::parse(Some(&padded), Some("S256")),
            Err(MalformedChallenge)
        );
        let bad_alphabet = CHALLENGE.replace('-', "+");
        assert_eq!(
            CodeChallenge::parse(Some(&bad_alphabet), Some("S256")),
            Err(MalformedChallenge)
        );
    }

    #[test]
    fn verifier_length_and_alphabet_are_enforced() {
        let challenge = CodeChallenge::parse(Some(CHALLENGE), Some("S256")).unwrap();
        for bad in [
            "a".repeat(42),
            "a".repeat(129),
            format!("{}+", "a".repeat(43)),
            format!("{}é", "a".repeat(43)),
        ] {
            assert_eq!(
                challenge.verify(&verifier(&bad)),
                Err(PkceError::MalformedVerifier),
                "{bad}"
            );
        }
        // Well-formed at both length limits, just not matching.
        for ok in ["a.b_c~d-".repeat(6)[..43].to_owned(), "Z".repeat(128)] {
            assert_eq!(challenge.verify(&verifier(&ok)), Err(PkceError::Mismatch));
        }
    }
}
