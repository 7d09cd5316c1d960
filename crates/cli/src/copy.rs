//! `\copy`: a file into a table through the driver's bulk ingest (CSV, Parquet, Arrow IPC),
//! and a query's result (or a whole table) into a file in any output format. Both stream: a
//! file is read, and a result written, a batch at a time, so memory stays bounded whatever
//! the size.

use std::fs::File;
use std::io::{BufReader, Seek, SeekFrom};
use std::path::Path;
use std::sync::Arc;

use arrow::datatypes::SchemaRef;
use arrow::record_batch::RecordBatchReader;

use crate::BoxError;
use crate::output::Format;

/// Rows per batch read from a CSV or Parquet file.
pub const BATCH_ROWS: usize = 8192;

/// How many CSV records are read to guess the column types of a table that does not exist.
const INFER_RECORDS: usize = 1000;

/// A `\copy` command, parsed.
#[derive(Debug, Clone, PartialEq)]
pub enum Copy {
    /// `\copy TABLE FROM FILE`: the file's rows appended to the table (created when missing).
    From {
        /// The table, as written.
        table: String,
        /// The file.
        file: String,
        /// Its format (CSV, Parquet or Arrow IPC).
        format: Format,
    },
    /// `\copy (QUERY) TO FILE`, or `\copy TABLE TO FILE` (all of the table).
    To {
        /// The query.
        query: String,
        /// The file (created with mode 0600, or truncated).
        file: String,
        /// The format it is written in.
        format: Format,
    },
}

const USAGE: &str = "\\copy TABLE FROM FILE, \\copy TABLE TO FILE or \\copy (QUERY) TO FILE, \
                     optionally followed by (FORMAT csv|parquet|arrow|json|ndjson)";

impl Copy {
    /// Parses the argument of `\copy`.
    pub fn parse(arg: &str) -> Result<Copy, String> {
        let bad = |what: &str| format!("\\copy: {what}; usage: {USAGE}");
        let arg = arg.trim();
        let (query, table, rest) = if arg.starts_with('(') {
            let close = crate::script::closing_paren(arg, 0)
                .ok_or_else(|| bad("the query's parenthesis is not closed"))?;
            let query = arg[1..close].trim();
            if query.is_empty() {
                return Err(bad("the query is empty"));
            }
            (Some(query.to_owned()), None, &arg[close + 1..])
        } else {
            let end = name_end(arg);
            if end == 0 {
                return Err(bad("no table or query"));
            }
            (None, Some(arg[..end].to_owned()), &arg[end..])
        };
        let rest = rest.trim_start();
        let (direction, rest) = rest
            .split_once(char::is_whitespace)
            .ok_or_else(|| bad("FROM or TO and a file are missing"))?;
        let (file, rest) = file_name(rest.trim_start()).ok_or_else(|| bad("no file name"))?;
        if ["stdin", "stdout", "pstdin", "pstdout"].contains(&file.to_ascii_lowercase().as_str()) {
            return Err(bad(&format!(
                "{file} is not supported: name a file (results go to standard output without \\copy)"
            )));
        }
        let format = match options(rest).map_err(|e| bad(&e))? {
            Some(format) => format,
            None => format_of(&file).ok_or_else(|| {
                bad(&format!(
                    "cannot tell the format of {file} from its extension: add (FORMAT csv), \
                     (FORMAT parquet) or (FORMAT arrow)"
                ))
            })?,
        };
        match (direction.to_ascii_lowercase().as_str(), query, table) {
            ("from", None, Some(table)) => {
                if !matches!(format, Format::Csv | Format::Parquet | Format::Arrow) {
                    return Err(bad("FROM reads CSV, Parquet or Arrow IPC files"));
                }
                Ok(Copy::From {
                    table,
                    file,
                    format,
                })
            }
            ("from", Some(_), _) => Err(bad("a query can only be copied TO a file")),
            ("to", Some(query), _) => Ok(Copy::To {
                query,
                file,
                format,
            }),
            ("to", None, Some(table)) => Ok(Copy::To {
                query: format!("SELECT * FROM {table}"),
                file,
                format,
            }),
            (other, ..) => Err(bad(&format!("expected FROM or TO, found {other:?}"))),
        }
    }
}

/// Where a table name ends: at whitespace outside double quotes.
fn name_end(text: &str) -> usize {
    let mut quoted = false;
    for (i, c) in text.char_indices() {
        match c {
            '"' => quoted = !quoted,
            c if c.is_whitespace() && !quoted => return i,
            _ => {}
        }
    }
    text.len()
}

/// A file name, `'quoted'` (`''` for a quote) or a bare word; and the text after it.
fn file_name(text: &str) -> Option<(String, &str)> {
    if let Some(body) = text.strip_prefix('\'') {
        let mut name = String::new();
        let mut chars = body.char_indices().peekable();
        while let Some((i, c)) = chars.next() {
            if c == '\'' {
                if chars.peek().is_some_and(|(_, c)| *c == '\'') {
                    chars.next();
                    name.push('\'');
                } else {
                    return Some((name, &body[i + 1..]));
                }
            } else {
                name.push(c);
            }
        }
        return None;
    }
    let end = text
        .find(|c: char| c.is_whitespace() || c == '(')
        .unwrap_or(text.len());
    (end > 0).then(|| (text[..end].to_owned(), &text[end..]))
}

/// The options after the file: `[WITH] [(]FORMAT name[)]`, or a format name alone.
fn options(text: &str) -> Result<Option<Format>, String> {
    let words: Vec<String> = text
        .split(|c: char| c.is_whitespace() || matches!(c, '(' | ')' | ','))
        .filter(|w| !w.is_empty())
        .map(str::to_ascii_lowercase)
        .collect();
    let words: Vec<&str> = words.iter().map(String::as_str).collect();
    let name = match words.as_slice() {
        [] | ["with"] => return Ok(None),
        ["with", "format", name] | ["format", name] | ["with", name] | [name] => *name,
        _ => return Err(format!("unknown options {:?}", text.trim())),
    };
    <Format as clap::ValueEnum>::from_str(name, true)
        .map(Some)
        .map_err(|_| format!("unknown format {name:?}"))
}

/// The format a file name's extension says.
pub fn format_of(file: &str) -> Option<Format> {
    let extension = Path::new(file).extension()?.to_str()?.to_ascii_lowercase();
    Some(match extension.as_str() {
        "csv" => Format::Csv,
        "parquet" | "pq" => Format::Parquet,
        "arrow" | "arrows" | "ipc" | "feather" => Format::Arrow,
        "json" => Format::Json,
        "ndjson" | "jsonl" => Format::Ndjson,
        _ => return None,
    })
}

/// A reader of the batches of `file`, a batch at a time. CSV is read with `csv_schema` (the
/// target table's columns) when given, else with the types guessed from its first records;
/// its first line is the header; `null` is the text that stands for NULL (default: an empty
/// field). An Arrow file may be an IPC file or an IPC stream.
pub fn open(
    file: &str,
    format: Format,
    csv_schema: Option<SchemaRef>,
    null: Option<&str>,
) -> Result<Box<dyn RecordBatchReader + Send>, BoxError> {
    let named = |e: &dyn std::fmt::Display| format!("\\copy: {file}: {e}");
    let mut handle = File::open(file).map_err(|e| named(&e))?;
    Ok(match format {
        Format::Parquet => {
            let reader = std::panic::catch_unwind(move || {
                parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(handle)?
                    .with_batch_size(BATCH_ROWS)
                    .build()
            })
            .map_err(|_| named(&"the Parquet decoder failed on a malformed file"))?
            .map_err(|e| named(&e))?;
            Box::new(Unpanicking {
                reader,
                failed: false,
            })
        }
        // Files come from anywhere: an Arrow file goes through the driver's decode guard as a
        // server's answer does, and the Parquet decoder's panics become errors.
        Format::Arrow => {
            Box::new(dbapi_flightsql::IpcFileReader::new(handle).map_err(|e| named(&e))?)
        }
        Format::Csv => {
            let mut csv = arrow::csv::reader::Format::default().with_header(true);
            if let Some(null) = null {
                let exact = regex::Regex::new(&format!("^{}$", regex::escape(null)))?;
                csv = csv.with_null_regex(exact);
            }
            let schema = match csv_schema {
                // The header must name the table's columns, in order: columns are matched
                // by position, so a file in another order is refused rather than mixed up.
                Some(schema) => {
                    csv = csv.with_header_validation(true);
                    schema
                }
                None => {
                    let (schema, _) = csv
                        .infer_schema(BufReader::new(&mut handle), Some(INFER_RECORDS))
                        .map_err(|e| named(&e))?;
                    handle.seek(SeekFrom::Start(0)).map_err(|e| named(&e))?;
                    Arc::new(schema)
                }
            };
            Box::new(
                arrow::csv::ReaderBuilder::new(schema)
                    .with_format(csv)
                    .with_batch_size(BATCH_ROWS)
                    .build(BufReader::new(handle))
                    .map_err(|e| named(&e))?,
            )
        }
        other => {
            return Err(format!("\\copy FROM cannot read {other:?} files").into());
        }
    })
}

/// A reader whose decoder's panics on malformed input become an error, its last item.
struct Unpanicking<R> {
    reader: R,
    failed: bool,
}

impl<R: RecordBatchReader> Iterator for Unpanicking<R> {
    type Item = Result<arrow::record_batch::RecordBatch, arrow::error::ArrowError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed {
            return None;
        }
        let reader = &mut self.reader;
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| reader.next())).unwrap_or_else(
            |_| {
                self.failed = true;
                Some(Err(arrow::error::ArrowError::ParquetError(
                    "the Parquet decoder failed on a malformed file".to_owned(),
                )))
            },
        )
    }
}

impl<R: RecordBatchReader> RecordBatchReader for Unpanicking<R> {
    fn schema(&self) -> SchemaRef {
        self.reader.schema()
    }
}

/// A reader that counts what passes through it, for the progress line and the final count.
pub struct Counted<R> {
    inner: R,
    seen: Arc<Seen>,
}

/// Rows and bytes a [`Counted`] reader passed on.
#[derive(Debug, Default)]
pub struct Seen {
    /// Rows.
    pub rows: std::sync::atomic::AtomicU64,
    /// Bytes of Arrow data.
    pub bytes: std::sync::atomic::AtomicU64,
}

impl<R: RecordBatchReader> Counted<R> {
    /// Counts what `inner` reads into `seen`.
    pub fn new(inner: R, seen: Arc<Seen>) -> Counted<R> {
        Counted { inner, seen }
    }
}

impl<R: RecordBatchReader> Iterator for Counted<R> {
    type Item = Result<arrow::record_batch::RecordBatch, arrow::error::ArrowError>;

    fn next(&mut self) -> Option<Self::Item> {
        use std::sync::atomic::Ordering::Relaxed;
        let item = self.inner.next()?;
        if let Ok(batch) = &item {
            self.seen.rows.fetch_add(batch.num_rows() as u64, Relaxed);
            self.seen
                .bytes
                .fetch_add(crate::progress::bytes(batch), Relaxed);
        }
        Some(item)
    }
}

impl<R: RecordBatchReader> RecordBatchReader for Counted<R> {
    fn schema(&self) -> SchemaRef {
        self.inner.schema()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copy_commands_parse() {
        assert_eq!(
            Copy::parse("readings FROM '/tmp/my file.csv'"),
            Ok(Copy::From {
                table: "readings".into(),
                file: "/tmp/my file.csv".into(),
                format: Format::Csv
            })
        );
        assert_eq!(
            Copy::parse("\"my table\" from data.bin (FORMAT parquet)"),
            Ok(Copy::From {
                table: "\"my table\"".into(),
                file: "data.bin".into(),
                format: Format::Parquet
            })
        );
        assert_eq!(
            Copy::parse("(SELECT ')' AS p, (1) FROM t) TO 'it''s.arrow'"),
            Ok(Copy::To {
                query: "SELECT ')' AS p, (1) FROM t".into(),
                file: "it's.arrow".into(),
                format: Format::Arrow
            })
        );
        assert_eq!(
            Copy::parse("shop.orders TO out.txt WITH (FORMAT ndjson)"),
            Ok(Copy::To {
                query: "SELECT * FROM shop.orders".into(),
                file: "out.txt".into(),
                format: Format::Ndjson
            })
        );
        assert_eq!(
            Copy::parse("t to x.data json").map(|c| matches!(c, Copy::To { .. })),
            Ok(true)
        );
    }

    #[test]
    fn malformed_copy_commands_say_why() {
        let err = |arg: &str| Copy::parse(arg).unwrap_err();
        assert!(err("t FROM x.txt").contains("cannot tell the format"));
        assert!(err("t FROM x.json").contains("CSV, Parquet or Arrow"));
        assert!(err("(SELECT 1 TO x.csv").contains("not closed"));
        assert!(err("(SELECT 1) FROM x.csv").contains("only be copied TO"));
        assert!(err("t INTO x.csv").contains("expected FROM or TO"));
        assert!(err("t TO stdout").contains("not supported"));
        assert!(err("t TO 'x.csv").contains("no file name"));
        assert!(err("t TO x.csv (HEADER true)").contains("unknown options"));
        assert!(err("t TO x.csv (FORMAT xml)").contains("unknown format"));
        assert!(err("").contains("usage"));
        assert!(err("t").contains("FROM or TO"));
    }

    #[test]
    fn formats_follow_extensions() {
        assert_eq!(format_of("a/b.PARQUET"), Some(Format::Parquet));
        assert_eq!(format_of("x.arrows"), Some(Format::Arrow));
        assert_eq!(format_of("x.jsonl"), Some(Format::Ndjson));
        assert_eq!(format_of("x"), None);
    }
}
