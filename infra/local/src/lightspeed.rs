//! Lightspeed for local runs: the simulator, configured with the local app's OAuth
//! clients, and the function environment that points tillbridge at it.

use lightspeed_sim::{OAuthClient, RunningSimulator, SimConfig, Simulator};
use tillbridge::lightspeed::settings::{env, KAuthVersion};

use crate::Error;

/// The local app's Lightspeed clients; the same values go into the local app secret.
pub const K_CLIENT_ID: &str = "devp-v2-demo-tillbridge-local";
pub const K_CLIENT_SECRET: &str = "local-k-series-secret";
pub const X_CLIENT_ID: &str = "x-tillbridge-local";
pub const X_CLIENT_SECRET: &str = "local-x-series-secret";

/// The `lightspeed` part of the local app secret.
pub fn app_credentials() -> serde_json::Value {
    serde_json::json!({
        "k_series": { "client_id": K_CLIENT_ID, "client_secret": K_CLIENT_SECRET },
        "x_series": { "client_id": X_CLIENT_ID, "client_secret": X_CLIENT_SECRET },
    })
}

/// A simulator configuration whose OAuth clients are the local app's (one K-Series client
/// serves both authorization servers, so V1 and V2 runs share one app secret).
pub fn sim_config() -> SimConfig {
    let k = OAuthClient {
        client_id: K_CLIENT_ID.into(),
        client_secret: K_CLIENT_SECRET.into(),
    };
    SimConfig {
        k_v1_client: k.clone(),
        k_v2_client: k,
        x_client: OAuthClient {
            client_id: X_CLIENT_ID.into(),
            client_secret: X_CLIENT_SECRET.into(),
        },
        ..SimConfig::default()
    }
}

/// [`sim_config`] with the simulator's clock at now and `days` days of history,
/// so "yesterday" and "the last 90 days" have sales.
pub fn sim_config_until_today(days: u32) -> SimConfig {
    SimConfig {
        // The tills' clock is the wall clock (to the second): every business day the
        // functions see as closed is closed for the simulated tills too, so no day is
        // transferred while its sales are still coming in.
        now: chrono::DateTime::from_timestamp(chrono::Utc::now().timestamp(), 0)
            .unwrap_or_else(chrono::Utc::now),
        days,
        ..sim_config()
    }
}

pub async fn start_simulator(config: SimConfig) -> Result<RunningSimulator, Error> {
    Ok(Simulator::start(config).await?)
}

/// Function environment pointing every Lightspeed host at the simulator.
pub fn host_env(sim: &RunningSimulator, auth: KAuthVersion) -> Vec<(String, String)> {
    let version = match auth {
        KAuthVersion::V1 => "v1",
        KAuthVersion::V2 => "v2",
    };
    vec![
        (env::K_AUTH_VERSION.into(), version.into()),
        (env::K_API_BASE.into(), sim.base_url().to_string()),
        (
            env::K_V2_AUTH_BASE.into(),
            format!("{}/protocol/openid-connect", sim.k_v2_realm_url()),
        ),
        (env::X_CONNECT_URL.into(), sim.x_connect_url()),
        (
            env::X_API_BASE.into(),
            format!("{}/x/{{domain_prefix}}", sim.base_url()),
        ),
    ]
}
