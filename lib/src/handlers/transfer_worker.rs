//! transfer-worker: consumes the transfer queue, one location and business date per message.

use aws_lambda_events::event::sqs::SqsEvent;
use lambda_runtime::LambdaEvent;

use super::{consume, now, BatchResult};
use crate::deps::Deps;
use crate::error::AppError;
use crate::transfer::run::{run, Outcome};
use crate::transfer::TransferRequest;
use crate::webhook::events::{self, EventContext};
use crate::webhook::receipt::SalesEvent;
use crate::worker::{parse_body, RecordOutcome};

/// The function's name, and how many records it works on at once (bounded so one batch
/// cannot exhaust the Lightspeed budget).
const FUNCTION: (&str, usize) = ("transfer-worker", 4);

pub async fn handle(deps: &Deps, event: LambdaEvent<SqsEvent>) -> BatchResult {
    consume(deps, FUNCTION, event, |consumer, record| async move {
        // The sales-events queue (webhooks) feeds this function too.
        if let Ok(event) = parse_body::<SalesEvent>(&record) {
            let handled = sales_event(deps, &event).await;
            return consumer
                .finish(&record, handled.map(|()| RecordOutcome::Done))
                .await;
        }
        consumer
            .handle(&record, |request: TransferRequest| transfer(deps, request))
            .await
    })
    .await
}

async fn transfer(deps: &Deps, request: TransferRequest) -> Result<RecordOutcome, AppError> {
    match run(&deps.transfers(true), &request, &now()).await? {
        Outcome::Logged(log) => {
            tracing::info!(log_id = log.log_id, status = ?log.status, "transfer attempt logged");
        }
        Outcome::AlreadyLogged(log_id) => {
            tracing::info!(log_id, "duplicate delivery; attempt already logged");
        }
    }
    Ok(RecordOutcome::Done)
}

async fn sales_event(deps: &Deps, event: &SalesEvent) -> Result<(), AppError> {
    let ctx = EventContext {
        store: deps.store.as_ref(),
        queue: deps.queue.as_ref(),
        lightspeed: deps.lightspeed.as_ref(),
        catalog: deps.catalog.as_ref(),
    };
    let handled = events::process(&ctx, event, &now()).await?;
    tracing::info!(dedupe_key = %event.dedupe_key, ?handled, "sales event handled");
    Ok(())
}
