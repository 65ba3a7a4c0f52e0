use std::time::Duration;

use super::{secrets, MessageLog};
use crate::settings::{BatchSettings, Compression, Protocol, Secret, Settings};

fn settings(endpoint: &str, headers: &[(&str, &str)]) -> Settings {
    Settings {
        endpoint: endpoint.into(),
        headers: headers
            .iter()
            .map(|(k, v)| (k.to_string(), Secret::new(*v)))
            .collect(),
        timeout: Duration::from_secs(1),
        protocol: Protocol::Protobuf,
        compression: Compression::None,
        certificate: None,
        client_certificate: None,
        client_key: None,
        batch: BatchSettings {
            schedule_delay: Duration::from_secs(1),
            max_queue_size: 1,
            max_export_batch_size: 1,
            export_timeout: Duration::from_secs(1),
        },
        resource_overrides: Vec::new(),
        withheld: None,
    }
}

#[test]
fn secrets_hold_a_basic_password_its_base64_and_the_query_values() {
    let settings = settings(
        "http://h:1/v1/traces?token=tok%2B123&v=1&empty=",
        // base64("user:pa55:word")
        &[
            ("authorization", "Basic dXNlcjpwYTU1OndvcmQ="),
            ("x-key", "k"),
        ],
    );
    assert_eq!(
        secrets(&settings),
        [
            "Basic dXNlcjpwYTU1OndvcmQ=",
            "dXNlcjpwYTU1OndvcmQ=",
            "pa55:word",
            "tok%2B123",
            "tok+123",
            "k",
        ]
    );
}

#[test]
fn a_kind_of_message_is_logged_once_whatever_its_numbers() {
    let log = MessageLog::default();
    assert!(log.first_time_lately(" (it said 500, more than the 10 sent): 3 too old"));
    assert!(!log.first_time_lately(" (it said 700, more than the 12 sent): 4 too old"));
    assert!(log.first_time_lately("another message"));
}
