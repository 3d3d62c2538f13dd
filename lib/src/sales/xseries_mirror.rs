//! The X-Series sales mirror. `/api/2.0/sales` can filter by neither date nor outlet, so a
//! business day read from it walks the store's whole feed: 22 pages a day for the demo store,
//! 1,980 for one outlet's 90-day migration. Instead the feed is read once, from a version
//! cursor, into the table:
//! * pattern 34, per outlet one item per sale that moved stock, sorted by when it did, and
//!   one more copy at each later instant it was paid (an on-account sale settled days
//!   later), so the days of its payments find it too;
//! * pattern 35, per sale one index item saying where it stands, copies included (so a sale
//!   that is voided, moves or is paid differently leaves no stale copy), and which feed
//!   version it came from;
//! * pattern 36, per store the cursor: the feed's `version.max` read so far.
//!
//! A day is then a catch-up (only versions newer than the cursor: one page when little
//! changed) and a range query. Every write is conditional on the index version read, so
//! concurrent catch-ups and older versions change nothing.

use chrono::{DateTime, Utc};
use futures::stream::{self, TryStreamExt};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::canonical::{CanonicalSale, SaleKind};
use super::fetch::{get_page, FetchedDay};
use super::xseries::{next_after, page_query, to_canonical, SALES_PATH};
use crate::error::{AppError, ErrorCode};
use crate::lightspeed::client::Connection;
use crate::lightspeed::{LightspeedClient, LightspeedError};
use crate::location::business_day::Window;
use crate::store::occ::{self, Plan};
use crate::store::{
    from_item, keys, query_all_as, to_item, Condition, ItemStore, Key, Query, Write,
};

/// Most feed pages one catch-up reads; a store with more new versions than this goes on in
/// the next attempt from the saved cursor (the transfer retries), inside any Lambda timeout.
pub const MAX_PAGES: u32 = 500;
/// Sales of one page written at once.
const WRITERS: usize = 16;
/// Most later payment instants one sale is mirrored at: with its own item, the deletes of
/// the copies it replaces and its index, one transaction stays within DynamoDB's 100 items.
pub const MAX_PAYMENT_COPIES: usize = 40;

/// Pattern 34: an outlet's mirrored sales.
pub fn outlet_partition(company_id: &str, outlet_id: &str) -> String {
    format!("{}#XSALES#{outlet_id}", keys::company(company_id))
}

/// When the sale moved stock (fixed-width UTC, so text order is time order), then its id.
fn sort_key(at: DateTime<Utc>, sale_id: &str) -> String {
    format!("{}#{sale_id}", instant(at))
}

fn instant(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}

/// Pattern 35: where a sale stands in the mirror.
fn index_key(company_id: &str, sale_id: &str) -> Key {
    Key::new(format!("{}#XSALEIDX", keys::company(company_id)), sale_id)
}

/// Pattern 36: how far a store's feed has been mirrored.
pub fn cursor_key(company_id: &str) -> Key {
    Key::new(keys::company(company_id), "XMIRROR_CURSOR")
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct MirroredSale {
    company_id: String,
    outlet_id: String,
    feed_version: u64,
    sale: CanonicalSale,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
struct SaleIndex {
    company_id: String,
    sale_id: String,
    /// The mirrored item's key, while the sale stands as a sale or refund.
    at: Option<(String, String)>,
    /// The keys of its copies at later payment instants (none before payments were
    /// mirrored).
    #[serde(default)]
    paid_at: Vec<(String, String)>,
    feed_version: u64,
    version: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
struct MirrorCursor {
    company_id: String,
    after: u64,
    version: u64,
}

/// What one catch-up read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CaughtUp {
    pub pages: u32,
    pub requests: u32,
    pub sales: usize,
    pub after: u64,
}

fn store_error(err: impl std::fmt::Display) -> LightspeedError {
    // Transient for the transfer: it is retried like a Lightspeed outage.
    LightspeedError::Retryable {
        status: None,
        retry_after: None,
        message: format!("sales mirror: {err}"),
    }
}

/// The outlet's sales that moved stock in `window`, after bringing the store's mirror up to
/// the top of its feed.
pub async fn fetch_day(
    store: &dyn ItemStore,
    client: &LightspeedClient,
    connection: &Connection,
    outlet_id: &str,
    window: &Window,
) -> Result<FetchedDay, LightspeedError> {
    let caught = catch_up(store, client, connection).await?;
    let sales = day(store, &connection.company_id, outlet_id, window)
        .await
        .map_err(store_error)?;
    Ok(FetchedDay {
        sales,
        pages: caught.pages,
        requests: caught.requests,
    })
}

/// Pattern 34: the mirrored sales of `outlet_id` in `window`. `between` is inclusive:
/// `{end}#` sorts after every sale at the start of the window and before every sale at its
/// (exclusive) end.
pub fn day_query(company_id: &str, outlet_id: &str, window: &Window) -> Query {
    let (from, to) = (instant(window.start), instant(window.end));
    Query::partition(outlet_partition(company_id, outlet_id))
        .between(format!("{from}#"), format!("{to}#"))
        .limit(1000)
}

/// The mirrored sales of `outlet_id` that moved stock or were paid in `window`, each once
/// (the newest copy read), in time order of the first copy.
pub async fn day(
    store: &dyn ItemStore,
    company_id: &str,
    outlet_id: &str,
    window: &Window,
) -> Result<Vec<CanonicalSale>, AppError> {
    let query = day_query(company_id, outlet_id, window);
    let mirrored: Vec<MirroredSale> = query_all_as(store, query).await?;
    let mut out: Vec<MirroredSale> = Vec::with_capacity(mirrored.len());
    let mut seen: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    for copy in mirrored {
        match seen.get(&copy.sale.sale_id) {
            Some(&n) => {
                if copy.feed_version > out[n].feed_version {
                    out[n] = copy;
                }
            }
            None => {
                seen.insert(copy.sale.sale_id.clone(), out.len());
                out.push(copy);
            }
        }
    }
    Ok(out.into_iter().map(|m| m.sale).collect())
}

/// The instants at which the mirror holds `sale_id` at `outlet_id` now (when it moved stock
/// and its later payments), so a change to the sale can revisit the days it stood in.
pub async fn mirrored_times(
    store: &dyn ItemStore,
    company_id: &str,
    outlet_id: &str,
    sale_id: &str,
) -> Result<Vec<DateTime<Utc>>, AppError> {
    let index: Option<SaleIndex> = store
        .get(&index_key(company_id, sale_id))
        .await?
        .map(from_item)
        .transpose()?;
    let Some(index) = index else {
        return Ok(Vec::new());
    };
    let partition = outlet_partition(company_id, outlet_id);
    Ok(index
        .at
        .into_iter()
        .chain(index.paid_at)
        .filter(|(pk, _)| *pk == partition)
        .filter_map(|(_, sk)| {
            let instant = sk.split('#').next()?;
            DateTime::parse_from_rfc3339(instant)
                .ok()
                .map(|t| t.with_timezone(&Utc))
        })
        .collect())
}

/// Reads the store's feed from the mirror's cursor to its top (at most [`MAX_PAGES`]),
/// mirroring every sale, and moves the cursor after each page.
pub async fn catch_up(
    store: &dyn ItemStore,
    client: &LightspeedClient,
    connection: &Connection,
) -> Result<CaughtUp, LightspeedError> {
    let company_id = connection.company_id.as_str();
    let cursor: Option<MirrorCursor> = store
        .get(&cursor_key(company_id))
        .await
        .map_err(store_error)?
        .map(from_item)
        .transpose()
        .map_err(store_error)?;
    let start = cursor.map_or(0, |c| c.after);
    let mut caught = CaughtUp {
        after: start,
        ..CaughtUp::default()
    };
    loop {
        if caught.pages >= MAX_PAGES {
            return Err(LightspeedError::Retryable {
                status: None,
                retry_after: None,
                message: format!(
                    "the sales mirror read {MAX_PAGES} pages and is still catching up; it goes on from version {}",
                    caught.after
                ),
            });
        }
        let query = page_query(caught.after);
        let page =
            get_page::<Value>(client, connection, SALES_PATH, &query, &mut caught.requests).await?;
        caught.pages += 1;
        let Some(sales) = page["data"].as_array() else {
            return Err(LightspeedError::Retryable {
                status: None,
                retry_after: None,
                message: format!("GET {SALES_PATH}: the page has no `data` array"),
            });
        };
        caught.sales += sales.len();
        // Nothing was mirrored before this walk began: try each write as a first write.
        mirror_page(store, company_id, sales, start == 0)
            .await
            .map_err(store_error)?;
        match next_after(&page, caught.after) {
            Some(next) => {
                caught.after = next;
                advance(store, company_id, next)
                    .await
                    .map_err(store_error)?;
            }
            None => return Ok(caught),
        }
    }
}

/// Mirrors one page's sales, a few at a time.
async fn mirror_page(
    store: &dyn ItemStore,
    company_id: &str,
    sales: &[Value],
    first_walk: bool,
) -> Result<(), AppError> {
    stream::iter(sales.iter().map(Ok))
        .try_for_each_concurrent(WRITERS, |sale| {
            mirror_sale(store, company_id, sale, first_walk)
        })
        .await
}

/// Makes the mirror hold what this version of the sale says, unless it already holds this
/// version or a newer one.
pub async fn mirror_sale(
    store: &dyn ItemStore,
    company_id: &str,
    wire: &Value,
    first_walk: bool,
) -> Result<(), AppError> {
    let (Some(outlet_id), Some(feed_version)) =
        (wire["outlet_id"].as_str(), wire["version"].as_u64())
    else {
        tracing::warn!(sale = %wire["id"], "feed sale without outlet or version skipped by the mirror");
        return Ok(());
    };
    // An unreadable sale stops the catch-up here (the cursor stays before its page), so the
    // store's transfers fail naming it and are retried, rather than posting days without it.
    let sale = to_canonical(wire)
        .map_err(|err| AppError::new(ErrorCode::LightspeedApiError, err.to_string()))?;
    let key = index_key(company_id, &sale.sale_id);
    let mut assume_absent = first_walk;
    occ::update(
        store,
        "a mirrored sale",
        || {
            let key = &key;
            let absent = std::mem::take(&mut assume_absent);
            async move {
                if absent {
                    return Ok(None);
                }
                Ok(store.get(key).await?.map(from_item).transpose()?)
            }
        },
        |index: Option<SaleIndex>| plan(company_id, outlet_id, feed_version, &sale, index),
    )
    .await
}

/// The writes that bring one sale's mirror from `index` to `feed_version` (pure).
fn plan(
    company_id: &str,
    outlet_id: &str,
    feed_version: u64,
    sale: &CanonicalSale,
    index: Option<SaleIndex>,
) -> Result<Plan<()>, AppError> {
    let index = index.unwrap_or_default();
    if index.version > 0 && index.feed_version >= feed_version {
        return Ok(Plan::Keep(()));
    }
    let stands = matches!(sale.kind, SaleKind::Sale | SaleKind::Refund);
    let partition = || outlet_partition(company_id, outlet_id);
    let at = stands.then(|| (partition(), sort_key(sale.closed_at, &sale.sale_id)));
    let paid_at: Vec<(String, String)> = if stands {
        sale.later_payment_times()
            .into_iter()
            .map(|t| (partition(), sort_key(t, &sale.sale_id)))
            .collect()
    } else {
        Vec::new()
    };
    if paid_at.len() > MAX_PAYMENT_COPIES {
        return Err(AppError::new(
            ErrorCode::LightspeedApiError,
            format!(
                "X-Series sale {}: paid at {} different times after it was made; the mirror keeps at most {MAX_PAYMENT_COPIES}",
                sale.sale_id,
                paid_at.len()
            ),
        ));
    }
    let next = SaleIndex {
        company_id: company_id.to_string(),
        sale_id: sale.sale_id.clone(),
        at: at.clone(),
        paid_at: paid_at.clone(),
        feed_version,
        version: index.version + 1,
    };
    let new_keys: Vec<(String, String)> = at.into_iter().chain(paid_at).collect();
    // The index goes last: a reader that sees it (and so keeps what it holds) must find the
    // mirrored items written, even where a transaction's writes land one by one. Copies the
    // new version no longer has (voided, moved, a payment removed) are deleted.
    let mut writes = Vec::with_capacity(new_keys.len() + index.paid_at.len() + 2);
    for (pk, sk) in index
        .at
        .into_iter()
        .chain(index.paid_at)
        .filter(|old| !new_keys.contains(old))
    {
        writes.push(Write::Delete(Key::new(pk, sk), Condition::None));
    }
    let mirrored = MirroredSale {
        company_id: company_id.to_string(),
        outlet_id: outlet_id.to_string(),
        feed_version,
        sale: sale.clone(),
    };
    for (pk, sk) in new_keys {
        writes.push(Write::Put(
            to_item(&mirrored, &Key::new(pk, sk))?,
            Condition::None,
        ));
    }
    writes.push(Write::Put(
        to_item(&next, &index_key(company_id, &sale.sale_id))?,
        Condition::replacing(index.version),
    ));
    Ok(Plan::Write(writes, ()))
}

/// Moves the store's cursor up to `after` (never back).
async fn advance(store: &dyn ItemStore, company_id: &str, after: u64) -> Result<(), AppError> {
    let key = cursor_key(company_id);
    occ::update(
        store,
        "the sales mirror's cursor",
        || async { Ok(store.get(&key).await?.map(from_item).transpose()?) },
        |cursor: Option<MirrorCursor>| {
            let cursor = cursor.unwrap_or_default();
            if cursor.after >= after {
                return Ok(Plan::Keep(()));
            }
            let next = MirrorCursor {
                company_id: company_id.to_string(),
                after,
                version: cursor.version + 1,
            };
            Ok(Plan::one(
                Write::Put(to_item(&next, &key)?, Condition::replacing(cursor.version)),
                (),
            ))
        },
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::memory::MemoryStore;
    use serde_json::json;

    /// A 2.0 sale of outlet `o1` at `version`, in `status`, made and paid at `at`.
    fn wire(id: &str, version: u64, status: &str, at: &str) -> Value {
        let state = match status {
            "VOIDED" => "voided",
            "CLOSED" => "closed",
            _ => "pending",
        };
        json!({
            "id": id, "outlet_id": "o1", "version": version, "status": status, "state": state,
            "sale_date": at, "updated_at": at,
            "line_items": [{"id": "l1", "product_id": "p1", "quantity": 1, "total_price": 10, "total_tax": 1.5}],
            "payments": if status == "CLOSED" {
                json!([{"id": "y1", "amount": 11.5, "payment_date": at, "type": {"name": "Cash"}}])
            } else {
                json!([])
            }
        })
    }

    async fn mirror(store: &MemoryStore, wire: &Value, first_walk: bool) {
        mirror_sale(store, "acme", wire, first_walk).await.unwrap();
    }

    fn window(start: &str, end: &str) -> Window {
        Window {
            start: start.parse().unwrap(),
            end: end.parse().unwrap(),
        }
    }

    async fn ids(store: &MemoryStore, start: &str, end: &str) -> Vec<String> {
        day(store, "acme", "o1", &window(start, end))
            .await
            .unwrap()
            .into_iter()
            .map(|s| s.sale_id)
            .collect()
    }

    #[tokio::test]
    async fn a_day_holds_the_sales_that_moved_stock_in_its_window() {
        let store = MemoryStore::new();
        for (id, at) in [
            ("before", "2026-02-19T23:59:59.999999Z"),
            ("first", "2026-02-20T00:00:00Z"),
            ("last", "2026-02-20T23:59:59Z"),
            ("after", "2026-02-21T00:00:00Z"),
        ] {
            mirror(&store, &wire(id, 1, "CLOSED", at), true).await;
        }
        // The window is [start, end): a sale at its end belongs to the next day.
        assert_eq!(
            ids(&store, "2026-02-20T00:00:00Z", "2026-02-21T00:00:00Z").await,
            ["first", "last"]
        );
    }

    #[tokio::test]
    async fn newer_versions_replace_older_ones_never_the_reverse() {
        let store = MemoryStore::new();
        let at = "2026-02-20T10:00:00Z";
        let (from, to) = ("2026-02-20T00:00:00Z", "2026-02-21T00:00:00Z");
        // Parked first: nothing moved yet.
        mirror(&store, &wire("s1", 1, "SAVED", at), true).await;
        assert!(ids(&store, from, to).await.is_empty());
        mirror(&store, &wire("s1", 2, "CLOSED", at), false).await;
        assert_eq!(ids(&store, from, to).await, ["s1"]);
        // A redelivered older version changes nothing, even read as a first walk.
        mirror(&store, &wire("s1", 1, "SAVED", at), true).await;
        assert_eq!(ids(&store, from, to).await, ["s1"]);
        // Voided: it leaves the day.
        mirror(&store, &wire("s1", 3, "VOIDED", at), false).await;
        assert!(ids(&store, from, to).await.is_empty());
    }

    #[tokio::test]
    async fn an_unreadable_sale_is_an_error_naming_it_not_a_silent_gap() {
        let store = MemoryStore::new();
        let mut bad = wire("s9", 1, "CLOSED", "2026-02-20T10:00:00Z");
        bad["line_items"][0]["total_tax"] = json!("lots");
        let err = mirror_sale(&store, "acme", &bad, true).await.unwrap_err();
        assert_eq!(err.code, ErrorCode::LightspeedApiError);
        assert!(
            err.message.contains("s9") && err.message.contains("total_tax"),
            "{err:?}"
        );
    }

    /// An on-account sale of `o1` made at 10:00 on the 20th, with the payments given
    /// (`(amount, date)`); closed once they cover its 11.50.
    fn on_account(version: u64, status: &str, payments: &[(&str, &str)]) -> Value {
        let mut sale = wire("oa", version, status, "2026-02-20T10:00:00Z");
        sale["state"] = json!(match status {
            "VOIDED" => "voided",
            "ONACCOUNT_CLOSED" => "closed",
            _ => "pending",
        });
        sale["attributes"] = json!(["onaccount"]);
        sale["payments"] = json!(payments
            .iter()
            .map(
                |(amount, at)| json!({"id": at, "amount": amount.parse::<f64>().unwrap(),
                "payment_date": at, "type": {"name": "Cash"}})
            )
            .collect::<Vec<_>>());
        sale
    }

    #[tokio::test]
    async fn an_on_account_sale_is_found_on_each_day_it_was_paid_once_and_never_stale() {
        let store = MemoryStore::new();
        let made = ("2026-02-20T00:00:00Z", "2026-02-21T00:00:00Z");
        let paid = ("2026-02-23T00:00:00Z", "2026-02-24T00:00:00Z");
        let other = ("2026-02-25T00:00:00Z", "2026-02-26T00:00:00Z");
        mirror(&store, &on_account(1, "ONACCOUNT", &[]), true).await;
        assert_eq!(ids(&store, made.0, made.1).await, ["oa"]);
        assert!(ids(&store, paid.0, paid.1).await.is_empty());
        // Paid in two parts on the 23rd: the day holds the sale once.
        let two = [
            ("5", "2026-02-23T09:00:00Z"),
            ("6.5", "2026-02-23T15:00:00Z"),
        ];
        mirror(&store, &on_account(2, "ONACCOUNT_CLOSED", &two), false).await;
        assert_eq!(ids(&store, made.0, made.1).await, ["oa"]);
        assert_eq!(ids(&store, paid.0, paid.1).await, ["oa"]);
        let found = day(&store, "acme", "o1", &window(paid.0, paid.1))
            .await
            .unwrap();
        assert_eq!(found[0].payments.len(), 2, "the newest copy: {found:?}");
        // The payment moved to the 25th: the 23rd no longer holds it.
        let moved = [("11.5", "2026-02-25T09:00:00Z")];
        mirror(&store, &on_account(3, "ONACCOUNT_CLOSED", &moved), false).await;
        assert!(ids(&store, paid.0, paid.1).await.is_empty());
        assert_eq!(ids(&store, other.0, other.1).await, ["oa"]);
        assert_eq!(
            mirrored_times(&store, "acme", "o1", "oa").await.unwrap(),
            [
                "2026-02-20T10:00:00Z".parse::<DateTime<Utc>>().unwrap(),
                "2026-02-25T09:00:00Z".parse().unwrap()
            ]
        );
        // Voided: no day holds it, and nothing is left in its partition.
        mirror(&store, &on_account(4, "VOIDED", &[]), false).await;
        for (from, to) in [made, paid, other] {
            assert!(ids(&store, from, to).await.is_empty());
        }
        assert!(ids(&store, "2026-01-01T00:00:00Z", "2027-01-01T00:00:00Z")
            .await
            .is_empty());
        assert!(mirrored_times(&store, "acme", "o1", "oa")
            .await
            .unwrap()
            .is_empty());
    }

    #[tokio::test]
    async fn a_sale_whose_time_moves_leaves_no_copy_behind() {
        let store = MemoryStore::new();
        mirror(
            &store,
            &wire("s1", 1, "CLOSED", "2026-02-20T10:00:00Z"),
            true,
        )
        .await;
        mirror(
            &store,
            &wire("s1", 2, "CLOSED", "2026-02-22T10:00:00Z"),
            false,
        )
        .await;
        assert!(ids(&store, "2026-02-20T00:00:00Z", "2026-02-21T00:00:00Z")
            .await
            .is_empty());
        assert_eq!(
            ids(&store, "2026-02-22T00:00:00Z", "2026-02-23T00:00:00Z").await,
            ["s1"]
        );
    }
}
