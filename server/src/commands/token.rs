//! `astute token create|list|revoke`: bearer tokens for the API's write endpoints.

use super::store_args::StoreArgs;
use crate::http::token_hash;
use crate::store::{now_ms, random_hex};

#[derive(Debug, clap::Subcommand)]
pub enum TokenCommand {
    /// Issue a new token and print it (only its hash is stored: keep it).
    Create {
        /// Who or what the token is for (shown in the server's log and in `token list`).
        #[arg(long, default_value = "default")]
        name: String,
        /// May cancel and delete anyone's runs, and has no limit on queued work.
        #[arg(long)]
        admin: bool,
        /// Stops working after this many days.
        #[arg(long)]
        expires_in_days: Option<f64>,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// List the tokens: id, name, powers, dates (never the tokens themselves).
    List {
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Revoke a token by its id (from `token list`, 6 characters or more) or its name.
    Revoke {
        which: String,
        #[command(flatten)]
        store: StoreArgs,
    },
}

pub fn run(command: TokenCommand) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        match command {
            TokenCommand::Create {
                name,
                admin,
                expires_in_days,
                store,
            } => {
                let expires_at = match expires_in_days {
                    Some(days) if days.is_finite() && days > 0.0 && days <= 36_500.0 => {
                        Some(now_ms() + (days * 86_400_000.0) as i64)
                    }
                    Some(days) => anyhow::bail!("--expires-in-days {days}: give 0 to 36500 days"),
                    None => None,
                };
                let store = store.open().await?;
                let token = format!("astute_{}", random_hex(24)?);
                store
                    .add_token(&token_hash(&token), &name, admin, expires_at)
                    .await?;
                store.close().await;
                println!("{token}");
            }
            TokenCommand::List { store } => {
                let store = store.open().await?;
                let tokens = store.tokens().await?;
                store.close().await;
                println!(
                    "{:<12}  {:<20}  {:<5}  {:<10}  {:<10}  state",
                    "id", "name", "admin", "created", "expires"
                );
                let day = |ms: i64| {
                    chrono::DateTime::from_timestamp_millis(ms)
                        .map_or("?".to_owned(), |t| t.format("%Y-%m-%d").to_string())
                };
                let now = now_ms();
                for token in tokens {
                    let state = if token.revoked_at.is_some() {
                        "revoked"
                    } else if token.is_valid_at(now) {
                        "valid"
                    } else {
                        "expired"
                    };
                    println!(
                        "{:<12}  {:<20}  {:<5}  {:<10}  {:<10}  {state}",
                        token.id,
                        token.name,
                        if token.admin { "yes" } else { "no" },
                        day(token.created_at),
                        token.expires_at.map_or("never".to_owned(), day),
                    );
                }
            }
            TokenCommand::Revoke { which, store } => {
                let store = store.open().await?;
                let revoked = store.revoke_token(&which).await?;
                store.close().await;
                anyhow::ensure!(
                    revoked > 0,
                    "no valid token has the id or name {which:?} (see `astute token list`)"
                );
                eprintln!("revoked {revoked} token(s)");
            }
        }
        Ok(())
    })
}
