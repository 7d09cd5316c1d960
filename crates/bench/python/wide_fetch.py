"""One read of a whole result by a Python Flight SQL client, in a process of its own.

    python wide_fetch.py PEER HOST PORT SQL

PEER is `pyarrow` (pyarrow's Flight client, the Flight SQL command built here), `go` (the Go
ADBC Flight SQL driver, adbc-driver-flightsql), `flightsql-dbapi` (its DB-API cursor, rows as
Python values) or the path of another ADBC driver library (this workspace's
libadbc_driver_dbapi_flightsql.so). Every peer connects and runs `SELECT 1` first (not timed);
then the query is executed and its result read to the end (timed).

Prints one JSON line: seconds, rows, a checksum (the sum of the first column plus the number
of non-NULL values in the result, the same sum the Rust paths make), the process's RSS in KiB
when idle and its peak from then to the end (`/proc/self/status`, the peak reset through
`/proc/self/clear_refs`; null where that cannot be measured).
"""

import json
import sys
import time

from proc_memory import idle as idle_rss, peak as peak_rss

mode, host, port, sql = sys.argv[1:5]
port = int(port)


def table_checksum(table):
    import pyarrow.compute as pc

    first = pc.sum(table.column(0)).as_py() or 0
    return first + sum(len(c) - c.null_count for c in table.columns)


def varint(n):
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        if n:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def field(number, payload):
    """A length-delimited protobuf field."""
    return varint(number << 3 | 2) + varint(len(payload)) + payload


def statement_query(query):
    """A Flight SQL `CommandStatementQuery` packed in a protobuf `Any`."""
    url = b"type.googleapis.com/arrow.flight.protocol.sql.CommandStatementQuery"
    return field(1, url) + field(2, field(1, query.encode()))


if mode == "pyarrow":
    import pyarrow.flight as flight

    client = flight.FlightClient(f"grpc+tcp://{host}:{port}")

    def run(query):
        info = client.get_flight_info(flight.FlightDescriptor.for_command(statement_query(query)))
        tables = [client.do_get(e.ticket).read_all() for e in info.endpoints]
        import pyarrow as pa

        return pa.concat_tables(tables) if len(tables) != 1 else tables[0]

    run("SELECT 1")
    idle = idle_rss()
    started = time.perf_counter()
    result = run(sql)
    seconds = time.perf_counter() - started
    rows, checksum = result.num_rows, table_checksum(result)
elif mode == "flightsql-dbapi":
    import math

    from flightsql import FlightSQLClient, connect

    conn = connect(FlightSQLClient(host=host, port=port, insecure=True))
    cur = conn.cursor()
    cur.execute("SELECT 1")
    cur.fetchall()
    idle = idle_rss()
    started = time.perf_counter()
    cur.execute(sql)
    result = cur.fetchall()
    seconds = time.perf_counter() - started

    def present(v):
        return v is not None and not (isinstance(v, float) and math.isnan(v)) and str(v) != "NaT"

    rows = len(result)
    checksum = sum(int(r[0]) for r in result) + sum(present(v) for r in result for v in r)
else:
    import adbc_driver_manager.dbapi

    if mode == "go":
        import adbc_driver_flightsql.dbapi

        conn = adbc_driver_flightsql.dbapi.connect(f"grpc://{host}:{port}", autocommit=True)
    else:
        conn = adbc_driver_manager.dbapi.connect(
            driver=mode,
            entrypoint="AdbcDriverDbapiFlightsqlInit",
            db_kwargs={"uri": f"grpc://{host}:{port}"},
            autocommit=True,
        )
    cur = conn.cursor()
    cur.execute("SELECT 1")
    cur.fetchall()
    idle = idle_rss()
    started = time.perf_counter()
    cur.execute(sql)
    result = cur.fetch_arrow_table()
    seconds = time.perf_counter() - started
    rows, checksum = result.num_rows, table_checksum(result)

print(json.dumps({
    "seconds": seconds,
    "rows": rows,
    "checksum": checksum,
    "idle_kib": idle,
    "peak_kib": peak_rss(idle),
}))
