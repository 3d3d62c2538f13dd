//! The AWS SDK clients' HTTP client: the functions' own `reqwest` client (rustls on ring,
//! HTTP/1.1), so a function binary carries one HTTP client stack, not two. The SDK's
//! hyper-based client brings HTTP/2 and a second connection pool with its own TLS setup:
//! about 0.3 MB of every function, for DynamoDB, SQS and Secrets Manager requests that
//! HTTP/1.1 serves as well.
//!
//! Every request these services take has its body in memory, and every answer is read
//! whole (a DynamoDB page is at most 1 MB), so bodies are plain bytes both ways.

use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::{HttpRequest, HttpResponse};
use aws_smithy_runtime_api::client::result::ConnectorError;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::body::SdkBody;

/// Sends the SDK's requests through a `reqwest::Client`.
#[derive(Debug, Clone)]
pub struct ReqwestHttpClient {
    http: reqwest::Client,
}

impl ReqwestHttpClient {
    pub fn new(http: reqwest::Client) -> Self {
        Self { http }
    }
}

impl HttpClient for ReqwestHttpClient {
    fn http_connector(
        &self,
        settings: &HttpConnectorSettings,
        _components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        SharedHttpConnector::new(ReqwestConnector {
            http: self.http.clone(),
            // The connect timeout is the reqwest client's own (set where it is built).
            read_timeout: settings.read_timeout(),
        })
    }
}

#[derive(Debug)]
struct ReqwestConnector {
    http: reqwest::Client,
    read_timeout: Option<std::time::Duration>,
}

impl HttpConnector for ReqwestConnector {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let http = self.http.clone();
        let read_timeout = self.read_timeout;
        HttpConnectorFuture::new(async move {
            let request = to_reqwest(request)?;
            let sent = http.execute(request);
            let response = match read_timeout {
                Some(limit) => match tokio::time::timeout(limit, sent).await {
                    Ok(response) => response,
                    Err(elapsed) => return Err(ConnectorError::timeout(elapsed.into())),
                },
                None => sent.await,
            }
            .map_err(connector_error)?;
            from_reqwest(response).await
        })
    }
}

/// The SDK's request as reqwest's: same method, URI, headers and body bytes.
fn to_reqwest(request: HttpRequest) -> Result<reqwest::Request, ConnectorError> {
    let request = request
        .try_into_http1x()
        .map_err(|err| ConnectorError::user(err.into()))?;
    let (parts, body) = request.into_parts();
    let Some(bytes) = body.bytes() else {
        return Err(ConnectorError::user(
            "a streaming request body; the SDK clients here only send bodies held in memory".into(),
        ));
    };
    let request = http::Request::from_parts(parts, bytes::Bytes::copy_from_slice(bytes));
    reqwest::Request::try_from(request).map_err(|err| ConnectorError::user(err.into()))
}

/// reqwest's answer, read whole, as the SDK's.
async fn from_reqwest(response: reqwest::Response) -> Result<HttpResponse, ConnectorError> {
    let status = response.status();
    let headers = response.headers().clone();
    let body = response.bytes().await.map_err(connector_error)?;
    let mut answer = http::Response::new(SdkBody::from(body));
    *answer.status_mut() = status;
    *answer.headers_mut() = headers;
    HttpResponse::try_from(answer).map_err(|err| ConnectorError::other(err.into(), None))
}

/// Timeouts and connection failures are transient (the SDK retries them); the rest not.
fn connector_error(err: reqwest::Error) -> ConnectorError {
    if err.is_timeout() {
        ConnectorError::timeout(err.into())
    } else if err.is_connect() || err.is_request() || err.is_body() {
        ConnectorError::io(err.into())
    } else {
        ConnectorError::other(err.into(), None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_smithy_runtime_api::client::result::ConnectorError;

    fn request(body: SdkBody) -> HttpRequest {
        let request = http::Request::builder()
            .method("POST")
            .uri("http://localhost:8000/")
            .header("x-amz-target", "DynamoDB_20120810.GetItem")
            .body(body)
            .expect("request");
        HttpRequest::try_from(request).expect("an SDK request")
    }

    #[test]
    fn a_request_keeps_its_method_uri_headers_and_body() {
        let converted = to_reqwest(request(SdkBody::from("{\"TableName\":\"t\"}"))).expect("sent");
        assert_eq!(converted.method(), reqwest::Method::POST);
        assert_eq!(converted.url().as_str(), "http://localhost:8000/");
        assert_eq!(
            converted.headers()["x-amz-target"],
            "DynamoDB_20120810.GetItem"
        );
        let body = converted.body().and_then(reqwest::Body::as_bytes);
        assert_eq!(body, Some(&b"{\"TableName\":\"t\"}"[..]));
    }

    #[test]
    fn a_streaming_body_is_refused_as_the_callers_error() {
        // A body already handed on (as a stream would be) has no bytes to copy.
        let refused: Result<reqwest::Request, ConnectorError> =
            to_reqwest(request(SdkBody::taken()));
        let err = refused.expect_err("a streaming body was sent");
        assert!(err.is_user(), "{err:?}");
    }
}
