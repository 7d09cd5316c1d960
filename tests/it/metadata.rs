//! Metadata: catalogs, schemas, tables, columns, keys, server info and sessions, through the
//! driver-neutral `Connection` API and the low-level client.

use arrow::datatypes::DataType;
use dbapi::metadata::{
    IdentifierCase, InfoValue, MetadataRequest, ReferentialAction, SchemaInfo, TableFilter,
    TableRef,
};
use dbapi::{Connection, ErrorKind, Params};
use dbapi_flightsql_server::{Auth, Options};

use crate::{connect, connect_url, execute, server};

fn names(tables: &[dbapi::metadata::TableInfo]) -> Vec<String> {
    tables.iter().map(|t| t.name.clone()).collect()
}

fn schema(catalog: &str, name: &str) -> SchemaInfo {
    SchemaInfo {
        catalog: Some(catalog.into()),
        name: name.into(),
    }
}

/// Every row of a metadata cursor: the `table_name` column, for tables requests.
async fn arrow_table_names(conn: &dyn Connection, filter: TableFilter) -> Vec<String> {
    let mut cursor = conn
        .metadata(&MetadataRequest::Tables(filter))
        .await
        .unwrap();
    cursor
        .fetchall()
        .await
        .unwrap()
        .iter()
        .map(|r| r.get::<String, _>("table_name").unwrap())
        .collect()
}

#[tokio::test]
async fn a_program_browses_catalogs_schemas_tables_columns_and_keys() {
    let server = server(Options::default()).await;
    let conn = connect(&server).await;

    assert_eq!(conn.catalogs().await.unwrap(), ["archive", "datafusion"]);
    let schemas = conn.schemas(None, None).await.unwrap();
    for expected in [
        schema("archive", "y2025"),
        schema("datafusion", "public"),
        schema("datafusion", "shop"),
    ] {
        assert!(schemas.contains(&expected), "{expected:?} in {schemas:?}");
    }
    assert_eq!(
        conn.schemas(Some("datafusion"), Some("sh%")).await.unwrap(),
        [schema("datafusion", "shop")]
    );

    let tables = conn
        .tables(&TableFilter::new().catalog("datafusion").schema("shop"))
        .await
        .unwrap();
    assert_eq!(
        names(&tables),
        ["big_orders", "customers", "order_items", "orders"]
    );
    let types: Vec<&str> = tables.iter().map(|t| t.table_type.as_str()).collect();
    assert_eq!(types, ["VIEW", "TABLE", "TABLE", "TABLE"]);
    assert!(tables.iter().all(|t| t.columns.is_empty()), "not asked for");

    let customers = conn
        .tables(
            &TableFilter::new()
                .schema("shop")
                .table("customers")
                .with_columns(),
        )
        .await
        .unwrap();
    assert_eq!(customers.len(), 1);
    let columns = &customers[0].columns;
    let described: Vec<(&str, &DataType, bool, usize)> = columns
        .iter()
        .map(|c| (c.name.as_str(), &c.data_type, c.nullable, c.ordinal))
        .collect();
    assert_eq!(
        described,
        [
            ("id", &DataType::Int64, false, 1),
            ("name", &DataType::Utf8View, false, 2),
            ("email", &DataType::Utf8View, true, 3),
        ]
    );
    assert_eq!(columns[0].type_name.as_deref(), Some("BIGINT"));
    assert_eq!(columns[0].remarks.as_deref(), Some("primary key"));
    assert_eq!(columns[2].remarks, None);

    let items = TableRef::new("order_items").in_schema("shop");
    let key = conn.primary_keys(&items).await.unwrap();
    let key: Vec<(&str, i32)> = key
        .iter()
        .map(|k| (k.column.as_str(), k.key_sequence))
        .collect();
    assert_eq!(key, [("order_id", 1), ("line", 2)]);
    assert_eq!(
        conn.primary_keys(&TableRef::new("readings")).await.unwrap(),
        []
    );

    let orders = TableRef::new("orders").in_schema("shop");
    let imported = conn.imported_keys(&orders).await.unwrap();
    assert_eq!(imported.len(), 1);
    let fk = &imported[0];
    assert_eq!(
        (fk.primary_table.name.as_str(), fk.primary_column.as_str()),
        ("customers", "id")
    );
    assert_eq!(
        (fk.foreign_table.name.as_str(), fk.foreign_column.as_str()),
        ("orders", "customer_id")
    );
    assert_eq!(fk.foreign_key_name.as_deref(), Some("orders_customer_fk"));
    assert_eq!(fk.primary_key_name.as_deref(), Some("customers_pk"));
    assert_eq!(
        (fk.update_rule, fk.delete_rule),
        (ReferentialAction::NoAction, ReferentialAction::Restrict)
    );
    assert_eq!(fk.primary_table.schema.as_deref(), Some("shop"));

    let exported = conn.exported_keys(&orders).await.unwrap();
    assert_eq!(exported.len(), 1);
    assert_eq!(exported[0].foreign_table.name, "order_items");
    assert_eq!(exported[0].delete_rule, ReferentialAction::Cascade);

    let customers = TableRef::new("customers").in_schema("shop");
    let cross = conn.cross_reference(&customers, &orders).await.unwrap();
    assert_eq!(cross, imported);
    assert_eq!(conn.cross_reference(&customers, &items).await.unwrap(), []);

    let types = conn.table_types().await.unwrap();
    assert!(types.contains(&"TABLE".to_owned()) && types.contains(&"VIEW".to_owned()));

    let schema = conn.table_schema(&customers).await.unwrap();
    let fields: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
    assert_eq!(fields, ["id", "name", "email"]);
}

#[tokio::test]
async fn table_filters_and_patterns() {
    let server = server(Options::default()).await;
    let conn = connect(&server).await;
    let shop = || TableFilter::new().schema("shop");
    let views = conn.tables(&shop().table_types(["VIEW"])).await.unwrap();
    assert_eq!(names(&views), ["big_orders"]);
    let both = conn
        .tables(&shop().table_types(["VIEW", "TABLE"]))
        .await
        .unwrap();
    assert_eq!(both.len(), 4);
    assert_eq!(
        names(&conn.tables(&shop().table("order%")).await.unwrap()),
        ["order_items", "orders"]
    );
    // `_` is one character: "order_" matches "orders" only.
    assert_eq!(
        names(&conn.tables(&shop().table("order_")).await.unwrap()),
        ["orders"]
    );
    assert!(
        conn.tables(&shop().table("nope%"))
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        conn.tables(&TableFilter::new().catalog("no_such_catalog"))
            .await
            .unwrap()
            .is_empty()
    );
    let orders = conn
        .tables(&shop().table("orders").columns("%id"))
        .await
        .unwrap();
    let columns: Vec<(&str, usize)> = orders[0]
        .columns
        .iter()
        .map(|c| (c.name.as_str(), c.ordinal))
        .collect();
    assert_eq!(columns, [("id", 1), ("customer_id", 2)]);
    assert_eq!(
        orders[0].columns[1].remarks.as_deref(),
        Some("references customers(id)")
    );
    // The same tables in every catalog, as typed values and as Arrow data.
    let all = conn.tables(&TableFilter::new()).await.unwrap();
    assert!(all.iter().any(|t| t.catalog.as_deref() == Some("archive")));
    assert_eq!(
        arrow_table_names(conn.as_ref(), TableFilter::new()).await,
        names(&all)
    );
}

#[tokio::test]
async fn exact_names_never_match_wildcards() {
    let server = server(Options::default()).await;
    let conn = connect(&server).await;
    execute(conn.as_ref(), r#"CREATE TABLE "myXtable" (x BIGINT)"#).await;
    execute(conn.as_ref(), "CREATE TABLE my_table (underscore VARCHAR)").await;
    let schema = conn.table_schema(&TableRef::new("my_table")).await.unwrap();
    assert_eq!(schema.field(0).name(), "underscore");
    let schema = conn.table_schema(&TableRef::new("myXtable")).await.unwrap();
    assert_eq!(schema.field(0).name(), "x");
    // As a pattern, `_` matches both.
    let both = conn
        .tables(&TableFilter::new().schema("public").table("my_table"))
        .await
        .unwrap();
    assert_eq!(names(&both), ["myXtable", "my_table"]);

    // `%` too: "rate%" finds only the table of that name.
    execute(conn.as_ref(), r#"CREATE TABLE "rate%" (percent DOUBLE)"#).await;
    execute(conn.as_ref(), "CREATE TABLE rate_x (other DOUBLE)").await;
    let schema = conn.table_schema(&TableRef::new("rate%")).await.unwrap();
    assert_eq!(schema.field(0).name(), "percent");

    let err = conn.table_schema(&TableRef::new("my%")).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Programming);
    assert!(err.to_string().contains("no table named my%"), "{err}");

    // `readings` is in two catalogs.
    let err = conn
        .table_schema(&TableRef::new("readings"))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Programming);
    let message = err.to_string();
    assert!(message.contains("ambiguous"), "{message}");
    assert!(message.contains("archive.y2025.readings"), "{message}");
    assert!(message.contains("datafusion.public.readings"), "{message}");
    let archived = conn
        .table_schema(&TableRef::new("readings").in_catalog("archive"))
        .await
        .unwrap();
    assert_eq!(archived.fields().len(), 5);
}

#[tokio::test]
async fn metadata_results_spanning_several_endpoints_are_read_whole() {
    let split = server(Options {
        endpoints: 3,
        ..Options::default()
    })
    .await;
    let whole = server(Options::default()).await;
    let (a, b) = (connect(&split).await, connect(&whole).await);
    let filter = TableFilter::new().with_columns();
    assert_eq!(
        a.tables(&filter).await.unwrap(),
        b.tables(&filter).await.unwrap()
    );
    assert_eq!(
        a.schemas(None, None).await.unwrap(),
        b.schemas(None, None).await.unwrap()
    );
    let mut cursor = a
        .metadata(&MetadataRequest::Tables(TableFilter::new()))
        .await
        .unwrap();
    let columns = crate::column_names(cursor.as_ref());
    assert_eq!(
        columns,
        ["catalog_name", "db_schema_name", "table_name", "table_type"]
    );
    let mut rows = 0;
    while let Some(batch) = cursor.fetch_batch().await.unwrap() {
        rows += batch.num_rows();
    }
    assert_eq!(rows, b.tables(&TableFilter::new()).await.unwrap().len());
    let info = split.stats();
    assert!(info.do_get >= 3, "{info:?}");
}

#[tokio::test]
async fn server_info_is_typed_and_asked_once() {
    let server = server(Options::default()).await;
    let conn = connect(&server).await;
    let info = conn.server_info().await.unwrap();
    assert_eq!(info.name.as_deref(), Some("dbapi-flightsql-server"));
    assert!(info.version.is_some() && info.arrow_version.is_some());
    assert_eq!(info.read_only, Some(false));
    assert_eq!(
        (
            info.transactions,
            info.savepoints,
            info.cancel,
            info.substrait
        ),
        (Some(true), Some(true), Some(true), Some(false))
    );
    assert_eq!(info.identifier_quote.as_deref(), Some("\""));
    assert_eq!(info.identifier_case, Some(IdentifierCase::Lowercase));
    assert_eq!(info.search_string_escape.as_deref(), Some("\\"));
    assert!(info.keywords.contains(&"QUALIFY".to_owned()));
    // Every value type of the union arrives typed.
    assert!(matches!(info.raw.get(&517), Some(InfoValue::Int32ToInt32List(m)) if !m.is_empty()));
    assert!(matches!(info.raw.get(&509), Some(InfoValue::StringList(_))));
    assert!(matches!(
        info.raw.get(&100),
        Some(InfoValue::Int32Bitmask(0))
    ));
    assert!(matches!(info.raw.get(&543), Some(InfoValue::Int64(0))));
    assert_eq!(conn.server_info().await.unwrap(), info);
    conn.set_autocommit(false).await.unwrap();
    assert_eq!(server.stats().sql_info, 1, "asked once per connection");

    // A server whose union lists its members in another order says the same.
    let shuffled = crate::server(Options {
        sql_info_shuffled: true,
        ..Options::default()
    })
    .await;
    let other = connect(&shuffled).await.server_info().await.unwrap();
    assert_eq!(other, info);
}

#[tokio::test]
async fn a_server_without_sql_info_connects_and_reports_unknown() {
    let server = server(Options {
        sql_info: false,
        ..Options::default()
    })
    .await;
    let conn = connect(&server).await;
    let info = conn.server_info().await.unwrap();
    assert_eq!(info, dbapi::metadata::ServerInfo::default());
    assert_eq!(info.name, None);
    let mut cursor = execute(conn.as_ref(), "SELECT 1 AS one").await;
    assert_eq!(cursor.fetchall().await.unwrap().len(), 1);
}

#[tokio::test]
async fn unimplemented_commands_are_not_supported_errors_naming_them() {
    let server = server(Options {
        unimplemented: vec![
            "CommandGetPrimaryKeys".into(),
            "CommandGetXdbcTypeInfo".into(),
            "CommandGetDbSchemas".into(),
        ],
        auth: Auth::Bearer("s3cr3t-token".into()),
        ..Options::default()
    })
    .await;
    let url = format!("{}&token=s3cr3t-token", server.url());
    let conn = connect_url(&url).await;
    let err = conn
        .primary_keys(&TableRef::new("orders"))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotSupported);
    let message = format!("{err} {err:?}");
    assert!(message.contains("CommandGetPrimaryKeys"), "{message}");
    assert!(message.contains("is not implemented"), "{message}");
    assert!(!message.contains("s3cr3t"), "{message}");
    let err = conn
        .metadata(&MetadataRequest::TypeInfo(None))
        .await
        .unwrap_err();
    assert!(err.is_not_supported(), "{err}");
    // Without schemas, tables are still listed (no per-catalog fallback is guessed).
    assert!(
        conn.schemas(None, None)
            .await
            .unwrap_err()
            .is_not_supported()
    );
    assert!(!conn.tables(&TableFilter::new()).await.unwrap().is_empty());
    // The connection is fine.
    assert_eq!(conn.catalogs().await.unwrap().len(), 2);
    assert!(!conn.is_closed());
}

#[tokio::test]
async fn servers_that_list_only_per_catalog_give_the_same_answers() {
    let normal = server(Options::default()).await;
    let picky = server(Options {
        metadata_needs_catalog: true,
        endpoints: 2,
        ..Options::default()
    })
    .await;
    let (a, b) = (connect(&normal).await, connect(&picky).await);
    assert_eq!(
        b.schemas(None, None).await.unwrap(),
        a.schemas(None, None).await.unwrap()
    );
    let filter = TableFilter::new().schema("%").with_columns();
    assert_eq!(
        b.tables(&filter).await.unwrap(),
        a.tables(&filter).await.unwrap()
    );
    assert_eq!(
        arrow_table_names(b.as_ref(), TableFilter::new()).await,
        arrow_table_names(a.as_ref(), TableFilter::new()).await
    );
    // With a catalog, asked directly.
    assert_eq!(
        b.schemas(Some("archive"), None).await.unwrap(),
        [schema("archive", "y2025")]
    );
    // The probe runs once: later unfiltered calls cost catalogs + one call per catalog.
    let before = picky.stats().metadata;
    b.schemas(None, None).await.unwrap();
    assert_eq!(picky.stats().metadata - before, 3);
}

#[tokio::test]
async fn type_info_lists_the_servers_types() {
    let server = server(Options::default()).await;
    let conn = connect(&server).await;
    let mut all = conn
        .metadata(&MetadataRequest::TypeInfo(None))
        .await
        .unwrap();
    let names: Vec<String> = all
        .fetchall()
        .await
        .unwrap()
        .iter()
        .map(|r| r.get::<String, _>("type_name").unwrap())
        .collect();
    assert!(names.contains(&"BIGINT".to_owned()) && names.contains(&"VARCHAR".to_owned()));
    // XDBC BIGINT is -5.
    let mut one = conn
        .metadata(&MetadataRequest::TypeInfo(Some(-5)))
        .await
        .unwrap();
    let rows = one.fetchall().await.unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].get::<String, _>("type_name").unwrap(), "BIGINT");
}

#[tokio::test]
async fn catalog_and_schema_are_session_options() {
    let server = server(Options::default()).await;
    let conn = connect_url(&format!("{}&schema=shop", server.url())).await;
    assert_eq!(
        conn.current_schema().await.unwrap().as_deref(),
        Some("shop")
    );
    assert_eq!(conn.current_catalog().await.unwrap(), None);
    let mut cursor = execute(conn.as_ref(), "SELECT count(*) AS n FROM customers").await;
    let n: i64 = cursor.fetchone().await.unwrap().unwrap().get("n").unwrap();
    assert_eq!(n, 3);
    // Parameterised statements (prepared) run in the session too.
    let mut cursor = conn.cursor().unwrap();
    cursor
        .execute(
            "SELECT name FROM customers WHERE id = $1",
            Params::from([dbapi::Value::Int64(2)]),
        )
        .await
        .unwrap();
    let name: String = cursor.fetchone().await.unwrap().unwrap().get(0).unwrap();
    assert_eq!(name, "Grace");

    conn.set_current_catalog("archive").await.unwrap();
    conn.set_current_schema("y2025").await.unwrap();
    assert_eq!(
        conn.current_catalog().await.unwrap().as_deref(),
        Some("archive")
    );
    let mut cursor = execute(conn.as_ref(), "SELECT count(*) AS n FROM readings").await;
    let n: i64 = cursor.fetchone().await.unwrap().unwrap().get("n").unwrap();
    assert_eq!(n, 25);

    let err = conn.set_current_schema("nope").await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Programming);
    assert!(
        err.to_string().contains("\"schema\" (invalid value)"),
        "{err}"
    );
    assert_eq!(
        conn.current_schema().await.unwrap().as_deref(),
        Some("y2025")
    );

    // Another connection has its own session.
    let other = connect(&server).await;
    assert_eq!(other.current_schema().await.unwrap(), None);
    let mut cursor = execute(other.as_ref(), "SELECT count(*) AS n FROM readings").await;
    let n: i64 = cursor.fetchone().await.unwrap().unwrap().get("n").unwrap();
    assert_eq!(n, 100);

    assert_eq!(server.open_sessions(), 1);
    let shown = format!("{conn:?}");
    assert!(!shown.contains("arrow_flight_session_id"), "{shown}");
    conn.close().await.unwrap();
    assert_eq!(server.open_sessions(), 0, "closed with the connection");
}

#[tokio::test]
async fn session_option_values_round_trip_through_the_low_level_client() {
    use dbapi_flightsql::{FlightSqlClient, SessionValue};
    use std::collections::BTreeMap;

    let server = server(Options::default()).await;
    let client = FlightSqlClient::connect(&server.url()).await.unwrap();
    assert!(client.session_options().await.unwrap().is_empty());
    let options = BTreeMap::from([
        ("application".to_owned(), SessionValue::from("tests")),
        ("fetch_size".to_owned(), SessionValue::Int64(500)),
        ("ratio".to_owned(), SessionValue::Double(0.25)),
        ("trace".to_owned(), SessionValue::Bool(true)),
        (
            "tags".to_owned(),
            SessionValue::StringList(vec!["a".into(), "b".into()]),
        ),
    ]);
    client.set_session_options(&options).await.unwrap();
    assert_eq!(client.session_options().await.unwrap(), options);
    let unset = BTreeMap::from([("trace".to_owned(), SessionValue::Unset)]);
    client.set_session_options(&unset).await.unwrap();
    assert_eq!(client.session_options().await.unwrap().len(), 4);
    let err = client
        .set_session_options(&BTreeMap::from([(
            "catalog".to_owned(),
            SessionValue::from("missing"),
        )]))
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("\"catalog\" (invalid value)"),
        "{err}"
    );
    client.close_session().await.unwrap();
    assert_eq!(server.open_sessions(), 0);
    assert!(client.session_options().await.unwrap().is_empty());
}

#[tokio::test]
async fn session_options_set_through_a_connection_are_undone_by_its_reset() {
    use dbapi_flightsql::{FlightSqlConnection, SessionValue};
    use std::collections::BTreeMap;

    let server = server(Options::default()).await;
    let conn = FlightSqlConnection::connect(&server.url()).await.unwrap();
    let options = BTreeMap::from([("application".to_owned(), SessionValue::from("first"))]);
    conn.set_session_options(&options).await.unwrap();
    // The client the connection lends reads them (and has no call to set them).
    assert_eq!(conn.client().session_options().await.unwrap(), options);
    // What a pool does before the next borrower gets the connection.
    conn.reset().await.unwrap();
    assert!(conn.session_options().await.unwrap().is_empty());
    // The lent client runs statements as before.
    let info = conn.client().execute("SELECT 1 AS one").await.unwrap();
    let rows: usize = conn
        .client()
        .do_get_endpoint(&info.endpoint[0])
        .await
        .unwrap()
        .read_all()
        .await
        .unwrap()
        .iter()
        .map(|b| b.num_rows())
        .sum();
    assert_eq!(rows, 1);
}

#[tokio::test]
async fn servers_without_session_options() {
    let server = server(Options {
        session_options: false,
        ..Options::default()
    })
    .await;
    let err = crate::registry()
        .connect(&format!("{}&catalog=archive", server.url()))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotSupported);
    assert!(err.to_string().contains("SetSessionOptions"), "{err}");
    let conn = connect(&server).await;
    assert_eq!(conn.current_catalog().await.unwrap(), None);
    assert!(
        conn.set_current_catalog("archive")
            .await
            .unwrap_err()
            .is_not_supported()
    );
}

#[tokio::test]
async fn the_low_level_client_gives_each_command_as_flight_info() {
    let server = server(Options {
        endpoints: 2,
        ..Options::default()
    })
    .await;
    let client = dbapi_flightsql::FlightSqlClient::connect(&server.url())
        .await
        .unwrap();
    let info = client.metadata(&MetadataRequest::Catalogs).await.unwrap();
    assert_eq!(info.endpoint.len(), 2);
    let mut rows = 0;
    for endpoint in &info.endpoint {
        let batches = client
            .do_get_endpoint(endpoint)
            .await
            .unwrap()
            .read_all()
            .await
            .unwrap();
        rows += batches.iter().map(|b| b.num_rows()).sum::<usize>();
    }
    assert_eq!(rows, 2);
    let info = client.sql_info(&[0, 3]).await.unwrap();
    assert_eq!(info.len(), 2);
    assert_eq!(info[&0], InfoValue::String("dbapi-flightsql-server".into()));
    assert_eq!(info[&3], InfoValue::Bool(false));
}

#[tokio::test]
async fn metadata_on_a_closed_connection_is_an_interface_error() {
    let server = server(Options::default()).await;
    let conn = connect(&server).await;
    conn.close().await.unwrap();
    for err in [
        conn.catalogs().await.unwrap_err(),
        conn.tables(&TableFilter::new()).await.unwrap_err(),
        conn.server_info().await.unwrap_err(),
        conn.metadata(&MetadataRequest::TableTypes)
            .await
            .unwrap_err(),
    ] {
        assert!(err.is_interface(), "{err}");
    }
}
