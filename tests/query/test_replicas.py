"""The Gremlin server on several processes (``workers``): replica processes answer reads from
snapshots and forward what may change a graph, and reads of a changed source, to the primary.

Checked: which traversals count as mutations; answers through many connections equal the
in-process engine's; a change made through any connection, or in process through the served
engine, is seen by every connection afterwards and by the session's graph; replicas end with
the server.
"""

from __future__ import annotations

import pytest

pytest.importorskip("gremlin_python")
pytest.importorskip("aiohttp")

from gremlin_python.driver.client import Client
from gremlin_python.driver.driver_remote_connection import DriverRemoteConnection
from gremlin_python.process.anonymous_traversal import traversal
from gremlin_python.process.graph_traversal import __
from gremlin_python.process.traversal import Bytecode

import graphengine
from graphengine.datasets import load_modern_graph
from graphengine.query import Gremlin
from graphengine.query.server.replicas import may_mutate


def test_may_mutate_finds_mutating_steps_anywhere():
    g = traversal().with_(None)
    assert not may_mutate(g.V().out("knows").values("name").bytecode)
    assert not may_mutate(g.V().repeat(__.out()).times(2).path().bytecode)
    assert not may_mutate(g.V().coalesce(__.out(), __.in_()).count().bytecode)
    assert may_mutate(g.add_v("person").bytecode)
    assert may_mutate(g.V(1).property("age", 30).bytecode)
    assert may_mutate(g.V().coalesce(__.out("x"), __.add_v("x")).bytecode)
    assert may_mutate(g.V().side_effect(__.drop()).count().bytecode)
    assert may_mutate(g.merge_v({"name": "z"}).bytecode)
    assert may_mutate(g.E().union(__.identity(), __.local(__.drop())).bytecode)
    commit = Bytecode()
    commit.add_source("tx", "commit")
    assert may_mutate(commit)


@pytest.fixture(scope="module")
def sess():
    with graphengine.session() as s:
        yield s


def test_replicas_answer_reads_and_forward_changes(sess):
    engine = Gremlin(load_modern_graph(sess))
    local = Gremlin(load_modern_graph(sess)).traversal_source()
    server = sess.serve({"g": engine}, port=0, workers=2)
    assert server.wait_workers(120)
    processes = list(server._replicas.processes)
    conns = [DriverRemoteConnection(server.url, "g") for _ in range(12)]
    try:
        gs = [traversal().with_(c) for c in conns]

        def question(t):
            return t.V().has("name", "marko").out("knows").values("name").order().to_list()

        served = server.served
        for g in gs:
            assert question(g) == question(local) == ["josh", "vadas"]
            assert g.V().count().next() == 6
        # the kernel spread the 12 connections over both processes
        assert server.served - served < 24

        # a change through some connection: every connection sees it, and so does the session
        assert gs[5].add_v("person").property("name", "zed").count().next() == 1
        assert [g.V().has("name", "zed").count().next() for g in gs] == [1] * 12
        assert server.graph("g").vertex_count == 7
        client = Client(server.url, "g")
        try:
            client.submit("g.addV('software').property('name', 'ripple2')").all().result()
        finally:
            client.close()
        assert [g.V().count().next() for g in gs] == [8] * 12

        # a change in process through the served engine reaches every connection too
        engine.execute("g.V().has('name','zed').drop()").all()
        assert [g.V().has("name", "zed").count().next() for g in gs] == [0] * 12
    finally:
        for c in conns:
            c.close()
        server.stop()
    assert all(p.poll() is not None for p in processes)


def test_replicas_on_an_unchanged_source_stay_with_the_snapshot(sess):
    """Reads of a source nobody changed are answered by replicas too (the primary's own
    count of answered requests stays below the total)."""
    server = sess.serve(load_modern_graph(sess), port=0, workers=2)
    try:
        assert server.wait_workers(120)
        conns = [DriverRemoteConnection(server.url, "g") for _ in range(12)]
        try:
            for c in conns:
                assert traversal().with_(c).V(1).out().count().next() == 3
        finally:
            for c in conns:
                c.close()
        assert server.served < 12
    finally:
        server.stop()
