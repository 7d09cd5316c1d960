//! The Flight SQL driver as an ADBC driver (`dbapi-adbc-flightsql`), loaded by Python's
//! `adbc_driver_manager` from the venv `.ci/adbc_drivers.py` makes, against the bundled server
//! with three endpoints per result: `tests/python/test_adbc_flightsql.py`.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The C library, built now beside this test binary: `cargo test` builds the libraries its
/// tests link, and nothing links a C library. (`--workspace --all-features --lib`, as the test
/// run itself builds, so nothing else rebuilds.)
pub fn adbc_library() -> PathBuf {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let status = Command::new(cargo)
        .args(["build", "--workspace", "--all-features", "--lib", "--quiet"])
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_adbc_driver_works_from_python() {
    let server = crate::server_with_endpoints(3).await;
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("python/test_adbc_flightsql.py");
    let lib = tokio::task::spawn_blocking(adbc_library).await.unwrap();
    let (python, url) = (python(), server.url());
    let output = tokio::task::spawn_blocking(move || {
        Command::new(python).arg(script).arg(lib).arg(url).output()
    })
    .await
    .unwrap()
    .unwrap();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr),
    );
    assert!(output.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains("python: 5 passed"), "{stdout}");
}

/// Hostile answers, `fork()` and the Go driver's partitions, from Python:
/// `tests/python/test_adbc_hostile.py`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_adbc_library_survives_hostile_servers_and_fork() {
    let server = crate::server_with_endpoints(3).await;
    let hostile = dbapi_flightsql_server::hostile::HostileServer::start()
        .await
        .unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("python/test_adbc_hostile.py");
    let lib = tokio::task::spawn_blocking(adbc_library).await.unwrap();
    let (python, good, bad) = (python(), server.url(), hostile.url());
    let output = tokio::task::spawn_blocking(move || {
        Command::new(python)
            .arg(script)
            .arg(lib)
            .arg(good)
            .arg(bad)
            .output()
    })
    .await
    .unwrap()
    .unwrap();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr),
    );
    assert!(output.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains("python: 4 passed"), "{stdout}");
}

/// Random ADBC call sequences from Python (`tests/python/fuzz_adbc_ffi.py`), 300 of them; the
/// long run sets `DBAPI_FFI_FUZZ_SEQUENCES` (e.g. 100000).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_adbc_library_survives_random_call_sequences() {
    let server = crate::server_with_endpoints(3).await;
    let hostile = dbapi_flightsql_server::hostile::HostileServer::start()
        .await
        .unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("python/fuzz_adbc_ffi.py");
    let lib = tokio::task::spawn_blocking(adbc_library).await.unwrap();
    let (python, good, bad) = (python(), server.url(), hostile.url());
    let sequences = std::env::var("DBAPI_FFI_FUZZ_SEQUENCES").unwrap_or_else(|_| "300".to_owned());
    let expected = format!("ffi fuzz: {sequences} sequences");
    let output = tokio::task::spawn_blocking(move || {
        Command::new(python)
            .arg(script)
            .arg(lib)
            .arg(good)
            .arg(bad)
            .arg(sequences)
            .output()
    })
    .await
    .unwrap()
    .unwrap();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr),
    );
    assert!(
        output.status.success(),
        "{:?}\n{stdout}\n{stderr}",
        output.status
    );
    assert!(stdout.contains(&expected), "{stdout}");
    println!("{stdout}");
}
