use super::*;

#[tokio::test]
async fn a_finished_job_releases_its_task() {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = Store::open(dir.path(), &crate::config::StoreConfig::default()).expect("store");
    let presence = Presence::new(store, Arc::new(Hub::default()), PresenceConfig::default(), Vec::new());
    let session = presence.connect("ada", 1, Arc::default()).await;
    presence.inner.tasks.wait_idle().await;
    {
        let shard = presence.inner.users.lock("ada");
        let state = shard.get("ada").expect("ada is online");
        assert!(state.online);
        // Holding a finished task's handle would keep its memory for as long as the user stays online.
        assert!(state.chain.is_none(), "the finished job's handle is still held");
    }
    drop(session);
    presence.shutdown().await;
}
