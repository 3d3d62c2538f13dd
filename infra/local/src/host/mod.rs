//! The local function host: serves the template's HTTP API routes and polls its queues,
//! invoking the real handlers in-process with API Gateway v2 and SQS events.

pub mod functions;
pub mod http;
pub mod poller;
pub mod routes;

use std::collections::HashMap;
use std::sync::Arc;

use tillbridge::Deps;
use tokio::task::JoinHandle;

use crate::provision::QueueInfo;
use crate::stack::LocalStack;
use crate::template::EventDef;
use crate::token::TokenKey;
use crate::Error;

#[derive(Debug, Clone, Default)]
pub struct HostOptions {
    /// 0 picks a free port.
    pub port: u16,
    /// Also poll the queues and run the workers.
    pub workers: bool,
    /// Environment variables set on every function on top of the template's, as a
    /// deploy's parameter overrides would (e.g. Lightspeed hosts pointing at the simulator).
    pub env: Vec<(String, String)>,
    /// Queues (by template logical id) the workers poll instead of the stack's own, so a
    /// host can keep its messages to itself (each test gets private queues).
    pub queues: HashMap<String, QueueInfo>,
}

pub struct LocalHost {
    pub base_url: String,
    key: TokenKey,
    tasks: Vec<JoinHandle<()>>,
}

/// Per-function dependencies, each built from that function's resolved environment.
pub type FunctionDeps = Arc<HashMap<String, Deps>>;

impl LocalHost {
    pub async fn start(stack: &LocalStack, options: HostOptions) -> Result<Self, Error> {
        // Bind first: the functions' OAuth redirect URI is this host's own address.
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", options.port)).await?;
        let base_url = format!("http://{}", listener.local_addr()?);
        let mut overrides = vec![(
            tillbridge::lightspeed::settings::env::OAUTH_REDIRECT_URI.to_string(),
            format!("{base_url}/oauth/callback"),
        )];
        overrides.extend(options.env.iter().cloned());
        let mut deps = HashMap::new();
        for function in &stack.template.functions {
            let mut vars = stack
                .resources
                .function_env(&stack.template, &function.binary)?;
            vars.extend(overrides.iter().cloned());
            let config = tillbridge::Config::from_vars(vars)?;
            deps.insert(function.binary.clone(), Deps::from_config(config).await);
        }
        let deps: FunctionDeps = Arc::new(deps);
        let key = TokenKey::random();
        let table = routes::RouteTable::from_template(&stack.template);
        let server = http::serve(listener, table, deps.clone(), key.clone());
        let mut tasks = vec![server];
        if options.workers {
            let clients = crate::provision::Clients::new(&stack.resources.endpoints).await;
            for function in &stack.template.functions {
                for event in &function.events {
                    if let EventDef::Sqs {
                        queue,
                        batch_size,
                        report_batch_item_failures,
                    } = event
                    {
                        let queue = match options.queues.get(queue.as_str()) {
                            Some(private) => private.clone(),
                            None => stack.resources.queue(queue)?.clone(),
                        };
                        let mapping = poller::EventSourceMapping {
                            binary: function.binary.clone(),
                            queue,
                            batch_size: *batch_size,
                            report_batch_item_failures: *report_batch_item_failures,
                        };
                        for _ in 0..poller::POLLERS_PER_MAPPING {
                            tasks.push(poller::spawn(
                                mapping.clone(),
                                clients.sqs.clone(),
                                deps.clone(),
                            ));
                        }
                    }
                }
            }
        }
        Ok(Self {
            base_url,
            key,
            tasks,
        })
    }

    /// A function's dependencies built exactly as this host builds them (same environment),
    /// for callers that act as one more instance of that function.
    pub async fn function_deps(
        stack: &LocalStack,
        host: &LocalHost,
        binary: &str,
        env: &[(String, String)],
    ) -> Result<Deps, Error> {
        let mut vars = stack.resources.function_env(&stack.template, binary)?;
        vars.insert(
            tillbridge::lightspeed::settings::env::OAUTH_REDIRECT_URI.to_string(),
            format!("{}/oauth/callback", host.base_url),
        );
        vars.extend(env.iter().cloned());
        Ok(Deps::from_config(tillbridge::Config::from_vars(vars)?).await)
    }

    /// A bearer token for the admin API, as the identity provider would issue.
    pub fn token(&self, company_id: &str) -> String {
        self.key.mint(company_id, 3600)
    }

    /// A bearer token for the operator routes (`/v1/dead-letters`).
    pub fn operator_token(&self) -> String {
        self.key.mint_operator("local-operator", 3600)
    }
}

impl Drop for LocalHost {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}
