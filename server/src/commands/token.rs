//! `astute token create`: a bearer token for the API's write endpoints.

use super::store_args::StoreArgs;
use crate::http::token_hash;
use crate::store::random_hex;

#[derive(Debug, clap::Subcommand)]
pub enum TokenCommand {
    /// Issue a new token and print it (only its hash is stored: keep it).
    Create {
        /// Who or what the token is for (shown in the server's log).
        #[arg(long, default_value = "default")]
        name: String,
        #[command(flatten)]
        store: StoreArgs,
    },
}

pub fn run(command: TokenCommand) -> anyhow::Result<()> {
    let TokenCommand::Create { name, store } = command;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let store = store.open().await?;
        let token = format!("astute_{}", random_hex(24)?);
        store.add_token(&token_hash(&token), &name).await?;
        store.close().await;
        println!("{token}");
        Ok(())
    })
}
