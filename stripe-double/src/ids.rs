//! Object ids in Stripe's style: a type prefix and random alphanumerics (`cus_Qx…`, `cs_test_…`).

use rand::distributions::Alphanumeric;
use rand::Rng;

/// A new id `"{prefix}_{random}"` with 24 random alphanumerics, e.g. `id("cus")` →
/// `cus_4Kq…`. Checkout Sessions use the prefix `cs_test` as Stripe does in test mode.
pub fn id(prefix: &str) -> String {
    format!("{prefix}_{}", random(24))
}

/// `len` random ASCII letters and digits.
pub fn random(len: usize) -> String {
    rand::thread_rng()
        .sample_iter(&Alphanumeric)
        .take(len)
        .map(char::from)
        .collect()
}
