//! What the integration tests and the benchmarks share for the ADBC driver: where the ADBC
//! drivers are installed, scratch folders, and a PostgreSQL server of the test's own.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

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

/// A PostgreSQL server of its own: a new cluster in a temporary folder, listening on
/// 127.0.0.1 on a free port, with password authentication over TCP. Stopped when dropped.
pub struct Postgres {
    dir: PathBuf,
    bin: PathBuf,
    /// Runs commands as this user (PostgreSQL refuses to run as root).
    user: Option<String>,
    /// The port it listens on (127.0.0.1).
    pub port: u16,
    /// The password of the `postgres` user.
    pub password: String,
}

impl std::fmt::Debug for Postgres {
    /// The port and folder, not the password.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Postgres")
            .field("port", &self.port)
            .field("dir", &self.dir)
            .finish_non_exhaustive()
    }
}

impl Postgres {
    /// Creates the cluster and starts the server; panics with the reason when it cannot.
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

/// Whether this process runs as root.
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
