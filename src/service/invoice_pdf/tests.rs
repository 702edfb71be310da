//! Tests of the invoice PDF: its structure and page count (`pdfinfo`), that its
//! pages are not blank when rasterised (`pdftoppm`), that its text is real text
//! (`pdftotext`), and that the layout never lets two texts overlap.
//!
//! The poppler tools come from Debian's poppler-utils, which `scripts/test.sh`
//! installs (`tg_ensure_poppler`); a test fails, never skips, without them.

use super::layout::{self, Item, PAGE_HEIGHT, PAGE_WIDTH};
use super::typeface;
use super::*;
use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::Command;

const TOTAL_DUE: &str = "€ 1,234.56";

fn party(name: &str, lines: &[&str]) -> Party {
    Party {
        name: name.into(),
        lines: lines.iter().map(|l| l.to_string()).collect(),
    }
}

/// Line `i` (from 1): "Line item 007 …" with a detail on every other line.
fn line(i: usize) -> DocumentLine {
    DocumentLine {
        description: format!("Line item {i:03} — API calls over the included 10,000"),
        detail: i
            .is_multiple_of(2)
            .then(|| format!("1 May – 31 May 2026 · meter api_calls · batch {i}")),
        quantity: format!("{}", 1_000 + i),
        unit_price: "€ 0.0020".into(),
        amount: format!("€ {}.{:02}", 2 + i / 50, i % 100),
    }
}

/// An invoice with `lines` lines, accented names and a Unicode minus.
fn sample(lines: usize) -> InvoiceDocument {
    InvoiceDocument {
        title: "Invoice".into(),
        number: "TG-2026-000001".into(),
        status: "Open".into(),
        issued_on: "3 June 2026".into(),
        due_on: Some("17 June 2026".into()),
        period: "1 May – 31 May 2026".into(),
        issuer: party("Tollgate Ltd", &["12 Quay Street", "Dublin D02 XY12", "Ireland", "VAT IE1234567T"]),
        bill_to: party("Zoë Ærøskøbing GmbH", &["Attn: François Müller", "Königstraße 5", "70173 Stuttgart", "Germany"]),
        lines: (1..=lines).map(line).collect(),
        totals: vec![
            ("Subtotal".into(), "€ 1,139.56".into()),
            ("Discount (WELCOME10)".into(), "−€ 5.00".into()),
            ("VAT 19 %".into(), "€ 100.00".into()),
            ("Amount due".into(), TOTAL_DUE.into()),
        ],
        notes: vec![
            "Pay by bank transfer to IBAN DE89 3704 0044 0532 0130 00 (BIC COBADEFFXXX), quoting TG-2026-000001.".into(),
            "Pay online: https://billing.example.com/invoices/TG-2026-000001/pay".into(),
            "Thank you for your business.".into(),
        ],
    }
}

/// An invoice built to break a careless layout: very long descriptions, details,
/// unbroken words, party lines, labels and notes.
fn unruly() -> InvoiceDocument {
    let mut doc = sample(40);
    doc.status = "Uncollectible after several failed attempts".into();
    doc.title = "Draft invoice with an unusually long title".into();
    doc.number = "TG-2026-000001-SUPPLEMENTARY-CORRECTION-NOTICE-FOR-THE-MAY-PERIOD".into();
    let long = "Enterprise plan with dedicated support, single sign-on, audit log export and a 99.95 % uptime commitment ".repeat(4);
    let word = "x".repeat(300);
    for (i, line) in doc.lines.iter_mut().enumerate() {
        match i % 3 {
            0 => line.description = long.clone(),
            1 => line.description = word.clone(),
            _ => line.detail = Some(long.clone()),
        }
        if i.is_multiple_of(5) {
            line.amount = "€ 123,456,789,012,345.67".into();
            line.quantity = "1,000,000,000,000".into();
        }
    }
    doc.issuer.lines = (0..20)
        .map(|i| format!("Address line {i} {}", long))
        .collect();
    doc.bill_to.name = long.clone();
    doc.totals
        .insert(0, (long.clone(), "€ 99,999,999,999,999,999.99".into()));
    doc.notes = vec![
        long.repeat(3),
        format!("https://billing.example.com/{}", "a".repeat(500)),
        String::new(),
    ];
    doc
}

/// A scratch directory for one test, removed afterwards.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Scratch {
        let dir = std::env::temp_dir().join(format!(
            "tollgate-invoice-pdf-{}-{name}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("create scratch directory");
        Scratch(dir)
    }

    /// Renders `doc` into `invoice.pdf` here.
    fn pdf(&self, doc: &InvoiceDocument) -> PathBuf {
        let path = self.0.join("invoice.pdf");
        std::fs::write(&path, render(doc).expect("render")).expect("write PDF");
        path
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Runs a poppler-utils tool and returns its standard output. Panics when the
/// tool is missing: these tests must not pass without looking at the PDF.
fn poppler<I, S>(tool: &str, args: I) -> Vec<u8>
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let output = match Command::new(tool).args(args).output() {
        Ok(output) => output,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => panic!(
            "`{tool}` is not installed: the invoice PDF tests need Debian's poppler-utils, \
             which scripts/test.sh installs (tg_ensure_poppler in scripts/lib/common.sh); \
             or run `apt-get install poppler-utils`"
        ),
        Err(e) => panic!("could not run `{tool}`: {e}"),
    };
    assert!(
        output.status.success(),
        "`{tool}` failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    output.stdout
}

/// The page count `pdfinfo` reads.
fn page_count(pdf: &Path) -> usize {
    let info = String::from_utf8(poppler("pdfinfo", [pdf])).expect("pdfinfo prints UTF-8");
    let pages = info
        .lines()
        .find_map(|l| l.strip_prefix("Pages:"))
        .expect("pdfinfo prints Pages:");
    pages.trim().parse().expect("a page count")
}

/// The text of page `page` (from 1), or of every page, as `pdftotext` reads it.
fn text_of(pdf: &Path, page: Option<usize>) -> String {
    let mut args: Vec<String> = vec!["-enc".into(), "UTF-8".into()];
    if let Some(page) = page {
        args.extend(["-f".into(), page.to_string(), "-l".into(), page.to_string()]);
    }
    args.extend([pdf.display().to_string(), "-".into()]);
    String::from_utf8(poppler("pdftotext", &args)).expect("pdftotext prints UTF-8")
}

/// A binary greymap (`P5`, as `pdftoppm -gray` writes): width, height and one
/// byte per pixel (maxval 255).
fn read_pgm(path: &Path) -> (usize, usize, Vec<u8>) {
    let data = std::fs::read(path).expect("read PGM");
    // The header is four whitespace-separated tokens (magic, width, height,
    // maxval), possibly with `#` comments, followed by one whitespace byte.
    let mut tokens = Vec::new();
    let mut i = 0;
    while tokens.len() < 4 {
        while i < data.len() && (data[i].is_ascii_whitespace() || data[i] == b'#') {
            if data[i] == b'#' {
                while i < data.len() && data[i] != b'\n' {
                    i += 1;
                }
            } else {
                i += 1;
            }
        }
        let start = i;
        while i < data.len() && !data[i].is_ascii_whitespace() {
            i += 1;
        }
        assert!(i > start, "truncated PGM header in {}", path.display());
        tokens.push(
            std::str::from_utf8(&data[start..i])
                .expect("ASCII header")
                .to_string(),
        );
    }
    assert_eq!(tokens[0], "P5", "not a binary greymap: {}", path.display());
    let width: usize = tokens[1].parse().expect("width");
    let height: usize = tokens[2].parse().expect("height");
    assert_eq!(tokens[3], "255", "8-bit greymap expected");
    let pixels = data[i + 1..].to_vec();
    assert_eq!(
        pixels.len(),
        width * height,
        "pixel data of {}",
        path.display()
    );
    (width, height, pixels)
}

#[test]
fn three_lines_make_one_pdf_page_without_page_numbers() {
    let scratch = Scratch::new("three");
    let pdf = scratch.pdf(&sample(3));
    let bytes = std::fs::read(&pdf).expect("read PDF");
    assert!(
        bytes.starts_with(b"%PDF-"),
        "not a PDF: {:?}",
        &bytes[..8.min(bytes.len())]
    );
    assert_eq!(page_count(&pdf), 1);
    let text = text_of(&pdf, None);
    assert!(
        !text.contains("Page 1 of"),
        "a single page has no page number:\n{text}"
    );
}

#[test]
fn one_hundred_twenty_lines_continue_over_numbered_pages_losing_none() {
    let scratch = Scratch::new("many");
    let doc = sample(120);
    let pdf = scratch.pdf(&doc);
    let pages = page_count(&pdf);
    assert!(pages >= 3, "120 lines fit on {pages} pages?");
    let faces = typeface::faces().expect("fonts");
    assert_eq!(
        pages,
        layout::lay_out(&doc, faces).len(),
        "the PDF has the pages layout planned"
    );

    let mut all = String::new();
    for page in 1..=pages {
        let text = text_of(&pdf, Some(page));
        assert!(
            text.contains(&format!("Page {page} of {pages}")),
            "page {page}:\n{text}"
        );
        assert!(
            text.contains("TG-2026-000001"),
            "page {page} names the invoice:\n{text}"
        );
        if text.contains("Line item") {
            assert!(
                text.contains("DESCRIPTION"),
                "page {page} repeats the column heads:\n{text}"
            );
        }
        all.push_str(&text);
    }
    for i in 1..=120 {
        let description = format!("Line item {i:03}");
        assert_eq!(
            all.matches(&description).count(),
            1,
            "{description} printed once"
        );
    }
    let last = text_of(&pdf, Some(pages));
    assert!(
        last.contains(TOTAL_DUE),
        "the amount due is on the last page:\n{last}"
    );
    assert!(
        last.contains("Thank you for your business."),
        "the notes end the invoice:\n{last}"
    );
    assert!(
        !text_of(&pdf, Some(1)).contains(TOTAL_DUE),
        "no totals before the table ends"
    );
}

#[test]
fn pdftoppm_renders_every_page_with_ink_on_paper() {
    let scratch = Scratch::new("raster");
    for (name, doc) in [("one", sample(3)), ("several", sample(120))] {
        let pdf = scratch.pdf(&doc);
        let prefix = scratch.0.join(name);
        poppler(
            "pdftoppm",
            [
                OsStr::new("-r"),
                OsStr::new("40"),
                OsStr::new("-gray"),
                pdf.as_os_str(),
                prefix.as_os_str(),
            ],
        );
        let mut pages: Vec<PathBuf> = std::fs::read_dir(&scratch.0)
            .expect("list scratch directory")
            .map(|e| e.expect("directory entry").path())
            .filter(|p| {
                let file = p.file_name().and_then(OsStr::to_str).unwrap_or_default();
                file.starts_with(&format!("{name}-")) && file.ends_with(".pgm")
            })
            .collect();
        pages.sort();
        assert_eq!(pages.len(), page_count(&pdf), "{name}: one image per page");
        for page in &pages {
            let (width, height, pixels) = read_pgm(page);
            // A4 at 40 dpi is 331 × 468 pixels.
            assert!(
                (325..=337).contains(&width) && (462..=474).contains(&height),
                "{width}×{height}"
            );
            // At 40 dpi body text is thinner than a pixel and prints grey, so
            // "ink" is anything clearly darker than paper; solid black (the
            // title, the amount due, bold figures) must show up too.
            let share = |f: fn(u8) -> bool| {
                pixels.iter().filter(|&&p| f(p)).count() as f64 / pixels.len() as f64
            };
            let ink = share(|p| p < 192);
            let dark = share(|p| p < 128);
            let paper = share(|p| p >= 230);
            assert!(
                ink > 0.005,
                "{}: only {:.2} % ink: blank?",
                page.display(),
                ink * 100.0
            );
            assert!(
                dark > 0.001,
                "{}: only {:.2} % dark pixels: no solid text?",
                page.display(),
                dark * 100.0
            );
            assert!(
                ink < 0.3,
                "{}: {:.1} % ink: not paper",
                page.display(),
                ink * 100.0
            );
            assert!(
                paper > 0.6,
                "{}: only {:.1} % white paper",
                page.display(),
                paper * 100.0
            );
        }
    }
}

#[test]
fn pdftotext_reads_the_number_lines_totals_and_accented_names() {
    let scratch = Scratch::new("text");
    let pdf = scratch.pdf(&sample(3));
    let text = text_of(&pdf, None);
    for expected in [
        "Invoice",
        "TG-2026-000001",
        "OPEN",
        "Line item 002 — API calls over the included 10,000",
        "1 May – 31 May 2026 · meter api_calls · batch 2",
        TOTAL_DUE,
        "−€ 5.00",
        "Zoë Ærøskøbing GmbH",
        "Attn: François Müller",
        "Königstraße 5",
        "Tollgate Ltd",
        "17 June 2026",
        "https://billing.example.com/invoices/TG-2026-000001/pay",
    ] {
        assert!(
            text.contains(expected),
            "pdftotext lacks {expected:?}:\n{text}"
        );
    }
}

#[test]
fn the_same_invoice_always_gives_the_same_bytes() {
    let doc = sample(30);
    assert_eq!(render(&doc).expect("render"), render(&doc).expect("render"));
    let mut other = doc.clone();
    other.lines[0].amount = "€ 9.99".into();
    assert_ne!(
        render(&doc).expect("render"),
        render(&other).expect("render")
    );
}

#[test]
fn nothing_overlaps_or_leaves_the_page_however_long_the_texts() {
    let faces = typeface::faces().expect("fonts");
    for doc in [sample(3), sample(120), unruly()] {
        let pages = layout::lay_out(&doc, faces);
        for (p, page) in pages.iter().enumerate() {
            // Each text's box: its measured width, from ascender to descender.
            let boxes: Vec<(f32, f32, f32, f32, &str)> = page
                .items
                .iter()
                .filter_map(|item| match item {
                    Item::Text(t) => {
                        let face = faces.face(t.style.weight);
                        let top = t.baseline - face.ascent(t.style.size);
                        let bottom = t.baseline + face.descent(t.style.size);
                        Some((t.x, t.x + t.width, top, bottom, t.text.as_str()))
                    }
                    _ => None,
                })
                .collect();
            for &(left, right, top, bottom, text) in &boxes {
                assert!(
                    left >= 49.9 && right <= PAGE_WIDTH - 49.9,
                    "page {p}: {text:?} leaves the margins"
                );
                assert!(
                    top >= 49.9 && bottom <= PAGE_HEIGHT - 20.0,
                    "page {p}: {text:?} leaves the page"
                );
            }
            for (i, a) in boxes.iter().enumerate() {
                for b in &boxes[i + 1..] {
                    let apart = a.1 <= b.0 + 0.01
                        || b.1 <= a.0 + 0.01
                        || a.3 <= b.2 + 0.01
                        || b.3 <= a.2 + 0.01;
                    assert!(apart, "page {p}: {:?} overlaps {:?}", a.4, b.4);
                }
            }
            for item in &page.items {
                if let Item::Rule { x1, x2, y, .. } = item {
                    for &(left, right, top, bottom, text) in &boxes {
                        let crosses = left < *x2 && right > *x1 && top < *y && bottom > *y;
                        assert!(!crosses, "page {p}: the rule at {y} crosses {text:?}");
                    }
                }
            }
        }
    }
}

#[test]
fn long_descriptions_wrap_to_three_lines_ending_in_an_ellipsis() {
    let faces = typeface::faces().expect("fonts");
    let doc = unruly();
    let pages = layout::lay_out(&doc, faces);
    let texts: Vec<&str> = pages
        .iter()
        .flat_map(|p| &p.items)
        .filter_map(|i| match i {
            Item::Text(t) => Some(t.text.as_str()),
            _ => None,
        })
        .collect();
    let enterprise = texts
        .iter()
        .filter(|t| t.starts_with("Enterprise plan"))
        .count();
    assert!(
        enterprise >= 14,
        "each long description starts a row: {enterprise}"
    );
    assert!(
        texts.iter().any(|t| t.ends_with(typeface::ELLIPSIS)),
        "truncated text ends with …"
    );
    // 300 x's at body size need several lines; a row keeps three, the last cut.
    let xs: Vec<&&str> = texts.iter().filter(|t| t.starts_with("xxxx")).collect();
    assert_eq!(
        xs.len(),
        3 * doc
            .lines
            .iter()
            .filter(|l| l.description.starts_with("xxxx"))
            .count()
    );
    assert!(
        xs.iter()
            .filter(|t| t.ends_with(typeface::ELLIPSIS))
            .count()
            * 3
            == xs.len()
    );
}
