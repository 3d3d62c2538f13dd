//! The canonical sale model every connector maps into (SPEC §2), so the transfer engine,
//! journals and reconciliation see one shape whatever the POS.

pub mod canonical;
pub mod kseries;

pub use canonical::{CanonicalLine, CanonicalPayment, CanonicalSale, DayTotals, SaleKind};
