//! The Flight SQL driver as an ADBC driver (`dbapi-adbc-flightsql`), loaded by Python's
//! `adbc_driver_manager` from the venv `.ci/adbc_drivers.py` makes, against the bundled server
//! with three endpoints per result: `tests/python/test_adbc_flightsql.py`.

use std::path::{Path, PathBuf};
use std::process::Command;

/// Variables cargo sets for a test binary (not for the cargo it runs) that name its package.
const CARGO_TEST_VARS: &[&str] = &[
    "CARGO_MANIFEST_DIR",
    "CARGO_MANIFEST_PATH",
    "CARGO_MANIFEST_LINKS",
    "CARGO_CRATE_NAME",
    "CARGO_PRIMARY_PACKAGE",
    "CARGO_TARGET_TMPDIR",
    "CARGO_RUSTC_CURRENT_DIR",
    "OUT_DIR",
];

/// Prefixes of such variables.
const CARGO_TEST_PREFIXES: &[&str] = &["CARGO_PKG_", "CARGO_BIN_EXE_"];

/// The C library, built now beside this test binary: `cargo test` builds the libraries its
/// tests link, and nothing links a C library. Built with the test targets selected too
/// (`--lib --tests`), so that features resolve as for `cargo test --workspace --all-features`
/// (dev-dependencies included): nothing but the C library's link is new, and DataFusion is
/// not compiled a second time with other features.
pub fn adbc_library() -> PathBuf {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut build = Command::new(cargo);
    // What cargo sets for this test binary describes the `dbapi-tests` package; inherited, it
    // would change the inputs of build scripts that track it (ring's tracks
    // `CARGO_MANIFEST_DIR`) and so rebuild half the workspace inside the test.
    for (name, _) in std::env::vars_os() {
        let name_str = name.to_string_lossy();
        if CARGO_TEST_VARS.iter().any(|v| name_str == *v)
            || CARGO_TEST_PREFIXES.iter().any(|p| name_str.starts_with(p))
        {
            build.env_remove(&name);
        }
    }
    let status = build
        .args([
            "build",
            "--workspace",
            "--all-features",
            "--lib",
            "--tests",
            "--quiet",
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .status()
        .unwrap();
    assert!(status.success(), "building the ADBC library failed");
    let exe = std::env::current_exe().unwrap();
    let dir = exe.parent().and_then(Path::parent).unwrap();
    let lib = dir.join("libadbc_driver_dbapi_flightsql.so");
    assert!(lib.is_file(), "{} not built", lib.display());
    lib
}

/// The venv's Python.
pub fn python() -> PathBuf {
    let python = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/adbc/venv/bin/python");
    assert!(
        python.is_file(),
        "no Python venv with adbc_driver_manager at {}: run `python3 .ci/adbc_drivers.py`",
        python.display()
    );
    python
}

/// Runs `tests/python/SCRIPT` with the C library (built now) and `args`, off the runtime; its
/// standard output, after checking it ended well and says `expect`.
async fn run_python(script: &str, args: Vec<String>, expect: &str) -> String {
    let lib = tokio::task::spawn_blocking(adbc_library).await.unwrap();
    let lib = lib.display().to_string();
    run_script(script, std::iter::once(lib).chain(args).collect(), expect).await
}

/// Runs `tests/python/SCRIPT` with `args`, off the runtime; its standard output, after
/// checking it ended well and says `expect`.
pub async fn run_script(script: &str, args: Vec<String>, expect: &str) -> String {
    let script = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("python")
        .join(script);
    let python = python();
    let output =
        tokio::task::spawn_blocking(move || Command::new(python).arg(script).args(args).output())
            .await
            .unwrap()
            .unwrap();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr),
    );
    assert!(
        output.status.success(),
        "{:?}\n{stdout}\n{stderr}",
        output.status
    );
    assert!(stdout.contains(expect), "{stdout}");
    stdout
}

/// The bundled server (three endpoints per result) and the hostile one.
async fn servers() -> (
    dbapi_flightsql_server::Server,
    dbapi_flightsql_server::hostile::HostileServer,
) {
    let server = crate::server_with_endpoints(3).await;
    let hostile = dbapi_flightsql_server::hostile::HostileServer::start()
        .await
        .unwrap();
    (server, hostile)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_adbc_driver_works_from_python() {
    let server = crate::server_with_endpoints(3).await;
    run_python(
        "test_adbc_flightsql.py",
        vec![server.url()],
        "python: 5 passed",
    )
    .await;
}

/// Hostile answers, `fork()` and the Go driver's partitions, from Python:
/// `tests/python/test_adbc_hostile.py`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_adbc_library_survives_hostile_servers_and_fork() {
    let (server, hostile) = servers().await;
    run_python(
        "test_adbc_hostile.py",
        vec![server.url(), hostile.url()],
        "python: 4 passed",
    )
    .await;
}

/// Random ADBC call sequences from Python (`tests/python/fuzz_adbc_ffi.py`), 300 of them; the
/// long run sets `DBAPI_FFI_FUZZ_SEQUENCES` (e.g. 100000) and `DBAPI_FFI_FUZZ_SEED`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_adbc_library_survives_random_call_sequences() {
    let (server, hostile) = servers().await;
    let sequences = std::env::var("DBAPI_FFI_FUZZ_SEQUENCES").unwrap_or_else(|_| "300".to_owned());
    let seed = std::env::var("DBAPI_FFI_FUZZ_SEED").unwrap_or_else(|_| "1".to_owned());
    let expected = format!("ffi fuzz: {sequences} sequences");
    let stdout = run_python(
        "fuzz_adbc_ffi.py",
        vec![server.url(), hostile.url(), sequences, seed],
        &expected,
    )
    .await;
    println!("{stdout}");
}

/// InfluxData's own client (`influxdb3-python`) queries the bundled server through InfluxDB's
/// JSON ticket, SQL and InfluxQL with parameters (`tests/python/test_influxdb3_client.py`):
/// the emulation checked by someone else's client, and its InfluxQL answer equal to ours.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn influxdatas_own_client_queries_the_bundled_server() {
    let server = crate::server(dbapi_flightsql_server::Options {
        required_header: Some(("database".into(), "sensors".into())),
        ..Default::default()
    })
    .await;
    let port = server.addr().port().to_string();
    let stdout = run_python("test_influxdb3_client.py", vec![port], "python: 3 passed").await;
    let stats = server.stats();
    assert_eq!((stats.influx_tickets, stats.influxql_tickets), (3, 1));
    let theirs: f64 = stdout
        .lines()
        .find_map(|l| l.strip_prefix("influxql mean: "))
        .and_then(|m| m.trim().parse().ok())
        .unwrap_or_else(|| panic!("no mean in {stdout}"));
    let url = format!("{}&database=sensors&query_language=influxql", server.url());
    let conn = crate::registry().connect(&url).await.unwrap();
    let mut cursor = conn.cursor().unwrap();
    cursor
        .execute(
            "SELECT MEAN(value) AS mean FROM numbers WHERE id < $max",
            dbapi::params! { "max" => 10_i64 },
        )
        .await
        .unwrap();
    let ours: f64 = cursor.fetchone().await.unwrap().unwrap().get(0).unwrap();
    assert_eq!(theirs, ours);
}
