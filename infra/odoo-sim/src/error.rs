//! Odoo's exceptions as the simulator raises them, and their two wire forms: the JSON-RPC
//! `error.data` object and the JSON-2 error body with its HTTP status.

use serde_json::{json, Value};

/// The exception classes the simulator raises (their fully qualified Python names are what
/// clients see in `data.name` / `name`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    UserError,
    ValidationError,
    AccessError,
    AccessDenied,
    MissingError,
    /// `builtins.ValueError` (e.g. an unknown field); HTTP 500 on JSON-2.
    ValueError,
    /// `builtins.TypeError` (bad arguments over JSON-RPC); HTTP 500 on JSON-2.
    TypeError,
    /// `builtins.AttributeError` (unknown method over JSON-RPC).
    AttributeError,
    /// `psycopg2.OperationalError` (unknown database).
    OperationalError,
    /// `werkzeug.exceptions.NotFound` (JSON-2: unknown model or method).
    NotFound,
    /// `werkzeug.exceptions.UnprocessableEntity` (JSON-2: arguments that do not bind).
    Unprocessable,
    /// `werkzeug.exceptions.BadRequest` (a body that is not JSON).
    BadRequest,
    /// `werkzeug.exceptions.Unauthorized` (JSON-2: bad API key).
    Unauthorized,
}

/// One raised exception.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}: {message}", self.name())]
pub struct OdooError {
    pub kind: Kind,
    pub message: String,
}

pub type OdooResult<T> = Result<T, OdooError>;

impl OdooError {
    pub fn new(kind: Kind, message: impl Into<String>) -> Self {
        OdooError {
            kind,
            message: message.into(),
        }
    }
    pub fn user(message: impl Into<String>) -> Self {
        Self::new(Kind::UserError, message)
    }
    pub fn validation(message: impl Into<String>) -> Self {
        Self::new(Kind::ValidationError, message)
    }
    pub fn access(message: impl Into<String>) -> Self {
        Self::new(Kind::AccessError, message)
    }
    pub fn denied() -> Self {
        Self::new(Kind::AccessDenied, "Access Denied")
    }
    pub fn missing(model: &str, ids: &[i64], uid: i64) -> Self {
        let ids = ids
            .iter()
            .map(|i| format!("{i},"))
            .collect::<Vec<_>>()
            .join(" ");
        Self::new(
            Kind::MissingError,
            format!(
                "Record does not exist or has been deleted.\n(Record: {model}({ids}), User: {uid})"
            ),
        )
    }
    pub fn value(message: impl Into<String>) -> Self {
        Self::new(Kind::ValueError, message)
    }
    pub fn type_error(message: impl Into<String>) -> Self {
        Self::new(Kind::TypeError, message)
    }

    /// The fully qualified exception name.
    pub fn name(&self) -> &'static str {
        match self.kind {
            Kind::UserError => "odoo.exceptions.UserError",
            Kind::ValidationError => "odoo.exceptions.ValidationError",
            Kind::AccessError => "odoo.exceptions.AccessError",
            Kind::AccessDenied => "odoo.exceptions.AccessDenied",
            Kind::MissingError => "odoo.exceptions.MissingError",
            Kind::ValueError => "builtins.ValueError",
            Kind::TypeError => "builtins.TypeError",
            Kind::AttributeError => "builtins.AttributeError",
            Kind::OperationalError => "psycopg2.OperationalError",
            Kind::NotFound => "werkzeug.exceptions.NotFound",
            Kind::Unprocessable => "werkzeug.exceptions.UnprocessableEntity",
            Kind::BadRequest => "werkzeug.exceptions.BadRequest",
            Kind::Unauthorized => "werkzeug.exceptions.Unauthorized",
        }
    }

    /// The HTTP status of the JSON-2 answer (`odoo/exceptions.py` `http_status`, werkzeug codes,
    /// 500 for anything else).
    pub fn http_status(&self) -> u16 {
        match self.kind {
            Kind::UserError | Kind::ValidationError | Kind::Unprocessable => 422,
            Kind::AccessError | Kind::AccessDenied => 403,
            Kind::MissingError | Kind::NotFound => 404,
            Kind::BadRequest => 400,
            Kind::Unauthorized => 401,
            Kind::ValueError | Kind::TypeError | Kind::AttributeError | Kind::OperationalError => {
                500
            }
        }
    }

    fn arguments(&self) -> Value {
        match self.kind {
            Kind::NotFound | Kind::Unprocessable | Kind::BadRequest | Kind::Unauthorized => {
                json!([self.message, self.http_status()])
            }
            _ => json!([self.message]),
        }
    }

    fn debug(&self) -> String {
        if self.kind == Kind::AccessDenied {
            // AccessDenied suppresses its traceback.
            return String::new();
        }
        format!(
            "Traceback (most recent call last):\n  File \"/usr/lib/python3/dist-packages/odoo/http.py\", line 2138, in _serve_db\n    return service_model.retrying(self._serve_ir_http, self.env)\n  File \"<odoo-sim>\", line 1, in <simulated>\n{}: {}\n",
            self.name(),
            self.message
        )
    }

    /// `serialize_exception`: the JSON-RPC `error.data` and the JSON-2 error body.
    pub fn serialized(&self, context: &Value) -> Value {
        json!({
            "name": self.name(),
            "message": self.message,
            "arguments": self.arguments(),
            "context": if context.is_object() { context.clone() } else { json!({}) },
            "debug": self.debug(),
        })
    }

    /// The JSON-RPC answer carrying this error.
    pub fn jsonrpc(&self, id: &Value) -> Value {
        json!({
            "jsonrpc": "2.0",
            "id": id,
            "error": {
                "code": 200,
                "message": "Odoo Server Error",
                "data": self.serialized(&json!({})),
            }
        })
    }
}
