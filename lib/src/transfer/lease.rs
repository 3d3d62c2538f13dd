//! The location-day lease: one worker at a time posts a given location and business day,
//! so two runs never interleave their reads and writes of the same ledger range.

use std::time::Duration;

use super::cache::partition;
use crate::error::{AppError, ErrorCode};
use crate::store::lease::Lease;
use crate::store::{ItemStore, Key};

fn key(company_id: &str, location_id: &str, date: &str) -> Key {
    Key::new(partition(company_id, location_id, date), "LEASE")
}

/// Takes the lease, waiting up to `wait` while another worker holds it.
pub async fn acquire(
    store: &dyn ItemStore,
    company_id: &str,
    location_id: &str,
    date: &str,
    hold: Duration,
    wait: Duration,
) -> Result<Lease, AppError> {
    Lease::acquire(store, key(company_id, location_id, date), hold, wait)
        .await?
        .ok_or_else(|| {
            AppError::new(
                ErrorCode::TransferInProgress,
                format!("another worker is transferring {location_id} {date}; this message will be retried"),
            )
        })
}
