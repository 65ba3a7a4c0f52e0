//! Facts about the process for the resource (`host.name`, `process.pid`,
//! `container.id`, `k8s.*`): resolved once at `init`, sent once per batch by OTLP
//! exporters rather than on every span.

use opentelemetry::KeyValue;

/// The first of `names` that is set; a value that is not UTF-8 is left out of the
/// resource with a warning naming its variable (a fact, not a setting: tracing runs).
fn env(names: &[&str]) -> Option<String> {
    names
        .iter()
        .find_map(|name| match spanplug_loader::env::var(name) {
            Ok(value) => value,
            Err(error) => {
                log::warn!("{error}; left out of the resource");
                None
            }
        })
}

fn read_trimmed(path: &str) -> Option<String> {
    std::fs::read_to_string(path)
        .ok()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
}

/// A 64-hex-digit container id in a cgroup or mount path (Docker, containerd, CRI-O).
pub(crate) fn container_id_in(text: &str) -> Option<String> {
    text.lines().find_map(|line| {
        line.split(['/', '-', '.', ':'])
            .find(|part| part.len() == 64 && part.bytes().all(|b| b.is_ascii_hexdigit()))
            .map(str::to_string)
    })
}

pub(crate) fn process_facts() -> Vec<KeyValue> {
    let mut facts = vec![KeyValue::new("process.pid", i64::from(std::process::id()))];
    let host = read_trimmed("/proc/sys/kernel/hostname").or_else(|| env(&["HOSTNAME"]));
    let container = read_trimmed("/proc/self/cgroup")
        .and_then(|text| container_id_in(&text))
        .or_else(|| read_trimmed("/proc/self/mountinfo").and_then(|text| container_id_in(&text)));
    let pod = env(&["K8S_POD_NAME", "POD_NAME", "KUBERNETES_POD_NAME"]);
    let namespace = env(&["K8S_NAMESPACE_NAME", "K8S_NAMESPACE", "POD_NAMESPACE"])
        .or_else(|| read_trimmed("/var/run/secrets/kubernetes.io/serviceaccount/namespace"));
    for (key, value) in [
        ("host.name", host),
        ("container.id", container),
        ("k8s.pod.name", pod),
        ("k8s.namespace.name", namespace),
    ] {
        if let Some(value) = value {
            facts.push(KeyValue::new(key, value));
        }
    }
    facts
}

#[cfg(test)]
mod tests {
    use super::container_id_in;

    #[test]
    fn finds_container_ids_in_cgroup_and_mount_paths() {
        let id = "a".repeat(32) + &"0123456789abcdef".repeat(2);
        assert_eq!(
            container_id_in(&format!("0::/system.slice/docker-{id}.scope")),
            Some(id.clone())
        );
        assert_eq!(
            container_id_in(&format!(
                "1 2 0:3 /var/lib/docker/containers/{id}/hostname /etc/hostname rw"
            )),
            Some(id)
        );
        assert_eq!(container_id_in("0::/user.slice/session-3.scope"), None);
    }
}
