//! Every seed app's documented client flow (bridge/tests/seeds/*.mjs: the real npm `socket.io-client` v4
//! and `fetch`, with the seed's own event names, payloads and REST routes) against a real quipd and a real
//! bridge serving each legacy dialect on a listener of its own.

use crate::common::{Env, setup_tools};

async fn flow(dialect: &str, script: &str) {
    setup_tools();
    let env = Env::start_with_dialects().await;
    let out = env.seed(dialect, script).await;
    assert_eq!(out["ok"], true, "{out}");
    assert_eq!(out["done"], true, "{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seed_000_kaajkaam_client_works_unchanged() {
    flow("kaajkaam", "kaajkaam.mjs").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seed_001_jivbook_client_works_unchanged() {
    flow("jivbook", "jivbook.mjs").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seed_002_ulearn_client_works_unchanged() {
    flow("ulearn", "ulearn.mjs").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seed_003_kcs_client_works_unchanged() {
    flow("kcs", "kcs.mjs").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seed_004_marketplace_client_works_unchanged() {
    flow("marketplace", "marketplace.mjs").await;
}
