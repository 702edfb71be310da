//! Stripe's test card numbers and what each does (<https://docs.stripe.com/testing#cards>).

use crate::error::ApiError;

/// What a test card does when attached and when charged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CardBehaviour {
    /// Attaches and every charge succeeds (`4242424242424242`, `5555555555554444`).
    Succeeds,
    /// Attaches, but every charge is declined with `generic_decline` (`4000000000000341`).
    ChargesFail,
}

/// A card attached to a customer, as a PaymentMethod `pm_…`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Card {
    /// PaymentMethod id `pm_…`.
    pub id: String,
    /// Brand as Stripe spells it: `visa`, `mastercard`.
    pub brand: &'static str,
    /// Last four digits.
    pub last4: String,
    /// What charges on this card do.
    pub behaviour: CardBehaviour,
    /// Unix time the card was attached.
    pub created: i64,
}

/// Checks a card number entered on a hosted page and returns its brand and behaviour, or the error
/// Stripe shows for it: `4000000000000002` `card_declined`/`generic_decline`, `4000000000009995`
/// `insufficient_funds`, `4000000000000069` `expired_card`, anything else `incorrect_number`
/// (live card numbers are refused in test mode).
pub fn classify(number: &str) -> Result<(&'static str, CardBehaviour), ApiError> {
    let digits: String = number
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .collect();
    match digits.as_str() {
        "4242424242424242" => Ok(("visa", CardBehaviour::Succeeds)),
        "5555555555554444" => Ok(("mastercard", CardBehaviour::Succeeds)),
        "4000000000000341" => Ok(("visa", CardBehaviour::ChargesFail)),
        "4000000000000002" => Err(declined("generic_decline")),
        "4000000000009995" => Err(declined("insufficient_funds")),
        "4000000000000069" => Err(ApiError::card(
            "Your card has expired.",
            "expired_card",
            None,
        )),
        _ => Err(ApiError::card(
            "Your card number is incorrect.",
            "incorrect_number",
            None,
        )),
    }
}

/// The 402 `card_declined` error with `decline_code`, worded as Stripe words it.
pub fn declined(decline_code: &str) -> ApiError {
    let message = if decline_code == "insufficient_funds" {
        "Your card has insufficient funds."
    } else {
        "Your card was declined."
    };
    ApiError::card(message, "card_declined", Some(decline_code))
}

/// The last four digits of a (classified, hence all-digit) number.
pub fn last4(number: &str) -> String {
    let digits: Vec<char> = number.chars().filter(char::is_ascii_digit).collect();
    digits[digits.len().saturating_sub(4)..].iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_cards_behave_as_documented() {
        assert_eq!(
            classify("4242 4242 4242 4242"),
            Ok(("visa", CardBehaviour::Succeeds))
        );
        assert_eq!(
            classify("4000000000000341"),
            Ok(("visa", CardBehaviour::ChargesFail))
        );
        let declined = classify("4000000000000002").unwrap_err();
        assert_eq!(declined.decline_code.as_deref(), Some("generic_decline"));
        assert_eq!(declined.message, "Your card was declined.");
        assert_eq!(
            classify("1234").unwrap_err().code.as_deref(),
            Some("incorrect_number")
        );
        assert_eq!(last4("4242424242424242"), "4242");
    }
}
