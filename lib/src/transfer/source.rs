//! Where a transfer gets a day's sales: the port the engine sees, and its Lightspeed adapter
//! (K-Series Financial API per business location, X-Series sales per outlet from the
//! store's mirrored feed).

use std::sync::Arc;

use async_trait::async_trait;

use crate::connection::{integration, PosProduct};
use crate::lightspeed::client::Connection;
use crate::lightspeed::{LightspeedClient, LightspeedError};
use crate::location::business_day::Window;
use crate::location::Location;
use crate::sales::{kseries, xseries_mirror, FetchedDay};
use crate::store::ItemStore;

#[async_trait]
pub trait SalesSource: Send + Sync {
    async fn fetch_day(
        &self,
        location: &Location,
        window: &Window,
    ) -> Result<FetchedDay, LightspeedError>;
}

pub struct LightspeedSales {
    pub client: Arc<LightspeedClient>,
    pub store: Arc<dyn ItemStore>,
}

#[async_trait]
impl SalesSource for LightspeedSales {
    async fn fetch_day(
        &self,
        location: &Location,
        window: &Window,
    ) -> Result<FetchedDay, LightspeedError> {
        let domain_prefix = match location.product {
            PosProduct::KSeries => None,
            _ => integration::get(self.store.as_ref(), &location.company_id, location.product)
                .await
                .map_err(|e| LightspeedError::RefreshFailed(e.message))?
                .and_then(|i| i.domain_prefix),
        };
        let connection = Connection {
            company_id: location.company_id.clone(),
            product: location.product,
            domain_prefix,
        };
        match location.product {
            PosProduct::KSeries => {
                kseries::fetch_day(&self.client, &connection, &location.location_id, window).await
            }
            PosProduct::XSeries => {
                let store = self.store.as_ref();
                xseries_mirror::fetch_day(
                    store,
                    &self.client,
                    &connection,
                    &location.location_id,
                    window,
                )
                .await
            }
            // The engine reads imported sales itself (`imports::sales`).
            PosProduct::Csv => Err(LightspeedError::NotConnected(
                "CSV sales are imported, not read from Lightspeed".into(),
            )),
        }
    }
}
