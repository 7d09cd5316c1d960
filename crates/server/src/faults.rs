//! What the server breaks on purpose, kept apart from the service so that the service reads as
//! a Flight SQL server: each fault is a knob here, grouped by what it breaks, and a hook the
//! service calls at one place.

use std::sync::Arc;
use std::time::Duration;

use arrow::datatypes::{Schema, SchemaRef};
use arrow::record_batch::RecordBatch;
use arrow_flight::FlightData;
use tonic::Status;

/// Every fault, none by default.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Faults {
    /// What breaks `DoGet` streams.
    pub streams: StreamFaults,
    /// What breaks the answers to calls.
    pub answers: AnswerFaults,
    /// What breaks the answers of `http(s)://` locations.
    pub http: HttpFaults,
}

/// Faults of `DoGet` streams.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StreamFaults {
    /// A pause before the first batch of every stream.
    pub delay_before_first_batch: Duration,
    /// A pause before each later batch of every stream (paces streams, so that tests can act
    /// while a stream is open).
    pub delay_between_batches: Duration,
    /// A pause before the first batch of one endpoint's stream (0-based), on top of
    /// `delay_before_first_batch`: one slow part among fast ones.
    pub slow_endpoint: Option<(usize, Duration)>,
    /// Serve the stream of this endpoint (0-based) with every column renamed (`<name>_x`):
    /// clients must reject a stream whose schema differs.
    pub rename_columns_in_endpoint: Option<usize>,
    /// Corrupt the stream of one endpoint (0-based).
    pub corrupt_endpoint: Option<(usize, Corruption)>,
    /// Send an empty message (no header, no body: a keep-alive) before every batch.
    pub empty_messages: bool,
    /// Every `n`th `DoGet` stream fails `UNAVAILABLE` before its first message, as a stream
    /// reset by a proxy does (0: never); counted in `Stats::streams_reset`. Its phase differs
    /// from that of `AnswerFaults::unavailable_every`'s kinds, so one query meets one fault.
    pub reset_every: u64,
}

/// Faults of answers.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AnswerFaults {
    /// Announce in `FlightInfo` a schema other than the streams' (every column renamed
    /// `<name>_partial` and typed `Utf8`), as a distributed engine announcing its
    /// partial-aggregate schema does: the streams' schema is the truth.
    pub announce_other_schema: bool,
    /// Answer errors in the user's SQL (syntax, planning, unknown names) with `INTERNAL`
    /// instead of `INVALID_ARGUMENT`, as some servers do.
    pub sql_errors_as_internal: bool,
    /// Redeem each ticket only once (a second `DoGet` of it is `NOT_FOUND`).
    pub tickets_once: bool,
    /// Every `n`th call of each kind (`Handshake`, `GetFlightInfo`, `PollFlightInfo`,
    /// `GetSchema`, `DoGet`, `DoPut`, `DoAction`) fails `UNAVAILABLE` before the server looks
    /// at it, as calls through a flaky proxy do (0: never); counted in
    /// `Stats::faults_injected`. Each kind has its own phase (the first `GetFlightInfo` to
    /// fail is not the first `DoGet` to), so that a query meets one fault, not several.
    pub unavailable_every: u64,
    /// A pause before answering each `GetFlightInfo`, as a server planning a long query does
    /// (the call still ends when the client goes away).
    pub plan_delay: Duration,
}

/// The kinds of calls [`AnswerFaults::unavailable_every`] counts apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CallKind {
    Handshake,
    GetFlightInfo,
    PollFlightInfo,
    GetSchema,
    DoGet,
    DoPut,
    DoAction,
}

impl CallKind {
    /// How many kinds there are.
    pub(crate) const COUNT: usize = 7;

    fn name(self) -> &'static str {
        match self {
            CallKind::Handshake => "Handshake",
            CallKind::GetFlightInfo => "GetFlightInfo",
            CallKind::PollFlightInfo => "PollFlightInfo",
            CallKind::GetSchema => "GetSchema",
            CallKind::DoGet => "DoGet",
            CallKind::DoPut => "DoPut",
            CallKind::DoAction => "DoAction",
        }
    }
}

/// Whether number `n` (from 1) of what `slot` counts (a kind of call, or
/// [`STREAM_SLOT`] for streams) is the one in `every` that fails. Each slot has its own phase,
/// spread over the period, so that faults of different kinds fall on different queries (a
/// query makes one call of several kinds): every `every`th of each kind still fails.
pub(crate) fn nth(every: u64, n: u64, slot: usize) -> bool {
    let phase = (slot as u64 * every) / (CallKind::COUNT as u64 + 1);
    every > 0 && (n + phase).is_multiple_of(every)
}

/// The phase slot of `StreamFaults::reset_every`, after the kinds of calls.
pub(crate) const STREAM_SLOT: usize = CallKind::COUNT;

/// Whether call number `n` (from 1) of a kind fails under `every`, and the status it fails
/// with.
pub(crate) fn injected(every: u64, n: u64, kind: CallKind) -> Option<Status> {
    nth(every, n, kind as usize).then(|| {
        Status::unavailable(format!(
            "injected fault: every {every}th {} call fails",
            kind.name()
        ))
    })
}

/// Faults of `http(s)://` locations.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HttpFaults {
    /// The `Content-Type` of answers (default: the Arrow IPC stream media type).
    pub content_type: Option<String>,
    /// Answers end cleanly in the middle of the first batch's message: a truncated Arrow IPC
    /// stream that only its decoder can notice.
    pub truncate: bool,
    /// Answers redirect this many times (`307`, relative `Location`) before the stream is
    /// served.
    pub redirects: usize,
}

/// How [`StreamFaults::corrupt_endpoint`] breaks a stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Corruption {
    /// After the schema, a message whose IPC header is garbage.
    GarbageHeader,
    /// The first batch with its body cut in half.
    TruncatedBody,
}

impl StreamFaults {
    /// The pause before batch `n` of the stream of endpoint `part`.
    pub(crate) fn delay(&self, part: usize, n: usize) -> Duration {
        if n == 0 {
            let slow = match self.slow_endpoint {
                Some((slow, pause)) if slow == part => pause,
                _ => Duration::ZERO,
            };
            self.delay_before_first_batch + slow
        } else {
            self.delay_between_batches
        }
    }

    /// The messages of batch `n` of endpoint `part`, broken as asked.
    pub(crate) fn break_messages(
        &self,
        part: usize,
        n: usize,
        messages: &mut Vec<Result<FlightData, Status>>,
    ) {
        if n == 0
            && let Some(corruption) = self
                .corrupt_endpoint
                .and_then(|(p, c)| (p == part).then_some(c))
        {
            corrupt(messages, corruption);
        }
        if self.empty_messages {
            messages.insert(0, Ok(FlightData::new()));
        }
    }

    /// The schema and batches of endpoint `part`, renamed when asked.
    pub(crate) fn rename(
        &self,
        part: usize,
        schema: SchemaRef,
        batches: Vec<RecordBatch>,
    ) -> Result<(SchemaRef, Vec<RecordBatch>), Status> {
        if self.rename_columns_in_endpoint != Some(part) {
            return Ok((schema, batches));
        }
        let fields: Vec<arrow::datatypes::Field> = schema
            .fields()
            .iter()
            .map(|f| f.as_ref().clone().with_name(format!("{}_x", f.name())))
            .collect();
        let renamed = Arc::new(Schema::new(fields));
        let batches = batches
            .into_iter()
            .map(|b| RecordBatch::try_new(Arc::clone(&renamed), b.columns().to_vec()))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| Status::internal(e.to_string()))?;
        Ok((renamed, batches))
    }
}

impl AnswerFaults {
    /// An error as the faulty server answers it.
    pub(crate) fn status(&self, status: Status) -> Status {
        if self.sql_errors_as_internal && status.code() == tonic::Code::InvalidArgument {
            Status::internal(status.message())
        } else {
            status
        }
    }

    /// The schema a `FlightInfo` announces for results of `schema`.
    pub(crate) fn announced(&self, schema: &Schema) -> Schema {
        if !self.announce_other_schema {
            return schema.clone();
        }
        Schema::new(
            schema
                .fields()
                .iter()
                .map(|f| {
                    arrow::datatypes::Field::new(
                        format!("{}_partial", f.name()),
                        arrow::datatypes::DataType::Utf8,
                        true,
                    )
                })
                .collect::<Vec<_>>(),
        )
    }
}

fn corrupt(messages: &mut [Result<FlightData, Status>], corruption: Corruption) {
    let Some(Ok(last)) = messages.last_mut() else {
        return;
    };
    match corruption {
        Corruption::GarbageHeader => {
            last.data_header = bytes::Bytes::from_static(b"\x08\x00\x00\x00not an IPC message");
        }
        Corruption::TruncatedBody => {
            last.data_body = last.data_body.slice(..last.data_body.len() / 2);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_nth_of_each_kind_fails_at_its_own_phase() {
        for slot in 0..=STREAM_SLOT {
            assert_eq!(
                (1..=200).filter(|&n| nth(20, n, slot)).count(),
                10,
                "{slot}"
            );
            assert!((1..=5).all(|n| nth(1, n, slot)));
            assert!(!(1..=50).any(|n| nth(0, n, slot)));
        }
        // The n-th call of two kinds (one query's GetFlightInfo and DoGet) never both fail.
        let (info, get) = (CallKind::GetFlightInfo as usize, CallKind::DoGet as usize);
        assert!(
            !(1..=1000).any(|n| nth(20, n, info) && (nth(20, n, get) || nth(20, n, STREAM_SLOT)))
        );
    }
}
