//! Lazy, ordered reading of every endpoint of a result, with bounded read-ahead.

use std::collections::VecDeque;
use std::sync::Arc;

use arrow::datatypes::{Schema, SchemaRef};
use arrow::record_batch::RecordBatch;
use arrow_flight::FlightEndpoint;
use async_trait::async_trait;
use dbapi::driver::{BatchSource, Batches};
use dbapi::{Column, Error, Result};
use tokio::sync::mpsc;
use tokio::task::AbortHandle;
use tokio_util::sync::CancellationToken;

use crate::client::{FlightSqlClient, after_retries, sleep_until};
use crate::decode::StreamItem;
use crate::read::poll::Poller;
use crate::transport::telemetry::{self, Trace};
use crate::transport::{runtime, shown};

/// Messages buffered per open endpoint.
const BUFFERED_MESSAGES: usize = 2;

/// An endpoint being read by its own task.
#[derive(Debug)]
struct Open {
    index: usize,
    /// Items of the endpoint; `Ok(None)` marks its end.
    rx: mpsc::Receiver<Result<Option<StreamItem>>>,
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
    /// Endpoints read to their end.
    done: usize,
    read_ahead: usize,
    /// The schema announced in the `FlightInfo`, if any.
    announced: Option<SchemaRef>,
    /// The schema of the first stream: every other stream must match it.
    schema: Option<SchemaRef>,
    failed: bool,
    /// Cancels the reading (from another task, through a cancel token).
    cancel: CancellationToken,
    /// Where more endpoints come from, for a query run through `PollFlightInfo`.
    poller: Option<Poller>,
    /// Whether a `DoGet` that failed before its first message may be sent again (not for
    /// the result of a statement that changes data: a server may run it at `DoGet`).
    repeatable: bool,
    /// The trace of the statement whose result this is: its endpoints' calls belong to it.
    trace: Trace,
    /// Whether batches are delivered as they arrive from any open endpoint (an unordered
    /// result, URL key `arrival_order`), not endpoint after endpoint.
    arrival: bool,
    /// The open endpoint looked at first in arrival order (each gets its turn).
    turn: usize,
}

/// The error of a fetch after a cancellation.
pub(crate) fn cancelled() -> Error {
    Error::operational("the statement was cancelled").cancelled()
}

impl EndpointStream {
    pub(crate) fn new(
        client: FlightSqlClient,
        endpoints: Vec<FlightEndpoint>,
        schema: Option<SchemaRef>,
        cancel: CancellationToken,
        poller: Option<Poller>,
    ) -> EndpointStream {
        let read_ahead = client.config().read_ahead();
        EndpointStream {
            client,
            total: endpoints.len(),
            done: 0,
            waiting: endpoints.into(),
            open: VecDeque::new(),
            next_index: 0,
            read_ahead,
            announced: schema,
            schema: None,
            failed: false,
            cancel,
            poller,
            repeatable: true,
            trace: Trace::current(),
            arrival: false,
            turn: 0,
        }
    }

    /// Delivers batches as they arrive from any open endpoint, for a result whose order does
    /// not matter (`FlightInfo.ordered` false) when the connection asks for it (URL key
    /// `arrival_order`).
    pub(crate) fn in_arrival_order(mut self, ordered: bool) -> EndpointStream {
        self.arrival = !ordered && self.client.config().arrival_order();
        self
    }

    /// The stream of a statement that changes data: no `DoGet` is sent twice unless its
    /// ticket says it may be redeemed again.
    pub(crate) fn once(mut self) -> EndpointStream {
        self.repeatable = false;
        self
    }

    /// Endpoints read to their end, and all endpoints when known (not while a polled query may
    /// still add some).
    pub(crate) fn parts(&self) -> (usize, Option<usize>) {
        let known = self.poller.as_ref().is_none_or(Poller::is_done);
        (self.done, known.then_some(self.total))
    }

    /// Fails the stream: open reads stop, later reads get `error`'s kind of answer.
    fn fail(&mut self) {
        self.failed = true;
        self.abort_all();
    }

    /// Opens endpoints until the current one and `read_ahead` more are open.
    fn top_up(&mut self) -> Result<()> {
        while self.open.len() <= self.read_ahead {
            if self.waiting.is_empty() {
                return Ok(());
            }
            let runtime = runtime()?;
            let Some(endpoint) = self.waiting.pop_front() else {
                return Ok(());
            };
            let (tx, rx) = mpsc::channel(BUFFERED_MESSAGES);
            let client = self.client.clone();
            let span = tracing::debug_span!(
                "flightsql.endpoint",
                endpoint = self.next_index,
                locations = ?endpoint.location.iter().map(|l| shown(&l.uri)).collect::<Vec<_>>(),
            );
            let task = runtime
                .spawn(tracing::Instrument::instrument(
                    self.trace.bind(pump(client, endpoint, tx, self.repeatable)),
                    span,
                ))
                .abort_handle();
            self.open.push_back(Open {
                index: self.next_index,
                rx,
                task,
            });
            self.next_index += 1;
        }
        Ok(())
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

/// How many times an endpoint is re-read after a transient failure.
const MAX_RETRIES: u32 = 3;

/// Whether the ticket of an endpoint may be redeemed again: its `expiration_time` is set
/// and in the future.
fn may_retry(endpoint: &FlightEndpoint) -> bool {
    expires_after(endpoint, std::time::Duration::ZERO) == Some(true)
}

/// Seconds from now to an endpoint's expiration (negative once expired); `None` when it does
/// not expire.
fn expires_in(endpoint: &FlightEndpoint) -> Option<f64> {
    endpoint.expiration_time.as_ref().map(|t| {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        (t.seconds as f64 + f64::from(t.nanos) / 1e9) - now.as_secs_f64()
    })
}

/// Whether an endpoint's expiration is later than `from_now` from now; `None` when it does
/// not expire.
fn expires_after(endpoint: &FlightEndpoint, from_now: std::time::Duration) -> Option<bool> {
    expires_in(endpoint).map(|left| left > from_now.as_secs_f64())
}

/// Whether an error may go away on a second try (not a SQL error, auth failure...).
fn is_transient(e: &Error) -> bool {
    !e.is_auth()
        && matches!(
            e.kind(),
            dbapi::ErrorKind::Operational | dbapi::ErrorKind::Internal | dbapi::ErrorKind::Database
        )
}

/// `error` of reading `endpoint`, saying so when the endpoint had expired (its ticket may be
/// why: a result's parts kept too long, read after the server forgot them).
fn with_expiry(error: Error, endpoint: &FlightEndpoint) -> Error {
    let expired = match expires_in(endpoint) {
        Some(left) if left < 0.0 => -left,
        _ => return error,
    };
    error.context(format_args!(
        "the endpoint expired {expired:.1} s before this read (its expiration_time) and was not \
         renewed"
    ))
}

/// How close to its expiration an endpoint is renewed before it is read.
const RENEW_MARGIN: std::time::Duration = std::time::Duration::from_secs(5);

/// Whether an endpoint expires within [`RENEW_MARGIN`] (or has expired).
fn expires_soon(endpoint: &FlightEndpoint) -> bool {
    expires_after(endpoint, RENEW_MARGIN) == Some(false)
}

/// The endpoint to read: renewed through `RenewFlightEndpoint` when it is about to expire
/// (endpoints read after others may be); the endpoint as it is when the server does not renew.
async fn renewed(client: &FlightSqlClient, endpoint: FlightEndpoint) -> FlightEndpoint {
    if !expires_soon(&endpoint) {
        return endpoint;
    }
    match client.renew_flight_endpoint(&endpoint).await {
        Ok(renewed) => {
            tracing::debug!("endpoint renewed before its expiration");
            renewed
        }
        Err(e) => {
            tracing::info!(error = %e, "cannot renew the endpoint; reading it as it is");
            endpoint
        }
    }
}

/// Reads one endpoint into a channel; stops when the receiver is gone.
///
/// A transient failure is retried, with the connection's backoff, when nothing was received
/// yet (within its retry policy), or (up to [`MAX_RETRIES`] times) when the endpoint's ticket
/// may be redeemed again. Rows already delivered are
/// skipped in the re-read stream, so none is delivered twice.
async fn pump(
    client: FlightSqlClient,
    endpoint: FlightEndpoint,
    tx: mpsc::Sender<Result<Option<StreamItem>>>,
    repeatable: bool,
) {
    let endpoint = renewed(&client, endpoint).await;
    let mut delivered_rows = 0_usize;
    let mut delivered_bytes = 0_usize;
    let mut received_anything = false;
    let mut attempt = 0_u32;
    let started = std::time::Instant::now();
    let policy = client.retry();
    loop {
        let attempt_started = std::time::Instant::now();
        let error = match read_endpoint(
            &client,
            &endpoint,
            &tx,
            &mut delivered_rows,
            &mut delivered_bytes,
            &mut received_anything,
        )
        .await
        {
            Ok(()) => {
                tracing::debug!(
                    rows = delivered_rows,
                    bytes = delivered_bytes,
                    elapsed_ms = started.elapsed().as_secs_f64() * 1e3,
                    "endpoint read"
                );
                let _ = tx.send(Ok(None)).await;
                return;
            }
            Err(None) => {
                tracing::debug!(
                    rows = delivered_rows,
                    "endpoint abandoned: the cursor is gone"
                );
                return;
            }
            Err(Some(e)) => e,
        };
        // Before its first message a `DoGet` is safe to repeat (the connection's retry
        // policy); later, only a ticket that may be redeemed again, skipping the rows
        // already delivered.
        // The wait counts from the start of the attempt that failed, as for every retry.
        let wait = policy.wait(attempt);
        let resume = attempt_started + wait;
        let retry = (repeatable
            && !received_anything
            && error.is_transient()
            && policy.allows(attempt, started, resume))
            || (attempt < MAX_RETRIES && is_transient(&error) && may_retry(&endpoint));
        if !retry {
            let error = after_retries(error, attempt, &policy);
            let _ = tx.send(Err(with_expiry(error, &endpoint))).await;
            return;
        }
        tracing::warn!(
            attempt = attempt + 1,
            rows_delivered = delivered_rows,
            wait_ms = wait.as_secs_f64() * 1e3,
            error = %error,
            "endpoint failed; retrying"
        );
        telemetry::retried("DoGet");
        sleep_until(resume).await;
        attempt += 1;
    }
}

/// One attempt at reading an endpoint, skipping the first `delivered_rows` rows.
/// `Err(None)`: the receiver is gone.
async fn read_endpoint(
    client: &FlightSqlClient,
    endpoint: &FlightEndpoint,
    tx: &mpsc::Sender<Result<Option<StreamItem>>>,
    delivered_rows: &mut usize,
    delivered_bytes: &mut usize,
    received_anything: &mut bool,
) -> Result<(), Option<Error>> {
    let mut reader = client.do_get_endpoint(endpoint).await.map_err(Some)?;
    let mut skip = *delivered_rows;
    let mut sent_schema = *received_anything;
    while let Some(item) = reader.next_item().await.map_err(Some)? {
        *received_anything = true;
        let item = match item {
            StreamItem::Schema(_) if sent_schema => continue,
            StreamItem::Schema(schema) => {
                sent_schema = true;
                StreamItem::Schema(schema)
            }
            StreamItem::Batch(batch) if skip >= batch.num_rows() => {
                skip -= batch.num_rows();
                continue;
            }
            StreamItem::Batch(batch) => {
                let batch = batch.slice(skip, batch.num_rows() - skip);
                skip = 0;
                *delivered_rows += batch.num_rows();
                *delivered_bytes += batch.get_array_memory_size();
                StreamItem::Batch(batch)
            }
        };
        if tx.send(Ok(Some(item))).await.is_err() {
            return Err(None);
        }
    }
    Ok(())
}

/// The next item of the open endpoints (at least one), with the position of the endpoint it
/// came from: the first endpoint's, or in arrival order whichever endpoint's is ready first,
/// each endpoint looked at first in turn so that none waits behind a busy one.
async fn next_item(
    open: &mut VecDeque<Open>,
    arrival: bool,
    turn: &mut usize,
) -> (usize, Option<Result<Option<StreamItem>>>) {
    if !arrival || open.len() == 1 {
        return (0, open[0].rx.recv().await);
    }
    std::future::poll_fn(|cx| {
        let n = open.len();
        for k in 0..n {
            let position = (*turn + k) % n;
            if let std::task::Poll::Ready(received) = open[position].rx.poll_recv(cx) {
                *turn = position + 1;
                return std::task::Poll::Ready((position, received));
            }
        }
        std::task::Poll::Pending
    })
    .await
}

#[async_trait]
impl BatchSource for EndpointStream {
    async fn next_batch(&mut self) -> Result<Option<RecordBatch>> {
        if self.cancel.is_cancelled() {
            self.fail();
            return Err(cancelled());
        }
        if self.failed {
            return Err(Error::interface(
                "the result was interrupted by an earlier error; execute the statement again",
            ));
        }
        loop {
            self.top_up()?;
            if self.open.is_empty() {
                let Some(poller) = self.poller.as_mut().filter(|p| !p.is_done()) else {
                    return Ok(None);
                };
                let more = tokio::select! {
                    biased;
                    () = self.cancel.cancelled() => Err(cancelled()),
                    more = poller.more(&self.client) => more,
                };
                match more {
                    Ok(endpoints) => {
                        self.total += endpoints.len();
                        self.waiting.extend(endpoints);
                        continue;
                    }
                    Err(e) => {
                        self.fail();
                        return Err(e);
                    }
                }
            }
            let (position, received) = tokio::select! {
                biased;
                () = self.cancel.cancelled() => {
                    self.fail();
                    return Err(cancelled());
                }
                received = next_item(&mut self.open, self.arrival, &mut self.turn) => received,
            };
            let index = self.open[position].index;
            let item = match received {
                Some(Ok(Some(item))) => Ok(item),
                Some(Ok(None)) => {
                    self.open.remove(position);
                    self.done += 1;
                    continue;
                }
                Some(Err(e)) => Err(e),
                // The reading task ended without saying so: never treat that as the end.
                None => Err(Error::internal(
                    "the task reading this endpoint stopped unexpectedly",
                )),
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
                    self.fail();
                    return Err(e);
                }
            }
        }
    }

    fn schema(&self) -> Option<SchemaRef> {
        self.schema.clone().or_else(|| self.announced.clone())
    }

    fn describe(&self, schema: &Schema) -> Arc<[Column]> {
        crate::decode::describe(schema)
    }
}

/// Where a cursor's result comes from: endpoints being read, or batches already read (the
/// result of a statement that changes data, read to learn its row count).
#[derive(Debug)]
pub(crate) enum Source {
    Endpoints(Box<EndpointStream>),
    Memory(Batches),
}

#[async_trait]
impl BatchSource for Source {
    async fn next_batch(&mut self) -> Result<Option<RecordBatch>> {
        match self {
            Source::Endpoints(s) => s.next_batch().await,
            Source::Memory(s) => s.next_batch().await,
        }
    }

    fn schema(&self) -> Option<SchemaRef> {
        match self {
            Source::Endpoints(s) => s.schema(),
            Source::Memory(s) => s.schema(),
        }
    }

    fn describe(&self, schema: &Schema) -> Arc<[Column]> {
        crate::decode::describe(schema)
    }
}
