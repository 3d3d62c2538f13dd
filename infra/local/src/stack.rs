//! Starts, reuses and stops the emulators. State (pids, ports) is kept in
//! `.local/stack.json`; a service whose pid is gone or that fails its health check is
//! restarted on a fresh port, so a stack killed mid-test never blocks the next run.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::provision::{self, Clients, Endpoints, Resources};
use crate::template::LocalTemplate;
use crate::{paths, processes, Error};

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
struct Service {
    pid: u32,
    port: u16,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct State {
    dynamodb: Option<Service>,
    moto: Option<Service>,
}

/// A running, provisioned local stack.
#[derive(Debug, Clone)]
pub struct LocalStack {
    pub template: LocalTemplate,
    pub resources: Resources,
}

const START_TIMEOUT: Duration = Duration::from_secs(90);

fn url(port: u16) -> String {
    format!("http://127.0.0.1:{port}")
}

/// Where a stack keeps its state, lock and logs. The default is `.local/`; tests that
/// kill services use their own home so they never disturb the shared stack.
#[derive(Debug, Clone)]
pub struct StackHome {
    dir: PathBuf,
}

impl Default for StackHome {
    fn default() -> Self {
        Self {
            dir: paths::local_dir(),
        }
    }
}

impl StackHome {
    pub fn at(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }
    fn state(&self) -> PathBuf {
        self.dir.join("stack.json")
    }
    fn lock(&self) -> PathBuf {
        self.dir.join("stack.lock")
    }
    fn log(&self, kind: &str) -> PathBuf {
        self.dir.join("logs").join(format!("{kind}.log"))
    }
    /// Pids of the recorded service processes.
    pub fn pids(&self) -> Vec<u32> {
        let state = read_state(self);
        [state.dynamodb, state.moto]
            .into_iter()
            .flatten()
            .map(|s| s.pid)
            .collect()
    }
}

fn read_state(home: &StackHome) -> State {
    std::fs::read_to_string(home.state())
        .ok()
        .and_then(|text| serde_json::from_str(&text).ok())
        .unwrap_or_default()
}

fn write_state(home: &StackHome, state: &State) -> Result<(), Error> {
    std::fs::write(home.state(), serde_json::to_string_pretty(state)?)?;
    Ok(())
}

/// Holds the cross-process lock on the stack while it lives.
struct StackLock(File);

impl StackLock {
    fn acquire(home: &StackHome) -> Result<Self, Error> {
        std::fs::create_dir_all(&home.dir)?;
        let file = File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(home.lock())?;
        file.lock()?;
        Ok(Self(file))
    }
}

impl Drop for StackLock {
    fn drop(&mut self) {
        let _ = self.0.unlock();
    }
}

/// Runs the idempotent installer (a no-op check once everything is there).
pub fn install() -> Result<(), Error> {
    let status = std::process::Command::new("bash")
        .arg(paths::install_script())
        .status()?;
    if !status.success() {
        return Err("infra/scripts/install.sh failed; see the lines above".into());
    }
    Ok(())
}

async fn dynamodb_healthy(port: u16) -> bool {
    let clients = Clients::new(&Endpoints {
        dynamodb: url(port),
        moto: url(port),
    })
    .await;
    matches!(
        tokio::time::timeout(
            Duration::from_secs(3),
            clients.dynamodb.list_tables().limit(1).send()
        )
        .await,
        Ok(Ok(_))
    )
}

async fn moto_healthy(port: u16) -> bool {
    let client = reqwest::Client::new();
    matches!(
        tokio::time::timeout(Duration::from_secs(3), client.get(format!("{}/moto-api/", url(port))).send()).await,
        Ok(Ok(response)) if response.status().is_success()
    )
}

async fn healthy(kind: &str, port: u16) -> bool {
    match kind {
        "dynamodb" => dynamodb_healthy(port).await,
        _ => moto_healthy(port).await,
    }
}

fn log_tail(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(15)..].join("\n")
}

async fn start(home: &StackHome, kind: &'static str) -> Result<Service, Error> {
    let port = processes::free_port()?;
    let log = home.log(kind);
    let pid = match kind {
        "dynamodb" => {
            let emulator = paths::dynamodb_emulator();
            let args = vec![
                format!(
                    "-Djava.library.path={}",
                    emulator.join("DynamoDBLocal_lib").display()
                ),
                "-jar".into(),
                "DynamoDBLocal.jar".into(),
                "-inMemory".into(),
                "-sharedDb".into(),
                "-port".into(),
                port.to_string(),
            ];
            processes::spawn_detached(Path::new("java"), &args, &emulator, &log)?
        }
        _ => {
            let args = vec![
                "-H".into(),
                "127.0.0.1".into(),
                "-p".into(),
                port.to_string(),
            ];
            processes::spawn_detached(&paths::moto_server(), &args, &paths::local_dir(), &log)?
        }
    };
    let started = Instant::now();
    loop {
        if healthy(kind, port).await {
            return Ok(Service { pid, port });
        }
        if !processes::is_alive(pid) {
            return Err(format!(
                "{kind} exited during start; last log lines:\n{}",
                log_tail(&log)
            )
            .into());
        }
        if started.elapsed() > START_TIMEOUT {
            processes::stop(pid);
            return Err(format!(
                "{kind} did not become healthy in {START_TIMEOUT:?}; log: {}",
                log.display()
            )
            .into());
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

async fn reuse_or_start(
    home: &StackHome,
    kind: &'static str,
    previous: Option<Service>,
) -> Result<Service, Error> {
    if let Some(service) = previous {
        if processes::is_alive(service.pid) && healthy(kind, service.port).await {
            return Ok(service);
        }
        processes::stop(service.pid);
    }
    start(home, kind).await
}

/// Installs what is missing, starts or reuses the emulators, and provisions the
/// template's resources. Safe to call from many processes at once.
pub async fn ensure_up() -> Result<LocalStack, Error> {
    ensure_up_in(&StackHome::default()).await
}

pub async fn ensure_up_in(home: &StackHome) -> Result<LocalStack, Error> {
    let _lock = StackLock::acquire(home)?;
    install()?;
    let template = LocalTemplate::load(&paths::template())?;
    let previous = read_state(home);
    let dynamodb = reuse_or_start(home, "dynamodb", previous.dynamodb).await?;
    let moto = reuse_or_start(home, "moto", previous.moto).await?;
    write_state(
        home,
        &State {
            dynamodb: Some(dynamodb),
            moto: Some(moto),
        },
    )?;
    let endpoints = Endpoints {
        dynamodb: url(dynamodb.port),
        moto: url(moto.port),
    };
    let resources = provision::provision(&template, &endpoints).await?;
    Ok(LocalStack {
        template,
        resources,
    })
}

/// Stops the emulators recorded in the state file.
pub fn down() -> Result<(), Error> {
    down_in(&StackHome::default())
}

pub fn down_in(home: &StackHome) -> Result<(), Error> {
    let _lock = StackLock::acquire(home)?;
    for pid in home.pids() {
        processes::stop(pid);
    }
    let _ = std::fs::remove_file(home.state());
    Ok(())
}

/// One line per service: running or not.
pub async fn status() -> Vec<String> {
    let state = read_state(&StackHome::default());
    let mut lines = Vec::new();
    for (kind, service) in [("dynamodb", state.dynamodb), ("moto", state.moto)] {
        lines.push(match service {
            Some(s) if processes::is_alive(s.pid) && healthy(kind, s.port).await => {
                format!("{kind}: running at {} (pid {})", url(s.port), s.pid)
            }
            Some(s) => format!("{kind}: not healthy (pid {}, port {})", s.pid, s.port),
            None => format!("{kind}: not started"),
        });
    }
    lines
}
