//! [`MessageQueue`] on SQS (AWS or moto).

use async_trait::async_trait;
use aws_sdk_sqs::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_sqs::types::{MessageAttributeValue, SendMessageBatchRequestEntry};
use aws_sdk_sqs::Client;

use super::{MessageQueue, OutboundMessage, QueueError, QueueName, CORRELATION_ATTRIBUTE};
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
