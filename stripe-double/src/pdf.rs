//! A minimal, valid one-page PDF (PDF 1.4, Helvetica text lines) for `invoice_pdf` links.

/// A PDF document showing `lines` top to bottom. Non-ASCII characters are replaced by `?` and
/// parentheses/backslashes escaped, as PDF string literals require.
pub fn document(lines: &[String]) -> Vec<u8> {
    let mut text = String::from("BT /F1 12 Tf 50 780 Td 16 TL\n");
    for line in lines {
        let safe: String = line
            .chars()
            .map(|c| {
                if c.is_ascii() && !c.is_ascii_control() {
                    c
                } else {
                    '?'
                }
            })
            .collect::<String>()
            .replace('\\', "\\\\")
            .replace('(', "\\(")
            .replace(')', "\\)");
        text.push_str(&format!("({safe}) Tj T*\n"));
    }
    text.push_str("ET");
    let objects = [
        "<< /Type /Catalog /Pages 2 0 R >>".to_owned(),
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_owned(),
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 842] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>".to_owned(),
        format!("<< /Length {} >>\nstream\n{text}\nendstream", text.len()),
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>".to_owned(),
    ];
    let mut out = String::from("%PDF-1.4\n");
    let mut offsets = Vec::new();
    for (i, object) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.push_str(&format!("{} 0 obj\n{object}\nendobj\n", i + 1));
    }
    let xref = out.len();
    out.push_str(&format!(
        "xref\n0 {}\n0000000000 65535 f \n",
        objects.len() + 1
    ));
    for offset in offsets {
        out.push_str(&format!("{offset:010} 00000 n \n"));
    }
    out.push_str(&format!(
        "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
        objects.len() + 1
    ));
    out.into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xref_offsets_point_at_objects() {
        let pdf = String::from_utf8(document(&["Invoice (1)".into()])).unwrap();
        assert!(pdf.starts_with("%PDF-1.4"));
        assert!(pdf.contains("(Invoice \\(1\\)) Tj"));
        let start: usize = pdf
            .rsplit("startxref\n")
            .next()
            .unwrap()
            .lines()
            .next()
            .unwrap()
            .parse()
            .unwrap();
        assert!(pdf[start..].starts_with("xref"));
        let first_entry = pdf[start..].lines().nth(3).unwrap();
        let offset: usize = first_entry[..10].parse().unwrap();
        assert!(pdf[offset..].starts_with("1 0 obj"));
    }
}
