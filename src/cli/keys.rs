//! `mishen keys show`: the audit log's public key (created on first use), its key
//! id and origin, to pin for `mishen audit verify --public-key`.

use clap::{Subcommand, ValueEnum};
use mishen::audit::keys::{Keys, public_pem};
use std::path::PathBuf;

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum KeyFormat {
    Pem,
    Hex,
}

#[derive(Subcommand)]
pub enum KeysCommand {
    /// Print the public key (PEM or hex), creating the keys on first use.
    Show {
        #[arg(long, value_name = "DIR", env = "MISHEN_DATA_DIR", default_value = super::DEFAULT_DATA_DIR)]
        data_dir: PathBuf,
        #[arg(long, value_enum, default_value = "pem")]
        format: KeyFormat,
    },
}

pub fn run(cmd: KeysCommand) -> anyhow::Result<i32> {
    match cmd {
        KeysCommand::Show { data_dir, format } => {
            let k = Keys::open_or_create(&data_dir)?;
            let public = k.signer.public();
            match format {
                KeyFormat::Pem => {
                    eprintln!("key id {}; origin {}", k.signer.key_id(), k.origin);
                    print!("{}", public_pem(&public)?);
                }
                KeyFormat::Hex => println!("{}", hex::encode(public.as_bytes())),
            }
            Ok(0)
        }
    }
}
