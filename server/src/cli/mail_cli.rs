//! `tollgate mail list`: the outbox as text a developer reads.

use tollgate::service::mail::Listed;

/// One message: a header line (time, status, attempts, template, recipient), the
/// last error if any, then the rendered subject and body, and a separator.
pub fn format(m: &Listed) -> String {
    let r = &m.row;
    let mut out = format!(
        "── {} · {} · attempts {} · {} · to {}\n",
        r.created_at.format("%Y-%m-%d %H:%M:%S UTC"),
        r.status,
        r.attempts,
        r.template,
        r.to_address
    );
    if let Some(error) = &r.last_error {
        out.push_str(&format!("last error: {error}\n"));
    }
    match &m.rendered {
        Ok(rendered) => out.push_str(&format!(
            "Subject: {}\n\n{}",
            rendered.subject, rendered.body
        )),
        Err(e) => out.push_str(&format!("(cannot be rendered: {e})\n")),
    }
    out.push('\n');
    out
}
