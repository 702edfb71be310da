//! Invoice numbers: gap-free per issuer and year (PRODUCT.md "Domain"), written
//! `PREFIX-YYYY-NNNNNN` (`TG-2026-000042`). The next sequence number is handed out
//! by the database inside the transaction that issues the invoice, so a rolled-back
//! run leaves no gap.

/// Formats the `sequence`-th number (from 1) of `year` for the issuer `prefix`.
pub fn format(prefix: &str, year: i32, sequence: i64) -> String {
    format!("{prefix}-{year}-{sequence:06}")
}

/// Checks an issuer prefix: 1 to 8 upper-case ASCII letters or digits.
pub fn valid_prefix(prefix: &str) -> bool {
    (1..=8).contains(&prefix.len())
        && prefix
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_sort_as_text() {
        assert_eq!(format("TG", 2026, 42), "TG-2026-000042");
        assert!(format("TG", 2026, 9) < format("TG", 2026, 10));
        assert!(
            valid_prefix("TG")
                && valid_prefix("ACME2")
                && !valid_prefix("tg")
                && !valid_prefix("")
                && !valid_prefix("TOOLONGXX")
        );
    }
}
