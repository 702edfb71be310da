//! Where everything on an invoice goes: turns an [`InvoiceDocument`] into pages of
//! positioned text, boxes and rules ([`Page`]), which [`super::paint`] then draws.
//!
//! Units are PostScript points (1/72 in), origin at the top left of an A4 page,
//! y growing downwards. The first page carries the header (title, status badge,
//! number, dates) and the issuer and bill-to blocks; the line table follows and
//! continues on further pages, each headed by the invoice's title and number and
//! the table's column heads again; then the totals (right-aligned, the last one
//! bold) and the notes, kept at the foot of the last page when they fit under the
//! totals. With several pages each gets "Page i of N". Every text is wrapped or
//! truncated with "…" to the width it was given, so nothing overlaps.

use super::typeface::{Faces, Weight};
use super::{DocumentLine, InvoiceDocument, Party};

/// A4 width in points (210 mm).
pub(super) const PAGE_WIDTH: f32 = 595.28;
/// A4 height in points (297 mm).
pub(super) const PAGE_HEIGHT: f32 = 841.89;
/// Left and right margin.
const MARGIN_X: f32 = 50.0;
/// Top margin.
const MARGIN_TOP: f32 = 50.0;
/// Content stops this far above the bottom edge; the page number sits below.
const MARGIN_BOTTOM: f32 = 56.0;
/// Baseline of the page number, measured from the bottom edge.
const FOOTER_BASELINE: f32 = 30.0;
/// Width of the dates column (and left edge of the bill-to block) on the right.
const RIGHT_COLUMN: f32 = 210.0;
/// Width of the totals block: its labels line up with the dates and the bill-to
/// block, its amounts with the table's amount column.
const TOTALS_WIDTH: f32 = RIGHT_COLUMN + CELL_PAD_X;
/// Inner padding of table cells, left and right.
const CELL_PAD_X: f32 = 6.0;
/// Inner padding of table rows, top and bottom.
const CELL_PAD_Y: f32 = 7.0;
/// Space between two table columns.
const COLUMN_GAP: f32 = 14.0;
/// At most this many lines of an item's description, and of its detail.
const MAX_DESCRIPTION_LINES: usize = 3;
const MAX_DETAIL_LINES: usize = 3;
/// At most this many lines of a party's block (name included).
const MAX_PARTY_LINES: usize = 9;
/// At most this many lines of one note.
const MAX_NOTE_LINES: usize = 8;

/// An sRGB colour.
pub(super) type Rgb = (u8, u8, u8);
/// Body text.
const INK: Rgb = (17, 24, 39);
/// Labels, details and notes.
const MUTED: Rgb = (100, 107, 120);
/// Table rules.
const RULE: Rgb = (214, 218, 224);
/// Background of the table's column heads.
const HEAD_FILL: Rgb = (241, 243, 246);

/// How a piece of text is set: size in points, face and colour.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Style {
    /// Font size.
    pub size: f32,
    /// Face.
    pub weight: Weight,
    /// Colour.
    pub color: Rgb,
}

const fn style(size: f32, weight: Weight, color: Rgb) -> Style {
    Style {
        size,
        weight,
        color,
    }
}

/// Text on one line.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Text {
    /// Left edge.
    pub x: f32,
    /// Baseline.
    pub baseline: f32,
    /// Size, face and colour.
    pub style: Style,
    /// What to print, already cut to fit.
    pub text: String,
    /// Its width, as measured.
    pub width: f32,
}

/// One mark on a page.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Item {
    /// Text.
    Text(Text),
    /// A filled rectangle, corners rounded by `radius`.
    Box {
        x: f32,
        y: f32,
        width: f32,
        height: f32,
        radius: f32,
        color: Rgb,
    },
    /// A horizontal rule from `x1` to `x2` at `y`, `thickness` thick.
    Rule {
        x1: f32,
        x2: f32,
        y: f32,
        thickness: f32,
        color: Rgb,
    },
}

/// Everything on one page, in drawing order.
#[derive(Debug, Clone, Default, PartialEq)]
pub(super) struct Page {
    /// The marks.
    pub items: Vec<Item>,
}

/// The table's column geometry: left edges and widths of the description cell
/// and right edges and widths of the three figure cells.
#[derive(Debug, Clone, Copy)]
struct Columns {
    description_x: f32,
    description_width: f32,
    quantity_right: f32,
    quantity_width: f32,
    unit_price_right: f32,
    unit_price_width: f32,
    amount_right: f32,
    amount_width: f32,
}

/// Type sizes.
const TITLE_SIZE: f32 = 22.0;
const BADGE_SIZE: f32 = 7.5;
const LABEL_SIZE: f32 = 7.5;
const BODY_SIZE: f32 = 9.5;
const DETAIL_SIZE: f32 = 8.5;
const TOTAL_SIZE: f32 = 11.0;

/// The invoice's title.
const TITLE: Style = style(TITLE_SIZE, Weight::Bold, INK);
/// The invoice number under the title.
const NUMBER: Style = style(11.0, Weight::Regular, MUTED);
/// Small bold capitals: block labels and column heads.
const LABEL: Style = style(LABEL_SIZE, Weight::Bold, MUTED);
/// Body text.
const BODY: Style = style(BODY_SIZE, Weight::Regular, INK);
/// Body-size labels (date names, totals' names).
const BODY_MUTED: Style = style(BODY_SIZE, Weight::Regular, MUTED);
/// Body-size emphasis (dates).
const BODY_BOLD: Style = style(BODY_SIZE, Weight::Bold, INK);
/// A party's name.
const PARTY_NAME: Style = style(10.5, Weight::Bold, INK);
/// Item details and notes.
const DETAIL: Style = style(DETAIL_SIZE, Weight::Regular, MUTED);
/// The amount due.
const TOTAL: Style = style(TOTAL_SIZE, Weight::Bold, INK);
/// Page numbers.
const FOOTER: Style = style(8.0, Weight::Regular, MUTED);
/// Continuation pages' heading.
const RUNNING_HEAD: Style = style(10.0, Weight::Bold, INK);
/// Continuation pages' customer name.
const RUNNING_NAME: Style = style(9.0, Weight::Regular, MUTED);

/// Lays `doc` out on as many pages as it needs.
pub(super) fn lay_out(doc: &InvoiceDocument, faces: &Faces) -> Vec<Page> {
    let mut sheet = Sheet {
        faces,
        doc,
        pages: vec![Page::default()],
        y: MARGIN_TOP,
    };
    sheet.header();
    sheet.parties();
    sheet.table();
    sheet.totals();
    sheet.notes();
    sheet.page_numbers();
    sheet.pages
}

/// The pages laid out so far and the cursor on the last one.
struct Sheet<'a> {
    faces: &'a Faces,
    doc: &'a InvoiceDocument,
    pages: Vec<Page>,
    /// Top of the free space on the last page.
    y: f32,
}

/// Left edge of the content.
const LEFT: f32 = MARGIN_X;
/// Right edge of the content.
const RIGHT: f32 = PAGE_WIDTH - MARGIN_X;
/// Lowest point content may reach.
const BOTTOM: f32 = PAGE_HEIGHT - MARGIN_BOTTOM;

impl Sheet<'_> {
    fn push(&mut self, item: Item) {
        if let Some(page) = self.pages.last_mut() {
            page.items.push(item);
        }
    }

    /// Places `text`, cut to `max_width`, with its left edge at `x`; returns the
    /// width it took.
    fn text(&mut self, x: f32, baseline: f32, style: Style, text: &str, max_width: f32) -> f32 {
        let face = self.faces.face(style.weight);
        let text = face.fit(text, style.size, max_width);
        let width = face.width(&text, style.size);
        if !text.is_empty() {
            self.push(Item::Text(Text {
                x,
                baseline,
                style,
                text,
                width,
            }));
        }
        width
    }

    /// Places `text`, cut to `max_width`, with its right edge at `right`.
    fn text_right(&mut self, right: f32, baseline: f32, style: Style, text: &str, max_width: f32) {
        let face = self.faces.face(style.weight);
        let width = face.width(&face.fit(text, style.size, max_width), style.size);
        self.text(right - width, baseline, style, text, max_width);
    }

    /// Baseline of a first line in `style` whose top is at `top`.
    fn baseline_below(&self, top: f32, style: Style) -> f32 {
        top + self.faces.face(style.weight).ascent(style.size)
    }

    /// Line advance for text of `size` points.
    fn leading(size: f32) -> f32 {
        size * 1.3
    }

    /// Starts a new page headed by the invoice's title and number (and the
    /// customer's name opposite), and puts the cursor under that heading.
    fn new_page(&mut self) {
        self.pages.push(Page::default());
        let base = self.baseline_below(MARGIN_TOP, RUNNING_HEAD);
        let heading = format!("{} {}", self.doc.title, self.doc.number);
        self.text(LEFT, base, RUNNING_HEAD, &heading, (RIGHT - LEFT) * 0.6);
        let name = self.doc.bill_to.name.as_str();
        self.text_right(RIGHT, base, RUNNING_NAME, name, (RIGHT - LEFT) * 0.35);
        let rule_y = base + 10.0;
        self.push(Item::Rule {
            x1: LEFT,
            x2: RIGHT,
            y: rule_y,
            thickness: 0.5,
            color: RULE,
        });
        self.y = rule_y + 18.0;
    }

    /// Title, status badge and number on the left; issue date, due date and
    /// period on the right.
    fn header(&mut self) {
        let doc = self.doc;
        let title_base = self.baseline_below(self.y, TITLE);
        let left_width = RIGHT - RIGHT_COLUMN - 20.0 - LEFT;
        let title_width = self.text(LEFT, title_base, TITLE, &doc.title, left_width * 0.6);
        self.badge(LEFT + title_width + 12.0, title_base, LEFT + left_width);
        let number_base = title_base + 20.0;
        self.text(LEFT, number_base, NUMBER, &doc.number, left_width);

        let mut dates: Vec<(&str, &str)> = vec![("Issued", doc.issued_on.as_str())];
        if let Some(due) = &doc.due_on {
            dates.push(("Due", due.as_str()));
        }
        if !doc.period.trim().is_empty() {
            dates.push(("Period", doc.period.as_str()));
        }
        let column_left = RIGHT - RIGHT_COLUMN;
        let label_width = 46.0;
        let mut base = self.baseline_below(self.y + 4.0, BODY);
        let mut bottom = number_base;
        for (label, value) in dates {
            self.text(column_left, base, BODY_MUTED, label, label_width - 4.0);
            self.text_right(RIGHT, base, BODY_BOLD, value, RIGHT_COLUMN - label_width);
            bottom = bottom.max(base);
            base += Self::leading(BODY_SIZE) + 2.0;
        }
        self.y = bottom + 30.0;
    }

    /// The status as a small coloured, rounded label whose left edge is at `x`,
    /// centred on the title's capitals (`title_base` is the title's baseline), cut
    /// to end before `limit`.
    fn badge(&mut self, x: f32, title_base: f32, limit: f32) {
        let status = self.doc.status.trim().to_uppercase();
        let (fill, ink) = badge_colors(&status);
        let badge = style(BADGE_SIZE, Weight::Bold, ink);
        let pad = 7.0;
        let face = self.faces.face(Weight::Bold);
        let text = face.fit(&status, BADGE_SIZE, limit - x - 2.0 * pad);
        if text.is_empty() {
            return;
        }
        let width = face.width(&text, BADGE_SIZE) + 2.0 * pad;
        let height = 16.0;
        // Capitals are about 0.72 em tall: the badge is centred on the title's,
        // and the badge's own capitals are centred in it.
        let centre = title_base - TITLE_SIZE * 0.36;
        self.push(Item::Box {
            x,
            y: centre - height / 2.0,
            width,
            height,
            radius: 4.0,
            color: fill,
        });
        self.text(x + pad, centre + BADGE_SIZE * 0.36, badge, &text, width);
    }

    /// "From" (the issuer) on the left and "Bill to" (the customer) on the right.
    fn parties(&mut self) {
        let doc = self.doc;
        let top = self.y;
        let left_width = RIGHT - RIGHT_COLUMN - 20.0 - LEFT;
        let from_bottom = self.party(LEFT, top, left_width, "FROM", &doc.issuer);
        let to_bottom = self.party(
            RIGHT - RIGHT_COLUMN,
            top,
            RIGHT_COLUMN,
            "BILL TO",
            &doc.bill_to,
        );
        self.y = from_bottom.max(to_bottom) + 28.0;
    }

    /// One party's block at `x`, `width` wide, under `label`: the name (at most
    /// two lines) and the address lines (each wrapped to at most two), at most
    /// [`MAX_PARTY_LINES`] in all. Returns the lowest baseline.
    fn party(&mut self, x: f32, top: f32, width: f32, label: &str, party: &Party) -> f32 {
        let mut base = self.baseline_below(top, LABEL);
        self.text(x, base, LABEL, label, width);
        base += 15.0;
        let name_face = self.faces.face(PARTY_NAME.weight);
        let line_face = self.faces.face(BODY.weight);
        let mut lines: Vec<(Style, String)> = name_face
            .wrap(&party.name, PARTY_NAME.size, width, 2)
            .into_iter()
            .map(|l| (PARTY_NAME, l))
            .collect();
        for line in &party.lines {
            lines.extend(
                line_face
                    .wrap(line, BODY.size, width, 2)
                    .into_iter()
                    .map(|l| (BODY, l)),
            );
        }
        if lines.len() > MAX_PARTY_LINES {
            lines.truncate(MAX_PARTY_LINES);
            if let Some((style, last)) = lines.last_mut() {
                *last = self.faces.face(style.weight).fit(
                    &format!("{last} {}", super::typeface::ELLIPSIS),
                    style.size,
                    width,
                );
            }
        }
        let mut last = base;
        for (style, line) in lines {
            self.text(x, base, style, &line, width);
            last = base;
            base += Self::leading(BODY_SIZE);
        }
        last
    }

    /// Splits the content width between the four columns: the figure columns get
    /// what their widest entry needs (within bounds), the description the rest.
    fn columns(&self) -> Columns {
        let regular = self.faces.face(BODY.weight);
        let bold = self.faces.face(LABEL.weight);
        let inner = RIGHT - LEFT - 2.0 * CELL_PAD_X;
        let need = |head: &str, cell: fn(&DocumentLine) -> &str, min: f32, max: f32| {
            let widest = self
                .doc
                .lines
                .iter()
                .map(|l| regular.width(cell(l), BODY.size))
                .fold(0.0_f32, f32::max);
            widest.max(bold.width(head, LABEL.size)).clamp(min, max)
        };
        let quantity_width = need("QTY", |l| l.quantity.as_str(), 36.0, inner * 0.14);
        let unit_price_width = need("UNIT PRICE", |l| l.unit_price.as_str(), 64.0, inner * 0.2);
        let amount_width = need("AMOUNT", |l| l.amount.as_str(), 64.0, inner * 0.2);
        let amount_right = RIGHT - CELL_PAD_X;
        let unit_price_right = amount_right - amount_width - COLUMN_GAP;
        let quantity_right = unit_price_right - unit_price_width - COLUMN_GAP;
        let description_x = LEFT + CELL_PAD_X;
        Columns {
            description_x,
            description_width: quantity_right - quantity_width - COLUMN_GAP - description_x,
            quantity_right,
            quantity_width,
            unit_price_right,
            unit_price_width,
            amount_right,
            amount_width,
        }
    }

    /// The column heads on a light band.
    fn table_head(&mut self, c: &Columns) {
        let height = 20.0;
        self.push(Item::Box {
            x: LEFT,
            y: self.y,
            width: RIGHT - LEFT,
            height,
            radius: 0.0,
            color: HEAD_FILL,
        });
        let base = self.y + height / 2.0 + LABEL_SIZE * 0.36;
        self.text(
            c.description_x,
            base,
            LABEL,
            "DESCRIPTION",
            c.description_width,
        );
        self.text_right(c.quantity_right, base, LABEL, "QTY", c.quantity_width);
        self.text_right(
            c.unit_price_right,
            base,
            LABEL,
            "UNIT PRICE",
            c.unit_price_width,
        );
        self.text_right(c.amount_right, base, LABEL, "AMOUNT", c.amount_width);
        self.y += height;
    }

    /// The line table, one row per line, continued on new pages (with the column
    /// heads again) as needed; a row is never split.
    fn table(&mut self) {
        let columns = self.columns();
        self.table_head(&columns);
        if self.doc.lines.is_empty() {
            let base = self.baseline_below(self.y + CELL_PAD_Y, BODY);
            self.text(
                columns.description_x,
                base,
                BODY_MUTED,
                "No line items.",
                columns.description_width,
            );
            self.y = base + CELL_PAD_Y;
            return;
        }
        let doc = self.doc;
        let last = doc.lines.len() - 1;
        for (i, line) in doc.lines.iter().enumerate() {
            let row = self.row(line, &columns);
            // The last row goes over with the totals rather than leave them alone.
            let keep_with = if i == last { self.totals_height() } else { 0.0 };
            if self.y + row.height + keep_with > BOTTOM {
                self.new_page();
                self.table_head(&columns);
            }
            self.place_row(line, &row, &columns);
        }
    }

    /// One line's cells, wrapped, and the height they need.
    fn row(&self, line: &DocumentLine, columns: &Columns) -> Row {
        let face = self.faces.face(Weight::Regular);
        let width = columns.description_width;
        let description = face.wrap(&line.description, BODY.size, width, MAX_DESCRIPTION_LINES);
        let detail = line
            .detail
            .as_deref()
            .map(|d| face.wrap(d, DETAIL.size, width, MAX_DETAIL_LINES))
            .unwrap_or_default();
        // A row keeps one line of height even when its description is blank.
        let text_height = description.len().max(1) as f32 * Self::leading(BODY_SIZE)
            + detail.len() as f32 * Self::leading(DETAIL_SIZE);
        Row {
            description,
            detail,
            height: 2.0 * CELL_PAD_Y + text_height,
        }
    }

    /// Draws `row` for `line` at the cursor, and a rule under it.
    fn place_row(&mut self, line: &DocumentLine, row: &Row, c: &Columns) {
        let first = self.baseline_below(self.y + CELL_PAD_Y, BODY);
        let mut base = first;
        for text in &row.description {
            self.text(c.description_x, base, BODY, text, c.description_width);
            base += Self::leading(BODY_SIZE);
        }
        base = base.max(first + Self::leading(BODY_SIZE));
        for text in &row.detail {
            self.text(
                c.description_x,
                base - 1.0,
                DETAIL,
                text,
                c.description_width,
            );
            base += Self::leading(DETAIL_SIZE);
        }
        self.text_right(
            c.quantity_right,
            first,
            BODY,
            &line.quantity,
            c.quantity_width,
        );
        self.text_right(
            c.unit_price_right,
            first,
            BODY,
            &line.unit_price,
            c.unit_price_width,
        );
        self.text_right(c.amount_right, first, BODY, &line.amount, c.amount_width);
        self.y += row.height;
        self.push(Item::Rule {
            x1: LEFT,
            x2: RIGHT,
            y: self.y,
            thickness: 0.5,
            color: RULE,
        });
    }

    /// The totals, right-aligned under the table; the last (the amount due) bold
    /// under a rule. Moves to a new page when they do not fit.
    fn totals(&mut self) {
        let doc = self.doc;
        let Some(((last_label, last_amount), others)) = doc.totals.split_last() else {
            return;
        };
        let step = Self::leading(BODY_SIZE) + 3.0;
        if self.y + self.totals_height() > BOTTOM {
            self.new_page();
        }
        let left = RIGHT - TOTALS_WIDTH;
        let mut top = self.y + 14.0;
        for (label, amount) in others {
            let base = self.baseline_below(top, BODY);
            self.total_row(left, base, BODY_MUTED, BODY, label, amount);
            top += step;
        }
        top += 4.0;
        self.push(Item::Rule {
            x1: left,
            x2: RIGHT,
            y: top,
            thickness: 1.0,
            color: INK,
        });
        top += 7.0;
        let base = self.baseline_below(top, TOTAL);
        self.total_row(left, base, TOTAL, TOTAL, last_label, last_amount);
        self.y = base + self.faces.face(TOTAL.weight).descent(TOTAL_SIZE);
    }

    /// Height of the totals block (nothing without totals).
    fn totals_height(&self) -> f32 {
        match self.doc.totals.len() {
            0 => 0.0,
            n => {
                14.0 + (n - 1) as f32 * (Self::leading(BODY_SIZE) + 3.0)
                    + 11.0
                    + Self::leading(TOTAL_SIZE)
            }
        }
    }

    /// One totals row in the block starting at `left`: the label on the left,
    /// the amount right-aligned (it gets the room it needs, up to 60 %).
    fn total_row(
        &mut self,
        left: f32,
        base: f32,
        label_style: Style,
        amount_style: Style,
        label: &str,
        amount: &str,
    ) {
        let face = self.faces.face(amount_style.weight);
        let max_amount = TOTALS_WIDTH * 0.6;
        let amount_width = face.width(
            &face.fit(amount, amount_style.size, max_amount),
            amount_style.size,
        );
        self.text_right(RIGHT - CELL_PAD_X, base, amount_style, amount, max_amount);
        let label_width = TOTALS_WIDTH - amount_width - 2.0 * CELL_PAD_X - 12.0;
        self.text(left + CELL_PAD_X, base, label_style, label, label_width);
    }

    /// The notes, full width in small grey type under a rule: at the foot of the
    /// last page when they fit under the totals, else from the top of a new page
    /// (continuing on further pages when they are very long).
    fn notes(&mut self) {
        let face = self.faces.face(DETAIL.weight);
        let width = RIGHT - LEFT;
        let paragraphs: Vec<Vec<String>> = self
            .doc
            .notes
            .iter()
            .map(|note| face.wrap(note, DETAIL.size, width, MAX_NOTE_LINES))
            .filter(|lines| !lines.is_empty())
            .collect();
        if paragraphs.is_empty() {
            return;
        }
        let leading = Self::leading(DETAIL_SIZE);
        let paragraph_gap = 4.0;
        let lines: usize = paragraphs.iter().map(Vec::len).sum();
        let height = 12.0 + lines as f32 * leading + (paragraphs.len() - 1) as f32 * paragraph_gap;
        let gap = 28.0;
        if self.y + gap + height > BOTTOM {
            self.new_page();
        } else {
            self.y = (BOTTOM - height).max(self.y + gap);
        }
        self.push(Item::Rule {
            x1: LEFT,
            x2: RIGHT,
            y: self.y,
            thickness: 0.5,
            color: RULE,
        });
        let mut top = self.y + 12.0;
        for (i, paragraph) in paragraphs.iter().enumerate() {
            if i > 0 {
                top += paragraph_gap;
            }
            for line in paragraph {
                if top + leading > BOTTOM {
                    self.new_page();
                    top = self.y;
                }
                let base = self.baseline_below(top, DETAIL);
                self.text(LEFT, base, DETAIL, line, width);
                top += leading;
            }
        }
        self.y = top;
    }

    /// "Page i of N" at the foot of every page, with the invoice number opposite,
    /// when there are several pages.
    fn page_numbers(&mut self) {
        let count = self.pages.len();
        if count < 2 {
            return;
        }
        let base = PAGE_HEIGHT - FOOTER_BASELINE;
        let face = self.faces.face(FOOTER.weight);
        let number = face.fit(&self.doc.number, FOOTER.size, (RIGHT - LEFT) / 2.0);
        let number_width = face.width(&number, FOOTER.size);
        for (i, page) in self.pages.iter_mut().enumerate() {
            let label = format!("Page {} of {count}", i + 1);
            let width = face.width(&label, FOOTER.size);
            page.items.push(Item::Text(Text {
                x: RIGHT - width,
                baseline: base,
                style: FOOTER,
                text: label,
                width,
            }));
            page.items.push(Item::Text(Text {
                x: LEFT,
                baseline: base,
                style: FOOTER,
                text: number.clone(),
                width: number_width,
            }));
        }
    }
}

/// A table row ready to place: the description's and detail's lines, wrapped to
/// the column, and the row's height.
struct Row {
    description: Vec<String>,
    detail: Vec<String>,
    height: f32,
}

/// Background and text colour of the status badge: green for paid, red for
/// overdue, uncollectible or failed, grey for void or draft, blue otherwise
/// (open). Whole words only, so "Unpaid" is not green.
fn badge_colors(status: &str) -> (Rgb, Rgb) {
    let status = status.to_lowercase();
    let has = |word: &str| {
        status
            .split(|c: char| !c.is_alphanumeric())
            .any(|w| w == word)
    };
    if has("paid") {
        ((220, 244, 228), (22, 101, 52))
    } else if has("overdue") || has("uncollectible") || has("failed") || has("unpaid") {
        ((253, 226, 226), (155, 28, 28))
    } else if has("void") || has("draft") {
        ((234, 236, 240), (75, 85, 99))
    } else {
        ((222, 233, 252), (30, 64, 175))
    }
}
