//! [`MessageQueue`] on SQS (AWS or moto).

use async_trait::async_trait;
use aws_sdk_sqs::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_sqs::types::{
    ChangeMessageVisibilityBatchRequestEntry, MessageAttributeValue, MessageSystemAttributeName,
    QueueAttributeName, SendMessageBatchRequestEntry,
};
use aws_sdk_sqs::Client;

use super::{
    DeadLetter, DeadLetterQueues, MessageQueue, OutboundMessage, QueueError, QueueName,
    CORRELATION_ATTRIBUTE,
};
use crate::config::QueueUrls;
use crate::telemetry::sdk_error_detail;

pub struct SqsQueue {
    client: Client,
    urls: QueueUrls,
}

impl SqsQueue {
    pub fn new(client: Client, urls: QueueUrls) -> Self {
        Self { client, urls }
    }

    fn url(&self, queue: QueueName) -> &str {
        match queue {
            QueueName::Transfer => &self.urls.transfer,
            QueueName::Migration => &self.urls.migration,
            QueueName::SalesEvents => &self.urls.sales_events,
            QueueName::Journal => &self.urls.journal,
        }
    }
}

#[async_trait]
impl MessageQueue for SqsQueue {
    async fn send(&self, queue: QueueName, message: OutboundMessage) -> Result<String, QueueError> {
        let attribute = MessageAttributeValue::builder()
            .data_type("String")
            .string_value(&message.correlation_id)
            .build()
            .map_err(|e| QueueError::Rejected(e.to_string()))?;
        let output = self
            .client
            .send_message()
            .queue_url(self.url(queue))
            .set_delay_seconds(delay(&message))
            .message_body(message.body)
            .set_message_group_id(message.group.as_ref().map(|g| g.group_id.clone()))
            .set_message_deduplication_id(message.group.map(|g| g.deduplication_id))
            .message_attributes(CORRELATION_ATTRIBUTE, attribute)
            .send()
            .await
            .map_err(|err| match &err {
                SdkError::ServiceError(service) => QueueError::Rejected(format!(
                    "{}: {}",
                    service.err().code().unwrap_or_default(),
                    service.err().message().unwrap_or_default()
                )),
                _ => QueueError::Unavailable(sdk_error_detail(&err)),
            })?;
        Ok(output.message_id.unwrap_or_default())
    }

    async fn send_all(
        &self,
        queue: QueueName,
        messages: Vec<OutboundMessage>,
    ) -> Result<(), QueueError> {
        for batch in messages.chunks(10) {
            let mut request = self.client.send_message_batch().queue_url(self.url(queue));
            for (n, message) in batch.iter().enumerate() {
                let attribute = MessageAttributeValue::builder()
                    .data_type("String")
                    .string_value(&message.correlation_id)
                    .build()
                    .map_err(|e| QueueError::Rejected(e.to_string()))?;
                let entry = SendMessageBatchRequestEntry::builder()
                    .id(n.to_string())
                    .message_body(&message.body)
                    .set_delay_seconds(delay(message))
                    .set_message_group_id(message.group.as_ref().map(|g| g.group_id.clone()))
                    .set_message_deduplication_id(
                        message.group.as_ref().map(|g| g.deduplication_id.clone()),
                    )
                    .message_attributes(CORRELATION_ATTRIBUTE, attribute)
                    .build()
                    .map_err(|e| QueueError::Rejected(e.to_string()))?;
                request = request.entries(entry);
            }
            let output = request
                .send()
                .await
                .map_err(|err| QueueError::Unavailable(sdk_error_detail(&err)))?;
            // A partly failed batch is resent whole: receivers are idempotent.
            if !output.failed.is_empty() {
                return Err(QueueError::Unavailable(format!(
                    "{} of {} messages not accepted",
                    output.failed.len(),
                    batch.len()
                )));
            }
        }
        Ok(())
    }

    async fn hand_back(
        &self,
        queue: QueueName,
        receipt_handle: &str,
        after: std::time::Duration,
    ) -> Result<(), QueueError> {
        // SQS allows 0–43,200 s; a retry delay is far below that.
        let seconds = i32::try_from(after.as_secs().min(43_200)).unwrap_or(43_200);
        self.client
            .change_message_visibility()
            .queue_url(self.url(queue))
            .receipt_handle(receipt_handle)
            .visibility_timeout(seconds)
            .send()
            .await
            .map_err(|err| QueueError::Unavailable(sdk_error_detail(&err)))?;
        Ok(())
    }
}

/// FIFO queues reject a per-message delay; standard queues allow up to 900 s.
fn delay(message: &OutboundMessage) -> Option<i32> {
    match message.group {
        Some(_) => None,
        None => Some(i32::try_from(message.delay_seconds.min(900)).unwrap_or(900)),
    }
}

/// [`DeadLetterQueues`] on SQS (AWS or moto).
pub struct SqsDeadLetters {
    client: Client,
    urls: crate::config::DeadLetterUrls,
}

impl SqsDeadLetters {
    pub fn new(client: Client, urls: crate::config::DeadLetterUrls) -> Self {
        Self { client, urls }
    }

    fn url(&self, queue: QueueName) -> Result<&str, QueueError> {
        let url = match queue {
            QueueName::Transfer => &self.urls.transfer,
            QueueName::Migration => &self.urls.migration,
            QueueName::SalesEvents => &self.urls.sales_events,
            QueueName::Journal => &self.urls.journal,
        };
        url.as_deref().ok_or_else(|| {
            QueueError::Rejected(format!(
                "the {} dead-letter queue is not configured",
                queue.as_str()
            ))
        })
    }
}

fn unavailable<E, R>(err: SdkError<E, R>) -> QueueError
where
    E: std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug,
{
    QueueError::Unavailable(sdk_error_detail(&err))
}

#[async_trait]
impl DeadLetterQueues for SqsDeadLetters {
    fn configured(&self) -> Vec<QueueName> {
        QueueName::ALL
            .into_iter()
            .filter(|q| self.url(*q).is_ok())
            .collect()
    }

    async fn depth(&self, queue: QueueName) -> Result<u64, QueueError> {
        let output = self
            .client
            .get_queue_attributes()
            .queue_url(self.url(queue)?)
            .attribute_names(QueueAttributeName::ApproximateNumberOfMessages)
            .attribute_names(QueueAttributeName::ApproximateNumberOfMessagesNotVisible)
            .attribute_names(QueueAttributeName::ApproximateNumberOfMessagesDelayed)
            .send()
            .await
            .map_err(unavailable)?;
        let attributes = output.attributes.unwrap_or_default();
        Ok(attributes
            .values()
            .filter_map(|v| v.parse::<u64>().ok())
            .sum())
    }

    async fn receive(
        &self,
        queue: QueueName,
        hold: std::time::Duration,
    ) -> Result<Vec<DeadLetter>, QueueError> {
        let hold = i32::try_from(hold.as_secs().min(43_200)).unwrap_or(43_200);
        let output = self
            .client
            .receive_message()
            .queue_url(self.url(queue)?)
            .max_number_of_messages(10)
            .visibility_timeout(hold)
            .wait_time_seconds(0)
            .message_system_attribute_names(MessageSystemAttributeName::All)
            .message_attribute_names(CORRELATION_ATTRIBUTE)
            .send()
            .await
            .map_err(unavailable)?;
        Ok(output
            .messages
            .unwrap_or_default()
            .into_iter()
            .filter_map(|message| {
                let system = message.attributes.unwrap_or_default();
                let text = |name: MessageSystemAttributeName| system.get(&name).cloned();
                let sent_at = text(MessageSystemAttributeName::SentTimestamp)
                    .and_then(|ms| ms.parse::<i64>().ok())
                    .and_then(chrono::DateTime::from_timestamp_millis)
                    .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true));
                Some(DeadLetter {
                    message_id: message.message_id?,
                    receipt_handle: message.receipt_handle?,
                    body: message.body.unwrap_or_default(),
                    receive_count: text(MessageSystemAttributeName::ApproximateReceiveCount)
                        .and_then(|n| n.parse().ok())
                        .unwrap_or(0),
                    sent_at,
                    correlation_id: message
                        .message_attributes
                        .as_ref()
                        .and_then(|a| a.get(CORRELATION_ATTRIBUTE))
                        .and_then(|a| a.string_value.clone()),
                    group_id: text(MessageSystemAttributeName::MessageGroupId),
                })
            })
            .collect())
    }

    async fn release(
        &self,
        queue: QueueName,
        receipt_handles: &[String],
    ) -> Result<(), QueueError> {
        let url = self.url(queue)?;
        for batch in receipt_handles.chunks(10) {
            let mut request = self.client.change_message_visibility_batch().queue_url(url);
            for (n, handle) in batch.iter().enumerate() {
                let entry = ChangeMessageVisibilityBatchRequestEntry::builder()
                    .id(n.to_string())
                    .receipt_handle(handle)
                    .visibility_timeout(0)
                    .build()
                    .map_err(|e| QueueError::Rejected(e.to_string()))?;
                request = request.entries(entry);
            }
            let output = request.send().await.map_err(unavailable)?;
            if !output.failed.is_empty() {
                // Those reappear when their hold runs out.
                tracing::warn!(
                    failed = output.failed.len(),
                    "some dead letters could not be made visible at once"
                );
            }
        }
        Ok(())
    }

    async fn delete(&self, queue: QueueName, receipt_handle: &str) -> Result<(), QueueError> {
        self.client
            .delete_message()
            .queue_url(self.url(queue)?)
            .receipt_handle(receipt_handle)
            .send()
            .await
            .map_err(unavailable)?;
        Ok(())
    }
}
