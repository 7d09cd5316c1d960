//! Lazy, ordered reading of every endpoint of a result, with bounded read-ahead.

use std::collections::VecDeque;

use arrow::datatypes::{Schema, SchemaRef};
use arrow::record_batch::RecordBatch;
use arrow_flight::FlightEndpoint;
use async_trait::async_trait;
use dbapi::{BatchSource, Error, Result};
use tokio::sync::mpsc;
use tokio::task::AbortHandle;

use crate::client::{FlightSqlClient, StreamItem};

/// Messages buffered per open endpoint.
const BUFFERED_MESSAGES: usize = 2;

/// An endpoint being read by its own task.
#[derive(Debug)]
struct Open {
    index: usize,
    rx: mpsc::Receiver<Result<StreamItem>>,
    task: AbortHandle,
}

/// The batches of every endpoint of one `FlightInfo`, in endpoint order.
///
/// Nothing is requested until the first [`BatchSource::next_batch`]; then the current
/// endpoint and up to `read_ahead` following ones are read by background tasks, each
/// buffering at most [`BUFFERED_MESSAGES`] messages, so memory stays bounded whatever the
/// size of the result. Dropping the stream cancels every open `DoGet`.
#[derive(Debug)]
pub(crate) struct EndpointStream {
    client: FlightSqlClient,
    waiting: VecDeque<FlightEndpoint>,
    open: VecDeque<Open>,
    next_index: usize,
    total: usize,
    read_ahead: usize,
    /// The schema announced in the `FlightInfo`, if any.
    announced: Option<SchemaRef>,
    /// The schema of the first stream: every other stream must match it.
    schema: Option<SchemaRef>,
    failed: bool,
}

impl EndpointStream {
    pub(crate) fn new(
        client: FlightSqlClient,
        endpoints: Vec<FlightEndpoint>,
        schema: Option<SchemaRef>,
    ) -> EndpointStream {
        let read_ahead = client.config().read_ahead();
        EndpointStream {
            client,
            total: endpoints.len(),
            waiting: endpoints.into(),
            open: VecDeque::new(),
            next_index: 0,
            read_ahead,
            announced: schema,
            schema: None,
            failed: false,
        }
    }

    /// Opens endpoints until the current one and `read_ahead` more are open.
    fn top_up(&mut self) {
        while self.open.len() <= self.read_ahead {
            let Some(endpoint) = self.waiting.pop_front() else {
                return;
            };
            let (tx, rx) = mpsc::channel(BUFFERED_MESSAGES);
            let client = self.client.clone();
            let task = tokio::spawn(pump(client, endpoint, tx)).abort_handle();
            self.open.push_back(Open {
                index: self.next_index,
                rx,
                task,
            });
            self.next_index += 1;
        }
    }

    fn abort_all(&mut self) {
        for open in self.open.drain(..) {
            open.task.abort();
        }
        self.waiting.clear();
    }

    fn check_schema(&mut self, index: usize, schema: &SchemaRef) -> Result<()> {
        match &self.schema {
            None => {
                self.schema = Some(schema.clone());
                Ok(())
            }
            Some(expected) if same_columns(expected, schema) => Ok(()),
            Some(expected) => Err(Error::internal(format!(
                "endpoint {} of {}: schema differs from the first endpoint's: expected {}, got {}",
                index + 1,
                self.total,
                describe(expected),
                describe(schema)
            ))),
        }
    }
}

impl Drop for EndpointStream {
    fn drop(&mut self) {
        self.abort_all();
    }
}

/// Same column names and types, ignoring metadata and nullability.
fn same_columns(a: &Schema, b: &Schema) -> bool {
    a.fields().len() == b.fields().len()
        && a.fields()
            .iter()
            .zip(b.fields())
            .all(|(x, y)| x.name() == y.name() && x.data_type() == y.data_type())
}

fn describe(schema: &Schema) -> String {
    let columns: Vec<String> = schema
        .fields()
        .iter()
        .map(|f| format!("{}: {}", f.name(), f.data_type()))
        .collect();
    format!("({})", columns.join(", "))
}

/// Reads one endpoint into a channel; stops when the receiver is gone.
async fn pump(
    client: FlightSqlClient,
    endpoint: FlightEndpoint,
    tx: mpsc::Sender<Result<StreamItem>>,
) {
    let mut reader = match client.do_get_endpoint(&endpoint).await {
        Ok(reader) => reader,
        Err(e) => {
            let _ = tx.send(Err(e)).await;
            return;
        }
    };
    loop {
        match reader.next_item().await {
            Ok(Some(item)) => {
                if tx.send(Ok(item)).await.is_err() {
                    return;
                }
            }
            Ok(None) => return,
            Err(e) => {
                let _ = tx.send(Err(e)).await;
                return;
            }
        }
    }
}

#[async_trait]
impl BatchSource for EndpointStream {
    async fn next_batch(&mut self) -> Result<Option<RecordBatch>> {
        if self.failed {
            return Err(Error::interface(
                "the result was interrupted by an earlier error; execute the statement again",
            ));
        }
        loop {
            self.top_up();
            let Some(open) = self.open.front_mut() else {
                return Ok(None);
            };
            let index = open.index;
            let item = match open.rx.recv().await {
                Some(item) => item,
                None => {
                    self.open.pop_front();
                    continue;
                }
            };
            let outcome = match item {
                Ok(StreamItem::Schema(schema)) => self.check_schema(index, &schema).map(|()| None),
                Ok(StreamItem::Batch(batch)) => self
                    .check_schema(index, &batch.schema())
                    .map(|()| Some(batch)),
                Err(e) => Err(e.context(format_args!("endpoint {} of {}", index + 1, self.total))),
            };
            match outcome {
                Ok(Some(batch)) => return Ok(Some(batch)),
                Ok(None) => {}
                Err(e) => {
                    self.failed = true;
                    self.abort_all();
                    return Err(e);
                }
            }
        }
    }

    fn schema(&self) -> Option<SchemaRef> {
        self.schema.clone().or_else(|| self.announced.clone())
    }
}
