//! The loadable `redact` plugin: the functions of [`spanplug_redact`], exported.

use spanplug_redact::attributes;

spanplug_api::export_plugin! {
    #[transformer]
    attributes: "Masks secrets and personal data (config: keys globs, values email,card,bearer,ipv4, mode mask|hash|remove, hash_key) before later processors export them",
}
