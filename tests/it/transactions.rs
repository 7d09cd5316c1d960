//! Transactions and savepoints: isolation, commit, rollback, capabilities.

use dbapi::{Connection, ParamSets, Params, Value};
use dbapi_flightsql_server::Options;

use crate::statements::{count, eventually, server_with_t};
use crate::{connect, connect_url, ids, server};

async fn insert(conn: &dyn Connection, id: i64) {
    let n = conn
        .cursor()
        .unwrap()
        .execute_update(
            "INSERT INTO t VALUES ($1, 'x')",
            Params::from([Value::Int64(id)]),
        )
        .await
        .unwrap();
    assert_eq!(n, 1);
}

async fn t_ids(conn: &dyn Connection) -> Vec<i64> {
    let mut cursor = conn.cursor().unwrap();
    cursor
        .execute("SELECT id FROM t ORDER BY id", Params::None)
        .await
        .unwrap();
    ids(cursor.as_mut()).await
}

#[tokio::test]
async fn commit_makes_changes_visible_to_other_connections() {
    let server = server_with_t(Options::default()).await;
    let a = connect(&server).await;
    let b = connect(&server).await;
    a.set_autocommit(false).await.unwrap();
    assert!(!a.autocommit());
    assert_eq!(server.stats().transactions_begun, 0, "begun lazily");
    insert(a.as_ref(), 1).await;
    insert(a.as_ref(), 2).await;
    assert_eq!(t_ids(a.as_ref()).await, [1, 2], "a sees its own changes");
    assert_eq!(count(b.as_ref(), "t").await, 0, "b does not");
    a.commit().await.unwrap();
    assert_eq!(t_ids(b.as_ref()).await, [1, 2]);
    let stats = server.stats();
    assert_eq!((stats.transactions_begun, stats.commits), (1, 1));
    // The next statement begins the next transaction.
    insert(a.as_ref(), 3).await;
    a.rollback().await.unwrap();
    assert_eq!(t_ids(b.as_ref()).await, [1, 2]);
    assert_eq!(t_ids(a.as_ref()).await, [1, 2]);
    let stats = server.stats();
    assert_eq!((stats.transactions_begun, stats.rollbacks), (3, 1));
}

#[tokio::test]
async fn turning_autocommit_on_commits() {
    let server = server_with_t(Options::default()).await;
    let a = connect(&server).await;
    a.set_autocommit(false).await.unwrap();
    insert(a.as_ref(), 7).await;
    a.set_autocommit(true).await.unwrap();
    let b = connect(&server).await;
    assert_eq!(t_ids(b.as_ref()).await, [7]);
    assert_eq!(server.open_transactions(), 0);
}

#[tokio::test]
async fn savepoints_roll_back_part_of_a_transaction() {
    let server = server_with_t(Options::default()).await;
    let a = connect(&server).await;
    let e = a.savepoint("s1").await.unwrap_err();
    assert!(e.is_interface(), "autocommit mode: {e}");
    a.set_autocommit(false).await.unwrap();
    insert(a.as_ref(), 1).await;
    a.savepoint("s1").await.unwrap();
    insert(a.as_ref(), 2).await;
    a.savepoint("s2").await.unwrap();
    insert(a.as_ref(), 3).await;
    a.release_savepoint("s2").await.unwrap();
    a.rollback_to_savepoint("s1").await.unwrap();
    assert_eq!(t_ids(a.as_ref()).await, [1]);
    insert(a.as_ref(), 4).await;
    let e = a.release_savepoint("nope").await.unwrap_err();
    assert_eq!(e.kind(), dbapi::ErrorKind::Programming, "{e}");
    a.commit().await.unwrap();
    let b = connect(&server).await;
    assert_eq!(t_ids(b.as_ref()).await, [1, 4]);
    assert_eq!(server.stats().savepoints, 2);
}

#[tokio::test]
async fn prepared_statements_and_executemany_run_in_the_transaction() {
    let server = server_with_t(Options::default()).await;
    let a = connect(&server).await;
    a.set_autocommit(false).await.unwrap();
    let mut cursor = a.cursor().unwrap();
    cursor
        .executemany(
            "INSERT INTO t VALUES ($1, $2)",
            ParamSets::new((0..10_i64).map(|i| Params::from([Value::Int64(i), "x".into()]))),
        )
        .await
        .unwrap();
    let mut statement = a.prepare("DELETE FROM t WHERE id < $1").await.unwrap();
    assert_eq!(
        statement
            .execute_update(Params::from([Value::Int64(5)]))
            .await
            .unwrap(),
        5
    );
    let b = connect(&server).await;
    assert_eq!(count(b.as_ref(), "t").await, 0);
    a.rollback().await.unwrap();
    assert_eq!(count(a.as_ref(), "t").await, 0);
}

#[tokio::test]
async fn dropping_a_connection_rolls_back_its_transaction() {
    let server = server_with_t(Options::default()).await;
    let a = connect(&server).await;
    a.set_autocommit(false).await.unwrap();
    insert(a.as_ref(), 1).await;
    assert_eq!(server.open_transactions(), 1);
    drop(a);
    eventually("the rollback of a dropped connection", || {
        server.open_transactions() == 0
    })
    .await;
    assert_eq!(server.stats().rollbacks, 1);
    let b = connect(&server).await;
    assert_eq!(count(b.as_ref(), "t").await, 0);

    // Closing rolls back too.
    b.set_autocommit(false).await.unwrap();
    insert(b.as_ref(), 2).await;
    b.close().await.unwrap();
    assert_eq!(server.open_transactions(), 0);
    assert_eq!(server.stats().rollbacks, 2);
}

#[tokio::test]
async fn servers_without_transactions_say_so() {
    for options in [
        Options {
            transactions: false,
            ..Options::default()
        },
        Options {
            sql_info: false,
            ..Options::default()
        },
    ] {
        let server = server(options).await;
        let conn = connect(&server).await;
        let e = conn.set_autocommit(false).await.unwrap_err();
        assert!(e.is_not_supported(), "{e}");
        assert!(
            e.to_string().contains("the server has no transactions"),
            "{e}"
        );
        assert!(conn.autocommit());
        conn.commit().await.unwrap();
        // The connection works all the same.
        let mut cursor = conn.cursor().unwrap();
        cursor
            .execute("SELECT id FROM numbers WHERE id < 2", Params::None)
            .await
            .unwrap();
        assert_eq!(ids(cursor.as_mut()).await, [0, 1]);
        // Capabilities are probed once per connection.
        let _ = conn.set_autocommit(false).await;
        assert_eq!(server.stats().sql_info, 1);
    }
}

#[tokio::test]
async fn a_closed_connection_refuses_transactions() {
    let server = server(Options::default()).await;
    let conn = connect_url(&server.url()).await;
    conn.close().await.unwrap();
    assert!(conn.set_autocommit(false).await.unwrap_err().is_interface());
    assert!(conn.commit().await.unwrap_err().is_interface());
}
