//! Transaction and savepoint guards, and the fetches that say how many rows they expect.

use std::sync::Arc;

use dbapi::{Connection, ConnectionExt, CursorExt, Error, ErrorKind, Params, params};
use dbapi_flightsql_server::Options;

use crate::statements::{count, eventually, server_with_t};
use crate::{connect, server};

async fn insert(conn: &dyn Connection, id: i64) -> dbapi::Result<()> {
    let n = conn
        .cursor()?
        .execute_update("INSERT INTO t VALUES ($1, 'x')", params![id])
        .await?;
    assert_eq!(n, 1);
    Ok(())
}

async fn ids(conn: &dyn Connection) -> Vec<i64> {
    let mut cursor = conn.cursor().unwrap();
    cursor
        .execute("SELECT id FROM t ORDER BY id", Params::None)
        .await
        .unwrap();
    cursor
        .fetchall_as::<(i64,)>()
        .await
        .unwrap()
        .into_iter()
        .map(|(id,)| id)
        .collect()
}

#[tokio::test]
async fn a_committed_transaction_is_seen_by_others_and_ends_manual_mode() {
    let server = server_with_t(Options::default()).await;
    let (a, b) = (connect(&server).await, connect(&server).await);
    let tx = a.begin().await.unwrap();
    assert!(!tx.autocommit());
    insert(&*tx, 1).await.unwrap();
    insert(a.as_ref(), 2).await.unwrap();
    assert_eq!(count(b.as_ref(), "t").await, 0);
    tx.commit().await.unwrap();
    assert!(a.autocommit());
    assert_eq!(ids(b.as_ref()).await, [1, 2]);
    assert_eq!(server.open_transactions(), 0);
    assert_eq!(server.stats().commits, 1);
}

#[tokio::test]
async fn a_rolled_back_transaction_leaves_nothing() {
    let server = server_with_t(Options::default()).await;
    let a = connect(&server).await;
    let tx = a.begin().await.unwrap();
    insert(&*tx, 1).await.unwrap();
    tx.rollback().await.unwrap();
    assert!(a.autocommit());
    assert_eq!(ids(a.as_ref()).await, Vec::<i64>::new());
    // Back in autocommit mode: the next insert stays.
    insert(a.as_ref(), 2).await.unwrap();
    assert_eq!(ids(connect(&server).await.as_ref()).await, [2]);
    assert_eq!(server.open_transactions(), 0);
}

#[tokio::test]
async fn a_dropped_transaction_rolls_back_without_another_call() {
    let server = server_with_t(Options::default()).await;
    let a = connect(&server).await;
    {
        let tx = a.begin().await.unwrap();
        insert(&*tx, 1).await.unwrap();
        assert_eq!(server.open_transactions(), 1);
    }
    assert!(
        a.autocommit(),
        "autocommit is on as soon as the guard is gone"
    );
    eventually("the background rollback", || {
        server.open_transactions() == 0
    })
    .await;
    assert_eq!(server.stats().rollbacks, 1);
    assert_eq!(count(connect(&server).await.as_ref(), "t").await, 0);
    // The connection goes on in autocommit mode.
    insert(a.as_ref(), 2).await.unwrap();
    assert_eq!(ids(connect(&server).await.as_ref()).await, [2]);
}

#[tokio::test]
async fn an_early_return_inside_a_task_rolls_back() {
    let server = server_with_t(Options::default()).await;
    let conn: Arc<dyn Connection> = Arc::from(connect(&server).await);
    let task = {
        let conn = Arc::clone(&conn);
        tokio::spawn(async move {
            let tx = conn.begin().await?;
            insert(&*tx, 1).await?;
            // A failing statement: `?` returns with the transaction open.
            tx.cursor()?
                .execute("SELECT * FROM missing", Params::None)
                .await?;
            tx.commit().await
        })
    };
    let e = task.await.unwrap().unwrap_err();
    assert!(e.kind() == ErrorKind::Programming, "{e}");
    assert!(conn.autocommit());
    eventually("the rollback", || server.open_transactions() == 0).await;
    assert_eq!(ids(conn.as_ref()).await, Vec::<i64>::new());
}

#[tokio::test]
async fn a_panic_inside_a_transaction_rolls_back() {
    let server = server_with_t(Options::default()).await;
    let conn: Arc<dyn Connection> = Arc::from(connect(&server).await);
    let task = {
        let conn = Arc::clone(&conn);
        tokio::spawn(async move {
            let tx = conn.begin().await.unwrap();
            insert(&*tx, 1).await.unwrap();
            panic!("the application failed mid-transaction");
        })
    };
    assert!(task.await.unwrap_err().is_panic());
    assert!(conn.autocommit());
    eventually("the rollback", || server.open_transactions() == 0).await;
    assert_eq!(count(conn.as_ref(), "t").await, 0);
}

#[tokio::test]
async fn savepoints_nest_and_roll_back_when_dropped() {
    let server = server_with_t(Options::default()).await;
    let conn = connect(&server).await;
    let tx = conn.begin().await.unwrap();
    insert(&*tx, 1).await.unwrap();
    let outer = tx.savepoint("outer").await.unwrap();
    assert_eq!(outer.name(), "outer");
    insert(&*outer, 2).await.unwrap();
    {
        let inner = outer.savepoint("inner").await.unwrap();
        insert(&*inner, 3).await.unwrap();
        // Dropped: rolled back to "inner" before the next call.
    }
    assert_eq!(ids(&*tx).await, [1, 2]);
    let explicit = outer.savepoint("explicit").await.unwrap();
    insert(&*explicit, 4).await.unwrap();
    explicit.rollback().await.unwrap();
    outer.release().await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(ids(connect(&server).await.as_ref()).await, [1, 2]);
    assert_eq!(server.open_transactions(), 0);
}

#[tokio::test]
async fn the_closure_form_commits_on_ok_and_rolls_back_on_err() {
    let server = server_with_t(Options::default()).await;
    let conn = connect(&server).await;
    let n = conn
        .transaction(|tx| {
            Box::pin(async move {
                insert(&**tx, 1).await?;
                Ok::<_, Error>(7)
            })
        })
        .await
        .unwrap();
    assert_eq!(n, 7);
    #[derive(Debug)]
    enum AppError {
        Db(#[allow(dead_code)] Error),
        Refused,
    }
    impl From<Error> for AppError {
        fn from(e: Error) -> Self {
            AppError::Db(e)
        }
    }
    let e = conn
        .transaction(|tx| {
            Box::pin(async move {
                insert(&**tx, 2).await?;
                Err::<(), _>(AppError::Refused)
            })
        })
        .await
        .unwrap_err();
    assert!(matches!(e, AppError::Refused), "{e:?}");
    assert!(conn.autocommit());
    assert_eq!(ids(connect(&server).await.as_ref()).await, [1]);
    assert_eq!(server.open_transactions(), 0);
}

#[tokio::test]
async fn begin_says_when_it_cannot() {
    let server = server(Options {
        transactions: false,
        ..Options::default()
    })
    .await;
    let conn = connect(&server).await;
    let e = conn.begin().await.unwrap_err();
    assert!(e.is_not_supported(), "{e}");
    let server = server_with_t(Options::default()).await;
    let conn = connect(&server).await;
    let tx = conn.begin().await.unwrap();
    let e = conn.begin().await.unwrap_err();
    assert!(
        e.is_interface() && e.to_string().contains("already open"),
        "{e}"
    );
    tx.rollback().await.unwrap();
}

#[tokio::test]
async fn fetch_one_and_fetch_optional_count_the_rows() {
    let server = server(Options::default()).await;
    let conn = connect(&server).await;
    let mut cursor = conn.cursor().unwrap();
    let sql = "SELECT id FROM numbers WHERE id < $1 ORDER BY id";
    for (rows, one, optional) in [
        (0_i64, Err("none"), Ok(None)),
        (1, Ok(0_i64), Ok(Some(0_i64))),
        (2, Err("has 2"), Err("has 2")),
        (999, Err("has 999"), Err("has 999")),
    ] {
        cursor.execute(sql, params![rows]).await.unwrap();
        let got = cursor
            .fetch_one()
            .await
            .map(|r| r.get::<i64, _>(0).unwrap());
        match (got, one) {
            (Ok(a), Ok(b)) => assert_eq!(a, b),
            (Err(e), Err(says)) => {
                assert!(
                    e.kind() == ErrorKind::Data && e.to_string().contains(says),
                    "{rows}: {e}"
                )
            }
            (got, want) => panic!("{rows} rows: {got:?}, expected {want:?}"),
        }
        cursor.execute(sql, params![rows]).await.unwrap();
        let got = cursor
            .fetch_optional_as::<(i64,)>()
            .await
            .map(|r| r.map(|(id,)| id));
        match (got, optional) {
            (Ok(a), Ok(b)) => assert_eq!(a, b),
            (Err(e), Err(says)) => assert!(e.to_string().contains(says), "{rows}: {e}"),
            (got, want) => panic!("{rows} rows: {got:?}, expected {want:?}"),
        }
    }
    cursor
        .execute("SELECT count(*) FROM numbers", params![])
        .await
        .unwrap();
    assert_eq!(cursor.fetch_scalar::<i64>().await.unwrap(), 1000);
    cursor
        .execute("SELECT CAST(NULL AS BIGINT)", params![])
        .await
        .unwrap();
    assert_eq!(cursor.fetch_scalar::<Option<i64>>().await.unwrap(), None);
    cursor
        .execute("SELECT CAST(NULL AS BIGINT) AS n", params![])
        .await
        .unwrap();
    let e = cursor.fetch_scalar::<i64>().await.unwrap_err();
    assert!(e.to_string().contains("\"n\""), "{e}");
    cursor
        .execute("SELECT id FROM numbers WHERE id = 5", params![])
        .await
        .unwrap();
    assert_eq!(cursor.fetch_one_as::<(i64,)>().await.unwrap(), (5,));
    assert_eq!(cursor.rows_affected(), Some(1));
}

#[tokio::test]
async fn named_parameters_from_the_macro() {
    let server = server(Options::default()).await;
    let conn = connect(&server).await;
    let mut cursor = conn.cursor().unwrap();
    cursor
        .execute(
            "SELECT id FROM numbers WHERE id >= $low AND id < $high ORDER BY id",
            params! {"low" => 3_i64, "high" => 5_i64},
        )
        .await
        .unwrap();
    assert_eq!(cursor.fetchall_as::<(i64,)>().await.unwrap(), [(3,), (4,)]);
}
