//! [`ItemStore`] on DynamoDB (AWS or DynamoDB Local).

use std::collections::HashMap;

use async_trait::async_trait;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::operation::delete_item::builders::DeleteItemFluentBuilder;
use aws_sdk_dynamodb::operation::put_item::builders::PutItemFluentBuilder;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::builders::{DeleteBuilder, PutBuilder};
use aws_sdk_dynamodb::types::{AttributeValue, Delete, Put, TransactWriteItem};
use aws_sdk_dynamodb::Client;

use crate::telemetry::sdk_error_detail;

use super::{
    attr, Condition, Item, ItemStore, Key, Page, Query, SortKeyCondition, StoreError, Write,
};

pub struct DynamoDbStore {
    client: Client,
    table: String,
}

impl DynamoDbStore {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }
}

/// A condition as DynamoDB expression parts.
struct ConditionExpr {
    expression: Option<String>,
    names: HashMap<String, String>,
    values: HashMap<String, AttributeValue>,
}

fn condition_expr(condition: Condition) -> ConditionExpr {
    let mut names = HashMap::new();
    let mut values = HashMap::new();
    let expression = match condition {
        Condition::None => None,
        Condition::NotExists => {
            names.insert("#pk".to_string(), attr::PK.to_string());
            Some("attribute_not_exists(#pk)".to_string())
        }
        Condition::Exists => {
            names.insert("#pk".to_string(), attr::PK.to_string());
            Some("attribute_exists(#pk)".to_string())
        }
        Condition::AbsentOrExpiredBefore(now) => {
            names.insert("#pk".to_string(), attr::PK.to_string());
            names.insert("#exp".to_string(), attr::EXPIRES_AT.to_string());
            values.insert(":now".to_string(), AttributeValue::N(now.to_string()));
            Some("attribute_not_exists(#pk) OR #exp < :now".to_string())
        }
        Condition::VersionIs(version) => {
            names.insert("#v".to_string(), attr::VERSION.to_string());
            values.insert(":v".to_string(), AttributeValue::N(version.to_string()));
            Some("#v = :v".to_string())
        }
    };
    ConditionExpr {
        expression,
        names,
        values,
    }
}

fn some_if_any<K, V>(map: HashMap<K, V>) -> Option<HashMap<K, V>> {
    (!map.is_empty()).then_some(map)
}

/// The builders of a conditional write (`PutItem`, `DeleteItem` and their transaction
/// forms): the SDK gives them the same three setters but no common trait.
trait Conditional: Sized {
    fn set_condition(self, expression: Option<String>, names: Names, values: Values) -> Self;

    fn with_condition(self, condition: Condition) -> Self {
        let cond = condition_expr(condition);
        self.set_condition(
            cond.expression,
            some_if_any(cond.names),
            some_if_any(cond.values),
        )
    }
}

type Names = Option<HashMap<String, String>>;
type Values = Option<HashMap<String, AttributeValue>>;

impl Conditional for PutItemFluentBuilder {
    fn set_condition(self, expression: Option<String>, names: Names, values: Values) -> Self {
        self.set_condition_expression(expression)
            .set_expression_attribute_names(names)
            .set_expression_attribute_values(values)
    }
}

impl Conditional for DeleteItemFluentBuilder {
    fn set_condition(self, expression: Option<String>, names: Names, values: Values) -> Self {
        self.set_condition_expression(expression)
            .set_expression_attribute_names(names)
            .set_expression_attribute_values(values)
    }
}

impl Conditional for PutBuilder {
    fn set_condition(self, expression: Option<String>, names: Names, values: Values) -> Self {
        self.set_condition_expression(expression)
            .set_expression_attribute_names(names)
            .set_expression_attribute_values(values)
    }
}

impl Conditional for DeleteBuilder {
    fn set_condition(self, expression: Option<String>, names: Names, values: Values) -> Self {
        self.set_condition_expression(expression)
            .set_expression_attribute_names(names)
            .set_expression_attribute_values(values)
    }
}

fn key_map(key: &Key) -> HashMap<String, AttributeValue> {
    HashMap::from([
        (attr::PK.to_string(), AttributeValue::S(key.pk.clone())),
        (attr::SK.to_string(), AttributeValue::S(key.sk.clone())),
    ])
}

/// JSON → DynamoDB, by `serde_dynamo`: strings stay `S` (money is stored as decimal
/// strings), integers become `N` with their exact digits (so `version = :v` compares
/// numbers), `null` becomes `NULL`, arrays `L` and objects `M`.
pub fn to_attributes(item: &Item) -> Result<HashMap<String, AttributeValue>, StoreError> {
    serde_dynamo::to_item(item).map_err(|err| StoreError::Malformed(err.to_string()))
}

/// DynamoDB → JSON, by `serde_dynamo`: `N` reads back as an integer when it is one
/// (counters, epochs), string sets as arrays of strings.
pub fn from_attributes(map: &HashMap<String, AttributeValue>) -> Result<Item, StoreError> {
    serde_dynamo::from_item(map.clone()).map_err(|err| StoreError::Malformed(err.to_string()))
}

/// Classifies an SDK failure: throttling, 5xx and transport errors are retryable,
/// transaction conflicts are contention.
fn classify<E, R>(err: SdkError<E, R>) -> StoreError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    match &err {
        SdkError::ServiceError(service) => {
            let inner = service.err();
            let code = inner.code().unwrap_or_default();
            let message = inner.message().unwrap_or_default().to_string();
            match code {
                "ConditionalCheckFailedException" => StoreError::ConditionFailed,
                "TransactionConflictException" | "TransactionInProgressException" => {
                    StoreError::Contention(format!("{code}: {message}"))
                }
                "ProvisionedThroughputExceededException"
                | "ThrottlingException"
                | "RequestLimitExceeded"
                | "InternalServerError"
                | "ServiceUnavailable" => StoreError::Unavailable(format!("{code}: {message}")),
                _ => StoreError::Rejected(format!("{code}: {message}")),
            }
        }
        SdkError::ConstructionFailure(_) => StoreError::Rejected(sdk_error_detail(&err)),
        _ => StoreError::Unavailable(sdk_error_detail(&err)),
    }
}

/// A cancelled transaction by its reasons: a failed condition is an answer, a conflict with
/// another transaction is contention, anything else is classified as usual.
fn classify_transaction<R: std::fmt::Debug>(
    err: SdkError<TransactWriteItemsError, R>,
) -> StoreError {
    if let SdkError::ServiceError(service) = &err {
        if let TransactWriteItemsError::TransactionCanceledException(cancelled) = service.err() {
            let codes: Vec<&str> = cancelled
                .cancellation_reasons()
                .iter()
                .filter_map(|r| r.code())
                .collect();
            if codes.contains(&"ConditionalCheckFailed") {
                return StoreError::ConditionFailed;
            }
            if codes.contains(&"TransactionConflict") {
                return StoreError::Contention(format!(
                    "transaction cancelled: {}",
                    codes.join(", ")
                ));
            }
        }
    }
    classify(err)
}

#[async_trait]
impl ItemStore for DynamoDbStore {
    async fn get(&self, key: &Key) -> Result<Option<Item>, StoreError> {
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key_map(key)))
            .consistent_read(true)
            .send()
            .await
            .map_err(classify)?;
        output.item.as_ref().map(from_attributes).transpose()
    }

    async fn put(&self, item: Item, condition: Condition) -> Result<(), StoreError> {
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(to_attributes(&item)?))
            .with_condition(condition)
            .send()
            .await
            .map_err(classify)?;
        Ok(())
    }

    async fn delete(&self, key: &Key, condition: Condition) -> Result<(), StoreError> {
        self.client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(key_map(key)))
            .with_condition(condition)
            .send()
            .await
            .map_err(classify)?;
        Ok(())
    }

    async fn query(&self, query: &Query) -> Result<Page, StoreError> {
        let (pk_attr, sk_attr) = match query.index {
            Some(index) => index.key_attrs(),
            None => (attr::PK, attr::SK),
        };
        let mut names = HashMap::from([("#pk".to_string(), pk_attr.to_string())]);
        let mut values = HashMap::from([(":pk".to_string(), AttributeValue::S(query.pk.clone()))]);
        let mut expression = "#pk = :pk".to_string();
        match &query.sk {
            Some(SortKeyCondition::BeginsWith(prefix)) => {
                names.insert("#sk".into(), sk_attr.into());
                values.insert(":sk".into(), AttributeValue::S(prefix.clone()));
                expression.push_str(" AND begins_with(#sk, :sk)");
            }
            Some(SortKeyCondition::Between(low, high)) => {
                names.insert("#sk".into(), sk_attr.into());
                values.insert(":lo".into(), AttributeValue::S(low.clone()));
                values.insert(":hi".into(), AttributeValue::S(high.clone()));
                expression.push_str(" AND #sk BETWEEN :lo AND :hi");
            }
            None => {}
        }
        let limit = i32::try_from(query.limit.clamp(1, 1000)).unwrap_or(1000);
        let output = self
            .client
            .query()
            .table_name(&self.table)
            .set_index_name(query.index.map(|i| i.name().to_string()))
            .key_condition_expression(expression)
            .set_expression_attribute_names(Some(names))
            .set_expression_attribute_values(Some(values))
            .limit(limit)
            .scan_index_forward(query.forward)
            .set_exclusive_start_key(query.start_after.as_ref().map(to_attributes).transpose()?)
            .consistent_read(query.index.is_none())
            .send()
            .await
            .map_err(classify)?;
        let items = output
            .items()
            .iter()
            .map(from_attributes)
            .collect::<Result<Vec<_>, _>>()?;
        let last_key = output
            .last_evaluated_key
            .as_ref()
            .map(from_attributes)
            .transpose()?;
        Ok(Page { items, last_key })
    }

    async fn transact(&self, writes: Vec<Write>) -> Result<(), StoreError> {
        let mut items = Vec::with_capacity(writes.len());
        for write in writes {
            let item = match write {
                Write::Put(item, condition) => {
                    let put = Put::builder()
                        .table_name(&self.table)
                        .set_item(Some(to_attributes(&item)?))
                        .with_condition(condition)
                        .build()
                        .map_err(|e| StoreError::Rejected(e.to_string()))?;
                    TransactWriteItem::builder().put(put).build()
                }
                Write::Delete(key, condition) => {
                    let delete = Delete::builder()
                        .table_name(&self.table)
                        .set_key(Some(key_map(&key)))
                        .with_condition(condition)
                        .build()
                        .map_err(|e| StoreError::Rejected(e.to_string()))?;
                    TransactWriteItem::builder().delete(delete).build()
                }
            };
            items.push(item);
        }
        self.client
            .transact_write_items()
            .set_transact_items(Some(items))
            .send()
            .await
            .map_err(classify_transaction)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    #[test]
    fn json_round_trips_through_attributes() {
        let value = json!({"s": "1.10", "n": 42, "neg": -7, "b": true, "z": null, "l": [1, "a"], "m": {"k": "v"}});
        let Value::Object(item) = value.clone() else {
            unreachable!()
        };
        let back = from_attributes(&to_attributes(&item).unwrap()).unwrap();
        assert_eq!(Value::Object(back), value);
    }

    fn cancelled(reasons: &[&str]) -> StoreError {
        use aws_sdk_dynamodb::types::error::TransactionCanceledException;
        use aws_sdk_dynamodb::types::CancellationReason;
        let mut exception = TransactionCanceledException::builder();
        for code in reasons {
            exception =
                exception.cancellation_reasons(CancellationReason::builder().code(*code).build());
        }
        classify_transaction(SdkError::service_error(
            TransactWriteItemsError::TransactionCanceledException(exception.build()),
            (),
        ))
    }

    #[test]
    fn transaction_conflicts_are_contention_and_failed_conditions_stay_answers() {
        assert!(matches!(
            cancelled(&["None", "TransactionConflict"]),
            StoreError::Contention(_)
        ));
        assert!(matches!(
            cancelled(&["ConditionalCheckFailed", "TransactionConflict"]),
            StoreError::ConditionFailed
        ));
        use aws_sdk_dynamodb::operation::put_item::PutItemError;
        let conflict = SdkError::<PutItemError, ()>::service_error(
            PutItemError::TransactionConflictException(
                aws_sdk_dynamodb::types::error::TransactionConflictException::builder()
                    .message("conflict")
                    .meta(
                        aws_sdk_dynamodb::error::ErrorMetadata::builder()
                            .code("TransactionConflictException")
                            .message("conflict")
                            .build(),
                    )
                    .build(),
            ),
            (),
        );
        let err = crate::error::AppError::from(classify(conflict));
        assert_eq!(err.code, crate::error::ErrorCode::WriteContention);
        assert_eq!(err.code.http_status(), 409);
        assert!(err.code.is_retryable());
    }

    fn attributes(value: Value) -> HashMap<String, AttributeValue> {
        let Value::Object(item) = value else {
            unreachable!()
        };
        to_attributes(&item).unwrap()
    }

    #[test]
    fn decimal_strings_stay_strings_and_integers_stay_exact_numbers() {
        let map = attributes(json!({
            "money": "0.10",
            "version": 7,
            "token": 9_007_199_254_740_991u64,
            "big": u64::MAX,
            "neg": i64::MIN,
            "empty": "",
            "none": null,
            "list": [],
        }));
        assert_eq!(map["money"], AttributeValue::S("0.10".into()));
        assert_eq!(map["version"], AttributeValue::N("7".into()));
        assert_eq!(map["token"], AttributeValue::N("9007199254740991".into()));
        assert_eq!(map["big"], AttributeValue::N(u64::MAX.to_string()));
        assert_eq!(map["neg"], AttributeValue::N(i64::MIN.to_string()));
        assert_eq!(map["empty"], AttributeValue::S(String::new()));
        assert_eq!(map["none"], AttributeValue::Null(true));
        assert_eq!(map["list"], AttributeValue::L(Vec::new()));
        let back = from_attributes(&map).unwrap();
        assert_eq!(back["big"], json!(u64::MAX));
        assert_eq!(back["neg"], json!(i64::MIN));
        assert_eq!(back["version"], json!(7));
        assert!(back["version"].is_u64() || back["version"].is_i64());
    }

    #[test]
    fn string_sets_and_fractions_read_back() {
        let map = HashMap::from([
            (
                "tags".to_string(),
                AttributeValue::Ss(vec!["a".into(), "b".into()]),
            ),
            ("ratio".to_string(), AttributeValue::N("1.5".into())),
        ]);
        let back = from_attributes(&map).unwrap();
        assert_eq!(back["tags"], json!(["a", "b"]));
        assert_eq!(back["ratio"], json!(1.5));
    }
}
