//! `quip-bench`: the load generator (scenarios arrive with the measurement work; see BENCHMARKS.md).

fn main() -> anyhow::Result<()> {
    anyhow::bail!("no load scenario yet; the criterion benchmarks run with `cargo bench -p quip-bench`")
}
