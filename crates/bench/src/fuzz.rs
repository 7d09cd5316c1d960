//! `dbapi-bench fuzz`: a structure-aware fuzzer of everything an Arrow IPC stream (a server's
//! answer, a file) reaches: the framing, the decode guard, Arrow's decoders and the checks
//! after them, through [`dbapi_flightsql::IpcFileReader`] — the path of `\copy FROM`, HTTP
//! locations and (message by message) `DoGet`.
//!
//! Seeds are real streams (every type the driver maps, dictionaries, compressed with LZ4 and
//! ZSTD and not) and every stream of the hostile server. A mutation works on the stream's
//! messages: scalars of the flatbuffer header overwritten in place with lengths that matter
//! (row counts, node lengths, buffer offsets and lengths, body lengths, bit widths — the
//! header stays a valid flatbuffer, so the input reaches the layout checks and Arrow's
//! decoders), bits flipped, body bytes and compressed-length prefixes changed, messages
//! dropped, repeated, swapped or cut short.
//!
//! A failure is a panic (escaping the driver, or inside Arrow's decoders where the driver's
//! `catch_unwind` contains it: the process goes on, but each is a check the guard lacks), an
//! input taking over a second, or memory above idle beyond 64 MiB per thread (each reads one
//! input at a time). The report says how many inputs ran, how many ended where (refused by
//! the framing or the guard's checks before decoding, decoded, refused by a decoder or the
//! checks after it) and how many failed.

use std::io::Cursor;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use arrow::array::{
    ArrayRef, BooleanArray, Decimal128Array, DictionaryArray, Float64Array, Int32Array, Int64Array,
    ListArray, StringArray, StructArray, TimestampNanosecondArray,
};
use arrow::datatypes::{DataType, Field, Int32Type};
use arrow::ipc::CompressionType;
use arrow::ipc::writer::{IpcWriteOptions, StreamWriter};
use arrow::record_batch::RecordBatch;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Panics seen by the hook (contained by `catch_unwind` or not).
static PANICS: AtomicU64 = AtomicU64::new(0);

/// Where panics happened (file and line, message): the first of each place.
static PLACES: std::sync::Mutex<Vec<(String, String)>> = std::sync::Mutex::new(Vec::new());

/// What the fuzzer found.
#[derive(Debug, Default, Clone)]
pub struct Report {
    /// Inputs run.
    pub inputs: u64,
    /// Refused by the framing or the decode guard before any decoder read them.
    pub refused_before_decoding: u64,
    /// Decoded to their end (every batch) without error.
    pub decoded: u64,
    /// Refused by an Arrow decoder or by the checks after decoding.
    pub refused_by_decoders: u64,
    /// Panics that escaped the driver (each one a failure).
    pub panics: u64,
    /// Panics inside Arrow's decoders that the driver's `catch_unwind` turned into errors
    /// (the process goes on, but each is a decoder trusting what the guard should have
    /// checked: a failure too).
    pub contained_panics: u64,
    /// Inputs that took over a second.
    pub slow: u64,
    /// Whether memory above idle went beyond 64 MiB per thread.
    pub over_memory: bool,
    /// The largest memory above idle seen, in MiB.
    pub peak_mib: f64,
    /// The first inputs that failed (hex), for regression tests.
    pub examples: Vec<String>,
    /// Where panics happened: file and line, and the message.
    pub panic_places: Vec<(String, String)>,
}

impl Report {
    /// The share of inputs that got past the flatbuffer and layout checks into the decoders.
    pub fn reached_decoders(&self) -> f64 {
        (self.decoded + self.refused_by_decoders) as f64 / self.inputs.max(1) as f64
    }

    /// Inputs that failed.
    pub fn failures(&self) -> u64 {
        self.panics + self.contained_panics + self.slow + u64::from(self.over_memory)
    }
}

/// A small fast generator (xorshift64*): reproducible runs from a seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// One message of a stream: its flatbuffer header and its body.
#[derive(Clone)]
struct Message {
    header: Vec<u8>,
    body: Vec<u8>,
}

/// The messages of an IPC stream (continuation-prefixed), up to its end marker.
fn split(stream: &[u8]) -> Vec<Message> {
    let mut out = Vec::new();
    let mut at = 0;
    while at + 8 <= stream.len() {
        let len = i32::from_le_bytes([
            stream[at + 4],
            stream[at + 5],
            stream[at + 6],
            stream[at + 7],
        ]);
        if len <= 0 {
            break;
        }
        let header = &stream[at + 8..at + 8 + len as usize];
        let body_len = arrow::ipc::root_as_message(header)
            .map(|m| m.bodyLength() as usize)
            .unwrap_or(0);
        let start = at + 8 + len as usize;
        out.push(Message {
            header: header.to_vec(),
            body: stream[start..start + body_len].to_vec(),
        });
        at = start + body_len;
    }
    out
}

/// The messages framed as an IPC stream again (headers padded to 8 bytes), with its end
/// marker.
fn join(messages: &[Message]) -> Vec<u8> {
    let mut out = Vec::new();
    for m in messages {
        let padded = m.header.len().div_ceil(8) * 8;
        out.extend_from_slice(&[0xff; 4]);
        out.extend_from_slice(&(padded as i32).to_le_bytes());
        out.extend_from_slice(&m.header);
        out.resize(out.len() + padded - m.header.len(), 0);
        out.extend_from_slice(&m.body);
    }
    out.extend_from_slice(&[0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0]);
    out
}

/// Values that matter where a header holds a length, an offset, a count or a width.
const INTERESTING: [i64; 16] = [
    0,
    1,
    -1,
    7,
    8,
    64,
    255,
    4096,
    1 << 20,
    (1 << 20) + 1,
    i32::MAX as i64,
    1 << 31,
    1 << 32,
    1 << 40,
    i64::MAX,
    i64::MIN,
];

fn mutate(seed: &[Message], rng: &mut Rng) -> bytes::Bytes {
    let mut messages = seed.to_vec();
    let rounds = 1 + rng.below(3);
    for _ in 0..rounds {
        if messages.is_empty() {
            break;
        }
        let i = rng.below(messages.len());
        match rng.below(10) {
            // A scalar of the header, in place: 4- or 8-byte aligned words hold the lengths,
            // offsets and counts of nodes, buffers and the message.
            0..=3 => {
                let h = &mut messages[i].header;
                let width = if rng.below(2) == 0 { 4 } else { 8 };
                if h.len() >= width {
                    let at = rng.below(h.len() / width) * width;
                    let value = INTERESTING[rng.below(INTERESTING.len())]
                        .wrapping_add(rng.below(3) as i64 - 1);
                    let bytes = value.to_le_bytes();
                    h[at..at + width].copy_from_slice(&bytes[..width]);
                }
            }
            // A bit of the header.
            4 => {
                let h = &mut messages[i].header;
                if !h.is_empty() {
                    let at = rng.below(h.len());
                    h[at] ^= 1 << rng.below(8);
                }
            }
            // Body bytes: a compressed buffer's length prefix, data.
            5 | 6 => {
                let b = &mut messages[i].body;
                if b.len() >= 8 {
                    let at = rng.below(b.len() / 8) * 8;
                    let value = INTERESTING[rng.below(INTERESTING.len())];
                    b[at..at + 8].copy_from_slice(&value.to_le_bytes());
                } else if !b.is_empty() {
                    let at = rng.below(b.len());
                    b[at] = rng.next() as u8;
                }
            }
            // Messages dropped, repeated, swapped.
            7 => {
                messages.remove(i);
            }
            8 => {
                let m = messages[i].clone();
                messages.insert(rng.below(messages.len() + 1), m);
            }
            _ => {
                let j = rng.below(messages.len());
                messages.swap(i, j);
            }
        }
    }
    let mut out = join(&messages);
    // Now and then, cut short.
    if rng.below(16) == 0 && !out.is_empty() {
        out.truncate(rng.below(out.len()));
    }
    bytes::Bytes::from(out)
}

/// Real streams: every column type the driver maps, a dictionary, nulls, nested types,
/// compressed each way.
fn real_seeds() -> Result<Vec<Vec<u8>>, BoxError> {
    let rows = 64;
    let ids: Vec<i64> = (0..rows).collect();
    let list = ListArray::from_iter_primitive::<Int32Type, _, _>(
        (0..rows).map(|i| Some((0..i % 4).map(|v| Some(v as i32)).collect::<Vec<_>>())),
    );
    let strukt = StructArray::from(vec![
        (
            Arc::new(Field::new("a", DataType::Int32, true)),
            Arc::new(Int32Array::from_iter((0..rows).map(|i| Some(i as i32)))) as ArrayRef,
        ),
        (
            Arc::new(Field::new("b", DataType::Utf8, true)),
            Arc::new(StringArray::from_iter(
                (0..rows).map(|i| (i % 3 != 0).then(|| format!("s{i}"))),
            )) as ArrayRef,
        ),
    ]);
    let dictionary: DictionaryArray<Int32Type> = (0..rows)
        .map(|i| ["x", "y", "z"][(i % 3) as usize])
        .collect();
    let batch = RecordBatch::try_from_iter([
        ("id", Arc::new(Int64Array::from(ids)) as ArrayRef),
        (
            "f",
            Arc::new(Float64Array::from_iter(
                (0..rows).map(|i| (i % 5 != 0).then_some(i as f64)),
            )),
        ),
        (
            "s",
            Arc::new(StringArray::from_iter_values(
                (0..rows).map(|i| format!("row {i}")),
            )),
        ),
        (
            "b",
            Arc::new(BooleanArray::from_iter((0..rows).map(|i| Some(i % 2 == 0)))),
        ),
        (
            "d",
            Arc::new(
                Decimal128Array::from_iter_values((0..rows).map(|i| i as i128 * 101))
                    .with_precision_and_scale(10, 2)?,
            ),
        ),
        (
            "t",
            Arc::new(
                TimestampNanosecondArray::from_iter_values((0..rows).map(|i| i * 1_000_000_007))
                    .with_timezone("UTC"),
            ),
        ),
        ("l", Arc::new(list) as ArrayRef),
        ("st", Arc::new(strukt) as ArrayRef),
        ("dict", Arc::new(dictionary) as ArrayRef),
    ])?;
    let mut seeds = Vec::new();
    for codec in [
        None,
        Some(CompressionType::LZ4_FRAME),
        Some(CompressionType::ZSTD),
    ] {
        let options = IpcWriteOptions::default().try_with_compression(codec)?;
        let mut out = Vec::new();
        {
            let mut writer =
                StreamWriter::try_new_with_options(&mut out, &batch.schema(), options)?;
            writer.write(&batch)?;
            writer.write(&batch.slice(3, 20))?;
            writer.finish()?;
        }
        seeds.push(out);
    }
    Ok(seeds)
}

/// Every seed: real streams and the hostile server's.
fn seeds() -> Result<Vec<Vec<Message>>, BoxError> {
    let mut all = real_seeds()?;
    for case in dbapi_flightsql_server::hostile::cases::STREAMS {
        if let Ok(stream) = dbapi_flightsql_server::hostile::ipc_stream(case) {
            all.push(stream);
        }
    }
    Ok(all
        .iter()
        .map(|s| split(s))
        .filter(|m| !m.is_empty())
        .collect())
}

/// How an input ended.
enum Outcome {
    Guard,
    Decoded,
    Decoder,
}

/// The limits inputs are read under: a decoded message of at most 8 MiB, so that what one
/// input may legitimately hold stays well inside the 64 MiB the fuzzer allows above idle.
fn limits() -> dbapi_flightsql::Config {
    dbapi_flightsql::Config::new("localhost", 0).with_max_message_size(8 << 20)
}

fn run_one(input: bytes::Bytes, config: &dbapi_flightsql::Config) -> Outcome {
    let reader = match dbapi_flightsql::IpcFileReader::with_config(Cursor::new(input), config) {
        Ok(reader) => reader,
        Err(e) => return classify(&e.to_string()),
    };
    for batch in reader {
        match batch {
            // What readers of rows do with a batch: look at every array's size.
            Ok(batch) => {
                std::hint::black_box(batch.get_array_memory_size());
            }
            Err(e) => return classify(&e.to_string()),
        }
    }
    Outcome::Decoded
}

/// Whether an error came from the framing or the guard's checks before decoding, or from
/// a decoder or the checks after it.
fn classify(message: &str) -> Outcome {
    const BEFORE: [&str; 8] = [
        "invalid IPC message header",
        "malformed message",
        "truncated",
        "is larger than",
        "the Arrow IPC stream",
        "holds no schema",
        "declares",
        "undecodable",
    ];
    if BEFORE.iter().any(|b| message.contains(b)) {
        Outcome::Guard
    } else {
        Outcome::Decoder
    }
}

fn rss_kib(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

/// Runs `inputs` mutated inputs on `threads` threads from `seed`.
pub fn ipc(inputs: u64, threads: usize, seed: u64) -> Result<Report, BoxError> {
    let seeds = Arc::new(seeds()?);
    std::panic::set_hook(Box::new(|info| {
        PANICS.fetch_add(1, Ordering::Relaxed);
        let place = info
            .location()
            .map(|l| format!("{}:{}", l.file(), l.line()))
            .unwrap_or_default();
        let mut seen = PLACES
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if seen.len() < 64 && !seen.iter().any(|(p, _)| *p == place) {
            let what = info
                .payload()
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| info.payload().downcast_ref::<String>().cloned())
                .unwrap_or_default();
            seen.push((place, what));
        }
    }));
    let idle = rss_kib("VmRSS:");
    let _ = std::fs::write("/proc/self/clear_refs", "5");
    let per = inputs.div_ceil(threads as u64);
    let workers: Vec<_> = (0..threads)
        .map(|t| {
            let seeds = Arc::clone(&seeds);
            std::thread::spawn(move || {
                let config = limits();
                let mut rng = Rng(seed ^ (0x9e37_79b9_7f4a_7c15_u64.wrapping_mul(t as u64 + 1)));
                let mut report = Report::default();
                for _ in 0..per {
                    let pick = &seeds[rng.below(seeds.len())];
                    let input = mutate(pick, &mut rng);
                    // A reference to the same bytes (no copy), kept to report a failure.
                    let kept = input.clone();
                    let before = PANICS.load(Ordering::Relaxed);
                    let started = Instant::now();
                    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                        run_one(input, &config)
                    }));
                    let took = started.elapsed();
                    report.inputs += 1;
                    match outcome {
                        Ok(Outcome::Guard) => report.refused_before_decoding += 1,
                        Ok(Outcome::Decoded) => report.decoded += 1,
                        Ok(Outcome::Decoder) => report.refused_by_decoders += 1,
                        Err(_) => report.panics += 1,
                    }
                    let panicked = PANICS.load(Ordering::Relaxed) > before;
                    if panicked && outcome.is_ok() {
                        report.contained_panics += 1;
                    }
                    let slow = took > Duration::from_secs(1);
                    report.slow += u64::from(slow);
                    if (panicked || slow) && report.examples.len() < 5 {
                        report.examples.push(hex(&kept));
                    }
                }
                report
            })
        })
        .collect();
    let mut total = Report::default();
    for worker in workers {
        let r = worker.join().map_err(|_| "a fuzzing thread failed")?;
        total.inputs += r.inputs;
        total.refused_before_decoding += r.refused_before_decoding;
        total.decoded += r.decoded;
        total.refused_by_decoders += r.refused_by_decoders;
        total.slow += r.slow;
        total.panics += r.panics;
        total.contained_panics += r.contained_panics;
        total.examples.extend(r.examples);
    }
    let _ = std::panic::take_hook();
    let peak = rss_kib("VmHWM:").saturating_sub(idle);
    total.peak_mib = peak as f64 / 1024.0;
    // Each thread reads one input at a time: 64 MiB each.
    total.over_memory = peak > 64 * 1024 * threads as u64;
    total.examples.truncate(10);
    total.panic_places = PLACES
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .clone();
    Ok(total)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
