//! E-mail templates: plain text in `templates/email/<name>.txt`, embedded at build
//! time and rendered with minijinja.
//!
//! File format: the first line is `Subject: …`, then one blank line, then the body.
//! Both are templates over the message's context (the JSON enqueued with it), so
//! `{{ user.name }}` reads `{"user": {"name": "Ada"}}`. Undefined variables are an
//! error (strict undefined): a context that lacks a variable fails to render instead
//! of sending a message with a hole in it.

use minijinja::syntax::SyntaxConfig;
use minijinja::{Environment, UndefinedBehavior, Value};
use std::collections::BTreeMap;
use std::sync::OnceLock;

/// Every template by name, with its source.
pub const TEMPLATES: &[(&str, &str)] = &[
    (
        "invitation",
        include_str!("../../../templates/email/invitation.txt"),
    ),
    (
        "password_reset",
        include_str!("../../../templates/email/password_reset.txt"),
    ),
    (
        "email_verification",
        include_str!("../../../templates/email/email_verification.txt"),
    ),
    (
        "sign_up_attempt",
        include_str!("../../../templates/email/sign_up_attempt.txt"),
    ),
    (
        "payment_failed",
        include_str!("../../../templates/email/payment_failed.txt"),
    ),
    (
        "usage_threshold",
        include_str!("../../../templates/email/usage_threshold.txt"),
    ),
    (
        "invoice_issued",
        include_str!("../../../templates/email/invoice_issued.txt"),
    ),
    (
        "invoice_reminder",
        include_str!("../../../templates/email/invoice_reminder.txt"),
    ),
    (
        "invoice_past_due",
        include_str!("../../../templates/email/invoice_past_due.txt"),
    ),
    (
        "trial_ending",
        include_str!("../../../templates/email/trial_ending.txt"),
    ),
    (
        "payment_received",
        include_str!("../../../templates/email/payment_received.txt"),
    ),
    (
        "webhook_endpoint_disabled",
        include_str!("../../../templates/email/webhook_endpoint_disabled.txt"),
    ),
];

/// A rendered message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    /// One line, without the `Subject: ` prefix.
    pub subject: String,
    /// Plain text, lines separated by `\n`, ending with one newline.
    pub body: String,
}

/// Why a message could not be rendered. Rendering again gives the same answer, so
/// the worker gives up on such a message at once.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RenderError {
    /// No template has this name.
    #[error("no e-mail template `{0}`")]
    Unknown(String),
    /// The template failed: a syntax error or a variable the context lacks.
    #[error("e-mail template `{template}`: {message}")]
    Template { template: String, message: String },
    /// The rendered text does not start with `Subject: …` and a blank line, or the
    /// subject is empty.
    #[error("e-mail template `{0}` must start with a `Subject: …` line, then a blank line")]
    Format(String),
}

fn environment() -> &'static Environment<'static> {
    static ENV: OnceLock<Environment<'static>> = OnceLock::new();
    ENV.get_or_init(|| {
        let mut env = Environment::new();
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        match SyntaxConfig::builder()
            .trim_blocks(true)
            .keep_trailing_newline(true)
            .build()
        {
            Ok(syntax) => env.set_syntax(syntax),
            Err(e) => tracing::error!(error = %e, "e-mail template syntax settings refused"),
        }
        for (name, source) in TEMPLATES {
            // A syntax error surfaces as `RenderError::Template` when the template is
            // rendered (and in the test that renders every template).
            if let Err(e) = env.add_template(name, source) {
                tracing::error!(template = name, error = %e, "e-mail template does not compile");
            }
        }
        env
    })
}

/// Whether `name` is a registered template.
pub fn exists(name: &str) -> bool {
    TEMPLATES.iter().any(|(n, _)| *n == name)
}

/// Renders template `name` with `context` (a JSON object of its variables).
///
/// # Errors
/// [`RenderError::Unknown`] for an unregistered name; [`RenderError::Template`] for a
/// syntax error or a variable missing from `context`; [`RenderError::Format`] when
/// the output lacks the subject line and the blank line after it.
pub fn render(name: &str, context: &serde_json::Value) -> Result<Rendered, RenderError> {
    if !exists(name) {
        return Err(RenderError::Unknown(name.to_string()));
    }
    let failed = |e: minijinja::Error| {
        let mut message = e.to_string();
        let mut source = std::error::Error::source(&e);
        while let Some(s) = source {
            message.push_str(&format!(": {s}"));
            source = s.source();
        }
        RenderError::Template {
            template: name.to_string(),
            message,
        }
    };
    let template = environment().get_template(name).map_err(failed)?;
    let text = template.render(value(context)).map_err(failed)?;
    split(name, &text)
}

/// The context as a template value. Numbers are converted by hand: with
/// serde_json's `arbitrary_precision` (enabled for exact decimals) they would
/// otherwise serialize as a private map. Integers stay integers; other numbers keep
/// their exact decimal text.
fn value(json: &serde_json::Value) -> Value {
    match json {
        serde_json::Value::Null => Value::from(()),
        serde_json::Value::Bool(b) => Value::from(*b),
        serde_json::Value::Number(n) => match (n.as_i64(), n.as_u64()) {
            (Some(i), _) => Value::from(i),
            (None, Some(u)) => Value::from(u),
            (None, None) => Value::from(n.to_string()),
        },
        serde_json::Value::String(s) => Value::from(s.as_str()),
        serde_json::Value::Array(items) => Value::from(items.iter().map(value).collect::<Vec<_>>()),
        serde_json::Value::Object(map) => Value::from(
            map.iter()
                .map(|(k, v)| (Value::from(k.as_str()), value(v)))
                .collect::<BTreeMap<_, _>>(),
        ),
    }
}

/// Splits rendered text into its subject line and body.
fn split(name: &str, text: &str) -> Result<Rendered, RenderError> {
    let text = text.replace("\r\n", "\n");
    let format = || RenderError::Format(name.to_string());
    let (first, rest) = text.split_once('\n').ok_or_else(format)?;
    let subject = first.strip_prefix("Subject:").ok_or_else(format)?.trim();
    let body = rest.strip_prefix('\n').ok_or_else(format)?;
    if subject.is_empty() {
        return Err(format());
    }
    let body = format!("{}\n", body.trim_end());
    Ok(Rendered {
        subject: subject.to_string(),
        body,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// A context of the shape each template's callers enqueue.
    fn sample(name: &str) -> serde_json::Value {
        match name {
            "invitation" => json!({
                "inviter": {"name": "Ada Lovelace"},
                "organization": {"name": "Analytical Engines", "slug": "engines"},
                "role": "member",
                "link": "http://127.0.0.1:3000/invite/abc123",
                "expires_at": "2026-11-29 10:00 UTC",
            }),
            "password_reset" => json!({
                "user": {"name": "Ada Lovelace", "email": "ada@example.com"},
                "link": "http://127.0.0.1:3000/reset-password?token=abc123",
                "expires_in_minutes": 60,
            }),
            "email_verification" => json!({
                "user": {"name": "Ada Lovelace", "email": "ada@example.com"},
                "link": "http://127.0.0.1:3000/verify-email?token=abc123",
                "expires_in_hours": 48,
            }),
            "sign_up_attempt" => json!({
                "user": {"name": "Ada Lovelace", "email": "ada@example.com"},
                "login_link": "http://127.0.0.1:3000/login",
                "reset_link": "http://127.0.0.1:3000/forgot-password",
            }),
            "payment_failed" => json!({
                "product": "EMTChat",
                "user": {"name": "Ada Lovelace", "email": "ada@example.com"},
                "account": {"name": "Analytical Engines"},
                "plan": {"key": "pro", "name": "Pro"},
                "amount": "$79.00",
                "invoice": {"number": "ABCD-0002", "hosted_url": "https://invoice.stripe.test/i/abc"},
                "billing_link": "http://127.0.0.1:3000/billing",
                "grace_until": "2026-11-29",
            }),
            "usage_threshold" => json!({
                "product": "EMTChat",
                "user": {"name": "Ada Lovelace", "email": "ada@example.com"},
                "account": {"name": "Analytical Engines", "kind": "organization"},
                "meter": {"key": "queries", "name": "Queries", "unit": "query"},
                "usage": {"queries": "375"},
                "limit": "500",
                "percent": "75",
                "plan": {"key": "starter", "name": "Starter"},
                "period": {"start": "2026-11-01", "end": "2026-12-01"},
                "upgrade_link": "http://127.0.0.1:3000/pricing",
                "usage_link": "http://127.0.0.1:3000/dashboard",
            }),
            "invoice_issued" => json!({
                "product": "EMTChat",
                "user": {"name": "Ada Lovelace", "email": "ada@example.com"},
                "account": {"name": "Analytical Engines"},
                "invoice": {"number": "TG-2026-000042", "total": "$79.00", "amount_due": "$79.00", "due_date": "2026-12-15",
                            "period": "2026-11-01 to 2026-12-01", "pdf_link": "http://127.0.0.1:3000/invoices/x/pdf?token=1.a"},
                "link_days": 30,
                "billing_link": "http://127.0.0.1:3000/billing",
            }),
            "invoice_reminder" => json!({
                "product": "EMTChat",
                "user": {"name": "Ada Lovelace", "email": "ada@example.com"},
                "account": {"name": "Analytical Engines"},
                "invoice": {"number": "TG-2026-000042", "total": "$79.00", "amount_due": "$79.00", "due_date": "2026-12-15",
                            "period": "2026-11-01 to 2026-12-01", "pdf_link": "http://127.0.0.1:3000/invoices/x/pdf?token=1.a"},
                "days_overdue": 7,
                "past_due_on": "2026-12-29",
                "billing_link": "http://127.0.0.1:3000/billing",
            }),
            "invoice_past_due" => json!({
                "product": "EMTChat",
                "user": {"name": "Ada Lovelace", "email": "ada@example.com"},
                "account": {"name": "Analytical Engines"},
                "plan": {"name": "Pro"},
                "invoice": {"number": "TG-2026-000042", "total": "$79.00", "amount_due": "$79.00", "due_date": "2026-12-15",
                            "period": "2026-11-01 to 2026-12-01", "pdf_link": "http://127.0.0.1:3000/invoices/x/pdf?token=1.a"},
                "grace_until": "2027-01-05",
                "billing_link": "http://127.0.0.1:3000/billing",
            }),
            "trial_ending" => json!({
                "product": "EMTChat",
                "user": {"name": "Ada Lovelace", "email": "ada@example.com"},
                "account": {"name": "Analytical Engines"},
                "trial_end": "2026-12-09",
                "billing_link": "http://127.0.0.1:3000/billing",
            }),
            "payment_received" => json!({
                "product": "EMTChat",
                "user": {"name": "Ada Lovelace", "email": "ada@example.com"},
                "account": {"name": "Analytical Engines"},
                "invoice": {"number": "TG-2026-000042", "amount": "$79.00"},
                "billing_link": "http://127.0.0.1:3000/billing",
            }),
            "webhook_endpoint_disabled" => json!({
                "product": "EMTChat",
                "user": {"name": "Ada Lovelace", "email": "ada@example.com"},
                "account": {"name": "Analytical Engines"},
                "endpoint": {"url": "https://hooks.example.com/tollgate", "failing_since": "2026-11-26 10:00 UTC", "last_error": "HTTP 503"},
                "link": "http://127.0.0.1:3000/settings/webhooks",
            }),
            other => panic!("no sample context for template `{other}`: add one here"),
        }
    }

    #[test]
    fn every_template_renders_with_a_sample_context() {
        for (name, _) in TEMPLATES {
            let r = render(name, &sample(name)).unwrap_or_else(|e| panic!("{e}"));
            assert!(
                !r.subject.is_empty() && !r.subject.contains('\n'),
                "{name}: {r:?}"
            );
            assert!(
                !r.body.starts_with('\n') && r.body.ends_with('\n'),
                "{name}: {r:?}"
            );
            assert!(
                !r.body.contains("{{") && !r.body.contains("{%"),
                "{name}: {r:?}"
            );
        }
    }

    #[test]
    fn an_invoice_reminder_reads_right_before_and_after_the_due_date() {
        let overdue = render("invoice_reminder", &sample("invoice_reminder")).expect("renders");
        assert_eq!(overdue.subject, "Overdue: EMTChat invoice TG-2026-000042 (7 days)");
        assert!(
            overdue.body.starts_with("Hi Ada Lovelace,\n\nInvoice TG-2026-000042 for Analytical Engines was due on 2026-12-15 and is\n7 days overdue: $79.00 is still open.\nIf it is not paid by 2026-12-29, the subscription becomes past due.\n\nDownload the PDF: "),
            "{}",
            overdue.body
        );
        let mut before = sample("invoice_reminder");
        before["days_overdue"] = json!(0);
        before["past_due_on"] = json!(null);
        let before = render("invoice_reminder", &before).expect("renders");
        assert_eq!(before.subject, "Reminder: EMTChat invoice TG-2026-000042 is due 2026-12-15");
        assert!(before.body.starts_with("Hi Ada Lovelace,\n\nInvoice TG-2026-000042 for Analytical Engines is due on 2026-12-15: $79.00.\n\nDownload"), "{}", before.body);
    }

    #[test]
    fn templates_say_what_their_context_holds() {
        let r = render("usage_threshold", &sample("usage_threshold")).expect("renders");
        assert_eq!(r.subject, "Your EMTChat usage is at 75%");
        assert!(r.body.starts_with("Hi Ada Lovelace,\n\nYou've used 375 of your 500 queries this period on the Starter plan"), "{}", r.body);
        assert!(
            r.body
                .contains("(75% of your limit) for Analytical Engines.\n"),
            "{}",
            r.body
        );
        assert!(r.body.contains("http://127.0.0.1:3000/pricing"));
        let mut personal = sample("usage_threshold");
        personal["account"] = json!({"name": "Ada Lovelace", "kind": "personal"});
        assert!(render("usage_threshold", &personal)
            .expect("renders")
            .body
            .contains("(75% of your limit).\n"));
        let r = render("invitation", &sample("invitation")).expect("renders");
        assert_eq!(
            r.subject,
            "Ada Lovelace invited you to join Analytical Engines"
        );
        assert!(
            r.body.contains(
                "as member.\n\nAccept the invitation: http://127.0.0.1:3000/invite/abc123\n"
            ),
            "{}",
            r.body
        );
        let r = render("password_reset", &sample("password_reset")).expect("renders");
        assert_eq!(r.subject, "Reset your password");
        assert!(r.body.contains("expires in 60 minutes"), "{}", r.body);
    }

    #[test]
    fn json_numbers_render_as_written() {
        let context = json!({"a": 60, "b": -2, "c": 0.5, "d": [1, "x", null, true]});
        let got = Environment::new().render_str(
            "{{ a }} {{ b }} {{ c }} {{ d[0] }}{{ d[1] }}{{ d[2] }}{{ d[3] }}",
            value(&context),
        );
        assert_eq!(got.expect("renders"), "60 -2 0.5 1xNoneTrue");
    }

    #[test]
    fn a_missing_variable_is_an_error() {
        for (name, _) in TEMPLATES {
            let mut context = sample(name);
            let first = context
                .as_object()
                .and_then(|o| o.keys().next().cloned())
                .expect("non-empty sample");
            context.as_object_mut().expect("object").remove(&first);
            match render(name, &context) {
                Err(RenderError::Template { template, message }) => {
                    assert_eq!(template, *name);
                    assert!(message.contains("undefined"), "{message}");
                }
                other => panic!("{name} without `{first}` rendered: {other:?}"),
            }
        }
        let nested = json!({"inviter": {}, "organization": {"name": "A", "slug": "a"}, "role": "member", "link": "l", "expires_at": "x"});
        assert!(matches!(
            render("invitation", &nested),
            Err(RenderError::Template { .. })
        ));
    }

    #[test]
    fn unknown_templates_and_bad_shapes_are_refused() {
        assert_eq!(
            render("nope", &json!({})),
            Err(RenderError::Unknown("nope".into()))
        );
        assert_eq!(
            split("x", "Hello\n\nbody"),
            Err(RenderError::Format("x".into()))
        );
        assert_eq!(
            split("x", "Subject: Hi\nbody"),
            Err(RenderError::Format("x".into()))
        );
        assert_eq!(
            split("x", "Subject:  \n\nbody"),
            Err(RenderError::Format("x".into()))
        );
        assert_eq!(
            split("x", "Subject: Hi\r\n\r\nbody\r\n\r\n"),
            Ok(Rendered {
                subject: "Hi".into(),
                body: "body\n".into()
            })
        );
    }
}
