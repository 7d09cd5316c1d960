//! The `dbapi` binary against the bundled server over gRPC on 127.0.0.1.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::io::Write;
use std::process::{Command, Output, Stdio};

use dbapi_flightsql_server::{Options, Server};

/// A server on a runtime of its own (the binary runs as a child process).
struct Running {
    server: Server,
    _rt: tokio::runtime::Runtime,
}

fn start(options: Options) -> Running {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let server = rt.block_on(async {
        Server::builder()
            .demo()
            .options(options)
            .start()
            .await
            .unwrap()
    });
    Running { server, _rt: rt }
}

fn dbapi(args: &[&str], stdin: Option<&str>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_dbapi"))
        .args(args)
        .env_remove("DATABASE_URL")
        .env_remove("DBAPI_TOKEN")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    if let Some(text) = stdin {
        input.write_all(text.as_bytes()).unwrap();
    }
    drop(input);
    child.wait_with_output().unwrap()
}

fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).unwrap()
}

fn stderr(output: &Output) -> String {
    String::from_utf8(output.stderr.clone()).unwrap()
}

/// Rows with NULL, an empty string, a decimal, a time zone and non-ASCII text.
const SAMPLE: &str = "SELECT id, name, email, CAST(amount AS DECIMAL(10, 2)) AS amount, \
     arrow_cast(placed_at, 'Timestamp(Microsecond, Some(\"Europe/Paris\"))') AS placed \
     FROM (SELECT c.id, c.name, coalesce(c.email, '') AS email, o.amount, o.placed_at \
     FROM shop.customers c LEFT JOIN shop.orders o ON o.customer_id = c.id) \
     ORDER BY id, amount";

#[test]
fn formats_print_values_exactly() {
    let running = start(Options::default());
    let url = running.server.url();
    let csv = dbapi(&[&url, "--format", "csv", "-c", SAMPLE], None);
    assert!(csv.status.success(), "{}", stderr(&csv));
    assert_eq!(
        stdout(&csv),
        "id,name,email,amount,placed\n\
         1,Ada,ada@example.org,25.50,2026-01-02T10:00:00+01:00\n\
         1,Ada,ada@example.org,180.00,2026-01-03T11:30:00+01:00\n\
         2,Grace,,,\n\
         3,Émilie,emilie@example.org,99.99,\n"
    );
    // NULL apart from the empty string when asked.
    let csv = dbapi(
        &[&url, "--format", "csv", "--null", "\\N", "-c", SAMPLE],
        None,
    );
    assert!(
        stdout(&csv).contains("\n2,Grace,,\\N,\\N\n"),
        "{}",
        stdout(&csv)
    );
    let ndjson = dbapi(&[&url, "--format", "ndjson", "-c", SAMPLE], None);
    let lines: Vec<String> = stdout(&ndjson).lines().map(str::to_owned).collect();
    assert_eq!(lines.len(), 4, "{lines:?}");
    assert_eq!(
        lines[2], r#"{"id":2,"name":"Grace","email":"","amount":null,"placed":null}"#,
        "NULL apart from the empty string"
    );
    assert_eq!(
        lines[0],
        r#"{"id":1,"name":"Ada","email":"ada@example.org","amount":25.50,"placed":"2026-01-02T10:00:00+01:00"}"#
    );
    let json = dbapi(&[&url, "--format", "json", "-c", SAMPLE], None);
    let text = stdout(&json);
    assert!(text.starts_with("[{") && text.ends_with("}]\n"), "{text}");
    assert!(text.contains(r#""name":"Émilie""#), "{text}");

    let table = dbapi(&[&url, "--ascii", "-c", SAMPLE], None);
    let text = stdout(&table);
    assert!(table.status.success(), "{}", stderr(&table));
    let grace: Vec<&str> = text
        .lines()
        .find(|l| l.contains("Grace"))
        .unwrap()
        .split('|')
        .map(str::trim)
        .collect();
    assert_eq!(grace, ["", "2", "Grace", "", "NULL", "NULL", ""]);
    assert!(text.contains("| 25.50 "), "{text}");
    assert!(text.contains("2026-01-02T10:00:00+01:00"), "{text}");
    assert!(text.contains("Émilie"), "{text}");
    assert!(text.ends_with("(4 rows)\n"), "{text}");
}

#[test]
fn expanded_display_and_empty_results() {
    let running = start(Options::default());
    let url = running.server.url();
    let out = dbapi(
        &[
            &url,
            "-x",
            "-c",
            "SELECT id, name FROM shop.customers WHERE id = 2",
        ],
        None,
    );
    assert_eq!(stdout(&out), "-[ RECORD 1 ]-\nid   | 2\nname | Grace\n");
    let out = dbapi(
        &[
            &url,
            "--format",
            "csv",
            "-c",
            "SELECT id, name FROM shop.customers WHERE id < 0",
        ],
        None,
    );
    assert_eq!(stdout(&out), "id,name\n");
    let out = dbapi(
        &[&url, "--ascii", "-c", "SELECT 1 AS one WHERE false"],
        None,
    );
    assert!(stdout(&out).contains("| one |"), "{}", stdout(&out));
    assert!(stdout(&out).ends_with("(0 rows)\n"));
}

#[test]
fn scripts_from_files_stdin_and_several_commands_run_in_order() {
    let running = start(Options::default());
    let url = running.server.url();
    let dir = std::env::temp_dir().join(format!("dbapi-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("script.sql");
    std::fs::write(
        &file,
        "CREATE TABLE notes (id BIGINT, text VARCHAR);\n\
         -- a comment; with a semicolon\n\
         INSERT INTO notes VALUES (1, 'a;b'), (2, 'c');\n",
    )
    .unwrap();
    let out = dbapi(&[&url, "-f", file.to_str().unwrap()], None);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("OK, 2 rows affected"),
        "{}",
        stdout(&out)
    );
    // DDL has no count: the client says what ran, not 0 or a bare OK.
    assert!(
        stdout(&out).contains("OK (CREATE TABLE)"),
        "{}",
        stdout(&out)
    );
    assert!(!stdout(&out).contains("0 rows"), "{}", stdout(&out));
    let out = dbapi(
        &[&url, "--format", "csv"],
        Some("SELECT text FROM notes WHERE id = 1;\nSELECT count(*) AS n\nFROM notes"),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), "text\na;b\nn\n2\n");
    let out = dbapi(
        &[
            &url,
            "--format",
            "csv",
            "-c",
            "SELECT 1 AS a",
            "-c",
            "SELECT 2 AS b; SELECT 3 AS c",
        ],
        None,
    );
    assert_eq!(stdout(&out), "a\n1\nb\n2\nc\n3\n");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn parameters_are_typed_by_the_server() {
    let running = start(Options::default());
    let url = running.server.url();
    let out = dbapi(
        &[
            &url,
            "--format",
            "csv",
            "-p",
            "1=2",
            "-c",
            "SELECT name FROM shop.customers WHERE id = $1",
        ],
        None,
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), "name\nGrace\n");
    let out = dbapi(
        &[
            &url,
            "-p",
            "1=not a number",
            "-c",
            "SELECT name FROM shop.customers WHERE id = $1",
        ],
        None,
    );
    assert!(!out.status.success());
    assert!(stderr(&out).contains("not a number"), "{}", stderr(&out));
}

/// DDL answered through the query path (a result of no columns, as DataFusion-based servers
/// answer it) says what ran instead of printing an empty table.
#[test]
fn statements_without_results_say_what_ran() {
    let running = start(Options {
        updates: false,
        ..Options::default()
    });
    let url = running.server.url();
    let out = dbapi(
        &[
            &url,
            "-c",
            "CREATE TABLE t2 (a INT); INSERT INTO t2 VALUES (1); SELECT a FROM t2",
        ],
        None,
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.starts_with("OK (CREATE TABLE)\n"), "{text}");
    assert!(!text.contains("(0 rows)"), "{text}");
    assert!(text.contains("(1 row)"), "the table was created: {text}");
}

#[test]
fn queries_whose_server_announces_no_schema_print_their_rows() {
    let running = start(Options {
        send_schema: false,
        ..Options::default()
    });
    let out = dbapi(
        &[
            &running.server.url(),
            "-c",
            "SELECT id FROM shop.customers WHERE id <= 3 ORDER BY id",
        ],
        None,
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(!text.starts_with("OK"), "{text}");
    assert!(text.contains("(3 rows)"), "{text}");
}

/// Scripting flags: `--timing`, `--continue-on-error`, `-t`, `--max-rows`.
#[test]
fn scripting_flags() {
    let running = start(Options::default());
    let url = running.server.url();
    let out = dbapi(&[&url, "--timing", "-c", "SELECT 1"], None);
    assert!(stderr(&out).contains("Time: "), "{}", stderr(&out));

    let script = "SELECT 'first' AS a; SELEKT; SELECT 'after' AS b";
    let out = dbapi(&[&url, "--continue-on-error", "-c", script], None);
    assert_eq!(out.status.code(), Some(3), "a statement failed");
    assert!(stdout(&out).contains("after"), "{}", stdout(&out));
    let out = dbapi(
        &[&url, "--continue-on-error"],
        Some("SELEKT;\nSELECT 'after' AS b;\n"),
    );
    assert_eq!(out.status.code(), Some(3));
    assert!(stdout(&out).contains("after"), "{}", stdout(&out));

    let sql = "SELECT 1 AS a, 'x' AS b UNION ALL SELECT 2, 'y' ORDER BY a";
    let out = dbapi(&[&url, "-t", "--format", "csv", "-c", sql], None);
    assert_eq!(stdout(&out), "1,x\n2,y\n");
    let out = dbapi(&[&url, "-t", "--ascii", "-c", sql], None);
    let text = stdout(&out);
    assert!(
        text.contains("| 1 | x |") && !text.contains("| a ") && !text.contains("row"),
        "{text}"
    );

    let all = "SELECT * FROM readings ORDER BY time";
    let out = dbapi(
        &[&url, "--max-rows", "5", "--format", "csv", "-c", all],
        None,
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out).lines().count(), 6, "{}", stdout(&out));
    assert!(
        stderr(&out).contains("only the first 5 rows"),
        "{}",
        stderr(&out)
    );
    let out = dbapi(
        &[&url, "--max-rows", "100", "--format", "csv", "-c", all],
        None,
    );
    assert_eq!(stdout(&out).lines().count(), 101);
    assert!(!stderr(&out).contains("only the first"), "{}", stderr(&out));
}

/// `dbapi completions SHELL` prints a completion script.
#[test]
fn completion_scripts_for_each_shell() {
    for (shell, marker) in [
        ("bash", "complete -F"),
        ("zsh", "#compdef dbapi"),
        ("fish", "complete -c dbapi"),
    ] {
        let out = dbapi(&["completions", shell], None);
        assert!(out.status.success(), "{}", stderr(&out));
        let script = stdout(&out);
        assert!(script.contains(marker), "{shell}: {script}");
        assert!(script.contains("max-rows"), "{shell}");
    }
    let out = dbapi(&["completions", "tcsh"], None);
    assert_eq!(out.status.code(), Some(1));
}

/// The driver's log reaches standard error (a subscriber is installed): nothing but warnings
/// by default, what `RUST_LOG` says when set, never the secret.
#[test]
fn the_log_shows_as_rust_log_says_without_secrets() {
    let running = start(Options {
        auth: dbapi_flightsql_server::Auth::Bearer("l0g-t0ken".into()),
        ..Options::default()
    });
    let url = format!("{}&token=l0g-t0ken", running.server.url());
    let run = |extra: &[&str], rust_log: Option<&str>| {
        let mut command = Command::new(env!("CARGO_BIN_EXE_dbapi"));
        command
            .args([url.as_str(), "--format", "csv", "-c", "SELECT 1 AS one"])
            .args(extra)
            .env_remove("DATABASE_URL")
            .env_remove("RUST_LOG");
        if let Some(spec) = rust_log {
            command.env("RUST_LOG", spec);
        }
        let out = command.output().unwrap();
        assert!(out.status.success(), "{}", stderr(&out));
        assert_eq!(stdout(&out), "one\n1\n");
        stderr(&out)
    };
    // A query without trouble logs nothing: scripts keep a clean standard error.
    assert_eq!(run(&[], None), "");
    assert_eq!(run(&["-q"], Some("")), "");
    let traced = run(&[], Some("trace"));
    assert!(traced.lines().count() > 20, "{traced}");
    assert!(!traced.contains("l0g-t0ken"), "the token in the log");
    let verbose = run(&["-v"], None);
    assert!(!verbose.contains("l0g-t0ken"), "{verbose}");
}

/// `\i FILE` runs a file's statements and meta-commands; `\set` variables are interpolated,
/// `:'NAME'` quoted as a string literal whatever the value holds.
#[test]
fn included_files_and_variables() {
    let running = start(Options::default());
    let url = running.server.url();
    let dir = std::env::temp_dir().join(format!("dbapi-cli-include-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let inner = dir.join("inner.sql");
    std::fs::write(
        &inner,
        "\\set who O'Brien\nSELECT :'who' AS who,\n  :n + 1 AS n;\n",
    )
    .unwrap();
    let script = format!("\\set n 41\n\\i {}\n", inner.display());
    let out = dbapi(&[&url, "--format", "csv"], Some(&script));
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), "who,n\nO'Brien,42\n");

    let out = dbapi(
        &[
            &url,
            "--format",
            "csv",
            "-c",
            "\\set b 2",
            "-c",
            "\\set a 1",
            "-c",
            "\\set",
        ],
        None,
    );
    assert_eq!(stdout(&out), "name,value\na,1\nb,2\n");

    // A file including itself stops at the nesting limit, as an error of the script.
    let itself = dir.join("itself.sql");
    std::fs::write(&itself, format!("\\i {}\n", itself.display())).unwrap();
    let out = dbapi(&[&url, "-c", &format!("\\i {}", itself.display())], None);
    assert_eq!(out.status.code(), Some(3));
    assert!(
        stderr(&out).contains("nested more than 16 deep"),
        "{}",
        stderr(&out)
    );
    let out = dbapi(&[&url, "-c", "\\i /no/such/file.sql"], None);
    assert_eq!(out.status.code(), Some(3));
    assert!(
        stderr(&out).contains("/no/such/file.sql"),
        "{}",
        stderr(&out)
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// `\c URL` moves the session to another server; a URL that does not connect keeps the one
/// it has.
#[test]
fn connect_moves_the_session_to_another_server() {
    let one = start(Options::default());
    let two = start(Options::default());
    let (url_one, url_two) = (one.server.url(), two.server.url());
    let before = two.server.stats().get_flight_info;
    let connect = format!("\\c {url_two}");
    let out = dbapi(
        &[
            &url_one,
            "--format",
            "csv",
            "-c",
            "SELECT 1 AS a",
            "-c",
            &connect,
            "-c",
            "SELECT 2 AS b",
            "-c",
            "\\conninfo",
        ],
        None,
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("b\n2\n"), "{}", stdout(&out));
    assert!(
        two.server.stats().get_flight_info > before,
        "the query went to the second server"
    );
    let port_two = url_two
        .split(':')
        .nth(2)
        .unwrap()
        .split('?')
        .next()
        .unwrap();
    assert!(
        stdout(&out).contains(port_two),
        "\\conninfo: {}",
        stdout(&out)
    );
    assert!(stderr(&out).contains("connected to"), "{}", stderr(&out));

    let out = dbapi(
        &[
            &url_one,
            "--continue-on-error",
            "-c",
            "\\c flightsql://127.0.0.1:1?tls=false",
            "-c",
            "SELECT 'still' AS s",
        ],
        None,
    );
    assert!(
        stderr(&out).contains("still connected to"),
        "{}",
        stderr(&out)
    );
    assert!(stdout(&out).contains("still"), "{}", stdout(&out));
}

/// `\watch SEC N` runs the last statement again; `\errverbose` shows the last error in full.
#[test]
fn watch_and_errverbose() {
    let running = start(Options::default());
    let url = running.server.url();
    let out = dbapi(
        &[
            &url,
            "--format",
            "csv",
            "-c",
            "SELECT 'w' AS a",
            "-c",
            "\\watch 0.05 3",
        ],
        None,
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert_eq!(text.lines().filter(|l| *l == "w").count(), 4, "{text}");
    assert_eq!(
        text.matches("(every 0.05 s) SELECT 'w' AS a").count(),
        3,
        "{text}"
    );
    let out = dbapi(&[&url, "-c", "\\watch 1 2"], None);
    assert!(
        stderr(&out).contains("no statement has run yet"),
        "{}",
        stderr(&out)
    );
    let out = dbapi(&[&url, "-c", "SELECT 1", "-c", "\\watch soon"], None);
    assert!(stderr(&out).contains("cannot read"), "{}", stderr(&out));

    let out = dbapi(
        &[
            &url,
            "--continue-on-error",
            "-c",
            "SELEKT",
            "-c",
            "\\errverbose",
        ],
        None,
    );
    let said = stderr(&out);
    assert_eq!(said.matches("SELEKT").count(), 2, "{said}");
    assert!(said.contains("code INVALID_ARGUMENT"), "{said}");
}

/// `--profile NAME`: the URL, a token from a command and output defaults from the config
/// file; its errors name the line or the profiles there are; the token is never shown.
#[test]
fn profiles_from_the_config_file() {
    let running = start(Options {
        auth: dbapi_flightsql_server::Auth::Bearer("pr0file-t0ken".into()),
        ..Options::default()
    });
    let url = running.server.url();
    let dir = std::env::temp_dir().join(format!("dbapi-cli-profile-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let config = dir.join("config.toml");
    std::fs::write(
        &config,
        format!(
            "[profiles.test]\nurl = \"{url}\"\ntoken_command = \"printf pr0file-t0ken\"\n\
             format = \"csv\"\n\n[profiles.other]\nurl = \"flightsql://127.0.0.1:1\"\n"
        ),
    )
    .unwrap();
    let run = |args: &[&str], config: &std::path::Path| {
        Command::new(env!("CARGO_BIN_EXE_dbapi"))
            .args(args)
            .env("DBAPI_CONFIG", config)
            .env_remove("DATABASE_URL")
            .env_remove("DBAPI_PROFILE")
            .output()
            .unwrap()
    };
    let out = run(
        &[
            "--profile",
            "test",
            "-c",
            "SELECT 1 AS one",
            "-c",
            "\\conninfo",
        ],
        &config,
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let all = format!("{}{}", stdout(&out), stderr(&out));
    assert!(all.starts_with("one\n1\n"), "{all}");
    assert!(!all.contains("pr0file-t0ken"), "{all}");

    let out = run(&["--profile", "nope", "-c", "SELECT 1"], &config);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("it has: other, test"),
        "{}",
        stderr(&out)
    );

    let broken = dir.join("broken.toml");
    std::fs::write(&broken, "[profiles.test]\nurl = \"x\"\nformat = \"xml\"\n").unwrap();
    let out = run(&["--profile", "test", "-c", "SELECT 1"], &broken);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("line 3"), "{}", stderr(&out));
    std::fs::write(&broken, "[profiles.test]\nurl = \"x\"\ntoken = \"t\"\n").unwrap();
    let out = run(&["--profile", "test", "-c", "SELECT 1"], &broken);
    assert!(
        stderr(&out).contains("line 3") && stderr(&out).contains("token"),
        "{}",
        stderr(&out)
    );
    // A value that does not parse is not shown: the line may hold a token.
    for line in [
        "token_command = \"printf s3cr3t-t0ken",
        "format = \"s3cr3t-t0ken\"",
        "url = s3cr3t-t0ken",
    ] {
        std::fs::write(&broken, format!("[profiles.test]\n{line}\n")).unwrap();
        let out = run(&["--profile", "test", "-c", "SELECT 1"], &broken);
        assert_eq!(out.status.code(), Some(1), "{line}");
        assert!(stderr(&out).contains("line 2"), "{line}: {}", stderr(&out));
        assert!(!stderr(&out).contains("s3cr3t"), "{line}: {}", stderr(&out));
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// `::` casts are no placeholders: parameters go only to statements that take them.
#[test]
fn casts_are_not_parameters() {
    let running = start(Options::default());
    let url = running.server.url();
    let args = [&url, "--format", "csv", "-p", "1=5", "-c"];
    let out = dbapi(&[&args[..], &["SELECT '7'::int AS v"]].concat(), None);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), "v\n7\n");
    let out = dbapi(&[&args[..], &["SELECT '7'::int + $1 AS v"]].concat(), None);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), "v\n12\n");
}

/// A cell, a column name and an error message holding terminal escapes (OSC 52 writes the
/// clipboard, CSI 2J clears the screen) are shown escaped in tables and errors, exact in CSV.
#[test]
fn text_from_the_server_is_escaped_on_a_terminal_and_exact_in_files() {
    let running = start(Options::default());
    let url = running.server.url();
    let sql = "SELECT chr(27) || ']52;c;aGk=' || chr(7) || 'x' AS \"n\x1b[2Jm\"";
    for format in ["table", "expanded"] {
        let mut args = vec![url.as_str(), "-c", sql];
        if format == "expanded" {
            args.push("-x");
        }
        let out = dbapi(&args, None);
        assert!(out.status.success(), "{}", stderr(&out));
        let shown = stdout(&out);
        assert!(
            !shown.contains('\x1b') && !shown.contains('\x07'),
            "{shown:?}"
        );
        assert!(shown.contains("\\x1b]52;c;aGk=\\x07x"), "{shown}");
        assert!(shown.contains("n\\x1b[2Jm"), "{shown}");
    }
    let out = dbapi(&[&url, "--format", "csv", "-c", sql], None);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), "n\x1b[2Jm\n\x1b]52;c;aGk=\x07x\n");
    // The server's error message names the table, escapes and all (escaped once, by the
    // core's error type, for every consumer).
    let out = dbapi(&[&url, "-c", "SELECT * FROM \"t\x1b]0;owned\x07\""], None);
    assert!(!out.status.success());
    let said = stderr(&out);
    assert!(!said.contains('\x1b') && !said.contains('\x07'), "{said:?}");
    assert!(said.contains("t\\u{1b}]0;owned\\u{7}"), "{said}");
}

#[test]
fn errors_go_to_stderr_with_exit_codes_as_psqls() {
    let running = start(Options::default());
    let url = running.server.url();
    let out = dbapi(
        &[&url, "-c", "SELECT 1 AS ok; SELEKT 2; SELECT 3 AS never"],
        None,
    );
    // 3: an error in a statement of a script (as psql's).
    assert_eq!(out.status.code(), Some(3));
    let (text, err) = (stdout(&out), stderr(&out));
    assert!(
        text.contains("ok"),
        "the statement before the error ran: {text}"
    );
    assert!(!text.contains("never"), "{text}");
    assert!(err.starts_with("error: "), "{err}");
    assert!(err.contains("SELEKT"), "{err}");
    let verbose = dbapi(&[&url, "--verbose", "-c", "SELEKT 2"], None);
    assert!(
        stderr(&verbose).contains("code INVALID_ARGUMENT"),
        "{}",
        stderr(&verbose)
    );

    let out = dbapi(
        &["flightsql://127.0.0.1:1?tls=false", "-c", "SELECT 1"],
        None,
    );
    // 2: the connection refused (or lost).
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("caused by") || stderr(&out).contains("connect"),
        "{}",
        stderr(&out)
    );
    // 1: an error of the client's own: no URL, a bad option, a bad argument.
    let out = dbapi(&["-c", "SELECT 1"], None);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("no connection URL"),
        "{}",
        stderr(&out)
    );
    let out = dbapi(&["flightsql://h:1?bogus=1", "-c", "SELECT 1"], None);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("unknown URL option \"bogus\""),
        "{}",
        stderr(&out)
    );
    let out = dbapi(&["--no-such-flag"], None);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let out = dbapi(&["--help"], None);
    assert_eq!(out.status.code(), Some(0));
    // 3 too for a script on standard input; 0 when every statement ran.
    let out = dbapi(&[&url], Some("SELECT 1;\nSELEKT;\n"));
    assert_eq!(out.status.code(), Some(3));
    let out = dbapi(&[&url], Some("SELECT 1;\n"));
    assert_eq!(out.status.code(), Some(0));
}

#[test]
fn tokens_come_from_the_environment_and_are_never_printed() {
    let running = start(Options {
        auth: dbapi_flightsql_server::Auth::Bearer("s3cr3t-t0ken".into()),
        ..Options::default()
    });
    let url = running.server.url();
    let out = Command::new(env!("CARGO_BIN_EXE_dbapi"))
        .args(["--password", "--format", "csv", "-c", "SELECT 1 AS one"])
        .env("DATABASE_URL", &url)
        .env("DBAPI_TOKEN", "s3cr3t-t0ken")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), "one\n1\n");
    let out = Command::new(env!("CARGO_BIN_EXE_dbapi"))
        .args(["--password", "--verbose", "-c", "SELEKT"])
        .env("DATABASE_URL", &url)
        .env("DBAPI_TOKEN", "s3cr3t-t0ken")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let all = format!("{}{}", stdout(&out), stderr(&out));
    assert!(!all.contains("s3cr3t"), "{all}");
    let out = dbapi(
        &[&format!("{url}&token=wr0ng-t0ken"), "-c", "SELECT 1"],
        None,
    );
    assert!(!out.status.success());
    assert!(!stderr(&out).contains("wr0ng"), "{}", stderr(&out));
}

#[test]
#[cfg(not(feature = "demo"))]
fn without_its_feature_the_demo_says_how_to_get_it() {
    let out = dbapi(&["--demo", "-c", "SELECT 1"], None);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains("--features demo"), "{}", stderr(&out));
}

#[test]
#[cfg(feature = "demo")]
fn the_demo_needs_no_server() {
    let out = dbapi(
        &[
            "--demo",
            "-q",
            "--format",
            "csv",
            "-c",
            "SELECT count(*) AS n FROM readings",
        ],
        None,
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), "n\n100\n");
}

#[test]
fn arrow_ipc_output_reads_back() {
    let running = start(Options {
        endpoints: 3,
        ..Options::default()
    });
    let url = running.server.url();
    let path = std::env::temp_dir().join(format!("dbapi-cli-{}.arrows", std::process::id()));
    let out = dbapi(
        &[
            &url,
            "--format",
            "arrow",
            "--out",
            path.to_str().unwrap(),
            "-c",
            "SELECT * FROM readings ORDER BY time",
        ],
        None,
    );
    assert!(out.status.success(), "{}", stderr(&out));
    // A new output file is its owner's alone.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "{mode:o}");
    }
    let file = std::fs::File::open(&path).unwrap();
    let reader = arrow::ipc::reader::StreamReader::try_new(file, None).unwrap();
    let rows: usize = reader.map(|b| b.unwrap().num_rows()).sum();
    assert_eq!(rows, 100);
    // An existing file readable by others becomes its owner's alone; a symbolic link where
    // the file goes is not followed.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let write = |to: &std::path::Path| {
            dbapi(
                &[&url, "--out", to.to_str().unwrap(), "-c", "SELECT 1 AS one"],
                None,
            )
        };
        assert!(write(&path).status.success());
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "{mode:o}");
        let target = path.with_extension("target");
        std::fs::write(&target, "untouched").unwrap();
        let link = path.with_extension("link");
        let _ = std::fs::remove_file(&link);
        std::os::unix::fs::symlink(&target, &link).unwrap();
        let out = write(&link);
        assert!(!out.status.success());
        assert!(stderr(&out).contains("symbolic link"), "{}", stderr(&out));
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "untouched");
        let _ = std::fs::remove_file(&link);
        let _ = std::fs::remove_file(&target);
    }
    std::fs::remove_file(&path).unwrap();
}

#[test]
fn meta_commands_browse_the_database() {
    let running = start(Options::default());
    let url = running.server.url();
    let out = dbapi(
        &[&url, "--format", "csv"],
        Some("\\l\n\\dt shop.order%\n\\d shop.orders\n\\conninfo\n\\q\nSELECT 'not run';\n"),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.starts_with("catalog\narchive\ndatafusion\n"), "{text}");
    assert!(
        text.contains("catalog,schema,name,type\ndatafusion,shop,order_items,TABLE\ndatafusion,shop,orders,TABLE\n"),
        "{text}"
    );
    assert!(
        text.contains("customer_id,Int64,no,BIGINT,references customers(id)\n"),
        "{text}"
    );
    assert!(text.contains("Primary key orders_pk: (id)\n"), "{text}");
    assert!(
        text.contains("Foreign key orders_customer_fk: datafusion.shop.orders(customer_id) references datafusion.shop.customers(id)"),
        "{text}"
    );
    assert!(text.contains(&format!("{url}\n")), "{text}");
    assert!(!text.contains("not run"), "\\q stops: {text}");

    let out = dbapi(&[&url, "-c", "\\d nope"], None);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("no table named nope"),
        "{}",
        stderr(&out)
    );
    let out = dbapi(&[&url, "-c", "\\zz"], None);
    assert!(
        stderr(&out).contains("unknown or malformed meta-command"),
        "{}",
        stderr(&out)
    );
    // `\conninfo` hides secrets.
    let out = dbapi(&[&format!("{url}&token=s3cr3t"), "-c", "\\conninfo"], None);
    assert!(!format!("{}{}", stdout(&out), stderr(&out)).contains("s3cr3t"));
}

/// The interactive shell, driven through a pseudo-terminal.
#[test]
fn the_shell_edits_lines_keeps_history_and_cancels_with_ctrl_c() {
    use std::time::Duration;

    let running = start(Options::default());
    let url = running.server.url();
    let history = std::env::temp_dir().join(format!("dbapi-cli-history-{}", std::process::id()));
    let _ = std::fs::remove_file(&history);
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_dbapi"));
    command
        .args([&url, "--ascii"])
        .env("DBAPI_HISTORY", &history)
        .env("TERM", "dumb")
        .env_remove("DATABASE_URL");
    let mut shell = rexpect::session::spawn_command(command, Some(20_000)).unwrap();
    shell.exp_string("dbapi> ").unwrap();
    // A statement over two lines.
    shell.send_line("SELECT 40 + 2").unwrap();
    shell.exp_string("...> ").unwrap();
    shell.send_line("  AS answer;").unwrap();
    shell.exp_string("(1 row)").unwrap();
    shell.exp_string("dbapi> ").unwrap();
    // A slow query, cancelled with Ctrl-C; the shell stays.
    running.server.set_options(|o| {
        o.faults.streams.delay_before_first_batch = Duration::from_secs(30);
    });
    shell.send_line("SELECT * FROM readings;").unwrap();
    std::thread::sleep(Duration::from_millis(500));
    shell.send_control('c').unwrap();
    shell.exp_string("cancel").unwrap();
    shell.exp_string("dbapi> ").unwrap();
    running.server.set_options(|o| {
        o.faults.streams.delay_before_first_batch = Duration::ZERO;
    });
    assert!(
        running.server.stats().cancel_flight_info >= 1,
        "{:?}",
        running.server.stats()
    );
    // After an error, the rest of the line (a pasted script, say) is not run.
    shell
        .send_line("SELECT * FROM no_such_table; SELECT 'hidden' || ' fragment' AS h;")
        .unwrap();
    let said = shell.exp_string("dbapi> ").unwrap();
    assert!(said.contains("no_such_table"), "{said}");
    assert!(said.contains("was not run"), "{said}");
    assert!(!said.contains("hidden fragment"), "{said}");
    // The pseudo-terminal reports 0 columns: the table keeps its natural width instead of
    // squeezing each column to one character.
    shell.send_line("SELECT 'still here' AS status;").unwrap();
    shell.exp_string("still here").unwrap();
    shell.exp_string("dbapi> ").unwrap();
    shell.send_line(" SELECT 'kept out' AS history;").unwrap();
    shell.exp_string("dbapi> ").unwrap();
    shell.send_line("\\q").unwrap();
    shell.exp_eof().unwrap();
    let kept = std::fs::read_to_string(&history).unwrap();
    assert!(kept.contains("SELECT 40 + 2"), "{kept}");
    assert!(
        !kept.contains("kept out"),
        "a line starting with a space: {kept}"
    );
    assert!(kept.contains("\\q"), "{kept}");
    let _ = std::fs::remove_file(&history);
}

#[test]
fn parquet_output_keeps_types_and_rows() {
    use arrow::datatypes::{DataType, TimeUnit};
    use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

    let running = start(Options {
        endpoints: 2,
        ..Options::default()
    });
    let url = running.server.url();
    let path = std::env::temp_dir().join(format!("dbapi-cli-{}.parquet", std::process::id()));
    let out = dbapi(
        &[
            &url,
            "--format",
            "parquet",
            "-o",
            path.to_str().unwrap(),
            "-c",
            SAMPLE,
        ],
        None,
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let file = std::fs::File::open(&path).unwrap();
    let reader = ParquetRecordBatchReaderBuilder::try_new(file)
        .unwrap()
        .build()
        .unwrap();
    let batches: Vec<_> = reader.map(|b| b.unwrap()).collect();
    let rows: usize = batches.iter().map(|b| b.num_rows()).sum();
    assert_eq!(rows, 4);
    let schema = batches[0].schema();
    assert_eq!(
        schema.field_with_name("amount").unwrap().data_type(),
        &DataType::Decimal128(10, 2)
    );
    assert_eq!(
        schema.field_with_name("placed").unwrap().data_type(),
        &DataType::Timestamp(TimeUnit::Microsecond, Some("Europe/Paris".into()))
    );
    std::fs::remove_file(&path).unwrap();
}

#[test]
fn a_script_on_stdin_stops_at_its_first_error() {
    let running = start(Options::default());
    let url = running.server.url();
    for script in [
        "\\zz\nSELECT 'after' AS a;\n",
        "SELEKT 1;\nSELECT 'after' AS a;\n",
    ] {
        let out = dbapi(&[&url], Some(script));
        assert_eq!(out.status.code(), Some(3), "{script}");
        assert!(!stdout(&out).contains("after"), "{}", stdout(&out));
        assert!(stderr(&out).starts_with("error: "), "{}", stderr(&out));
    }
}

/// The token prompt on a terminal: what is typed is not shown, and Ctrl-C at the prompt ends
/// the run with the terminal's echo back on.
#[test]
fn the_token_prompt_hides_the_token_and_ctrl_c_restores_echo() {
    let running = start(Options {
        auth: dbapi_flightsql_server::Auth::Bearer("pr0mpt-t0ken".into()),
        ..Options::default()
    });
    let url = running.server.url();
    // A shell that survives Ctrl-C (a trap), turns echo on first (the pseudo-terminal starts
    // without), and afterwards prints the exit status and the terminal's settings.
    let in_shell = || {
        let mut command = Command::new("sh");
        command
            .args([
                "-c",
                "trap true INT; stty echo; \"$0\" \"$@\"; echo status=$?; stty -a",
                env!("CARGO_BIN_EXE_dbapi"),
                &url,
                "--password",
                "--format",
                "csv",
                "-c",
                "SELECT 1 AS one",
            ])
            .env_remove("DBAPI_TOKEN")
            .env_remove("DATABASE_URL");
        rexpect::session::spawn_command(command, Some(20_000)).unwrap()
    };
    let echo_is_on = |settings: &str| {
        let flags: Vec<&str> = settings.split_whitespace().collect();
        flags.contains(&"echo") && !flags.contains(&"-echo")
    };

    let mut pty = in_shell();
    pty.exp_string("token: ").unwrap();
    pty.send_line("pr0mpt-t0ken").unwrap();
    let seen = pty.exp_string("status=0").unwrap();
    assert!(seen.contains("one"), "{seen}");
    assert!(!seen.contains("pr0mpt"), "the token was shown: {seen}");
    let settings = pty.exp_eof().unwrap();
    assert!(echo_is_on(&settings), "{settings}");

    let mut pty = in_shell();
    pty.exp_string("token: ").unwrap();
    std::thread::sleep(std::time::Duration::from_millis(200));
    pty.send_control('c').unwrap();
    let seen = pty.exp_string("status=1").unwrap();
    assert!(seen.contains("cancelled at the token prompt"), "{seen}");
    let settings = pty.exp_eof().unwrap();
    assert!(echo_is_on(&settings), "echo stayed off: {settings}");
}

/// Progress on standard error when it is a terminal (a pseudo-terminal here), never when not.
#[test]
fn progress_shows_on_a_terminal_only() {
    use dbapi_flightsql_server::overrides;

    let running = start(Options::default());
    let dir = std::env::temp_dir().join(format!("dbapi-cli-progress-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("readings.csv");
    let file = file.to_str().unwrap();
    // Three endpoints, each waiting 400 ms before its first batch.
    let url = format!(
        "{}&header.{}=3&header.{}=400&read_ahead=0",
        running.server.url(),
        overrides::ENDPOINTS,
        overrides::DELAY_MS
    );
    let sql = "SELECT * FROM readings";
    // A terminal 120 columns wide (a new pseudo-terminal has no size).
    let mut command = std::process::Command::new("sh");
    command
        .args(["-c", "stty cols 120 rows 40 && exec \"$0\" \"$@\""])
        .args([
            env!("CARGO_BIN_EXE_dbapi"),
            &url,
            "--format",
            "csv",
            "-o",
            file,
            "-c",
            sql,
        ])
        .env_remove("DATABASE_URL");
    let mut pty = rexpect::session::spawn_command(command, Some(20_000)).unwrap();
    pty.exp_regex(r"\d+ rows, [\d.]+ [KMG]?i?B, [\d,]+ rows/s, endpoints [12]/3")
        .unwrap();
    pty.exp_eof().unwrap();
    let csv = std::fs::read_to_string(file).unwrap();
    let rows = csv.lines().count() - 1;

    // Standard error is a pipe: no progress, the same rows.
    let out = dbapi(&[&url, "--format", "csv", "-c", sql], None);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stderr(&out), "");
    assert_eq!(stdout(&out), csv);
    assert!(rows > 0);
    // `-q` on a terminal: no progress either.
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_dbapi"));
    command
        .args([&url, "-q", "--format", "csv", "-o", file, "-c", sql])
        .env_remove("DATABASE_URL");
    let mut pty = rexpect::session::spawn_command(command, Some(20_000)).unwrap();
    let seen = pty.exp_eof().unwrap();
    assert!(!seen.contains("rows/s"), "{seen}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn copy_round_trips_a_million_rows_in_each_format() {
    let running = start(Options::default());
    let url = running.server.url();
    let dir = std::env::temp_dir().join(format!("dbapi-cli-copy-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = |name: &str| dir.join(name).to_str().unwrap().to_owned();
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_dbapi"));
    // `\N` for NULL, so that CSV keeps NULL apart from the empty string.
    command
        .args([&url, "--ascii", "--null", "\\N"])
        .env("DBAPI_HISTORY", file("history"))
        .env("TERM", "dumb")
        .env_remove("DATABASE_URL");
    let mut shell = rexpect::session::spawn_command(command, Some(120_000)).unwrap();
    shell.exp_string("dbapi> ").unwrap();
    // NULLs, empty strings, quotes and commas, fractions, decimals, time zones.
    shell
        .send_line(
            "CREATE TABLE src AS SELECT value AS id, \
             CASE WHEN value % 11 = 0 THEN '' WHEN value % 13 = 0 THEN NULL \
             ELSE concat('s,\"', value) END AS s, \
             CASE WHEN value % 5 = 0 THEN NULL ELSE 1.0 / (value + 1) END AS f, \
             arrow_cast(value, 'Decimal128(12, 2)') AS d, \
             arrow_cast(value * 1000003, 'Timestamp(Microsecond, Some(\"+01:00\"))') AS ts \
             FROM range(1000000);",
        )
        .unwrap();
    shell.exp_string("OK (CREATE TABLE)").unwrap();
    for (format, name) in [("csv", "c"), ("parquet", "p"), ("arrow", "a")] {
        let path = file(&format!("src.{format}"));
        shell
            .send_line(&format!("\\copy (SELECT * FROM src) TO '{path}'"))
            .unwrap();
        shell.exp_string("COPY 1000000").unwrap();
        // CSV carries no types: the table exists, so its columns give them.
        shell
            .send_line(&format!(
                "CREATE TABLE {name} AS SELECT * FROM src LIMIT 0;"
            ))
            .unwrap();
        shell.exp_string("OK (CREATE TABLE)").unwrap();
        shell
            .send_line(&format!("\\copy {name} FROM '{path}'"))
            .unwrap();
        shell.exp_string("COPY 1000000").unwrap();
    }
    // Count and content: nothing missing, nothing added, in each format.
    shell.send_line("\\format csv").unwrap();
    let checks: Vec<String> = ["c", "p", "a"]
        .iter()
        .map(|t| {
            format!(
                "(SELECT count(*) FROM {t}) AS {t}_rows, \
                 (SELECT count(*) FROM (SELECT * FROM src EXCEPT ALL SELECT * FROM {t})) AS {t}_missing, \
                 (SELECT count(*) FROM (SELECT * FROM {t} EXCEPT ALL SELECT * FROM src)) AS {t}_added, \
                 (SELECT sum(length(s)) FROM {t}) = (SELECT sum(length(s)) FROM src) AS {t}_sum"
            )
        })
        .collect();
    shell
        .send_line(&format!("SELECT {};", checks.join(", ")))
        .unwrap();
    shell
        .exp_string("1000000,0,0,true,1000000,0,0,true,1000000,0,0,true")
        .unwrap();
    // A file that is not of its format says which file and why.
    shell
        .send_line(&format!(
            "\\copy p FROM '{}' (FORMAT parquet)",
            file("src.csv")
        ))
        .unwrap();
    shell.exp_string("src.csv").unwrap();
    shell.exp_string("dbapi> ").unwrap();
    shell.send_line("\\q").unwrap();
    shell.exp_eof().unwrap();
    let _ = std::fs::remove_dir_all(&dir);
}

/// The shell on a pseudo-terminal of 24 lines: Tab completes a table and a column, a tall
/// table goes through the pager (a script recording what it gets) and a short one does not,
/// `\set` with a quote, `\i`, `\watch` stopped by Ctrl-C, `\c` to another server.
#[test]
fn the_shell_completes_pages_and_keeps_its_session() {
    use std::time::Duration;

    let running = start(Options::default());
    let other = start(Options::default());
    let url = running.server.url();
    let dir = std::env::temp_dir().join(format!("dbapi-cli-shell-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let paged = dir.join("paged");
    let script = dir.join("script.sql");
    std::fs::write(&script, "SELECT 'from the file' AS included;\n").unwrap();
    let mut command = std::process::Command::new("sh");
    command
        .arg("-c")
        .arg(format!(
            "stty rows 24 cols 120; exec '{}' '{url}' --ascii",
            env!("CARGO_BIN_EXE_dbapi")
        ))
        .env("DBAPI_HISTORY", dir.join("history"))
        .env("PAGER", format!("cat > '{}'", paged.display()))
        .env_remove("DBAPI_PAGER")
        .env("TERM", "xterm")
        .env_remove("DATABASE_URL");
    let mut shell = rexpect::session::spawn_command(command, Some(30_000)).unwrap();
    shell.exp_string("dbapi> ").unwrap();

    // Completion: "readi" becomes the table, "temper" the column; the query then runs.
    shell.send("SELECT count(*) AS n FROM readi").unwrap();
    shell.send("\t").unwrap();
    shell.send_line(";").unwrap();
    shell.exp_string("(1 row)").unwrap();
    shell.exp_string("dbapi> ").unwrap();
    shell.send("SELECT temper").unwrap();
    shell.send("\t").unwrap();
    shell.send_line(" FROM readings LIMIT 1;").unwrap();
    shell.exp_string("(1 row)").unwrap();
    shell.exp_string("dbapi> ").unwrap();

    // A table taller than the terminal goes through the pager; a short one does not.
    shell
        .send_line("SELECT sensor, time FROM readings ORDER BY time;")
        .unwrap();
    shell.exp_string("dbapi> ").unwrap();
    let through_pager = std::fs::read_to_string(&paged).unwrap();
    assert!(through_pager.contains("(100 rows)"), "{through_pager}");
    std::fs::remove_file(&paged).unwrap();
    shell.send_line("SELECT 'short' AS s;").unwrap();
    shell.exp_string("(1 row)").unwrap();
    shell.exp_string("dbapi> ").unwrap();
    assert!(!paged.exists(), "a short table went through the pager");
    shell.send_line("\\pset pager off").unwrap();
    shell.exp_string("Pager usage is off").unwrap();
    shell.exp_string("dbapi> ").unwrap();
    shell
        .send_line("SELECT sensor FROM readings LIMIT 30;")
        .unwrap();
    shell.exp_string("(30 rows)").unwrap();
    shell.exp_string("dbapi> ").unwrap();
    assert!(!paged.exists(), "the pager ran with \\pset pager off");

    // A variable holding a quote, as a string literal; a file of statements.
    shell.send_line("\\set who O'Brien").unwrap();
    shell.exp_string("dbapi> ").unwrap();
    shell.send_line("SELECT :'who' AS who;").unwrap();
    shell.exp_string("| O'Brien |").unwrap();
    shell.exp_string("(1 row)").unwrap();
    shell
        .send_line(&format!("\\i {}", script.display()))
        .unwrap();
    shell.exp_string("from the file").unwrap();
    shell.exp_string("dbapi> ").unwrap();

    // \watch runs the last statement again until Ctrl-C, without the pager (as psql).
    shell.send_line("\\pset pager on").unwrap();
    shell.exp_string("dbapi> ").unwrap();
    shell
        .send_line("SELECT sensor, 'tick' AS t FROM readings LIMIT 30;")
        .unwrap();
    shell.exp_string("dbapi> ").unwrap();
    std::fs::remove_file(&paged).unwrap();
    shell.send_line("\\watch 0.5").unwrap();
    shell.exp_string("(30 rows)").unwrap();
    shell.exp_string("(every 0.5 s)").unwrap();
    shell.exp_string("(30 rows)").unwrap();
    std::thread::sleep(Duration::from_millis(100));
    shell.send_control('c').unwrap();
    shell.exp_string("dbapi> ").unwrap();
    assert!(!paged.exists(), "\\watch went through the pager");

    // \c moves the session (its variables too) to another server.
    shell
        .send_line(&format!("\\c {}", other.server.url()))
        .unwrap();
    shell.exp_string("connected to").unwrap();
    shell.exp_string("dbapi> ").unwrap();
    shell.send_line("SELECT :'who' AS again;").unwrap();
    shell.exp_string("| O'Brien |").unwrap();
    shell.exp_string("dbapi> ").unwrap();
    assert!(
        other.server.stats().do_get >= 1,
        "{:?}",
        other.server.stats()
    );
    shell.send_line("\\q").unwrap();
    shell.exp_eof().unwrap();
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn sql_help_gives_synopses_and_the_servers_keywords() {
    let running = start(Options::default());
    let url = running.server.url();
    let out = dbapi(&[&url, "-c", "\\h create"], None);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.contains("CREATE TABLE") && text.contains("CREATE VIEW"),
        "{text}"
    );
    let out = dbapi(&[&url, "-c", "\\h"], None);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("Synopses (\\h NAME): SELECT"), "{text}");
    assert!(text.contains("Keywords of this server"), "{text}");
    let out = dbapi(&[&url, "-c", "\\h vacuum"], None);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("no help for \"vacuum\""),
        "{}",
        stderr(&out)
    );
}

#[test]
fn copy_refuses_what_it_cannot_load_exactly() {
    let running = start(Options::default());
    let url = running.server.url();
    let dir = std::env::temp_dir().join(format!("dbapi-cli-copy-errors-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    // Columns in another order than the table's: refused, not mixed up.
    let swapped = dir.join("swapped.csv");
    std::fs::write(&swapped, "b,a\n1,x\n").unwrap();
    let out = dbapi(
        &[
            &url,
            "-c",
            "CREATE TABLE t AS SELECT 'x' AS a, 1 AS b",
            "-c",
            &format!("\\copy t FROM '{}'", swapped.display()),
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(stderr(&out).contains("swapped.csv"), "{}", stderr(&out));
    // A missing file and an unknown extension name the file.
    let out = dbapi(&[&url, "-c", "\\copy t FROM '/nonexistent/x.csv'"], None);
    assert!(
        stderr(&out).contains("/nonexistent/x.csv"),
        "{}",
        stderr(&out)
    );
    let out = dbapi(&[&url, "-c", "\\copy t FROM data.txt"], None);
    assert!(
        stderr(&out).contains("cannot tell the format of data.txt"),
        "{}",
        stderr(&out)
    );
    // A statement without rows cannot be copied to a file.
    let out = dbapi(
        &[
            &url,
            "-c",
            &format!(
                "\\copy (CREATE TABLE u AS SELECT 1 AS x) TO '{}'",
                dir.join("u.csv").display()
            ),
        ],
        None,
    );
    assert!(
        stderr(&out).contains("no result to write"),
        "{}",
        stderr(&out)
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// The same shell against SQLite through the ADBC driver (installed under `target/adbc` by
/// `.ci/adbc_drivers.py`), found by name on `ADBC_DRIVER_PATH`.
#[test]
fn adbc_urls_work_unchanged() {
    let drivers =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/adbc/drivers");
    assert!(
        drivers.join("sqlite.toml").is_file(),
        "the ADBC SQLite driver is not installed: run `python3 .ci/adbc_drivers.py`"
    );
    let dir = std::env::temp_dir().join(format!("dbapi-cli-adbc-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let db = dir.join("shop.db");
    let _ = std::fs::remove_file(&db);
    let url = format!("adbc:sqlite?uri=file:{}", db.display());
    let output = Command::new(env!("CARGO_BIN_EXE_dbapi"))
        .env("ADBC_DRIVER_PATH", &drivers)
        .args([
            url.as_str(),
            "-c",
            "CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT, price REAL)",
            "-c",
            "INSERT INTO items VALUES (1, 'tea', 2.5), (2, 'cake', NULL)",
            "-c",
            "\\dt",
            "-c",
            "\\d items",
            "-c",
            "\\set limit 2",
            "-c",
            "SELECT name FROM items WHERE id <= :limit ORDER BY id",
            "--format",
            "csv",
        ])
        .output()
        .unwrap();
    let out = stdout(&output);
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(out.contains("items,table"), "{out}");
    assert!(out.contains("price,Float64,yes,REAL"), "{out}");
    assert!(out.contains("name\ntea\ncake\n"), "{out}");
    let output = Command::new(env!("CARGO_BIN_EXE_dbapi"))
        .env("ADBC_DRIVER_PATH", &drivers)
        .args([url.as_str(), "-c", "SELECT * FROM nothing_here"])
        .output()
        .unwrap();
    // An SQL error: psql's status 3, with the database's message.
    assert_eq!(output.status.code(), Some(3), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("ProgrammingError"),
        "{}",
        stderr(&output)
    );
    assert!(
        stderr(&output).contains("no such table: nothing_here"),
        "{}",
        stderr(&output)
    );
    // A driver by path, or an entry point, only with --allow-driver-paths; `\c` in a script
    // reaches the same rule; a relative path never.
    let by_path = format!(
        "adbc:{}?uri=file:{}",
        drivers
            .join("sqlite.toml")
            .canonicalize()
            .unwrap()
            .display(),
        db.display()
    );
    let script = dir.join("reconnect.sql");
    std::fs::write(
        &script,
        format!("\\c {by_path}\nSELECT count(*) AS n FROM items;\n"),
    )
    .unwrap();
    let with_entrypoint = format!("{url}&entrypoint=abort");
    let script = script.to_str().unwrap();
    for (args, ok) in [
        (vec![by_path.as_str(), "-c", "SELECT 1"], false),
        (vec![url.as_str(), "-f", script], false),
        (
            vec!["--allow-driver-paths", by_path.as_str(), "-c", "SELECT 1"],
            true,
        ),
        (
            vec!["--allow-driver-paths", url.as_str(), "-f", script],
            true,
        ),
        (
            vec!["--allow-driver-paths", "adbc:./x.so", "-c", "SELECT 1"],
            false,
        ),
        (vec![with_entrypoint.as_str(), "-c", "SELECT 1"], false),
    ] {
        let output = Command::new(env!("CARGO_BIN_EXE_dbapi"))
            .env("ADBC_DRIVER_PATH", &drivers)
            .args(&args)
            .output()
            .unwrap();
        assert_eq!(output.status.success(), ok, "{args:?}: {}", stderr(&output));
        if !ok {
            assert!(
                output.status.code().is_some(),
                "{args:?}: {:?}",
                output.status
            );
            let err = stderr(&output);
            assert!(
                err.contains("--allow-driver-paths") || err.contains("never loaded"),
                "{args:?}: {err}"
            );
        }
    }
    let _ = std::fs::remove_dir_all(dir);
}

/// The exit status, stderr and peak memory of the binary against hostile input: it must end
/// with an error naming `names`, not be killed, and stay small.
fn refuses(args: &[&str], names: &[&str]) {
    let out = dbapi(args, None);
    let err = stderr(&out);
    assert!(
        out.status.code().is_some_and(|c| c != 0),
        "{args:?}: {:?}: {err} {}",
        out.status,
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(!err.contains("panicked"), "{args:?}: {err}");
    for name in names {
        assert!(err.contains(name), "{args:?}: {err}");
    }
}

#[test]
fn hostile_arrow_files_through_copy_from_are_errors_naming_the_limit() {
    use dbapi_flightsql_server::hostile::{cases, ipc_stream};
    let running = start(Options::default());
    let url = running.server.url();
    let dir = std::env::temp_dir().join(format!("dbapi-cli-hostile-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for (case, names) in [
        (cases::ROWS_NULL, &["max_batch_rows"][..]),
        (cases::ROWS_NESTED_NULL, &["max_batch_rows"]),
        (cases::LENGTH_LIE, &["max_decoded_size"]),
        (cases::LZ4_BOMB_LIE, &["expands to more than 1024"]),
        (cases::ZSTD_BOMB, &["max_decoded_size"]),
        (cases::DECIMAL_DIGITS_LIST, &["more digits than its type"]),
        (cases::NUL_TIME_ZONE, &["time zone of column"]),
    ] {
        let path = dir.join(format!("{case}.arrows"));
        std::fs::write(&path, ipc_stream(case).unwrap()).unwrap();
        let copy = format!("\\copy t FROM '{}'", path.display());
        refuses(&[&url, "-c", &copy], names);
    }
    // Not an Arrow file at all.
    let path = dir.join("garbage.arrow");
    std::fs::write(
        &path,
        b"ARROW1\0\0\xff\xff\xff\xff\x10\0\0\0garbage garbage!",
    )
    .unwrap();
    let copy = format!("\\copy t FROM '{}'", path.display());
    refuses(&[&url, "-c", &copy], &["garbage.arrow"]);
    // The same guard reads a good file.
    let good = dir.join("good.arrows");
    std::fs::write(&good, ipc_stream(cases::INT8_OK).unwrap()).unwrap();
    let out = dbapi(
        &[
            &url,
            "-c",
            &format!("\\copy good FROM '{}'", good.display()),
            "-c",
            "SELECT sum(x) AS s FROM good",
        ],
        None,
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains('6'),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_row_bomb_answering_the_catalog_list_is_an_error_naming_the_key() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let server = rt
        .block_on(dbapi_flightsql_server::hostile::HostileServer::start())
        .unwrap();
    refuses(&[&server.url(), "-c", "\\l"], &["max_batch_rows"]);
}
