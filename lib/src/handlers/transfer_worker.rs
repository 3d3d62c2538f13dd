//! transfer-worker: consumes the transfer queue, one location and business date per message.

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use lambda_runtime::LambdaEvent;

use super::now;
use crate::deps::Deps;
use crate::transfer::run::{run, Outcome, TransferContext};
use crate::transfer::TransferRequest;
use crate::webhook::events::{self, EventContext};
use crate::webhook::receipt::SalesEvent;
use crate::worker::batch::parse_body;
use crate::worker::{process_batch, reject, settle, RecordOutcome};

const FUNCTION: &str = "transfer-worker";

/// Records processed at once; bounded so one batch cannot exhaust the Lightspeed budget.
const CONCURRENCY: usize = 4;

pub async fn handle(
    deps: &Deps,
    event: LambdaEvent<SqsEvent>,
) -> Result<SqsBatchResponse, lambda_runtime::Error> {
    let response = process_batch(FUNCTION, event.payload, CONCURRENCY, |record| async move {
        // The sales-events queue (webhooks) feeds this function too.
        if let Ok(event) = parse_body::<SalesEvent>(&record) {
            return match sales_event(deps, &event).await {
                Ok(()) => RecordOutcome::Done,
                Err(err) => settle(deps.store.as_ref(), FUNCTION, &record, err, &now()).await,
            };
        }
        let request: TransferRequest = match parse_body(&record) {
            Ok(request) => request,
            Err(err) => return reject(deps.store.as_ref(), FUNCTION, &record, err, &now()).await,
        };
        let ctx = TransferContext {
            store: deps.store.as_ref(),
            queue: deps.queue.as_ref(),
            sales: deps.sales.as_ref(),
            settings: &deps.config.transfer, retry_through_queue: true,
        };
        match run(&ctx, &request, &now()).await {
            Ok(Outcome::Logged(log)) => {
                tracing::info!(log_id = log.log_id, status = ?log.status, "transfer attempt logged");
                RecordOutcome::Done
            }
            Ok(Outcome::AlreadyLogged(log_id)) => {
                tracing::info!(log_id, "duplicate delivery; attempt already logged");
                RecordOutcome::Done
            }
            Err(err) => settle(deps.store.as_ref(), FUNCTION, &record, err, &now()).await,
        }
    })
    .await?;
    Ok(response)
}

async fn sales_event(deps: &Deps, event: &SalesEvent) -> Result<(), crate::error::AppError> {
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
