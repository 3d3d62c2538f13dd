//! Simulator configuration: seed, data size, clock, OAuth clients and the wire-variant switches.
//!
//! Every fact the Lightspeed fact sheet marks as low-confidence or unknown is a switch here, so
//! tillbridge's clients can be tested against every plausible variant of the real API.

use chrono::{DateTime, TimeZone, Utc};

/// Sign of K-Series refund lines and payments on the wire (undocumented upstream).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefundSign {
    /// Refund quantities and amounts are negative (the simulator's default).
    Negative,
    /// Refund quantities and amounts are positive; only `type = REFUND` marks them.
    Positive,
}

/// When K-Series V2 sales carry `payments[]` (undocumented upstream).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PaymentsMode {
    /// Only with `include=payments` (the simulator's default, the strict reading).
    OnlyWithInclude,
    /// Always present.
    Always,
}

/// How the last page of K-Series V2 sales ends (undocumented upstream).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LastPageToken {
    /// `nextPageToken` key is absent.
    Absent,
    /// `"nextPageToken": null`.
    Null,
    /// `"nextPageToken": ""`.
    Empty,
}

/// Shape of the `/items/v1/items` list body (the contract is ambiguous).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ItemsShape {
    /// A bare JSON array (most likely real shape; default).
    BareArray,
    /// `{"items": [...]}`.
    Wrapped,
}

/// Wire-variant switches for low-confidence facts.
#[derive(Debug, Clone)]
pub struct WireVariants {
    pub refund_sign: RefundSign,
    pub payments: PaymentsMode,
    pub last_page_token: LastPageToken,
    pub items_shape: ItemsShape,
    /// Maximum `amount` accepted by `/items/v1/items` (docs say 100, a later contract 1000).
    pub items_max_amount: u32,
}

impl Default for WireVariants {
    fn default() -> Self {
        WireVariants {
            refund_sign: RefundSign::Negative,
            payments: PaymentsMode::OnlyWithInclude,
            last_page_token: LastPageToken::Absent,
            items_shape: ItemsShape::BareArray,
            items_max_amount: 100,
        }
    }
}

/// An OAuth client registered with the simulator.
#[derive(Debug, Clone)]
pub struct OAuthClient {
    pub client_id: String,
    pub client_secret: String,
}

/// Token lifetimes in seconds; reported in `expires_in` / `refresh_expires_in`.
#[derive(Debug, Clone)]
pub struct TokenLifetimes {
    /// K-Series V1 access token (documented: 60 minutes).
    pub k_v1_access: i64,
    /// K-Series V1 refresh token idle lifetime (newer docs: 14 days).
    pub k_v1_refresh: i64,
    /// K-Series V2 access token (`expires_in`; real value unknown, Keycloak default 300).
    pub k_v2_access: i64,
    /// K-Series V2 refresh token without `offline_access` (`refresh_expires_in`).
    pub k_v2_refresh: i64,
    /// K-Series V2 refresh token with `offline_access`; 0 means no expiry, reported as `refresh_expires_in: 0`.
    pub k_v2_offline_refresh: i64,
    /// X-Series access token (changelog example: 604800).
    pub x_access: i64,
    /// X-Series refresh token lifetime (undocumented; long).
    pub x_refresh: i64,
}

impl Default for TokenLifetimes {
    fn default() -> Self {
        TokenLifetimes {
            k_v1_access: 3600,
            k_v1_refresh: 14 * 86_400,
            k_v2_access: 300,
            k_v2_refresh: 1800,
            k_v2_offline_refresh: 0,
            x_access: 604_800,
            x_refresh: 90 * 86_400,
        }
    }
}

/// Webhook delivery policy (real: 20 retries over 48 h; tests shorten the back-off).
#[derive(Debug, Clone)]
pub struct WebhookPolicy {
    pub max_attempts: u32,
    /// First retry delay in milliseconds; doubles each attempt.
    pub base_delay_ms: u64,
    /// Per-attempt timeout in milliseconds (real: 5 s).
    pub timeout_ms: u64,
}

impl Default for WebhookPolicy {
    fn default() -> Self {
        WebhookPolicy {
            max_attempts: 20,
            base_delay_ms: 30_000,
            timeout_ms: 5_000,
        }
    }
}

/// Full simulator configuration.
#[derive(Debug, Clone)]
pub struct SimConfig {
    /// Seed for all generated data; the same seed gives byte-identical data.
    pub seed: u64,
    /// Days of history before the initial clock.
    pub days: u32,
    /// Sales multiplier per location-day (1 = normal; ~40 gives 10,000+ lines on a busy day).
    pub volume: u32,
    /// Initial simulated "now"; the clock only moves through the control API.
    pub now: DateTime<Utc>,
    /// Port to bind (0 = ephemeral).
    pub port: u16,
    pub k_v1_client: OAuthClient,
    pub k_v2_client: OAuthClient,
    pub x_client: OAuthClient,
    /// The K-Series user who authorises (authorize auto-approves for this user).
    pub k_user: String,
    /// K-Series location ids the authorising user can see; `None` = every location.
    pub k_user_locations: Option<Vec<i64>>,
    /// X-Series store domain prefix (served under `/x/{domain_prefix}`).
    pub x_domain_prefix: String,
    pub lifetimes: TokenLifetimes,
    pub wire: WireVariants,
    pub webhooks: WebhookPolicy,
    /// Enforce the X-Series rate limit (300 × registers + 50 per 5 minutes).
    pub x_rate_limit: bool,
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            seed: 42,
            days: 120,
            volume: 1,
            now: Utc
                .with_ymd_and_hms(2026, 3, 2, 12, 0, 0)
                .single()
                .unwrap_or_else(Utc::now),
            port: 0,
            k_v1_client: OAuthClient {
                client_id: "devp-tillbridge-sim".into(),
                client_secret: "k-v1-secret".into(),
            },
            k_v2_client: OAuthClient {
                client_id: "devp-v2-demo-tillbridge-sim".into(),
                client_secret: "k-v2-secret".into(),
            },
            x_client: OAuthClient {
                client_id: "x-tillbridge-sim".into(),
                client_secret: "x-client-secret".into(),
            },
            k_user: "manager@coppergroup.example".into(),
            k_user_locations: None,
            x_domain_prefix: "harbourgoods".into(),
            lifetimes: TokenLifetimes::default(),
            wire: WireVariants::default(),
            webhooks: WebhookPolicy::default(),
            x_rate_limit: true,
        }
    }
}
