"""InfluxData's own Python client (influxdb3-python) against the bundled server: SQL and
InfluxQL through InfluxDB's JSON ticket, with named and positional parameters.

Usage: test_influxdb3_client.py <unused library path> <port>
"""

import sys

from influxdb_client_3 import InfluxDBClient3


def main():
    port = sys.argv[2]
    client = InfluxDBClient3(
        host=f"http://127.0.0.1:{port}", token="apiv3_unused", database="sensors"
    )
    passed = 0

    table = client.query(
        "SELECT id FROM numbers WHERE id >= $low AND id < $high ORDER BY id",
        query_parameters={"low": 5, "high": 8},
    )
    assert table.column("id").to_pylist() == [5, 6, 7], table
    passed += 1

    table = client.query(
        "SELECT id FROM numbers WHERE id >= $1 AND id < $2 ORDER BY id",
        query_parameters={"1": 990, "2": 993},
    )
    assert table.column("id").to_pylist() == [990, 991, 992], table
    passed += 1

    table = client.query(
        "SELECT MEAN(value) AS mean FROM numbers WHERE id < $max",
        language="influxql",
        query_parameters={"max": 10},
    )
    print(f"influxql mean: {table.column('mean')[0].as_py()!r}")
    passed += 1

    client.close()
    print(f"python: {passed} passed")


if __name__ == "__main__":
    main()
