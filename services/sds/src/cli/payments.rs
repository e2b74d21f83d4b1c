//! `sds payments ...`: payment schedules from the command line. The preview's JSON
//! contract is in [`preview`].

use sds_payments::preview;

use std::path::PathBuf;

#[derive(Debug, clap::Subcommand)]
pub enum PaymentsCommand {
    /// Prints the payment schedule of a plan history as JSON (see DOMAIN.md, "Money rules").
    Preview {
        /// The input JSON file, or - for standard input.
        #[arg(long)]
        input: PathBuf,
    },
}

pub fn run(command: PaymentsCommand) -> anyhow::Result<()> {
    match command {
        PaymentsCommand::Preview { input } => {
            let text = if input.as_os_str() == "-" {
                std::io::read_to_string(std::io::stdin())?
            } else {
                std::fs::read_to_string(&input)
                    .map_err(|error| anyhow::anyhow!("cannot read {}: {error}", input.display()))?
            };
            let schedule = preview::preview_json(&text)
                .map_err(|error| anyhow::anyhow!("InvalidArgument: {error}"))?;
            println!("{schedule}");
            Ok(())
        }
    }
}
