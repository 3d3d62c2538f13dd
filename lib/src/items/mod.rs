//! POS items (SPEC C4): the company's catalogue of sold items as Lightspeed reports it,
//! deduplicated across locations, and its sync.

pub mod record;
pub mod sync;
pub mod wire;

pub use record::PosItem;
