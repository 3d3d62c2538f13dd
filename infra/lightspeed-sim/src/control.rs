//! The control API under `/_sim`: clock, faults, ground truth, late sales, sale edits, item and
//! product changes, X-Series voids and webhook triggers, token shortcuts. Documented in README.md.

use crate::faults::FaultSpec;
use crate::ground_truth;
use crate::respond::{iso_millis, json, parse_time, Params};
use crate::server::AppState;
use crate::tokens::{Grant, Realm};
use crate::xseries::wire;
use axum::body::Bytes;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{delete, get, patch, post, put};
use axum::Router;
use chrono::{Duration, NaiveDate};
use rust_decimal::Decimal;
use serde::Deserialize;
use serde_json::{json as j, Value};
use std::sync::Arc;

pub fn router() -> Router<Arc<AppState>> {
    Router::new()
        .route(
            "/_sim/health",
            get(|| async { json(StatusCode::OK, &j!({ "ok": true })) }),
        )
        .route("/_sim/info", get(info))
        .route("/_sim/clock", get(clock_get).post(clock_set))
        .route("/_sim/faults", get(faults_list).delete(faults_clear))
        .route("/_sim/faults/{key}", put(faults_set))
        .route("/_sim/ground-truth", get(truth))
        .route("/_sim/k/late-sales", post(late_sales))
        .route("/_sim/k/sales/edit", post(edit_sale))
        .route(
            "/_sim/k/items/{id}",
            patch(k_item_patch).delete(k_item_delete),
        )
        .route(
            "/_sim/x/products/{id}",
            patch(x_product_patch).delete(x_product_delete),
        )
        .route("/_sim/x/sales/{id}/void", post(x_void))
        .route("/_sim/x/sales/{id}/pay", post(x_pay))
        .route("/_sim/x/webhooks/fire", post(x_fire))
        .route("/_sim/x/registers/{id}/close", post(x_register_close))
        .route("/_sim/x/webhooks/attempts", get(x_attempts))
        .route("/_sim/x/rate-limit/reset", post(x_rate_reset))
        .route("/_sim/tokens", post(tokens_issue))
        .route("/_sim/tokens/revoke-all", post(tokens_revoke))
        .route("/_sim/tokens/stats", get(tokens_stats))
        .route("/_sim/x/sales/{id}/legacy", get(x_legacy))
        .route("/_sim/faults/{key}/clear", delete(faults_clear_one))
}

fn bad(msg: &str) -> Response {
    json(StatusCode::BAD_REQUEST, &j!({ "error": msg }))
}

fn not_found(msg: &str) -> Response {
    json(StatusCode::NOT_FOUND, &j!({ "error": msg }))
}

fn body<T: for<'de> Deserialize<'de>>(b: &[u8]) -> Result<T, Response> {
    let b = if b.is_empty() { b"{}".as_slice() } else { b };
    serde_json::from_slice(b).map_err(|e| bad(&format!("invalid JSON body: {e}")))
}

async fn info(State(s): State<Arc<AppState>>) -> Response {
    let base = s.base_url().to_string();
    let locations: Vec<Value> = s
        .k
        .catalog
        .locations
        .iter()
        .enumerate()
        .map(|(i, l)| j!({ "id": l.id, "name": l.name, "timezone": l.tz.name(), "firstDate": s.k.first_date(i).to_string() }))
        .collect();
    json(
        StatusCode::OK,
        &j!({
            "baseUrl": base,
            "now": iso_millis(s.clock.now()),
            "seed": s.cfg.seed,
            "days": s.cfg.days,
            "volume": s.cfg.volume,
            "kSeries": {
                "apiBase": base,
                "v1Authorize": format!("{base}/oauth/authorize"),
                "v1Token": format!("{base}/oauth/token"),
                "v2Authorize": format!("{base}/realms/k-series/protocol/openid-connect/auth"),
                "v2Token": format!("{base}/realms/k-series/protocol/openid-connect/token"),
                "v1ClientId": s.cfg.k_v1_client.client_id,
                "v2ClientId": s.cfg.k_v2_client.client_id,
                "user": s.cfg.k_user,
                "locations": locations,
            },
            "xSeries": {
                "domainPrefix": s.cfg.x_domain_prefix,
                "apiBase": format!("{base}/x/{}", s.cfg.x_domain_prefix),
                "connect": format!("{base}/x/connect"),
                "clientId": s.cfg.x_client.client_id,
            },
        }),
    )
}

async fn clock_get(State(s): State<Arc<AppState>>) -> Response {
    json(StatusCode::OK, &j!({ "now": iso_millis(s.clock.now()) }))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ClockBody {
    advance_seconds: Option<i64>,
    set: Option<String>,
}

/// Moves the clock (forward or back); newly visible X-Series revisions get versions and fire
/// `sale.update` webhooks.
async fn clock_set(State(s): State<Arc<AppState>>, b: Bytes) -> Response {
    let req: ClockBody = match body(&b) {
        Ok(v) => v,
        Err(r) => return r,
    };
    let now = s.clock.now();
    let to = match (req.advance_seconds, req.set.as_deref()) {
        (Some(secs), _) => now + Duration::seconds(secs),
        (None, Some(t)) => match parse_time(t) {
            Some(t) => t,
            None => return bad("set must be an ISO-8601 date-time"),
        },
        _ => return bad("give advanceSeconds or set"),
    };
    s.clock.set(to);
    let fired = {
        let mut x = s.x();
        let newly = x.assign_versions(to, s.cfg.seed);
        newly
            .iter()
            .filter_map(|(si, ri)| {
                let sale = x.sales.get(*si)?;
                let rev = sale.revisions.get(*ri)?;
                serde_json::to_string(&wire::legacy_sale(&x, sale, rev)).ok()
            })
            .collect::<Vec<String>>()
    };
    let mut sent = 0;
    for payload in &fired {
        sent += s
            .webhooks
            .emit("sale.update", &s.cfg.x_domain_prefix, payload);
    }
    json(
        StatusCode::OK,
        &j!({ "now": iso_millis(to), "previous": iso_millis(now), "xRevisionsReleased": fired.len(), "webhooksQueued": sent }),
    )
}

async fn faults_list(State(s): State<Arc<AppState>>) -> Response {
    json(StatusCode::OK, &s.faults.list())
}

async fn faults_clear(State(s): State<Arc<AppState>>) -> Response {
    s.faults.clear();
    json(StatusCode::OK, &j!({ "cleared": true }))
}

async fn faults_clear_one(
    State(s): State<Arc<AppState>>,
    key: Result<Path<String>, PathRejection>,
) -> Response {
    let Ok(Path(key)) = key else {
        return bad("invalid path parameter");
    };
    s.faults.set(&key, FaultSpec::default());
    json(StatusCode::OK, &j!({ "cleared": key }))
}

async fn faults_set(
    State(s): State<Arc<AppState>>,
    key: Result<Path<String>, PathRejection>,
    b: Bytes,
) -> Response {
    let Ok(Path(key)) = key else {
        return bad("invalid path parameter");
    };
    let spec: FaultSpec = match body(&b) {
        Ok(v) => v,
        Err(r) => return r,
    };
    s.faults.set(&key, spec.clone());
    json(StatusCode::OK, &j!({ "key": key, "fault": spec }))
}

async fn truth(State(s): State<Arc<AppState>>, RawQuery(raw): RawQuery) -> Response {
    let Ok(p) = Params::parse(raw.as_deref()) else {
        return bad("malformed query string");
    };
    let Ok(Some(loc)) = p.int::<i64>("locationId") else {
        return bad("locationId (integer) is required");
    };
    if s.k.location_index(loc).is_none() {
        return not_found("unknown location");
    }
    let result = if let Some(d) = p.get("date") {
        let Ok(date) = NaiveDate::parse_from_str(d, "%Y-%m-%d") else {
            return bad("date must be YYYY-MM-DD");
        };
        if p.get("mode") == Some("utc") {
            let from = date.and_hms_opt(0, 0, 0).map(|t| t.and_utc());
            match from {
                Some(f) => ground_truth::compute(&s, loc, f, f + Duration::days(1), Some(date)),
                None => None,
            }
        } else {
            let cutoff = match p.int::<u32>("cutoffHour") {
                Ok(v) => v.unwrap_or(4),
                Err(_) => return bad("cutoffHour must be 0-23"),
            };
            if cutoff > 23 {
                return bad("cutoffHour must be 0-23");
            }
            ground_truth::for_date(&s, loc, date, cutoff)
        }
    } else {
        let (Some(f), Some(t)) = (
            p.get("from").and_then(parse_time),
            p.get("to").and_then(parse_time),
        ) else {
            return bad("give date (YYYY-MM-DD) or from and to (ISO-8601)");
        };
        ground_truth::compute(&s, loc, f, t, None)
    };
    match result {
        Some(g) => json(StatusCode::OK, &g),
        None => not_found("unknown location"),
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct LateBody {
    location_id: i64,
    date: String,
    count: Option<u32>,
    time_closed: Option<String>,
}

async fn late_sales(State(s): State<Arc<AppState>>, b: Bytes) -> Response {
    let req: LateBody = match body(&b) {
        Ok(v) => v,
        Err(r) => return r,
    };
    let Some(li) = s.k.location_index(req.location_id) else {
        return not_found("unknown location");
    };
    let Ok(date) = NaiveDate::parse_from_str(&req.date, "%Y-%m-%d") else {
        return bad("date must be YYYY-MM-DD");
    };
    let closed = match req.time_closed.as_deref() {
        None => None,
        Some(t) => match parse_time(t) {
            Some(t) => Some(t),
            None => return bad("timeClosed must be ISO-8601"),
        },
    };
    match s
        .k
        .add_late_sales(li, date, req.count.unwrap_or(1).min(10_000), closed)
    {
        Ok(v) => json(
            StatusCode::CREATED,
            &j!({ "added": v.iter().map(|x| j!({ "accountFiscId": x.fisc_id, "timeClosed": iso_millis(x.time_closed) })).collect::<Vec<_>>() }),
        ),
        Err(e) => bad(&e.to_string()),
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct EditBody {
    location_id: i64,
    account_fisc_id: String,
    payment_code: Option<String>,
    line_id: Option<String>,
    quantity: Option<String>,
}

async fn edit_sale(State(s): State<Arc<AppState>>, b: Bytes) -> Response {
    let req: EditBody = match body(&b) {
        Ok(v) => v,
        Err(r) => return r,
    };
    let Some(li) = s.k.location_index(req.location_id) else {
        return not_found("unknown location");
    };
    let line = match (&req.line_id, &req.quantity) {
        (Some(l), Some(q)) => match q.parse::<Decimal>() {
            Ok(q) if q > Decimal::ZERO => Some((l.as_str(), q)),
            _ => return bad("quantity must be a positive decimal string"),
        },
        (None, None) => None,
        _ => return bad("lineId and quantity go together"),
    };
    match s
        .k
        .edit_sale(li, &req.account_fisc_id, req.payment_code.as_deref(), line)
    {
        Ok(sale) => json(
            StatusCode::OK,
            &j!({ "accountFiscId": sale.fisc_id, "edited": true }),
        ),
        Err(e) => not_found(&e.to_string()),
    }
}

#[derive(Deserialize)]
struct ItemPatch {
    name: Option<String>,
    sku: Option<String>,
    active: Option<bool>,
}

fn k_item_change(s: &AppState, id: &str, f: impl Fn(&mut crate::data::KItem)) -> Response {
    let Ok(id) = id.parse::<i64>() else {
        return bad("item id must be an integer");
    };
    let mut items = match s.k.items.write() {
        Ok(g) => g,
        Err(p) => p.into_inner(),
    };
    for list in items.iter_mut() {
        if let Some(it) = list.iter_mut().find(|i| i.id == id) {
            f(it);
            return json(
                StatusCode::OK,
                &j!({ "id": it.id, "name": it.name, "sku": it.sku, "active": it.active, "deleted": it.deleted }),
            );
        }
    }
    not_found("unknown item")
}

async fn k_item_patch(
    State(s): State<Arc<AppState>>,
    id: Result<Path<String>, PathRejection>,
    b: Bytes,
) -> Response {
    let Ok(Path(id)) = id else {
        return bad("invalid path parameter");
    };
    let req: ItemPatch = match body(&b) {
        Ok(v) => v,
        Err(r) => return r,
    };
    k_item_change(&s, &id, |it| {
        if let Some(n) = &req.name {
            it.name = n.clone();
        }
        if let Some(k) = &req.sku {
            it.sku = k.clone();
        }
        if let Some(a) = req.active {
            it.active = a;
        }
    })
}

async fn k_item_delete(
    State(s): State<Arc<AppState>>,
    id: Result<Path<String>, PathRejection>,
) -> Response {
    let Ok(Path(id)) = id else {
        return bad("invalid path parameter");
    };
    k_item_change(&s, &id, |it| it.deleted = true)
}

fn x_product_change(
    s: &AppState,
    id: &str,
    f: impl Fn(&mut crate::data::retail::XProduct, chrono::DateTime<chrono::Utc>),
) -> Response {
    let now = s.clock.now();
    let payload = {
        let mut x = s.x();
        let Some(idx) = x.products.iter().position(|p| p.id == id) else {
            return not_found("unknown product");
        };
        if let Some(p) = x.products.get_mut(idx) {
            f(p, now);
        }
        x.touch_product(idx, now, s.cfg.seed);
        match x.products.get(idx) {
            Some(p) => serde_json::to_string(&wire::legacy_product(p)).unwrap_or_default(),
            None => return not_found("unknown product"),
        }
    };
    let queued = s
        .webhooks
        .emit("product.update", &s.cfg.x_domain_prefix, &payload);
    json(StatusCode::OK, &j!({ "id": id, "webhooksQueued": queued }))
}

async fn x_product_patch(
    State(s): State<Arc<AppState>>,
    id: Result<Path<String>, PathRejection>,
    b: Bytes,
) -> Response {
    let Ok(Path(id)) = id else {
        return bad("invalid path parameter");
    };
    let req: ItemPatch = match body(&b) {
        Ok(v) => v,
        Err(r) => return r,
    };
    x_product_change(&s, &id, |p, _| {
        if let Some(n) = &req.name {
            p.name = n.clone();
        }
        if let Some(k) = &req.sku {
            p.sku = k.clone();
        }
        if let Some(a) = req.active {
            p.active = a;
        }
    })
}

async fn x_product_delete(
    State(s): State<Arc<AppState>>,
    id: Result<Path<String>, PathRejection>,
) -> Response {
    let Ok(Path(id)) = id else {
        return bad("invalid path parameter");
    };
    x_product_change(&s, &id, |p, now| p.deleted_at = Some(now))
}

async fn x_void(
    State(s): State<Arc<AppState>>,
    id: Result<Path<String>, PathRejection>,
) -> Response {
    let Ok(Path(id)) = id else {
        return bad("invalid path parameter");
    };
    let now = s.clock.now();
    let payload = {
        let mut x = s.x();
        let Some(si) = x.void_sale(&id, now, s.cfg.seed) else {
            return not_found("unknown or not yet visible sale");
        };
        let sale = &x.sales[si];
        match sale.current(now) {
            Some(rev) => {
                serde_json::to_string(&wire::legacy_sale(&x, sale, rev)).unwrap_or_default()
            }
            None => return not_found("sale not visible"),
        }
    };
    let queued = s
        .webhooks
        .emit("sale.update", &s.cfg.x_domain_prefix, &payload);
    json(
        StatusCode::OK,
        &j!({ "id": id, "status": "VOIDED", "webhooksQueued": queued }),
    )
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct PayBody {
    /// Decimal text; default: what the sale still owes.
    amount: Option<String>,
    /// A payment type's name; default: the first (Cash).
    payment_type: Option<String>,
}

/// Pays an open on-account sale now (fires `sale.update`).
async fn x_pay(
    State(s): State<Arc<AppState>>,
    id: Result<Path<String>, PathRejection>,
    b: Bytes,
) -> Response {
    let Ok(Path(id)) = id else {
        return bad("invalid path parameter");
    };
    let req: PayBody = if b.is_empty() {
        PayBody::default()
    } else {
        match body(&b) {
            Ok(v) => v,
            Err(r) => return r,
        }
    };
    let amount = match req.amount.as_deref().map(str::parse::<Decimal>) {
        None => None,
        Some(Ok(a)) => Some(a),
        Some(Err(_)) => return bad("amount must be a decimal"),
    };
    let now = s.clock.now();
    let (payload, status, paid) = {
        let mut x = s.x();
        let si = match x.pay_on_account(&id, amount, req.payment_type.as_deref(), now, s.cfg.seed) {
            Ok(si) => si,
            Err(why) => return bad(why),
        };
        let sale = &x.sales[si];
        let Some(rev) = sale.current(now) else {
            return not_found("sale not visible");
        };
        let paid = rev.payments.last().map(|p| p.amount).unwrap_or_default();
        (
            serde_json::to_string(&wire::legacy_sale(&x, sale, rev)).unwrap_or_default(),
            rev.status,
            paid,
        )
    };
    let queued = s
        .webhooks
        .emit("sale.update", &s.cfg.x_domain_prefix, &payload);
    json(
        StatusCode::OK,
        &j!({ "id": id, "status": status, "amount": paid.to_string(), "paidAt": iso_millis(now), "webhooksQueued": queued }),
    )
}

async fn x_legacy(
    State(s): State<Arc<AppState>>,
    id: Result<Path<String>, PathRejection>,
) -> Response {
    let Ok(Path(id)) = id else {
        return bad("invalid path parameter");
    };
    let now = s.clock.now();
    let x = s.x();
    match x
        .sales
        .iter()
        .find(|v| v.id == id)
        .and_then(|v| v.current(now).map(|r| (v, r)))
    {
        Some((sale, rev)) => json(StatusCode::OK, &wire::legacy_sale(&x, sale, rev)),
        None => not_found("unknown sale"),
    }
}

#[derive(Deserialize)]
struct FireBody {
    #[serde(rename = "type")]
    kind: String,
    id: String,
}

/// Sends a webhook for an existing sale or product (as if it had just changed).
async fn x_fire(State(s): State<Arc<AppState>>, b: Bytes) -> Response {
    let req: FireBody = match body(&b) {
        Ok(v) => v,
        Err(r) => return r,
    };
    let now = s.clock.now();
    let payload = {
        let x = s.x();
        match req.kind.as_str() {
            "sale.update" => match x
                .sales
                .iter()
                .find(|v| v.id == req.id)
                .and_then(|v| v.current(now).map(|r| (v, r)))
            {
                Some((sale, rev)) => {
                    serde_json::to_string(&wire::legacy_sale(&x, sale, rev)).unwrap_or_default()
                }
                None => return not_found("unknown sale"),
            },
            "product.update" => match x.products.iter().find(|p| p.id == req.id) {
                Some(p) => serde_json::to_string(&wire::legacy_product(p)).unwrap_or_default(),
                None => return not_found("unknown product"),
            },
            _ => return bad("type must be sale.update or product.update"),
        }
    };
    let queued = s.webhooks.emit(&req.kind, &s.cfg.x_domain_prefix, &payload);
    json(StatusCode::OK, &j!({ "webhooksQueued": queued }))
}

async fn x_attempts(State(s): State<Arc<AppState>>) -> Response {
    json(StatusCode::OK, &s.webhooks.attempts())
}

async fn x_rate_reset(State(s): State<Arc<AppState>>) -> Response {
    s.rate.reset();
    json(StatusCode::OK, &j!({ "reset": true }))
}

#[derive(Deserialize)]
struct TokenBody {
    realm: String,
    scopes: Option<Vec<String>>,
}

/// Issues a token pair directly (skips the browser redirect in tests and the demo).
async fn tokens_issue(State(s): State<Arc<AppState>>, b: Bytes) -> Response {
    let req: TokenBody = match body(&b) {
        Ok(v) => v,
        Err(r) => return r,
    };
    let (realm, client, default_scopes): (Realm, &str, &[&str]) = match req.realm.as_str() {
        "k-v1" => (
            Realm::KV1,
            &s.cfg.k_v1_client.client_id,
            &["financial-api", "items"],
        ),
        "k-v2" => (
            Realm::KV2,
            &s.cfg.k_v2_client.client_id,
            &["financial-api", "items", "offline_access"],
        ),
        "x" => (
            Realm::X,
            &s.cfg.x_client.client_id,
            &["sales:read", "products:read", "webhooks"],
        ),
        _ => return bad("realm must be k-v1, k-v2 or x"),
    };
    let scopes = req
        .scopes
        .unwrap_or_else(|| default_scopes.iter().map(|x| x.to_string()).collect());
    let grant = Grant {
        realm,
        client_id: client.to_string(),
        user: s.cfg.k_user.clone(),
        scopes,
        domain_prefix: if realm == Realm::X {
            Some(s.cfg.x_domain_prefix.clone())
        } else {
            None
        },
    };
    let i = s.tokens.issue(grant, s.clock.now());
    json(
        StatusCode::OK,
        &j!({ "access_token": i.access_token, "refresh_token": i.refresh_token, "expires_in": i.expires_in, "refresh_expires_in": i.refresh_expires_in }),
    )
}

async fn tokens_stats(State(s): State<Arc<AppState>>) -> Response {
    json(StatusCode::OK, &s.tokens.stats())
}

async fn tokens_revoke(State(s): State<Arc<AppState>>) -> Response {
    s.tokens.revoke_all();
    json(StatusCode::OK, &j!({ "revoked": true }))
}

/// Fires `register_closure.create` for a register, covering the day up to now. The payload
/// shape is not documented upstream; this one carries the ids and times a journal needs.
async fn x_register_close(
    State(s): State<Arc<AppState>>,
    id: Result<Path<String>, PathRejection>,
) -> Response {
    let Ok(Path(id)) = id else {
        return bad("invalid path parameter");
    };
    let now = s.clock.now();
    let payload = {
        let x = s.x();
        let Some(reg) = x.registers.iter().find(|r| r.id == id) else {
            return not_found("unknown register");
        };
        let seq = crate::data::generate::day_index(now.date_naive());
        j!({
            "id": crate::rng::Rng::new(crate::rng::mix(&[s.cfg.seed, seq as u64, crate::rng::label(&reg.id)])).uuid(),
            "register_id": reg.id,
            "outlet_id": reg.outlet_id,
            "register_open_sequence_id": seq,
            "register_open_time": wire::legacy_ts(now - Duration::hours(12)),
            "register_close_time": wire::legacy_ts(now),
        })
        .to_string()
    };
    let queued = s
        .webhooks
        .emit("register_closure.create", &s.cfg.x_domain_prefix, &payload);
    json(
        StatusCode::OK,
        &j!({ "registerId": id, "webhooksQueued": queued }),
    )
}
