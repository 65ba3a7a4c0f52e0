# The benchmark's span, shared by the Python scripts beside it (run by path, so
# Python puts this folder on sys.path): the same 5 attributes as the Rust questions'.


def emit(tracer, i, event=False):
    """One span with 5 attributes (and with `event`, 1 event), started and ended."""
    span = tracer.start_span("GET /user/{id}")
    span.set_attribute("http.request.method", "GET")
    span.set_attribute("http.route", "/user/{id}")
    span.set_attribute("http.response.status_code", 200)
    span.set_attribute("request_id", "0af7651916cd43dd8448eb211c80319c")
    span.set_attribute("i", i)
    if event:
        span.add_event("cache.miss", {"cache.key": "user:1"})
    span.end()
    return span
