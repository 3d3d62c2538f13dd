//! The canonical sale model every connector maps into (SPEC §2), so the transfer engine,
//! journals and reconciliation see one shape whatever the POS.

pub mod canonical;
pub mod fetch;
pub mod kseries;
pub mod xseries;
pub mod xseries_mirror;

pub use canonical::{CanonicalLine, CanonicalPayment, CanonicalSale, DayTotals, SaleKind};
pub use fetch::FetchedDay;
