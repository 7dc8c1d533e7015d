//! PostgreSQL for the Node+PG peer: a fresh cluster (`initdb`) in a temp dir, started with `pg_ctl start`
//! on 127.0.0.1 and a free port, trust authentication for its superuser [`USER`], `fsync` and
//! `synchronous_commit` on (the defaults, set explicitly); stopped (`pg_ctl stop -m fast`, then SIGKILL
//! if that fails) when dropped, its directory removed after.
//!
//! initdb and postgres refuse to run as root: as root, the cluster belongs to `nobody` (the commands run
//! with its uid and gid, the temp dir is chowned to it), otherwise to the current user. The binaries are
//! the ones on PATH, else the newest /usr/lib/postgresql/*/bin (Debian's package puts them there).

use std::os::unix::fs::MetadataExt as _;
use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context as _, bail};

/// The cluster's superuser, whom the peer connects as.
pub const USER: &str = "bench";

/// A running PostgreSQL cluster, stopped on drop.
#[derive(Debug)]
pub struct Postgres {
    pub port: u16,
    pid: Option<u32>,
    pg_ctl: PathBuf,
    data: PathBuf,
    /// The uid and gid the cluster runs as, when this generator runs as root.
    run_as: Option<(u32, u32)>,
    /// Removed after the cluster is stopped (fields drop in order, after `Drop::drop`).
    dir: tempfile::TempDir,
}

impl Postgres {
    /// initdb, configure, `pg_ctl start -w`; in pinned mode the server runs under `taskset -c 0`.
    pub fn start(bin_dir: Option<&Path>, pinned: bool, port: u16) -> anyhow::Result<Self> {
        let bin = match bin_dir {
            Some(dir) => dir.to_owned(),
            None => find_bin_dir().context(
                "PostgreSQL's initdb not found on PATH nor in /usr/lib/postgresql/*/bin: install the Debian \
                 package `postgresql` (scripts/bench-load does) or pass --pg-bin-dir",
            )?,
        };
        let run_as = if std::fs::metadata("/proc/self")?.uid() == 0 { Some(nobody()) } else { None };
        let builder = tempfile::Builder::new().prefix("quip-bench-pg-").clone();
        // As root the cluster's user must reach the directory: /tmp, not a TMPDIR that may be private.
        let dir = if run_as.is_some() { builder.tempdir_in("/tmp")? } else { builder.tempdir()? };
        if let Some((uid, gid)) = run_as {
            std::os::unix::fs::chown(dir.path(), Some(uid), Some(gid)).context("chown of the cluster's dir")?;
        }
        let data = dir.path().join("data");
        let mut initdb = command(run_as, false, &bin.join("initdb"), dir.path());
        initdb.arg("-D").arg(&data).args(["-U", USER, "--auth=trust", "--no-locale", "-E", "UTF8", "--no-sync"]);
        run(&mut initdb, "initdb")?;
        let conf = format!(
            "\n# quip-bench\nlisten_addresses = '127.0.0.1'\nport = {port}\nunix_socket_directories = '{}'\n\
             fsync = on\nsynchronous_commit = on\nmax_connections = 50\n",
            dir.path().display()
        );
        let conf_path = data.join("postgresql.conf");
        let mut text = std::fs::read_to_string(&conf_path).context("reading postgresql.conf")?;
        text.push_str(&conf);
        std::fs::write(&conf_path, text).context("writing postgresql.conf")?;

        // From here on the cluster may be running: dropping `pg` stops it.
        let mut pg = Self { port, pid: None, pg_ctl: bin.join("pg_ctl"), data, run_as, dir };
        let log = pg.dir.path().join("postgres.log");
        let mut start = command(run_as, pinned, &pg.pg_ctl, pg.dir.path());
        start.args(["start", "-w", "-t", "60", "-D"]).arg(&pg.data).arg("-l").arg(&log);
        if let Err(e) = run(&mut start, "pg_ctl start") {
            let tail = std::fs::read_to_string(&log).unwrap_or_default();
            bail!("{e:#}; postgres.log:\n{}", tail.lines().rev().take(20).collect::<Vec<_>>().join("\n"));
        }
        pg.pid = postmaster_pid(&pg.data);
        tracing::info!(port, pid = ?pg.pid, "postgres started");
        Ok(pg)
    }

    /// The postmaster's process id (its backends are its children).
    pub fn pid(&self) -> Option<u32> {
        self.pid
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        let mut stop = command(self.run_as, false, &self.pg_ctl, self.dir.path());
        stop.args(["stop", "-m", "fast", "-w", "-t", "30", "-D"]).arg(&self.data);
        if let Err(e) = run(&mut stop, "pg_ctl stop") {
            tracing::warn!(error = %e, "pg_ctl stop failed: killing the postmaster");
            if let Some(pid) = self.pid.or_else(|| postmaster_pid(&self.data)) {
                let _ = Command::new("kill").args(["-KILL", &pid.to_string()]).status();
            }
        }
    }
}

/// A PostgreSQL tool's command: as `run_as` if set, under taskset when `pinned`, in `cwd`.
fn command(run_as: Option<(u32, u32)>, pinned: bool, program: &Path, cwd: &Path) -> Command {
    let mut cmd = crate::cpu::server_command(pinned, program);
    cmd.current_dir(cwd).stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::piped());
    // The cluster listens on TCP only; nothing from the caller's PG* environment applies.
    for var in ["PGHOST", "PGPORT", "PGDATA", "PGUSER", "PGDATABASE"] {
        cmd.env_remove(var);
    }
    if let Some((uid, gid)) = run_as {
        // std drops the supplementary groups too when switching from root.
        cmd.uid(uid).gid(gid);
    }
    cmd
}

fn run(cmd: &mut Command, what: &str) -> anyhow::Result<()> {
    let out = cmd.output().with_context(|| format!("running {what}"))?;
    if !out.status.success() {
        bail!("{what} failed ({}): {}", out.status, String::from_utf8_lossy(&out.stderr).trim());
    }
    Ok(())
}

/// The first line of `postmaster.pid`.
fn postmaster_pid(data: &Path) -> Option<u32> {
    std::fs::read_to_string(data.join("postmaster.pid")).ok()?.lines().next()?.trim().parse().ok()
}

/// `nobody`'s uid and gid from /etc/passwd (65534 on Debian when it is not listed).
fn nobody() -> (u32, u32) {
    let passwd = std::fs::read_to_string("/etc/passwd").unwrap_or_default();
    passwd
        .lines()
        .map(|l| l.split(':').collect::<Vec<_>>())
        .find(|f| f.first() == Some(&"nobody"))
        .and_then(|f| Some((f.get(2)?.parse().ok()?, f.get(3)?.parse().ok()?)))
        .unwrap_or((65_534, 65_534))
}

/// Where initdb is: PATH, else the newest /usr/lib/postgresql/<version>/bin.
fn find_bin_dir() -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    if let Some(dir) = std::env::split_paths(&path).find(|d| d.join("initdb").is_file()) {
        return Some(dir);
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .flatten()
        .filter_map(|e| Some((e.file_name().to_str()?.parse().ok()?, e.path().join("bin"))))
        .filter(|(_, bin): &(u32, PathBuf)| bin.join("initdb").is_file())
        .collect();
    versions.sort();
    versions.pop().map(|(_, bin)| bin)
}
