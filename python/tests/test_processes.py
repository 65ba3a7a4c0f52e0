"""Processes: after fork() parent and child each export their own spans, a
multiprocessing child delivers at its exit, and so does the interpreter at exit."""

import multiprocessing
import os
import subprocess
import sys
import textwrap

import spanplug


def emit(provider, name: str, count: int) -> None:
    tracer = provider.get_tracer("processes")
    for i in range(count):
        with tracer.start_as_current_span(name, attributes={"pid": os.getpid(), "i": i}):
            pass


def test_after_fork_parent_and_child_each_export_their_own_spans(receiver, provider_with):
    provider = provider_with(["otlp_http:otlp"], {"exporter_config": {"endpoint": receiver.endpoint}})
    emit(provider, "before fork", 2)
    provider.force_flush()
    child = os.fork()
    if child == 0:
        # The parent's export thread does not exist here: these go through the
        # pipeline loaded again in the child.
        try:
            emit(provider, "child", 5)
            provider.shutdown()
        finally:
            os._exit(0)
    emit(provider, "parent", 3)
    _, status = os.waitpid(child, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    provider.force_flush()
    spans = receiver.wait_for(10)
    pids = {}
    for _, span in spans:
        attributes = {kv.key: kv.value.int_value for kv in span.attributes}
        pids.setdefault(span.name, set()).add(attributes["pid"])
    assert {name: len(list(s for _, s in spans if s.name == name)) for name in pids} == {
        "before fork": 2, "child": 5, "parent": 3,
    }
    assert pids["child"] == {child}
    assert pids["parent"] == {os.getpid()}


def _multiprocessing_child(endpoint: str) -> None:
    from opentelemetry.sdk.trace import TracerProvider

    provider = TracerProvider(shutdown_on_exit=False)
    for processor in spanplug.processors(["otlp_http:otlp"], {"exporter_config": {"endpoint": endpoint}}):
        provider.add_span_processor(processor)
    emit(provider, "multiprocessing child", 4)
    # No shutdown, no flush: the child's exit must deliver them.


def test_a_multiprocessing_child_delivers_its_spans_when_it_exits(receiver):
    context = multiprocessing.get_context("fork")
    process = context.Process(target=_multiprocessing_child, args=(receiver.endpoint,))
    process.start()
    process.join(30)
    assert process.exitcode == 0
    spans = receiver.wait_for(4)
    assert [span.name for _, span in spans] == ["multiprocessing child"] * 4


def test_spans_queued_at_interpreter_exit_are_delivered(receiver):
    script = textwrap.dedent(
        f"""
        from opentelemetry import trace
        from opentelemetry.sdk.trace import TracerProvider
        import spanplug

        provider = TracerProvider()
        for processor in spanplug.processors(
            ["otlp_http:otlp"], {{"exporter_config": {{"endpoint": "{receiver.endpoint}"}}}}
        ):
            provider.add_span_processor(processor)
        tracer = provider.get_tracer("exit")
        for i in range(50):
            with tracer.start_as_current_span("at exit"):
                pass
        # Falls off the end: no flush, no shutdown.
        """
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SPANPLUG_", "OTEL_"))}
    result = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    spans = receiver.wait_for(50)
    assert len(spans) == 50
