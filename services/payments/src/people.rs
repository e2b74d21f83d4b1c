//! The people a remittance names, as assessment knows them: the case reference for every
//! payee, the name only where the payee is the provider the person chose. Payments keeps
//! neither: events carry no personal data, so each remittance read asks assessment, which
//! audits the read.

use sds_platform::server::ServiceReach;
use std::collections::HashMap;
use std::time::Duration;

use sds_platform::TokenIssuer;
use sds_proto::v1 as proto;
use sds_proto::v1::assessment_service_client::AssessmentServiceClient;
use sds_vocabulary::AuthorityId;
use tonic::Code;
use uuid::Uuid;

use crate::calls::ServiceCalls;
use crate::error::PaymentsError;

/// Assessment's cap on one lookup.
const MAX_LOOKUP: usize = 5_000;
const CALL_TIMEOUT: Duration = Duration::from_secs(30);

/// A person's case reference and name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonReference {
    pub case_reference: String,
    pub name: String,
}

/// A client of assessment, cheap to clone.
#[derive(Debug, Clone)]
pub struct People {
    calls: ServiceCalls,
}

impl People {
    /// Assessment at `url`, or, when none is configured, the one in this process.
    pub fn new(url: Option<&str>, reach: &ServiceReach, tokens: Option<TokenIssuer>) -> People {
        People {
            calls: ServiceCalls::new("assessment", url, reach, tokens, CALL_TIMEOUT),
        }
    }

    /// The references of those of `ids` assessment knows as the authority's people, read
    /// for the organisation `reader` (kept in assessment's audit trail).
    pub async fn references(
        &self,
        authority: &AuthorityId,
        ids: &[Uuid],
        reader: &str,
    ) -> Result<HashMap<Uuid, PersonReference>, PaymentsError> {
        let mut found = HashMap::with_capacity(ids.len());
        for chunk in ids.chunks(MAX_LOOKUP) {
            let request = self.calls.request(
                authority,
                proto::LookupPeopleRequest {
                    authority: authority.as_str().to_owned(),
                    person_ids: chunk.iter().map(Uuid::to_string).collect(),
                    on_behalf_of: reader.to_owned(),
                },
            )?;
            let answer = AssessmentServiceClient::new(self.calls.channel()?)
                .lookup_people(request)
                .await
                .map_err(|status| match status.code() {
                    Code::Unavailable | Code::DeadlineExceeded | Code::Cancelled => {
                        PaymentsError::AssessmentUnavailable(status.message().to_owned())
                    }
                    code => PaymentsError::Internal(anyhow::anyhow!(
                        "assessment refused payments' LookupPeople: {code:?} {}",
                        status.message()
                    )),
                })?
                .into_inner();
            for person in answer.people {
                let id = Uuid::parse_str(&person.person_id).map_err(anyhow::Error::new)?;
                found.insert(
                    id,
                    PersonReference {
                        case_reference: person.case_reference,
                        name: person.display_name,
                    },
                );
            }
        }
        Ok(found)
    }
}
