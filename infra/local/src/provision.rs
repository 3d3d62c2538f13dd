//! Creates the table, queues and secrets of `template.yaml` in DynamoDB Local and moto.
//! Idempotent: existing resources are kept, so a running stack can be provisioned again.

use std::collections::{BTreeMap, HashMap};

use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection,
    ProjectionType, ScalarAttributeType, TimeToLiveSpecification,
};
use aws_sdk_sqs::types::QueueAttributeName;
use tillbridge::config::{env, Config};

use crate::template::{LocalTemplate, Resolver};
use crate::{Error, LOCAL_STACK_NAME};

/// Parameter values the local stack uses instead of the template defaults, as a deploy
/// would with `--parameter-overrides`: short visibility and few receives so retries and
/// dead-lettering happen in seconds, not minutes.
pub const LOCAL_PARAMETER_OVERRIDES: [(&str, &str); 3] = [
    ("QueueVisibilityTimeout", "5"),
    ("MaxReceiveCount", "3"),
    // Seconds instead of 30/60/120 so the retry path runs in tests.
    ("TransferRetryDelays", "1,2,3"),
];

pub const LOCAL_REGION: &str = "us-east-1";
pub const LOCAL_ACCOUNT: &str = "123456789012";

#[derive(Debug, Clone)]
pub struct QueueInfo {
    pub name: String,
    pub url: String,
    pub arn: String,
}

/// Endpoints of the running emulators.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoints {
    pub dynamodb: String,
    pub moto: String,
}

#[derive(Debug, Clone)]
pub struct Resources {
    pub endpoints: Endpoints,
    pub table_name: String,
    pub queues: BTreeMap<String, QueueInfo>,
    pub resolver: Resolver,
}

pub struct Clients {
    pub dynamodb: aws_sdk_dynamodb::Client,
    pub sqs: aws_sdk_sqs::Client,
    pub secrets: aws_sdk_secretsmanager::Client,
}

impl Clients {
    pub async fn new(endpoints: &Endpoints) -> Self {
        let config = Config {
            table_name: String::new(),
            queues: tillbridge::config::QueueUrls {
                transfer: String::new(),
                migration: String::new(),
                sales_events: String::new(),
                journal: String::new(),
            },
            dead_letters: Default::default(),
            secret_prefix: String::new(),
            app_secret_id: String::new(),
            region: Some(LOCAL_REGION.into()),
            endpoints: tillbridge::config::Endpoints {
                dynamodb: Some(endpoints.dynamodb.clone()),
                sqs: Some(endpoints.moto.clone()),
                secrets: Some(endpoints.moto.clone()),
            },
            lightspeed: tillbridge::lightspeed::LightspeedSettings::from_vars(&HashMap::new()),
            transfer: Default::default(),
            fanout: Default::default(),
            migration: Default::default(),
        };
        // The local endpoints are plain HTTP on this host.
        let clients = tillbridge::aws::clients(&config, reqwest::Client::new());
        Self {
            dynamodb: clients.dynamodb,
            sqs: clients.sqs,
            secrets: clients.secrets,
        }
    }
}

fn base_resolver(template: &LocalTemplate) -> Resolver {
    let mut refs = template.parameters.clone();
    for (name, value) in LOCAL_PARAMETER_OVERRIDES {
        refs.insert(name.into(), value.into());
    }
    refs.insert("AWS::StackName".into(), LOCAL_STACK_NAME.into());
    refs.insert("AWS::Region".into(), LOCAL_REGION.into());
    refs.insert("AWS::AccountId".into(), LOCAL_ACCOUNT.into());
    refs.insert("AWS::Partition".into(), "aws".into());
    refs.insert("AWS::URLSuffix".into(), "amazonaws.com".into());
    Resolver {
        refs,
        attributes: BTreeMap::new(),
    }
}

pub async fn provision(
    template: &LocalTemplate,
    endpoints: &Endpoints,
) -> Result<Resources, Error> {
    let clients = Clients::new(endpoints).await;
    let mut resolver = base_resolver(template);

    let table_name = template.table.logical_id.clone();
    create_table(&clients.dynamodb, template, &table_name).await?;
    resolver
        .refs
        .insert(template.table.logical_id.clone(), table_name.clone());

    // Dead-letter queues first: a redrive policy needs its target's ARN.
    let mut queues = BTreeMap::new();
    let mut ordered: Vec<_> = template.queues.iter().collect();
    ordered.sort_by_key(|q| q.redrive.is_some());
    for queue in ordered {
        let mut attributes = HashMap::new();
        for (name, value) in [
            (
                QueueAttributeName::VisibilityTimeout,
                &queue.visibility_timeout,
            ),
            (QueueAttributeName::DelaySeconds, &queue.delay_seconds),
            (
                QueueAttributeName::MessageRetentionPeriod,
                &queue.retention_seconds,
            ),
        ] {
            if let Some(value) = value {
                attributes.insert(name, resolver.resolve(value)?);
            }
        }
        if let Some(redrive) = &queue.redrive {
            let dlq: &QueueInfo = queues.get(&redrive.dead_letter_queue).ok_or_else(|| {
                format!(
                    "{}: dead-letter queue {} is not a queue",
                    queue.logical_id, redrive.dead_letter_queue
                )
            })?;
            let policy = serde_json::json!({
                "deadLetterTargetArn": dlq.arn,
                "maxReceiveCount": resolver.resolve(&redrive.max_receive_count)?.parse::<u32>()?,
            });
            attributes.insert(QueueAttributeName::RedrivePolicy, policy.to_string());
        }
        let name = if queue.fifo {
            attributes.insert(QueueAttributeName::FifoQueue, "true".into());
            format!("{}.fifo", queue.logical_id)
        } else {
            queue.logical_id.clone()
        };
        let created = clients
            .sqs
            .create_queue()
            .queue_name(&name)
            .set_attributes(Some(attributes))
            .send()
            .await?;
        let url = created.queue_url.ok_or("create_queue returned no URL")?;
        let arn = clients
            .sqs
            .get_queue_attributes()
            .queue_url(&url)
            .attribute_names(QueueAttributeName::QueueArn)
            .send()
            .await?
            .attributes
            .and_then(|a| a.get(&QueueAttributeName::QueueArn).cloned())
            .ok_or("queue has no ARN")?;
        resolver.refs.insert(queue.logical_id.clone(), url.clone());
        resolver
            .attributes
            .insert(format!("{}.Arn", queue.logical_id), arn.clone());
        resolver
            .attributes
            .insert(format!("{}.QueueName", queue.logical_id), name.clone());
        queues.insert(queue.logical_id.clone(), QueueInfo { name, url, arn });
    }

    for secret in &template.secrets {
        let name = match &secret.name {
            Some(value) => resolver.resolve(value)?,
            None => format!("{LOCAL_STACK_NAME}/{}", secret.logical_id),
        };
        ensure_secret(&clients.secrets, &name).await?;
        resolver.refs.insert(secret.logical_id.clone(), name);
    }

    Ok(Resources {
        endpoints: endpoints.clone(),
        table_name,
        queues,
        resolver,
    })
}

/// Creates the template's table under `name` unless it exists (tests create private copies).
pub async fn create_table(
    client: &aws_sdk_dynamodb::Client,
    template: &LocalTemplate,
    name: &str,
) -> Result<(), Error> {
    if client
        .describe_table()
        .table_name(name)
        .send()
        .await
        .is_ok()
    {
        return Ok(());
    }
    let def = &template.table;
    let key = |hash: &str, range: &Option<String>| -> Result<Vec<KeySchemaElement>, Error> {
        let mut schema = vec![KeySchemaElement::builder()
            .attribute_name(hash)
            .key_type(KeyType::Hash)
            .build()?];
        if let Some(range) = range {
            schema.push(
                KeySchemaElement::builder()
                    .attribute_name(range)
                    .key_type(KeyType::Range)
                    .build()?,
            );
        }
        Ok(schema)
    };
    let mut request = client
        .create_table()
        .table_name(name)
        .billing_mode(BillingMode::PayPerRequest)
        .set_key_schema(Some(key(&def.hash_key, &def.range_key)?));
    for (attribute, kind) in &def.attributes {
        request = request.attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name(attribute)
                .attribute_type(ScalarAttributeType::from(kind.as_str()))
                .build()?,
        );
    }
    for index in &def.indexes {
        request = request.global_secondary_indexes(
            GlobalSecondaryIndex::builder()
                .index_name(&index.name)
                .set_key_schema(Some(key(&index.hash_key, &index.range_key)?))
                .projection(
                    Projection::builder()
                        .projection_type(ProjectionType::All)
                        .build(),
                )
                .build()?,
        );
    }
    match request.send().await {
        Ok(_) => {}
        // Another process created it between our describe and create.
        Err(err) if format!("{err:?}").contains("ResourceInUseException") => return Ok(()),
        Err(err) => return Err(format!("create table {name}: {err:?}").into()),
    }
    if let Some(attribute) = &def.ttl_attribute {
        client
            .update_time_to_live()
            .table_name(name)
            .time_to_live_specification(
                TimeToLiveSpecification::builder()
                    .attribute_name(attribute)
                    .enabled(true)
                    .build()?,
            )
            .send()
            .await?;
    }
    Ok(())
}

/// Creates the app secret as GenerateSecretString would (a random signing key) plus the
/// local Lightspeed clients; an existing secret keeps its signing key.
async fn ensure_secret(client: &aws_sdk_secretsmanager::Client, name: &str) -> Result<(), Error> {
    let existing = client
        .get_secret_value()
        .secret_id(name)
        .send()
        .await
        .ok()
        .and_then(|o| o.secret_string);
    let mut value: serde_json::Value = existing
        .as_deref()
        .and_then(|text| serde_json::from_str(text).ok())
        .unwrap_or_else(|| serde_json::json!({}));
    let wanted = crate::lightspeed::app_credentials();
    if value.get("state_signing_key").is_some() && value.get("lightspeed") == Some(&wanted) {
        return Ok(());
    }
    if value.get("state_signing_key").is_none() {
        let key =
            uuid::Uuid::new_v4().simple().to_string() + &uuid::Uuid::new_v4().simple().to_string();
        value["state_signing_key"] = serde_json::Value::String(key);
    }
    value["lightspeed"] = wanted;
    let text = value.to_string();
    if existing.is_some() {
        client
            .put_secret_value()
            .secret_id(name)
            .secret_string(text)
            .send()
            .await?;
        return Ok(());
    }
    match client
        .create_secret()
        .name(name)
        .secret_string(text)
        .send()
        .await
    {
        Ok(_) => Ok(()),
        Err(err) if format!("{err:?}").contains("ResourceExistsException") => Ok(()),
        Err(err) => Err(format!("create secret {name}: {err:?}").into()),
    }
}

impl Resources {
    /// A function's environment exactly as Lambda would see it: the template's globals and
    /// the function's own variables, resolved, plus the local endpoint overrides.
    pub fn function_env(
        &self,
        template: &LocalTemplate,
        binary: &str,
    ) -> Result<HashMap<String, String>, Error> {
        let function = template
            .function(binary)
            .ok_or_else(|| format!("no function with Binary {binary} in template.yaml"))?;
        let mut vars = HashMap::new();
        for (name, value) in template.global_env.iter().chain(function.env.iter()) {
            vars.insert(name.clone(), self.resolver.resolve(value)?);
        }
        vars.insert(
            env::DYNAMODB_ENDPOINT.into(),
            self.endpoints.dynamodb.clone(),
        );
        vars.insert(env::SQS_ENDPOINT.into(), self.endpoints.moto.clone());
        vars.insert(env::SECRETS_ENDPOINT.into(), self.endpoints.moto.clone());
        vars.insert(env::AWS_REGION.into(), LOCAL_REGION.into());
        Ok(vars)
    }

    pub fn function_config(&self, template: &LocalTemplate, binary: &str) -> Result<Config, Error> {
        Ok(Config::from_vars(self.function_env(template, binary)?)?)
    }

    pub fn queue(&self, logical_id: &str) -> Result<&QueueInfo, Error> {
        self.queues
            .get(logical_id)
            .ok_or_else(|| format!("no queue {logical_id}").into())
    }
}
