//! Starts the single HTTP server that serves K-Series, X-Series and the control API.

use crate::clock::SimClock;
use crate::config::SimConfig;
use crate::data::retail::XStore;
use crate::data::store::KStore;
use crate::faults::Faults;
use crate::tokens::{Grant, Issued, Realm, TokenStore};
use crate::webhooks::Webhooks;
use crate::xseries::ratelimit::RateLimiter;
use axum::Router;
use std::sync::{Arc, Mutex, OnceLock};
use tokio::sync::oneshot;

/// Failure to start the simulator.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    #[error("could not bind: {0}")]
    Bind(#[from] std::io::Error),
    #[error("could not build HTTP client: {0}")]
    Client(String),
}

/// Everything the handlers share.
#[derive(Debug)]
pub struct AppState {
    pub cfg: SimConfig,
    pub clock: SimClock,
    pub k: KStore,
    pub x: Mutex<XStore>,
    pub tokens: TokenStore,
    pub faults: Faults,
    pub webhooks: Webhooks,
    pub rate: RateLimiter,
    pub base_url: OnceLock<String>,
}

impl AppState {
    /// Builds all state (data is generated lazily for K-Series, eagerly for X-Series).
    pub fn new(cfg: SimConfig) -> Result<Self, SimError> {
        let webhooks = Webhooks::new(cfg.x_client.client_secret.clone(), cfg.webhooks.clone())
            .map_err(SimError::Client)?;
        Ok(AppState {
            clock: SimClock::new(cfg.now),
            k: KStore::new(cfg.seed, cfg.volume, cfg.days, cfg.now),
            x: Mutex::new(XStore::generate(
                cfg.seed,
                &cfg.x_domain_prefix,
                cfg.days,
                cfg.now,
            )),
            tokens: TokenStore::new(cfg.seed, cfg.lifetimes.clone()),
            faults: Faults::new(cfg.seed),
            webhooks,
            rate: RateLimiter::default(),
            base_url: OnceLock::new(),
            cfg,
        })
    }

    pub fn base_url(&self) -> &str {
        self.base_url
            .get()
            .map(String::as_str)
            .unwrap_or("http://127.0.0.1")
    }

    /// Locks the X-Series store (poisoning is ignored: the data stays usable).
    pub fn x(&self) -> std::sync::MutexGuard<'_, XStore> {
        match self.x.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        }
    }

    /// Whether the authorising K-Series user can see a location.
    pub fn k_user_sees(&self, location_id: i64) -> bool {
        self.k.location_index(location_id).is_some()
            && self
                .cfg
                .k_user_locations
                .as_ref()
                .is_none_or(|v| v.contains(&location_id))
    }
}

/// The simulator entry point.
pub struct Simulator;

/// A running simulator; dropping it stops the server.
pub struct RunningSimulator {
    base_url: String,
    state: Arc<AppState>,
    shutdown: Option<oneshot::Sender<()>>,
    handle: Option<tokio::task::JoinHandle<()>>,
}

/// Builds the router for a state.
pub fn router(state: Arc<AppState>) -> Router {
    Router::new()
        .merge(crate::kseries::router())
        .merge(crate::xseries::router(state.clone()))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            crate::faults::layer,
        ))
        .merge(crate::control::router())
        .with_state(state)
}

impl Simulator {
    /// Binds 127.0.0.1 (ephemeral port unless `cfg.port` is set) and serves in the background.
    pub async fn start(cfg: SimConfig) -> Result<RunningSimulator, SimError> {
        let port = cfg.port;
        let state = Arc::new(AppState::new(cfg)?);
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
        let addr = listener.local_addr()?;
        let base_url = format!("http://{addr}");
        let _ = state.base_url.set(base_url.clone());
        let app = router(state.clone());
        let (tx, rx) = oneshot::channel::<()>();
        let handle = tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = rx.await;
                })
                .await;
        });
        tracing::info!(%base_url, "lightspeed simulator listening");
        Ok(RunningSimulator {
            base_url,
            state,
            shutdown: Some(tx),
            handle: Some(handle),
        })
    }
}

impl RunningSimulator {
    /// `http://127.0.0.1:PORT` — the K-Series API host, K-Series V1/V2 auth, and `/_sim`.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// Stand-in for `https://{domain_prefix}.retail.lightspeed.app`.
    pub fn x_base_url(&self) -> String {
        format!("{}/x/{}", self.base_url, self.state.cfg.x_domain_prefix)
    }

    /// Stand-in for `https://secure.retail.lightspeed.app/connect`.
    pub fn x_connect_url(&self) -> String {
        format!("{}/x/connect", self.base_url)
    }

    /// K-Series V2 realm base (stand-in for `https://auth.lsk-demo.app/realms/k-series`).
    pub fn k_v2_realm_url(&self) -> String {
        format!("{}/realms/k-series", self.base_url)
    }

    pub fn state(&self) -> &Arc<AppState> {
        &self.state
    }

    /// Issues a token pair without the redirect dance (for tests of other crates).
    pub fn issue_token(&self, realm: Realm, scopes: &[&str]) -> Issued {
        let cfg = &self.state.cfg;
        let client_id = match realm {
            Realm::KV1 => cfg.k_v1_client.client_id.clone(),
            Realm::KV2 => cfg.k_v2_client.client_id.clone(),
            Realm::X => cfg.x_client.client_id.clone(),
        };
        let grant = Grant {
            realm,
            client_id,
            user: cfg.k_user.clone(),
            scopes: scopes.iter().map(|s| s.to_string()).collect(),
            domain_prefix: if realm == Realm::X {
                Some(cfg.x_domain_prefix.clone())
            } else {
                None
            },
        };
        self.state.tokens.issue(grant, self.state.clock.now())
    }

    /// Stops the server and waits for it.
    pub async fn shutdown(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(h) = self.handle.take() {
            let _ = h.await;
        }
    }
}

impl Drop for RunningSimulator {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}
