//! The search results as a table for people: one provider a row, then the total and where
//! the next page starts. Tables are for reading and may change; scripts use `--json`.

use sds_directory::domain;
use sds_proto::v1::SearchProvidersResponse;
use sds_vocabulary::NamedEnum;
use sds_vocabulary::named_enum::WireEnum;

use crate::cli::output::{Table, count_of};

/// The flag spelling (`micro-provider`) of a provider kind as the server sent it, so that
/// a table shows what `--kind` takes.
pub(super) fn kind_flag_name(kind_number: i32) -> String {
    domain::ProviderKind::from_wire("kind", kind_number)
        .map_or_else(|_| format!("unknown ({kind_number})"), NamedEnum::cli_name)
}

/// The search results for people: one provider a row, then the total and where the next
/// page starts.
pub(super) fn search_table(response: &SearchProvidersResponse) -> Table {
    let mut table = Table::new(&[
        "id",
        "name",
        "kind",
        "min grade",
        "localities",
        "holds isfs",
    ]);
    for provider in &response.providers {
        let details = provider.details.clone().unwrap_or_default();
        table.push_row(vec![
            provider.id.clone(),
            details.name,
            kind_flag_name(details.kind),
            // 0 means no grades yet, which is not a grade of 0.
            match provider.min_grade {
                0 => "-".to_owned(),
                grade => grade.to_string(),
            },
            details.localities.join(", "),
            if details.holds_isfs { "yes" } else { "no" }.to_owned(),
        ]);
    }
    let page = response.page.clone().unwrap_or_default();
    let mut footer = count_of(page.total_matches, "match", "matches");
    if !page.next_page_token.is_empty() {
        footer.push_str(&format!(
            "; next page: --page-token {}",
            page.next_page_token
        ));
    }
    table.push_footer(footer);
    table
}

#[cfg(test)]
mod tests {
    use sds_proto::v1::{PageResponse, Provider, ProviderDetails, ProviderKind};

    use super::*;

    fn provider(id: &str, name: &str, kind: ProviderKind, min_grade: u32) -> Provider {
        Provider {
            id: id.to_owned(),
            details: Some(ProviderDetails {
                name: name.to_owned(),
                kind: kind as i32,
                localities: vec!["Aberdeenshire".to_owned(), "Moray".to_owned()],
                holds_isfs: min_grade > 0,
                ..ProviderDetails::default()
            }),
            min_grade,
            ..Provider::default()
        }
    }

    #[test]
    fn search_results_print_one_provider_a_row_with_the_total_and_the_next_page() {
        let response = SearchProvidersResponse {
            providers: vec![
                provider(
                    "p-1",
                    "Deeside Care",
                    ProviderKind::RegisteredCareService,
                    5,
                ),
                provider("p-2", "Art Studio", ProviderKind::NonCareBusiness, 0),
            ],
            page: Some(PageResponse {
                next_page_token: "abc".to_owned(),
                total_matches: 7,
            }),
        };
        assert_eq!(
            search_table(&response).render(),
            "ID   NAME          KIND                     MIN GRADE  LOCALITIES            HOLDS ISFS\n\
             p-1  Deeside Care  registered-care-service  5          Aberdeenshire, Moray  yes\n\
             p-2  Art Studio    non-care-business        -          Aberdeenshire, Moray  no\n\
             7 matches; next page: --page-token abc\n"
        );
    }

    #[test]
    fn the_last_page_has_no_next_page_token_and_an_unknown_kind_shows_its_number() {
        let response = SearchProvidersResponse {
            providers: vec![Provider {
                details: Some(ProviderDetails {
                    kind: 99,
                    ..ProviderDetails::default()
                }),
                ..Provider::default()
            }],
            page: Some(PageResponse {
                next_page_token: String::new(),
                total_matches: 1,
            }),
        };
        let printed = search_table(&response).render();
        assert!(printed.contains("unknown (99)"), "{printed}");
        assert!(printed.ends_with("\n1 match\n"), "{printed}");
    }

    #[test]
    fn every_kind_flag_maps_to_a_distinct_wire_number_and_back() {
        for kind in domain::ProviderKind::ALL {
            let name = kind_flag_name(kind.wire_number());
            assert_eq!(domain::ProviderKind::parse("--kind", &name), Ok(*kind));
        }
    }
}
