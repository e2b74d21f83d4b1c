//! The kinds of organisation a caller acts for.

crate::named_enum! {
    /// Who a token speaks for.
    pub enum OrgKind("organisation kind") {
        /// A council or Health and Social Care Partnership.
        Authority = "authority",
        /// A provider of support.
        Provider = "provider",
        /// A third-party holder of Individual Service Funds.
        Holder = "holder",
        /// A supported person, or their representative.
        Person = "person",
    }
}
