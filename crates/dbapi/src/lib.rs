//! A driver-neutral database API in the spirit of Python's DB-API 2 (PEP 249), with Apache
//! Arrow as the unit of data.
//!
//! Drivers implement [`Driver`], [`Connection`] and [`Cursor`]; applications pick a driver
//! from a connection URL's scheme through a [`Registry`], execute statements with a cursor,
//! and read results as Arrow record batches or as [`Row`]s of typed [`Value`]s. The
//! [`metadata`] module holds what [`Connection`]'s catalog methods answer.
//!
//! Rows are views over Arrow record batches. Read them into your own types with `serde`
//! (typed rows), column by column with [`Row::get`] (borrowing text from the Arrow buffers),
//! as dynamically typed [`Value`]s, or not at all: the batches themselves are the zero-copy
//! path.
//!
//! ```
//! use std::sync::Arc;
//! use arrow::array::{Int64Array, StringArray};
//! use arrow::datatypes::{DataType, Field, Schema};
//! use arrow::record_batch::RecordBatch;
//! use dbapi::{Registry, Row, Value};
//!
//! let schema = Schema::new(vec![
//!     Field::new("id", DataType::Int64, false),
//!     Field::new("name", DataType::Utf8, true),
//! ]);
//! let batch = RecordBatch::try_new(
//!     Arc::new(schema),
//!     vec![
//!         Arc::new(Int64Array::from(vec![7])),
//!         Arc::new(StringArray::from(vec![None::<&str>])),
//!     ],
//! )?;
//! let columns = dbapi::driver::describe(&batch.schema());
//! let row = Row::from_batch(&columns, &batch, 0)?;
//!
//! // 1. Typed rows: structs by column name, tuples by position, `Option` for NULL.
//! #[derive(serde::Deserialize)]
//! struct User<'a> {
//!     id: i64,
//!     name: Option<&'a str>,
//! }
//! let user: User = row.deserialize()?;
//! assert_eq!((user.id, user.name), (7, None));
//! let (id, name): (i64, Option<String>) = row.deserialize()?;
//!
//! // 2. Columns read in place, or as values.
//! assert_eq!(row.get::<i64, _>("id")?, 7);
//! assert_eq!(row.get::<Option<&str>, _>("name")?, None);
//! assert_eq!(row.values()?, [Value::Int64(7), Value::Null]);
//!
//! // 3. The Arrow data the row is a view of.
//! let (batch, index) = row.batch().expect("rows of a batch keep it");
//! assert_eq!((batch.num_rows(), index), (1, 0));
//!
//! // Type errors name the column and both types.
//! let err = row.get::<String, _>("id").unwrap_err();
//! assert!(err.to_string().contains(r#"column 0 ("id"): cannot read a Int64 value"#));
//!
//! // A registry picks drivers by URL scheme; an unknown scheme is an error, never a panic.
//! let registry = Registry::new();
//! let err = registry.driver_for("flightsql://localhost:8181").unwrap_err();
//! assert!(err.is_interface());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! With a driver registered (e.g. `dbapi_flightsql::register()`), connecting is:
//!
//! ```no_run
//! # async fn run() -> dbapi::Result<()> {
//! use dbapi::{Params, Value};
//!
//! let conn = dbapi::connect("flightsql://localhost:8181?database=sensors&tls=false").await?;
//! let mut cursor = conn.cursor()?;
//!
//! // Typed rows ([`CursorExt`]); parameters from a tuple.
//! use dbapi::CursorExt;
//! #[derive(serde::Deserialize)]
//! struct Reading { sensor: String, temperature: f64 }
//! cursor.execute("SELECT sensor, temperature FROM readings WHERE temperature > $1", (20.0,).into()).await?;
//! let readings: Vec<Reading> = cursor.fetchall_as().await?;
//!
//! cursor.execute("SELECT 1 AS one", Params::None).await?;
//! while let Some(row) = cursor.fetchone().await? {
//!     println!("{}", row.get::<i64, _>("one")?);
//! }
//!
//! // Parameters are bound by the server, in its placeholder syntax: `params![]` by position,
//! // `params!{"name" => value}` by name. Exactly one row, or one value:
//! use dbapi::params;
//! cursor.execute("SELECT name FROM t WHERE id = $1", params![7_i64]).await?;
//! let row = cursor.fetch_one().await?;
//! cursor.execute("SELECT count(*) FROM t", params![]).await?;
//! let rows: i64 = cursor.fetch_scalar().await?;
//!
//! // Statements that change data leave a row count, not rows.
//! let n = cursor.execute_update("DELETE FROM t WHERE id < $1", params![10_i64]).await?;
//!
//! // Transactions, where the server has them: dropping the guard rolls back.
//! use dbapi::{ConnectionExt, ParamSets};
//! let tx = conn.begin().await?;
//! tx.cursor()?.executemany("INSERT INTO t VALUES ($1)", ParamSets::new((0..100_i64).map(|i| params![i]))).await?;
//! tx.commit().await?;
//!
//! // Prepared statements, executed many times; cancellation from another task.
//! let mut statement = conn.prepare("SELECT * FROM t WHERE id > $1").await?;
//! let mut rows = statement.execute(Params::from([Value::Int64(n)])).await?;
//! let token = rows.cancel_token()?;
//! tokio::spawn(async move { token.cancel().await });
//!
//! // Metadata: catalogs, schemas, tables with their columns, keys, server info.
//! use dbapi::metadata::{TableFilter, TableRef};
//! for table in conn.tables(&TableFilter::new().schema("public").with_columns()).await? {
//!     println!("{}: {} columns", table.name, table.columns.len());
//! }
//! let keys = conn.primary_keys(&TableRef::new("t").in_schema("public")).await?;
//! let info = conn.server_info().await?;
//! # Ok(()) }
//! ```
#![cfg_attr(docsrs, feature(doc_cfg))]

// `#[derive(FromRow)]` names `::dbapi`, also inside this crate.
extern crate self as dbapi;

pub use crate::column::{Column, TypeCode};
pub use crate::connection::{Abandoned, Connection, Partitions};
pub use crate::cursor::{Cancel, CancelToken, Cursor, CursorExt, DEFAULT_ARRAYSIZE, FetchProgress};
pub use crate::error::{BoxError, Error, ErrorKind, Report, Result};
pub use crate::from_row::FromRow;
pub use crate::from_value::{FromValue, FromValueError};
pub use crate::params::{DEFAULT_CHUNK_BYTES, DEFAULT_CHUNK_ROWS, ParamSets, Params};
pub use crate::redact::{is_secret_key, redact_url};
pub use crate::registry::{Driver, Registry, connect, default_registry, register};
pub use crate::row::{BatchRows, Row, RowIndex};
pub use crate::statement::{IngestMode, PreparedStatement};
pub use crate::stream::{BatchReader, BatchStream, IntoStreams, RowStream};
pub use crate::transaction::{ConnectionExt, Savepoint, Transaction};
pub use crate::value::{Decimal, Value};
pub use crate::value_ref::{FromValueRef, ValueRef};
/// `#[derive(FromRow)]`: see [`from_row`].
#[cfg(feature = "derive")]
pub use dbapi_derive::FromRow;

/// Re-export of the Arrow crate this API is built on.
pub use arrow;

pub mod blocking;

/// What most programs use, in one import: `use dbapi::prelude::*;` brings the traits whose
/// methods they call (connections, cursors, their extensions, typed rows, owned streams) and
/// the parameter types and macro.
///
/// ```
/// use dbapi::prelude::*;
///
/// #[derive(FromRow)]
/// struct User {
///     id: i64,
///     name: String,
/// }
///
/// async fn users(conn: &dyn Connection) -> dbapi::Result<Vec<User>> {
///     let mut cursor = conn.cursor()?;
///     cursor.execute("SELECT id, name FROM users WHERE id > $1", params![0_i64]).await?;
///     cursor.fetchall_typed().await
/// }
/// ```
pub mod prelude {
    pub use crate::{
        Connection, ConnectionExt, Cursor, CursorExt, FromRow, IntoStreams, ParamSets, Params,
        PreparedStatement, Row, Value, params,
    };
}
pub mod driver;
pub mod from_row;
pub mod metadata;
#[cfg(feature = "pool")]
pub mod pool;
#[cfg(test)]
mod repo_docs;
pub mod serde_with;

mod bind;
mod column;
mod connection;
mod cursor;
mod de;
mod error;
mod extra_types;
mod from_value;
mod params;
mod reader;
mod redact;
mod registry;
mod result_set;
mod row;
mod ser;
mod sql;
mod statement;
mod stream;
mod transaction;
mod value;
mod value_ref;
