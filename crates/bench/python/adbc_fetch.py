"""One measurement of an ADBC Flight SQL driver from Python, in a process of its own.

    python adbc_fetch.py table|stream DRIVER URI SQL [h:HEADER=VALUE ...] [o:OPTION=VALUE ...]

DRIVER is `go` (the adbc-driver-flightsql package) or the path of another driver library
(this workspace's libadbc_driver_dbapi_flightsql.so). `table` times `fetch_arrow_table()`;
`stream` reads the result with `fetch_record_batch()` one batch at a time. `h:` arguments are
headers sent with every call, `o:` arguments database options of this workspace's driver
(e.g. `o:read_ahead=7`). Prints one JSON
line: seconds (execute and fetch), rows, the process's RSS in KiB when idle (connected, after
`SELECT 1`) and its peak RSS from then to the end (`/proc/self/status`, the peak reset through
`/proc/self/clear_refs`); either is null where it cannot be measured. (`getrusage`'s
`ru_maxrss` cannot: Linux keeps it across `exec`, so a child of a large process reports its
parent's peak.)
"""

import json
import sys
import time

from proc_memory import idle as idle_rss, peak as peak_rss

import adbc_driver_manager.dbapi

mode, driver, uri, sql, *extra = sys.argv[1:]
headers = [a[2:].split("=", 1) for a in extra if a.startswith("h:")]
own = dict(a[2:].split("=", 1) for a in extra if a.startswith("o:"))


if driver == "go":
    import adbc_driver_flightsql.dbapi

    options = {f"adbc.flight.sql.rpc.call_header.{k}": v for k, v in headers}
    conn = adbc_driver_flightsql.dbapi.connect(uri, db_kwargs=options, autocommit=True)
else:
    options = {"uri": uri, **{f"header.{k}": v for k, v in headers}, **own}
    conn = adbc_driver_manager.dbapi.connect(
        driver=driver,
        entrypoint="AdbcDriverDbapiFlightsqlInit",
        db_kwargs=options,
        autocommit=True,
    )

cur = conn.cursor()
cur.execute("SELECT 1")
cur.fetchall()
idle = idle_rss()
started = time.perf_counter()
cur.execute(sql)
rows = 0
if mode == "table":
    rows = cur.fetch_arrow_table().num_rows
else:
    for batch in cur.fetch_record_batch():
        rows += batch.num_rows
seconds = time.perf_counter() - started
print(json.dumps({
    "seconds": seconds,
    "rows": rows,
    "idle_kib": idle,
    "peak_kib": peak_rss(idle),
}))
cur.close()
conn.close()
