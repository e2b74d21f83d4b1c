//! The roles a token may grant. Services decide what each role may do; this is only the
//! vocabulary, so that every service spells them the same way.

crate::named_enum! {
    /// A role held by a person acting for an organisation.
    pub enum Role("role") {
        /// A social worker or care manager: assesses, plans, approves within their limit.
        Practitioner = "practitioner",
        /// Approves above a practitioner's devolved limit.
        TeamManager = "team-manager",
        /// The resource panel: approves above a team manager's limit.
        Panel = "panel",
        /// Keeps the directory, frameworks, rate cards and contracts.
        Commissioning = "commissioning",
        /// Runs payments and reconciles the books.
        Finance = "finance",
        /// Administers a provider's own record, offers and agreements.
        ProviderAdmin = "provider-admin",
    }
}
