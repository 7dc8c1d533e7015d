//! `quip-bridge` (not built yet; see the crate docs).

fn main() -> anyhow::Result<()> {
    anyhow::bail!("quip-bridge is not built yet: run quipd (scripts/run) and use the SDK or its example CLI")
}
