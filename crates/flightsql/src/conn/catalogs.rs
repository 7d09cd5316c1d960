//! Metadata answers as cursors, with the fallback for servers that list schemas and tables
//! only per catalog.

use std::sync::Arc;

use arrow_flight::FlightInfo;
use dbapi::metadata::MetadataRequest;
use dbapi::{Error, Result};

use crate::client::{decode_catalogs, for_catalog};
use crate::conn::cursor::FlightSqlCursor;
use crate::conn::state::Session;

/// Whether the server lists schemas (and tables) only when asked per catalog: it lists no
/// schema without a catalog filter although it has catalogs. Probed once per connection.
async fn needs_catalog(session: &Arc<Session>) -> Result<bool> {
    session
        .needs_catalog(async {
            let probe = async {
                let mut cursor = FlightSqlCursor::new(Arc::clone(session));
                let any = MetadataRequest::Schemas {
                    catalog: None,
                    schema_pattern: None,
                };
                cursor
                    .run_info(session.client().metadata(&any).await?)
                    .await?;
                while let Some(batch) = dbapi::Cursor::fetch_batch(&mut cursor).await? {
                    if batch.num_rows() > 0 {
                        return Ok::<bool, Error>(false);
                    }
                }
                Ok(!catalog_names(session).await?.is_empty())
            };
            match probe.await {
                // A server without those commands: ask as asked.
                Err(e) if e.is_not_supported() => Ok(false),
                outcome => outcome,
            }
        })
        .await
}

/// Every catalog's name.
pub(crate) async fn catalog_names(session: &Arc<Session>) -> Result<Vec<String>> {
    let mut cursor = FlightSqlCursor::new(Arc::clone(session));
    cursor
        .run_info(
            session
                .client()
                .metadata(&MetadataRequest::Catalogs)
                .await?,
        )
        .await?;
    decode_catalogs(&cursor.read_all().await?)
}

/// A cursor over the answer to a metadata question. Schemas and tables asked without a
/// catalog from a server that lists them only per catalog are asked per catalog, the
/// answers read one after the other as one result.
pub(crate) async fn metadata(
    session: &Arc<Session>,
    request: &MetadataRequest,
) -> Result<FlightSqlCursor> {
    session.check_open()?;
    let client = session.client();
    let mut cursor = FlightSqlCursor::new(Arc::clone(session));
    let fallback = for_catalog(request, "").is_some() && needs_catalog(session).await?;
    if !fallback {
        cursor.run_info(client.metadata(request).await?).await?;
        return Ok(cursor);
    }
    let mut combined: Option<FlightInfo> = None;
    for catalog in catalog_names(session).await? {
        let Some(request) = for_catalog(request, &catalog) else {
            continue;
        };
        let info = client.metadata(&request).await?;
        match &mut combined {
            None => {
                combined = Some(FlightInfo {
                    total_records: -1,
                    total_bytes: -1,
                    ..info
                })
            }
            Some(all) => all.endpoint.extend(info.endpoint),
        }
    }
    match combined {
        Some(info) => cursor.run_info(info).await?,
        None => cursor.run_info(client.metadata(request).await?).await?,
    }
    Ok(cursor)
}
