"""Gremlin Server protocol (TinkerPop 3.x, websocket) for unmodified drivers.

- :mod:`.protocol`: request and response envelopes in GraphBinary 1.0 and GraphSON 3.0 (the
  server's side of gremlinpython's ``driver/serializer.py``) and the extra value readers;
- :mod:`.auth`: SASL PLAIN against a credentials file of salted password hashes;
- :mod:`.websocket`: the ``picows`` library's websocket listener (Cython) on the asyncio loop;
- :mod:`.server`: request dispatch and lifecycle;
- :mod:`.replicas`: replica processes serving the same port.

>>> import graphengine
>>> from graphengine.datasets import load_modern_graph
>>> sess = graphengine.session()
>>> server = sess.serve(load_modern_graph(sess), port=0)   # doctest: +SKIP
>>> # DriverRemoteConnection(server.url, "g") ... server.stop()
"""

from .auth import Credentials, add_user
from .protocol import GRAPHBINARY_V1, GRAPHSON_V3
from .server import DEFAULT_BATCH_SIZE, DEFAULT_MAX_FRAME_BYTES, GremlinServer

__all__ = ["DEFAULT_BATCH_SIZE", "DEFAULT_MAX_FRAME_BYTES", "GRAPHBINARY_V1", "GRAPHSON_V3",
           "Credentials", "GremlinServer", "add_user"]
