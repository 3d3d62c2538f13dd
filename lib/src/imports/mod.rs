//! CSV sales import (SPEC C12): saved column mappings, the pure file reader, the items and
//! sales an import records, its record, and the use case that ties them to the transfer
//! path. Sales of CSV locations (product `csv`) are read by the transfer engine from here
//! instead of Lightspeed.

pub mod format;
pub mod import;
pub mod items;
pub mod parse;
pub mod record;
pub mod sales;
