"""Reads parts of a partitioned result given in hex on the command line, in this process,
through the Go Flight SQL ADBC driver: `read_parts.py URI PART_HEX...`. Prints the number of
parts, rows and the sum of the first column."""

import sys

import adbc_driver_flightsql.dbapi as flightsql


def main():
    uri, parts = sys.argv[1], [bytes.fromhex(p) for p in sys.argv[2:]]
    rows = total = 0
    with flightsql.connect(uri) as conn, conn.cursor() as cur:
        for part in parts:
            cur.adbc_read_partition(part)
            table = cur.fetch_arrow_table()
            rows += table.num_rows
            total += sum(table.column(0).to_pylist())
    print(f"parts {len(parts)} rows {rows} sum {total}")


if __name__ == "__main__":
    main()
