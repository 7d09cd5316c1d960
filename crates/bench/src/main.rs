//! `dbapi-bench`: the fetch path of the Flight SQL driver measured against a baseline
//! written directly on arrow-flight's client, in the same run, interleaved.
//!
//! The server runs in a child process (so the client's memory is its own), serving a
//! generated table `numbers` (`id` int64, `value` float64, `name` utf8, `ts` timestamp µs).
//! Memory is measured in further child processes, one per figure. See `docs/performance.md`.

mod adbc;
mod fuzz;
mod provider;
mod wide;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use arrow::array::{Array, AsArray};
use arrow::datatypes::Int64Type;
use arrow_flight::sql::client::FlightSqlServiceClient;
use clap::{Parser, Subcommand};
use dbapi::{Connection, CursorExt, Params, Registry};
use dbapi_flightsql::FlightSqlDriver;
use dbapi_flightsql_server::{CompressionEncoding, Server, generated, overrides};
use futures::StreamExt;
use serde_json::json;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Benchmarks of the Flight SQL driver against arrow-flight's client.
#[derive(Debug, Parser)]
#[command(version)]
struct Args {
    #[command(subcommand)]
    command: Option<Cmd>,
    /// Rows in the generated table.
    #[arg(long, default_value_t = 10_000_000)]
    rows: usize,
    /// Interleaved repetitions of each throughput measurement (the median is reported).
    #[arg(long, default_value_t = 3)]
    reps: usize,
    /// Iterations of the `SELECT 1` latency measurement.
    #[arg(long, default_value_t = 200)]
    latency_iters: usize,
    /// Where to write the machine-readable summary.
    #[arg(long, default_value = "target/bench-summary.json")]
    json: String,
    /// A small, quick run that checks every measurement works (for CI).
    #[arg(long)]
    smoke: bool,
    /// The command-line client (`dbapi`) to measure; by default the one next to this program.
    #[arg(long)]
    cli: Option<String>,
}

#[derive(Debug, Subcommand)]
enum Cmd {
    /// Serve the generated tables (internal: the benchmark's server process).
    Serve {
        /// Rows in `numbers`.
        #[arg(long)]
        rows: usize,
        /// Rows in `par`, the table of the parallel-endpoint figure.
        #[arg(long)]
        par_rows: usize,
        /// Compress answers with gRPC message compression (`gzip` or `zstd`).
        #[arg(long)]
        grpc_compression: Option<String>,
        /// Compress record batch bodies with Arrow IPC compression (`lz4` or `zstd`).
        #[arg(long)]
        ipc_compression: Option<String>,
        /// Rows in `wide`, the 22-column table (none by default).
        #[arg(long, default_value_t = 0)]
        wide_rows: usize,
        /// The TPC-H scale factor of `lineitem` (none by default).
        #[arg(long, default_value_t = 0.0)]
        lineitem_sf: f64,
    },
    /// Only the wide-table figures: a 22-column table of mixed types and TPC-H `lineitem`,
    /// each read whole through every path of the driver and every Python peer the machine
    /// has (pyarrow's Flight client, the Go ADBC Flight SQL driver, this workspace's ADBC
    /// library, flightsql-dbapi), each read in a process of its own.
    Wide {
        /// Rows in `wide`.
        #[arg(long, default_value_t = 1_000_000)]
        rows: usize,
        /// The TPC-H scale factor of `lineitem` (0: no `lineitem`).
        #[arg(long, default_value_t = 1.0)]
        lineitem_sf: f64,
        /// Repetitions of each read (the median is reported).
        #[arg(long, default_value_t = 3)]
        reps: usize,
    },
    /// Read one table whole through one path and print what it took (internal).
    WideRead {
        /// The connection URL.
        #[arg(long)]
        url: String,
        /// `wide` or `lineitem`.
        #[arg(long)]
        table: String,
        /// `arrow`, `fetchall`, `fetchone`, `typed` (`FromRow`) or `serde`.
        #[arg(long)]
        path: String,
    },
    /// Start a server and run one fetch path repeatedly, for profilers.
    Profile {
        /// Rows in the table.
        #[arg(long, default_value_t = 10_000_000)]
        rows: usize,
        /// `arrow`, `fetchall`, `fetchone` (reading every column), `fetchone-only`, `fetchall-as`,
        /// `fetchall-as-fast` (nanosecond timestamps), `fetchall-typed` (`FromRow`), or the hand
        /// loops over the Arrow path, `typed-hand` and `rows-hand`, or `fetch-rows` (the
        /// `fetchone` loop's reads over `CursorExt::fetch_rows`).
        #[arg(long, default_value = "fetchone")]
        path: String,
        /// How many times to read the whole table.
        #[arg(long, default_value_t = 3)]
        times: usize,
    },
    /// Only the DataFusion figures: a selective query and a full scan through
    /// `dbapi-datafusion`'s table provider against the same remote SQL through the Arrow path,
    /// and the bytes the selective query receives against pulling the table first.
    Provider {
        /// Rows in `numbers`.
        #[arg(long, default_value_t = 1_000_000)]
        rows: usize,
        /// Repetitions of each measurement (the median is reported).
        #[arg(long, default_value_t = 5)]
        reps: usize,
    },
    /// Only the endpoint figures: 8 endpoints each delayed 100 ms read in parallel against
    /// one, and the peak memory of reading the table from 8 and 16 endpoints.
    Endpoints {
        /// Rows in `numbers` (the memory figures read them all).
        #[arg(long, default_value_t = 10_000_000)]
        rows: usize,
        /// Repetitions of each measurement (the median is reported).
        #[arg(long, default_value_t = 3)]
        reps: usize,
    },
    /// Only the retry figures: `SELECT 1` latencies through a server failing one call in
    /// twenty and resetting one stream in twenty, against the same server without faults.
    Retries {
        /// Queries through each server.
        #[arg(long, default_value_t = 1000)]
        queries: usize,
    },
    /// Only the compression figures: `SELECT *` from servers compressing their answers each
    /// way, against one that does not.
    Compression {
        /// Rows in the table.
        #[arg(long, default_value_t = 10_000_000)]
        rows: usize,
        /// Repetitions of each measurement (the median is reported).
        #[arg(long, default_value_t = 3)]
        reps: usize,
    },
    /// Only the `\\copy` figures: the command-line client loading a Parquet file of the
    /// table, against `Connection::ingest` of the same batches.
    Copy {
        /// Rows in the table.
        #[arg(long, default_value_t = 10_000_000)]
        rows: usize,
        /// Repetitions of each measurement (the median is reported).
        #[arg(long, default_value_t = 3)]
        reps: usize,
        /// The command-line client (`dbapi`); by default the one next to this program.
        #[arg(long)]
        cli: Option<String>,
    },
    /// Only the ADBC figures: `dbapi-adbc` against the ADBC driver manager used directly
    /// (SQLite `SELECT *`, PostgreSQL ingest).
    Adbc {
        /// Rows in the table.
        #[arg(long, default_value_t = 1_000_000)]
        rows: usize,
        /// Repetitions of each measurement (the median is reported).
        #[arg(long, default_value_t = 5)]
        reps: usize,
    },
    /// Only the Python figures: this workspace's Flight SQL driver loaded as an ADBC driver by
    /// Python's `adbc_driver_manager`, against the Go ADBC Flight SQL driver, on one server.
    PythonAdbc {
        /// Rows in the table.
        #[arg(long, default_value_t = 10_000_000)]
        rows: usize,
        /// Repetitions of each measurement (the median is reported).
        #[arg(long, default_value_t = 3)]
        reps: usize,
    },
    /// Only the hostile-server figures: the peak memory of each lie a server can tell, against
    /// the 64 MiB limit.
    Hostile,
    /// Fuzz the Arrow IPC path (framing, decode guard, decoders, the checks after them) with
    /// mutated real and hostile streams; prints how many inputs ran, where they ended and how
    /// many failed (a panic, over a second, over 64 MiB); exits 1 on a failure.
    Fuzz {
        /// Inputs to run.
        #[arg(long, default_value_t = 10_000_000)]
        inputs: u64,
        /// Threads.
        #[arg(long, default_value_t = 2)]
        threads: usize,
        /// The generator's seed (runs are reproducible).
        #[arg(long, default_value_t = 1)]
        seed: u64,
    },
    /// Suffer one lie of the hostile server and print idle and peak RSS (internal).
    HostileCase {
        /// The hostile server's URL.
        #[arg(long)]
        url: String,
        /// The case.
        #[arg(long)]
        case: String,
    },
    /// Stream a query with `fetchmany(10_000)` (or ingest generated rows) and print idle and
    /// peak RSS (internal).
    Mem {
        /// The connection URL.
        #[arg(long)]
        url: String,
        /// The query.
        #[arg(long)]
        sql: String,
        /// Instead of the query, ingest this many generated rows into table `ingested`.
        #[arg(long)]
        ingest: Option<usize>,
        /// Hold the whole result: `rows` (`fetchall`) or `arrow` (`fetch_all_batches`).
        #[arg(long)]
        hold: Option<String>,
    },
}

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let args = Args::parse();
    match args.command {
        Some(Cmd::Serve {
            rows,
            par_rows,
            ref grpc_compression,
            ref ipc_compression,
            wide_rows,
            lineitem_sf,
        }) => {
            let extra = if wide_rows > 0 {
                wide::tables(wide_rows, lineitem_sf)?
            } else {
                Vec::new()
            };
            serve(
                rows,
                par_rows,
                grpc_compression.as_deref(),
                ipc_compression.as_deref(),
                extra,
            )
            .await
        }
        Some(Cmd::Wide {
            rows,
            lineitem_sf,
            reps,
        }) => {
            let peers = PythonPeers::check()
                .inspect_err(|why| eprintln!("note: the Python peers are skipped: {why}"))
                .ok();
            for figure in wide_figures(rows, lineitem_sf, reps.max(1), peers.as_ref())? {
                figure.print();
            }
            Ok(())
        }
        Some(Cmd::WideRead {
            ref url,
            ref table,
            ref path,
        }) => wide::read_once(url, table, path).await,
        Some(Cmd::Mem {
            ref url,
            ref sql,
            ingest,
            ref hold,
        }) => mem(url, sql, ingest, hold.as_deref()).await,
        Some(Cmd::Profile {
            rows,
            ref path,
            times,
        }) => profile(rows, path, times).await,
        Some(Cmd::Provider { rows, reps }) => {
            let server = spawn_server(rows, 1)?;
            let url = format!("flightsql://{}?tls=false", server.addr);
            for figure in provider::figures(&url, rows, reps.max(1)).await? {
                figure.print();
            }
            Ok(())
        }
        Some(Cmd::Endpoints { rows, reps }) => {
            let par_rows = rows.min(800_000);
            let server = spawn_server(rows, par_rows)?;
            let url = format!("flightsql://{}?tls=false", server.addr);
            for figure in endpoint_figures(&url, rows, par_rows, reps.max(1), 100).await? {
                figure.print();
            }
            Ok(())
        }
        Some(Cmd::Retries { queries }) => {
            for figure in retries(queries.max(20)).await? {
                figure.print();
            }
            Ok(())
        }
        Some(Cmd::Compression { rows, reps }) => {
            for figure in compression(rows, reps.max(1)).await? {
                figure.print();
            }
            Ok(())
        }
        Some(Cmd::Copy {
            rows,
            reps,
            ref cli,
        }) => {
            let cli = match cli {
                Some(path) => std::path::PathBuf::from(path),
                None => std::env::current_exe()?.with_file_name("dbapi"),
            };
            let server = spawn_server(rows, 1)?;
            let url = format!("flightsql://{}?tls=false", server.addr);
            for figure in copy(&cli, &url, rows, reps.max(1)).await? {
                figure.print();
            }
            Ok(())
        }
        Some(Cmd::Adbc { rows, reps }) => {
            for figure in adbc_figures(rows, reps.max(1)).await? {
                figure.print();
            }
            Ok(())
        }
        Some(Cmd::PythonAdbc { rows, reps }) => {
            let peers = PythonPeers::check()?;
            for figure in python_adbc_figures(&peers, rows, reps.max(1), 100).await? {
                figure.print();
            }
            Ok(())
        }
        Some(Cmd::Hostile) => {
            for figure in hostile().await? {
                figure.print();
            }
            Ok(())
        }
        Some(Cmd::HostileCase { ref url, ref case }) => hostile_case(url, case).await,
        Some(Cmd::Fuzz {
            inputs,
            threads,
            seed,
        }) => {
            let started = Instant::now();
            let report =
                tokio::task::spawn_blocking(move || fuzz::ipc(inputs, threads.max(1), seed))
                    .await??;
            println!(
                "fuzz ipc: {} inputs in {:.0} s; {} refused before decoding, {} decoded, {} refused \
                 by the decoders or the checks after them ({:.1} % reached the decoders); \
                 {} failed: {} panics escaping the driver, {} panics inside Arrow's decoders \
                 contained by the driver, {} over a second, peak {:.1} MiB above idle{}",
                report.inputs,
                started.elapsed().as_secs_f64(),
                report.refused_before_decoding,
                report.decoded,
                report.refused_by_decoders,
                100.0 * report.reached_decoders(),
                report.failures(),
                report.panics,
                report.contained_panics,
                report.slow,
                report.peak_mib,
                if report.over_memory {
                    " (over 64 MiB a thread)"
                } else {
                    ""
                },
            );
            for (place, what) in &report.panic_places {
                println!("panic at {place}: {what}");
            }
            for example in report.examples.iter().take(3) {
                println!("failing input: {example}");
            }
            if report.failures() > 0 {
                return Err(format!("{} fuzz inputs failed", report.failures()).into());
            }
            Ok(())
        }
        None => run(args).await,
    }
}

/// The cases measured: every lie in a stream, the malformed schemas, the endless answer.
fn hostile_cases() -> Vec<&'static str> {
    use dbapi_flightsql_server::hostile::cases;
    let mut all = cases::STREAMS.to_vec();
    all.extend([
        cases::BAD_SCHEMA_FLIGHT_INFO,
        cases::BAD_SCHEMA_DATASET,
        cases::BAD_SCHEMA_PARAMETERS,
        cases::BAD_SCHEMA_GET_SCHEMA,
        cases::ENDLESS_ACTION,
    ]);
    all
}

/// Each hostile case in a process of its own, against one hostile server: the peak RSS above
/// idle of each.
async fn hostile() -> Result<Vec<Figure>, BoxError> {
    let server = dbapi_flightsql_server::hostile::HostileServer::start().await?;
    let url = server.url();
    let mut figures = Vec::new();
    for case in hostile_cases() {
        let (mib, refused) = measure_memory_of(&["hostile-case", "--url", &url, "--case", case])?;
        if refused != 1 {
            return Err(format!("hostile case {case}: the driver did not refuse it").into());
        }
        figures.push(Figure::memory(format!("hostile_{case}_peak_rss"), mib));
    }
    Ok(figures)
}

/// Suffers one case; prints idle RSS, peak RSS, and 1 when the driver answered an error.
async fn hostile_case(url: &str, case: &str) -> Result<(), BoxError> {
    use dbapi_flightsql_server::hostile::cases;
    let conn = dbapi_flightsql::FlightSqlConnection::connect(url).await?;
    let mut cursor = dbapi::Connection::cursor(&conn)?;
    cursor.execute(cases::INT8_OK, Params::None).await?;
    cursor.fetchall().await?;
    let idle = rss_kib("VmRSS:")?;
    std::fs::write("/proc/self/clear_refs", "5")?;
    let outcome = match case {
        cases::BAD_SCHEMA_DATASET | cases::BAD_SCHEMA_PARAMETERS | cases::ENDLESS_ACTION => {
            conn.prepare_flight(case).await.map(|_| ())
        }
        cases::BAD_SCHEMA_GET_SCHEMA => match conn.prepare_flight(case).await {
            Ok(statement) => statement.fetch_result_schema().await.map(|_| ()),
            Err(e) => Err(e),
        },
        _ => match cursor.execute(case, Params::None).await {
            Ok(()) => cursor.fetchall().await.map(|_| ()),
            Err(e) => Err(e),
        },
    };
    let peak = rss_kib("VmHWM:")?;
    if let Err(e) = &outcome {
        eprintln!("hostile case {case}: {e}");
    }
    println!("{idle} {peak} {}", u8::from(outcome.is_err()));
    Ok(())
}

const BATCH_ROWS: usize = 8192;

/// The wide-table figures, against a server of their own serving `wide` and `lineitem`.
fn wide_figures(
    rows: usize,
    lineitem_sf: f64,
    reps: usize,
    peers: Option<&PythonPeers>,
) -> Result<Vec<Figure>, BoxError> {
    eprintln!("starting a server with the wide tables ...");
    let (rows_arg, sf_arg) = (rows.to_string(), lineitem_sf.to_string());
    let server = spawn_server_with(1, 1, &["--wide-rows", &rows_arg, "--lineitem-sf", &sf_arg])?;
    let tables: &[&str] = if lineitem_sf > 0.0 {
        &["wide", "lineitem"]
    } else {
        &["wide"]
    };
    wide::figures(&server.addr, tables, reps, peers)
}

async fn serve(
    rows: usize,
    par_rows: usize,
    grpc_compression: Option<&str>,
    ipc_compression: Option<&str>,
    extra: Vec<(&str, Vec<arrow::record_batch::RecordBatch>)>,
) -> Result<(), BoxError> {
    let mut builder = Server::builder()
        .table("numbers", generated(rows, BATCH_ROWS)?)
        .table("par", generated(par_rows, BATCH_ROWS)?);
    for (name, batches) in extra {
        builder = builder.table(name, batches);
    }
    match grpc_compression {
        None => {}
        Some("gzip") => builder = builder.compression(CompressionEncoding::Gzip),
        Some("zstd") => builder = builder.compression(CompressionEncoding::Zstd),
        Some(other) => return Err(format!("unknown gRPC compression {other:?}").into()),
    }
    let ipc = match ipc_compression {
        None => None,
        Some("lz4") => Some(arrow::ipc::CompressionType::LZ4_FRAME),
        Some("zstd") => Some(arrow::ipc::CompressionType::ZSTD),
        Some(other) => return Err(format!("unknown IPC compression {other:?}").into()),
    };
    let server = builder
        .options(dbapi_flightsql_server::Options {
            ipc_compression: ipc,
            ..dbapi_flightsql_server::Options::default()
        })
        .start()
        .await?;
    let replica = server.spawn_replica().await?;
    println!("READY {} {}", server.addr(), replica.addr());
    // Serve until the parent closes our standard input.
    tokio::task::spawn_blocking(|| {
        let mut line = String::new();
        let _ = std::io::stdin().read_line(&mut line);
    })
    .await?;
    Ok(())
}

async fn profile(rows: usize, path: &str, times: usize) -> Result<(), BoxError> {
    let server = spawn_server(rows, 1)?;
    let conn = registry()
        .connect(&format!("flightsql://{}?tls=false", server.addr))
        .await?;
    let sql = "SELECT * FROM numbers";
    for _ in 0..times {
        let elapsed = match path {
            "arrow" => timed(rows, path, || arrow_rows(conn.as_ref(), sql)).await?,
            "fetchall" => timed(rows, path, || fetchall_rows(conn.as_ref(), sql)).await?,
            "fetchone" => timed(rows, path, || fetchone_rows(conn.as_ref(), sql)).await?,
            "fetchone-only" => timed(rows, path, || fetchone_only(conn.as_ref(), sql)).await?,
            "fetchall-as" => timed(rows, path, || fetchall_as_rows(conn.as_ref(), sql)).await?,
            "fetchall-as-fast" => {
                timed(rows, path, || fetchall_as_fast_ts_rows(conn.as_ref(), sql)).await?
            }
            "fetchall-typed" => {
                timed(rows, path, || fetchall_typed_rows(conn.as_ref(), sql)).await?
            }
            "typed-hand" => timed(rows, path, || typed_hand_rows(conn.as_ref(), sql)).await?,
            "rows-hand" => timed(rows, path, || rows_hand_loop(conn.as_ref(), sql)).await?,
            "fetch-rows" => timed(rows, path, || fetch_rows_loop(conn.as_ref(), sql)).await?,
            other => return Err(format!("unknown path {other:?}").into()),
        };
        println!("{path}: {:.3} s", elapsed.as_secs_f64());
        drop_later();
    }
    Ok(())
}

/// The server child process; killed on drop.
struct ServerProcess {
    child: Child,
    addr: String,
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn spawn_server(rows: usize, par_rows: usize) -> Result<ServerProcess, BoxError> {
    spawn_server_with(rows, par_rows, &[])
}

/// A server process with further `serve` arguments (compression).
fn spawn_server_with(
    rows: usize,
    par_rows: usize,
    extra: &[&str],
) -> Result<ServerProcess, BoxError> {
    let mut child = Command::new(std::env::current_exe()?)
        .args([
            "serve",
            "--rows",
            &rows.to_string(),
            "--par-rows",
            &par_rows.to_string(),
        ])
        .args(extra)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()?;
    let stdout = child
        .stdout
        .take()
        .ok_or("no stdout from the server process")?;
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line)?;
    let addr = line
        .strip_prefix("READY ")
        .and_then(|rest| rest.split_whitespace().next())
        .ok_or_else(|| format!("the server process did not start: {line:?}"))?
        .to_owned();
    Ok(ServerProcess { child, addr })
}

fn rss_kib(field: &str) -> Result<u64, BoxError> {
    let status = std::fs::read_to_string("/proc/self/status")?;
    status
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .ok_or_else(|| format!("no {field} in /proc/self/status").into())
}

async fn mem(
    url: &str,
    sql: &str,
    ingest: Option<usize>,
    hold: Option<&str>,
) -> Result<(), BoxError> {
    let conn = registry().connect(url).await?;
    let mut cursor = conn.cursor()?;
    cursor.execute("SELECT 1", Params::None).await?;
    cursor.fetchall().await?;
    let idle = rss_kib("VmRSS:")?;
    // Reset the peak to the current RSS (Linux: "5" resets VmHWM).
    std::fs::write("/proc/self/clear_refs", "5")?;
    if let Some(n) = ingest {
        // Batches made as the driver pulls them: memory holds only those in flight.
        let batches = futures::stream::iter((0..n).step_by(BATCH_ROWS))
            .map(move |start| {
                param_batch(start..(start + BATCH_ROWS).min(n))
                    .map_err(|e| dbapi::Error::internal(format!("cannot generate a batch: {e}")))
            })
            .boxed();
        let loaded = conn
            .ingest("ingested", dbapi::IngestMode::Replace, batches)
            .await?;
        let peak = rss_kib("VmHWM:")?;
        println!("{idle} {peak} {loaded}");
        return Ok(());
    }
    cursor.execute(sql, Params::None).await?;
    match hold {
        Some("rows") => {
            let rows = cursor.fetchall().await?;
            let peak = rss_kib("VmHWM:")?;
            println!("{idle} {peak} {}", rows.len());
            return Ok(());
        }
        Some("arrow") => {
            let batches = cursor.fetch_all_batches().await?;
            let peak = rss_kib("VmHWM:")?;
            let rows: usize = batches.iter().map(|b| b.num_rows()).sum();
            println!("{idle} {peak} {rows}");
            return Ok(());
        }
        Some(other) => return Err(format!("unknown --hold {other:?}").into()),
        None => {}
    }
    let mut rows = 0_usize;
    loop {
        let chunk = cursor.fetchmany(Some(10_000)).await?;
        if chunk.is_empty() {
            break;
        }
        rows += chunk.len();
    }
    let peak = rss_kib("VmHWM:")?;
    println!("{idle} {peak} {rows}");
    Ok(())
}

/// What the figures beyond the driver's own need, checked before anything is measured: a
/// missing one skips its figures with a note instead of ending the run midway.
struct Prerequisites {
    /// The command-line client, for the CSV export and `\\copy` figures.
    cli: Result<std::path::PathBuf, String>,
    /// The ADBC SQLite and PostgreSQL drivers and PostgreSQL's server programs.
    adbc: Result<(), String>,
    /// Python with the ADBC driver manager, the Go ADBC Flight SQL driver and pyarrow, and
    /// this workspace's ADBC library.
    python: Result<PythonPeers, String>,
}

/// The Python side of the peer figures.
struct PythonPeers {
    /// The Python of the workspace's venv (`python3 .ci/adbc_drivers.py` makes it).
    python: std::path::PathBuf,
    /// This workspace's ADBC library, beside this program.
    ours: std::path::PathBuf,
}

impl Prerequisites {
    fn check(cli: Option<&str>) -> Prerequisites {
        let cli = match cli {
            Some(path) if std::path::Path::new(path).exists() => Ok(path.into()),
            Some(path) => Err(format!("--cli {path}: no such file")),
            None => next_to_us("dbapi").and_then(|path| {
                if path.exists() {
                    Ok(path)
                } else {
                    Err(format!(
                        "no `dbapi` at {} (build it with this program: `cargo build --release \
                         -p dbapi-cli -p dbapi-bench`, or pass --cli PATH)",
                        path.display()
                    ))
                }
            }),
        };
        let adbc = dbapi_tests::adbc::manifest("sqlite")
            .and_then(|_| dbapi_tests::adbc::manifest("postgresql"))
            .and_then(|_| dbapi_tests::adbc::pg_bin())
            .map(|_| ())
            .map_err(|e| e.to_string());
        Prerequisites {
            cli,
            adbc,
            python: PythonPeers::check(),
        }
    }
}

impl PythonPeers {
    fn check() -> Result<PythonPeers, String> {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let python = root.join("../../target/adbc/venv/bin/python");
        if !python.is_file() {
            return Err(format!(
                "no Python venv at {}: run `python3 .ci/adbc_drivers.py`",
                python.display()
            ));
        }
        let ours = next_to_us("libadbc_driver_dbapi_flightsql.so")?;
        if !ours.is_file() {
            return Err(format!(
                "{} is not built: build it with this program (`cargo build --release -p \
                 dbapi-bench -p dbapi-adbc-flightsql -p dbapi-cli`)",
                ours.display()
            ));
        }
        let modules = "import adbc_driver_manager.dbapi, adbc_driver_flightsql.dbapi, pyarrow";
        match Command::new(&python).args(["-c", modules]).output() {
            Ok(out) if out.status.success() => Ok(PythonPeers { python, ours }),
            Ok(out) => Err(format!(
                "{} lacks a module ({modules}): {}",
                python.display(),
                String::from_utf8_lossy(&out.stderr).trim()
            )),
            Err(e) => Err(format!("cannot run {}: {e}", python.display())),
        }
    }
}

/// The path of `name` in this program's folder.
fn next_to_us(name: &str) -> Result<std::path::PathBuf, String> {
    std::env::current_exe()
        .map(|exe| exe.with_file_name(name))
        .map_err(|e| format!("cannot find this program's folder: {e}"))
}

/// The memory figure `name` of a run that must have handled `rows` rows.
fn checked_memory(
    name: String,
    (mib, seen): (f64, usize),
    rows: usize,
) -> Result<Figure, BoxError> {
    if seen != rows {
        return Err(format!("{name}: {seen} rows, expected {rows}").into());
    }
    Ok(Figure::memory(name, mib))
}

/// Runs the `mem` child; returns (peak above idle in MiB, rows).
fn measure_memory(url: &str, sql: &str) -> Result<(f64, usize), BoxError> {
    measure_memory_of(&["mem", "--url", url, "--sql", sql])
}

/// Runs the `mem` child ingesting `rows` generated rows; returns (peak above idle in MiB,
/// rows the server reported).
fn measure_ingest_memory(url: &str, rows: usize) -> Result<(f64, usize), BoxError> {
    let rows = rows.to_string();
    measure_memory_of(&["mem", "--url", url, "--sql", "", "--ingest", &rows])
}

/// Runs the `mem` child holding the whole result (`rows` or `arrow`); returns (peak above
/// idle in MiB, rows).
fn measure_held_memory(url: &str, sql: &str, hold: &str) -> Result<(f64, usize), BoxError> {
    measure_memory_of(&["mem", "--url", url, "--sql", sql, "--hold", hold])
}

fn measure_memory_of(args: &[&str]) -> Result<(f64, usize), BoxError> {
    let out = Command::new(std::env::current_exe()?)
        .args(args)
        .stderr(Stdio::inherit())
        .output()?;
    if !out.status.success() {
        return Err(format!("memory measurement failed: {}", out.status).into());
    }
    let text = String::from_utf8(out.stdout)?;
    let v: Vec<u64> = text
        .split_whitespace()
        .map(str::parse)
        .collect::<Result<_, _>>()?;
    match v[..] {
        [idle, peak, rows] => Ok((
            peak.saturating_sub(idle) as f64 / 1024.0,
            usize::try_from(rows)?,
        )),
        _ => Err(format!("unexpected memory output {text:?}").into()),
    }
}

/// Runs the command-line client exporting `sql` to a CSV file, watching its peak RSS; returns
/// (peak RSS in MiB, duration). The file must hold `rows` rows.
fn cli_export(
    cli: &std::path::Path,
    url: &str,
    sql: &str,
    rows: usize,
) -> Result<(f64, Duration), BoxError> {
    if !cli.exists() {
        return Err(format!(
            "the command-line client is not at {} (build it with `cargo build --release -p \
             dbapi-cli`, or pass --cli PATH)",
            cli.display()
        )
        .into());
    }
    let out = std::env::temp_dir().join(format!("dbapi-bench-export-{}.csv", std::process::id()));
    let out_arg = out.to_str().ok_or("the temporary directory is not UTF-8")?;
    let (peak, elapsed) = watched(
        cli,
        &[url, "-q", "--format", "csv", "--out", out_arg, "-c", sql],
    )?;
    let written = BufReader::new(std::fs::File::open(&out)?).lines().count();
    std::fs::remove_file(&out)?;
    if written != rows + 1 {
        return Err(format!("the CSV export has {written} lines for {rows} rows").into());
    }
    Ok((peak, elapsed))
}

/// Runs the command-line client with `args`, watching its peak RSS; returns (peak RSS in MiB,
/// duration). Its failure is an error.
fn watched(cli: &std::path::Path, args: &[&str]) -> Result<(f64, Duration), BoxError> {
    let start = Instant::now();
    let mut child = Command::new(cli)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .spawn()?;
    let status_file = format!("/proc/{}/status", child.id());
    let mut peak_kib = 0_u64;
    let status = loop {
        // VmHWM is the peak so far: the last reading before the exit misses only the last
        // few milliseconds.
        if let Ok(text) = std::fs::read_to_string(&status_file)
            && let Some(kib) = text
                .lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        {
            peak_kib = peak_kib.max(kib);
        }
        if let Some(status) = child.try_wait()? {
            break status;
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let elapsed = start.elapsed();
    if !status.success() {
        return Err(format!("the command-line client failed: {status} ({args:?})").into());
    }
    Ok((peak_kib as f64 / 1024.0, elapsed))
}

/// The `\\copy FROM` figures: the client loads a Parquet file of `numbers` (which it wrote
/// with `\\copy TO`), against `Connection::ingest` of the same batches, read into memory
/// beforehand; interleaved, medians. Memory is the client's peak RSS above that of a client
/// that only connects and runs `SELECT 1`.
async fn copy(
    cli: &std::path::Path,
    url: &str,
    rows: usize,
    reps: usize,
) -> Result<Vec<Figure>, BoxError> {
    use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
    if !cli.exists() {
        return Err(format!("the command-line client is not at {}", cli.display()).into());
    }
    let path =
        std::env::temp_dir().join(format!("dbapi-bench-copy-{}.parquet", std::process::id()));
    let file = path
        .to_str()
        .ok_or("the temporary directory is not UTF-8")?;
    let (_, write_t) = watched(
        cli,
        &[url, "-q", "-c", &format!("\\copy numbers TO '{file}'")],
    )?;
    // The batches as the client reads them (its batch size), in memory.
    let reader = || -> Result<_, BoxError> {
        Ok(
            ParquetRecordBatchReaderBuilder::try_new(std::fs::File::open(&path)?)?
                .with_batch_size(8192)
                .build()?,
        )
    };
    let batches: Vec<arrow::record_batch::RecordBatch> = reader()?.collect::<Result<_, _>>()?;
    let in_file: usize = batches.iter().map(|b| b.num_rows()).sum();
    if in_file != rows {
        return Err(format!("the Parquet file holds {in_file} rows, not {rows}").into());
    }
    let conn = registry().connect(url).await?;
    let (idle, _) = watched(cli, &[url, "-q", "-c", "SELECT 1"])?;
    let (mut base_t, mut cli_t, mut peak) = (vec![], vec![], 0.0_f64);
    let mut file_t = vec![];
    // Each load starts from the same server state: every table is dropped right after it is
    // counted, and the order turns each repetition.
    for rep in 0..reps {
        for which in (0..3).map(|i| (i + rep) % 3) {
            let (table, loaded, t) = match which {
                0 => {
                    // The library reading the same file: `ingest_reader` of the Parquet reader.
                    let start = Instant::now();
                    let loaded = dbapi::ConnectionExt::ingest_reader(
                        conn.as_ref(),
                        "copy_file",
                        dbapi::IngestMode::Create,
                        reader()?,
                    )
                    .await?;
                    ("copy_file", loaded, start.elapsed())
                }
                1 => {
                    let stream = futures::stream::iter(batches.clone().into_iter().map(Ok)).boxed();
                    let start = Instant::now();
                    let loaded = conn
                        .ingest("copy_base", dbapi::IngestMode::Create, stream)
                        .await?;
                    ("copy_base", loaded, start.elapsed())
                }
                _ => {
                    let (mib, t) = watched(
                        cli,
                        &[url, "-q", "-c", &format!("\\copy copy_cli FROM '{file}'")],
                    )?;
                    peak = peak.max(mib);
                    ("copy_cli", -1, t)
                }
            };
            let mut cursor = conn.cursor()?;
            cursor
                .execute(&format!("SELECT count(*) FROM {table}"), Params::None)
                .await?;
            let n = cursor.fetch_scalar::<i64>().await?;
            if usize::try_from(n).ok() != Some(rows) || (loaded >= 0 && loaded != n) {
                return Err(
                    format!("{table}: {n} rows loaded ({loaded} reported), not {rows}").into(),
                );
            }
            cursor
                .execute(&format!("DROP TABLE {table}"), Params::None)
                .await?;
            eprintln!("  {table}: {:.3} s", secs(t));
            [&mut file_t, &mut base_t, &mut cli_t][which].push(t);
        }
    }
    std::fs::remove_file(&path)?;
    let (base, cli_median, file) = (median(base_t), median(cli_t), median(file_t));
    // Throughput: the baseline's time over the client's.
    let ratio = secs(base) / secs(cli_median);
    Ok(vec![
        Figure {
            name: format!("cli_copy_from_parquet_{rows}_rows"),
            value: secs(cli_median),
            unit: "s",
            baseline_name: Some(format!(
                "Connection::ingest of the same batches in memory ({:.3} s), as throughput",
                secs(base)
            )),
            ratio: Some(ratio),
            target: Some("≥ 0.8".into()),
            met: Some(ratio >= 0.8),
        },
        Figure {
            name: format!("cli_copy_from_parquet_{rows}_rows_vs_library"),
            value: secs(cli_median),
            unit: "s",
            baseline_name: Some(format!(
                "ingest_reader of the same Parquet file in-process ({:.3} s), as throughput",
                secs(file)
            )),
            ratio: Some(secs(file) / secs(cli_median)),
            target: Some("≥ 0.8".into()),
            met: Some(secs(file) / secs(cli_median) >= 0.8),
        },
        Figure::memory(
            format!("cli_copy_from_parquet_{rows}_rows_peak_rss"),
            peak - idle,
        ),
        Figure::plain(
            &format!("cli_copy_to_parquet_{rows}_rows"),
            secs(write_t),
            "s",
        ),
    ])
}

fn registry() -> Registry {
    Registry::new().with(FlightSqlDriver)
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

/// The baseline: arrow-flight's `FlightSqlServiceClient`, `execute` + `DoGet` of every
/// endpoint, batches counted and dropped.
struct Baseline {
    client: FlightSqlServiceClient<tonic::transport::Channel>,
}

impl Baseline {
    async fn connect(addr: &str, headers: &[(&str, &str)]) -> Result<Baseline, BoxError> {
        let channel = tonic::transport::Endpoint::from_shared(format!("http://{addr}"))?
            .connect()
            .await?;
        let mut client = FlightSqlServiceClient::new(channel);
        for (k, v) in headers {
            client.set_header(*k, *v);
        }
        Ok(Baseline { client })
    }

    async fn rows(&mut self, sql: &str) -> Result<usize, BoxError> {
        let info = self.client.execute(sql.to_owned(), None).await?;
        let mut rows = 0;
        for endpoint in info.endpoint {
            let ticket = endpoint.ticket.ok_or("endpoint without ticket")?;
            let mut stream = self.client.do_get(ticket).await?;
            while let Some(batch) = stream.next().await {
                rows += batch?.num_rows();
            }
        }
        Ok(rows)
    }
}

/// The driver's Arrow path: batches counted and dropped. Checks that ids are in order.
async fn arrow_rows(conn: &dyn Connection, sql: &str) -> Result<usize, BoxError> {
    let mut cursor = conn.cursor()?;
    cursor.execute(sql, Params::None).await?;
    let mut rows = 0;
    let mut next_id = 0_i64;
    while let Some(batch) = cursor.fetch_batch().await? {
        let ids = batch.column(0).as_primitive::<Int64Type>();
        if ids.null_count() == 0
            && (ids.value(0) != next_id
                || ids.value(ids.len() - 1) != next_id + ids.len() as i64 - 1)
        {
            return Err(format!("rows out of order at id {next_id}").into());
        }
        next_id += ids.len() as i64;
        rows += batch.num_rows();
    }
    Ok(rows)
}

async fn fetchall_rows(conn: &dyn Connection, sql: &str) -> Result<usize, BoxError> {
    let mut cursor = conn.cursor()?;
    cursor.execute(sql, Params::None).await?;
    let rows = cursor.fetchall().await?;
    let n = rows.len();
    // Freeing the rows is the caller's business, after the fetch: not timed.
    DROP_LATER.with(|later| later.borrow_mut().push(rows));
    Ok(n)
}

thread_local! {
    /// Rows kept past a timed `fetchall`, freed outside the timing by [`drop_later`].
    static DROP_LATER: std::cell::RefCell<Vec<Vec<dbapi::Row>>> = const { std::cell::RefCell::new(Vec::new()) };
}

thread_local! {
    /// Typed rows kept past a timed `fetchall_as`.
    static DROP_LATER_TYPED: std::cell::RefCell<Vec<Vec<Number>>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Frees the rows of earlier `fetchall` measurements.
fn drop_later() {
    DROP_LATER.with(|later| later.borrow_mut().clear());
    DROP_LATER_TYPED.with(|later| later.borrow_mut().clear());
    DROP_LATER_FROM_ROW.with(|later| later.borrow_mut().clear());
    DROP_LATER_FAST_TS.with(|later| later.borrow_mut().clear());
}

async fn fetchone_rows(conn: &dyn Connection, sql: &str) -> Result<usize, BoxError> {
    let mut cursor = conn.cursor()?;
    cursor.execute(sql, Params::None).await?;
    let mut n = 0;
    let mut check = 0_i64;
    while let Some(row) = cursor.fetchone().await? {
        check = check.wrapping_add(read_number_row(&row)?);
        n += 1;
    }
    std::hint::black_box(check);
    Ok(n)
}

/// Every column of a row of `numbers`, read in place (`name` borrowed from the Arrow
/// buffer), folded into a checksum.
#[inline]
fn read_number_row(row: &dbapi::Row) -> dbapi::Result<i64> {
    let id: i64 = row.get(0)?;
    let value: f64 = row.get(1)?;
    let name: &str = row.get(2)?;
    let ts: chrono::NaiveDateTime = row.get(3)?;
    Ok((id ^ value.to_bits() as i64 ^ name.len() as i64)
        .wrapping_add(ts.and_utc().timestamp_micros()))
}

/// The same reads as the `fetchone` loop, row by row over `fetch_rows` (no `await` per row).
async fn fetch_rows_loop(conn: &dyn Connection, sql: &str) -> Result<usize, BoxError> {
    use dbapi::CursorExt;
    let mut cursor = conn.cursor()?;
    cursor.execute(sql, Params::None).await?;
    let mut n = 0;
    let mut check = 0_i64;
    while let Some(rows) = cursor.fetch_rows().await? {
        for row in rows {
            check = check.wrapping_add(read_number_row(&row)?);
            n += 1;
        }
    }
    std::hint::black_box(check);
    Ok(n)
}

/// `fetchone` until `None` on the concrete Flight SQL cursor (no boxed future per call),
/// reading nothing.
async fn fetchone_concrete(
    conn: &dbapi_flightsql::FlightSqlConnection,
    sql: &str,
) -> Result<usize, BoxError> {
    use dbapi::Cursor;
    let mut cursor = conn.flight_cursor()?;
    cursor.execute(sql, Params::None).await?;
    let mut n = 0;
    while cursor.fetchone().await?.is_some() {
        n += 1;
    }
    Ok(n)
}

/// A row of `numbers`, deserialized.
#[derive(serde::Deserialize)]
struct Number {
    id: i64,
    value: f64,
    name: String,
    ts: chrono::NaiveDateTime,
}

/// A row of `numbers`, deserialized with the timestamp read as nanoseconds.
#[derive(serde::Deserialize)]
struct NumberFastTs {
    id: i64,
    value: f64,
    name: String,
    #[serde(deserialize_with = "dbapi::serde_with::naive_datetime")]
    ts: chrono::NaiveDateTime,
}

/// `fetchall_as::<NumberFastTs>()`.
async fn fetchall_as_fast_ts_rows(conn: &dyn Connection, sql: &str) -> Result<usize, BoxError> {
    use dbapi::CursorExt;
    let mut cursor = conn.cursor()?;
    cursor.execute(sql, Params::None).await?;
    let numbers: Vec<NumberFastTs> = cursor.fetchall_as().await?;
    let check = numbers.iter().fold(0_i64, |acc, n| {
        acc.wrapping_add(n.id ^ n.value.to_bits() as i64 ^ n.name.len() as i64)
            .wrapping_add(n.ts.and_utc().timestamp_micros())
    });
    std::hint::black_box(check);
    let n = numbers.len();
    DROP_LATER_FAST_TS.with(|later| later.borrow_mut().push(numbers));
    Ok(n)
}

thread_local! {
    /// Rows kept past a timed `fetchall_as` with nanosecond timestamps.
    static DROP_LATER_FAST_TS: std::cell::RefCell<Vec<Vec<NumberFastTs>>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// A row of `numbers`, read with `#[derive(FromRow)]`.
#[derive(dbapi::FromRow)]
struct NumberRow {
    id: i64,
    value: f64,
    name: String,
    ts: chrono::NaiveDateTime,
}

thread_local! {
    /// Rows kept past a timed `fetchall_typed`.
    static DROP_LATER_FROM_ROW: std::cell::RefCell<Vec<Vec<NumberRow>>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// `fetchall_typed::<NumberRow>()`, the typed rows kept (freed outside the timing).
async fn fetchall_typed_rows(conn: &dyn Connection, sql: &str) -> Result<usize, BoxError> {
    use dbapi::CursorExt;
    let mut cursor = conn.cursor()?;
    cursor.execute(sql, Params::None).await?;
    let numbers: Vec<NumberRow> = cursor.fetchall_typed().await?;
    let check = numbers.iter().fold(0_i64, |acc, n| {
        acc.wrapping_add(n.id ^ n.value.to_bits() as i64 ^ n.name.len() as i64)
            .wrapping_add(n.ts.and_utc().timestamp_micros())
    });
    std::hint::black_box(check);
    let n = numbers.len();
    DROP_LATER_FROM_ROW.with(|later| later.borrow_mut().push(numbers));
    Ok(n)
}

/// The columns of one batch of `numbers`, downcast once: what a hand-written loop reads.
struct NumberArrays<'a> {
    ids: &'a arrow::array::Int64Array,
    values: &'a arrow::array::Float64Array,
    names: &'a arrow::array::StringArray,
    ts: &'a arrow::array::TimestampMicrosecondArray,
}

impl<'a> NumberArrays<'a> {
    /// The four columns by position, each of the type the table has, without nulls (the hand
    /// loops read values without checking each for null, as a careful hand does).
    fn of(batch: &'a arrow::record_batch::RecordBatch) -> Result<NumberArrays<'a>, BoxError> {
        use arrow::datatypes::{Float64Type, TimestampMicrosecondType};
        if batch.num_columns() != 4 || batch.columns().iter().any(|c| c.null_count() > 0) {
            return Err("the hand loop expects four columns without nulls".into());
        }
        let wrong = || format!("unexpected column types: {:?}", batch.schema());
        Ok(NumberArrays {
            ids: batch
                .column(0)
                .as_primitive_opt::<Int64Type>()
                .ok_or_else(wrong)?,
            values: batch
                .column(1)
                .as_primitive_opt::<Float64Type>()
                .ok_or_else(wrong)?,
            names: batch.column(2).as_string_opt::<i32>().ok_or_else(wrong)?,
            ts: batch
                .column(3)
                .as_primitive_opt::<TimestampMicrosecondType>()
                .ok_or_else(wrong)?,
        })
    }

    /// The timestamp of row `i`.
    fn ts(&self, i: usize) -> Result<chrono::NaiveDateTime, BoxError> {
        let micros = self.ts.value(i);
        chrono::DateTime::from_timestamp_micros(micros)
            .map(|t| t.naive_utc())
            .ok_or_else(|| format!("timestamp {micros} µs out of range").into())
    }
}

/// The limit of `fetchall_typed`: the same `Vec<NumberRow>` built by hand from the Arrow
/// path's batches (columns downcast once per batch, values read by index, a `String` per
/// name, the vector reserved per batch).
async fn typed_hand_rows(conn: &dyn Connection, sql: &str) -> Result<usize, BoxError> {
    let mut cursor = conn.cursor()?;
    cursor.execute(sql, Params::None).await?;
    let mut numbers: Vec<NumberRow> = Vec::new();
    while let Some(batch) = cursor.fetch_batch().await? {
        let arrays = NumberArrays::of(&batch)?;
        numbers.reserve(batch.num_rows());
        for i in 0..batch.num_rows() {
            numbers.push(NumberRow {
                id: arrays.ids.value(i),
                value: arrays.values.value(i),
                name: arrays.names.value(i).to_owned(),
                ts: arrays.ts(i)?,
            });
        }
    }
    let check = numbers.iter().fold(0_i64, |acc, n| {
        acc.wrapping_add(n.id ^ n.value.to_bits() as i64 ^ n.name.len() as i64)
            .wrapping_add(n.ts.and_utc().timestamp_micros())
    });
    std::hint::black_box(check);
    let n = numbers.len();
    DROP_LATER_FROM_ROW.with(|later| later.borrow_mut().push(numbers));
    Ok(n)
}

/// The limit of the `fetchone` loop: the same reads (every column of every row, the name
/// borrowed) straight from the Arrow path's batches.
async fn rows_hand_loop(conn: &dyn Connection, sql: &str) -> Result<usize, BoxError> {
    let mut cursor = conn.cursor()?;
    cursor.execute(sql, Params::None).await?;
    let mut n = 0;
    let mut check = 0_i64;
    while let Some(batch) = cursor.fetch_batch().await? {
        let arrays = NumberArrays::of(&batch)?;
        for i in 0..batch.num_rows() {
            let id = arrays.ids.value(i);
            let value = arrays.values.value(i);
            let name: &str = arrays.names.value(i);
            let ts = arrays.ts(i)?;
            check = check.wrapping_add(id ^ value.to_bits() as i64 ^ name.len() as i64);
            check = check.wrapping_add(ts.and_utc().timestamp_micros());
            n += 1;
        }
    }
    std::hint::black_box(check);
    Ok(n)
}

/// `fetchall_as::<Number>()`, the typed rows kept (freed outside the timing).
async fn fetchall_as_rows(conn: &dyn Connection, sql: &str) -> Result<usize, BoxError> {
    use dbapi::CursorExt;
    let mut cursor = conn.cursor()?;
    cursor.execute(sql, Params::None).await?;
    let numbers: Vec<Number> = cursor.fetchall_as().await?;
    let check = numbers.iter().fold(0_i64, |acc, n| {
        acc.wrapping_add(n.id ^ n.value.to_bits() as i64 ^ n.name.len() as i64)
            .wrapping_add(n.ts.and_utc().timestamp_micros())
    });
    std::hint::black_box(check);
    let n = numbers.len();
    DROP_LATER_TYPED.with(|later| later.borrow_mut().push(numbers));
    Ok(n)
}

/// `fetchone` until `None`, reading nothing: the cost of the call itself.
async fn fetchone_only(conn: &dyn Connection, sql: &str) -> Result<usize, BoxError> {
    let mut cursor = conn.cursor()?;
    cursor.execute(sql, Params::None).await?;
    let mut n = 0;
    while cursor.fetchone().await?.is_some() {
        n += 1;
    }
    Ok(n)
}

/// Times one measurement and checks its row count.
async fn timed<F, Fut>(expected: usize, what: &str, f: F) -> Result<Duration, BoxError>
where
    F: FnOnce() -> Fut,
    Fut: std::future::Future<Output = Result<usize, BoxError>>,
{
    let start = Instant::now();
    let rows = f().await?;
    let elapsed = start.elapsed();
    drop_later();
    if rows != expected {
        return Err(format!("{what}: {rows} rows, expected {expected}").into());
    }
    Ok(elapsed)
}

/// One reported figure.
struct Figure {
    name: String,
    value: f64,
    unit: &'static str,
    baseline_name: Option<String>,
    ratio: Option<f64>,
    target: Option<String>,
    met: Option<bool>,
}

impl Figure {
    /// A figure without a reference.
    fn plain(name: &str, value: f64, unit: &'static str) -> Figure {
        Figure {
            name: name.into(),
            value,
            unit,
            baseline_name: None,
            ratio: None,
            target: None,
            met: None,
        }
    }

    /// A time with its ratio to a reference, without a target.
    fn against(name: &str, value: Duration, baseline_name: &str, baseline: Duration) -> Figure {
        Figure {
            name: name.into(),
            value: secs(value),
            unit: "s",
            baseline_name: Some(baseline_name.into()),
            ratio: Some(secs(value) / secs(baseline)),
            target: None,
            met: None,
        }
    }

    /// The same figure, a time in milliseconds rather than seconds.
    fn in_ms(mut self) -> Figure {
        self.value *= 1000.0;
        self.unit = "ms";
        self
    }

    /// A figure that could not be measured, and why (printed as such; `null` in the summary).
    fn unmeasured(name: &str, why: &'static str) -> Figure {
        Figure::plain(name, f64::NAN, why)
    }

    /// A peak RSS above idle, against the 64 MiB limit.
    fn memory(name: String, mib: f64) -> Figure {
        Figure {
            name,
            value: mib,
            unit: "MiB above idle",
            baseline_name: Some("limit 64 MiB".into()),
            ratio: Some(mib / 64.0),
            target: Some("≤ 1".into()),
            met: Some(mib <= 64.0),
        }
    }

    fn print(&self) {
        if self.value.is_nan() {
            println!("{}: not measured ({})", self.name, self.unit);
            return;
        }
        let mut line = format!("{}: {:.3} {}", self.name, self.value, self.unit);
        if let (Some(ratio), Some(base)) = (self.ratio, &self.baseline_name) {
            line.push_str(&format!(" ({ratio:.3} × {base}"));
            if let Some(target) = &self.target {
                let verdict = if self.met == Some(true) {
                    "met"
                } else {
                    "MISSED"
                };
                line.push_str(&format!("; target {target}: {verdict}"));
            }
            line.push(')');
        }
        println!("{line}");
    }

    fn json(&self) -> serde_json::Value {
        json!({
            "name": self.name, "value": self.value, "unit": self.unit,
            "baseline": self.baseline_name, "ratio": self.ratio,
            "target": self.target, "met": self.met,
        })
    }
}

fn secs(d: Duration) -> f64 {
    d.as_secs_f64()
}

fn ratio_figure(
    name: &str,
    value: Duration,
    baseline_name: &str,
    baseline: Duration,
    limit: f64,
) -> Figure {
    let ratio = secs(value) / secs(baseline);
    Figure {
        name: name.into(),
        value: secs(value),
        unit: "s",
        baseline_name: Some(baseline_name.into()),
        ratio: Some(ratio),
        target: Some(format!("≤ {limit}")),
        met: Some(ratio <= limit),
    }
}

/// `dbapi-adbc` against the ADBC driver manager used directly: `SELECT *` of SQLite as Arrow
/// (≤ 1.1 × its time) and PostgreSQL bulk ingest (≥ 0.9 × its throughput: ≤ 1.11 × its time).
async fn adbc_figures(rows: usize, reps: usize) -> Result<Vec<Figure>, BoxError> {
    let select = adbc::sqlite_select(rows, reps).await?;
    let ingest = adbc::postgres_ingest(rows, reps).await?;
    Ok(vec![
        ratio_figure(
            &format!("adbc_sqlite_select_{rows}_rows"),
            median(select.ours),
            "adbc_driver_manager directly",
            median(select.direct),
            1.1,
        ),
        ratio_figure(
            &format!("adbc_postgresql_ingest_{rows}_rows"),
            median(ingest.ours),
            "adbc_driver_manager bind_stream directly",
            median(ingest.direct),
            1.11,
        ),
    ])
}

/// One run of `python/adbc_fetch.py`.
#[derive(Debug, serde::Deserialize)]
struct PythonRun {
    seconds: f64,
    rows: usize,
    /// RSS when connected and idle; `None` where the system cannot say.
    idle_kib: Option<u64>,
    /// Peak RSS from idle to the end; `None` where the system cannot say.
    peak_kib: Option<u64>,
}

/// Python's `fetch_arrow_table()` and `fetch_record_batch()` through this workspace's ADBC
/// library (`libadbc_driver_dbapi_flightsql.so`, beside this program) and through the Go ADBC
/// Flight SQL driver, each run in a Python process of its own, in turn, against one server
/// process: the whole table, 8 endpoints each delayed `delay_ms` (ours reading 7 ahead), and
/// the peak RSS of streaming the whole table.
async fn python_adbc_figures(
    peers: &PythonPeers,
    rows: usize,
    reps: usize,
    delay_ms: u64,
) -> Result<Vec<Figure>, BoxError> {
    let (python, ours) = (&peers.python, &peers.ours);
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("python/adbc_fetch.py");
    let par_rows = rows.min(800_000);
    let server = spawn_server(rows, par_rows)?;
    let uri = format!("grpc://{}", server.addr);
    let delayed = [
        format!("h:{}=8", overrides::ENDPOINTS),
        format!("h:{}={delay_ms}", overrides::DELAY_MS),
    ];
    let run = |mode: &str, ours_driver: bool, sql: &str, headers: &[String]| {
        let driver = if ours_driver {
            ours.display().to_string()
        } else {
            "go".to_owned()
        };
        let mut command = Command::new(python);
        command
            .arg(&script)
            .args([mode, &driver, &uri, sql])
            .args(headers);
        if ours_driver && !headers.is_empty() {
            command.arg("o:read_ahead=7");
        }
        let output = command.output()?;
        if !output.status.success() {
            return Err(format!(
                "python ({driver}, {mode}): {}",
                String::from_utf8_lossy(&output.stderr)
            )
            .into());
        }
        let run: PythonRun = serde_json::from_slice(&output.stdout)?;
        Ok::<_, BoxError>(run)
    };
    let all = "SELECT * FROM numbers";
    let par = "SELECT * FROM par";
    let (mut table, mut table_go, mut slow, mut slow_go) = (vec![], vec![], vec![], vec![]);
    // `None` once a run could not measure its memory.
    let (mut peak, mut peak_go) = (Some(0_u64), Some(0_u64));
    let (mut above, mut above_go) = (Some(0_u64), Some(0_u64));
    let keep_max = |kept: &mut Option<u64>, new: Option<u64>| {
        *kept = kept.zip(new).map(|(a, b)| a.max(b));
    };
    for rep in 0..reps {
        for ours_first in [rep % 2 == 0, rep % 2 != 0] {
            let t = run("table", ours_first, all, &[])?;
            let s = run("table", ours_first, par, &delayed)?;
            let m = run("stream", ours_first, all, &[])?;
            if t.rows != rows || s.rows != par_rows || m.rows != rows {
                return Err(
                    format!("python read {} / {} / {} rows", t.rows, s.rows, m.rows).into(),
                );
            }
            let secs = |r: &PythonRun| Duration::from_secs_f64(r.seconds);
            if ours_first {
                table.push(secs(&t));
                slow.push(secs(&s));
                keep_max(&mut peak, m.peak_kib);
                keep_max(
                    &mut above,
                    m.peak_kib.zip(m.idle_kib).map(|(p, i)| p.saturating_sub(i)),
                );
            } else {
                table_go.push(secs(&t));
                slow_go.push(secs(&s));
                keep_max(&mut peak_go, m.peak_kib);
                keep_max(
                    &mut above_go,
                    m.peak_kib.zip(m.idle_kib).map(|(p, i)| p.saturating_sub(i)),
                );
            }
        }
    }
    let mib = |kib: u64| kib as f64 / 1024.0;
    let go = "the Go ADBC Flight SQL driver";
    let peak_name = format!("python_fetch_record_batch_{rows}_rows_peak_rss");
    let above_name = format!("python_fetch_record_batch_{rows}_rows_peak_rss_above_idle");
    let unmeasurable = "this system has no /proc/self/status VmHWM to reset";
    let memory = match (peak, peak_go, above, above_go) {
        (Some(peak), Some(peak_go), Some(above), Some(above_go)) => [
            Figure {
                name: peak_name,
                value: mib(peak),
                unit: "MiB",
                baseline_name: Some(format!("{go} ({:.1} MiB)", mib(peak_go))),
                ratio: Some(peak as f64 / peak_go.max(1) as f64),
                target: Some("≤ 0.5".into()),
                met: Some(peak as f64 / peak_go.max(1) as f64 <= 0.5),
            },
            Figure {
                name: above_name,
                value: mib(above),
                unit: "MiB",
                baseline_name: Some(format!("{go} ({:.1} MiB)", mib(above_go))),
                ratio: Some(above as f64 / above_go.max(1) as f64),
                target: None,
                met: None,
            },
        ],
        _ => [
            Figure::unmeasured(&peak_name, unmeasurable),
            Figure::unmeasured(&above_name, unmeasurable),
        ],
    };
    let mut figures = vec![
        ratio_figure(
            &format!("python_fetch_arrow_table_{rows}_rows"),
            median(table),
            go,
            median(table_go),
            0.8,
        ),
        ratio_figure(
            &format!("python_fetch_arrow_table_8_endpoints_delayed_{delay_ms}ms"),
            median(slow),
            go,
            median(slow_go),
            0.5,
        ),
    ];
    figures.extend(memory);
    Ok(figures)
}

/// A figure compared with another, without a target.
fn compared(name: &str, value: Duration, baseline_name: &str, baseline: Duration) -> Figure {
    Figure {
        name: name.into(),
        value: secs(value),
        unit: "s",
        baseline_name: Some(baseline_name.into()),
        ratio: Some(secs(value) / secs(baseline)),
        target: None,
        met: None,
    }
}

/// Bytes received on the loopback interface so far (`/proc/net/dev`): during a query, the
/// answer on the wire (with TCP/IP headers).
fn loopback_bytes_received() -> Result<u64, BoxError> {
    let dev = std::fs::read_to_string("/proc/net/dev")?;
    dev.lines()
        .find_map(|l| l.trim_start().strip_prefix("lo:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| "no loopback interface in /proc/net/dev".into())
}

/// `SELECT *` of `numbers` through the Arrow path from servers that compress their answers
/// each way: time and bytes received, against a server that does not compress.
async fn compression(rows: usize, reps: usize) -> Result<Vec<Figure>, BoxError> {
    let modes: [(&str, &[&str]); 5] = [
        ("none", &[]),
        ("grpc_gzip", &["--grpc-compression", "gzip"]),
        ("grpc_zstd", &["--grpc-compression", "zstd"]),
        ("ipc_lz4", &["--ipc-compression", "lz4"]),
        ("ipc_zstd", &["--ipc-compression", "zstd"]),
    ];
    let all = "SELECT * FROM numbers";
    let mut figures = Vec::new();
    let mut plain: Option<(Duration, f64)> = None;
    for (name, extra) in modes {
        let server = spawn_server_with(rows, 1, extra)?;
        let conn = registry()
            .connect(&format!("flightsql://{}?tls=false", server.addr))
            .await?;
        timed(rows, "warm-up", || arrow_rows(conn.as_ref(), all)).await?;
        let (mut times, mut received) = (vec![], vec![]);
        for _ in 0..reps {
            let before = loopback_bytes_received()?;
            times.push(timed(rows, name, || arrow_rows(conn.as_ref(), all)).await?);
            received.push((loopback_bytes_received()? - before) as f64 / (1024.0 * 1024.0));
        }
        received.sort_by(f64::total_cmp);
        let (time, mib) = (median(times), received[received.len() / 2]);
        let (base_time, base_mib) = *plain.get_or_insert((time, mib));
        figures.push(compared(
            &format!("wire_{name}_select_star"),
            time,
            "no compression",
            base_time,
        ));
        figures.push(Figure {
            name: format!("wire_{name}_bytes_received"),
            value: mib,
            unit: "MiB",
            baseline_name: Some("no compression".into()),
            ratio: Some(mib / base_mib),
            target: None,
            met: None,
        });
    }
    Ok(figures)
}

/// Parameter sets `(id, name)` for ids `range`.
fn param_sets(range: std::ops::Range<i64>) -> Vec<Params> {
    range
        .map(|i| {
            Params::from([
                dbapi::Value::Int64(i),
                dbapi::Value::String(format!("n{i}")),
            ])
        })
        .collect()
}

/// 8 endpoints of `par`, each delayed `delay_ms` before its first batch, read with read-ahead
/// 7 (target ≤ 1.3 × one such endpoint) and one after another; and the peak memory of reading
/// the `rows` of `numbers` from 8 and 16 endpoints with as many read ahead.
async fn endpoint_figures(
    url: &str,
    rows: usize,
    par_rows: usize,
    reps: usize,
    delay_ms: u64,
) -> Result<Vec<Figure>, BoxError> {
    let mut figures = Vec::new();
    let delay = delay_ms.to_string();
    let par_url = |endpoints: usize, read_ahead: usize| {
        format!(
            "{url}&read_ahead={read_ahead}&header.{}={endpoints}&header.{}={delay}",
            overrides::ENDPOINTS,
            overrides::DELAY_MS
        )
    };
    let one_conn = registry().connect(&par_url(1, 0)).await?;
    let ahead_conn = registry().connect(&par_url(8, 7)).await?;
    let seq_conn = registry().connect(&par_url(8, 0)).await?;
    let eighth = par_rows / 8;
    let one_sql = format!("SELECT * FROM par WHERE id < {eighth}");
    let (mut one_e, mut ahead_e, mut seq_e) = (vec![], vec![], vec![]);
    for _ in 0..reps {
        one_e.push(
            timed(eighth, "one endpoint", || {
                arrow_rows(one_conn.as_ref(), &one_sql)
            })
            .await?,
        );
        ahead_e.push(
            timed(par_rows, "8 endpoints, read-ahead 7", || {
                arrow_rows(ahead_conn.as_ref(), "SELECT * FROM par")
            })
            .await?,
        );
        seq_e.push(
            timed(par_rows, "8 endpoints, sequential", || {
                arrow_rows(seq_conn.as_ref(), "SELECT * FROM par")
            })
            .await?,
        );
    }
    let one = median(one_e);
    figures.push(Figure::plain("one_delayed_endpoint", secs(one), "s"));
    figures.push(ratio_figure(
        "eight_delayed_endpoints_read_ahead_7",
        median(ahead_e),
        "one endpoint",
        one,
        1.3,
    ));
    let seq = median(seq_e);
    figures.push(Figure::against(
        "eight_delayed_endpoints_sequential",
        seq,
        "one endpoint",
        one,
    ));
    for endpoints in [8, 16] {
        let ahead = endpoints - 1;
        figures.push(checked_memory(
            format!("memory_fetchmany_{endpoints}_endpoints_read_ahead_{ahead}"),
            measure_memory(&par_url(endpoints, ahead), "SELECT * FROM numbers")?,
            rows,
        )?);
    }

    Ok(figures)
}

/// The first wait before a retry in the retry figures (URL key `retry_backoff`).
const BENCH_RETRY_BACKOFF: Duration = Duration::from_millis(10);

/// `n` `SELECT 1`s through an in-process server failing every 20th call of each kind and
/// resetting every 20th stream before its first message, interleaved with `n` through the
/// same server without faults (and with `retries=0`, what retries cost when nothing fails):
/// every query must succeed; p50 and p99 of each. Target: the faulty p99 within the
/// fault-free p99 + the first backoff + one round trip (the fault-free median).
async fn retries(n: usize) -> Result<Vec<Figure>, BoxError> {
    use dbapi_flightsql_server::{AnswerFaults, Faults, Options, StreamFaults};
    let faulty = Server::builder()
        .options(Options {
            faults: Faults {
                answers: AnswerFaults {
                    unavailable_every: 20,
                    ..AnswerFaults::default()
                },
                streams: StreamFaults {
                    reset_every: 20,
                    ..StreamFaults::default()
                },
                ..Faults::default()
            },
            ..Options::default()
        })
        .start()
        .await?;
    let clean = Server::builder().start().await?;
    let backoff = format!("retry_backoff={}ms", BENCH_RETRY_BACKOFF.as_millis());
    let faulty_conn = registry()
        .connect(&format!("{}&{backoff}", faulty.url()))
        .await?;
    let clean_conn = registry()
        .connect(&format!("{}&{backoff}", clean.url()))
        .await?;
    let bare_conn = registry()
        .connect(&format!("{}&retries=0", clean.url()))
        .await?;
    let (mut with_faults, mut without, mut bare) = (vec![], vec![], vec![]);
    for conn in [&faulty_conn, &clean_conn, &bare_conn] {
        fetchall_rows(conn.as_ref(), "SELECT 1").await?;
    }
    for i in 0..n {
        for (conn, out) in [
            (&faulty_conn, &mut with_faults),
            (&clean_conn, &mut without),
            (&bare_conn, &mut bare),
        ] {
            let started = Instant::now();
            let rows = fetchall_rows(conn.as_ref(), "SELECT 1")
                .await
                .map_err(|e| format!("query {i}: {e}"))?;
            if rows != 1 {
                return Err(format!("query {i}: {rows} rows").into());
            }
            out.push(started.elapsed());
        }
    }
    let injected = faulty.stats().faults_injected + faulty.stats().streams_reset;
    let percentile = |v: &mut Vec<Duration>, p: f64| {
        v.sort();
        v[((v.len() - 1) as f64 * p).round() as usize]
    };
    let (faulty_p50, faulty_p99) = (
        percentile(&mut with_faults, 0.5),
        percentile(&mut with_faults, 0.99),
    );
    let (clean_p50, clean_p99) = (
        percentile(&mut without, 0.5),
        percentile(&mut without, 0.99),
    );
    let bare_p50 = percentile(&mut bare, 0.5);
    let bound = clean_p99 + BENCH_RETRY_BACKOFF + clean_p50;
    let ms = |d: Duration| secs(d) * 1000.0;
    Ok(vec![
        Figure::plain(
            &format!("retries_faults_injected_in_{n}_queries"),
            injected as f64,
            "faults",
        ),
        Figure::plain("retries_select_1_p50_fault_free", ms(clean_p50), "ms"),
        Figure::plain("retries_select_1_p99_fault_free", ms(clean_p99), "ms"),
        Figure::plain(
            "retries_select_1_p50_one_call_in_20_failing",
            ms(faulty_p50),
            "ms",
        ),
        ratio_figure(
            "retries_select_1_p99_one_call_in_20_failing",
            faulty_p99,
            "fault-free p99 + first backoff + one round trip",
            bound,
            1.0,
        ),
        ratio_figure(
            "retries_select_1_median_retries_on_vs_off",
            clean_p50,
            "retries=0",
            bare_p50,
            1.05,
        ),
    ])
}

/// Loading `n` rows three ways (executemany, single executes, ingest) and repeated
/// parameterised queries with and without the statement cache, against an in-process
/// server holding only the tables written here.
async fn statements(n: usize, reps: usize) -> Result<Vec<Figure>, BoxError> {
    let server = Server::builder().start().await?;
    let conn = registry().connect(&server.url()).await?;
    let uncached = registry()
        .connect(&format!("{}&statement_cache=0", server.url()))
        .await?;
    let mut cursor = conn.cursor()?;
    let insert = "INSERT INTO w VALUES ($1, $2)";
    let count = |table: &'static str| {
        let conn = &conn;
        async move {
            let mut c = conn.cursor()?;
            c.execute(&format!("SELECT count(*) AS n FROM {table}"), Params::None)
                .await?;
            let n: i64 = c.fetchone().await?.ok_or("no count")?.get("n")?;
            Ok::<i64, BoxError>(n)
        }
    };
    let n_i64 = i64::try_from(n)?;
    let (mut many_t, mut single_t, mut ingest_t) = (vec![], vec![], vec![]);
    // Single executes are slow: a tenth of the rows, reported per row against executemany's
    // cost per row.
    let singles = (n / 10).max(1);
    for _ in 0..reps {
        for sql in [
            "DROP TABLE IF EXISTS w",
            "CREATE TABLE w (id BIGINT, name VARCHAR)",
        ] {
            cursor.execute(sql, Params::None).await?;
        }
        let sets = param_sets(0..n_i64);
        let start = Instant::now();
        cursor.executemany(insert, sets.into()).await?;
        many_t.push(start.elapsed());
        if cursor.rowcount() != n_i64 || count("w").await? != n_i64 {
            return Err(format!("executemany inserted {} rows", cursor.rowcount()).into());
        }
        cursor.execute("DELETE FROM w", Params::None).await?;
        let sets = param_sets(0..i64::try_from(singles)?);
        let start = Instant::now();
        for params in sets {
            cursor.execute(insert, params).await?;
        }
        single_t.push(start.elapsed());
        if count("w").await? != i64::try_from(singles)? {
            return Err("single executes lost rows".into());
        }
        let batches = param_batches(n)?;
        cursor
            .execute("DROP TABLE IF EXISTS w_ingest", Params::None)
            .await?;
        let start = Instant::now();
        let loaded = conn
            .ingest(
                "w_ingest",
                dbapi::IngestMode::Create,
                futures::stream::iter(batches.into_iter().map(Ok)).boxed(),
            )
            .await?;
        ingest_t.push(start.elapsed());
        if loaded != n_i64 || count("w_ingest").await? != n_i64 {
            return Err(format!("ingest loaded {loaded} rows").into());
        }
    }
    // The same rows from an iterator, in chunks: never all in memory. Timed against the
    // `Vec` form, and its peak memory above idle (the server runs in its own process).
    let mut iter_t = vec![];
    let mut iter_peak_kib = 0_u64;
    for _ in 0..reps {
        cursor.execute("DELETE FROM w", Params::None).await?;
        let idle = rss_kib("VmRSS:")?;
        std::fs::write("/proc/self/clear_refs", "5")?;
        let sets = dbapi::ParamSets::new((0..n_i64).map(|i| dbapi::params![i, format!("n{i}")]));
        let start = Instant::now();
        cursor.executemany(insert, sets).await?;
        iter_t.push(start.elapsed());
        iter_peak_kib = iter_peak_kib.max(rss_kib("VmHWM:")?.saturating_sub(idle));
        if cursor.rowcount() != n_i64 || count("w").await? != n_i64 {
            return Err(format!(
                "executemany from an iterator inserted {}",
                cursor.rowcount()
            )
            .into());
        }
    }
    let many = median(many_t);
    let per_row = |d: Duration, rows: usize| d / u32::try_from(rows).unwrap_or(u32::MAX);
    let single_per_row = per_row(median(single_t), singles);
    let mut figures = vec![
        Figure::plain(&format!("executemany_{n}_rows"), secs(many), "s"),
        Figure {
            name: "executemany_per_row".into(),
            value: secs(per_row(many, n)) * 1e6,
            unit: "µs",
            baseline_name: Some("single execute per row".into()),
            ratio: Some(secs(per_row(many, n)) / secs(single_per_row)),
            target: None,
            met: None,
        },
        Figure::plain("single_execute_per_row", secs(single_per_row) * 1e6, "µs"),
        ratio_figure(
            &format!("executemany_iterator_{n}_rows"),
            median(iter_t),
            "executemany of a Vec",
            many,
            1.05,
        ),
        Figure::plain(
            "executemany_iterator_peak_rss_above_idle",
            iter_peak_kib as f64 / 1024.0,
            "MiB",
        ),
        compared(
            &format!("ingest_{n}_rows"),
            median(ingest_t),
            "executemany",
            many,
        ),
    ];

    // Repeated parameterised queries, with the cache and without it, on a small table in one
    // batch (so that the server's scan does not hide the driver's cost).
    cursor
        .execute(
            "CREATE TABLE lookup AS SELECT * FROM w_ingest WHERE id < 10",
            Params::None,
        )
        .await?;
    let lookups = (n / 50).max(10);
    let lookup = "SELECT name FROM lookup WHERE id = $1";
    let (mut cached_t, mut uncached_t) = (vec![], vec![]);
    for _ in 0..reps {
        for (conn, times) in [(&conn, &mut cached_t), (&uncached, &mut uncached_t)] {
            let mut c = conn.cursor()?;
            let start = Instant::now();
            for i in 0..lookups {
                c.execute(lookup, Params::from([dbapi::Value::Int64(i as i64 % 10)]))
                    .await?;
                if c.fetchall().await?.len() != 1 {
                    return Err("a lookup found no row".into());
                }
            }
            times.push(start.elapsed());
        }
    }
    figures.push(compared(
        &format!("execute_with_params_cached_{lookups}_times"),
        median(cached_t),
        "without the cache",
        median(uncached_t),
    ));
    Ok(figures)
}

/// `n` rows of `(id, name)` in batches of [`BATCH_ROWS`].
fn param_batches(n: usize) -> Result<Vec<arrow::record_batch::RecordBatch>, BoxError> {
    (0..n)
        .step_by(BATCH_ROWS)
        .map(|start| param_batch(start..(start + BATCH_ROWS).min(n)))
        .collect()
}

/// The rows `(id, "n<id>")` for ids `range`.
fn param_batch(
    range: std::ops::Range<usize>,
) -> Result<arrow::record_batch::RecordBatch, BoxError> {
    let ids: Vec<i64> = range.map(|i| i as i64).collect();
    let names: Vec<String> = ids.iter().map(|i| format!("n{i}")).collect();
    Ok(arrow::record_batch::RecordBatch::try_from_iter([
        (
            "id",
            std::sync::Arc::new(arrow::array::Int64Array::from(ids)) as arrow::array::ArrayRef,
        ),
        (
            "name",
            std::sync::Arc::new(arrow::array::StringArray::from(names)) as _,
        ),
    ])?)
}

async fn run(args: Args) -> Result<(), BoxError> {
    let (rows, reps, latency_iters) = if args.smoke {
        (20_000, 1, 10)
    } else {
        (args.rows, args.reps.max(1), args.latency_iters.max(1))
    };
    let par_rows = rows.min(800_000);
    let delay_ms = if args.smoke { 20 } else { 100 };
    // Prerequisites first, so that nothing is measured for a run that cannot finish.
    let mut report = Report::create(&args.json, rows, reps, latency_iters, args.smoke)?;
    let prerequisites = Prerequisites::check(args.cli.as_deref());
    if let Err(why) = &prerequisites.cli {
        report.note(format!(
            "the command-line client figures are skipped: {why}"
        ))?;
    }
    if let Err(why) = &prerequisites.adbc {
        report.note(format!("the ADBC figures are skipped: {why}"))?;
    }
    if let Err(why) = &prerequisites.python {
        report.note(format!("the Python peer figures are skipped: {why}"))?;
    }
    let cli = prerequisites.cli.as_ref().ok();
    eprintln!("starting the server process with {rows} rows ...");
    let server = spawn_server(rows, par_rows)?;
    let addr = server.addr.clone();
    let url = format!("flightsql://{addr}?tls=false");
    let conn = registry().connect(&url).await?;
    let mut baseline = Baseline::connect(&addr, &[]).await?;
    let all = "SELECT * FROM numbers";

    // Warm up both paths.
    timed(rows, "warm-up baseline", || baseline.rows(all)).await?;
    timed(rows, "warm-up driver", || arrow_rows(conn.as_ref(), all)).await?;

    // 1, 2: throughput, interleaved.
    let (mut base_t, mut arrow_t, mut all_t, mut one_t) = (vec![], vec![], vec![], vec![]);
    let (mut only_t, mut as_t, mut concrete_t, mut from_row_t) = (vec![], vec![], vec![], vec![]);
    let (mut as_fast_t, mut typed_hand_t, mut rows_hand_t) = (vec![], vec![], vec![]);
    let mut fetch_rows_t = vec![];
    let concrete = dbapi_flightsql::FlightSqlConnection::connect(&url).await?;
    for rep in 0..reps {
        eprintln!("throughput repetition {} of {reps} ...", rep + 1);
        base_t.push(timed(rows, "baseline", || baseline.rows(all)).await?);
        arrow_t.push(timed(rows, "arrow path", || arrow_rows(conn.as_ref(), all)).await?);
        all_t.push(timed(rows, "fetchall", || fetchall_rows(conn.as_ref(), all)).await?);
        one_t.push(timed(rows, "fetchone", || fetchone_rows(conn.as_ref(), all)).await?);
        only_t.push(timed(rows, "fetchone only", || fetchone_only(conn.as_ref(), all)).await?);
        as_t.push(timed(rows, "fetchall_as", || fetchall_as_rows(conn.as_ref(), all)).await?);
        as_fast_t.push(
            timed(rows, "fetchall_as fast timestamps", || {
                fetchall_as_fast_ts_rows(conn.as_ref(), all)
            })
            .await?,
        );
        from_row_t.push(
            timed(rows, "fetchall_typed", || {
                fetchall_typed_rows(conn.as_ref(), all)
            })
            .await?,
        );
        typed_hand_t.push(
            timed(rows, "typed hand loop", || {
                typed_hand_rows(conn.as_ref(), all)
            })
            .await?,
        );
        rows_hand_t.push(
            timed(rows, "rows hand loop", || {
                rows_hand_loop(conn.as_ref(), all)
            })
            .await?,
        );
        fetch_rows_t.push(
            timed(rows, "fetch_rows loop", || {
                fetch_rows_loop(conn.as_ref(), all)
            })
            .await?,
        );
        concrete_t.push(
            timed(rows, "fetchone concrete", || {
                fetchone_concrete(&concrete, all)
            })
            .await?,
        );
    }
    let (base, arrow) = (median(base_t), median(arrow_t));
    let (one, from_row, as_fast) = (median(one_t), median(from_row_t), median(as_fast_t));
    report.push(Figure::plain("baseline_select_star", secs(base), "s"))?;
    report.push(ratio_figure(
        "arrow_path_select_star",
        arrow,
        "baseline",
        base,
        1.05,
    ))?;
    report.push(ratio_figure(
        "rows_fetchall",
        median(all_t),
        "arrow path",
        arrow,
        2.0,
    ))?;
    report.push(ratio_figure(
        "rows_fetchone_loop_get_every_column",
        one,
        "arrow path",
        arrow,
        2.0,
    ))?;
    report.push(ratio_figure(
        "typed_fetchall_as",
        median(as_t),
        "arrow path",
        arrow,
        2.5,
    ))?;
    report.push(ratio_figure(
        "typed_fetchall_as_fast_timestamps",
        as_fast,
        "arrow path",
        arrow,
        2.5,
    ))?;
    report.push(ratio_figure(
        "typed_fetchall_fromrow",
        from_row,
        "arrow path",
        arrow,
        2.0,
    ))?;
    // The limits: each row path against the same result built by hand from the batches.
    let (typed_hand, rows_hand) = (median(typed_hand_t), median(rows_hand_t));
    report.push(Figure::against(
        "typed_hand_loop",
        typed_hand,
        "arrow path",
        arrow,
    ))?;
    report.push(Figure::against(
        "rows_hand_loop",
        rows_hand,
        "arrow path",
        arrow,
    ))?;
    report.push(ratio_figure(
        "typed_fetchall_fromrow_over_hand_loop",
        from_row,
        "typed_hand_loop",
        typed_hand,
        1.15,
    ))?;
    report.push(ratio_figure(
        "typed_fetchall_as_fast_timestamps_over_fromrow",
        as_fast,
        "typed_fetchall_fromrow",
        from_row,
        1.5,
    ))?;
    report.push(ratio_figure(
        "rows_fetchone_loop_over_hand_loop",
        one,
        "rows_hand_loop",
        rows_hand,
        1.5,
    ))?;
    // The path offered for reading row by row at that limit: no `await` per row.
    let fetch_rows = median(fetch_rows_t);
    report.push(ratio_figure(
        "rows_fetch_rows_loop_get_every_column",
        fetch_rows,
        "arrow path",
        arrow,
        2.0,
    ))?;
    report.push(ratio_figure(
        "rows_fetch_rows_loop_over_hand_loop",
        fetch_rows,
        "rows_hand_loop",
        rows_hand,
        1.5,
    ))?;
    let only = median(only_t);
    report.push(Figure::plain(
        "fetchone_call",
        secs(only) * 1e9 / rows as f64,
        "ns per call (the loop without reading)",
    ))?;
    let concrete_only = median(concrete_t);
    report.push(Figure {
        name: "fetchone_call_concrete".into(),
        value: secs(concrete_only) * 1e9 / rows as f64,
        unit: "ns per call (concrete cursor, no boxed future)",
        baseline_name: Some("through dyn Cursor".into()),
        ratio: Some(secs(concrete_only) / secs(only)),
        target: None,
        met: None,
    })?;

    // Memory of results held whole: rows (views) against the same result's Arrow batches.
    eprintln!("memory of held results ...");
    let (held_arrow, n_arrow) = measure_held_memory(&url, all, "arrow")?;
    let (held_rows, n_rows) = measure_held_memory(&url, all, "rows")?;
    if n_arrow != rows || n_rows != rows {
        return Err(format!("held-memory runs read {n_arrow} and {n_rows} rows").into());
    }
    report.push(Figure::plain(
        "memory_fetch_all_batches_held",
        held_arrow,
        "MiB above idle",
    ))?;
    report.push(Figure {
        name: "memory_fetchall_held".into(),
        value: held_rows,
        unit: "MiB above idle",
        baseline_name: Some("the Arrow batches held".into()),
        ratio: Some(held_rows / held_arrow),
        target: Some("≤ 1.5".into()),
        met: Some(held_rows / held_arrow <= 1.5),
    })?;

    // 3: memory while streaming with fetchmany(10_000), small vs full result.
    let small = rows / 10;
    eprintln!("memory ...");
    let (mem_small, n_small) =
        measure_memory(&url, &format!("SELECT * FROM numbers WHERE id < {small}"))?;
    let (mem_full, n_full) = measure_memory(&url, all)?;
    if n_small != small || n_full != rows {
        return Err(format!("memory runs read {n_small} and {n_full} rows").into());
    }
    report.push(Figure::memory(
        format!("memory_fetchmany_{small}_rows"),
        mem_small,
    ))?;
    report.push(Figure::memory(
        format!("memory_fetchmany_{rows}_rows"),
        mem_full,
    ))?;

    // 4: latency of SELECT 1 on a warm connection, interleaved.
    eprintln!("latency ...");
    let (mut base_l, mut drv_l) = (vec![], vec![]);
    for _ in 0..latency_iters {
        base_l.push(timed(1, "baseline SELECT 1", || baseline.rows("SELECT 1")).await?);
        drv_l.push(
            timed(1, "driver SELECT 1", || {
                fetchall_rows(conn.as_ref(), "SELECT 1")
            })
            .await?,
        );
    }
    let (base_lat, drv_lat) = (median(base_l), median(drv_l));
    report.push(Figure::plain(
        "baseline_select_1_median",
        secs(base_lat) * 1000.0,
        "ms",
    ))?;
    let lat_ratio = secs(drv_lat) / secs(base_lat);
    report.push(Figure {
        name: "select_1_median".into(),
        value: secs(drv_lat) * 1000.0,
        unit: "ms",
        baseline_name: Some("baseline".into()),
        ratio: Some(lat_ratio),
        target: Some("≤ 1.15".into()),
        met: Some(lat_ratio <= 1.15),
    })?;

    // 5: 8 endpoints, each delayed before its first batch; with and without read-ahead.
    eprintln!("parallel endpoints ...");
    report.extend(endpoint_figures(&url, rows, par_rows, reps, delay_ms).await?)?;

    // 6: endpoints on a second instance vs the same 8 endpoints on the first.
    eprintln!("locations ...");
    let local_conn = registry()
        .connect(&format!("{url}&header.{}=8", overrides::ENDPOINTS))
        .await?;
    let remote_conn = registry()
        .connect(&format!(
            "{url}&header.{}=8&header.{}=replicas",
            overrides::ENDPOINTS,
            overrides::LOCATIONS
        ))
        .await?;
    let (mut local_t, mut remote_t) = (vec![], vec![]);
    for _ in 0..reps {
        local_t.push(
            timed(rows, "8 endpoints here", || {
                arrow_rows(local_conn.as_ref(), all)
            })
            .await?,
        );
        remote_t.push(
            timed(rows, "8 endpoints on a replica", || {
                arrow_rows(remote_conn.as_ref(), all)
            })
            .await?,
        );
    }
    report.push(ratio_figure(
        "locations_second_instance",
        median(remote_t),
        "same server",
        median(local_t),
        1.10,
    ))?;

    // 7: statements: executemany vs single executes vs ingest; the statement cache.
    eprintln!("statements ...");
    report.extend(statements(if args.smoke { 2_000 } else { 100_000 }, reps).await?)?;
    eprintln!("retries ...");
    report.extend(retries(if args.smoke { 100 } else { 1000 }).await?)?;
    eprintln!("DataFusion: the table provider against the Arrow path ...");
    report.extend(provider::figures(&url, rows, reps).await?)?;
    if prerequisites.adbc.is_ok() {
        eprintln!("ADBC: SQLite SELECT *, PostgreSQL ingest ...");
        report.extend(adbc_figures(if args.smoke { 10_000 } else { 1_000_000 }, reps).await?)?;
    }
    if let Ok(peers) = &prerequisites.python {
        eprintln!("Python: the ADBC library against the Go ADBC Flight SQL driver ...");
        report.extend(python_adbc_figures(peers, rows, reps, delay_ms).await?)?;
    }
    eprintln!("ingest memory ...");
    report.push(checked_memory(
        format!("memory_ingest_{rows}_rows"),
        measure_ingest_memory(&url, rows)?,
        rows,
    )?)?;

    // 8: the command-line client exporting the table to CSV: peak memory, full vs a tenth.
    if let Some(cli) = cli {
        eprintln!("command-line client CSV export ...");
        let (cli_small, cli_small_t) = cli_export(
            cli,
            &url,
            &format!("SELECT * FROM numbers WHERE id < {small}"),
            small,
        )?;
        let (cli_full, cli_full_t) = cli_export(cli, &url, all, rows)?;
        report.push(Figure {
            name: format!("cli_csv_export_{rows}_rows_peak_rss"),
            value: cli_full,
            unit: "MiB",
            baseline_name: Some(format!("the export of {small} rows ({cli_small:.1} MiB)")),
            ratio: Some(cli_full / cli_small),
            target: Some("≤ 1.25".into()),
            met: Some(cli_full / cli_small <= 1.25),
        })?;
        report.push(Figure::plain(
            &format!("cli_csv_export_{rows}_rows"),
            secs(cli_full_t),
            "s",
        ))?;
        report.push(Figure::plain(
            &format!("cli_csv_export_{small}_rows"),
            secs(cli_small_t),
            "s",
        ))?;
    }

    // 8b: the command-line client loading a Parquet file with `\\copy`.
    if let Some(cli) = cli {
        eprintln!("command-line client \\copy FROM Parquet ...");
        report.extend(copy(cli, &url, rows, reps).await?)?;
    }

    // 9: compression on the wire: gRPC message compression and IPC body compression.
    eprintln!("compression ...");
    report.extend(compression(rows, reps).await?)?;

    // 10: a hostile server: the memory each lie costs.
    eprintln!("hostile server ...");
    report.extend(hostile().await?)?;

    // 11: the wide tables, through every path and every Python peer the machine has.
    let (wide_rows, lineitem_sf) = if args.smoke {
        (5_000, 0.001)
    } else {
        (1_000_000, 1.0)
    };
    let peers = prerequisites.python.as_ref().ok();
    report.extend(wide_figures(wide_rows, lineitem_sf, reps, peers)?)?;

    report.finish();
    drop(server);
    Ok(())
}

/// The figures of a run, each printed as it is measured and the summary file rewritten, so
/// that a failure later in the run loses nothing measured before it.
struct Report {
    path: String,
    settings: serde_json::Value,
    figures: Vec<Figure>,
    notes: Vec<String>,
}

impl Report {
    /// Creates the summary file (and its folder) before anything is measured.
    fn create(
        path: &str,
        rows: usize,
        reps: usize,
        latency_iters: usize,
        smoke: bool,
    ) -> Result<Report, BoxError> {
        if let Some(dir) = std::path::Path::new(path).parent() {
            std::fs::create_dir_all(dir)
                .map_err(|e| format!("cannot create the folder of --json {path}: {e}"))?;
        }
        let report = Report {
            path: path.to_owned(),
            settings: json!({
                "rows": rows, "reps": reps, "latency_iters": latency_iters, "smoke": smoke,
            }),
            figures: Vec::new(),
            notes: Vec::new(),
        };
        report.write()?;
        Ok(report)
    }

    /// Prints a figure and adds it to the summary.
    fn push(&mut self, figure: Figure) -> Result<(), BoxError> {
        figure.print();
        self.figures.push(figure);
        self.write()
    }

    /// [`Report::push`] for each figure.
    fn extend(&mut self, figures: Vec<Figure>) -> Result<(), BoxError> {
        figures.into_iter().try_for_each(|f| self.push(f))
    }

    /// Prints a note (a figure skipped, and why) and adds it to the summary.
    fn note(&mut self, text: String) -> Result<(), BoxError> {
        eprintln!("note: {text}");
        self.notes.push(text);
        self.write()
    }

    fn write(&self) -> Result<(), BoxError> {
        let mut summary = self.settings.clone();
        summary["figures"] = self.figures.iter().map(Figure::json).collect();
        summary["notes"] = json!(self.notes);
        std::fs::write(&self.path, serde_json::to_string_pretty(&summary)?)
            .map_err(|e| format!("cannot write the summary to {}: {e}", self.path).into())
    }

    /// Prints every figure again, together, and the notes.
    fn finish(&self) {
        println!("\nall figures:");
        for figure in &self.figures {
            figure.print();
        }
        for note in &self.notes {
            println!("note: {note}");
        }
        println!("\nsummary written to {}", self.path);
    }
}
