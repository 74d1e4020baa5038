"""The GraphSON 3.0 reader against TinkerPop's toy graphs (skipped when ../shared/tinkerpop is absent).

A small hand-written file also runs always: typed values, string ids, multi- and
meta-properties, and the errors of malformed input.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pyarrow as pa
import pytest

from graphengine.errors import LoadError
from graphengine.query.graphson import decode, iter_graphson, read_graphson

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "tinkerpop" / "data"
needs_data = pytest.mark.skipif(not (DATA / "tinkerpop-modern-v3.json").exists(),
                                reason=f"TinkerPop data not found at {DATA}")


def _rows(g, label: str, kind: str = "vertex") -> list[dict]:
    """The rows of one label as dicts, sorted by id."""
    return sorted(g.to_arrow(label, kind).to_pylist(), key=lambda r: r["id"])


def _file_edges(path: Path) -> dict[int, tuple[int, str, int, dict]]:
    """Every edge of a GraphSON file, read with json alone: id -> (src, label, dst, properties)."""
    out = {}
    for line in path.read_text().splitlines():
        v = json.loads(line)
        for label, es in v.get("outE", {}).items():
            for e in es:
                props = {k: p["@value"] for k, p in e.get("properties", {}).items()}
                out[e["id"]["@value"]] = (v["id"]["@value"], label, e["inV"]["@value"], props)
    return out


# ------------------------------------------------------------------------------------ TinkerPop


@needs_data
def test_modern_counts_labels_and_types():
    g, extra = read_graphson(DATA / "tinkerpop-modern-v3.json")
    assert (g.vertex_count, g.edge_count) == (6, 6)
    assert extra == []
    assert sorted(g.vertex_labels) == ["person", "software"]
    assert sorted(g.edge_labels) == ["created", "knows"]
    person = g.to_arrow("person")
    assert person.schema.field("id").type == pa.int64()
    assert person.schema.field("age").type == pa.int32()      # g:Int32
    assert person.schema.field("name").type == pa.string()
    assert _rows(g, "person") == [
        {"id": 1, "name": "marko", "age": 29}, {"id": 2, "name": "vadas", "age": 27},
        {"id": 4, "name": "josh", "age": 32}, {"id": 6, "name": "peter", "age": 35}]
    assert _rows(g, "software") == [{"id": 3, "name": "lop", "lang": "java"},
                                    {"id": 5, "name": "ripple", "lang": "java"}]
    assert g.to_arrow("knows", "edge").schema.field("weight").type == pa.float64()  # g:Double


@needs_data
@pytest.mark.parametrize("fragments", [1, 3])
def test_modern_edges_match_the_file(fragments):
    path = DATA / "tinkerpop-modern-v3.json"
    g, _ = read_graphson(path, num_fragments=fragments)
    assert g.fnum == fragments
    got = {}
    for label in g.edge_labels:
        for r in g.to_arrow(label, "edge").to_pylist():
            got[r["id"]] = (r["src"], label, r["dst"], {"weight": r["weight"]})
    assert got == _file_edges(path)
    assert sorted(got) == [7, 8, 9, 10, 11, 12]


@needs_data
def test_classic_float_weight():
    g, extra = read_graphson(DATA / "tinkerpop-classic-v3.json")
    assert (g.vertex_count, g.edge_count, extra) == (6, 6, [])
    assert g.vertex_labels == ["vertex"]
    knows = g.to_arrow("knows", "edge")
    assert knows.schema.field("weight").type == pa.float32()  # g:Float
    assert sorted(knows.column("weight").to_pylist()) == [0.5, 1.0]
    # the vertices without age / lang hold nulls
    rows = {r["name"]: r for r in g.to_arrow("vertex").to_pylist()}
    assert rows["lop"]["age"] is None and rows["lop"]["lang"] == "java"


@needs_data
def test_crew_multi_and_meta_properties_become_mutations():
    g, extra = read_graphson(DATA / "tinkerpop-crew-v3.json")
    assert (g.vertex_count, g.edge_count) == (6, 14)
    assert sorted(g.edge_labels) == ["develops", "traverses", "uses"]
    # location is a multi-property with meta-properties: not a column
    assert g.to_arrow("person").column_names == ["id", "name"]
    # 4 + 3 + 4 + 3 locations of marko, stephen, matthias, daniel
    assert len(extra) == 14
    for text, bindings in extra:
        assert text.startswith("g.V(vid).property(Cardinality.list, \"location\", val")
        assert set(bindings) >= {"vid", "val", "m0"}
    marko = [(b["val"], b.get("m0"), b.get("m1")) for _, b in extra if b["vid"] == 1]
    assert marko == [("san diego", 1997, 2001), ("santa cruz", 2001, 2004),
                     ("brussels", 2004, 2005), ("santa fe", 2005, None)]
    santa_fe = next(t for t, b in extra if b["val"] == "santa fe")
    assert "endTime" not in santa_fe and "startTime" in santa_fe
    uses = g.to_arrow("uses", "edge")
    assert uses.schema.field("skill").type == pa.int32()
    assert uses.num_rows == 8


@needs_data
def test_sink_self_loop():
    g, extra = read_graphson(DATA / "tinkerpop-sink-v3.json")
    assert (g.vertex_count, g.edge_count, extra) == (3, 3, [])
    loops = g.to_arrow("self", "edge").to_pylist()
    assert loops == [{"src": 1000, "dst": 1000, "id": 1001}]


@needs_data
def test_grateful_dead_counts():
    g, extra = read_graphson(DATA / "grateful-dead-v3.json", num_fragments=2)
    assert (g.vertex_count, g.edge_count, extra) == (808, 8049, [])
    assert sorted(g.vertex_labels) == ["artist", "song"]
    assert sorted(g.edge_labels) == ["followedBy", "sungBy", "writtenBy"]
    song = g.to_arrow("song")
    assert song.num_rows == 584
    assert song.schema.field("performances").type == pa.int32()
    assert g.to_arrow("artist").num_rows == 224
    assert g.to_arrow("followedBy", "edge").num_rows == 7047


# ------------------------------------------------------------------------------------ always run


def _line(vid, label, props=None, out_e=None) -> str:
    obj = {"id": vid, "label": label}
    if props:
        obj["properties"] = props
    if out_e:
        obj["outE"] = out_e
    return json.dumps(obj)


def _i32(x):
    return {"@type": "g:Int32", "@value": x}


def test_decode_typed_values():
    assert decode(_i32(3)) == (3, "g:Int32")
    assert decode({"@type": "g:Int64", "@value": 3}) == (3, "g:Int64")
    assert decode({"@type": "g:Float", "@value": 0.5}) == (0.5, "g:Float")
    value, kind = decode({"@type": "g:Double", "@value": "NaN"})
    assert math.isnan(value) and kind == "g:Double"
    assert decode("x") == ("x", "string")
    assert decode(True) == (True, "boolean")
    assert decode({"@type": "g:List", "@value": [_i32(1), "a"]}) == ([1, "a"], "g:List")
    assert decode({"@type": "g:Map", "@value": ["k", _i32(2)]}) == ({"k": 2}, "g:Map")
    assert decode({"@type": "g:Set", "@value": [_i32(1), _i32(1)]}) == ({1}, "g:Set")
    with pytest.raises(LoadError, match="unsupported value type"):
        decode({"@type": "g:Nope", "@value": 1})


def test_string_ids_mixed_ints_and_single_mutation(tmp_path):
    path = tmp_path / "g.json"
    path.write_text("\n".join([
        _line("a", "p", {"n": [{"id": 0, "value": _i32(1)}],
                         "tag": [{"id": 1, "value": "x"}]},
              {"e": [{"id": _i32(10), "inV": "b", "properties": {"w": _i32(2)}}]}),
        _line("b", "p", {"n": [{"id": 2, "value": {"@type": "g:Int64", "@value": 5}}],
                         "tag": [{"id": 3, "value": _i32(7)}]}),
        _line("c", "q"),
        "",
    ]))
    g, extra = read_graphson(path)
    assert (g.vertex_count, g.edge_count) == (3, 1)
    p = g.to_arrow("p")
    assert pa.types.is_string(p.schema.field("id").type) or pa.types.is_large_string(
        p.schema.field("id").type)
    assert p.schema.field("n").type == pa.int64()  # Int32 and Int64 widen
    assert "tag" not in p.column_names               # string and int do not share a column
    assert [(t, b) for t, b in extra] == [
        ('g.V(vid).property(Cardinality.single, "tag", val)', {"vid": "a", "val": "x"}),
        ('g.V(vid).property(Cardinality.single, "tag", val)', {"vid": "b", "val": 7})]
    assert g.to_arrow("e", "edge").to_pylist() == [{"src": "a", "dst": "b", "id": 10, "w": 2}]
    assert [v.id for v in iter_graphson(path)] == ["a", "b", "c"]


def test_reserved_names_and_mixed_edge_types_become_mutations(tmp_path):
    path = tmp_path / "g.json"
    path.write_text("\n".join([
        _line(_i32(1), "p", {"id": [{"id": 0, "value": "x"}]},
              {"e": [{"id": _i32(10), "inV": _i32(2), "properties": {"w": _i32(1), "id": "a"}},
                     {"id": _i32(11), "inV": _i32(2), "properties": {"w": "heavy"}}]}),
        _line(_i32(2), "p"),
    ]))
    g, extra = read_graphson(path)
    assert g.to_arrow("p").column_names == ["id"]
    assert g.to_arrow("e", "edge").column_names == ["src", "dst", "id"]
    assert extra == [
        ('g.V(vid).property(Cardinality.single, "id", val)', {"vid": 1, "val": "x"}),
        ('g.E(eid).property("w", val)', {"eid": 10, "val": 1}),
        ('g.E(eid).property("w", val)', {"eid": 11, "val": "heavy"}),
        ('g.E(eid).property("id", val)', {"eid": 10, "val": "a"})]


def test_errors(tmp_path):
    with pytest.raises(LoadError, match="cannot open"):
        read_graphson(tmp_path / "missing.json")
    bad = tmp_path / "bad.json"
    bad.write_text(_line(_i32(1), "p") + "\n{not json\n")
    with pytest.raises(LoadError, match=r"bad.json:2"):
        read_graphson(bad)
    dangling = tmp_path / "dangling.json"
    dangling.write_text(_line(_i32(1), "p", out_e={"e": [{"id": _i32(5), "inV": _i32(9)}]}))
    with pytest.raises(LoadError, match="unknown vertex 9"):
        read_graphson(dangling)
    twice = tmp_path / "twice.json"
    twice.write_text(_line(_i32(1), "p") + "\n" + _line(_i32(1), "p"))
    with pytest.raises(LoadError, match="appears twice"):
        read_graphson(twice)
