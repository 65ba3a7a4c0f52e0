"""Each span reaches OTLP with the resource of the provider that made it, whatever
the processors were loaded with; nothing in the environment names the service."""

import os

from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider

import spanplug


def service_names(receiver) -> list:
    """(service.name, span names) for each ResourceSpans received, in order."""
    groups = []
    for request in receiver.requests:
        for resource_spans in request.resource_spans:
            attributes = {kv.key: kv.value.string_value for kv in resource_spans.resource.attributes}
            names = [span.name for scope in resource_spans.scope_spans for span in scope.spans]
            groups.append((attributes["service.name"], names))
    return groups


def test_the_providers_resource_reaches_otlp_with_nothing_in_the_environment(receiver):
    assert not [name for name in os.environ if name.startswith("OTEL_")]
    provider = TracerProvider(resource=Resource.create({"service.name": "checkout"}))
    for processor in spanplug.processors(["otlp_http:otlp"], {"exporter_config": {"endpoint": receiver.endpoint}}):
        provider.add_span_processor(processor)
    provider.get_tracer("shop").start_span("GET /cart").end()
    provider.force_flush()
    receiver.wait_for(1)
    assert service_names(receiver) == [("checkout", ["GET /cart"])]
    provider.shutdown()


def test_two_providers_through_one_processor_are_two_resource_groups(receiver):
    (processor,) = spanplug.processors(["otlp_http:otlp"], {"exporter_config": {"endpoint": receiver.endpoint}})
    checkout = TracerProvider(resource=Resource.create({"service.name": "checkout"}))
    payments = TracerProvider(resource=Resource.create({"service.name": "payments", "deployment.environment": "test"}))
    for provider in (checkout, payments):
        provider.add_span_processor(processor)
    for provider, name in ((checkout, "a"), (payments, "b"), (checkout, "c"), (payments, "d")):
        provider.get_tracer("shop").start_span(name).end()
    processor.force_flush()
    receiver.wait_for(4)
    # One batch: a ResourceSpans per resource, each with its own spans.
    assert len(receiver.requests) == 1
    assert service_names(receiver) == [("checkout", ["a", "c"]), ("payments", ["b", "d"])]
    (request,) = receiver.requests
    payments_resource = {kv.key: kv.value.string_value for kv in request.resource_spans[1].resource.attributes}
    assert payments_resource["deployment.environment"] == "test"
    assert payments_resource["telemetry.sdk.language"] == "python"
    processor.shutdown()
