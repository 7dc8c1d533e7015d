//! Prometheus metrics: one process-wide recorder (metrics + metrics-exporter-prometheus), rendered by
//! the admin listener at `/metrics`. Names follow Prometheus conventions: a `quip_` prefix, `_total`
//! counters, `_seconds` histograms in base units, and no label with unbounded values (no user or
//! conversation ids).

/// Installs the process-wide recorder (shared with a bridge in the same process) and describes quipd's
/// series, once.
pub fn install() {
    static DESCRIBED: std::sync::Once = std::sync::Once::new();
    if quip_service::metrics::handle().is_some() {
        DESCRIBED.call_once(describe);
    }
}

fn describe() {
    use metrics::{Unit, describe_counter, describe_gauge, describe_histogram};
    describe_counter!("quip_connections_total", "QUIC connections accepted, by transport");
    describe_counter!("quip_authentications_total", "Hello authentications, by result");
    describe_counter!(
        "quip_shared_stream_entries_total",
        "Entries queued on gateways' shared event streams: from the hub (one fan-out for many sessions) or a session"
    );
    describe_gauge!("quip_sessions", "Authenticated sessions open, by transport (native or gateway)");
    describe_gauge!("quip_gateway_connections", "Multiplexed (gateway) connections open");
    describe_gauge!("quip_online_users", "Users with at least one session");
    describe_gauge!(
        "quip_store_memory_bytes",
        "RocksDB's memory by part: memtables, block_cache (index and filter blocks included), table_readers"
    );
    describe_gauge!(
        "quip_heap_bytes",
        "The Rust heap as jemalloc counts it (RocksDB's C++ heap not included): allocated, resident, retained"
    );
    describe_counter!("quip_frames_in_total", "Request frames received, by type");
    describe_counter!("quip_frames_out_total", "Frames encoded for sessions, by type (a fanned-out event counts once)");
    describe_counter!("quip_messages_stored_total", "Messages durably stored (retries not counted)");
    describe_counter!("quip_deliveries_total", "Message events written to sessions");
    describe_histogram!("quip_fanout_sessions", "Sessions one message was pushed to");
    describe_histogram!("quip_send_ack_seconds", Unit::Seconds, "From a send's arrival to its ack");
    describe_histogram!(
        "quip_send_deliver_seconds",
        Unit::Seconds,
        "From a send's arrival to its write on a recipient's event stream (live deliveries)"
    );
    describe_histogram!("quip_store_write_seconds", Unit::Seconds, "RocksDB batch write time");
    describe_histogram!("quip_store_batch_size", "Commands per RocksDB write batch");
    describe_histogram!("quip_outbound_queue_depth", "Frames waiting in a session's queue when it takes one");
    describe_counter!("quip_slow_consumer_switches_total", "Sessions switched to catch-up from the store");
    describe_counter!("quip_errors_total", "Error replies, by code");
    describe_counter!("quip_rate_limited_total", "Requests refused by rate limits, by class");
    describe_counter!("quip_typing_events_total", "Typing signals forwarded");
    describe_counter!("quip_presence_events_total", "Presence changes published");
    describe_histogram!("quip_presence_fanout_sessions", "Sessions one presence change was pushed to");
    describe_counter!("quip_webhook_calls_total", "Offline webhook calls, by result");
    describe_counter!("quip_calls_total", "Calls started");
    describe_gauge!("quip_calls_active", "Calls ringing or in progress");
}

/// The text exposition of every metric.
pub fn render() -> String {
    quip_service::metrics::render()
}
