//! Builds the AWS SDK clients once per execution environment, honouring the local
//! endpoint overrides of [`Config`].

use aws_config::BehaviorVersion;
use aws_smithy_http_client::tls::{rustls_provider::CryptoMode, Provider};

use crate::config::Config;

pub struct AwsClients {
    pub dynamodb: aws_sdk_dynamodb::Client,
    pub sqs: aws_sdk_sqs::Client,
    pub secrets: aws_sdk_secretsmanager::Client,
}

pub async fn clients(config: &Config) -> AwsClients {
    // The SDK clients' HTTPS client: hyper and rustls on ring, trusting the system's roots
    // (what the SDK's default client does, on aws-lc-rs). Connections open on first use.
    let https = aws_smithy_http_client::Builder::new()
        .tls_provider(Provider::Rustls(CryptoMode::Ring))
        .build_https();
    let mut loader = aws_config::defaults(BehaviorVersion::latest()).http_client(https);
    if let Some(region) = &config.region {
        loader = loader.region(aws_config::Region::new(region.clone()));
    }
    if config.endpoints.is_local() {
        // DynamoDB Local and moto accept any credentials; never pick up a real profile.
        loader = loader
            .credentials_provider(aws_sdk_dynamodb::config::Credentials::new(
                "local",
                "local",
                None,
                None,
                "tillbridge-local",
            ))
            .region(aws_config::Region::new(
                config
                    .region
                    .clone()
                    .unwrap_or_else(|| "us-east-1".to_string()),
            ));
    }
    let shared = loader.load().await;

    let mut dynamodb = aws_sdk_dynamodb::config::Builder::from(&shared);
    if let Some(url) = &config.endpoints.dynamodb {
        dynamodb = dynamodb.endpoint_url(url);
    }
    let mut sqs = aws_sdk_sqs::config::Builder::from(&shared);
    if let Some(url) = &config.endpoints.sqs {
        sqs = sqs.endpoint_url(url);
    }
    let mut secrets = aws_sdk_secretsmanager::config::Builder::from(&shared);
    if let Some(url) = &config.endpoints.secrets {
        secrets = secrets.endpoint_url(url);
    }
    AwsClients {
        dynamodb: aws_sdk_dynamodb::Client::from_conf(dynamodb.build()),
        sqs: aws_sdk_sqs::Client::from_conf(sqs.build()),
        secrets: aws_sdk_secretsmanager::Client::from_conf(secrets.build()),
    }
}
