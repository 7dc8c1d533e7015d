//! Scenario 2 (and 6 with `--target bridge`): one sender to a group of M members, for each M asked.
//! Deliveries count the M receivers; Quip also delivers each message to the sender's own session (every
//! device of every member gets it), which is not counted.

use serde_json::json;

use super::pubsub::{self, PubSubOpts};
use crate::report::{self, Record};
use crate::transport::Topology;

#[derive(Debug, Clone, clap::Args)]
pub struct FanoutArgs {
    /// Group sizes (receivers besides the sender), comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "10,100,1000")]
    pub members: Vec<usize>,
    #[command(flatten)]
    pub opts: PubSubOpts,
}

pub async fn run(args: &FanoutArgs) -> anyhow::Result<Vec<Record>> {
    let mut records = Vec::new();
    for &members in &args.members {
        let topology = Topology::fanout(members);
        records.extend(pubsub::run("fanout", json!({ "members": members }), &topology, &args.opts).await?);
    }
    report::emit(&records, args.opts.json.as_deref())?;
    Ok(records)
}
