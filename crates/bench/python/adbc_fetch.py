"""One measurement of an ADBC Flight SQL driver from Python, in a process of its own.

    python adbc_fetch.py table|stream DRIVER URI SQL [h:HEADER=VALUE ...] [o:OPTION=VALUE ...]

DRIVER is `go` (the adbc-driver-flightsql package) or the path of another driver library
(this workspace's libadbc_driver_dbapi_flightsql.so). `table` times `fetch_arrow_table()`;
`stream` reads the result with `fetch_record_batch()` one batch at a time. `h:` arguments are
headers sent with every call, `o:` arguments database options of this workspace's driver
(e.g. `o:read_ahead=7`). Prints one JSON
line: seconds (execute and fetch), rows, and the process's peak RSS in KiB, idle and at the end.
"""

import json
import resource
import sys
import time

import adbc_driver_manager.dbapi

mode, driver, uri, sql, *extra = sys.argv[1:]
headers = [a[2:].split("=", 1) for a in extra if a.startswith("h:")]
own = dict(a[2:].split("=", 1) for a in extra if a.startswith("o:"))


def peak_kib():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


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
idle = peak_kib()
started = time.perf_counter()
cur.execute(sql)
rows = 0
if mode == "table":
    rows = cur.fetch_arrow_table().num_rows
else:
    for batch in cur.fetch_record_batch():
        rows += batch.num_rows
seconds = time.perf_counter() - started
print(json.dumps({"seconds": seconds, "rows": rows, "idle_kib": idle, "peak_kib": peak_kib()}))
cur.close()
conn.close()
