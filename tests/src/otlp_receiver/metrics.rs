//! `/v1/metrics` on the same receiver: OTLP/HTTP protobuf metrics decoded with the
//! official schema, kept, and read back as the value of one data point.

use opentelemetry_proto::tonic::collector::metrics::v1::{
    ExportMetricsServiceRequest, ExportMetricsServiceResponse,
};
use opentelemetry_proto::tonic::common::v1::{any_value::Value as Any, KeyValue};
use opentelemetry_proto::tonic::metrics::v1::{metric::Data, number_data_point, Metric};
use prost::Message;

use axum::response::{IntoResponse, Response};

/// Decodes and keeps one metrics request (gzip or not) and its headers; 400 for
/// anything but OTLP protobuf.
pub(super) fn receive(
    shared: &super::Shared,
    headers: &axum::http::HeaderMap,
    body: &[u8],
) -> Response {
    let named: Vec<(String, String)> = headers
        .iter()
        .map(|(k, v)| {
            (
                k.to_string(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    shared.metrics_headers.lock().unwrap().push(named);
    let kept = &shared.metrics;
    if headers.get("content-type").map(|v| v.as_bytes()) != Some(b"application/x-protobuf") {
        return (
            axum::http::StatusCode::BAD_REQUEST,
            "metrics must be protobuf",
        )
            .into_response();
    }
    let body = match super::plain_body(headers, body) {
        Ok(body) => body,
        Err(message) => return (axum::http::StatusCode::BAD_REQUEST, message).into_response(),
    };
    match ExportMetricsServiceRequest::decode(body.as_slice()) {
        Ok(request) => {
            kept.lock().unwrap().push(request);
            (
                [("content-type", "application/x-protobuf")],
                ExportMetricsServiceResponse::default().encode_to_vec(),
            )
                .into_response()
        }
        Err(e) => (
            axum::http::StatusCode::BAD_REQUEST,
            format!("bad protobuf: {e}"),
        )
            .into_response(),
    }
}

/// Every metric named `name` in `requests`, in arrival order.
pub fn metrics_named<'a>(
    requests: &'a [ExportMetricsServiceRequest],
    name: &'a str,
) -> impl Iterator<Item = &'a Metric> + 'a {
    requests
        .iter()
        .flat_map(|r| r.resource_metrics.iter())
        .flat_map(|rm| rm.scope_metrics.iter())
        .flat_map(|sm| sm.metrics.iter())
        .filter(move |m| m.name == name)
}

fn text(value: &Any) -> String {
    match value {
        Any::StringValue(s) => s.clone(),
        Any::IntValue(i) => i.to_string(),
        other => format!("{other:?}"),
    }
}

/// A data point's attributes as `key=value` strings, sorted.
pub fn attribute_texts(attributes: &[KeyValue]) -> Vec<String> {
    let mut texts: Vec<String> = attributes
        .iter()
        .filter_map(|kv| {
            Some(format!(
                "{}={}",
                kv.key,
                text(kv.value.as_ref()?.value.as_ref()?)
            ))
        })
        .collect();
    texts.sort();
    texts
}

/// The last value of the sum (counter or up-down counter) `name` at the data point
/// whose attributes include every one of `with` (`key=value`); `None` if no point has
/// them. Cumulative temporality: the last export holds the total.
pub fn last_sum(
    requests: &[ExportMetricsServiceRequest],
    name: &str,
    with: &[&str],
) -> Option<i64> {
    let mut last = None;
    for metric in metrics_named(requests, name) {
        let Some(Data::Sum(sum)) = &metric.data else {
            panic!("{name} is not a sum: {:?}", metric.data);
        };
        for point in &sum.data_points {
            let attributes = attribute_texts(&point.attributes);
            if with.iter().all(|w| attributes.iter().any(|a| a == w)) {
                last = Some(match point.value {
                    Some(number_data_point::Value::AsInt(i)) => i,
                    Some(number_data_point::Value::AsDouble(d)) => d as i64,
                    None => 0,
                });
            }
        }
    }
    last
}

/// The data points of the sum `name` in the last request that has it: each point's
/// attributes (as [`attribute_texts`]) and value.
pub fn last_points(
    requests: &[ExportMetricsServiceRequest],
    name: &str,
) -> Vec<(Vec<String>, i64)> {
    let Some(metric) = metrics_named(requests, name).last() else {
        return Vec::new();
    };
    let Some(Data::Sum(sum)) = &metric.data else {
        panic!("{name} is not a sum: {:?}", metric.data);
    };
    sum.data_points
        .iter()
        .map(|p| {
            let value = match p.value {
                Some(number_data_point::Value::AsInt(i)) => i,
                Some(number_data_point::Value::AsDouble(d)) => d as i64,
                None => 0,
            };
            (attribute_texts(&p.attributes), value)
        })
        .collect()
}

/// The sum of the values of the last points of `name` that carry every one of `with`.
pub fn sum_of(requests: &[ExportMetricsServiceRequest], name: &str, with: &[&str]) -> i64 {
    last_points(requests, name)
        .into_iter()
        .filter(|(attributes, _)| with.iter().all(|w| attributes.iter().any(|a| a == w)))
        .map(|(_, value)| value)
        .sum()
}

/// The attribute sets of the histogram `name`'s data points in the last request that
/// has it, with each point's count.
pub fn histogram_points(
    requests: &[ExportMetricsServiceRequest],
    name: &str,
) -> Vec<(Vec<String>, u64)> {
    let Some(metric) = metrics_named(requests, name).last() else {
        return Vec::new();
    };
    let Some(Data::Histogram(histogram)) = &metric.data else {
        panic!("{name} is not a histogram: {:?}", metric.data);
    };
    histogram
        .data_points
        .iter()
        .map(|p| (attribute_texts(&p.attributes), p.count))
        .collect()
}
