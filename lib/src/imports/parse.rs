//! Reading a CSV file against its column mapping (pure): encoding, records, every field of
//! every row checked before anything is kept, rows grouped into canonical sales. A file
//! with one bad row yields only the list of bad rows.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc};
use rust_decimal::Decimal;
use serde::Serialize;
use utoipa::ToSchema;

use super::format::{column_number, Columns, CsvFormat};
use crate::connection::PosProduct;
use crate::location::business_day::{business_date, window, DayMode};
use crate::mapping::matching::LineItemRef;
use crate::money::{self, bounds, Money, Quantity};
use crate::sales::canonical::CompactString;
use crate::sales::{CanonicalLine, CanonicalPayment, CanonicalSale, SaleKind};

/// Most data rows one file may hold.
pub const ROWS_MAX: usize = 100_000;
/// Longest field accepted (a longer one is a broken quote or not a sales export).
pub const FIELD_MAX: usize = 500;
/// Most row errors listed (all are counted).
pub const ERRORS_LISTED: usize = 100;
/// The earliest date accepted.
const FIRST_DATE: NaiveDate = match NaiveDate::from_ymd_opt(2000, 1, 1) {
    Some(d) => d,
    None => NaiveDate::MIN,
};

/// What the parser knows of a location a row may name.
#[derive(Debug, Clone)]
pub struct LocationFacts {
    pub product: PosProduct,
    pub mode: DayMode,
    pub currency: Option<String>,
    pub storage_unit_linked: bool,
}

pub struct ParseInput<'a> {
    pub format: &'a CsvFormat,
    pub locations: &'a HashMap<String, LocationFacts>,
    /// Hex SHA-256 of the file: row-based sale ids derive from it.
    pub digest: &'a str,
    pub now: DateTime<Utc>,
}

/// One refused row: where (the row as a spreadsheet numbers it, the file line it starts
/// on, the column) and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct RowError {
    pub row: u64,
    pub line: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column: Option<String>,
    pub reason: String,
}

/// Why a file as a whole cannot be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileError {
    /// Not UTF-8 (or binary).
    Encoding(String),
    /// Header missing a mapped column, or no data rows.
    Shape(String),
    TooManyRows,
    /// Bad rows: the first [`ERRORS_LISTED`], and how many in all.
    Rows {
        listed: Vec<RowError>,
        total: usize,
    },
}

/// A sale read from the file, with the location it belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportedSale {
    pub location_id: String,
    pub business_date: NaiveDate,
    pub sale: CanonicalSale,
    /// The row of its first line.
    pub first_row: u64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedFile {
    pub rows: usize,
    pub sales: Vec<ImportedSale>,
}

/// A row's values, checked.
struct Row {
    row: u64,
    location_id: String,
    closed_at: DateTime<Utc>,
    business_date: NaiveDate,
    sale_id: Option<String>,
    line_id: Option<String>,
    line: CanonicalLine,
    method: String,
}

/// Column positions of the mapped fields.
struct Positions(HashMap<&'static str, usize>);

impl Positions {
    fn of(format: &CsvFormat, header: Option<&csv::StringRecord>) -> Result<Self, FileError> {
        let mut out = HashMap::new();
        for (field, column) in format.columns.fields() {
            let position = match header {
                Some(header) => header
                    .iter()
                    .position(|h| h.trim() == column.trim())
                    .ok_or_else(|| {
                        FileError::Shape(format!(
                            "the header has no column `{column}` (mapped as `{field}`); it has: {}",
                            header.iter().map(str::trim).collect::<Vec<_>>().join(", ")
                        ))
                    })?,
                None => column_number(column).ok_or_else(|| {
                    FileError::Shape(format!("`{field}` must name a column number"))
                })?,
            };
            out.insert(field, position);
        }
        Ok(Self(out))
    }
}

/// The file as text: UTF-8 with or without a byte-order mark; anything else is refused
/// with what it looks like.
pub fn decode(bytes: &[u8]) -> Result<&str, FileError> {
    if bytes.starts_with(&[0xFF, 0xFE]) || bytes.starts_with(&[0xFE, 0xFF]) {
        return Err(FileError::Encoding(
            "the file is UTF-16; export or save it as UTF-8 CSV".into(),
        ));
    }
    let bytes = bytes.strip_prefix(&[0xEF, 0xBB, 0xBF]).unwrap_or(bytes);
    if let Some(at) = bytes.iter().position(|b| *b == 0) {
        return Err(FileError::Encoding(format!(
            "the file holds a NUL byte at offset {at}: it is binary, not CSV text"
        )));
    }
    std::str::from_utf8(bytes).map_err(|err| {
        FileError::Encoding(format!(
            "the file is not UTF-8 (invalid byte at offset {}); save it as UTF-8 CSV (Windows-1252 and Latin-1 exports must be converted)",
            err.valid_up_to()
        ))
    })
}

/// Reads and checks every row, then groups them into sales.
pub fn parse(bytes: &[u8], input: &ParseInput<'_>) -> Result<ParsedFile, FileError> {
    let text = decode(bytes)?;
    let delimiter = input
        .format
        .delimiter_byte()
        .ok_or_else(|| FileError::Shape("the mapping's delimiter is not supported".into()))?;
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut records = reader.records();
    let header = read_header(&mut records, input.format)?;
    let positions = Positions::of(input.format, header.as_ref())?;
    let first_row = if header.is_some() { 2 } else { 1 };
    let width = header.as_ref().map(csv::StringRecord::len);
    let mut checked = Checked::default();
    for (index, record) in records.enumerate() {
        if index >= ROWS_MAX {
            return Err(FileError::TooManyRows);
        }
        let row = first_row + index as u64;
        checked.add(match record {
            Ok(record) => check_record(&record, row, width, &positions, input),
            Err(err) => Err(vec![RowError {
                row,
                line: err.position().map_or(0, csv::Position::line),
                column: None,
                reason: format!("unreadable record: {err}"),
            }]),
        });
    }
    let Checked {
        rows,
        mut errors,
        mut error_count,
    } = checked;
    if error_count == 0 && rows.is_empty() {
        return Err(FileError::Shape("the file has no data rows".into()));
    }
    let count = rows.len();
    let sales = group(rows, input.digest, &mut errors, &mut error_count);
    if error_count > 0 {
        errors.truncate(ERRORS_LISTED);
        return Err(FileError::Rows {
            listed: errors,
            total: error_count,
        });
    }
    Ok(ParsedFile { rows: count, sales })
}

/// The header row, when the mapping says the file has one.
fn read_header(
    records: &mut impl Iterator<Item = csv::Result<csv::StringRecord>>,
    format: &CsvFormat,
) -> Result<Option<csv::StringRecord>, FileError> {
    if !format.header_row {
        return Ok(None);
    }
    match records.next() {
        Some(Ok(header)) => Ok(Some(header)),
        Some(Err(err)) => Err(FileError::Shape(format!("the header row: {err}"))),
        None => Err(FileError::Shape("the file is empty".into())),
    }
}

/// The rows checked so far: the good ones, the first [`ERRORS_LISTED`] problems, and how
/// many problems in all.
#[derive(Default)]
struct Checked {
    rows: Vec<Row>,
    errors: Vec<RowError>,
    error_count: usize,
}

impl Checked {
    fn add(&mut self, result: Result<Row, Vec<RowError>>) {
        match result {
            Ok(parsed) => self.rows.push(parsed),
            Err(found) => {
                self.error_count += found.len();
                let room = ERRORS_LISTED - self.errors.len().min(ERRORS_LISTED);
                self.errors.extend(found.into_iter().take(room));
            }
        }
    }
}

/// One field's problem.
fn problem(row: u64, line: u64, column: &str, reason: String) -> RowError {
    RowError {
        row,
        line,
        column: Some(column.to_string()),
        reason,
    }
}

/// Checks one record: its shape first (a broken record says nothing reliable about its
/// fields), then every field, so a bad row lists all of its problems at once.
fn check_record(
    record: &csv::StringRecord,
    row: u64,
    width: Option<usize>,
    positions: &Positions,
    input: &ParseInput<'_>,
) -> Result<Row, Vec<RowError>> {
    let mut check = RecordCheck {
        record,
        row,
        line: record.position().map_or(0, csv::Position::line),
        positions,
        input,
        errors: Vec::new(),
    };
    if let Some(error) = check.field_count(width).or_else(|| check.field_length()) {
        return Err(vec![error]);
    }
    let location = check.location();
    // Net and tax may have the currency's minor units (two places without a currency).
    let minor = location
        .and_then(|l| l.currency.as_deref())
        .map_or(2, money::minor_units);
    let amounts = check.amounts(minor);
    let item = check.item();
    let method = check.payment_method();
    // The sale time needs the location's day mode: no location, no time check.
    let closed_at =
        location.and_then(|facts| check.sale_time(facts.mode).map(|at| (at, facts.mode)));
    let (Some((closed_at, mode)), Some(amounts), true) =
        (closed_at, amounts, check.errors.is_empty())
    else {
        return Err(check.errors);
    };
    check.into_row(closed_at, mode, &amounts, item, method)
}

/// A line's amounts, each read and bounded.
struct Amounts {
    quantity: Decimal,
    net: Decimal,
    tax: Decimal,
}

/// The item's code and name as the row gives them (empty ones absent).
type ItemNames<'r> = (Option<&'r str>, Option<&'r str>);

/// One record under check: where it is, what it is read against, and its problems so far.
struct RecordCheck<'r> {
    record: &'r csv::StringRecord,
    row: u64,
    line: u64,
    positions: &'r Positions,
    input: &'r ParseInput<'r>,
    errors: Vec<RowError>,
}

impl<'r> RecordCheck<'r> {
    /// A mapped field, trimmed (absent when the mapping does not name it).
    fn field(&self, name: &'static str) -> Option<&'r str> {
        self.positions
            .0
            .get(name)
            .map(|p| self.record.get(*p).unwrap_or("").trim())
    }

    /// An optional text field: absent when unmapped or empty.
    fn text(&self, name: &'static str) -> Option<String> {
        self.field(name)
            .filter(|v| !v.is_empty())
            .map(str::to_string)
    }

    /// Notes a problem with a field, named by the column the file calls it.
    fn fail(&mut self, name: &str, reason: String) {
        let column = column_of(&self.input.format.columns, name);
        self.errors
            .push(problem(self.row, self.line, column, reason));
    }

    /// A record with another number of fields than the header.
    fn field_count(&self, width: Option<usize>) -> Option<RowError> {
        let width = width.filter(|w| *w != self.record.len())?;
        Some(RowError {
            row: self.row,
            line: self.line,
            column: None,
            reason: format!(
                "has {} fields where the header has {width} (a missing delimiter or an unbalanced quote?)",
                self.record.len()
            ),
        })
    }

    /// The first field longer than [`FIELD_MAX`].
    fn field_length(&self) -> Option<RowError> {
        let long = self
            .record
            .iter()
            .position(|f| f.chars().count() > FIELD_MAX)?;
        Some(RowError {
            row: self.row,
            line: self.line,
            column: Some(format!("#{}", long + 1)),
            reason: format!("field is longer than {FIELD_MAX} characters (an unbalanced quote?)"),
        })
    }

    /// The row's location, when it is a CSV location of the company with a storage unit.
    fn location(&mut self) -> Option<&'r LocationFacts> {
        let id = self.field("location").unwrap_or_default();
        let reason = match self.input.locations.get(id) {
            None if id.is_empty() => "is empty".to_string(),
            None => format!("`{id}` is not a location of this company; create it with POST /v1/companies/{{company}}/locations"),
            Some(facts) if facts.product != PosProduct::Csv => format!("`{id}` is a {} location; CSV sales go to CSV locations (create one with POST /v1/companies/{{company}}/locations)", facts.product),
            Some(facts) if !facts.storage_unit_linked => format!("`{id}` has no storage unit; link one (PUT …/locations/{id}/storage-unit) before importing"),
            Some(facts) => return Some(facts),
        };
        self.fail("location", reason);
        None
    }

    /// Quantity, net and tax, each read and bounded, then their signs checked; absent
    /// when any of them is unreadable.
    fn amounts(&mut self, minor: u32) -> Option<Amounts> {
        let quantity = self.decimal("quantity", bounds::QUANTITY_MAX, bounds::SCALE_MAX);
        let net = self.decimal("net", bounds::MONEY_MAX, minor);
        let tax = self.decimal("tax", bounds::MONEY_MAX, minor);
        self.signs(quantity, net, tax);
        Some(Amounts {
            quantity: quantity?,
            net: net?,
            tax: tax?,
        })
    }

    /// One amount: a decimal in the mapping's notation, within `max` and `scale`.
    fn decimal(&mut self, name: &'static str, max: Decimal, scale: u32) -> Option<Decimal> {
        let text = self.field(name).unwrap_or_default();
        let read = read_decimal(text, &self.input.format.decimal_separator).and_then(|value| {
            money::check_bounds(name, value, max, scale).map_err(|e| e.0.replace('`', ""))
        });
        match read {
            Ok(value) => Some(value),
            Err(reason) => {
                self.fail(name, reason);
                None
            }
        }
    }

    /// A sold line has a quantity, and a refund is negative throughout: the net follows
    /// the quantity's sign, the tax the net's (zero amounts have no sign to disagree).
    fn signs(&mut self, quantity: Option<Decimal>, net: Option<Decimal>, tax: Option<Decimal>) {
        if quantity.is_some_and(|q| q.is_zero()) {
            self.fail("quantity", "is zero; a sold line has a quantity".into());
        }
        if let (Some(q), Some(n)) = (quantity, net) {
            if !n.is_zero() && q.is_sign_negative() != n.is_sign_negative() {
                self.fail(
                    "net",
                    format!(
                        "{n} has the opposite sign of the quantity {q} (a refund is negative in both)"
                    ),
                );
            }
        }
        if let (Some(n), Some(t)) = (net, tax) {
            if !n.is_zero() && !t.is_zero() && n.is_sign_negative() != t.is_sign_negative() {
                self.fail(
                    "tax",
                    format!("{t} has the opposite sign of the net amount {n}"),
                );
            }
        }
    }

    /// The item's code and name: either will do, not neither.
    fn item(&mut self) -> ItemNames<'r> {
        let code = self.field("item_code").filter(|c| !c.is_empty());
        let name = self.field("item_name").filter(|c| !c.is_empty());
        if code.is_none() && name.is_none() {
            self.fail("item", "the item code and name are both empty".into());
        }
        (code, name)
    }

    fn payment_method(&mut self) -> String {
        let method = self.field("payment_method").unwrap_or_default().to_string();
        if method.is_empty() {
            self.fail("payment_method", "is empty".into());
        }
        method
    }

    /// When the sale closed, in the location's day mode: not in the future, not before
    /// [`FIRST_DATE`].
    fn sale_time(&mut self, mode: DayMode) -> Option<DateTime<Utc>> {
        let date = self.field("date").unwrap_or_default();
        let (name, reason) = match read_time(self.input, date, self.field("time"), mode) {
            Ok(at) if at > self.input.now => ("date", format!("{at} is in the future")),
            Ok(at) if at.date_naive() < FIRST_DATE => {
                ("date", format!("{at} is before {FIRST_DATE}"))
            }
            Ok(at) => return Some(at),
            Err(found) => found,
        };
        self.fail(name, reason);
        None
    }

    /// The checked row. Its gross is net + tax, which alone can still overflow.
    fn into_row(
        self,
        closed_at: DateTime<Utc>,
        mode: DayMode,
        amounts: &Amounts,
        (code, name): ItemNames<'r>,
        method: String,
    ) -> Result<Row, Vec<RowError>> {
        let Some(gross) = amounts.net.checked_add(amounts.tax) else {
            return Err(vec![problem(
                self.row,
                self.line,
                &self.input.format.columns.tax,
                "net + tax is beyond the exact range".into(),
            )]);
        };
        let code = code.map(str::to_string);
        let name = name.map(str::to_string);
        Ok(Row {
            row: self.row,
            location_id: self.field("location").unwrap_or_default().to_string(),
            closed_at,
            business_date: business_date(mode, closed_at),
            sale_id: self.text("sale_id"),
            line_id: self.text("line_id"),
            line: CanonicalLine {
                line_id: CompactString::default(),
                parent_line_id: None,
                item: LineItemRef {
                    item_id: Some(super::items::item_id(code.as_deref(), name.as_deref()).into()),
                    sku: code.as_deref().map(CompactString::from),
                    name: name.or(code).unwrap_or_default().into(),
                },
                quantity: Quantity(amounts.quantity),
                net: Money(amounts.net),
                gross: Money(gross),
                tax: Money(amounts.tax),
                discount: Money::ZERO,
                service_charge: Money::ZERO,
                tax_code: self.text("tax_code").map(CompactString::from),
                accounting_group: self.text("accounting_group").map(CompactString::from),
            },
            method,
        })
    }
}

/// The file's name for a field, as row errors give it (the item is named by its code
/// column, else its name column).
fn column_of<'c>(columns: &'c Columns, name: &'c str) -> &'c str {
    match name {
        "date" => columns.date.as_str(),
        "time" => columns.time.as_deref().unwrap_or("time"),
        "location" => columns.location.as_str(),
        "quantity" => columns.quantity.as_str(),
        "net" => columns.net.as_str(),
        "tax" => columns.tax.as_str(),
        "payment_method" => columns.payment_method.as_str(),
        "item" => columns
            .item_code
            .as_deref()
            .or(columns.item_name.as_deref())
            .unwrap_or("item"),
        _ => name,
    }
}

/// A decimal as the file writes it: an optional minus, digits and one decimal separator.
fn read_decimal(text: &str, separator: &str) -> Result<Decimal, String> {
    if text.is_empty() {
        return Err("is empty".into());
    }
    let other = if separator == "," { '.' } else { ',' };
    if text.contains(other) {
        return Err(format!(
            "`{text}` uses `{other}`, but this mapping's decimal separator is `{separator}` (thousands separators are not accepted)"
        ));
    }
    let normal = text.replace(',', ".");
    money::parse_decimal(&normal).map_err(|_| format!("`{text}` is not a number"))
}

/// The row's instant: a date-time with an offset as written, or a local date-time in the
/// mapping's zone (or the location's), or a date alone, placed in the middle of that
/// business day.
fn read_time(
    input: &ParseInput<'_>,
    date: &str,
    time: Option<&str>,
    mode: DayMode,
) -> Result<DateTime<Utc>, (&'static str, String)> {
    let format = input.format;
    if date.is_empty() {
        return Err(("date", "is empty".into()));
    }
    let naive = if let Some(time) = time {
        read_date_and_time(format, date, time)?
    } else if let Ok(at) = DateTime::parse_from_str(date, &format.date_format) {
        return Ok(at.with_timezone(&Utc));
    } else if let Ok(at) = NaiveDateTime::parse_from_str(date, &format.date_format) {
        at
    } else if let Ok(day) = NaiveDate::parse_from_str(date, &format.date_format) {
        // A date alone is a business date: the middle of its window is inside it
        // whatever the cutoff.
        let day_window = window(mode, day);
        let half = (day_window.end - day_window.start) / 2;
        return Ok(day_window.start + half);
    } else {
        return Err(("date", date_mismatch(format, date)));
    };
    let zone = match format.timezone.as_str() {
        "location" => match mode {
            DayMode::Local { tz, .. } => tz,
            DayMode::Utc => chrono_tz::UTC,
        },
        other => other.parse().unwrap_or(chrono_tz::UTC),
    };
    zone.from_local_datetime(&naive)
        .earliest()
        .map(|at| at.with_timezone(&Utc))
        .ok_or_else(|| {
            (
                "date",
                format!("{naive} does not exist in {zone} (the clocks went forward)"),
            )
        })
}

/// A local date-time from separate date and time columns.
fn read_date_and_time(
    format: &CsvFormat,
    date: &str,
    time: &str,
) -> Result<NaiveDateTime, (&'static str, String)> {
    let day = NaiveDate::parse_from_str(date, &format.date_format)
        .map_err(|_| ("date", date_mismatch(format, date)))?;
    let time_format = format.time_format.as_deref().unwrap_or("%H:%M:%S");
    let at = NaiveTime::parse_from_str(time, time_format).map_err(|_| {
        (
            "time",
            format!("`{time}` does not match the time format `{time_format}`"),
        )
    })?;
    Ok(day.and_time(at))
}

fn date_mismatch(format: &CsvFormat, date: &str) -> String {
    format!(
        "`{date}` does not match the date format `{}`",
        format.date_format
    )
}

/// Rows to sales: by (location, local day, sale id) when the file has sale ids, else one
/// sale per row. Ids are deterministic: the file's own sale id, or the file digest and
/// row number, so the same file always yields the same sales.
fn group(
    rows: Vec<Row>,
    digest: &str,
    errors: &mut Vec<RowError>,
    error_count: &mut usize,
) -> Vec<ImportedSale> {
    // Each sale with the line ids it holds so far.
    let mut sales: BTreeMap<(String, NaiveDate, String), (ImportedSale, Vec<String>)> =
        BTreeMap::new();
    let short = &digest[..digest.len().min(16)];
    for row in rows {
        let sale_key = match &row.sale_id {
            Some(id) => format!("{id}@{}", row.business_date),
            None => format!("csv-{short}-r{}", row.row),
        };
        let line_id = row
            .line_id
            .clone()
            .unwrap_or_else(|| format!("r{}", row.row));
        let key = (row.location_id.clone(), row.business_date, sale_key.clone());
        let (imported, line_ids) = sales
            .entry(key)
            .or_insert_with(|| (new_sale(&row, sale_key), Vec::new()));
        if line_ids.contains(&line_id) {
            *error_count += 1;
            if errors.len() < ERRORS_LISTED {
                errors.push(RowError {
                    row: row.row,
                    line: 0,
                    column: None,
                    reason: format!(
                        "line `{line_id}` of sale `{}` appears twice",
                        imported.sale.sale_id
                    ),
                });
            }
            continue;
        }
        line_ids.push(line_id.clone());
        add_line(&mut imported.sale, row, line_id);
    }
    sales
        .into_values()
        .map(|(imported, _)| with_kind(imported))
        .collect()
}

/// An empty sale, opened by its first row.
fn new_sale(row: &Row, sale_id: String) -> ImportedSale {
    ImportedSale {
        location_id: row.location_id.clone(),
        business_date: row.business_date,
        first_row: row.row,
        sale: CanonicalSale {
            sale_id,
            receipt: row.sale_id.clone(),
            kind: SaleKind::Sale,
            closed_at: row.closed_at,
            original_sale_id: None,
            currency: None,
            lines: Vec::new(),
            payments: Vec::new(),
            register_id: None,
        },
    }
}

/// A row's line joins its sale, and its gross the payment of its method; the sale closes
/// at its latest row.
fn add_line(sale: &mut CanonicalSale, row: Row, line_id: String) {
    sale.closed_at = sale.closed_at.max(row.closed_at);
    let gross = row.line.gross;
    sale.lines.push(CanonicalLine {
        line_id: line_id.into(),
        ..row.line
    });
    match sale.payments.iter_mut().find(|p| p.method == row.method) {
        // Bounded: at most ROWS_MAX rows of at most MONEY_MAX each, far inside the
        // decimal range, so the sum cannot overflow.
        Some(payment) => {
            payment.amount = payment.amount.checked_add(gross).unwrap_or(payment.amount)
        }
        None => sale.payments.push(CanonicalPayment {
            method: row.method,
            description: None,
            amount: gross,
            tip: Money::ZERO,
            rounding: Money::ZERO,
            paid_at: None,
        }),
    }
}

/// A sale whose lines sum below zero is a refund.
fn with_kind(mut imported: ImportedSale) -> ImportedSale {
    let total = Money::checked_sum(imported.sale.lines.iter().map(|l| l.gross));
    if total.is_some_and(Money::is_negative) {
        imported.sale.kind = SaleKind::Refund;
    }
    imported
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::imports::format::CsvFormat;

    fn format(extra: serde_json::Value) -> CsvFormat {
        let mut value = serde_json::json!({
            "columns": {"date": "Date", "location": "Site", "item_code": "SKU", "item_name": "Item",
                        "quantity": "Qty", "net": "Net", "tax": "Tax", "payment_method": "Paid by"}
        });
        if let (Some(base), Some(more)) = (value.as_object_mut(), extra.as_object()) {
            for (k, v) in more {
                base.insert(k.clone(), v.clone());
            }
        }
        serde_json::from_value(value).unwrap()
    }

    fn locations() -> HashMap<String, LocationFacts> {
        let london = LocationFacts {
            product: PosProduct::Csv,
            mode: DayMode::Local {
                tz: chrono_tz::Europe::London,
                cutoff_hour: 5,
            },
            currency: Some("GBP".into()),
            storage_unit_linked: true,
        };
        let mut out = HashMap::from([("soho".to_string(), london.clone())]);
        out.insert(
            "unlinked".into(),
            LocationFacts {
                storage_unit_linked: false,
                ..london.clone()
            },
        );
        out.insert(
            "k1".into(),
            LocationFacts {
                product: PosProduct::KSeries,
                ..london
            },
        );
        out
    }

    fn run(format: &CsvFormat, text: &[u8]) -> Result<ParsedFile, FileError> {
        let locations = locations();
        parse(
            text,
            &ParseInput {
                format,
                locations: &locations,
                digest: "0123456789abcdef0123",
                now: "2026-12-01T12:00:00Z".parse().unwrap(),
            },
        )
    }

    fn rows_of(err: FileError) -> Vec<(u64, Option<String>, String)> {
        match err {
            FileError::Rows { listed, .. } => listed
                .into_iter()
                .map(|e| (e.row, e.column, e.reason))
                .collect(),
            other => panic!("expected row errors, got {other:?}"),
        }
    }

    const HEADER: &str = "Date,Site,SKU,Item,Qty,Net,Tax,Paid by\r\n";

    #[test]
    fn quoted_fields_bom_and_crlf_are_read_exactly() {
        let text = format!(
            "\u{feff}{HEADER}2026-11-30,soho,BURG,\"Burger, \"\"classic\"\"\nwith fries\",2,20.00,4.00,Card\r\n2026-11-30,soho,,Flat white,1,3.00,0.60,Cash\r\n"
        );
        let parsed = run(&format(serde_json::json!({})), text.as_bytes()).unwrap();
        assert_eq!(parsed.rows, 2);
        assert_eq!(parsed.sales.len(), 2, "one sale per row without a sale id");
        let burger = &parsed.sales.iter().find(|s| s.first_row == 2).unwrap().sale;
        assert_eq!(burger.lines[0].item.name, "Burger, \"classic\"\nwith fries");
        assert_eq!(burger.lines[0].item.sku.as_deref(), Some("BURG"));
        assert_eq!(burger.lines[0].item.item_id.as_deref(), Some("BURG"));
        assert_eq!(burger.lines[0].gross, Money("24.00".parse().unwrap()));
        assert_eq!(burger.payments[0].method, "Card");
        assert_eq!(burger.payments[0].amount, Money("24.00".parse().unwrap()));
        assert_eq!(burger.sale_id, "csv-0123456789abcdef-r2");
        let coffee = &parsed.sales.iter().find(|s| s.first_row == 3).unwrap().sale;
        assert_eq!(coffee.lines[0].item.sku, None);
        assert!(coffee.lines[0]
            .item
            .item_id
            .as_deref()
            .unwrap()
            .starts_with("name-"));
    }

    /// The sale of a one-row file sold at `date`: when it closed (RFC 3339) and its
    /// business day.
    fn sold_at(f: &CsvFormat, date: &str) -> (String, String) {
        let text = format!("{HEADER}{date},soho,BURG,Burger,1,10.00,2.00,Card\n");
        let sale = &run(f, text.as_bytes()).unwrap().sales[0];
        (
            sale.sale.closed_at.to_rfc3339(),
            sale.business_date.to_string(),
        )
    }

    #[test]
    fn a_date_alone_is_the_middle_of_its_business_day() {
        let (closed_at, business_date) = sold_at(&format(serde_json::json!({})), "2026-11-30");
        assert_eq!(business_date, "2026-11-30");
        // London in winter is UTC+0: the day runs 05:00 to 05:00 next day, middle 17:00.
        assert_eq!(closed_at, "2026-11-30T17:00:00+00:00");
    }

    #[test]
    fn local_times_follow_the_location_zone_and_cutoff() {
        let f = format(serde_json::json!({"date_format": "%d/%m/%Y %H:%M"}));
        // 01:30 local on 1 July (BST, UTC+1) is before the 05:00 cutoff: business day 30 June.
        let (closed_at, business_date) = sold_at(&f, "01/07/2026 01:30");
        assert_eq!(closed_at, "2026-07-01T00:30:00+00:00");
        assert_eq!(business_date, "2026-06-30");
        // A fixed zone overrides the location's; an offset in the value overrides both.
        let f = format(
            serde_json::json!({"date_format": "%d/%m/%Y %H:%M", "timezone": "Pacific/Auckland"}),
        );
        let (closed_at, _) = sold_at(&f, "01/07/2026 01:30");
        assert_eq!(closed_at, "2026-06-30T13:30:00+00:00");
        let f = format(serde_json::json!({"date_format": "%Y-%m-%dT%H:%M:%S%:z"}));
        let (closed_at, _) = sold_at(&f, "2026-07-01T09:00:00+02:00");
        assert_eq!(closed_at, "2026-07-01T07:00:00+00:00");
    }

    #[test]
    fn a_time_the_clocks_skipped_is_refused() {
        let f = format(serde_json::json!({"date_format": "%Y-%m-%d %H:%M"}));
        let text = format!("{HEADER}2026-03-29 01:30,soho,BURG,Burger,1,10.00,2.00,Card\n");
        let rows = rows_of(run(&f, text.as_bytes()).unwrap_err());
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].0, 2);
        assert!(rows[0].2.contains("does not exist"), "{}", rows[0].2);
    }

    #[test]
    fn separate_time_column_semicolons_and_decimal_commas() {
        let mut f = format(serde_json::json!({
            "delimiter": ";", "decimal_separator": ",", "date_format": "%d.%m.%Y", "time_format": "%H:%M"
        }));
        f.columns.time = Some("Time".into());
        let text = "Date;Time;Site;SKU;Item;Qty;Net;Tax;Paid by\n30.11.2026;12:15;soho;BURG;Burger;1,5;12,50;2,50;Card\n";
        let parsed = run(&f, text.as_bytes()).unwrap();
        let line = &parsed.sales[0].sale.lines[0];
        assert_eq!(line.quantity, Quantity("1.5".parse().unwrap()));
        assert_eq!(line.net, Money("12.50".parse().unwrap()));
        assert_eq!(
            parsed.sales[0].sale.closed_at.to_rfc3339(),
            "2026-11-30T12:15:00+00:00"
        );
        let text = "Date;Time;Site;SKU;Item;Qty;Net;Tax;Paid by\n30.11.2026;12:15;soho;BURG;Burger;1;1.250,00;2,50;Card\n";
        let rows = rows_of(run(&f, text.as_bytes()).unwrap_err());
        assert_eq!(rows[0].1.as_deref(), Some("Net"));
        assert!(rows[0].2.contains("thousands"), "{}", rows[0].2);
    }

    fn by_receipt<'a>(parsed: &'a ParsedFile, receipt: &str) -> &'a CanonicalSale {
        &parsed
            .sales
            .iter()
            .find(|s| s.sale.receipt.as_deref() == Some(receipt))
            .unwrap()
            .sale
    }

    #[test]
    fn rows_with_a_sale_id_are_one_sale_with_payments_by_method() {
        let mut f = format(serde_json::json!({}));
        f.columns.sale_id = Some("Receipt".into());
        let text = "Date,Site,SKU,Item,Qty,Net,Tax,Paid by,Receipt\n\
            2026-11-30,soho,BURG,Burger,2,20.00,4.00,Card,R1\n\
            2026-11-30,soho,FRY,Fries,1,3.00,0.60,Card,R1\n\
            2026-11-30,soho,COLA,Cola,1,2.00,0.40,Cash,R1\n\
            2026-11-30,soho,BURG,Burger,-1,-10.00,-2.00,Card,R2\n";
        let parsed = run(&f, text.as_bytes()).unwrap();
        assert_eq!(parsed.sales.len(), 2);
        let r1 = by_receipt(&parsed, "R1");
        assert_eq!(r1.sale_id, "R1@2026-11-30");
        assert_eq!(r1.kind, SaleKind::Sale);
        assert_eq!(r1.lines.len(), 3);
        let card = r1.payments.iter().find(|p| p.method == "Card").unwrap();
        assert_eq!(card.amount, Money("27.60".parse().unwrap()));
        let cash = r1.payments.iter().find(|p| p.method == "Cash").unwrap();
        assert_eq!(cash.amount, Money("2.40".parse().unwrap()));
        let r2 = by_receipt(&parsed, "R2");
        assert_eq!(r2.kind, SaleKind::Refund);
        assert_eq!(r2.payments[0].amount, Money("-12.00".parse().unwrap()));
    }

    #[test]
    fn every_bad_row_is_named_and_nothing_is_kept() {
        let text = format!(
            "{HEADER}2026-11-30,soho,BURG,Burger,2,20.00,4.00,Card\n\
             2026-11-30,soho,BURG,Burger,two,20.00,4.00,Card\n\
             2026-11-30,nowhere,BURG,Burger,1,20.00,4.00,Card\n\
             2026-11-30,k1,BURG,Burger,1,20.00,4.00,Card\n\
             2026-11-30,unlinked,BURG,Burger,1,20.00,4.00,Card\n\
             2026-11-31,soho,BURG,Burger,1,20.00,4.00,Card\n\
             2026-11-30,soho,,,1,20.00,4.00,Card\n\
             2026-11-30,soho,BURG,Burger,1,20.001,4.00,Card\n\
             2026-11-30,soho,BURG,Burger,1,-20.00,4.00,Card\n\
             2026-11-30,soho,BURG,Burger,1,20.00,4.00,\n\
             2027-01-01,soho,BURG,Burger,1,20.00,4.00,Card\n\
             2026-11-30,soho,BURG,Burger,0,0,0,Card\n"
        );
        let rows = rows_of(run(&format(serde_json::json!({})), text.as_bytes()).unwrap_err());
        let got: Vec<(u64, Option<&str>)> =
            rows.iter().map(|(r, c, _)| (*r, c.as_deref())).collect();
        assert_eq!(
            got,
            vec![
                (3, Some("Qty")),
                (4, Some("Site")),
                (5, Some("Site")),
                (6, Some("Site")),
                (7, Some("Date")),
                (8, Some("SKU")),
                (9, Some("Net")),
                (10, Some("Net")),
                (10, Some("Tax")),
                (11, Some("Paid by")),
                (12, Some("Date")),
                (13, Some("Qty")),
            ]
        );
        assert!(rows[2].2.contains("k_series location"));
        assert!(rows[3].2.contains("no storage unit"));
        assert!(
            rows[6].2.contains("at most 2 decimal places"),
            "{}",
            rows[6].2
        );
        assert!(rows[10].2.contains("future"));
    }

    #[test]
    fn other_encodings_and_binary_are_refused_by_name() {
        let f = format(serde_json::json!({}));
        let latin1 = b"Date,Site,SKU,Item,Qty,Net,Tax,Paid by\n2026-11-30,soho,B,Cr\xe8me,1,1.00,0.20,Card\n";
        assert!(matches!(run(&f, latin1), Err(FileError::Encoding(m)) if m.contains("not UTF-8")));
        let utf16 = [0xFF, 0xFE, b'D', 0, b'a', 0];
        assert!(matches!(run(&f, &utf16), Err(FileError::Encoding(m)) if m.contains("UTF-16")));
        assert!(
            matches!(run(&f, b"\x7fELF\x02\x01\x00\x00"), Err(FileError::Encoding(m)) if m.contains("binary"))
        );
    }

    #[test]
    fn file_shape_problems() {
        let f = format(serde_json::json!({}));
        assert!(matches!(run(&f, b""), Err(FileError::Shape(m)) if m.contains("empty")));
        assert!(
            matches!(run(&f, HEADER.as_bytes()), Err(FileError::Shape(m)) if m.contains("no data rows"))
        );
        let wrong = "Date,Site,SKU,Item,Quantity,Net,Tax,Paid by\n";
        assert!(
            matches!(run(&f, wrong.as_bytes()), Err(FileError::Shape(m)) if m.contains("`Qty`"))
        );
        // An unbalanced quote swallows the rest of the file into one field.
        let text = format!("{HEADER}2026-11-30,soho,BURG,\"Burger,1,20.00,4.00,Card\n2026-11-30,soho,BURG,Burger,1,20.00,4.00,Card\n");
        let rows = rows_of(run(&f, text.as_bytes()).unwrap_err());
        assert_eq!(rows[0].0, 2);
        assert!(
            rows[0].2.contains("fields where the header has 8"),
            "{}",
            rows[0].2
        );
    }

    #[test]
    fn too_many_rows_is_its_own_refusal() {
        let f = format(serde_json::json!({"header_row": false, "columns": {
            "date": "1", "location": "2", "item_code": "3", "quantity": "4", "net": "5", "tax": "6", "payment_method": "7"}}));
        let text = "2026-11-30,soho,B,1,1.00,0.20,Card\n".repeat(ROWS_MAX + 1);
        assert_eq!(
            run(&f, text.as_bytes()).unwrap_err(),
            FileError::TooManyRows
        );
        let text = "2026-11-30,soho,B,1,1.00,0.20,Card\n".repeat(3);
        assert_eq!(run(&f, text.as_bytes()).unwrap().rows, 3);
    }

    #[test]
    fn a_duplicated_line_id_is_refused() {
        let mut f = format(serde_json::json!({}));
        f.columns.sale_id = Some("Receipt".into());
        f.columns.line_id = Some("Line".into());
        let text = "Date,Site,SKU,Item,Qty,Net,Tax,Paid by,Receipt,Line\n\
            2026-11-30,soho,BURG,Burger,1,10.00,2.00,Card,R1,1\n\
            2026-11-30,soho,FRY,Fries,1,3.00,0.60,Card,R1,1\n";
        let rows = rows_of(run(&f, text.as_bytes()).unwrap_err());
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].0, 3);
        assert!(rows[0].2.contains("appears twice"));
    }
}
