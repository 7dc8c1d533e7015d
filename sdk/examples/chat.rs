//! A line-based chat client for quipd.
//!
//! ```text
//! cargo run -p quip-sdk --example chat -- --server 127.0.0.1:4433 --fingerprint <hex> --token <jwt>
//! ```
//!
//! Commands: `/list`, `/open <user>`, `/group <title> <user>...`, `/join <conversation_id>`, `/history`,
//! `/quit`; any other line is sent to the current conversation. Incoming messages are printed as they
//! arrive: `[conv 3 #17] alice: hello`.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use anyhow::{Context, bail};
use clap::Parser;
use quip_sdk::{Client, ClientConfig, Conversation, Direction, Event, Message, Trust};
use tokio::io::{AsyncBufReadExt, BufReader};

#[derive(Debug, Parser)]
#[command(about = "Chat through a quipd broker")]
struct Args {
    /// The broker's QUIC address.
    #[arg(long, default_value = "127.0.0.1:4433")]
    server: SocketAddr,
    /// SHA-256 fingerprint of the broker's certificate (printed by quipd at start).
    #[arg(long)]
    fingerprint: String,
    /// A JWT for the user (e.g. from `quipd token --user bob`).
    #[arg(long, env = "QUIP_TOKEN")]
    token: String,
    /// This device's id (one session per user and device).
    #[arg(long, default_value = "cli")]
    device: String,
    /// The TLS server name.
    #[arg(long, default_value = "localhost")]
    server_name: String,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let mut config = ClientConfig::new(args.server, Trust::Fingerprint(args.fingerprint), args.token, args.device);
    config.server_name = args.server_name;
    let (client, mut events) = Client::connect(config).await.context("connecting to quipd")?;
    if let Some(welcome) = client.welcome() {
        println!("connected as {} (type /help)", welcome.user.id);
    }

    // The event printer runs on its own so that a slow terminal never holds up requests.
    let printer = tokio::spawn(async move {
        while let Some(event) = events.next_event().await {
            match event {
                Event::Message { message, .. } => print_message(&message),
                Event::Conversation(change) => {
                    println!("* conversation {} {:?} by {}", change.conversation.id, change.change, change.actor_id);
                }
                Event::Connected { resumed: true } => println!("* reconnected"),
                Event::Disconnected { reason, will_reconnect } => {
                    println!("* disconnected: {reason:?}{}", if will_reconnect { " (reconnecting)" } else { "" });
                }
                _ => {}
            }
        }
    });

    let current = Arc::new(AtomicU64::new(0));
    let mut lines = BufReader::new(tokio::io::stdin()).lines();
    while let Some(line) = lines.next_line().await? {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        if line == "/quit" {
            break;
        }
        if let Err(e) = run_line(&client, &current, line).await {
            println!("! {e:#}");
        }
    }
    client.close().await;
    let _ = printer.await;
    Ok(())
}

async fn run_line(client: &Client, current: &AtomicU64, line: &str) -> anyhow::Result<()> {
    let mut words = line.split_whitespace();
    match words.next().unwrap_or_default() {
        "/help" => println!("/list | /open <user> | /group <title> <user>... | /join <id> | /history | /quit | text"),
        "/list" => {
            let page = client.list_conversations(None, 50).await?;
            for c in &page.conversations {
                println!("  {:>4}  {}  (last #{})", c.id, describe(c), c.last_seq);
            }
            if page.conversations.is_empty() {
                println!("  no conversations yet: /open <user> or /group <title> <user>...");
            }
        }
        "/open" => {
            let peer = words.next().context("usage: /open <user>")?;
            let info = client.open_direct(peer, None).await?;
            join(client, current, info.conversation.id).await?;
        }
        "/group" => {
            let title = words.next().context("usage: /group <title> <user>...")?;
            let info = client.create_group(title, words).await?;
            join(client, current, info.conversation.id).await?;
        }
        "/join" => {
            let id =
                words.next().context("usage: /join <conversation_id>")?.parse().context("not a conversation id")?;
            join(client, current, id).await?;
        }
        "/history" => print_history(client, selected(current)?).await?,
        command if command.starts_with('/') => bail!("unknown command {command} (try /help)"),
        _ => {
            client.send_message(selected(current)?, line).await?;
        }
    }
    Ok(())
}

fn selected(current: &AtomicU64) -> anyhow::Result<u64> {
    match current.load(Ordering::Relaxed) {
        0 => bail!("no conversation selected: /open, /group or /join first"),
        id => Ok(id),
    }
}

async fn join(client: &Client, current: &AtomicU64, id: u64) -> anyhow::Result<()> {
    let info = client.get_conversation(id).await?;
    current.store(id, Ordering::Relaxed);
    println!("* now in conversation {id}: {}", describe(&info.conversation));
    print_history(client, id).await
}

async fn print_history(client: &Client, id: u64) -> anyhow::Result<()> {
    let page = client.history(id, 0, Direction::Backward, 20).await?;
    let mut messages = page.messages;
    messages.sort_by_key(|m| m.seq);
    for m in &messages {
        print_message(m);
    }
    Ok(())
}

fn print_message(m: &Message) {
    let text = if m.deleted { "(deleted)" } else { m.text.as_str() };
    println!("[conv {} #{}] {}: {}", m.conversation_id, m.seq, m.sender.id, text);
}

fn describe(c: &Conversation) -> String {
    if !c.title.is_empty() {
        return c.title.clone();
    }
    let members: Vec<&str> = c.members.iter().map(|m| m.user.id.as_str()).collect();
    format!("{:?} with {}", c.kind, members.join(", "))
}
