"""The provider `spanplug.ray.setup_tracing` installs, without Ray: its tracers and
itself pickle by name (Ray pickles a task's or deployment's module globals)."""

import pickle

from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider

from spanplug.ray import _RayTracerProvider


def test_the_hooks_tracers_pickle_by_name_and_resolve_where_unpickled():
    provider = _RayTracerProvider()
    tracer = provider.get_tracer("shop", "1.2", schema_url="https://example.com/s", attributes={"team": "cart"})
    assert provider.get_tracer("shop", "1.2", schema_url="https://example.com/s", attributes={"team": "cart"}) is tracer
    # The standard module-level tracer, taken before the provider was set, then used.
    proxy = trace.ProxyTracer("shop")
    proxy._real_tracer = tracer

    for pickled in (tracer, proxy):
        resolved = pickle.loads(pickle.dumps(pickled))
        # Here no global provider is set: the API's proxy, which resolves once one is.
        real = resolved._real_tracer if pickled is proxy else resolved
        assert isinstance(real, trace.ProxyTracer)
        assert real._instrumenting_module_name == "shop"
    resolved = pickle.loads(pickle.dumps(tracer))
    assert (resolved._instrumenting_library_version, resolved._schema_url, resolved._attributes) == (
        "1.2", "https://example.com/s", {"team": "cart"},
    )
    assert pickle.loads(pickle.dumps(provider)) is trace.get_tracer_provider()


def test_an_sdk_tracer_of_another_provider_still_refuses_pickling():
    # Only the hook's own provider changes how its tracers pickle.
    try:
        pickle.dumps(TracerProvider().get_tracer("shop"))
    except TypeError as error:
        assert "pickle" in str(error)
    else:
        raise AssertionError("an SDK tracer pickled")
