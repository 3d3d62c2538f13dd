//! A small admin API client over real HTTP, used by the demo and the end-to-end tests.

use reqwest::Method;
use serde_json::Value;

use crate::Error;

pub struct AdminClient {
    http: reqwest::Client,
    base: String,
    token: Option<String>,
}

/// Status and parsed JSON body (`Value::Null` when the body is not JSON).
pub type Reply = (u16, Value);

impl AdminClient {
    pub fn new(base: &str, token: impl Into<Option<String>>) -> Self {
        Self {
            http: reqwest::Client::new(),
            base: base.trim_end_matches('/').to_string(),
            token: token.into(),
        }
    }

    /// Any request: `body` is (content type, raw bytes) so tests can send broken input.
    pub async fn request(
        &self,
        method: Method,
        path: &str,
        body: Option<(&str, Vec<u8>)>,
        headers: &[(&str, &str)],
    ) -> Result<Reply, Error> {
        let mut request = self.http.request(method, format!("{}{path}", self.base));
        if let Some(token) = &self.token {
            request = request.bearer_auth(token);
        }
        if let Some((content_type, bytes)) = body {
            request = request.header("content-type", content_type).body(bytes);
        }
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let response = request.send().await?;
        let status = response.status().as_u16();
        let bytes = response.bytes().await?;
        Ok((
            status,
            serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        ))
    }

    pub async fn post(
        &self,
        path: &str,
        body: &Value,
        idempotency_key: Option<&str>,
    ) -> Result<Reply, Error> {
        let headers: Vec<(&str, &str)> = idempotency_key
            .map(|k| ("idempotency-key", k))
            .into_iter()
            .collect();
        self.request(
            Method::POST,
            path,
            Some(("application/json", body.to_string().into_bytes())),
            &headers,
        )
        .await
    }

    pub async fn put(&self, path: &str, body: &Value) -> Result<Reply, Error> {
        self.request(
            Method::PUT,
            path,
            Some(("application/json", body.to_string().into_bytes())),
            &[],
        )
        .await
    }

    pub async fn patch(&self, path: &str, body: &Value) -> Result<Reply, Error> {
        self.request(
            Method::PATCH,
            path,
            Some(("application/json", body.to_string().into_bytes())),
            &[],
        )
        .await
    }

    pub async fn get(&self, path: &str) -> Result<Reply, Error> {
        self.request(Method::GET, path, None, &[]).await
    }

    /// Follows `next_cursor` to the end of a list; returns the items and the page count.
    pub async fn list_all(&self, path: &str, limit: u32) -> Result<(Vec<Value>, usize), Error> {
        let mut items = Vec::new();
        let mut pages = 0;
        let mut cursor: Option<String> = None;
        let sep = if path.contains('?') { '&' } else { '?' };
        loop {
            let url = match &cursor {
                Some(c) => format!("{path}{sep}limit={limit}&cursor={c}"),
                None => format!("{path}{sep}limit={limit}"),
            };
            let (status, body) = self.get(&url).await?;
            if status != 200 {
                return Err(format!("GET {url} → {status}: {body}").into());
            }
            pages += 1;
            items.extend(body["items"].as_array().cloned().unwrap_or_default());
            match body["next_cursor"].as_str() {
                Some(next) => cursor = Some(next.to_string()),
                None => return Ok((items, pages)),
            }
        }
    }
}
