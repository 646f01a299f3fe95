#!/usr/bin/env python3
"""Writes the hand-made seeds of the fuzz corpora (tests/fuzz/corpus/).

Run from the repository root: python3 tests/fuzz/seeds.py. Seeds are small
and meaningful (valid schemas, configs, templates, payloads, registry
exchanges, a few mistakes); what the fuzzer adds is merged in with
libFuzzer's -merge=1 (tests/fuzz/README.md). Deterministic: the same files each
run.
"""
import glob
import json
import os
import random
import re
import struct
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "it"))
from katest import _zigzag as zigzag  # noqa: E402  (one Avro varint writer)

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
CORPUS = os.path.join(ROOT, "tests", "fuzz", "corpus")
rng = random.Random(10)
arng = random.Random(11)


def write(target, name, data):
    d = os.path.join(CORPUS, target)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


# ---- Avro binary encoding of random data for a schema ---------------------

PRIMS = {"null", "boolean", "int", "long", "float", "double", "bytes",
         "string"}


def fullname(t, ns):
    name = t["name"]
    if "." in name:
        return name, name.rsplit(".", 1)[0]
    space = t.get("namespace", ns) or ""
    return (space + "." + name if space else name), space


def encode(t, named, ns="", depth=0):
    if isinstance(t, list):
        i = rng.randrange(len(t))
        return zigzag(i) + encode(t[i], named, ns, depth)
    if isinstance(t, str):
        if t in PRIMS:
            return encode({"type": t}, named, ns, depth)
        key = t if t in named else (ns + "." + t)
        return encode(named[key], named, ns, depth)
    kind = t["type"]
    if isinstance(kind, (dict, list)):
        return encode(kind, named, ns, depth)
    if kind in named and kind not in PRIMS:
        return encode(named[kind], named, ns, depth)
    if kind == "null":
        return b""
    if kind == "boolean":
        return bytes([rng.randrange(2)])
    if kind in ("int", "long"):
        return zigzag(rng.choice([0, 1, -1, 1234567, -2**31, 2**31 - 1]))
    if kind == "float":
        return struct.pack("<f", rng.uniform(-1e6, 1e6))
    if kind == "double":
        return struct.pack("<d", rng.choice([0.5, -3.25, 1e300, 1.7e9,
                                             float("nan")]))
    if kind in ("bytes", "string"):
        s = b"abc"[: rng.randrange(4)]
        return zigzag(len(s)) + s
    if kind == "fixed":
        fn, _ = fullname(t, ns)
        named[fn] = t
        return bytes(int(t["size"]))
    if kind == "enum":
        fn, _ = fullname(t, ns)
        named[fn] = t
        return zigzag(rng.randrange(len(t["symbols"])))
    if kind in ("array", "map"):
        n = rng.randrange(3) if depth < 3 else 0
        out = bytearray()
        if n:
            out += zigzag(n)
            for _ in range(n):
                if kind == "map":
                    out += zigzag(1) + b"k"
                out += encode(t["items" if kind == "array" else "values"],
                              named, ns, depth + 1)
        out += zigzag(0)
        return bytes(out)
    if kind in ("record", "error"):
        fn, space = fullname(t, ns)
        named[fn] = t
        out = bytearray()
        for f in t["fields"]:
            out += encode(f["type"], named, space, depth + 1)
        return bytes(out)
    raise ValueError(kind)


def is_array(t):
    """Whether a field of type t is an array (or null or an array)."""
    if isinstance(t, list):
        return any(is_array(b) for b in t)
    return isinstance(t, dict) and t.get("type") == "array"


# ---- the golden sources, in the order the fuzz targets number them -------

def golden_sources():
    files = subprocess.run([os.path.join(ROOT, "tests/fuzz/golden-agents.sh")],
                           capture_output=True, text=True, check=True)
    out = []
    for path in files.stdout.split():
        text = open(os.path.join(ROOT, path)).read()
        case = path.split("/")[2]
        for topic in re.findall(r'\.topic = "([^"]*)"', text):
            avsc = os.path.join(ROOT, "tests/golden", case, "schemas",
                                topic + ".avsc")
            out.append((topic, json.load(open(avsc))))
    return out


def main():
    sources = golden_sources()
    schemas = sorted(glob.glob(os.path.join(ROOT, "tests/golden/*/schemas/"
                                            "*.avsc")))

    # avro_schema: the golden schemas, the shapes the parser knows.
    for i, path in enumerate(schemas):
        write("avro_schema", "golden-%02d" % i,
              json.dumps(json.load(open(path)), separators=(",", ":")))
    shapes = {
        "enum-fixed-map": {"type": "record", "name": "R", "namespace": "a.b",
                           "fields": [
                               {"name": "e", "type": {"type": "enum",
                                                      "name": "E",
                                                      "symbols": ["X", "Y"],
                                                      "default": "X"}},
                               {"name": "f", "type": {"type": "fixed",
                                                      "name": "c.F",
                                                      "size": 4}},
                               {"name": "m", "type": {"type": "map",
                                                      "values": "E"}},
                               {"name": "g", "type": "c.F"}]},
        "recursive": {"type": "record", "name": "Node", "fields": [
            {"name": "v", "type": "long"},
            {"name": "next", "type": ["null", "Node"], "default": None}]},
        "defaults": {"type": "record", "name": "D", "fields": [
            {"name": "a", "type": "int", "default": 1},
            {"name": "b", "type": {"type": "array", "items": "double"},
             "default": [1.5]},
            {"name": "c", "type": ["string", "null"], "default": "x"},
            {"name": "d", "type": "double", "default": "NaN"},
            {"name": "r", "type": {"type": "record", "name": "In", "fields": [
                {"name": "x", "type": "boolean"}]}, "default": {"x": True}}]},
        "aliases": {"type": "record", "name": "A", "aliases": ["Old"],
                    "fields": [{"name": "n", "type": "string",
                                "aliases": ["name"], "doc": "d",
                                "order": "ignore"}]},
        "logical": {"type": "record", "name": "L", "fields": [
            {"name": "t", "type": {"type": "long",
                                   "logicalType": "timestamp-millis"}},
            {"name": "d", "type": {"type": "bytes", "logicalType": "decimal",
                                   "precision": 4, "scale": 2}}]},
        "union-top": ["null", "int", {"type": "record", "name": "U",
                                      "fields": []}],
        "primitive": "string",
        "error-type": {"type": "error", "name": "Err", "fields": []},
    }
    for name, s in shapes.items():
        write("avro_schema", name, json.dumps(s))
    write("avro_schema", "bad-redefined",
          '{"type":"record","name":"R","fields":[{"name":"a","type":'
          '{"type":"fixed","name":"F","size":1}},{"name":"b","type":'
          '{"type":"fixed","name":"F","size":2}}]}')
    write("avro_schema", "bad-duplicate-field",
          '{"type":"record","name":"R","fields":[{"name":"a","type":"int"},'
          '{"name":"a","type":"long"}]}')

    # compat: reader NUL writer.
    v1 = {"type": "record", "name": "R", "fields": [
        {"name": "a", "type": "int"},
        {"name": "e", "type": {"type": "enum", "name": "E",
                               "symbols": ["X", "Y"]}}]}
    v2 = json.loads(json.dumps(v1))
    v2["fields"].append({"name": "b", "type": "string", "default": "z"})
    v2["fields"][0]["type"] = "long"
    v2["fields"][1]["type"]["symbols"].append("Z")
    v3 = {"type": "record", "name": "S", "aliases": ["R"], "fields": [
        {"name": "c", "aliases": ["a"], "type": ["null", "double"]}]}
    pairs = [(v1, v2), (v2, v1), (v1, v3), (v3, v1),
             (shapes["recursive"], shapes["recursive"]),
             ("int", ["null", "long"]), (["int", "string"], "bytes")]
    for i, (r, w) in enumerate(pairs):
        write("compat", "pair-%d" % i, json.dumps(r) + "\0" + json.dumps(w))

    # decode and json: a valid payload per golden source, then mistakes.
    for i, (topic, schema) in enumerate(sources):
        for k in range(3):
            body = encode(schema, {})
            write("decode", "%s-%d" % (topic, k), bytes([i]) + body)
        write("decode", "%s-confluent" % topic,
              bytes([i]) + b"\0\0\0\0\x07" + encode(schema, {}))
        fields = {f["name"]: rng.choice([1.5, -2, None, 1e308, 7])
                  for f in schema["fields"]}
        # Array fields hold arrays (own generator: the other seeds stay).
        for f in schema["fields"]:
            if is_array(f["type"]):
                fields[f["name"]] = [arng.choice([1.5, -2, None, 1e308, 7])
                                     for _ in range(arng.randrange(5))]
        write("json", topic, bytes([i]) + json.dumps(fields).encode())
        write("decode", "%s-json" % topic,
              bytes([i]) + json.dumps(fields).encode())
    write("json", "nested", b"\1" + b'{"a":[{"b":{"c":[1,2,"x\\u00e9"]}}],'
          b'"value0":-0.0,"value1":1E+2}')

    # resolve: a source, mode 1 (raw text), the schema, NUL, a payload.
    for i, (topic, schema) in enumerate(sources):
        evolved = json.loads(json.dumps(schema))
        # A field dropped (named types are defined further on) and one
        # added.
        if len(evolved["fields"]) > 1:
            del evolved["fields"][1]
        evolved["fields"].append({"name": "added", "type": "string",
                                  "default": ""})
        for mode in (1, 3):
            write("resolve", "%s-%d" % (topic, mode),
                  bytes([i, mode]) + json.dumps(evolved).encode() + b"\0" +
                  encode(evolved, {}))
    for k in range(4):
        write("resolve", "generated-%d" % k,
              bytes(rng.randrange(256) for _ in range(48)))

    # schema_gen and skip: choices for the generator.
    for k in range(6):
        choices = bytes(rng.randrange(256) for _ in range(64))
        write("schema_gen", "random-%d" % k, choices)
        write("skip", "random-%d" % k, choices)
    write("skip", "raw-program", b"\xff" + struct.pack(
        "<6i", 14, 2, 3, 11, 6, 0x7FFFFFFF) + b"\x02\x04\x01" + bytes(8))

    # window: a configuration, then adds, idleness reports and closes.
    for k in range(6):
        write("window", "script-%d" % k,
              bytes(rng.randrange(256) for _ in range(6)) +
              b"".join(bytes([rng.randrange(200)]) +
                       bytes(rng.randrange(256) for _ in range(12)) +
                       (bytes([rng.choice([205, 240])]) +
                        bytes(rng.randrange(256) for _ in range(3))
                        if rng.randrange(4) == 0 else b"")
                       for _ in range(40)))

    # config: the test configs and the example.
    configs = (sorted(glob.glob(os.path.join(ROOT, "tests/config/*.yaml"))) +
               sorted(glob.glob(os.path.join(ROOT, "tests/golden/*/"
                                             "config.yaml"))) +
               [os.path.join(ROOT, "example/aggregator-config.yaml")])
    for path in configs:
        name = os.path.relpath(path, ROOT).replace("/", "_")
        write("config", name, open(path, "rb").read())

    # mustache: the agent templates, and the spec's examples with data.
    for path in sorted(glob.glob(os.path.join(ROOT, "templates/*"))):
        write("mustache", os.path.basename(path), open(path, "rb").read())
    spec = os.path.join(ROOT, "..", "shared", "testdata", "mustache-spec")
    for path in sorted(glob.glob(os.path.join(spec, "*.json"))):
        for k, test in enumerate(json.load(open(path))["tests"]):
            if k % 3:
                continue
            data = (test["template"] + "\0" + json.dumps(test["data"]) +
                    "\0" + json.dumps(test.get("partials", {})))
            write("mustache", "%s-%d" % (os.path.basename(path)[:-5], k),
                  data)

    # registry_client: the answers of a good registry, then bad ones.
    schema = json.dumps({"type": "record", "name": "R", "fields": []})
    good = [b"\0" + json.dumps({"subject": "t-value", "version": 1, "id": 7,
                                "schema": schema}).encode(),
            b"\0" + json.dumps({"subject": "t-value", "version": 3, "id": 9,
                                "schema": schema}).encode(),
            b"\0" + json.dumps({"schema": schema}).encode(),
            b"\0" + b'{"id": 12}',
            b"\0" + json.dumps({"subject": "t-value", "version": 2,
                                "id": 12, "schema": '"double"'}).encode(),
            b"\0" + b'{"compatibilityLevel": "BACKWARD"}',
            b"\0" + b'{"compatibility": "FULL"}']
    write("registry_client", "good", b"\0\0".join(good))
    bad = [b"\x09" + b'{"error_code":40401,"message":"Subject not found."}',
           b"\x0c" + b"<html>Bad Gateway</html>",
           b"\x0a" + b'{"error_code":409,"message":"incompatible"}',
           b"\x00" + b'{"id": -1}', b"\x00" + b"[1,2", b"\x0b",
           b"\x00" + b'{"subject":"s","version":0,"id":1,"schema":"x"}']
    write("registry_client", "errors", b"\0\0".join(bad))

    # registry_server: request sequences.
    s1 = json.dumps({"schema": json.dumps(v1)})
    s2 = json.dumps({"schema": json.dumps(v2)})
    seqs = {
        "register-and-read": [
            "POST /subjects/t-value/versions\n" + s1,
            "POST /subjects/t-value/versions\n" + s2,
            "GET /subjects/t-value/versions/latest",
            "GET /subjects/t-value/versions/1/schema",
            "GET /schemas/ids/1", "GET /schemas/ids/2/versions",
            "GET /subjects", "GET /subjects/t-value/versions",
            "POST /subjects/t-value\n" + s1,
            "POST /compatibility/subjects/t-value/versions/latest\n" + s1],
        "config-and-delete": [
            'PUT /config\n{"compatibility": "FULL"}',
            'PUT /config/t%2Dvalue\n{"compatibility": "none"}',
            "GET /config/t-value", "POST /subjects/t-value/versions\n" + s2,
            "POST /subjects/t-value/versions\n" + s1,
            "DELETE /subjects/t-value/versions/1", "DELETE /subjects/t-value",
            "DELETE /config/t-value", "GET /mode", "GET /schemas/types"],
        "errors": [
            "POST /subjects/x/versions\n{\"schema\": \"{\\\"type\\\": 1}\"}",
            "POST /subjects/x/versions\n[1]", "GET /subjects/x/versions/0",
            "GET /schemas/ids/99", "PATCH /subjects", "GET /nope/%zz",
            'PUT /config\n{"compatibility": "SIDEWAYS"}',
            'POST /subjects/x/versions\n{"schema": "\\"int\\"", '
            '"schemaType": "PROTOBUF"}'],
    }
    for name, reqs in seqs.items():
        write("registry_server", name, "\0".join(reqs))


if __name__ == "__main__":
    main()
