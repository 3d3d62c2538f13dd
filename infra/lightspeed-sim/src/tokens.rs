//! OAuth state shared by the K-Series (V1, V2) and X-Series servers: authorization codes,
//! access tokens and single-use, rotating refresh tokens, all timed by the simulated clock.

use crate::config::TokenLifetimes;
use crate::rng::{mix, Rng};
use chrono::{DateTime, Duration, Utc};
use std::collections::HashMap;
use std::sync::Mutex;

/// Which authorisation server issued a token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Realm {
    KV1,
    KV2,
    X,
}

/// A granted access token.
#[derive(Debug, Clone)]
pub struct Grant {
    pub realm: Realm,
    pub client_id: String,
    pub user: String,
    pub scopes: Vec<String>,
    pub domain_prefix: Option<String>,
}

impl Grant {
    pub fn has_scope(&self, s: &str) -> bool {
        self.scopes.iter().any(|x| x == s)
    }
}

#[derive(Debug, Clone)]
struct Access {
    grant: Grant,
    expires_at: DateTime<Utc>,
}

#[derive(Debug, Clone)]
struct Refresh {
    grant: Grant,
    expires_at: Option<DateTime<Utc>>,
    used: bool,
}

#[derive(Debug, Clone)]
struct Code {
    grant: Grant,
    redirect_uri: String,
    expires_at: DateTime<Utc>,
    used: bool,
}

/// A freshly issued token pair with the lifetimes to report.
#[derive(Debug, Clone)]
pub struct Issued {
    pub access_token: String,
    pub refresh_token: String,
    pub expires_in: i64,
    /// 0 = the refresh token does not expire.
    pub refresh_expires_in: i64,
    pub expires_at: DateTime<Utc>,
    pub grant: Grant,
}

/// Why a bearer token was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccessError {
    Unknown,
    Expired,
}

/// Why a code or refresh token was refused (all map to `invalid_grant`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GrantError(pub &'static str);

#[derive(Debug)]
struct Inner {
    access: HashMap<String, Access>,
    refresh: HashMap<String, Refresh>,
    codes: HashMap<String, Code>,
    rng: Rng,
    stats: TokenStats,
}

/// How many grant requests reached the token endpoints (tests assert single-flight refresh).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TokenStats {
    pub code_exchanges: u64,
    pub refresh_requests: u64,
}

/// All OAuth state.
#[derive(Debug)]
pub struct TokenStore {
    inner: Mutex<Inner>,
    lifetimes: TokenLifetimes,
}

impl TokenStore {
    pub fn new(seed: u64, lifetimes: TokenLifetimes) -> Self {
        TokenStore {
            inner: Mutex::new(Inner {
                access: HashMap::new(),
                refresh: HashMap::new(),
                codes: HashMap::new(),
                rng: Rng::new(mix(&[seed, 0x70_6b_65_6e])),
                stats: TokenStats::default(),
            }),
            lifetimes,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        match self.inner.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        }
    }

    fn token(rng: &mut Rng, prefix: &str) -> String {
        format!(
            "{prefix}{}{}",
            hex::encode(rng.next_u64().to_be_bytes()),
            hex::encode(rng.next_u64().to_be_bytes())
        )
    }

    /// Issues a one-time authorization code (valid 10 minutes).
    pub fn issue_code(&self, grant: Grant, redirect_uri: &str, now: DateTime<Utc>) -> String {
        let mut g = self.lock();
        let code = Self::token(&mut g.rng, "code-");
        g.codes.insert(
            code.clone(),
            Code {
                grant,
                redirect_uri: redirect_uri.to_string(),
                expires_at: now + Duration::minutes(10),
                used: false,
            },
        );
        code
    }

    /// Redeems a code for a token pair.
    pub fn redeem_code(
        &self,
        code: &str,
        client_id: &str,
        redirect_uri: Option<&str>,
        realm: Realm,
        now: DateTime<Utc>,
    ) -> Result<Issued, GrantError> {
        let grant = {
            let mut g = self.lock();
            g.stats.code_exchanges += 1;
            let c = g.codes.get_mut(code).ok_or(GrantError("Code not valid"))?;
            if c.used {
                return Err(GrantError("Code already used"));
            }
            if c.expires_at < now {
                return Err(GrantError("Code expired"));
            }
            if c.grant.client_id != client_id || c.grant.realm != realm {
                return Err(GrantError("Code was issued to another client"));
            }
            if let Some(r) = redirect_uri {
                if r != c.redirect_uri {
                    return Err(GrantError("Incorrect redirect_uri"));
                }
            }
            c.used = true;
            c.grant.clone()
        };
        Ok(self.issue(grant, now))
    }

    /// Issues a fresh pair for a grant (used by redeem, refresh and the control API).
    pub fn issue(&self, grant: Grant, now: DateTime<Utc>) -> Issued {
        let lt = &self.lifetimes;
        let (access_ttl, refresh_ttl) = match grant.realm {
            Realm::KV1 => (lt.k_v1_access, lt.k_v1_refresh),
            Realm::KV2 if grant.has_scope("offline_access") => {
                (lt.k_v2_access, lt.k_v2_offline_refresh)
            }
            Realm::KV2 => (lt.k_v2_access, lt.k_v2_refresh),
            Realm::X => (lt.x_access, lt.x_refresh),
        };
        let (ap, rp) = match grant.realm {
            Realm::KV1 => ("lskv1-at-", "lskv1-rt-"),
            Realm::KV2 => ("lskv2-at-", "lskv2-rt-"),
            Realm::X => ("lsx-at-", "lsx-rt-"),
        };
        let mut g = self.lock();
        let access_token = Self::token(&mut g.rng, ap);
        let refresh_token = Self::token(&mut g.rng, rp);
        let expires_at = now + Duration::seconds(access_ttl);
        g.access.insert(
            access_token.clone(),
            Access {
                grant: grant.clone(),
                expires_at,
            },
        );
        let rexp = if refresh_ttl > 0 {
            Some(now + Duration::seconds(refresh_ttl))
        } else {
            None
        };
        g.refresh.insert(
            refresh_token.clone(),
            Refresh {
                grant: grant.clone(),
                expires_at: rexp,
                used: false,
            },
        );
        Issued {
            access_token,
            refresh_token,
            expires_in: access_ttl,
            refresh_expires_in: refresh_ttl.max(0),
            expires_at,
            grant,
        }
    }

    /// Rotates a refresh token: the old one is spent even if the caller never sees the answer.
    pub fn refresh(
        &self,
        token: &str,
        client_id: &str,
        realm: Realm,
        now: DateTime<Utc>,
    ) -> Result<Issued, GrantError> {
        let grant = {
            let mut g = self.lock();
            g.stats.refresh_requests += 1;
            let r = g
                .refresh
                .get_mut(token)
                .ok_or(GrantError("Invalid refresh token"))?;
            if r.grant.realm != realm || r.grant.client_id != client_id {
                return Err(GrantError("Token is not active"));
            }
            if r.used {
                return Err(GrantError("Token is not active"));
            }
            if r.expires_at.is_some_and(|e| e < now) {
                return Err(GrantError("Token is not active"));
            }
            r.used = true;
            r.grant.clone()
        };
        Ok(self.issue(grant, now))
    }

    /// Checks a bearer token.
    pub fn check(&self, token: &str, now: DateTime<Utc>) -> Result<Grant, AccessError> {
        let g = self.lock();
        let a = g.access.get(token).ok_or(AccessError::Unknown)?;
        if a.expires_at <= now {
            return Err(AccessError::Expired);
        }
        Ok(a.grant.clone())
    }

    /// Grant requests seen so far.
    pub fn stats(&self) -> TokenStats {
        self.lock().stats
    }

    /// Revokes every token (simulates a merchant disconnecting the app).
    pub fn revoke_all(&self) {
        let mut g = self.lock();
        g.access.clear();
        g.refresh.clear();
    }
}
