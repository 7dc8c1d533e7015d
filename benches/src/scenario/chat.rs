//! Scenario 1 (and 6 with `--target bridge`): N users in 1:1 conversations, each sending to its partner,
//! all together at the set rate.

use serde_json::json;

use super::pubsub::{self, PubSubOpts};
use crate::report::{self, Record};
use crate::transport::Topology;

#[derive(Debug, Clone, clap::Args)]
pub struct ChatArgs {
    /// Users (in pairs; each pair is one direct conversation).
    #[arg(long, default_value_t = 200)]
    pub users: usize,
    #[command(flatten)]
    pub opts: PubSubOpts,
}

pub async fn run(args: &ChatArgs) -> anyhow::Result<Vec<Record>> {
    let topology = Topology::chat(args.users);
    let records = pubsub::run("chat", json!({ "users": topology.users }), &topology, &args.opts).await?;
    report::emit(&records, args.opts.json.as_deref())?;
    Ok(records)
}
