"""Ray core with spanplug's tracing hook: one remote task."""

import ray

ray.init(num_cpus=1, include_dashboard=False, _tracing_startup_hook="spanplug.ray:setup_tracing")


@ray.remote
def my_function() -> int:
    return 1


assert ray.get(my_function.remote()) == 1
ray.shutdown()
