//! Signing per the Standard Webhooks specification
//! (<https://github.com/standard-webhooks/standard-webhooks/blob/main/spec/standard-webhooks.md>,
//! "Signature scheme"): HMAC-SHA256 over `"{webhook-id}.{webhook-timestamp}.{body}"`
//! with the secret's bytes (the base64 after `whsec_`), sent as
//! `webhook-signature: v1,<base64>`; several signatures, separated by spaces,
//! while a rotated secret overlaps the new one.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;

/// Every secret's text starts so.
pub const SECRET_PREFIX: &str = "whsec_";

/// Bytes of a new secret (192 bits; the specification asks for 24 to 64).
pub const SECRET_BYTES: usize = 24;

/// A new random secret's bytes.
pub fn new_secret() -> Vec<u8> {
    let mut bytes = vec![0u8; SECRET_BYTES];
    rand::thread_rng().fill_bytes(&mut bytes);
    bytes
}

/// The secret as shown once to whoever made it: `whsec_<base64>`.
pub fn secret_text(bytes: &[u8]) -> String {
    format!("{SECRET_PREFIX}{}", STANDARD.encode(bytes))
}

/// The bytes behind `whsec_<base64>` (the prefix optional), if well formed and 24
/// to 64 bytes long.
pub fn parse_secret(text: &str) -> Option<Vec<u8>> {
    let b64 = text.trim().strip_prefix(SECRET_PREFIX).unwrap_or(text.trim());
    STANDARD
        .decode(b64)
        .ok()
        .filter(|b| (24..=64).contains(&b.len()))
}

/// The HMAC-SHA256 of `"{msg_id}.{timestamp}.{body}"` under `secret`, fed.
fn mac(secret: &[u8], msg_id: &str, timestamp: i64, body: &[u8]) -> Hmac<Sha256> {
    // HMAC takes keys of any length: this cannot fail.
    let mut m = Hmac::<Sha256>::new_from_slice(secret).unwrap_or_else(|_| unreachable!("HMAC takes any key"));
    m.update(msg_id.as_bytes());
    m.update(b".");
    m.update(timestamp.to_string().as_bytes());
    m.update(b".");
    m.update(body);
    m
}

/// One signature: `v1,<base64 HMAC-SHA256>` of `"{msg_id}.{timestamp}.{body}"`
/// (`timestamp` in whole seconds since the Unix epoch, UTC).
pub fn sign(secret: &[u8], msg_id: &str, timestamp: i64, body: &[u8]) -> String {
    format!("v1,{}", STANDARD.encode(mac(secret, msg_id, timestamp, body).finalize().into_bytes()))
}

/// The `webhook-signature` header: one signature per secret, space-separated
/// (the current secret first).
pub fn signature_header(secrets: &[&[u8]], msg_id: &str, timestamp: i64, body: &[u8]) -> String {
    secrets
        .iter()
        .map(|s| sign(s, msg_id, timestamp, body))
        .collect::<Vec<_>>()
        .join(" ")
}

/// How far a delivery's timestamp may be from the receiver's clock (the
/// specification's libraries use 5 minutes).
pub const TOLERANCE_SECONDS: i64 = 300;

/// Whether `header` (a `webhook-signature` value) holds a `v1` signature by one of
/// `secrets` of `"{msg_id}.{timestamp}.{body}"`, and `timestamp` is within
/// [`TOLERANCE_SECONDS`] of `now` (seconds since the epoch). Compares in constant
/// time. Tollgate's own receiver (`tollgate webhooks listen`) uses it; Tollgate's
/// tests verify deliveries with the specification's Python library instead.
pub fn verify(secrets: &[&[u8]], msg_id: &str, timestamp: i64, body: &[u8], header: &str, now: i64) -> bool {
    if (now - timestamp).abs() > TOLERANCE_SECONDS {
        return false;
    }
    let given: Vec<Vec<u8>> = header
        .split(' ')
        .filter_map(|s| s.strip_prefix("v1,"))
        .filter_map(|b| STANDARD.decode(b).ok())
        .collect();
    secrets
        .iter()
        .any(|secret| given.iter().any(|sig| mac(secret, msg_id, timestamp, body).verify_slice(sig).is_ok()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The example of the Standard Webhooks reference libraries' tests
    /// (secret `whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw`, id `msg_p5jXN8AQM9LWM0D4loKWxJek`,
    /// timestamp 1614265330, body `{"test": 2432232314}`).
    #[test]
    fn the_specifications_example_signs_alike() {
        let secret = parse_secret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").expect("example secret");
        assert_eq!(
            sign(&secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1_614_265_330, br#"{"test": 2432232314}"#),
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        );
    }

    #[test]
    fn secrets_round_trip_and_bad_ones_are_refused() {
        let bytes = new_secret();
        assert_eq!(parse_secret(&secret_text(&bytes)), Some(bytes));
        assert_eq!(parse_secret("whsec_short"), None);
        assert_eq!(parse_secret("whsec_!!!"), None);
        let two = signature_header(&[&[1u8; 24], &[2u8; 24]], "m", 1, b"{}");
        assert_eq!(two.split(' ').count(), 2);
    }

    #[test]
    fn verification_takes_either_secret_and_refuses_stale_or_altered_deliveries() {
        let (old, new) = ([1u8; 24], [2u8; 24]);
        let header = signature_header(&[&new, &old], "msg_1", 1000, b"{}");
        assert!(verify(&[&old], "msg_1", 1000, b"{}", &header, 1000));
        assert!(verify(&[&new], "msg_1", 1000, b"{}", &header, 1200));
        assert!(!verify(&[&[3u8; 24]], "msg_1", 1000, b"{}", &header, 1000));
        assert!(!verify(&[&new], "msg_1", 1000, b"{ }", &header, 1000));
        assert!(!verify(&[&new], "msg_2", 1000, b"{}", &header, 1000));
        assert!(!verify(&[&new], "msg_1", 1000, b"{}", &header, 1000 + TOLERANCE_SECONDS + 1));
        assert!(!verify(&[&new], "msg_1", 1000, b"{}", "v1,!!!", 1000));
    }
}
