//! Writing results: aligned tables, CSV, JSON, NDJSON, Arrow IPC. Batches are written as they
//! arrive, so memory stays bounded whatever the size of the result.
//!
//! Text from the server reaches the terminal only through [`shown`]: in tables, expanded
//! output and error messages its control characters are escaped, so that a cell cannot move
//! the cursor, retitle the window, write the clipboard (OSC 52) or hide what follows it. CSV,
//! JSON, NDJSON, Arrow IPC and Parquet stay exact.

use std::borrow::Cow;
use std::io::Write;

use arrow::datatypes::SchemaRef;
use arrow::error::ArrowError;
use arrow::record_batch::RecordBatch;
use arrow::util::display::{ArrayFormatter, FormatOptions};
use clap::ValueEnum;
use comfy_table::{ContentArrangement, Table, presets};

/// How results are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// An aligned table (Unicode borders; `--ascii` for ASCII).
    Table,
    /// Comma-separated values with a header line.
    Csv,
    /// One JSON array of objects per result.
    Json,
    /// One JSON object per line.
    Ndjson,
    /// An Arrow IPC stream (binary; for `--out` or a pipe).
    Arrow,
    /// A Parquet file (binary, Snappy-compressed; for `--out` or a pipe).
    Parquet,
}

/// How NULL is shown in tables by default (distinct from the empty string).
pub const TABLE_NULL: &str = "NULL";

/// The largest number of rows rendered in one table; a longer result is printed as several
/// tables of this many rows, as they arrive.
pub const TABLE_CHUNK: usize = 1000;

/// Options of the text formats.
#[derive(Debug, Clone)]
pub struct TableStyle {
    /// ASCII borders instead of Unicode.
    pub ascii: bool,
    /// One `column | value` block per row (psql's `\x`).
    pub expanded: bool,
    /// How NULL is written in tables and CSV (`None`: `NULL` in tables, the empty field in
    /// CSV).
    pub null: Option<String>,
    /// Rows only: no column names (tables, CSV) and no row count (psql's `-t`).
    pub tuples_only: bool,
}

/// A writer of one result.
pub enum ResultWriter<W: Write + Send> {
    /// See [`Format::Table`].
    Table {
        /// Where to write.
        out: W,
        /// The table style.
        style: TableStyle,
        /// Rows waiting to be rendered.
        pending: Vec<RecordBatch>,
        /// How many rows are waiting.
        pending_rows: usize,
        /// Rows written so far (for row numbers in expanded mode).
        written: usize,
    },
    /// See [`Format::Csv`]; whether a batch was written (the header comes with the first).
    Csv(Box<arrow::csv::Writer<W>>, bool),
    /// See [`Format::Json`].
    Json(arrow::json::ArrayWriter<W>),
    /// See [`Format::Ndjson`].
    Ndjson(arrow::json::LineDelimitedWriter<W>),
    /// See [`Format::Arrow`].
    Arrow(Box<arrow::ipc::writer::StreamWriter<W>>),
    /// See [`Format::Parquet`].
    Parquet(Box<parquet::arrow::ArrowWriter<W>>),
}

impl<W: Write + Send> std::fmt::Debug for ResultWriter<W> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ResultWriter")
    }
}

fn options(null: &str) -> FormatOptions<'_> {
    FormatOptions::default()
        .with_null(null)
        .with_display_error(true)
}

impl<W: Write + Send> ResultWriter<W> {
    /// A writer of a result with `schema` in `format`.
    pub fn new(
        out: W,
        format: Format,
        schema: &SchemaRef,
        style: &TableStyle,
    ) -> Result<ResultWriter<W>, ArrowError> {
        Ok(match format {
            Format::Table => ResultWriter::Table {
                out,
                style: style.clone(),
                pending: Vec::new(),
                pending_rows: 0,
                written: 0,
            },
            Format::Csv => ResultWriter::Csv(
                Box::new(
                    arrow::csv::WriterBuilder::new()
                        .with_header(!style.tuples_only)
                        .with_null(style.null.clone().unwrap_or_default())
                        .build(out),
                ),
                false,
            ),
            // NULL members are written as `null`, apart from missing ones.
            Format::Json => ResultWriter::Json(
                arrow::json::WriterBuilder::new()
                    .with_explicit_nulls(true)
                    .build(out),
            ),
            Format::Ndjson => ResultWriter::Ndjson(
                arrow::json::WriterBuilder::new()
                    .with_explicit_nulls(true)
                    .build(out),
            ),
            Format::Arrow => ResultWriter::Arrow(Box::new(
                arrow::ipc::writer::StreamWriter::try_new(out, schema)?,
            )),
            Format::Parquet => {
                let properties = parquet::file::properties::WriterProperties::builder()
                    .set_compression(parquet::basic::Compression::SNAPPY)
                    .build();
                let writer =
                    parquet::arrow::ArrowWriter::try_new(out, schema.clone(), Some(properties))
                        .map_err(|e| ArrowError::ExternalError(Box::new(e)))?;
                ResultWriter::Parquet(Box::new(writer))
            }
        })
    }

    /// Writes a batch (tables render every [`TABLE_CHUNK`] rows).
    pub fn write(&mut self, batch: &RecordBatch) -> Result<(), ArrowError> {
        match self {
            ResultWriter::Table {
                pending,
                pending_rows,
                ..
            } => {
                pending.push(batch.clone());
                *pending_rows += batch.num_rows();
                if *pending_rows >= TABLE_CHUNK {
                    self.flush_table(false)?;
                }
                Ok(())
            }
            ResultWriter::Csv(w, written) => {
                *written = true;
                w.write(batch)
            }
            ResultWriter::Json(w) => w.write(batch),
            ResultWriter::Ndjson(w) => w.write(batch),
            ResultWriter::Arrow(w) => w.write(batch),
            ResultWriter::Parquet(w) => w
                .write(batch)
                .map_err(|e| ArrowError::ExternalError(Box::new(e))),
        }
    }

    /// Ends the result: the last rows of a table, the closing `]` of JSON, the IPC end marker.
    /// `schema` gives a table its header when the result had no rows.
    pub fn finish(mut self, schema: &SchemaRef) -> Result<(), ArrowError> {
        match &mut self {
            ResultWriter::Table {
                pending, written, ..
            } => {
                if pending.is_empty() && *written == 0 {
                    pending.push(RecordBatch::new_empty(schema.clone()));
                }
                self.flush_table(true)
            }
            ResultWriter::Csv(w, written) => {
                if !*written {
                    // A result without rows still gets its header.
                    w.write(&RecordBatch::new_empty(schema.clone()))?;
                }
                Ok(())
            }
            ResultWriter::Json(w) => {
                w.finish()?;
                // A text file (and a terminal) ends with a newline.
                writeln!(w.get_mut())?;
                Ok(())
            }
            ResultWriter::Ndjson(w) => w.finish(),
            ResultWriter::Arrow(w) => w.finish(),
            ResultWriter::Parquet(w) => {
                w.finish()
                    .map_err(|e| ArrowError::ExternalError(Box::new(e)))?;
                Ok(())
            }
        }
    }

    /// Renders the waiting rows as one table (or expanded blocks).
    fn flush_table(&mut self, last: bool) -> Result<(), ArrowError> {
        let ResultWriter::Table {
            out,
            style,
            pending,
            pending_rows,
            written,
        } = self
        else {
            return Ok(());
        };
        let batches = std::mem::take(pending);
        *pending_rows = 0;
        let Some(first) = batches.first() else {
            return Ok(());
        };
        let schema = first.schema();
        let names: Vec<Cow<'_, str>> = schema.fields().iter().map(|f| shown(f.name())).collect();
        let options = options(style.null.as_deref().unwrap_or(TABLE_NULL));
        if style.expanded {
            let width = names.iter().map(|n| n.chars().count()).max().unwrap_or(0);
            for batch in &batches {
                let formatters = formatters(batch, &options)?;
                for row in 0..batch.num_rows() {
                    *written += 1;
                    if !style.tuples_only {
                        writeln!(out, "-[ RECORD {written} ]-")?;
                    } else if *written > 1 {
                        writeln!(out)?;
                    }
                    for (name, f) in names.iter().zip(&formatters) {
                        writeln!(out, "{name:<width$} | {}", cell(f, row))?;
                    }
                }
            }
            return Ok(());
        }
        let rows: usize = batches.iter().map(RecordBatch::num_rows).sum();
        if style.tuples_only && rows == 0 {
            return Ok(());
        }
        let mut table = Table::new();
        table.load_preset(if style.ascii {
            presets::ASCII_FULL_CONDENSED
        } else {
            presets::UTF8_FULL_CONDENSED
        });
        // A terminal that reports no size (0 columns, as a new pseudo-terminal does) would
        // squeeze every column to one character: such a table keeps its natural width.
        table.set_content_arrangement(if table.width() == Some(0) {
            ContentArrangement::Disabled
        } else {
            ContentArrangement::Dynamic
        });
        table.set_truncation_indicator("…");
        if !style.tuples_only {
            table.set_header(names.iter().map(|n| n.as_ref()));
        }
        for batch in &batches {
            let formatters = formatters(batch, &options)?;
            for row in 0..batch.num_rows() {
                let cells: Vec<String> = formatters.iter().map(|f| cell(f, row)).collect();
                table.add_row(cells);
                if let Some(r) = table.row_mut(table.row_count() - 1) {
                    r.max_height(1);
                }
                *written += 1;
            }
        }
        writeln!(out, "{table}")?;
        if last && !style.tuples_only {
            let n = *written;
            writeln!(out, "({n} row{})", if n == 1 { "" } else { "s" })?;
        }
        Ok(())
    }
}

fn formatters<'a>(
    batch: &'a RecordBatch,
    options: &'a FormatOptions<'a>,
) -> Result<Vec<ArrayFormatter<'a>>, ArrowError> {
    batch
        .columns()
        .iter()
        .map(|c| ArrayFormatter::try_new(c.as_ref(), options))
        .collect()
}

/// Creates (or truncates) a file for results (`--out`, `\o`, `\copy TO`): readable and
/// writable by its owner only (mode 0600 on Unix; an existing file is set to it too), since
/// results may hold what others should not read; a symbolic link is not followed (a link
/// planted where the file goes would otherwise send the results elsewhere).
pub fn create_file(path: &std::path::Path) -> Result<std::fs::File, String> {
    let failed = |e: std::io::Error| format!("cannot create {}: {e}", path.display());
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options
            .mode(0o600)
            .custom_flags(nix::fcntl::OFlag::O_NOFOLLOW.bits());
    }
    let file = options.open(path).map_err(|e| {
        if std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink()) {
            format!(
                "cannot create {}: it is a symbolic link, which results are never written \
                 through",
                path.display()
            )
        } else {
            failed(e)
        }
    })?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        file.set_permissions(std::fs::Permissions::from_mode(0o600))
            .map_err(failed)?;
    }
    Ok(file)
}

/// One value as a table shows it: formatted once, escaped only when it has something to
/// escape (no second copy otherwise).
fn cell(formatter: &ArrayFormatter<'_>, row: usize) -> String {
    let text = formatter.value(row).to_string();
    match shown(&text) {
        Cow::Borrowed(_) => text,
        Cow::Owned(escaped) => escaped,
    }
}

/// Text from the server as the terminal may show it: control characters (C0, DEL, C1) and the
/// Unicode controls that reorder or hide text (bidirectional overrides and isolates, zero-width
/// characters) escaped as `\n`, `\t`, `\r`, `\x1b` or `\u{202e}`; everything else as it is.
pub fn shown(text: &str) -> Cow<'_, str> {
    fn hidden(c: char) -> bool {
        c.is_control()
            || matches!(c, '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{feff}')
    }
    if !text.chars().any(hidden) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            c if !hidden(c) => out.push(c),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x80 => out.push_str(&format!("\\x{:02x}", c as u32)),
            c => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_escaped_and_the_rest_kept() {
        assert!(matches!(shown("plain, ünïcödé ✓"), Cow::Borrowed(_)));
        // OSC 52 (write the clipboard), a cursor move, a bell, CR/LF/TAB, DEL, a C1 CSI.
        assert_eq!(
            shown("a\x1b]52;c;aGk=\x07b\x1b[2Jc\r\n\td\x7fe\u{9b}f"),
            "a\\x1b]52;c;aGk=\\x07b\\x1b[2Jc\\r\\n\\td\\x7fe\\u{9b}f"
        );
        // Text reordered or hidden: right-to-left override, zero-width space, BOM.
        assert_eq!(
            shown("x\u{202e}y\u{200b}z\u{feff}"),
            "x\\u{202e}y\\u{200b}z\\u{feff}"
        );
    }
}
