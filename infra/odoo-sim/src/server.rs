//! The HTTP server: `/jsonrpc`, `/json/2/<model>/<method>`, `/web/login`, `/web/version`
//! and the control API, and the in-process start.

use crate::config::{OdooConfig, OdooVersion};
use crate::error::{Kind, OdooError, OdooResult};
use crate::orm::{self, BalancingMode, Env, MethodSpec, Params, Unresolved};
use crate::store::{default_scenario, Credentials, Db};
use crate::traps::{decide, CallRecord, Decision, Delay, FaultRule, Rng};
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, post};
use axum::Router;
use chrono::NaiveDate;
use serde_json::{json, Map, Value};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use tokio::sync::oneshot;

/// Failure to start the simulator.
#[derive(Debug, thiserror::Error)]
pub enum OdooSimError {
    #[error("could not bind: {0}")]
    Bind(#[from] std::io::Error),
}

/// Everything behind the one mutex: the database and the traps.
#[derive(Debug)]
pub struct Shared {
    pub db: Db,
    pub balancing: BalancingMode,
    pub faults: Vec<FaultRule>,
    pub delay: Option<Delay>,
    pub rng: Rng,
    pub calls: Vec<CallRecord>,
    pub call_seq: u64,
}

impl Shared {
    pub fn new(cfg: &OdooConfig) -> Shared {
        Shared {
            db: default_scenario(&credentials(cfg)),
            balancing: BalancingMode::Off,
            faults: Vec::new(),
            delay: None,
            rng: Rng::new(cfg.seed),
            calls: Vec::new(),
            call_seq: 0,
        }
    }

    fn log(
        &mut self,
        transport: &'static str,
        model: &str,
        method: &str,
        outcome: String,
        status: u16,
    ) {
        self.call_seq += 1;
        self.calls.push(CallRecord {
            seq: self.call_seq,
            transport,
            model: model.to_string(),
            method: method.to_string(),
            outcome,
            status,
        });
    }
}

pub fn credentials(cfg: &OdooConfig) -> Credentials {
    Credentials {
        db: cfg.db.clone(),
        login: cfg.login.clone(),
        password: cfg.password.clone(),
        api_key: cfg.api_key.clone(),
    }
}

/// State shared by the handlers.
#[derive(Debug)]
pub struct AppState {
    pub cfg: OdooConfig,
    pub shared: Mutex<Shared>,
    pub base_url: std::sync::OnceLock<String>,
}

impl AppState {
    pub fn new(cfg: OdooConfig) -> AppState {
        AppState {
            shared: Mutex::new(Shared::new(&cfg)),
            cfg,
            base_url: std::sync::OnceLock::new(),
        }
    }

    /// Locks the state (poisoning is ignored).
    pub fn lock(&self) -> MutexGuard<'_, Shared> {
        match self.shared.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        }
    }

    pub fn today(&self) -> NaiveDate {
        self.cfg
            .today
            .unwrap_or_else(|| chrono::Utc::now().date_naive())
    }

    fn delay_for(&self, model: &str, method: &str) -> u64 {
        let g = self.lock();
        match &g.delay {
            Some(d)
                if d.model.as_deref().is_none_or(|m| m == model)
                    && d.method.as_deref().is_none_or(|m| m == method) =>
            {
                d.ms
            }
            _ => 0,
        }
    }
}

pub fn json_response(status: u16, body: &Value) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (
        status,
        [(header::CONTENT_TYPE, "application/json; charset=utf-8")],
        body.to_string(),
    )
        .into_response()
}

/// What nginx in front of Odoo answers when Odoo is down or timed out.
fn gateway_error(status: u16) -> Response {
    let code = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_GATEWAY);
    let title = format!(
        "{} {}",
        code.as_u16(),
        code.canonical_reason().unwrap_or("Server Error")
    );
    (
        code,
        [(header::CONTENT_TYPE, "text/html")],
        format!("<html>\r\n<head><title>{title}</title></head>\r\n<body>\r\n<center><h1>{title}</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"),
    )
        .into_response()
}

pub fn router(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/jsonrpc", post(jsonrpc))
        .route("/json/2/{model}/{method}", any(json2))
        .route("/json/2", any(json2_not_found))
        .route("/web/login", get(web_login))
        .route("/web/version", get(web_version))
        .merge(crate::control::router())
        .fallback(fallback)
        .with_state(state)
}

/// Other `/json/2/...` paths get JSON-2's own 404; anything else a plain 404.
async fn fallback(State(s): State<Arc<AppState>>, uri: axum::http::Uri) -> Response {
    if uri.path().starts_with("/json/2/") {
        return json2_not_found(State(s)).await;
    }
    (StatusCode::NOT_FOUND, "Not Found").into_response()
}

async fn web_login() -> Response {
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        "<!DOCTYPE html>\n<html><head><title>Odoo</title></head><body><form class=\"oe_login_form\" action=\"/web/login\" method=\"post\"><input name=\"login\"/><input name=\"password\" type=\"password\"/></form></body></html>\n",
    )
        .into_response()
}

fn version_value(v: OdooVersion) -> Value {
    let major = v.major();
    json!({
        "server_version": format!("{major}.0"),
        "server_version_info": [major, 0, 0, "final", 0, ""],
        "server_serie": format!("{major}.0"),
        "protocol_version": 1,
    })
}

async fn web_version(State(s): State<Arc<AppState>>) -> Response {
    let major = s.cfg.version.major();
    json_response(
        200,
        &json!({"version_info": [major, 0, 0, "final", 0, ""], "version": format!("{major}.0")}),
    )
}

// ---------------------------------------------------------------- JSON-RPC

fn rpc_ok(id: &Value, result: Option<Value>) -> Value {
    let mut answer = json!({"jsonrpc": "2.0", "id": id});
    if let Some(r) = result {
        answer["result"] = r;
    }
    answer
}

/// Binds positional and keyword arguments to a method's named parameters (Python's rules).
fn bind(
    method: &str,
    spec: &MethodSpec,
    positional: &[Value],
    kwargs: Map<String, Value>,
) -> OdooResult<Params> {
    let mut params = Params::new();
    if positional.len() > spec.params.len() {
        return Err(OdooError::type_error(format!(
            "{method}() takes {} positional arguments but {} were given",
            spec.params.len() + 1,
            positional.len() + 1
        )));
    }
    for (name, value) in spec.params.iter().zip(positional) {
        params.insert((*name).to_string(), value.clone());
    }
    for (k, v) in kwargs {
        if !spec.params.contains(&k.as_str()) {
            return Err(OdooError::type_error(format!(
                "{method}() got an unexpected keyword argument '{k}'"
            )));
        }
        if params.contains_key(&k) {
            return Err(OdooError::type_error(format!(
                "{method}() got multiple values for argument '{k}'"
            )));
        }
        params.insert(k, v);
    }
    required(method, &params)?;
    Ok(params)
}

fn required(method: &str, params: &Params) -> OdooResult<()> {
    let needed: &[&str] = match method {
        "search" | "search_count" => &["domain"],
        "create" => &["vals_list"],
        "write" => &["vals"],
        _ => &[],
    };
    for n in needed {
        if !params.contains_key(*n) {
            return Err(OdooError::type_error(format!(
                "{method}() missing 1 required positional argument: '{n}'"
            )));
        }
    }
    Ok(())
}

fn ids_of(value: &Value) -> OdooResult<Vec<i64>> {
    match value {
        Value::Number(n) => Ok(n.as_i64().into_iter().collect()),
        Value::Array(items) => items
            .iter()
            .map(|i| {
                i.as_i64()
                    .ok_or_else(|| OdooError::value(format!("Invalid id {i}")))
            })
            .collect(),
        Value::Bool(false) | Value::Null => Ok(Vec::new()),
        other => Err(OdooError::value(format!("Invalid ids {other}"))),
    }
}

fn check_db(cfg: &OdooConfig, db: &Value) -> OdooResult<()> {
    match db.as_str() {
        Some(name) if name == cfg.db => Ok(()),
        _ => Err(OdooError::new(
            Kind::OperationalError,
            format!(
                "connection to server on socket \"/var/run/postgresql/.s.PGSQL.5432\" failed: FATAL:  database \"{}\" does not exist\n",
                db.as_str().unwrap_or_default()
            ),
        )),
    }
}

/// One `execute_kw` (or `execute`) on the locked state.
fn execute(
    s: &AppState,
    g: &mut Shared,
    args: &[Value],
    kw_form: bool,
) -> OdooResult<Option<Value>> {
    let get = |i: usize| args.get(i).cloned().unwrap_or(Value::Null);
    check_db(&s.cfg, &get(0))?;
    let uid = get(1).as_i64().unwrap_or(-1);
    let secret = get(2);
    if g.db
        .check_credentials(uid, secret.as_str().unwrap_or_default())
        .is_none()
    {
        return Err(OdooError::denied());
    }
    let model = get(3).as_str().unwrap_or_default().to_string();
    let method = get(4).as_str().unwrap_or_default().to_string();
    let spec = match orm::resolve(&model, &method) {
        Ok(spec) => spec,
        Err(Unresolved::NoModel) => {
            return Err(OdooError::user(format!("Object {model} doesn't exist")))
        }
        Err(Unresolved::Private) => {
            return Err(OdooError::access(format!(
                "Private methods (such as '{model}.{method}') cannot be called remotely."
            )))
        }
        Err(Unresolved::NoMethod) => {
            return Err(OdooError::new(
                Kind::AttributeError,
                format!("The method '{model}.{method}' does not exist"),
            ))
        }
    };
    let (positional, mut kwargs): (Vec<Value>, Map<String, Value>) = if kw_form {
        let positional = match get(5) {
            Value::Array(a) => a,
            Value::Null => Vec::new(),
            other => {
                return Err(OdooError::type_error(format!(
                    "execute_kw args must be a list, got {other}"
                )))
            }
        };
        let kwargs = match get(6) {
            Value::Object(m) => m,
            _ => Map::new(),
        };
        (positional, kwargs)
    } else {
        (
            args.get(5..).map(<[Value]>::to_vec).unwrap_or_default(),
            Map::new(),
        )
    };
    let context = kwargs.remove("context").unwrap_or(json!({}));
    let (ids, rest) = if spec.api_model {
        (Vec::new(), positional.as_slice())
    } else {
        let Some(first) = positional.first() else {
            return Err(OdooError::type_error(format!(
                "{method}() missing 1 required positional argument: 'self'"
            )));
        };
        (ids_of(first)?, positional.get(1..).unwrap_or_default())
    };
    let params = bind(&method, &spec, rest, kwargs)?;
    let env = Env::new(&g.db, uid, &context, s.today(), g.balancing)?;
    transaction(&mut g.db, |db| {
        orm::call(db, &env, &model, &method, ids, &params)
    })
}

/// Runs a call as one transaction: on error nothing it did stays.
fn transaction<T>(db: &mut Db, f: impl FnOnce(&mut Db) -> OdooResult<T>) -> OdooResult<T> {
    let backup = db.clone();
    let out = f(db);
    if out.is_err() {
        *db = backup;
    }
    out
}

fn common(s: &AppState, g: &Shared, method: &str, args: &[Value]) -> OdooResult<Option<Value>> {
    let get = |i: usize| args.get(i).cloned().unwrap_or(Value::Null);
    match method {
        "version" => Ok(Some(version_value(s.cfg.version))),
        "login" | "authenticate" => {
            check_db(&s.cfg, &get(0))?;
            let login = get(1);
            let secret = get(2);
            let uid =
                g.db.user_by_login(login.as_str().unwrap_or_default())
                    .filter(|u| {
                        let secret = secret.as_str().unwrap_or_default();
                        u.password == secret || u.api_key == secret
                    })
                    .map(|u| json!(u.id))
                    .unwrap_or(Value::Bool(false));
            Ok(Some(uid))
        }
        "about" => Ok(Some(json!("See http://openerp.com"))),
        other => Err(OdooError::new(
            Kind::AttributeError,
            format!("module 'odoo.service.common' has no attribute 'exp_{other}'"),
        )),
    }
}

async fn jsonrpc(State(s): State<Arc<AppState>>, body: Bytes) -> Response {
    let request: Value = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(e) => {
            let err = OdooError::new(Kind::BadRequest, format!("Invalid JSON data: {e}"));
            return json_response(200, &err.jsonrpc(&Value::Null));
        }
    };
    let id = request.get("id").cloned().unwrap_or(Value::Null);
    let params = request.get("params").cloned().unwrap_or(json!({}));
    let service = params["service"].as_str().unwrap_or_default().to_string();
    let method = params["method"].as_str().unwrap_or_default().to_string();
    let args: Vec<Value> = params["args"].as_array().cloned().unwrap_or_default();
    // The (model, method) pair that faults and delays are targeted by.
    let (t_model, t_method) = match (service.as_str(), method.as_str()) {
        ("object", _) => (
            args.get(3)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string(),
            args.get(4)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string(),
        ),
        _ => (service.clone(), method.clone()),
    };
    let delay = s.delay_for(&t_model, &t_method);
    if delay > 0 {
        tokio::time::sleep(Duration::from_millis(delay)).await;
    }
    let mut g = s.lock();
    let shared = &mut *g;
    let decision = decide(&mut shared.faults, &mut shared.rng, &t_model, &t_method);
    if let Decision::Fail(status) = decision {
        shared.log(
            "jsonrpc",
            &t_model,
            &t_method,
            format!("fault:{status}"),
            status,
        );
        return gateway_error(status);
    }
    let outcome = match service.as_str() {
        "common" => common(&s, shared, &method, &args),
        "object" => match method.as_str() {
            "execute_kw" => execute(&s, shared, &args, true),
            "execute" => execute(&s, shared, &args, false),
            other => Err(OdooError::new(
                Kind::AttributeError,
                format!("module 'odoo.service.model' has no attribute 'exp_{other}'"),
            )),
        },
        "db" => match method.as_str() {
            "list" => Ok(Some(json!([s.cfg.db]))),
            "server_version" => Ok(Some(json!(format!("{}.0", s.cfg.version.major())))),
            other => Err(OdooError::access(format!("db.{other} is not simulated"))),
        },
        other => Err(OdooError::new(
            Kind::ValueError,
            format!("No such service: {other}"),
        )),
    };
    let (answer, label) = match outcome {
        Ok(result) => (rpc_ok(&id, result), "ok".to_string()),
        Err(e) => (e.jsonrpc(&id), format!("error:{}", e.name())),
    };
    if let Decision::CommitThenFail(status) = decision {
        shared.log(
            "jsonrpc",
            &t_model,
            &t_method,
            format!("commit_then_fail:{status}"),
            status,
        );
        return gateway_error(status);
    }
    shared.log("jsonrpc", &t_model, &t_method, label, 200);
    json_response(200, &answer)
}

// ---------------------------------------------------------------- JSON-2

fn json2_error(err: &OdooError, context: &Value) -> Response {
    json_response(err.http_status(), &err.serialized(context))
}

async fn json2_not_found(State(s): State<Arc<AppState>>) -> Response {
    if s.cfg.version == OdooVersion::V18 {
        return see_login();
    }
    json2_error(
        &OdooError::new(
            Kind::NotFound,
            "Did you mean POST /json/2/<model>/<method>?",
        ),
        &json!({}),
    )
}

fn see_login() -> Response {
    let mut r = (StatusCode::SEE_OTHER, "").into_response();
    r.headers_mut()
        .insert(header::LOCATION, HeaderValue::from_static("/web/login"));
    r
}

fn bearer(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, key) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| key.trim().to_string())
}

async fn json2(
    State(s): State<Arc<AppState>>,
    Path((model, method)): Path<(String, String)>,
    http_method: Method,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if s.cfg.version == OdooVersion::V18 {
        // Odoo 18 has no JSON-2: `/json/...` is the web client's JSON view, behind a login.
        return see_login();
    }
    if http_method != Method::POST {
        return json2_not_found(State(s)).await;
    }
    let delay = s.delay_for(&model, &method);
    if delay > 0 {
        tokio::time::sleep(Duration::from_millis(delay)).await;
    }
    let mut g = s.lock();
    let shared = &mut *g;
    let decision = decide(&mut shared.faults, &mut shared.rng, &model, &method);
    if let Decision::Fail(status) = decision {
        shared.log("json2", &model, &method, format!("fault:{status}"), status);
        return gateway_error(status);
    }
    let (status, answer) = match json2_call(&s, shared, &model, &method, &headers, &body) {
        Ok(result) => (200, result.unwrap_or(Value::Null)),
        Err((err, context)) => (err.http_status(), err.serialized(&context)),
    };
    if let Decision::CommitThenFail(fail) = decision {
        shared.log(
            "json2",
            &model,
            &method,
            format!("commit_then_fail:{fail}"),
            fail,
        );
        return gateway_error(fail);
    }
    let label = if status == 200 {
        "ok".to_string()
    } else {
        format!("error:{}", answer["name"].as_str().unwrap_or_default())
    };
    shared.log("json2", &model, &method, label, status);
    json_response(status, &answer)
}

fn json2_call(
    s: &AppState,
    g: &mut Shared,
    model: &str,
    method: &str,
    headers: &HeaderMap,
    body: &Bytes,
) -> Result<Option<Value>, (OdooError, Value)> {
    let no_ctx = |e: OdooError| (e, json!({}));
    if let Some(db) = headers.get("x-odoo-database").and_then(|v| v.to_str().ok()) {
        if db != s.cfg.db {
            return Err(no_ctx(OdooError::new(
                Kind::NotFound,
                format!("database {db:?} not found"),
            )));
        }
    }
    let uid = bearer(headers)
        .and_then(|key| g.db.user_by_api_key(&key).map(|u| u.id))
        .ok_or_else(|| no_ctx(OdooError::new(Kind::Unauthorized, "Invalid apikey")))?;
    let mut named: Map<String, Value> = if body.is_empty() {
        Map::new()
    } else {
        match serde_json::from_slice::<Value>(body) {
            Ok(Value::Object(m)) => m,
            Ok(Value::Null) => Map::new(),
            Ok(_) => {
                return Err(no_ctx(OdooError::new(
                    Kind::BadRequest,
                    "could not parse the body as json: expected an object",
                )))
            }
            Err(e) => {
                return Err(no_ctx(OdooError::new(
                    Kind::BadRequest,
                    format!("could not parse the body as json: {e}"),
                )))
            }
        }
    };
    let context = named.remove("context").unwrap_or(json!({}));
    let ids = named.remove("ids").unwrap_or(json!([]));
    let spec = match orm::resolve(model, method) {
        Ok(spec) => spec,
        Err(Unresolved::NoModel) => {
            return Err(no_ctx(OdooError::new(
                Kind::NotFound,
                format!("the model '{model}' does not exist"),
            )))
        }
        Err(Unresolved::Private) => {
            return Err(no_ctx(OdooError::access(format!(
                "Private methods (such as '{model}.{method}') cannot be called remotely."
            ))))
        }
        Err(Unresolved::NoMethod) => {
            return Err(no_ctx(OdooError::new(
                Kind::NotFound,
                format!("The method '{model}.{method}' does not exist"),
            )))
        }
    };
    let ids = ids_of(&ids).map_err(|e| (e, context.clone()))?;
    if spec.api_model && !ids.is_empty() {
        return Err((
            OdooError::new(
                Kind::Unprocessable,
                format!("cannot call {model}.{method} with ids"),
            ),
            context,
        ));
    }
    let params = bind(method, &spec, &[], named).map_err(|e| {
        // inspect.signature.bind raises TypeError, which the controller turns into a 422.
        let message = e.message.replace(&format!("{method}() "), "").replace(
            "missing 1 required positional argument",
            "missing a required argument",
        );
        (
            OdooError::new(Kind::Unprocessable, message),
            context.clone(),
        )
    })?;
    let env =
        Env::new(&g.db, uid, &context, s.today(), g.balancing).map_err(|e| (e, context.clone()))?;
    transaction(&mut g.db, |db| {
        orm::call(db, &env, model, method, ids, &params)
    })
    .map_err(|e| (e, context))
}

// ---------------------------------------------------------------- start

/// The simulator entry point's handle: a server on 127.0.0.1; dropping it stops the server.
pub struct RunningOdoo {
    base_url: String,
    state: Arc<AppState>,
    shutdown: Option<oneshot::Sender<()>>,
    handle: Option<tokio::task::JoinHandle<()>>,
}

impl RunningOdoo {
    /// Binds 127.0.0.1 (ephemeral port unless `cfg.port` is set), seeds the default scenario
    /// and serves in the background.
    pub async fn start(cfg: OdooConfig) -> Result<RunningOdoo, OdooSimError> {
        let port = cfg.port;
        let state = Arc::new(AppState::new(cfg));
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
        tracing::info!(%base_url, "odoo simulator listening");
        Ok(RunningOdoo {
            base_url,
            state,
            shutdown: Some(tx),
            handle: Some(handle),
        })
    }

    /// `http://127.0.0.1:PORT`: `/jsonrpc`, `/json/2/...`, `/_sim/odoo/...`.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }
    pub fn jsonrpc_url(&self) -> String {
        format!("{}/jsonrpc", self.base_url)
    }
    pub fn json2_url(&self, model: &str, method: &str) -> String {
        format!("{}/json/2/{model}/{method}", self.base_url)
    }
    pub fn db(&self) -> &str {
        &self.state.cfg.db
    }
    pub fn login(&self) -> &str {
        &self.state.cfg.login
    }
    pub fn password(&self) -> &str {
        &self.state.cfg.password
    }
    pub fn api_key(&self) -> &str {
        &self.state.cfg.api_key
    }
    /// The API user's id (`authenticate` answers it).
    pub fn uid(&self) -> i64 {
        2
    }
    pub fn version(&self) -> OdooVersion {
        self.state.cfg.version
    }
    pub fn state(&self) -> &Arc<AppState> {
        &self.state
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

impl Drop for RunningOdoo {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}
