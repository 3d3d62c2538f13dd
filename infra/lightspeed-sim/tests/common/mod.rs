//! Shared helpers for the simulator's integration tests.
#![allow(dead_code)]

use lightspeed_sim::{RunningSimulator, SimConfig, Simulator};
use rust_decimal::Decimal;
use serde_json::Value;
use std::str::FromStr;

pub const SOHO: i64 = 45_454_565_682_155;
pub const LEEDS: i64 = 45_454_565_682_301;
pub const PONSONBY: i64 = 45_454_565_690_017;

pub async fn start(cfg: SimConfig) -> RunningSimulator {
    match Simulator::start(cfg).await {
        Ok(s) => s,
        Err(e) => panic!("simulator did not start: {e}"),
    }
}

pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

/// Issues a token through the control API.
pub async fn token(sim: &RunningSimulator, realm: &str) -> String {
    let v: Value = client()
        .post(format!("{}/_sim/tokens", sim.base_url()))
        .json(&serde_json::json!({ "realm": realm }))
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("json");
    v["access_token"].as_str().expect("token").to_string()
}

pub async fn get_json(url: &str, token: &str) -> (u16, Value) {
    let r = client()
        .get(url)
        .bearer_auth(token)
        .send()
        .await
        .expect("send");
    let status = r.status().as_u16();
    let text = r.text().await.expect("text");
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

pub fn dec(v: &Value) -> Decimal {
    Decimal::from_str(
        v.as_str()
            .unwrap_or_else(|| panic!("expected decimal string, got {v}")),
    )
    .expect("decimal")
}

/// Checks a value is a string holding a decimal with exactly `scale` places.
pub fn assert_decimal_string(v: &Value, scale: u32, what: &str) {
    let s = v
        .as_str()
        .unwrap_or_else(|| panic!("{what} must be a string, got {v}"));
    let d = Decimal::from_str(s).unwrap_or_else(|_| panic!("{what} not a decimal: {s}"));
    assert_eq!(d.scale(), scale, "{what} = {s} must have {scale} decimals");
}

/// Simple deterministic PRNG for choosing days and page sizes in tests.
pub struct TestRng(pub u64);

impl TestRng {
    pub fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n.max(1)
    }
}
