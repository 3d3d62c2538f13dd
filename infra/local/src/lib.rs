//! The local stack: the AWS-compatible services as plain processes (DynamoDB Local, moto),
//! resources provisioned from `template.yaml`, and a function host that serves the HTTP
//! functions and feeds the queue workers with real SQS events.

pub mod admin_client;
pub mod demo;
pub mod host;
pub mod lightspeed;
pub mod mapping_file;
pub mod paths;
pub mod processes;
pub mod provision;
pub mod stack;
pub mod template;
pub mod token;

pub use host::{HostOptions, LocalHost};
pub use stack::{ensure_up, LocalStack};

/// Stack name used for `${AWS::StackName}` locally.
pub const LOCAL_STACK_NAME: &str = "tillbridge-local";

/// Boxed error for the local tooling, which reports and exits rather than recovers.
pub type Error = Box<dyn std::error::Error + Send + Sync>;
