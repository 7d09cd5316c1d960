"""The dbapi Flight SQL driver loaded as an ADBC driver by Python's adbc_driver_manager.

Run by the Rust integration test `python::the_adbc_driver_works_from_python`, which starts the
bundled server (three endpoints per result) and passes the library and the server's URI:

    python test_adbc_flightsql.py LIBRARY URI
"""

import sys

import adbc_driver_manager
import adbc_driver_manager.dbapi as dbapi
import pyarrow as pa

LIBRARY, URI = sys.argv[1], sys.argv[2]
ENTRYPOINT = "AdbcDriverDbapiFlightsqlInit"


def connect(autocommit=False, **kwargs):
    return dbapi.connect(
        driver=LIBRARY,
        entrypoint=ENTRYPOINT,
        db_kwargs={"uri": URI, **kwargs},
        autocommit=autocommit,
    )


def test_queries_with_parameters():
    with connect() as conn, conn.cursor() as cur:
        cur.execute("SELECT sensor, count(*) AS n FROM readings GROUP BY sensor ORDER BY sensor")
        assert [d[0] for d in cur.description] == ["sensor", "n"], cur.description
        rows = cur.fetchall()
        assert len(rows) == 4 and all(n == 25 for _, n in rows), rows
        cur.execute("SELECT id FROM numbers WHERE id < $1 ORDER BY id", parameters=(3,))
        assert cur.fetchone() == (0,)
        assert cur.fetchall() == [(1,), (2,)]
        cur.execute("SELECT * FROM numbers")
        table = cur.fetch_arrow_table()
        assert table.num_rows == 1000, table.num_rows
        assert sorted(table.column("id").to_pylist()) == list(range(1000))


def test_updates_executemany_and_transactions():
    with connect() as conn, conn.cursor() as cur:
        cur.execute("CREATE TABLE py_t (id BIGINT, name VARCHAR)")
        cur.executemany("INSERT INTO py_t VALUES ($1, $2)", [(i, f"n{i}") for i in range(50)])
        conn.commit()
        cur.execute("SELECT count(*) FROM py_t")
        assert cur.fetchone() == (50,)
        # adbc_driver_manager's connections start with autocommit off: a rollback undoes.
        cur.execute("DELETE FROM py_t WHERE id >= 10")
        cur.execute("SELECT count(*) FROM py_t")
        assert cur.fetchone() == (10,)
        conn.rollback()
        cur.execute("SELECT count(*) FROM py_t")
        assert cur.fetchone() == (50,)


def test_ingest_and_metadata():
    with connect() as conn, conn.cursor() as cur:
        data = pa.table({"id": pa.array(range(10_000), pa.int64()), "label": [f"x{i}" for i in range(10_000)]})
        assert cur.adbc_ingest("py_ingested", data, mode="create") == 10_000
        assert cur.adbc_ingest("py_ingested", data.slice(0, 5), mode="append") == 5
        conn.commit()
        cur.execute("SELECT count(*) FROM py_ingested")
        assert cur.fetchone() == (10_005,)
        objects = conn.adbc_get_objects(depth="all", table_name_filter="py_ingested").read_all().to_pylist()
        tables = [
            t
            for c in objects
            for s in c["catalog_db_schemas"] or []
            for t in s["db_schema_tables"] or []
        ]
        assert [t["table_name"] for t in tables] == ["py_ingested"], objects
        assert [c["column_name"] for c in tables[0]["table_columns"]] == ["id", "label"]
        for depth in ["catalogs", "db_schemas", "tables"]:
            assert conn.adbc_get_objects(depth=depth).read_all().num_rows >= 1, depth
        schema = conn.adbc_get_table_schema("py_ingested")
        assert schema.names == ["id", "label"], schema
        assert "TABLE" in [t.upper() for t in conn.adbc_get_table_types()]
        info = conn.adbc_get_info()
        assert info["driver_name"] == "ADBC dbapi Flight SQL driver", info
        assert info.get("vendor_name"), info


def test_partitions_are_endpoints():
    # Partitions are read outside transactions.
    with connect(autocommit=True) as conn, conn.cursor() as cur:
        partitions, schema = cur.adbc_execute_partitions("SELECT id FROM numbers")
        assert len(partitions) == 3, len(partitions)
        assert schema.names == ["id"], schema
        ids = []
        for partition in partitions:
            cur.adbc_read_partition(partition)
            ids += [row[0] for row in cur.fetchall()]
        assert sorted(ids) == list(range(1000)), len(ids)
        # With a parameter: the parts of that one query.
        partitions, _ = cur.adbc_execute_partitions(
            "SELECT id FROM numbers WHERE id >= $1", (990,)
        )
        ids = []
        for partition in partitions:
            cur.adbc_read_partition(partition)
            ids += [row[0] for row in cur.fetchall()]
        assert sorted(ids) == list(range(990, 1000)), ids


def test_errors_carry_a_kind_and_the_grpc_status():
    with connect() as conn, conn.cursor() as cur:
        try:
            cur.execute("SELECT * FROM no_such_table")
        except dbapi.ProgrammingError as e:
            assert "no_such_table" in str(e), e
            assert e.sqlstate == "42000", e.sqlstate
            assert e.vendor_code != 0, e.vendor_code
        else:
            raise AssertionError("no error for a missing table")
    try:
        connect(no_such_option="1").cursor().execute("SELECT 1")
    except adbc_driver_manager.Error as e:
        assert "no_such_option" in str(e), e
    else:
        raise AssertionError("an unknown option was accepted")


def main():
    tests = [(name, f) for name, f in globals().items() if name.startswith("test_")]
    for name, test in tests:
        test()
        print(f"ok {name}")
    print(f"python: {len(tests)} passed")


if __name__ == "__main__":
    main()
