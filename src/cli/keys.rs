//! `mishen keys show`: the audit log's first public key (created on first use),
//! the trust root to pin for `mishen audit verify --public-key`; the current key id
//! and origin go to standard error. `mishen keys rotate`: a new signing key,
//! announced by a record signed with the old one.

use clap::{Subcommand, ValueEnum};
use mishen::audit::keys::{Keys, public_pem, read_public};
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
    /// Replace the signing key; the change is a record signed by the old key.
    Rotate {
        #[arg(long, value_name = "DIR", env = "MISHEN_DATA_DIR", default_value = super::DEFAULT_DATA_DIR)]
        data_dir: PathBuf,
    },
}

pub fn run(cmd: KeysCommand) -> anyhow::Result<i32> {
    match cmd {
        KeysCommand::Show { data_dir, format } => {
            let k = Keys::open_or_create(&data_dir)?;
            let public = read_public(&data_dir)?;
            match format {
                KeyFormat::Pem => {
                    eprintln!(
                        "first key id {}; current key id {}; origin {}",
                        mishen::audit::keys::KeyId::of(&public),
                        k.signer.key_id(),
                        k.origin
                    );
                    print!("{}", public_pem(&public)?);
                }
                KeyFormat::Hex => println!("{}", hex::encode(public.as_bytes())),
            }
            Ok(0)
        }
        KeysCommand::Rotate { data_dir } => {
            super::audit::open_store(&data_dir)?;
            let mut log = mishen::audit::AuditLog::open(&data_dir, &super::actor())?;
            let old = log.keys().signer.key_id();
            let a = log.rotate(&data_dir)?;
            log.close()?;
            println!(
                "{}",
                serde_json::json!({"record_id": a.id, "seq": a.seq, "old_key_id": old.to_string(),
                                   "new_key_id": mishen::audit::keys::Keys::open(&data_dir)?.signer.key_id().to_string()})
            );
            Ok(0)
        }
    }
}
