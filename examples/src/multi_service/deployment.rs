//! The five processes of the example started, watched and stopped together.

use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail};

use super::Role;

/// The five processes of the example on free loopback ports, each `exe serve ...`
/// (an executable that runs [`ServeArgs`] for `serve`). [`Deployment::stop`]
/// stops them with SIGTERM so they flush; dropping the deployment first kills them.
///
/// Each process's stderr is relayed with its name in front, and the lines in which
/// its exporters report at shutdown how many spans they delivered where are kept
/// for [`Deployment::delivery_reports`].
#[derive(Debug)]
pub struct Deployment {
    processes: Vec<(Role, Child)>,
    ports: BTreeMap<Role, u16>,
    relays: Vec<std::thread::JoinHandle<()>>,
    reports: Arc<Mutex<Vec<(Role, String)>>>,
}

/// What exporters log at shutdown: delivered counts (otlp_http's info line) or the
/// guard's error naming what was lost.
fn is_delivery_report(line: &str) -> bool {
    line.contains(": shut down; ") || line.contains("flush/shutdown incomplete")
}

/// Relays a child's stderr line by line, keeping its delivery reports.
fn relay_stderr(
    role: Role,
    stderr: std::process::ChildStderr,
    reports: Arc<Mutex<Vec<(Role, String)>>>,
) -> std::io::Result<std::thread::JoinHandle<()>> {
    use std::io::BufRead as _;
    std::thread::Builder::new()
        .name(format!("relay-{}", role.name()))
        .spawn(move || {
            for line in std::io::BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                eprintln!("[{}] {line}", role.deployment());
                if is_delivery_report(&line) {
                    let report = line.strip_prefix("spanplug ").unwrap_or(&line);
                    reports
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner)
                        .push((role, report.to_string()));
                }
            }
        })
}

impl Deployment {
    /// Starts every role, downstream first, each once the one it calls listens.
    pub fn start(exe: &Path, config: &Path, env: &[(&str, &OsStr)]) -> anyhow::Result<Deployment> {
        let ports = Role::ALL
            .into_iter()
            .map(|role| Ok((role, TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())))
            .collect::<anyhow::Result<_>>()?;
        let mut deployment = Deployment {
            processes: Vec::new(),
            ports,
            relays: Vec::new(),
            reports: Arc::default(),
        };
        for role in Role::ALL {
            let port = deployment.ports[&role];
            let mut command = Command::new(exe);
            command
                .args(["serve", role.name(), "--port", &port.to_string()])
                .arg("--config")
                .arg(config)
                .envs(env.iter().copied())
                .stderr(std::process::Stdio::piped());
            for upstream in role.downstream() {
                command.args([
                    "--upstream",
                    &format!("{}={}", upstream.name(), deployment.url(*upstream)),
                ]);
            }
            let mut child = command
                .spawn()
                .map_err(|e| anyhow!("starting {}: {e}", role.deployment()))?;
            if let Some(stderr) = child.stderr.take() {
                let relay = relay_stderr(role, stderr, Arc::clone(&deployment.reports))?;
                deployment.relays.push(relay);
            }
            deployment.processes.push((role, child));
            let (_, child) = deployment.processes.last_mut().expect("just pushed");
            if let Err(error) = wait_until_listening(port, role, child) {
                // Its error must be printed before ours: stop it, then let its relay
                // reach the end of the pipe.
                let _ = child.kill();
                let _ = child.wait();
                if let Some(relay) = deployment.relays.pop() {
                    let _ = relay.join();
                }
                return Err(error);
            }
        }
        Ok(deployment)
    }

    /// After [`Deployment::stop`]: each process's exporter reports, in stop order.
    pub fn delivery_reports(&self) -> Vec<(Role, String)> {
        self.reports
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    pub fn url(&self, role: Role) -> String {
        format!("http://127.0.0.1:{}", self.ports[&role])
    }

    /// SIGTERM, so each service flushes its spans; then wait for it to exit.
    pub fn stop(&mut self) -> anyhow::Result<()> {
        for (_, child) in &self.processes {
            let _ = Command::new("kill")
                .args(["-TERM", &child.id().to_string()])
                .status();
        }
        let deadline = Instant::now() + Duration::from_secs(15);
        for (role, child) in &mut self.processes {
            loop {
                match child.try_wait()? {
                    Some(status) if status.success() => break,
                    Some(status) => bail!("{} exited with {status}", role.deployment()),
                    None if Instant::now() > deadline => {
                        let _ = child.kill();
                        bail!("{} did not stop within 15 s", role.deployment());
                    }
                    None => std::thread::sleep(Duration::from_millis(20)),
                }
            }
        }
        self.processes.clear();
        // Every child has exited, so each relay reaches the end of its pipe.
        for relay in self.relays.drain(..) {
            let _ = relay.join();
        }
        Ok(())
    }
}

impl Drop for Deployment {
    fn drop(&mut self) {
        for (_, child) in &mut self.processes {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn wait_until_listening(port: u16, role: Role, child: &mut Child) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(20);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        if let Some(status) = child.try_wait()? {
            bail!(
                "{} exited ({status}) before it listened; its error is above",
                role.deployment()
            );
        }
        if Instant::now() > deadline {
            bail!(
                "{} did not start listening on port {port}",
                role.deployment()
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    Ok(())
}
