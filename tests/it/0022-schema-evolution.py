"""A source schema evolved after generation (SPEC §9): a field added with
a default, a field removed and an int widened to long. Messages written
with the new schema id are read through schema resolution next to messages
of the generated one, in the same windows."""

from katest import (DevStack, Pipeline, avro, check, check_window,
                    one_source_config, produce, record_schema, topic, wait_for)

T0 = 1_700_000_000_000
src, out = topic("evolve"), topic("evolve-out")
config = one_source_config(out, src)
stack = DevStack(partitions=1, config=config)
v1 = record_schema("evolve", [("time", "double"), ("a", "int"),
                              ("b", "double"), ("c", "double")])
id1 = stack.register(f"{src}-value", v1)
pipe = Pipeline(stack, config)  # generated for v1

v2 = record_schema("evolve", [("time", "double"), ("a", "long"),
                              ("b", "double")])
v2["fields"].append({"name": "d", "type": "double", "default": 0.0})
id2 = stack.register(f"{src}-value", v2)  # BACKWARD-compatible
check(id2 != id1, f"the evolved schema has its own id ({id1} -> {id2})")
pipe.start_worker()

big = 2**40 + 3  # needs the long
rows = [(id1, v1, {"time": 0, "a": 5, "b": 1.5, "c": 10.0}),
        (id2, v2, {"time": 0, "a": big, "b": 2.5, "d": 99.0}),
        (id1, v1, {"time": 0, "a": -7, "b": 3.5, "c": 30.0}),
        (id2, v2, {"time": 0, "a": 11, "b": 4.5, "d": 98.0})]
produce(stack, src, [(0, T0 + 100 * i, None, avro(sid, s, rec))
                     for i, (sid, s, rec) in enumerate(rows)])
recs = wait_for(stack, out, 1)
check_window(recs[0], T0, 1000, 4, {
    "a": [5.0, float(big), -7.0, 11.0],
    "b": [1.5, 2.5, 3.5, 4.5],
    "c": [10.0, None, 30.0, None]},
    label="generated and resolved ids in one window")
check("through schema resolution" in pipe.worker_log(),
      "the worker says it resolves the new id")
print("PASS")
