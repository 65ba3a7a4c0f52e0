//! The export URL: parsed once, when the settings are resolved, by the WHATWG URL
//! parser reqwest itself uses, so a URL that passes here is the URL every export
//! sends to. Errors name the setting, never the value: a URL may carry credentials.
//!
//! User info (`http://user:password@host`) is taken out of the URL and sent as an
//! `Authorization: Basic` header, as curl, reqwest and Go's `net/http` do; a
//! configured `authorization` header wins over it (as it does in curl and Go).

use base64::prelude::{Engine as _, BASE64_STANDARD};
use reqwest::Url;

use super::Secret;
use spanplug_api::settings::percent_decode;

/// The path a base endpoint gets, as the spec builds the traces URL from
/// `OTEL_EXPORTER_OTLP_ENDPOINT`.
const TRACES_PATH: &str = "v1/traces";

/// A checked export URL.
#[derive(Debug)]
pub(super) struct Endpoint {
    /// The URL requests go to, without user info or fragment.
    pub url: String,
    /// `Basic …` from the URL's user info, if it had any.
    pub basic_auth: Option<Secret>,
}

/// Parses `text`, the value of `setting`. A base endpoint (`is_base`) gets
/// `/v1/traces` appended to its path; a traces endpoint is used as it is.
pub(super) fn parse(setting: &str, text: &str, is_base: bool) -> Result<Endpoint, String> {
    // No `{e}` detail echoes the input: the url crate's messages are fixed phrases.
    let mut url = Url::parse(text.trim()).map_err(|e| {
        format!("{setting}: not a valid URL ({e}); the value is not shown, it may hold credentials")
    })?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!(
            "{setting}: expected a URL starting with http:// or https://"
        ));
    }
    let basic_auth = take_user_info(setting, &mut url)?;
    url.set_fragment(None);
    if is_base {
        let path = format!("{}/{TRACES_PATH}", url.path().trim_end_matches('/'));
        url.set_path(&path);
    }
    Ok(Endpoint {
        url: url.into(),
        basic_auth,
    })
}

/// Removes the user info from `url`, returning it as a Basic credential.
fn take_user_info(setting: &str, url: &mut Url) -> Result<Option<Secret>, String> {
    if url.username().is_empty() && url.password().is_none() {
        return Ok(None);
    }
    let decode = |part: &str| {
        percent_decode(part).ok_or_else(|| {
            format!("{setting}: the URL's user info is not valid percent-encoded UTF-8")
        })
    };
    let user = decode(url.username())?;
    let password = decode(url.password().unwrap_or(""))?;
    // An http(s) URL always has a host, so both setters succeed.
    let _ = url.set_username("");
    let _ = url.set_password(None);
    let encoded = BASE64_STANDARD.encode(format!("{user}:{password}"));
    Ok(Some(Secret::new(format!("Basic {encoded}"))))
}

/// Whether `a` and `b` have one origin: scheme, host and port (a default port
/// written out or not). A URL that does not parse shares no origin.
pub(super) fn same_origin(a: &str, b: &str) -> bool {
    match (Url::parse(a), Url::parse(b)) {
        (Ok(a), Ok(b)) => a.origin() == b.origin(),
        _ => false,
    }
}

/// `url` for logs and processor names: scheme, host, port and path; never user
/// info, query or fragment. Something that is not a URL is not shown at all.
pub(super) fn for_logs(url: &str) -> String {
    match Url::parse(url) {
        Ok(mut url) => {
            let _ = url.set_username("");
            let _ = url.set_password(None);
            url.set_query(None);
            url.set_fragment(None);
            url.into()
        }
        Err(_) => "(not a valid URL)".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(text: &str) -> String {
        let error = parse("SETTING", text, true).unwrap_err();
        assert!(error.starts_with("SETTING: "), "{error}");
        error
    }

    #[test]
    fn malformed_urls_are_refused_without_echoing_them() {
        for (text, reason) in [
            ("http://[::1", "invalid IPv6 address"),
            ("http://127.0.0.1:99999", "invalid port number"),
            // A `#` before the `@` ends the authority: host `user`, port `s3cret`.
            ("http://user:s3cret#pw@127.0.0.1:1", "invalid port number"),
            ("http://", "empty host"),
        ] {
            let error = refused(text);
            assert!(error.contains(reason), "{text}: {error}");
            assert!(
                !error.contains("s3cret") && !error.contains(text),
                "{error}"
            );
        }
        for text in [
            "collector:4318",
            "ftp://host/",
            "file:///etc/passwd",
            "user:s3cret@host",
        ] {
            let error = refused(text);
            assert_eq!(
                error,
                "SETTING: expected a URL starting with http:// or https://"
            );
        }
    }

    #[test]
    fn user_info_becomes_basic_auth_and_leaves_the_url() {
        let endpoint = parse("S", "http://us%40er:p%23w@127.0.0.1:1/x?q=1#f", true).unwrap();
        assert_eq!(endpoint.url, "http://127.0.0.1:1/x/v1/traces?q=1");
        // base64("us@er:p#w")
        assert_eq!(endpoint.basic_auth.unwrap().expose(), "Basic dXNAZXI6cCN3");
        let endpoint = parse("S", "http://user:pw@[::1]:1/x/", false).unwrap();
        assert_eq!(endpoint.url, "http://[::1]:1/x/");
        assert!(parse("S", "https://h/", true).unwrap().basic_auth.is_none());
        assert!(refused("http://u:%ff@h/").contains("user info is not valid"));
    }

    #[test]
    fn base_endpoints_get_the_traces_path_once() {
        for (base, expected) in [
            ("http://collector:4318", "http://collector:4318/v1/traces"),
            ("http://collector:4318/", "http://collector:4318/v1/traces"),
            ("https://h/otlp//", "https://h/otlp/v1/traces"),
        ] {
            assert_eq!(parse("S", base, true).unwrap().url, expected);
        }
    }

    #[test]
    fn an_origin_is_scheme_host_and_port() {
        for (a, b) in [
            ("http://h:80/v1/traces", "http://H/other?q"),
            ("https://u:p@h/x", "https://h:443"),
            ("http://[::1]:1/", "http://[0:0::1]:1/a"),
        ] {
            assert!(same_origin(a, b), "{a} {b}");
        }
        for (a, b) in [
            ("http://h/", "https://h/"),
            ("http://h:1/", "http://h:2/"),
            ("http://h/", "http://h.evil/"),
            ("http://localhost:4318", "http://127.0.0.1:4318"),
            ("http://h/", "not a url"),
        ] {
            assert!(!same_origin(a, b), "{a} {b}");
        }
    }

    #[test]
    fn the_log_form_has_no_user_info_query_or_fragment() {
        assert_eq!(
            for_logs("http://user:pw@127.0.0.1:1/x?q=s3cret#f"),
            "http://127.0.0.1:1/x"
        );
        assert_eq!(
            for_logs("http://user:s3cret#pw@127.0.0.1:1"),
            "(not a valid URL)"
        );
        assert_eq!(for_logs("http://a@b@[::1]:80/"), "http://[::1]/");
        assert_eq!(for_logs("http://h:1/p?u:s3cret@x#y@z"), "http://h:1/p");
    }
}
