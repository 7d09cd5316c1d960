//! The ADBC driver against real databases: SQLite (a file in a temporary folder) and
//! PostgreSQL (a server these tests start with `initdb`/`pg_ctl` on a free port and stop at
//! the end), through the ADBC drivers `.ci/adbc_drivers.py` installs under `target/adbc`.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use dbapi::{Connection, ErrorKind, Params, Registry};
use dbapi_adbc::AdbcDriver;

use crate::conformance::{self, Lacks, Opener};

pub fn registry() -> Registry {
    Registry::new().with(AdbcDriver::new())
}

/// The manifest of an installed ADBC driver (`sqlite`, `postgresql`).
pub fn manifest(name: &str) -> PathBuf {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../target/adbc/drivers")
        .join(format!("{name}.toml"));
    assert!(
        path.is_file(),
        "the ADBC {name} driver is not installed at {}: run `python3 .ci/adbc_drivers.py`",
        path.display()
    );
    path.canonicalize().unwrap()
}

/// A new empty folder under the system's temporary folder.
pub fn scratch(what: &str) -> PathBuf {
    static N: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!(
        "dbapi-it-{what}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The URL of a SQLite database file.
pub fn sqlite_url(db: &Path) -> String {
    format!(
        "adbc:{}?uri=file:{}",
        manifest("sqlite").display(),
        db.display()
    )
}

fn opener(url: String) -> Opener {
    let url = Arc::new(url);
    Arc::new(move || {
        let url = Arc::clone(&url);
        Box::pin(async move { registry().connect(&url).await.unwrap() })
    })
}

/// A PostgreSQL server of its own: a new cluster in a temporary folder, listening on
/// 127.0.0.1 on a free port, with password authentication over TCP. Stopped when dropped.
pub struct Postgres {
    dir: PathBuf,
    bin: PathBuf,
    /// Runs commands as this user (PostgreSQL refuses to run as root).
    user: Option<String>,
    pub port: u16,
    pub password: String,
}

impl Postgres {
    pub fn start() -> Postgres {
        let bin = pg_bin();
        let dir = scratch("pg");
        let user = is_root().then(|| "postgres".to_owned());
        let password = format!("pw-{}-s3cret", std::process::id());
        std::fs::write(dir.join("pwfile"), &password).unwrap();
        if let Some(user) = &user {
            let status = Command::new("chown")
                .args(["-R", user])
                .arg(&dir)
                .status()
                .unwrap();
            assert!(status.success(), "chown {}", dir.display());
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let pg = Postgres {
            dir,
            bin,
            user,
            port,
            password,
        };
        pg.run(
            "initdb",
            &[
                "-D",
                &pg.data(),
                "-U",
                "postgres",
                "--pwfile",
                &pg.dir.join("pwfile").display().to_string(),
                "--auth-local=trust",
                "--auth-host=scram-sha-256",
                "-E",
                "UTF8",
                "--no-sync",
            ],
        );
        let options = format!(
            "-p {port} -k {} -c listen_addresses=127.0.0.1 -c fsync=off",
            pg.dir.display()
        );
        pg.run(
            "pg_ctl",
            &[
                "-D",
                &pg.data(),
                "-l",
                &pg.dir.join("log").display().to_string(),
                "-o",
                &options,
                "-w",
                "start",
            ],
        );
        pg
    }

    fn data(&self) -> String {
        self.dir.join("data").display().to_string()
    }

    fn run(&self, program: &str, args: &[&str]) {
        let program = self.bin.join(program);
        let mut command = match &self.user {
            Some(user) => {
                let mut c = Command::new("runuser");
                c.args(["-u", user, "--"]).arg(&program);
                c
            }
            None => Command::new(&program),
        };
        let output = command.args(args).output().unwrap();
        assert!(
            output.status.success(),
            "{} {args:?}: {}{}",
            program.display(),
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }

    /// The `uri` of a database on this server, with the password.
    pub fn uri(&self, password: &str) -> String {
        format!(
            "postgresql://postgres:{password}@127.0.0.1:{}/postgres",
            self.port
        )
    }

    /// The `adbc:` URL of this server through the ADBC PostgreSQL driver.
    pub fn url(&self) -> String {
        format!(
            "adbc:{}?uri={}",
            manifest("postgresql").display(),
            crate::url_encode(&self.uri(&self.password))
        )
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        let program = self.bin.join("pg_ctl");
        let data = self.data();
        let args = ["-D", data.as_str(), "-m", "immediate", "-w", "stop"];
        let _ = match &self.user {
            Some(user) => Command::new("runuser")
                .args(["-u", user, "--"])
                .arg(&program)
                .args(args)
                .output(),
            None => Command::new(&program).args(args).output(),
        };
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

/// The folder of PostgreSQL's server programs (Debian keeps them out of `PATH`).
fn pg_bin() -> PathBuf {
    if let Ok(output) = Command::new("pg_config").arg("--bindir").output()
        && output.status.success()
    {
        let dir = PathBuf::from(String::from_utf8_lossy(&output.stdout).trim());
        if dir.join("initdb").is_file() {
            return dir;
        }
    }
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path().join("bin"))
        .filter(|p| p.join("initdb").is_file())
        .collect();
    versions.sort();
    versions.pop().expect(
        "PostgreSQL's server programs (initdb, pg_ctl) not found: install Debian's \
         `postgresql` package (.ci/run does)",
    )
}

#[tokio::test]
async fn conformance_sqlite() {
    let dir = scratch("sqlite");
    let url = sqlite_url(&dir.join("conformance.db"));
    conformance::run(
        "adbc sqlite",
        opener(url),
        Lacks {
            constraints: None,
            booleans: Some("SQLite has no boolean type"),
            strict_types: Some("SQLite keeps no declared types in results"),
        },
    )
    .await;
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn conformance_postgresql() {
    let pg = Postgres::start();
    conformance::run("adbc postgresql", opener(pg.url()), Lacks::default()).await;
}

#[tokio::test]
async fn passwords_stay_out_of_errors_and_debug() {
    let pg = Postgres::start();
    let wrong = "not-the-Pa55word";
    let url = format!(
        "adbc:{}?uri={}",
        manifest("postgresql").display(),
        crate::url_encode(&pg.uri(wrong))
    );
    let e = registry().connect(&url).await.unwrap_err();
    assert!(e.is_auth() || e.kind() == ErrorKind::Operational, "{e:?}");
    for shown in [
        e.to_string(),
        format!("{e:?}"),
        e.report().lines().join("\n"),
    ] {
        assert!(!shown.contains(wrong), "{shown}");
    }
    let conn = registry().connect(&pg.url()).await.unwrap();
    let shown = format!("{conn:?}");
    assert!(!shown.contains(&pg.password), "{shown}");
    let config = dbapi_adbc::Config::from_url(&pg.url()).unwrap();
    assert!(!format!("{config:?}").contains(&pg.password));
    assert!(!dbapi::redact_url(&pg.url()).contains(&pg.password));
}

#[tokio::test]
async fn bad_urls_and_missing_drivers_are_named() {
    let e = registry()
        .connect("adbc:no_such_adbc_driver?uri=x")
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Interface, "{e}");
    assert!(e.to_string().contains("no_such_adbc_driver"), "{e}");
    let e = registry()
        .connect(&format!(
            "adbc:{}?uri=:memory:&bogus=1",
            manifest("sqlite").display()
        ))
        .await
        .unwrap_err();
    assert!(e.to_string().contains("unknown option \"bogus\""), "{e}");
    let e = registry()
        .connect(&format!(
            "adbc:{}?uri=:memory:&adbc.sqlite.no_such_option=1",
            manifest("sqlite").display()
        ))
        .await
        .unwrap_err();
    assert!(e.to_string().contains("no_such_option"), "{e}");
}

#[tokio::test]
async fn a_long_query_is_cancelled_from_another_task() {
    let pg = Postgres::start();
    let conn: Box<dyn Connection> = registry().connect(&pg.url()).await.unwrap();
    let mut cursor = conn.cursor().unwrap();
    let token = cursor.cancel_token().unwrap();
    let cancel = tokio::spawn(async move {
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        token.cancel().await
    });
    let started = std::time::Instant::now();
    // The driver may run the query at execute or as the result is read: either fails.
    let outcome = match cursor.execute("SELECT pg_sleep(30)", Params::None).await {
        Ok(()) => cursor.fetchall().await.map(drop),
        Err(e) => Err(e),
    };
    let e = outcome.unwrap_err();
    cancel.await.unwrap().unwrap();
    assert!(e.is_cancelled(), "{e:?}");
    assert!(started.elapsed().as_secs() < 20, "{:?}", started.elapsed());
    cursor.execute("SELECT 1", Params::None).await.unwrap();
    assert_eq!(cursor.fetchall().await.unwrap().len(), 1);
}
