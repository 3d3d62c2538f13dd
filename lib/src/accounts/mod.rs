//! Account mapping (SPEC C9): where each payment method, tax code and accounting group of a
//! POS day is booked in the ERP, per company with per-location overrides, and the POS's own
//! lists of payment methods and tax codes so nothing needing an account goes unseen.

pub mod mapping;
pub mod pos_codes;

pub use mapping::{AccountMapping, ForeignCurrency, PostingSetup, StoredMapping};
