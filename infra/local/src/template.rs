//! Reads `template.yaml`, the one source of truth, into what the local stack needs: the
//! table, the queues and their redrive, the secrets, and each function's binary, events
//! and environment. CloudFormation intrinsics are resolved against local resources.

use std::collections::BTreeMap;
use std::path::Path;

use serde_norway::Value;

use crate::Error;

#[derive(Debug, Clone)]
pub struct LocalTemplate {
    pub parameters: BTreeMap<String, String>,
    pub table: TableDef,
    pub queues: Vec<QueueDef>,
    pub secrets: Vec<SecretDef>,
    pub functions: Vec<FunctionDef>,
    /// `Globals.Function.Environment.Variables`, unresolved.
    pub global_env: BTreeMap<String, Value>,
}

#[derive(Debug, Clone)]
pub struct TableDef {
    pub logical_id: String,
    pub attributes: Vec<(String, String)>,
    pub hash_key: String,
    pub range_key: Option<String>,
    pub indexes: Vec<IndexDef>,
    pub ttl_attribute: Option<String>,
}

#[derive(Debug, Clone)]
pub struct IndexDef {
    pub name: String,
    pub hash_key: String,
    pub range_key: Option<String>,
}

#[derive(Debug, Clone)]
pub struct QueueDef {
    pub logical_id: String,
    pub visibility_timeout: Option<Value>,
    pub delay_seconds: Option<Value>,
    pub retention_seconds: Option<Value>,
    pub redrive: Option<Redrive>,
    /// `FifoQueue: true`: the queue's name must end in `.fifo`.
    pub fifo: bool,
}

#[derive(Debug, Clone)]
pub struct Redrive {
    pub dead_letter_queue: String,
    pub max_receive_count: Value,
}

#[derive(Debug, Clone)]
pub struct SecretDef {
    pub logical_id: String,
    pub name: Option<Value>,
}

#[derive(Debug, Clone)]
pub struct FunctionDef {
    pub logical_id: String,
    /// `Metadata.BuildProperties.Binary`: the workspace binary that is this function.
    pub binary: String,
    pub events: Vec<EventDef>,
    pub env: BTreeMap<String, Value>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EventDef {
    Http {
        path: String,
        method: String,
        authorized: bool,
    },
    Sqs {
        queue: String,
        batch_size: u32,
        report_batch_item_failures: bool,
    },
    Schedule {
        expression: String,
    },
}

fn get<'a>(value: &'a Value, key: &str) -> Option<&'a Value> {
    value.as_mapping().and_then(|m| m.get(key))
}

fn text(value: Option<&Value>) -> Option<String> {
    match value? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// The target of `!GetAtt X.Arn` / `{"Fn::GetAtt": [X, "Arn"]}`: the logical id X.
pub fn get_att_target(value: &Value) -> Option<String> {
    match value {
        Value::Tagged(tagged) if tagged.tag == "GetAtt" => {
            text(Some(&tagged.value)).and_then(|s| s.split('.').next().map(str::to_string))
        }
        Value::Mapping(map) => match map.get("Fn::GetAtt")? {
            Value::Sequence(parts) => text(parts.first()),
            other => text(Some(other)).and_then(|s| s.split('.').next().map(str::to_string)),
        },
        _ => None,
    }
}

impl LocalTemplate {
    pub fn load(path: &Path) -> Result<Self, Error> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        Self::parse(&text)
    }

    pub fn parse(source: &str) -> Result<Self, Error> {
        let doc: Value = serde_norway::from_str(source)?;
        let mut parameters = BTreeMap::new();
        if let Some(Value::Mapping(params)) = get(&doc, "Parameters") {
            for (name, spec) in params {
                if let (Some(name), Some(default)) = (text(Some(name)), text(get(spec, "Default")))
                {
                    parameters.insert(name, default);
                }
            }
        }
        let global_env = env_of(get(&doc, "Globals").and_then(|g| get(g, "Function")));
        let Some(Value::Mapping(resources)) = get(&doc, "Resources") else {
            return Err("template.yaml has no Resources".into());
        };
        let mut table = None;
        let mut queues = Vec::new();
        let mut secrets = Vec::new();
        let mut functions = Vec::new();
        for (id, resource) in resources {
            let Some(id) = text(Some(id)) else { continue };
            let props = get(resource, "Properties");
            match text(get(resource, "Type")).as_deref() {
                Some("AWS::DynamoDB::Table") => {
                    if table.is_some() {
                        return Err("the local stack expects exactly one DynamoDB table".into());
                    }
                    table = Some(table_def(&id, props)?);
                }
                Some("AWS::SQS::Queue") => queues.push(queue_def(&id, props)?),
                Some("AWS::SecretsManager::Secret") => secrets.push(SecretDef {
                    logical_id: id,
                    name: props.and_then(|p| get(p, "Name")).cloned(),
                }),
                Some("AWS::Serverless::Function") => functions.push(function_def(&id, resource)?),
                _ => {}
            }
        }
        Ok(Self {
            parameters,
            table: table.ok_or("template.yaml has no AWS::DynamoDB::Table")?,
            queues,
            secrets,
            functions,
            global_env,
        })
    }

    pub fn function(&self, binary: &str) -> Option<&FunctionDef> {
        self.functions.iter().find(|f| f.binary == binary)
    }
}

fn env_of(function_props: Option<&Value>) -> BTreeMap<String, Value> {
    let mut env = BTreeMap::new();
    if let Some(Value::Mapping(vars)) = function_props
        .and_then(|f| get(f, "Environment"))
        .and_then(|e| get(e, "Variables"))
    {
        for (k, v) in vars {
            if let Some(k) = text(Some(k)) {
                env.insert(k, v.clone());
            }
        }
    }
    env
}

fn key_schema(schema: Option<&Value>) -> Result<(String, Option<String>), Error> {
    let mut hash = None;
    let mut range = None;
    for entry in schema.and_then(Value::as_sequence).into_iter().flatten() {
        let name = text(get(entry, "AttributeName"));
        match text(get(entry, "KeyType")).as_deref() {
            Some("HASH") => hash = name,
            Some("RANGE") => range = name,
            _ => {}
        }
    }
    Ok((hash.ok_or("a key schema has no HASH key")?, range))
}

fn table_def(id: &str, props: Option<&Value>) -> Result<TableDef, Error> {
    let props = props.ok_or("the table has no Properties")?;
    let attributes = get(props, "AttributeDefinitions")
        .and_then(Value::as_sequence)
        .into_iter()
        .flatten()
        .filter_map(|a| {
            Some((
                text(get(a, "AttributeName"))?,
                text(get(a, "AttributeType"))?,
            ))
        })
        .collect();
    let (hash_key, range_key) = key_schema(get(props, "KeySchema"))?;
    let mut indexes = Vec::new();
    for index in get(props, "GlobalSecondaryIndexes")
        .and_then(Value::as_sequence)
        .into_iter()
        .flatten()
    {
        let (hash_key, range_key) = key_schema(get(index, "KeySchema"))?;
        indexes.push(IndexDef {
            name: text(get(index, "IndexName")).ok_or("an index has no IndexName")?,
            hash_key,
            range_key,
        });
    }
    let ttl = get(props, "TimeToLiveSpecification");
    let ttl_attribute = ttl
        .filter(|t| matches!(get(t, "Enabled"), Some(Value::Bool(true))))
        .and_then(|t| text(get(t, "AttributeName")));
    Ok(TableDef {
        logical_id: id.to_string(),
        attributes,
        hash_key,
        range_key,
        indexes,
        ttl_attribute,
    })
}

fn queue_def(id: &str, props: Option<&Value>) -> Result<QueueDef, Error> {
    let prop = |name: &str| props.and_then(|p| get(p, name)).cloned();
    let redrive = match props.and_then(|p| get(p, "RedrivePolicy")) {
        None => None,
        Some(policy) => Some(Redrive {
            dead_letter_queue: get(policy, "deadLetterTargetArn")
                .and_then(get_att_target)
                .ok_or_else(|| format!("{id}: deadLetterTargetArn must be !GetAtt <Queue>.Arn"))?,
            max_receive_count: get(policy, "maxReceiveCount")
                .cloned()
                .ok_or_else(|| format!("{id}: RedrivePolicy has no maxReceiveCount"))?,
        }),
    };
    Ok(QueueDef {
        logical_id: id.to_string(),
        visibility_timeout: prop("VisibilityTimeout"),
        delay_seconds: prop("DelaySeconds"),
        retention_seconds: prop("MessageRetentionPeriod"),
        redrive,
        fifo: text(prop("FifoQueue").as_ref()).as_deref() == Some("true"),
    })
}

fn function_def(id: &str, resource: &Value) -> Result<FunctionDef, Error> {
    let binary = get(resource, "Metadata")
        .and_then(|m| get(m, "BuildProperties"))
        .and_then(|b| text(get(b, "Binary")))
        .ok_or_else(|| format!("{id}: Metadata.BuildProperties.Binary is required"))?;
    let props = get(resource, "Properties");
    let mut events = Vec::new();
    if let Some(Value::Mapping(defs)) = props.and_then(|p| get(p, "Events")) {
        for (name, event) in defs {
            let name = text(Some(name)).unwrap_or_default();
            let ep = get(event, "Properties");
            let ep_text = |key: &str| text(ep.and_then(|p| get(p, key)));
            match text(get(event, "Type")).as_deref() {
                Some("HttpApi") => {
                    let authorizer = ep
                        .and_then(|p| get(p, "Auth"))
                        .and_then(|a| text(get(a, "Authorizer")));
                    events.push(EventDef::Http {
                        path: ep_text("Path").ok_or_else(|| format!("{id}.{name}: no Path"))?,
                        method: ep_text("Method")
                            .unwrap_or_else(|| "ANY".into())
                            .to_uppercase(),
                        authorized: authorizer.as_deref() != Some("NONE"),
                    });
                }
                Some("SQS") => {
                    let queue = ep
                        .and_then(|p| get(p, "Queue"))
                        .and_then(get_att_target)
                        .ok_or_else(|| format!("{id}.{name}: Queue must be !GetAtt <Queue>.Arn"))?;
                    let report = ep
                        .and_then(|p| get(p, "FunctionResponseTypes"))
                        .and_then(Value::as_sequence)
                        .is_some_and(|types| {
                            types.iter().any(|t| {
                                text(Some(t)).as_deref() == Some("ReportBatchItemFailures")
                            })
                        });
                    events.push(EventDef::Sqs {
                        queue,
                        batch_size: ep_text("BatchSize")
                            .and_then(|b| b.parse().ok())
                            .unwrap_or(10),
                        report_batch_item_failures: report,
                    });
                }
                Some("Schedule") | Some("ScheduleV2") => events.push(EventDef::Schedule {
                    expression: ep_text("ScheduleExpression").unwrap_or_default(),
                }),
                _ => {}
            }
        }
    }
    Ok(FunctionDef {
        logical_id: id.to_string(),
        binary,
        events,
        env: env_of(props),
    })
}

/// Local values for `!Ref`, `!GetAtt` and `!Sub`.
#[derive(Debug, Clone, Default)]
pub struct Resolver {
    /// Parameter values and the physical value of `!Ref <resource>`.
    pub refs: BTreeMap<String, String>,
    /// `<logical id>.<attribute>` → value.
    pub attributes: BTreeMap<String, String>,
}

impl Resolver {
    pub fn resolve(&self, value: &Value) -> Result<String, Error> {
        match value {
            Value::String(_) | Value::Number(_) | Value::Bool(_) => {
                text(Some(value)).ok_or_else(|| "unreachable".into())
            }
            Value::Tagged(tagged) => {
                let arg = text(Some(&tagged.value)).ok_or("intrinsic argument must be a scalar")?;
                if tagged.tag == "Ref" {
                    self.reference(&arg)
                } else if tagged.tag == "GetAtt" {
                    self.attributes
                        .get(&arg)
                        .cloned()
                        .ok_or_else(|| format!("no local value for !GetAtt {arg}").into())
                } else if tagged.tag == "Sub" {
                    self.substitute(&arg)
                } else {
                    Err(format!("unsupported intrinsic {}", tagged.tag).into())
                }
            }
            Value::Mapping(map) => match map.get("Ref").and_then(|r| text(Some(r))) {
                Some(name) => self.reference(&name),
                None => Err("unsupported intrinsic mapping".into()),
            },
            _ => Err("cannot resolve a list or null to a string".into()),
        }
    }

    fn reference(&self, name: &str) -> Result<String, Error> {
        self.refs
            .get(name)
            .cloned()
            .ok_or_else(|| format!("no local value for !Ref {name}").into())
    }

    fn substitute(&self, template: &str) -> Result<String, Error> {
        let mut out = String::new();
        let mut rest = template;
        while let Some(start) = rest.find("${") {
            out.push_str(&rest[..start]);
            let after = &rest[start + 2..];
            let end = after.find('}').ok_or("unterminated ${ in !Sub")?;
            let name = &after[..end];
            let value = match self.attributes.get(name) {
                Some(v) => v.clone(),
                None => self.reference(name)?,
            };
            out.push_str(&value);
            rest = &after[end + 1..];
        }
        out.push_str(rest);
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn project_template() -> LocalTemplate {
        LocalTemplate::load(&crate::paths::template()).unwrap()
    }

    #[test]
    fn reads_the_table_with_its_indexes_and_ttl() {
        let t = project_template();
        assert_eq!(t.table.hash_key, "pk");
        assert_eq!(t.table.range_key.as_deref(), Some("sk"));
        let names: Vec<_> = t.table.indexes.iter().map(|i| i.name.as_str()).collect();
        assert_eq!(names, ["gsi1", "gsi2"]);
        assert_eq!(t.table.ttl_attribute.as_deref(), Some("expires_at"));
    }

    #[test]
    fn every_work_queue_has_a_dead_letter_queue_that_exists() {
        let t = project_template();
        let ids: Vec<_> = t.queues.iter().map(|q| q.logical_id.clone()).collect();
        for name in [
            "TransferQueue",
            "MigrationQueue",
            "SalesEventsQueue",
            "JournalQueue",
        ] {
            let queue = t.queues.iter().find(|q| q.logical_id == name).unwrap();
            let dlq = &queue.redrive.as_ref().unwrap().dead_letter_queue;
            assert!(ids.contains(dlq), "{name} → {dlq}");
        }
    }

    #[test]
    fn the_migration_queue_and_its_dead_letter_queue_are_fifo_and_nothing_else_is() {
        let t = project_template();
        let fifo: Vec<_> = t
            .queues
            .iter()
            .filter(|q| q.fifo)
            .map(|q| q.logical_id.as_str())
            .collect();
        assert_eq!(fifo, ["MigrationQueue", "MigrationDLQ"]);
        // AWS requires a FIFO queue's dead-letter queue to be FIFO too.
        for queue in t.queues.iter().filter(|q| q.redrive.is_some()) {
            let dlq = &queue.redrive.as_ref().unwrap().dead_letter_queue;
            let dlq = t.queues.iter().find(|q| &q.logical_id == dlq).unwrap();
            assert_eq!(queue.fifo, dlq.fifo, "{}", queue.logical_id);
        }
    }

    #[test]
    fn the_migration_worker_may_change_the_visibility_of_its_queue_messages() {
        let doc: Value =
            serde_norway::from_str(&std::fs::read_to_string(crate::paths::template()).unwrap())
                .unwrap();
        let policies = get(&doc, "Resources")
            .and_then(|r| get(r, "MigrationWorkerFunction"))
            .and_then(|f| get(f, "Properties"))
            .and_then(|p| get(p, "Policies"))
            .and_then(Value::as_sequence)
            .unwrap();
        let allowed = policies
            .iter()
            .filter_map(|p| get(p, "Statement").and_then(Value::as_sequence))
            .flatten()
            .any(|statement| {
                text(get(statement, "Action")).as_deref() == Some("sqs:ChangeMessageVisibility")
                    && get(statement, "Resource")
                        .and_then(get_att_target)
                        .as_deref()
                        == Some("MigrationQueue")
            });
        assert!(allowed, "{policies:?}");
    }

    #[test]
    fn sqs_events_report_batch_item_failures() {
        let t = project_template();
        let sqs: Vec<_> = t
            .functions
            .iter()
            .flat_map(|f| f.events.iter())
            .filter(|e| matches!(e, EventDef::Sqs { .. }))
            .collect();
        assert!(sqs.len() >= 4);
        assert!(sqs.iter().all(|e| matches!(
            e,
            EventDef::Sqs {
                report_batch_item_failures: true,
                ..
            }
        )));
    }

    #[test]
    fn resolves_refs_getatts_and_subs() {
        let resolver = Resolver {
            refs: BTreeMap::from([
                ("AWS::StackName".into(), "s".into()),
                ("Q".into(), "http://q".into()),
            ]),
            attributes: BTreeMap::from([("Q.Arn".into(), "arn:q".into())]),
        };
        let v: Value =
            serde_norway::from_str("[!Ref Q, !GetAtt Q.Arn, !Sub '${AWS::StackName}/x/${Q.Arn}']")
                .unwrap();
        let seq = v.as_sequence().unwrap();
        let out: Vec<_> = seq.iter().map(|v| resolver.resolve(v).unwrap()).collect();
        assert_eq!(out, ["http://q", "arn:q", "s/x/arn:q"]);
        let missing: Value = serde_norway::from_str("!Ref Nope").unwrap();
        assert!(resolver.resolve(&missing).is_err());
    }
}
