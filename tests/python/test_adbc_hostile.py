"""The dbapi Flight SQL ADBC library inside a Python process against a hostile server, after
fork(), and beside the reference (Go) Flight SQL ADBC driver.

Run by the Rust integration test `python::the_adbc_library_survives_hostile_servers_and_fork`,
which starts the bundled server (three endpoints per result) and the hostile server:

    python test_adbc_hostile.py LIBRARY GOOD_URI HOSTILE_URI

Every hostile case must end in a Python exception naming its cause, with the process alive
and its memory under 64 MiB above idle.
"""

import os
import sys

import adbc_driver_manager
import adbc_driver_manager.dbapi as dbapi

LIBRARY, GOOD, HOSTILE = sys.argv[1], sys.argv[2], sys.argv[3]
ENTRYPOINT = "AdbcDriverDbapiFlightsqlInit"
MIB = 1 << 20


def connect(uri, autocommit=True):
    return dbapi.connect(
        driver=LIBRARY, entrypoint=ENTRYPOINT, db_kwargs={"uri": uri}, autocommit=autocommit
    )


def status(field):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field):
                return int(line.split()[1]) * 1024
    raise AssertionError(f"no {field} in /proc/self/status")


def refused(call, *names):
    """Runs `call`, which must raise an ADBC error naming each of `names`, within 64 MiB of
    memory above what the process held before."""
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")
    idle = status("VmRSS:")
    try:
        call()
    except adbc_driver_manager.Error as e:
        text = str(e)
        assert "\0" not in text, repr(text)
        for name in names:
            assert name in text, (name, text)
    else:
        raise AssertionError(f"no error; expected one naming {names}")
    grown = status("VmHWM:") - idle
    assert grown < 64 * MIB, f"{grown / MIB:.1f} MiB above idle"
    return text


def fetch(uri, sql):
    with connect(uri) as conn, conn.cursor() as cur:
        cur.execute(sql)
        return cur.fetch_arrow_table()


def test_hostile_answers_are_errors_and_the_process_lives():
    # A NUL byte in the server's error message: escaped, not a C string cut short or an abort.
    text = refused(lambda: fetch(HOSTILE, "nul_in_error"), "the server says no", "\\u{0}")
    assert "this part hides after a NUL" in text, text
    # A NUL byte in a time zone: the schema never reaches the host.
    refused(lambda: fetch(HOSTILE, "nul_time_zone"), "time zone of column")
    # ~300 bytes claiming 2^40 rows: as a result, and as the catalog list of get_objects.
    refused(lambda: fetch(HOSTILE, "rows_null"), "max_batch_rows")
    refused(lambda: fetch(HOSTILE, "rows_nested_null"), "max_batch_rows")

    def objects():
        with connect(HOSTILE) as conn:
            conn.adbc_get_objects(depth="catalogs").read_all()

    refused(objects, "max_batch_rows")


def test_a_bad_schema_in_partitions_harms_no_other_connection():
    def partitions():
        with connect(HOSTILE) as conn, conn.cursor() as cur:
            cur.adbc_execute_partitions("bad_schema_flight_info")

    refused(partitions, "undecodable")
    # The library is not poisoned: a good server still answers, partitions too.
    assert fetch(GOOD, "SELECT count(*) AS n FROM numbers").column("n")[0].as_py() == 1000
    with connect(GOOD) as conn, conn.cursor() as cur:
        parts, _ = cur.adbc_execute_partitions("SELECT id FROM numbers")
        assert len(parts) == 3, len(parts)


def test_fork_leaves_parent_and_child_working():
    conn = connect(GOOD)
    cur = conn.cursor()
    cur.execute("SELECT count(*) AS n FROM numbers")
    assert cur.fetchone() == (1000,)
    pid = os.fork()
    if pid == 0:
        code = 0
        try:
            # The parent's connection: a clear error, not a hang.
            try:
                cur.execute("SELECT 1")
                cur.fetchall()
                code = 2
            except adbc_driver_manager.Error as e:
                if "another process" not in str(e):
                    print(f"child: unexpected error {e}", flush=True)
                    code = 3
            # A new connection works in the child.
            if fetch(GOOD, "SELECT count(*) AS n FROM numbers").column("n")[0].as_py() != 1000:
                code = 4
        except BaseException as e:  # noqa: BLE001 - the child reports, never raises
            print(f"child: {e!r}", flush=True)
            code = 5
        os._exit(code)
    _, wait_status = os.waitpid(pid, 0)
    assert os.WIFEXITED(wait_status), wait_status
    assert os.WEXITSTATUS(wait_status) == 0, f"child exited {os.WEXITSTATUS(wait_status)}"
    # The parent's connection goes on.
    cur.execute("SELECT count(*) AS n FROM numbers")
    assert cur.fetchone() == (1000,)
    cur.close()
    conn.close()


def grpc_uri(uri):
    """The bundled server's URL as the Go driver takes it (grpc://host:port)."""
    rest = uri.split("://", 1)[1].split("?", 1)[0].split("/", 1)[0]
    return f"grpc://{rest}"


def test_partitions_cross_between_this_driver_and_the_go_driver():
    import adbc_driver_flightsql.dbapi as go

    sql = "SELECT id FROM numbers"
    # Go's partitions, read by this driver.
    with go.connect(grpc_uri(GOOD), autocommit=True) as conn, conn.cursor() as cur:
        parts, schema = cur.adbc_execute_partitions(sql)
    assert len(parts) == 3, len(parts)
    ids = []
    with connect(GOOD) as conn, conn.cursor() as cur:
        for part in parts:
            cur.adbc_read_partition(part)
            ids += cur.fetch_arrow_table().column("id").to_pylist()
    assert sorted(ids) == list(range(1000)), len(ids)
    # This driver's partitions, read by Go's.
    with connect(GOOD) as conn, conn.cursor() as cur:
        parts, schema = cur.adbc_execute_partitions(sql)
    assert schema.names == ["id"], schema
    ids = []
    with go.connect(grpc_uri(GOOD), autocommit=True) as conn, conn.cursor() as cur:
        for part in parts:
            cur.adbc_read_partition(part)
            ids += cur.fetch_arrow_table().column("id").to_pylist()
    assert sorted(ids) == list(range(1000)), len(ids)


def main():
    tests = [(name, f) for name, f in globals().items() if name.startswith("test_")]
    for name, test in tests:
        test()
        print(f"ok {name}", flush=True)
    print(f"python: {len(tests)} passed")


if __name__ == "__main__":
    main()
