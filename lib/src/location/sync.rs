//! Location sync: K-Series businesses (flattened to their locations, with country, time zone
//! and the business's currency) and X-Series outlets. A location that disappears upstream is
//! kept and flagged, never deleted.

use crate::lightspeed::json::text;
use serde::Serialize;
use serde_json::Value;

use super::record::{self, apply_upstream, new_location, Location, UpstreamLocation};
use crate::connection::source::SyncScope;
use crate::connection::{integration, PosProduct};
use crate::error::{AppError, ErrorCode};
use crate::store::{Condition, StoreError};

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[schema(as = LocationSyncSummary)]
pub struct SyncSummary {
    pub seen: usize,
    pub created: usize,
    pub updated: usize,
    pub unchanged: usize,
    pub missing_upstream: usize,
}

/// Flattens `/f/data/businesses` (HAL envelope) into locations.
pub fn k_series_locations(body: &Value) -> Result<Vec<UpstreamLocation>, AppError> {
    let businesses = body["_embedded"]["businessList"]
        .as_array()
        .ok_or_else(|| {
            AppError::new(
                ErrorCode::LightspeedApiError,
                "businesses response has no `_embedded.businessList`",
            )
        })?;
    let mut out = Vec::new();
    for business in businesses {
        for location in business["businessLocations"]
            .as_array()
            .into_iter()
            .flatten()
        {
            let Some(id) = text(&location["blID"]) else {
                continue;
            };
            out.push(UpstreamLocation {
                location_id: id.clone(),
                name: text(&location["blName"]).unwrap_or(id),
                business_name: text(&business["businessName"]),
                country: text(&location["country"]),
                timezone: text(&location["timezone"]),
                currency: text(&business["currencyCode"]),
            });
        }
    }
    Ok(out)
}

/// X-Series outlets (`/api/2.0/outlets`); deleted outlets are not current upstream.
pub fn x_series_locations(body: &Value) -> Result<Vec<UpstreamLocation>, AppError> {
    let outlets = body["data"].as_array().ok_or_else(|| {
        AppError::new(
            ErrorCode::LightspeedApiError,
            "outlets response has no `data` list",
        )
    })?;
    Ok(outlets
        .iter()
        .filter(|o| o["deleted_at"].is_null())
        .filter_map(|o| {
            let id = text(&o["id"])?;
            Some(UpstreamLocation {
                name: text(&o["name"]).unwrap_or_else(|| id.clone()),
                location_id: id,
                business_name: None,
                country: None,
                timezone: text(&o["time_zone"]),
                currency: text(&o["currency"]),
            })
        })
        .collect())
}

/// Fetches the product's locations from the catalogue source and records them.
pub async fn sync(scope: SyncScope<'_>) -> Result<SyncSummary, AppError> {
    let connection = integration::connection(scope.store, scope.company_id, scope.product).await?;
    let body = scope.source.locations(&connection).await?;
    let upstream = match scope.product {
        PosProduct::KSeries => k_series_locations(&body)?,
        PosProduct::XSeries => x_series_locations(&body)?,
        // CSV locations are created through the admin API; `connection` refused it above.
        PosProduct::Csv => return Ok(SyncSummary::default()),
    };
    let existing: Vec<Location> = record::list_all(scope.store, scope.company_id)
        .await?
        .into_iter()
        .filter(|l| l.product == scope.product)
        .collect();
    let mut summary = SyncSummary {
        seen: upstream.len(),
        ..SyncSummary::default()
    };
    for seen in &upstream {
        match existing.iter().find(|l| l.location_id == seen.location_id) {
            None => {
                let location = new_location(scope.company_id, scope.product, seen, scope.now);
                match scope
                    .store
                    .put(location.to_item()?, Condition::NotExists)
                    .await
                {
                    Ok(()) => summary.created += 1,
                    // Created by a concurrent sync: it carries the same facts.
                    Err(StoreError::ConditionFailed) => summary.unchanged += 1,
                    Err(err) => return Err(err.into()),
                }
            }
            Some(_) => {
                let mut changed = false;
                record::update(
                    scope.store,
                    scope.company_id,
                    &seen.location_id,
                    scope.now,
                    |l| {
                        changed = apply_upstream(l, seen, scope.now);
                        Ok(())
                    },
                )
                .await?;
                if changed {
                    summary.updated += 1;
                } else {
                    summary.unchanged += 1;
                }
            }
        }
    }
    for gone in existing
        .iter()
        .filter(|l| !upstream.iter().any(|u| u.location_id == l.location_id))
    {
        record::update(
            scope.store,
            scope.company_id,
            &gone.location_id,
            scope.now,
            |l| {
                l.missing_upstream = true;
                Ok(())
            },
        )
        .await?;
        summary.missing_upstream += 1;
    }
    Ok(summary)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn businesses_flatten_to_locations_with_the_business_currency() {
        let body = json!({"_embedded": {"businessList": [
            {"businessId": 1, "businessName": "Group", "currencyCode": "GBP", "businessLocations": [
                {"blID": 45454565682155_i64, "blName": "Soho", "country": "GB", "timezone": "Europe/London"},
                {"blID": 45454565682156_i64, "blName": "Leeds", "country": "GB", "timezone": "Europe/London"}]},
            {"businessId": 2, "businessName": "NZ", "currencyCode": "NZD", "businessLocations": [
                {"blID": 7, "blName": "Ponsonby", "country": "NZ", "timezone": "Pacific/Auckland"}]}
        ]}});
        let locations = k_series_locations(&body).unwrap();
        assert_eq!(locations.len(), 3);
        assert_eq!(locations[0].location_id, "45454565682155");
        assert_eq!(locations[2].currency.as_deref(), Some("NZD"));
        assert_eq!(locations[2].timezone.as_deref(), Some("Pacific/Auckland"));
        assert!(k_series_locations(&json!({"oops": 1})).is_err());
    }

    #[test]
    fn deleted_outlets_are_not_current() {
        let body = json!({"data": [
            {"id": "o1", "name": "Harbour", "time_zone": "Pacific/Auckland", "currency": "NZD", "deleted_at": null},
            {"id": "o2", "name": "Old", "deleted_at": "2026-01-01T00:00:00Z"}]});
        let outlets = x_series_locations(&body).unwrap();
        assert_eq!(outlets.len(), 1);
        assert_eq!(outlets[0].timezone.as_deref(), Some("Pacific/Auckland"));
    }

    use crate::connection::integration::{Integration, IntegrationStatus};
    use crate::connection::source::MemoryCatalog;
    use crate::store::memory::MemoryStore;

    pub(crate) async fn connected(store: &MemoryStore, company_id: &str, product: PosProduct) {
        let integration = Integration {
            domain_prefix: Some("shop".into()),
            status: IntegrationStatus::Active,
            ..Integration::pending(company_id, product, "t0")
        };
        integration::create(store, &integration).await.unwrap();
    }

    fn outlets(list: &[(&str, &str)]) -> Value {
        json!({"data": list.iter().map(|(id, name)| json!({
            "id": id, "name": name, "time_zone": "Pacific/Auckland", "currency": "NZD", "deleted_at": null
        })).collect::<Vec<_>>()})
    }

    #[tokio::test]
    async fn sync_creates_updates_and_flags_missing_locations() {
        let store = MemoryStore::new();
        connected(&store, "acme", PosProduct::XSeries).await;
        let mut catalog = MemoryCatalog::default();
        catalog.locations.insert(
            PosProduct::XSeries,
            outlets(&[("o1", "Harbour"), ("o2", "Quay")]),
        );
        let first = sync(catalog.scope(&store, PosProduct::XSeries, "t1"))
            .await
            .unwrap();
        assert_eq!((first.seen, first.created, first.updated), (2, 2, 0));

        catalog
            .locations
            .insert(PosProduct::XSeries, outlets(&[("o1", "Harbour Side")]));
        let second = sync(catalog.scope(&store, PosProduct::XSeries, "t2"))
            .await
            .unwrap();
        assert_eq!(
            (
                second.seen,
                second.created,
                second.updated,
                second.missing_upstream
            ),
            (1, 0, 1, 1)
        );
        let all = record::list_all(&store, "acme").await.unwrap();
        assert_eq!(all.len(), 2, "a location gone upstream is kept");
        let o1 = all.iter().find(|l| l.location_id == "o1").unwrap();
        assert_eq!(o1.name, "Harbour Side");
        assert!(!o1.missing_upstream);
        let o2 = all.iter().find(|l| l.location_id == "o2").unwrap();
        assert!(o2.missing_upstream);

        let third = sync(catalog.scope(&store, PosProduct::XSeries, "t3"))
            .await
            .unwrap();
        assert_eq!((third.updated, third.unchanged), (0, 1));
    }

    #[tokio::test]
    async fn sync_needs_a_connection_and_reads_the_products_own_locations() {
        let store = MemoryStore::new();
        let mut catalog = MemoryCatalog::default();
        catalog.locations.insert(
            PosProduct::KSeries,
            json!({"_embedded": {"businessList": [{"businessName": "G", "currencyCode": "GBP",
                "businessLocations": [{"blID": 1, "blName": "Soho", "timezone": "Europe/London"}]}]}}),
        );
        assert!(sync(catalog.scope(&store, PosProduct::KSeries, "t1"))
            .await
            .is_err());
        connected(&store, "acme", PosProduct::KSeries).await;
        let summary = sync(catalog.scope(&store, PosProduct::KSeries, "t1"))
            .await
            .unwrap();
        assert_eq!(summary.created, 1);
        let all = record::list_all(&store, "acme").await.unwrap();
        assert_eq!(all[0].currency.as_deref(), Some("GBP"));
        assert_eq!(all[0].timezone, "Europe/London");
        assert!(record::list_all(&store, "other").await.unwrap().is_empty());
    }
}
