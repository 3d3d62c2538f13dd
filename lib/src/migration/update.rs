//! Changing a job under its version: concurrent workers, the API and maintenance all write
//! the same item, so every change re-reads, re-applies and retries on a version conflict.

use super::job::{guard_key, job_key, JobIds, MigrationDay, MigrationJob};
use super::start::{days, not_found};
use crate::error::AppError;
use crate::store::occ::{self, Plan};
use crate::store::{from_item, Condition, ItemStore, Write};

/// Reads the job (and its days when `with_days`), lets `change` edit it (`Ok(false)`: nothing
/// to write) and writes it under the version it read. A job that closes releases its
/// location's "in progress" guard in the same transaction. Returns the job as stored.
pub async fn update_job(
    store: &dyn ItemStore,
    ids: JobIds<'_>,
    now: &str,
    with_days: bool,
    mut change: impl FnMut(&mut MigrationJob, &[MigrationDay]) -> Result<bool, AppError>,
) -> Result<MigrationJob, AppError> {
    let JobIds {
        company_id,
        location_id,
        job_id,
    } = ids;
    let key = job_key(company_id, location_id, job_id);
    let key = &key;
    let read = move || async move {
        let Some(item) = store.get(key).await? else {
            return Err(not_found(job_id));
        };
        let current: MigrationJob = from_item(item)?;
        let all = if with_days {
            days(store, job_id).await?
        } else {
            Vec::new()
        };
        Ok((current, all))
    };
    occ::update(store, "the migration", read, |(current, all)| {
        let mut next = current.clone();
        if !change(&mut next, &all)? || next == current {
            return Ok(Plan::Keep(current));
        }
        next.updated_at = now.to_string();
        next.version = current.version + 1;
        let mut writes = vec![Write::Put(
            next.to_item()?,
            Condition::VersionIs(current.version),
        )];
        if current.status.is_open() && !next.status.is_open() {
            writes.push(Write::Delete(
                guard_key(company_id, location_id),
                Condition::None,
            ));
        }
        Ok(Plan::Write(writes, next))
    })
    .await
}
