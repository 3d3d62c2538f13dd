pub mod alerts;
pub mod catalog;
pub mod integrations;
pub mod items;
pub mod locations;
pub mod receipts;
pub mod recipes;
pub mod transfer_logs;

use lambda_http::{Request, RequestExt};

/// A query-string value, if present.
pub fn query_param(request: &Request, name: &str) -> Option<String> {
    request
        .query_string_parameters_ref()
        .and_then(|q| q.first(name))
        .map(str::to_string)
}
