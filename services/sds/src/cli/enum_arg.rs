//! [`EnumArg`]: one clap value parser for every [`NamedEnum`], so that a flag taking a role,
//! an organisation kind or any service's enum reads and lists its values the same way.
//!
//! What must stay true: a value is accepted in its kebab-case or snake_case spelling and in
//! any case (`team-manager`, `team_manager`, `Team-Manager`), as [`NamedEnum::parse`] reads
//! it; `--help` and the refusal of an unknown value list the kebab-case names.

use std::ffi::OsStr;
use std::marker::PhantomData;

use clap::builder::{PossibleValue, TypedValueParser};
use clap::error::{ContextKind, ContextValue, ErrorKind};
use sds_vocabulary::NamedEnum;

/// Parses a flag's value as `E`, by name. Use it as
/// `#[arg(long, value_parser = EnumArg::<Role>::new())]`.
#[derive(Debug)]
pub struct EnumArg<E>(PhantomData<fn() -> E>);

impl<E> EnumArg<E> {
    pub fn new() -> Self {
        EnumArg(PhantomData)
    }
}

// Written out rather than derived: a derive would ask `E` itself to be `Clone`/`Default`.
impl<E> Clone for EnumArg<E> {
    fn clone(&self) -> Self {
        EnumArg::new()
    }
}

impl<E> Default for EnumArg<E> {
    fn default() -> Self {
        EnumArg::new()
    }
}

impl<E: NamedEnum + Send + Sync> TypedValueParser for EnumArg<E> {
    type Value = E;

    fn parse_ref(
        &self,
        command: &clap::Command,
        arg: Option<&clap::Arg>,
        value: &OsStr,
    ) -> Result<E, clap::Error> {
        let raw = value.to_string_lossy();
        // The field name only shapes `parse`'s own message, which clap's replaces.
        E::parse("value", &raw).map_err(|_| unknown_value::<E>(command, arg, &raw))
    }

    fn possible_values(&self) -> Option<Box<dyn Iterator<Item = PossibleValue> + '_>> {
        Some(Box::new(
            E::ALL
                .iter()
                .map(|value| PossibleValue::new(value.cli_name())),
        ))
    }
}

/// clap's own "invalid value" error, so that it reads like every other refused flag:
/// `invalid value 'colour' for '--kind <KIND>'` and `[possible values: ...]`.
fn unknown_value<E: NamedEnum>(
    command: &clap::Command,
    arg: Option<&clap::Arg>,
    raw: &str,
) -> clap::Error {
    let mut error = clap::Error::new(ErrorKind::InvalidValue).with_cmd(command);
    let flag = arg.map_or_else(|| "...".to_owned(), ToString::to_string);
    error.insert(ContextKind::InvalidArg, ContextValue::String(flag));
    error.insert(
        ContextKind::InvalidValue,
        ContextValue::String(raw.to_owned()),
    );
    let accepted = E::ALL.iter().map(|value| value.cli_name()).collect();
    error.insert(ContextKind::ValidValue, ContextValue::Strings(accepted));
    error
}

#[cfg(test)]
mod tests {
    use clap::Parser;
    use sds_vocabulary::{OrgKind, Role};

    use super::*;

    #[derive(Debug, Parser)]
    struct Flags {
        #[arg(long, value_parser = EnumArg::<OrgKind>::new())]
        kind: OrgKind,
        #[arg(long, value_delimiter = ',', value_parser = EnumArg::<Role>::new())]
        roles: Vec<Role>,
    }

    fn parse(args: &[&str]) -> Result<Flags, clap::Error> {
        Flags::try_parse_from(std::iter::once("sds").chain(args.iter().copied()))
    }

    #[test]
    fn a_value_is_read_in_kebab_case_snake_case_or_any_case() {
        let flags = parse(&[
            "--kind",
            "Provider",
            "--roles",
            "team-manager,provider_admin,FINANCE",
        ])
        .unwrap();
        assert_eq!(flags.kind, OrgKind::Provider);
        assert_eq!(
            flags.roles,
            vec![Role::TeamManager, Role::ProviderAdmin, Role::Finance]
        );
    }

    #[test]
    fn an_unknown_value_is_refused_with_the_accepted_names() {
        let error = parse(&["--kind", "council"]).unwrap_err();
        assert_eq!(error.kind(), ErrorKind::InvalidValue);
        let message = error.to_string();
        assert!(
            message.contains("invalid value 'council' for '--kind <KIND>'"),
            "{message}"
        );
        assert!(
            message.contains("[possible values: authority, provider, holder, person]"),
            "{message}"
        );

        let message = parse(&["--kind", "person", "--roles", "finance,boss"])
            .unwrap_err()
            .to_string();
        assert!(message.contains("invalid value 'boss'"), "{message}");
        assert!(
            message.contains(
                "practitioner, team-manager, panel, commissioning, finance, provider-admin"
            ),
            "{message}"
        );
    }

    #[test]
    fn help_lists_the_kebab_case_names() {
        use clap::CommandFactory;
        let help = Flags::command().render_help().to_string();
        assert!(
            help.contains("[possible values: authority, provider, holder, person]"),
            "{help}"
        );
        assert!(help.contains("team-manager"), "{help}");
    }
}
