//! Bulk ingest: an async stream of batches handed to the driver as the blocking Arrow reader
//! ADBC's `bind_stream` takes, a few batches at a time.

use std::sync::{Arc, Mutex, PoisonError};

use adbc_core::options::{IngestMode as AdbcMode, OptionStatement, OptionValue};
use adbc_core::{Connection as _, Optionable, Statement as _};
use arrow::datatypes::SchemaRef;
use arrow::error::ArrowError;
use arrow::record_batch::{RecordBatch, RecordBatchReader};
use dbapi::{Error, IngestMode, Result};
use futures::StreamExt;
use futures::stream::BoxStream;
use tokio::sync::mpsc;

use crate::native::Native;

/// The first error of the caller's stream, kept to be returned instead of the driver's
/// report of it.
type FirstError = Arc<Mutex<Option<Error>>>;

/// The caller's batches as the driver reads them.
struct Reader {
    schema: SchemaRef,
    batches: mpsc::Receiver<Result<RecordBatch>>,
    first_error: FirstError,
}

impl Iterator for Reader {
    type Item = std::result::Result<RecordBatch, ArrowError>;

    fn next(&mut self) -> Option<Self::Item> {
        match self.batches.blocking_recv()? {
            Ok(batch) => Some(Ok(batch)),
            Err(e) => {
                let message = e.to_string();
                *self
                    .first_error
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner) = Some(e);
                Some(Err(ArrowError::ExternalError(message.into())))
            }
        }
    }
}

impl RecordBatchReader for Reader {
    fn schema(&self) -> SchemaRef {
        Arc::clone(&self.schema)
    }
}

fn mode(mode: IngestMode) -> Result<AdbcMode> {
    Ok(match mode {
        IngestMode::Create => AdbcMode::Create,
        IngestMode::Append => AdbcMode::Append,
        IngestMode::Replace => AdbcMode::Replace,
        IngestMode::CreateAppend => AdbcMode::CreateAppend,
        other => {
            return Err(Error::not_supported(format!(
                "ingest mode {other} is not supported by the ADBC driver"
            )));
        }
    })
}

/// Loads `batches` into `table`; the row count the driver reports (-1 when it does not).
pub(crate) async fn ingest(
    native: &Arc<Native>,
    table: &str,
    ingest_mode: IngestMode,
    mut batches: BoxStream<'static, Result<RecordBatch>>,
) -> Result<i64> {
    let adbc_mode = mode(ingest_mode)?;
    let Some(first) = batches.next().await.transpose()? else {
        return Err(Error::programming(format!(
            "ingest into {table}: the stream has no batch, so no schema to load with"
        )));
    };
    let schema = first.schema();
    let (tx, rx) = mpsc::channel(2);
    let forward = tokio::spawn(async move {
        if tx.send(Ok(first)).await.is_err() {
            return;
        }
        while let Some(item) = batches.next().await {
            let failed = item.is_err();
            if tx.send(item).await.is_err() || failed {
                return;
            }
        }
    });
    let first_error = FirstError::default();
    let reader = Reader {
        schema,
        batches: rx,
        first_error: Arc::clone(&first_error),
    };
    let target = table.to_owned();
    let outcome = native
        .run("ingesting", move |call| {
            let mut statement = call
                .conn
                .new_statement()
                .map_err(|e| call.error(e, "creating a statement"))?;
            statement
                .set_option(OptionStatement::TargetTable, OptionValue::String(target))
                .map_err(|e| call.error(e, "ingest: setting the table"))?;
            statement
                .set_option(OptionStatement::IngestMode, adbc_mode.into())
                .map_err(|e| call.error(e, "ingest: setting the mode"))?;
            statement
                .bind_stream(Box::new(reader))
                .map_err(|e| call.error(e, "ingest: binding the stream"))?;
            statement
                .execute_update()
                .map_err(|e| call.error(e, "ingesting"))
        })
        .await;
    forward.abort();
    if let Some(e) = first_error
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .take()
    {
        return Err(e.context(format!("ingest into {table}")));
    }
    Ok(outcome?.unwrap_or(-1))
}
