"""Random sequences of ADBC calls on the dbapi Flight SQL library, through the driver manager's
C API from Python: malformed options, NUL bytes and odd text everywhere a string goes, calls on
closed handles and after failed ones, hostile answers, several threads on one connection.

    python fuzz_adbc_ffi.py LIBRARY GOOD_URI HOSTILE_URI SEQUENCES [SEED]

Any exception the driver raises is an answer; a crash, a hang (the caller's timeout) or a
Python-level error of this script is a failure. Prints how many sequences and calls ran.
"""

import random
import sys
import threading

import adbc_driver_manager as adbc
import pyarrow as pa

LIBRARY, GOOD, HOSTILE = sys.argv[1], sys.argv[2], sys.argv[3]
SEQUENCES = int(sys.argv[4])
SEED = int(sys.argv[5]) if len(sys.argv) > 5 else 1
ENTRYPOINT = "AdbcDriverDbapiFlightsqlInit"

# The driver's errors, and the driver manager's own refusals of misuse (a handle closed twice,
# a value Python cannot pass).
ANSWERS = (adbc.Error, ValueError, TypeError, OverflowError, UnicodeError, KeyError,
           NotImplementedError, RuntimeError, pa.ArrowException)

TEXT = ["", "\0", "a\0b", "x" * 5000, "\x1b]52;c;cHduZWQ=\x07", "é\u202e", "true", "false",
        "1", "-1", "9" * 40, "grpc://127.0.0.1:1", "%00", "../../etc/passwd", "SELECT 1"]
KEYS = ["uri", "username", "password", "token", "database", "tls", "timeout", "max_batch_rows",
        "locations", "header.x-a", "header.\0", "adbc.connection.autocommit",
        "adbc.connection.catalog", "adbc.connection.db_schema", "adbc.ingest.target_table",
        "adbc.ingest.mode", "no_such_key", "\0", "max_message_size", "read_ahead"]
SQL = ["SELECT 1 AS one", "SELECT id FROM numbers WHERE id < 5", "SELECT * FROM no_such_table",
       "rows_null", "nul_in_error", "nul_time_zone", "decimal_digits_list", "int8_ok",
       "bad_schema_flight_info", "SELECT '\0'", "\0", "", "SELECT $1 AS p"]

calls = 0


def attempt(f, *args, **kwargs):
    """One call; the driver's exceptions are answers."""
    global calls
    calls += 1
    try:
        out = f(*args, **kwargs)
    except ANSWERS:
        return None
    return out


def drain(handle):
    """Reads a result stream to its end (or its error)."""
    try:
        reader = pa.RecordBatchReader._import_from_c(handle.address)
        for _ in reader:
            pass
    except ANSWERS:
        pass


def sequence(rng):
    uri = rng.choice([GOOD, GOOD, HOSTILE, rng.choice(TEXT)])
    options = {"driver": LIBRARY, "entrypoint": ENTRYPOINT, "uri": uri}
    for _ in range(rng.randrange(3)):
        options[rng.choice(KEYS)] = rng.choice(TEXT)
    db = attempt(adbc.AdbcDatabase, **options)
    if db is None:
        return
    for _ in range(rng.randrange(2)):
        attempt(db.get_option, rng.choice(KEYS))
    conn = attempt(adbc.AdbcConnection, db)
    if conn is None:
        attempt(db.close)
        return
    statements = []
    for _ in range(rng.randrange(1, 8)):
        op = rng.randrange(14)
        if op == 0:
            attempt(conn.set_options, **{rng.choice(KEYS): rng.choice(TEXT)})
        elif op == 1:
            attempt(conn.get_option, rng.choice(KEYS))
        elif op == 2:
            h = attempt(conn.get_objects, rng.randrange(4), rng.choice([None, "\0", "x"]))
            if h is not None:
                drain(h)
        elif op == 3:
            attempt(conn.get_table_schema, None, None, rng.choice(TEXT))
        elif op == 4:
            attempt(rng.choice([conn.commit, conn.rollback, conn.cancel]))
        elif op == 5:
            attempt(conn.set_autocommit, rng.random() < 0.5)
        elif op == 6:
            attempt(conn.read_partition, bytes(rng.randrange(256) for _ in range(rng.randrange(40))))
        elif op == 7:
            h = attempt(conn.get_info)
            if h is not None:
                drain(h)
        else:
            st = statements[-1] if statements and rng.random() < 0.6 else attempt(adbc.AdbcStatement, conn)
            if st is None:
                continue
            if not any(st is known for known in statements):
                statements.append(st)
            attempt(st.set_sql_query, rng.choice(SQL))
            what = rng.randrange(8)
            if what == 0:
                attempt(st.prepare)
            elif what == 1:
                batch = pa.record_batch([pa.array([rng.randrange(-5, 5)])], names=["p"])
                attempt(st.bind, batch)
            elif what == 2:
                attempt(st.execute_update)
            elif what == 3:
                out = attempt(st.execute_partitions)
                if out:
                    for part in out[0][:2]:
                        h = attempt(conn.read_partition, part)
                        if h is not None:
                            drain(h)
            elif what == 4:
                attempt(st.set_options, **{rng.choice(KEYS): rng.choice(TEXT)})
            elif what == 5:
                attempt(st.close)
            else:
                out = attempt(st.execute_query)
                if out:
                    drain(out[0])
    # Several threads on one connection at once.
    if rng.random() < 0.05:
        def run():
            st = attempt(adbc.AdbcStatement, conn)
            if st is not None:
                attempt(st.set_sql_query, "SELECT id FROM numbers")
                out = attempt(st.execute_query)
                if out:
                    drain(out[0])
                attempt(st.close)
        threads = [threading.Thread(target=run) for _ in range(3)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    for st in statements:
        attempt(st.close)
    attempt(conn.close)
    # Closed handles used again.
    if rng.random() < 0.2:
        attempt(conn.get_option, "adbc.connection.autocommit")
        attempt(adbc.AdbcStatement, conn)
    attempt(db.close)


def main():
    rng = random.Random(SEED)
    for _ in range(SEQUENCES):
        sequence(rng)
    print(f"ffi fuzz: {SEQUENCES} sequences, {calls} calls, no crash", flush=True)


if __name__ == "__main__":
    main()
