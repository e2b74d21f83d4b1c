//! Who may do what to an agreement: each party reads and signs only agreements it is party
//! to, and only as itself; a person only their own; another authority's staff see nothing.
//! Every refusal writes nothing.

use sds_platform::{OrgKind, Principal, Role};
use sds_proto::v1 as proto;
use sds_testkit::{bearer, token_for};
use tonic::Code;

use crate::agreements::{by_hand, holder, person};
use crate::plan_events::*;
use crate::support::*;

/// Someone else's person.
const OTHER_PERSON_ID: &str = "0192f0c1-0000-7000-8000-0000000000a2";

fn other_holder() -> String {
    token_for(&Principal {
        org_id: "0192f0c1-0000-7000-8000-0000000000b2".into(),
        org_kind: OrgKind::Holder,
        roles: vec![],
        authorities: vec![],
        person_id: None,
    })
}

#[tokio::test]
async fn outsiders_neither_see_sign_vary_nor_end_an_agreement_and_parties_act_only_as_themselves() {
    let app = TestApp::spawn().await;
    app.plan_held_undrafted().await;
    let drafted = app.draft(&practitioner("fife"), by_hand()).await.unwrap();
    let id = drafted.id.as_str();
    let outsiders = [
        ("another provider", provider(OTHER_PROVIDER_ID)),
        ("another holder", other_holder()),
        ("another person", person(OTHER_PERSON_ID)),
        ("another authority", practitioner("angus")),
        (
            "another authority's commissioning",
            staff("angus", &[Role::Commissioning]),
        ),
    ];
    for (who, token) in &outsiders {
        assert_code(app.get(token, id).await, Code::NotFound);
        let update = app
            .client()
            .update_agreement_draft(bearer(
                token,
                proto::UpdateAgreementDraftRequest {
                    agreement_id: id.into(),
                    outcomes: "Changed by an outsider".into(),
                    representative: None,
                    no_representative: false,
                },
            ))
            .await;
        assert_code(update, Code::NotFound);
        // Not even a wrong version number tells an outsider the agreement exists.
        for version in [1, 2] {
            let code = app
                .sign_version(token, id, version)
                .await
                .expect_err(who)
                .code();
            assert_eq!(code, Code::NotFound, "{who} signing version {version}");
        }
        assert_code(app.end(token, id, "2027-01-31").await, Code::NotFound);
        let listed = app
            .list(
                token,
                proto::ListAgreementsRequest {
                    authority: String::new(),
                    person_id: String::new(),
                    page: None,
                },
            )
            .await;
        match listed {
            Ok(listed) => assert!(listed.agreements.is_empty(), "{who} lists nothing"),
            Err(status) => assert!(
                matches!(
                    status.code(),
                    Code::PermissionDenied | Code::InvalidArgument
                ),
                "{who} listing: {status:?}"
            ),
        }
    }
    // A person asks only for their own; staff of fife see fife's.
    assert_code(
        app.list(
            &person(OTHER_PERSON_ID),
            proto::ListAgreementsRequest {
                authority: String::new(),
                person_id: PERSON_ID.into(),
                page: None,
            },
        )
        .await,
        Code::PermissionDenied,
    );
    assert_eq!(
        app.agreement_rows().await.2,
        0,
        "no outsider's signature was written"
    );

    // Each party signs as itself: the provider's token signs as the provider, never as the
    // holder or the person, whatever it asks.
    let signed = app
        .sign_version(&provider(PROVIDER_ID), id, 1)
        .await
        .unwrap();
    assert_eq!(
        signed
            .signatures
            .iter()
            .map(|signature| (signature.role, signature.signed_by.as_str()))
            .collect::<Vec<_>>(),
        vec![(proto::AgreementParty::Provider as i32, PROVIDER_ID)]
    );
    // Finance staff of the authority see the agreement but do not sign it.
    let finance = staff("fife", &[Role::Finance]);
    app.get(&finance, id).await.unwrap();
    assert_code(
        app.sign_version(&finance, id, 1).await,
        Code::PermissionDenied,
    );
    // Terms are varied by the authority's staff only, not by the other parties.
    for token in [holder(), person(PERSON_ID), provider(PROVIDER_ID)] {
        let vary = app
            .client()
            .vary_agreement(bearer(
                &token,
                proto::VaryAgreementRequest {
                    agreement_id: id.into(),
                    effective_from: date("2027-01-01"),
                    terms: drafted.terms.clone(),
                },
            ))
            .await;
        assert_code(vary, Code::PermissionDenied);
    }
    assert_eq!(
        app.agreement_rows().await.2,
        1,
        "one signature, the provider's"
    );
}
