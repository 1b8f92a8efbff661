//! A scenario written out as a policy case (format v1), so that a fuzz finding becomes a
//! regression case under `tests/cases/`.

use std::path::Path;

use jit_provisioning::cases::{self, Case, CaseAccount, ConfigSource, Expect, Step};
use jit_provisioning::Decision;

use crate::check::Ran;
use crate::scenario::Scenario;

/// The case for `scenario`, expecting what `ran` observed. A finding's case pins the
/// wrong behaviour: edit its `expect` to what the policy should have done.
///
/// `None` when the accounts clash: such a case is a load error, not a case.
pub fn to_case(name: &str, scenario: &Scenario, ran: &Ran) -> Option<Case> {
    let expect = match ran {
        Ran::AccountsClash(_) => return None,
        Ran::InvalidConfig(_) => Expect {
            outcome: Some("error".to_owned()),
            reason: Some("invalid_config".to_owned()),
            ..Expect::default()
        },
        Ran::Decided { decision, account } => {
            let mut grants = decision.grants().to_vec();
            grants.sort();
            let mut raises = decision.raises().to_vec();
            raises.sort();
            // The account as created, read back from the store.
            let created = decision.new_handle().and(account.as_ref());
            Expect {
                outcome: Some(decision.outcome().as_str().to_owned()),
                account: decision.signed_in_account().cloned().map(CaseAccount::Id),
                handle: decision.new_handle().map(str::to_owned),
                grants: Some(grants),
                raises: Some(raises),
                linked: Some(decision.links_existing_account()),
                password: created.map(|account| account.has_password),
                given_name: created.map(|account| account.given_name.clone()),
                family_name: created.map(|account| account.family_name.clone()),
                landing: decision.landing().cloned(),
                force_authn: decision.force_authn(),
                reason: decision.reason().map(|reason| reason.code().to_owned()),
                rule: Some(decision.rule().id().to_owned()),
                message: decision.message().map(str::to_owned),
            }
        }
    };
    Some(Case {
        name: name.to_owned(),
        config: scenario.config.clone(),
        config_source: ConfigSource::Inline,
        accounts: scenario.accounts.clone(),
        invites: Vec::new(),
        deprovisioned: Vec::new(),
        steps: vec![Step {
            name: None,
            now: scenario.now,
            request: scenario.request.clone().into(),
            expect,
        }],
    })
}

/// The case as case-file text.
pub fn to_json(case: &Case) -> String {
    serde_json::to_string_pretty(case).unwrap_or_else(|error| panic!("unprintable case: {error}"))
}

/// A dumped case loads back unchanged and passes, and the decision's JSON reads back the
/// same: the dump is a faithful regression case.
pub fn check_round_trip(case: &Case, ran: &Ran) {
    if let Ran::Decided { decision, .. } = ran {
        let json = serde_json::to_string(decision).unwrap_or_else(|e| panic!("{e}: {decision}"));
        let back: Decision = serde_json::from_str(&json).unwrap_or_else(|e| panic!("{e}: {json}"));
        assert_eq!(&back, decision);
    }
    let text = to_json(case);
    let loaded = match cases::parse(Path::new("dumped.json"), &text) {
        Ok(file) => file,
        Err(error) => panic!("a dumped case does not load: {error}\n{text}"),
    };
    assert_eq!(
        loaded.cases.as_slice(),
        std::slice::from_ref(case),
        "{text}"
    );
    let result = cases::run_case(case);
    assert!(
        result.passed(),
        "{:?}\n{}\n{text}",
        result.mismatches,
        result.explanation
    );
}
