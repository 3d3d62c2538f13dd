//! The named schemas of the admin API's OpenAPI document ([`schemas`]), here because the
//! domain types refer to them in their `ToSchema` derives. `tillbridge-api` builds the
//! document from them and the routes' annotations.

pub mod schemas;
