//! [`MessageQueue`] on SQS (AWS or moto).

use async_trait::async_trait;
use aws_sdk_sqs::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_sqs::types::MessageAttributeValue;
use aws_sdk_sqs::Client;

use super::{MessageQueue, OutboundMessage, QueueError, QueueName, CORRELATION_ATTRIBUTE};
use crate::config::QueueUrls;

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
            .message_body(message.body)
            .delay_seconds(i32::try_from(message.delay_seconds.min(900)).unwrap_or(900))
            .message_attributes(CORRELATION_ATTRIBUTE, attribute)
            .send()
            .await
            .map_err(|err| match &err {
                SdkError::ServiceError(service) => QueueError::Rejected(format!(
                    "{}: {}",
                    service.err().code().unwrap_or_default(),
                    service.err().message().unwrap_or_default()
                )),
                _ => QueueError::Unavailable(format!("{err:?}")),
            })?;
        Ok(output.message_id.unwrap_or_default())
    }
}
