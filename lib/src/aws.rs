//! Builds the AWS SDK clients once per execution environment, honouring the local
//! endpoint overrides of [`Config`].
//!
//! The clients are configured directly rather than through `aws_config::defaults().load()`:
//! in Lambda the credentials and the region are always in the environment (`AWS_ACCESS_KEY_ID`,
//! `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`, `AWS_REGION`), and the loader's default chain
//! (profile files, SSO, STS web identity, ECS, IMDS) is code every function binary would carry
//! and never run. Each service config's defaults (retry, timeouts, sleep, identity cache) are
//! the SDK's own, from the behaviour version.

use aws_config::environment::EnvironmentVariableCredentialsProvider;
use aws_sdk_dynamodb::config::{BehaviorVersion, Credentials, Region, SharedCredentialsProvider};

use crate::config::Config;

pub mod http_client;

pub struct AwsClients {
    pub dynamodb: aws_sdk_dynamodb::Client,
    pub sqs: aws_sdk_sqs::Client,
    pub secrets: aws_sdk_secretsmanager::Client,
}

/// Region for a local run that names none: DynamoDB Local and moto accept any.
const LOCAL_REGION: &str = "us-east-1";

/// The clients, sending through `http` (the functions' reqwest client, see [`http_client`]).
pub fn clients(config: &Config, http: reqwest::Client) -> AwsClients {
    let https = http_client::ReqwestHttpClient::new(http);
    let local = config.endpoints.is_local();
    let credentials = if local {
        // DynamoDB Local and moto accept any credentials; never pick up real ones.
        SharedCredentialsProvider::new(Credentials::new(
            "local",
            "local",
            None,
            None,
            "tillbridge-local",
        ))
    } else {
        SharedCredentialsProvider::new(EnvironmentVariableCredentialsProvider::new())
    };
    let region = match &config.region {
        Some(region) => Some(Region::new(region.clone())),
        None if local => Some(Region::new(LOCAL_REGION)),
        None => None,
    };

    // The `set_*` setters take `Option`s (and `&mut self`), so an unset region or endpoint
    // stays the SDK's default.
    let mut dynamodb = aws_sdk_dynamodb::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .http_client(https.clone())
        .credentials_provider(credentials.clone());
    dynamodb
        .set_region(region.clone())
        .set_endpoint_url(config.endpoints.dynamodb.clone());
    let mut sqs = aws_sdk_sqs::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .http_client(https.clone())
        .credentials_provider(credentials.clone());
    sqs.set_region(region.clone())
        .set_endpoint_url(config.endpoints.sqs.clone());
    let mut secrets = aws_sdk_secretsmanager::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .http_client(https)
        .credentials_provider(credentials);
    secrets
        .set_region(region)
        .set_endpoint_url(config.endpoints.secrets.clone());
    AwsClients {
        dynamodb: aws_sdk_dynamodb::Client::from_conf(dynamodb.build()),
        sqs: aws_sdk_sqs::Client::from_conf(sqs.build()),
        secrets: aws_sdk_secretsmanager::Client::from_conf(secrets.build()),
    }
}
