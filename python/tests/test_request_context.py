"""Request context: what on_start plugins see, where their attributes land."""

import asyncio
import json

from opentelemetry.sdk.trace import TracerProvider

import spanplug
from conftest import span_files


def test_context_enricher_stamps_the_request_context_on_the_python_span_and_the_outputs(private_dir):
    provider = TracerProvider()
    for processor in spanplug.processors(
        ["context_enricher:serve_context", "console_file:default_tracing_exporter"],
        {"exporter_config": {"log_dir": str(private_dir)}},
    ):
        provider.add_span_processor(processor)
    tracer = provider.get_tracer("context")
    with spanplug.request_context(request_id="r-1", app="shop"):
        with tracer.start_as_current_span("inside") as span:
            pass
    with tracer.start_as_current_span("outside"):
        pass
    provider.shutdown()
    # On the Python span itself.
    assert span.attributes["request_id"] == "r-1"
    assert span.attributes["app"] == "shop"
    # And what the exporter after the enricher wrote.
    (file,) = span_files(private_dir)
    records = [json.loads(chunk) for chunk in file.read_text().replace("}\n{", "}\0{").split("\0")]
    by_name = {record["name"]: record["attributes"] for record in records}
    assert by_name["inside"] == {"request_id": "r-1", "app": "shop"}
    assert by_name["outside"] == {}


def test_the_request_context_follows_asyncio_tasks(private_dir):
    provider = TracerProvider()
    for processor in spanplug.processors(["context_enricher:serve_context"]):
        provider.add_span_processor(processor)
    tracer = provider.get_tracer("tasks")
    seen = {}

    async def handle(request_id: str) -> None:
        spanplug.request_context(request_id=request_id)
        await asyncio.sleep(0.01)  # the other tasks run meanwhile
        with tracer.start_as_current_span(request_id) as span:
            await asyncio.sleep(0)
        seen[request_id] = span.attributes.get("request_id")

    async def main() -> None:
        await asyncio.gather(*(handle(f"r-{i}") for i in range(5)))

    asyncio.run(main())
    provider.shutdown()
    assert seen == {f"r-{i}": f"r-{i}" for i in range(5)}


def test_an_inner_request_context_adds_to_the_outer_and_is_undone_at_its_end():
    with spanplug.request_context(request_id="r-1"):
        with spanplug.request_context(deployment="Model"):
            assert dict(spanplug._request_items()) == {"request_id": "r-1", "deployment": "Model"}
        assert dict(spanplug._request_items()) == {"request_id": "r-1"}
    assert spanplug._request_items() == []
