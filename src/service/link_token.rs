//! Tokens of e-mailed links (invitations, password resets, e-mail verification):
//! [`CHARS`] random base62 characters (43 × 5.95 ≈ 256 bits). Only their SHA-256
//! is stored.

use rand::distributions::Alphanumeric;
use rand::Rng;
use sha2::{Digest, Sha256};

/// Characters of a token.
pub const CHARS: usize = 43;

/// A new random token.
pub fn new() -> String {
    rand::thread_rng()
        .sample_iter(&Alphanumeric)
        .take(CHARS)
        .map(char::from)
        .collect()
}

/// SHA-256 of a token, as stored.
pub fn hash(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}
