"""The Gremlin Server protocol, driven by the real gremlinpython client (and raw aiohttp frames).

Covers: DriverRemoteConnection with GraphBinary (default) and GraphSON 3.0, Client.submit with
text and bindings, results equal to the in-process engine's, batching (206 ... 200) and 204,
SASL PLAIN success and failure, evaluation timeout (598), syntax and evaluation errors (597),
robustness (random bytes, truncated GraphBinary, unknown mime type, oversize frame, unknown op,
a client that disconnects mid-result), mutations visible in process, save on commit, the CLI.
"""

from __future__ import annotations

import asyncio
import base64
import io
import os
import random
import socket
import uuid

import pytest

pytest.importorskip("gremlin_python")
aiohttp = pytest.importorskip("aiohttp")

from gremlin_python.driver.client import Client
from gremlin_python.driver.driver_remote_connection import DriverRemoteConnection
from gremlin_python.driver.protocol import GremlinServerError
from gremlin_python.driver.serializer import (
    GraphBinarySerializersV1,
    GraphSONSerializersV3d0,
)
from gremlin_python.process.anonymous_traversal import traversal
from gremlin_python.process.graph_traversal import __
from gremlin_python.process.traversal import Bytecode, Order, P, T, TextP, Traverser
from gremlin_python.structure.io import graphbinaryV1

import graphengine
from graphengine.datasets import load_modern_graph
from graphengine.query import Gremlin
from graphengine.query.server import GremlinServer, add_user
from graphengine.query.server import protocol as pr

SERIALIZERS = {"graphbinary": GraphBinarySerializersV1, "graphson": GraphSONSerializersV3d0}


@pytest.fixture(scope="module")
def sess():
    with graphengine.session() as s:
        yield s


@pytest.fixture(scope="module")
def server(sess):
    """The modern graph as ``g`` and ``gmodern`` (separate engines), 64 KiB frames at most."""
    srv = sess.serve({"g": load_modern_graph(sess), "gmodern": load_modern_graph(sess)}, port=0,
                     max_frame_bytes=64 * 1024, evaluation_timeout=20.0)
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def local(sess):
    return Gremlin(load_modern_graph(sess))


def _remote(server, serializer="graphbinary", source="g", **kw):
    conn = DriverRemoteConnection(server.url, source, message_serializer=SERIALIZERS[serializer](),
                                  **kw)
    return conn, traversal().with_(conn)


def _norm(x):
    """Results comparable across the wire (dict keys keep their type, order kept)."""
    if isinstance(x, dict):
        return sorted(((repr(k), _norm(v)) for k, v in x.items()))
    if isinstance(x, (list, tuple)):
        return [_norm(v) for v in x]
    if isinstance(x, set):
        return sorted(repr(_norm(v)) for v in x)
    return x


TRAVERSALS = [
    lambda g: g.V().has("name", "marko").out("knows").values("name"),
    lambda g: g.V().count(),
    lambda g: g.E().has("weight", P.gt(0.5)).in_v().values("name"),
    lambda g: g.V().has("age", P.between(27, 33)).order().by("age", Order.desc).values("name"),
    lambda g: g.V().has("name", TextP.starting_with("m")).value_map(True),
    lambda g: g.V().group().by(T.label).by(__.values("name").fold()),
    lambda g: g.V(1).out().path().by("name"),
    lambda g: g.V().has_label("person").values("age").sum_(),
    lambda g: g.V().has("name", P.within("josh", "vadas")).out_e().label(),
    lambda g: g.V(1).out_e(),
    lambda g: g.V().both().both().group_count().by("name"),
    lambda g: g.V().has("name", "nobody"),
    lambda g: g.V().values("age").mean(),
    lambda g: g.V().project("n", "c").by("name").by(__.both().count()),
]


@pytest.mark.parametrize("serializer", ["graphbinary", "graphson"])
def test_bytecode_results_equal_in_process(server, local, serializer):
    conn, g = _remote(server, serializer)
    gl = local.traversal_source()
    try:
        for make in TRAVERSALS:
            got, want = make(g).to_list(), make(gl).to_list()
            assert _norm(got) == _norm(want), (make(gl).bytecode, got, want)
        # bulk: traversers come back with their bulk and gremlinpython expands them
        assert g.V().both().has_label("software").count().next() == 4
        assert sorted(g.V().out().values("name").to_list()) == sorted(
            gl.V().out().values("name").to_list())
    finally:
        conn.close()


@pytest.mark.parametrize("serializer", ["graphbinary", "graphson"])
def test_client_submit_text_and_bindings(server, local, serializer):
    client = Client(server.url, "g", message_serializer=SERIALIZERS[serializer]())
    try:
        text = "g.V().has('name', who).out(lab).values('name')"
        bindings = {"who": "marko", "lab": "knows"}
        got = client.submit(text, bindings).all().result()
        assert got == local.execute(text, bindings).all() == ["vadas", "josh"]
        assert client.submit("g.V().count()").all().result() == [6]
        assert client.submit("g.V(1).values('name').next()").all().result() == ["marko"]
        # an alias: the text's leading name is a served traversal source
        assert client.submit("gmodern.V().has('age', gt(30)).count()").all().result() == [2]
        # bindings are values, never code
        got = client.submit("g.V().has('name', x).count()", {"x": "g.V().drop()"}).all().result()
        assert got == [0]
        assert client.submit("g.V().count()").all().result() == [6]
    finally:
        client.close()


def test_aliases_map_g_to_a_named_source(server):
    conn, g = _remote(server, source="gmodern")
    try:
        assert g.V().has("name", "josh").values("age").next() == 32
    finally:
        conn.close()


def test_batches_and_empty_results(server):
    """batchSize 2 over 6 vertices: 206, 206, 200; an empty result: one 204."""
    ser = pr.GraphBinaryMessageSerializer()

    async def run():
        async with aiohttp.ClientSession() as s, s.ws_connect(server.url) as ws:
            codes = []
            await ws.send_bytes(_gb_request("eval", "", {"gremlin": "g.V()", "batchSize": 2}))
            while True:
                msg = await ws.receive(timeout=10)
                resp = _gb_response(msg.data)
                codes.append((resp["status"]["code"], len(resp["result"]["data"])))
                if resp["status"]["code"] != 206:
                    break
            await ws.send_bytes(_gb_request("eval", "", {"gremlin": "g.V().has('name','zz')"}))
            empty = _gb_response((await ws.receive(timeout=10)).data)
            return codes, empty

    codes, empty = asyncio.run(run())
    assert codes == [(206, 2), (206, 2), (200, 2)]
    assert empty["status"]["code"] == 204 and empty["result"]["data"] is None
    assert ser.mime == pr.GRAPHBINARY_V1


def test_syntax_and_evaluation_errors(server):
    client = Client(server.url, "g")
    try:
        with pytest.raises(GremlinServerError) as e:
            client.submit("g.V().has('name',").all().result()
        assert e.value.status_code == 597
        assert "line 1, column" in e.value.status_message
        with pytest.raises(GremlinServerError) as e:
            client.submit("g.V().noSuchStep()").all().result()
        assert e.value.status_code == 597
        with pytest.raises(GremlinServerError) as e:
            client.submit("g.V().map{ it.get() }").all().result()
        assert e.value.status_code == 597 and "lambda" in e.value.status_message
    finally:
        client.close()
    conn, g = _remote(server)
    try:
        bc = Bytecode()
        bc.add_step("V")
        bc.add_step("noSuchStep")
        with pytest.raises(GremlinServerError) as e:
            conn.submit(bc)
        assert e.value.status_code == 597 and "noSuchStep" in e.value.status_message
        assert g.V().count().next() == 6          # the connection keeps working
    finally:
        conn.close()


def test_timeout(server):
    client = Client(server.url, "g")
    try:
        with pytest.raises(GremlinServerError) as e:
            client.submit("g.V().repeat(both()).times(12).path().count()",
                          request_options={"evaluationTimeout": 100}).all().result()
        assert e.value.status_code == 598
        assert "evaluationTimeout" in e.value.status_message
        assert client.submit("g.V().count()").all().result() == [6]
    finally:
        client.close()
    conn, g = _remote(server)
    try:
        with pytest.raises(GremlinServerError) as e:
            g.with_("evaluationTimeout", 100).V().repeat(__.both()).times(12).path().count().next()
        assert e.value.status_code == 598
    finally:
        conn.close()


@pytest.fixture(scope="module")
def secured(sess, tmp_path_factory):
    path = tmp_path_factory.mktemp("auth") / "users.txt"
    add_user(path, "alice", "s3cret!")
    add_user(path, "bob", "other")
    assert "s3cret" not in path.read_text()
    srv = sess.serve(load_modern_graph(sess), port=0, credentials=path)
    yield srv
    srv.stop()


@pytest.mark.parametrize("serializer", ["graphbinary", "graphson"])
def test_sasl_success(secured, serializer):
    conn, g = _remote(secured, serializer, username="alice", password="s3cret!")
    try:
        assert g.V().count().next() == 6
        assert g.V().has("name", "marko").values("age").next() == 29   # authenticated once
    finally:
        conn.close()


def test_sasl_failure(secured):
    conn, g = _remote(secured, username="alice", password="wrong")
    try:
        with pytest.raises(GremlinServerError) as e:
            g.V().count().next()
        assert e.value.status_code == 401
    finally:
        conn.close()
    conn, g = _remote(secured, username="mallory", password="s3cret!")
    try:
        with pytest.raises(GremlinServerError) as e:
            g.V().count().next()
        assert e.value.status_code == 401
    finally:
        conn.close()


def test_sasl_required(secured):
    async def run():
        async with aiohttp.ClientSession() as s, s.ws_connect(secured.url) as ws:
            await ws.send_bytes(_gb_request("eval", "", {"gremlin": "g.V().count()"}))
            return _gb_response((await ws.receive(timeout=10)).data)

    assert asyncio.run(run())["status"]["code"] == 407


# ------------------------------------------------------------------------------- robustness

def _gb_request(op: str, processor: str, args: dict, rid: uuid.UUID | None = None) -> bytes:
    ser = GraphBinarySerializersV1()
    return ser.finalize_message({"requestId": str(rid or uuid.uuid4()), "op": op,
                                 "processor": processor, "args": args}, 0x20, ser.version)


def _gb_response(data: bytes) -> dict:
    return GraphBinarySerializersV1().deserialize_message(data)


def _graph_unchanged(server) -> None:
    assert server.execute("g", "g.V().count()") == [6]
    assert server.execute("g", "g.E().count()") == [6]
    conn, g = _remote(server)      # another client is still served
    try:
        assert g.V().has("name", "marko").out("knows").count().next() == 2
    finally:
        conn.close()


async def _exchange(url: str, frame: bytes | str):
    """Sends one frame; returns ('response', status code) or ('closed', close code)."""
    async with aiohttp.ClientSession() as s, s.ws_connect(url, max_msg_size=0) as ws:
        if isinstance(frame, str):
            await ws.send_str(frame)
        else:
            await ws.send_bytes(frame)
        msg = await ws.receive(timeout=10)
        if msg.type == aiohttp.WSMsgType.BINARY:
            return "response", _gb_response(msg.data)["status"]["code"]
        if msg.type == aiohttp.WSMsgType.TEXT:
            return "response", GraphSONSerializersV3d0().deserialize_message(msg.data)["status"]["code"]
        return "closed", ws.close_code


def test_random_bytes(server):
    rng = random.Random(7)
    for n in (1, 5, 40, 300):
        kind, code = asyncio.run(_exchange(server.url, bytes(rng.randrange(256) for _ in range(n))))
        assert kind == "closed" or code == 498
    _graph_unchanged(server)


def test_truncated_graphbinary(server):
    full = _gb_request("bytecode", "traversal",
                       {"gremlin": traversal().with_(None).V().has("name", "marko").bytecode,
                        "aliases": {"g": "g"}})
    for cut in (34, 40, 60, len(full) - 3):
        kind, code = asyncio.run(_exchange(server.url, full[:cut]))
        assert (kind, code) == ("response", 498)
    kind, code = asyncio.run(_exchange(server.url, b"\x05hello" + full[33:]))
    assert (kind, code) == ("response", 498)        # an unknown mime type
    kind, code = asyncio.run(_exchange(server.url, '{"op": "eval", "args": '))  # broken GraphSON
    assert (kind, code) == ("response", 498)
    _graph_unchanged(server)


def test_oversize_frame(server):
    big = _gb_request("eval", "", {"gremlin": "g.V().has('name', x)", "bindings": {"x": "y" * 200_000}})
    kind, code = asyncio.run(_exchange(server.url, big))
    assert kind == "closed" and code == 1009
    _graph_unchanged(server)


def test_unknown_op_and_bad_arguments(server):
    assert asyncio.run(_exchange(server.url, _gb_request("frobnicate", "", {}))) == ("response", 499)
    assert asyncio.run(_exchange(server.url, _gb_request("eval", "", {}))) == ("response", 499)
    assert asyncio.run(_exchange(server.url, _gb_request(
        "eval", "", {"gremlin": "g.V()", "batchSize": -1}))) == ("response", 499)
    assert asyncio.run(_exchange(server.url, _gb_request(
        "bytecode", "traversal", {"gremlin": traversal().with_(None).V().bytecode,
                                  "aliases": {"g": "nosuch"}}))) == ("response", 499)
    _graph_unchanged(server)


def test_client_disconnects_mid_result(server):
    async def run():
        async with aiohttp.ClientSession() as s:
            ws = await s.ws_connect(server.url)
            await ws.send_bytes(_gb_request("eval", "", {
                "gremlin": "g.V().both().both().both().both()", "batchSize": 1}))
            first = _gb_response((await ws.receive(timeout=10)).data)
            await ws.close()
            return first["status"]["code"]

    assert asyncio.run(run()) == 206
    _graph_unchanged(server)


def test_graphson_text_frames(server):
    msg = (f'{{"requestId": "{uuid.uuid4()}", "op": "eval", "processor": "", "args": {{"gremlin": '
           '"g.V().has(\'name\', n).values(\'age\')", "bindings": {"n": "vadas"}}}')

    async def run():
        async with aiohttp.ClientSession() as s, s.ws_connect(server.url) as ws:
            await ws.send_str(msg)
            return (await ws.receive(timeout=10)).data

    resp = GraphSONSerializersV3d0().deserialize_message(asyncio.run(run()))
    assert resp["status"]["code"] == 200 and resp["result"]["data"] == [27]


def test_protocol_reads_what_gremlinpython_writes():
    """Predicates, strategies, enums and typed numbers survive GraphBinary and GraphSON."""
    from gremlin_python.process.strategies import SubgraphStrategy
    from gremlin_python.statics import long

    g = traversal().with_(None)
    t = (g.with_strategies(SubgraphStrategy(vertices=__.has("age", P.gt(28))))
         .V().has("name", P.within("a", "b")).has("age", P.between(1, long(5)))
         .has("name", TextP.containing("x").or_(TextP.ending_with("y")))
         .order().by("age", Order.desc).inject(long(2 ** 40)))
    for ser_cls, pser in ((GraphBinarySerializersV1, pr.GraphBinaryMessageSerializer),
                          (GraphSONSerializersV3d0, pr.GraphSONMessageSerializer)):
        client_ser = ser_cls()
        from gremlin_python.driver.request import RequestMessage
        frame = client_ser.serialize_message(str(uuid.uuid4()), RequestMessage(
            "traversal", "bytecode", {"gremlin": t.bytecode, "aliases": {"g": "g"}}))
        _mime, payload = pr.split_frame(frame)
        req = pser().read_request(payload)
        bc = req.args["gremlin"]
        assert isinstance(bc, Bytecode) and str(bc) == str(t.bytecode), ser_cls
        strat = bc.source_instructions[0][1]
        assert strat.strategy_name == "SubgraphStrategy"
        assert isinstance(strat.configuration["vertices"], Bytecode)
        assert type(bc.step_instructions[-1][1]) is long


def test_serialization_error_is_599(sess):
    class Odd:
        pass

    q = Gremlin(load_modern_graph(sess))
    ser = pr.GraphBinaryMessageSerializer()
    with pytest.raises(pr.ProtocolError) as e:
        ser.write_response(uuid.uuid4(), 200, "", [Odd()])
    assert e.value.code == 599
    buf = io.BytesIO(ser.write_response(uuid.uuid4(), 200, "", [1, 2 ** 40, 2 ** 70, 1.5]))
    out = GraphBinarySerializersV1().deserialize_message(buf.getvalue())
    assert out["result"]["data"] == [1, 2 ** 40, 2 ** 70, 1.5]
    assert q.execute("g.V().count()").one() == 6
    assert graphbinaryV1.DataType.traverser.value == 0x21


# ------------------------------------------------------------------------------- mutations

def test_mutations_reach_the_session_graph(sess):
    g0 = load_modern_graph(sess)
    q = sess.gremlin(g0)
    server = sess.serve({"g": q}, port=0)
    try:
        conn, g = _remote(server)
        try:
            g.add_v("person").property("name", "zoe").property("age", 41).iterate()
            g.V().has("name", "vadas").drop().iterate()
            assert g.V().count().next() == 6
        finally:
            conn.close()
        # in process: the same engine sees the server's mutations, and the store graph too
        assert q.execute("g.V().has('name','zoe').values('age')").all() == [41]
        assert server.engine("g") is q
        graph = server.graph("g")
        assert graph.vertex_count == 6
        assert Gremlin(graph).execute("g.V().has('name','vadas').count()").one() == 0
        # a failing traversal leaves the graph as it was
        client = Client(server.url, "g")
        try:
            with pytest.raises(GremlinServerError):
                client.submit("g.addV('person').property('name','x').V().noSuchStep()").all().result()
        finally:
            client.close()
        assert q.execute("g.V().count()").one() == 6
    finally:
        server.stop()


def test_commit_saves_a_path_backed_graph(sess, tmp_path):
    path = tmp_path / "modern"
    load_modern_graph(sess).save(path)
    server = GremlinServer({"g": graphengine.load_graph(path)}, port=0, paths={"g": path}).start()
    try:
        client = Client(server.url, "g")
        try:
            client.submit("g.addV('person').property('name','ann')").all().result()
            assert graphengine.load_graph(path).vertex_count == 6       # not yet committed
            assert client.submit("g.tx().commit()").all().result() == []
        finally:
            client.close()
        assert graphengine.load_graph(path).vertex_count == 7
        conn, g = _remote(server)
        try:
            g.add_v("person").property("name", "bo").iterate()
        finally:
            conn.close()
    finally:
        server.stop()                                                   # saves on stop
    assert graphengine.load_graph(path).vertex_count == 8


def test_session_close_stops_its_servers():
    s = graphengine.session()
    server = s.serve(load_modern_graph(s), port=0)
    url = server.url
    s.close()

    async def connect():
        async with aiohttp.ClientSession() as cs, cs.ws_connect(url):
            pass

    with pytest.raises((aiohttp.ClientError, OSError)):
        asyncio.run(connect())


def test_cli_credentials_and_parser(tmp_path, monkeypatch):
    from graphengine import cli
    from graphengine.query.server import Credentials

    path = tmp_path / "users.txt"
    monkeypatch.setattr("sys.stdin", io.StringIO("pw1\n"))
    assert cli.main(["credentials", "add", str(path), "carol", "--password-stdin"]) == 0
    creds = Credentials.load(path)
    assert creds.authenticate("carol", "pw1") and not creds.authenticate("carol", "pw2")
    assert oct(os.stat(path).st_mode & 0o777) == "0o600"
    args = cli.build_parser().parse_args(["serve", "--dataset", "modern", "--port", "0",
                                          "--evaluation-timeout", "500"])
    assert args.dataset == ["modern"] and args.evaluation_timeout == 500


def test_tls(sess, tmp_path):
    """wss:// with a certificate (made by the openssl command line when present)."""
    import shutil
    import ssl
    import subprocess

    if shutil.which("openssl") is None:
        pytest.skip("no openssl command to make a test certificate")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout",
                    str(key), "-out", str(cert), "-days", "2", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1"], check=True, capture_output=True)
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(str(cert), str(key))
    server = sess.serve(load_modern_graph(sess), port=0, ssl_context=ctx)
    try:
        assert server.url.startswith("wss://")
        conn, g = _remote(server, ssl_options=ssl.create_default_context(cafile=str(cert)))
        try:
            assert g.V().count().next() == 6
        finally:
            conn.close()
    finally:
        server.stop()


@pytest.mark.parametrize("serializer", ["graphbinary", "graphson"])
def test_enums_and_cardinality_values_cross_the_wire(sess, serializer):
    from gremlin_python.process.traversal import (
        Cardinality,
        CardinalityValue,
        Operator,
        Pop,
    )

    q = Gremlin(load_modern_graph(sess))
    server = sess.serve({"g": q}, port=0)
    try:
        conn, g = _remote(server, serializer)
        try:
            def trav(src):
                return src.V(1).as_("a").out("knows").as_("a").select(Pop.all_, "a")

            assert _norm(trav(g).to_list()) == _norm(trav(q.traversal_source()).to_list())
            assert g.with_sack(1).V(1).sack(Operator.sum_).by("age").sack().next() == 30
            g.V(1).property(Cardinality.single, "age", 30).iterate()
            g.V(2).property("age", CardinalityValue.single(28)).iterate()
        finally:
            conn.close()
        assert q.execute("g.V(1,2).values('age')").all() == [30, 28]
    finally:
        server.stop()


def test_a_long_query_does_not_stall_other_sources(server):
    """Traversals run off the event loop: while ``g`` runs a long traversal, ``gmodern`` (another
    engine, another worker thread) keeps answering."""
    import threading
    import time

    outcome: dict = {}

    def slow():
        client = Client(server.url, "g")
        try:
            client.submit("g.V().repeat(both()).times(12).path().count()",
                          request_options={"evaluationTimeout": 2500}).all().result()
        except GremlinServerError as e:
            outcome["code"] = e.status_code
        finally:
            client.close()

    t = threading.Thread(target=slow)
    t.start()
    time.sleep(0.3)
    conn, g = _remote(server, source="gmodern")
    try:
        t0 = time.perf_counter()
        for _ in range(5):
            assert g.V().count().next() == 6
        elapsed = time.perf_counter() - t0
    finally:
        conn.close()
    t.join()
    assert outcome.get("code") == 598
    assert elapsed < 2.0, elapsed


@pytest.mark.parametrize("serializer", ["graphbinary", "graphson"])
def test_subgraph_results(server, serializer):
    """A subgraph() result crosses the wire as GraphBinary's graph / GraphSON's tinker:graph;
    ``client_serializer()`` reads it as ``{"vertices": [...], "edges": [...]}``."""
    from graphengine.query.server.remote import client_serializer

    conn = DriverRemoteConnection(server.url, "g", message_serializer=client_serializer(serializer))
    try:
        g = traversal().with_(conn)
        sg = g.V(1).out_e("knows").subgraph("sg").cap("sg").next()
        assert sorted(e.id for e in sg["edges"]) == [7, 8]
        assert sorted(v.id for v in sg["vertices"]) == [1, 2, 4]
        marko = next(v for v in sg["vertices"] if v.id == 1)
        assert {p.label: p.value for p in marko.properties}["name"] == "marko"
        assert {p.key: p.value for p in sg["edges"][0].properties}["weight"] in (0.5, 1.0)
    finally:
        conn.close()


def test_the_loop_answers_598_when_the_engine_overruns(sess, monkeypatch):
    """A traversal that ignores its deadline: the client gets 598 shortly after it anyway, and
    the source serves the next request once its thread is free."""
    import time

    from graphengine.query.server import server as server_mod

    monkeypatch.setattr(server_mod, "_TIMEOUT_GRACE", 0.1)
    q = Gremlin(load_modern_graph(sess))
    real_submit = q.submit

    def slow_submit(bytecode):
        time.sleep(1.0)
        return real_submit(bytecode)

    q.submit = slow_submit
    server = sess.serve({"g": q}, port=0)
    try:
        client = Client(server.url, "g")
        try:
            t0 = time.perf_counter()
            with pytest.raises(GremlinServerError) as e:
                client.submit(Bytecode(), request_options={"evaluationTimeout": 200}).all().result()
            assert e.value.status_code == 598
            assert time.perf_counter() - t0 < 0.9
            time.sleep(1.0)
            q.submit = real_submit
            assert client.submit("g.V().count()").all().result() == [6]
        finally:
            client.close()
    finally:
        server.stop()


def test_short_requests_run_on_the_loop_long_ones_go_back_to_the_thread(sess, monkeypatch):
    """A request shape that ran fast last time is served on the event loop (no thread
    hand-off); one that outlives its budget there is rolled back and run again on the source's
    thread: its mutation happens once and every answer is the in-process engine's. (Here
    "fast" is under 0.5 s and the budget 50 ms, so that the machine's load cannot change
    which path a request takes.)"""
    from graphengine.query.server import server as server_mod

    monkeypatch.setattr(server_mod, "INLINE_MAX", 0.5)
    monkeypatch.setattr(server_mod, "INLINE_BUDGET", 0.05)
    server = sess.serve({"g": Gremlin(load_modern_graph(sess))}, port=0)
    threaded: list = []
    run_threaded = server._run_threaded

    def counting(job):
        threaded.append(job.shape)
        return run_threaded(job)

    server._run_threaded = counting
    local = Gremlin(load_modern_graph(sess)).traversal_source()
    conn, g = _remote(server)
    try:
        def walk(t, k):
            return t.add_v("tmp").V(1).repeat(__.both()).times(k).path().count()

        assert g.V(1).out().count().next() == 3
        assert g.V(1).out().count().next() == 3
        assert len(threaded) == 1                      # the second one ran on the loop
        for k in (1, 1, 9):                            # thread, loop, loop -> over budget -> thread
            assert walk(g, k).next() == walk(local, k).next()
        assert len(threaded) == 3
        assert g.V().count().next() == local.V().count().next() == 9   # 6 + one per walk
    finally:
        conn.close()
        server.stop()


def test_request_templates_decode_as_a_fresh_decoder(sess):
    """A frame that matches a learnt template but for its Int / Long step arguments decodes
    to what a fresh decoder reads; anything else in the frame (a string, a list, a type code)
    is no match."""
    from gremlin_python.statics import long

    learnt = pr.GraphBinaryMessageSerializer()
    g = traversal().with_(None)
    traversals = [g.V(v).out().count() for v in (1, 2, long(3), long(3), long(2 ** 40))] + \
        [g.V(1).has("age", a).values("name") for a in (29, 30, "29", 29.0)] + \
        [g.V(4).out(lab).count() for lab in ("knows", "created")] + \
        [g.V([1, 2]).count(), g.V([1, 3]).count(), g.V(1).limit(2), g.V(6).limit(3)]
    for t in traversals:
        frame = _gb_request("bytecode", "traversal", {"gremlin": t.bytecode,
                                                     "aliases": {"g": "g"}})
        _, payload = pr.split_frame(frame)
        got = learnt.read_request(payload)
        want = pr.GraphBinaryMessageSerializer().read_request(payload)
        assert (got.request_id, got.op, got.processor, got.lambda_free) == \
            (want.request_id, want.op, want.processor, want.lambda_free)
        assert got.args["gremlin"] == want.args["gremlin"] and got.args["aliases"] == {"g": "g"}
        assert [type(a) for i in got.args["gremlin"].step_instructions for a in i] == \
            [type(a) for i in want.args["gremlin"].step_instructions for a in i]
    assert learnt._templates        # the repeated shapes were learnt


def test_repeated_shapes_through_the_server(sess):
    """The same traversal shape with other ids, values and bindings gives the in-process
    engine's answers; a change made through the server reaches the next answers."""
    from gremlin_python.statics import long

    server = sess.serve({"g": load_modern_graph(sess)}, port=0)
    local = Gremlin(load_modern_graph(sess))
    lg = local.traversal_source()
    conn, g = _remote(server)
    client = Client(server.url, "g")
    try:
        for _ in range(2):
            for v in (1, 2, 4, 6, 99, long(4)):
                assert g.V(v).out().count().next() == lg.V(v).out().count().next()
                assert g.V(v).out().out().count().next() == lg.V(v).out().out().count().next()
                assert g.V(v).both().values("name").to_list() == \
                    lg.V(v).both().values("name").to_list()
            for v in (1, 4, 6):
                assert client.submit("g.V(x).out().count()", {"x": v}).all().result() == \
                    local.execute("g.V(x).out().count()", {"x": v}).all()
        assert g.V(1).out().count().next() == 3
        assert g.V(6).in_().count().next() == 0
        g.V(1).add_e("knows").to(__.V(6)).iterate()
        assert g.V(1).out().count().next() == 4
        assert g.V(6).in_().count().next() == 1
    finally:
        client.close()
        conn.close()
        server.stop()


def _ws_frame(opcode: int, payload: bytes, fin: bool = True) -> bytes:
    """A masked client frame."""
    mask = os.urandom(4)
    body = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    n = len(payload)
    head = bytes([(0x80 if fin else 0) | opcode])
    if n < 126:
        head += bytes([0x80 | n])
    elif n < 1 << 16:
        head += bytes([0x80 | 126]) + n.to_bytes(2, "big")
    else:
        head += bytes([0x80 | 127]) + n.to_bytes(8, "big")
    return head + mask + body


def _ws_read(s) -> tuple[int, bytes]:
    """(opcode, payload) of the next server frame."""
    def exactly(k: int) -> bytes:
        out = b""
        while len(out) < k:
            chunk = s.recv(k - len(out))
            assert chunk
            out += chunk
        return out
    b0, b1 = exactly(2)
    n = b1 & 0x7F
    if n == 126:
        n = int.from_bytes(exactly(2), "big")
    elif n == 127:
        n = int.from_bytes(exactly(8), "big")
    return b0 & 0x0F, exactly(n)


def _ws_upgrade(path: str = "/gremlin") -> bytes:
    key = base64.b64encode(os.urandom(16)).decode()
    return (f"GET {path} HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade"
            f"\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n").encode()


def _ws_connect(server, request: bytes):
    """A raw socket that sent ``request``; returns it and the head of the answer."""
    host, port = server.url.split("//")[1].split("/")[0].rsplit(":", 1)
    s = socket.create_connection((host, int(port)), timeout=10)
    s.sendall(request)
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = s.recv(1)
        if not chunk:
            break
        head += chunk
    return s, head


def test_websocket_fragments_ping_and_close(server):
    """A raw client: the upgrade, a request in two fragments, a ping, a close; and a request
    for another path."""
    s, head = _ws_connect(server, _ws_upgrade())
    try:
        assert head.startswith(b"HTTP/1.1 101")
        req = _gb_request("eval", "", {"gremlin": "g.V().count()"})
        s.sendall(_ws_frame(0x2, req[:20], fin=False) + _ws_frame(0x0, req[20:]))
        opcode, data = _ws_read(s)
        resp = _gb_response(data)
        assert opcode == 0x2 and resp["status"]["code"] == 200 and resp["result"]["data"] == [6]
        s.sendall(_ws_frame(0x9, b"hi"))
        assert _ws_read(s) == (0xA, b"hi")
        s.sendall(_ws_frame(0x8, (1000).to_bytes(2, "big")))
        assert _ws_read(s) == (0x8, (1000).to_bytes(2, "big"))
    finally:
        s.close()
    s, head = _ws_connect(server, _ws_upgrade("/other"))
    s.close()
    assert head.startswith(b"HTTP/1.1 404")


def test_websocket_handshake_and_protocol_errors(server):
    """What the websocket layer refuses: a request that is not HTTP (400), an upgrade without
    its headers (4xx), a text message that is not UTF-8 (close 1007), a message over
    ``max_frame_bytes`` in fragments (close 1009); the upgrade and a request in one packet."""
    s, head = _ws_connect(server, b"hello there\r\n\r\n")
    s.close()
    assert head.startswith(b"HTTP/1.1 400")
    s, head = _ws_connect(server, b"GET /gremlin HTTP/1.1\r\nHost: x\r\n\r\n")
    s.close()
    assert head.startswith(b"HTTP/1.1 4") and not head.startswith(b"HTTP/1.1 404")

    req = _gb_request("eval", "", {"gremlin": "g.V().count()"})
    s, head = _ws_connect(server, _ws_upgrade() + _ws_frame(0x2, req))
    try:
        assert head.startswith(b"HTTP/1.1 101")
        opcode, data = _ws_read(s)
        assert opcode == 0x2 and _gb_response(data)["result"]["data"] == [6]
        s.sendall(_ws_frame(0x1, b"\xff\xfe{}"))
        opcode, data = _ws_read(s)
        assert opcode == 0x8 and int.from_bytes(data[:2], "big") == 1007
    finally:
        s.close()

    s, head = _ws_connect(server, _ws_upgrade())
    try:
        assert head.startswith(b"HTTP/1.1 101")
        part = b"x" * (40 * 1024)            # two fragments: 80 KiB > 64 KiB
        s.sendall(_ws_frame(0x2, part, fin=False) + _ws_frame(0x0, part))
        opcode, data = _ws_read(s)
        assert opcode == 0x8 and int.from_bytes(data[:2], "big") == 1009
        try:                                 # and the server closed the connection (a reset:
            rest = s.recv(16)                # it had unread bytes of the message)
        except ConnectionResetError:
            rest = b""
        assert rest == b""
    finally:
        s.close()
    _graph_unchanged(server)


def test_websocket_fragment_out_of_turn(server):
    """A continuation frame with no message to continue, and a new message inside a
    fragmented one, fail the connection with 1002."""
    req = _gb_request("eval", "", {"gremlin": "g.V().count()"})
    for frames in (_ws_frame(0x0, req),
                   _ws_frame(0x2, req[:20], fin=False) + _ws_frame(0x2, req)):
        s, head = _ws_connect(server, _ws_upgrade())
        try:
            assert head.startswith(b"HTTP/1.1 101")
            s.sendall(frames)
            opcode, data = _ws_read(s)
            assert opcode == 0x8 and int.from_bytes(data[:2], "big") == 1002
        finally:
            s.close()
    _graph_unchanged(server)


def test_private_listener_needs_the_token():
    """The primary's listener for its replicas upgrades only a request that carries its
    token (else 403), and marks that connection internal; messages are handed over in order,
    one awaited by the handler holding the next ones."""
    from graphengine.query.server.websocket import REPLICA_HEADER, WebSocket, listen

    async def run():
        opened: list[WebSocket] = []
        seen: list[bytes] = []

        async def later(ws, message):
            await asyncio.sleep(0.05)
            seen.append(message)
            ws.send(b"done " + message)

        def on_message(ws, message):
            if message == b"slow":
                return later(ws, message)
            seen.append(message)
            ws.send(b"done " + message)
            return None

        listener = await listen(lambda internal: WebSocket(opened.append, on_message,
                                                           lambda ws: None, 1 << 16, internal),
                                "127.0.0.1", 0, max_message=1 << 16, token="s3cret")
        port = listener.sockets[0].getsockname()[1]
        url = f"http://127.0.0.1:{port}/gremlin"
        async with aiohttp.ClientSession() as session:
            with pytest.raises(aiohttp.WSServerHandshakeError) as e:
                await session.ws_connect(url, headers={REPLICA_HEADER: "wrong"})
            assert e.value.status == 403
            with pytest.raises(aiohttp.WSServerHandshakeError) as e:
                await session.ws_connect(url)
            assert e.value.status == 403
            ws = await session.ws_connect(url, headers={REPLICA_HEADER: "s3cret"})
            for m in (b"slow", b"a", b"b"):
                await ws.send_bytes(m)
            answers = [(await ws.receive(timeout=10)).data for _ in range(3)]
            await ws.close()
        listener.close()
        await listener.wait_closed()
        assert [w.internal for w in opened] == [True]
        assert seen == [b"slow", b"a", b"b"] and answers == [b"done slow", b"done a", b"done b"]

    asyncio.run(run())


def test_prepared_answers_of_count_templates(sess, caplog):
    """A GraphBinary request equal to a learnt template but for its ``V()`` ids, whose last
    answer came from the engine's count plan on the loop, is answered from the template's
    prepared answer: the same frames and log line as the general path, the in-process engine's
    results; a change to the graph, an unauthenticated connection, another source under the
    name or a removed source take the general path again."""
    import logging

    from gremlin_python.statics import long

    server = sess.serve({"g": load_modern_graph(sess)}, port=0)
    local = Gremlin(load_modern_graph(sess)).traversal_source()
    conn, g = _remote(server)
    ser = server._gb
    try:
        for _ in range(3):
            for v in (1, 2, 4, 6, 99, long(4)):
                assert g.V(v).out().count().next() == local.V(v).out().count().next()
                assert g.V(v).out().out().count().next() == local.V(v).out().out().count().next()
                assert g.V(v).both().group_count().by(T.label).next() == \
                    local.V(v).both().group_count().by(T.label).next()
            assert g.V().count().next() == 6
        prepared = [t for t in ser._templates.values() if t.fast is not None]
        assert len(prepared) >= 4          # Int and Long ids of out().count(), 2-hop, groupCount
        answered: list[bool] = []
        fast = server._fast
        server._fast = lambda *a: answered.append(fast(*a)) or answered[-1]
        served = server.served
        rid = uuid.uuid4()
        frame = _gb_request("bytecode", "traversal", {"gremlin": g.V(4).out().count().bytecode,
                                                      "aliases": {"g": "g"}}, rid)
        s, head = _ws_connect(server, _ws_upgrade())
        assert head.startswith(b"HTTP/1.1 101")
        try:
            with caplog.at_level(logging.INFO, logger="graphengine.query.server"):
                s.sendall(_ws_frame(0x2, frame))
                opcode, data = _ws_read(s)
            assert opcode == 0x2 and server.served == served + 1 and answered == [True]
            assert data == ser.write_response(rid, pr.SUCCESS, "", [Traverser(2, 1)])
            line = [r.getMessage() for r in caplog.records if str(rid) in r.getMessage()]
            assert len(line) == 1 and "op=bytecode processor=traversal source=g status=200" in \
                line[0] and "results=1" in line[0]
        finally:
            s.close()
        src = server._sources["g"]
        src.queued[0] += 1         # another connection's request waiting for the source's thread
        try:                       # does not hold a prepared answer (it only reads)
            answered.clear()
            assert g.V(2).out().count().next() == 0 and answered == [True]
        finally:
            src.queued[0] -= 1
        g.V(1).add_e("knows").to(__.V(6)).iterate()             # the plans no longer apply
        local.V(1).add_e("knows").to(__.V(6)).iterate()
        answered.clear()
        for v in (1, 6, 4):
            assert g.V(v).out().count().next() == local.V(v).out().count().next()
            assert g.V(v).out().out().count().next() == local.V(v).out().out().count().next()
        assert answered[:1] == [False] and not any(answered)
        server.add_source("g", Gremlin(load_modern_graph(sess)))  # a fresh graph under g
        assert g.V(1).out().count().next() == 3
        assert g.V(1).out().count().next() == 3
        server.remove_source("g")
        with pytest.raises(GremlinServerError) as e:
            g.V(1).out().count().next()
        assert e.value.status_code == 499
    finally:
        conn.close()
        server.stop()


def test_write_success_is_write_response():
    """The success frame written around the request id's bytes is the general writer's."""
    from gremlin_python.statics import long

    ser = pr.GraphBinaryMessageSerializer()
    rid = uuid.uuid4()
    for results in ([Traverser(3, 1)], [Traverser(0, 7)], [Traverser(2 ** 31, 1)],
                    [Traverser(-2 ** 31, 1)], [Traverser(long(5), 1)], [Traverser(True, 1)],
                    [Traverser(2 ** 70, 1)], [Traverser(3, 2 ** 40)],
                    [Traverser({"person": 2}, 1)], [Traverser(1, 1), Traverser(2, 1)], []):
        assert ser.write_success(rid.bytes, results) == \
            ser.write_response(rid, pr.SUCCESS, "", results)


def test_prepared_answers_need_authentication(secured):
    """A frame of a template with a prepared answer still gets 407 on a connection that has
    not authenticated."""
    conn, g = _remote(secured, username="alice", password="s3cret!")
    try:
        for _ in range(3):
            assert g.V(1).out().count().next() == 3
        assert any(t.fast is not None for t in secured._gb._templates.values())
        frame = _gb_request("bytecode", "traversal", {"gremlin": g.V(4).out().count().bytecode,
                                                      "aliases": {"g": "g"}})
        s, head = _ws_connect(secured, _ws_upgrade())
        assert head.startswith(b"HTTP/1.1 101")
        try:
            s.sendall(_ws_frame(0x2, frame))
            assert _gb_response(_ws_read(s)[1])["status"]["code"] == 407
        finally:
            s.close()
    finally:
        conn.close()
