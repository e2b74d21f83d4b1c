//! A provider's standing with each authority's procurement: on its framework, on its open
//! list, or off framework. Off framework is also what a provider is for an authority that
//! has recorded nothing about it; people may still choose it, with basic checks instead.

pub use sds_vocabulary::AuthorityId;

sds_vocabulary::wire_enum! {
    /// A provider's standing with one authority's procurement.
    pub enum FrameworkStatus("framework status") => sds_proto::v1::FrameworkStatus {
        OnFramework = "on_framework",
        OpenList = "open_list",
        OffFramework = "off_framework",
    }
}

/// The status of a provider with one authority.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FrameworkMembership {
    pub authority: AuthorityId,
    pub status: FrameworkStatus,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_status_reads_back_from_its_name_and_its_wire_number() {
        sds_vocabulary::named_enum::assert_names_follow_the_wire::<FrameworkStatus>();
    }
}
