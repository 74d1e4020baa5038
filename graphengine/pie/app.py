"""The PIE app interface: what an analytical app writes, and nothing of how it is run.

An app follows GRAPE's PIE model (Fan et al., "Parallelizing Sequential Graph Computations",
SIGMOD 2017) in the shape of libgrape-lite: a sequential algorithm over **one fragment**
(:meth:`App.peval`), an incremental step that consumes the messages other fragments sent
(:meth:`App.inceval`), and the runtime owns the rounds, the message routing and termination.
The hot loops are ``@numba.njit(cache=True, nogil=True)`` functions over the fragment's plain arrays.

The fragment an app sees (:class:`graphengine.pie.view.FragmentView`)
-------------------------------------------------------------------------
Vertices are numbered by **local id** (lid): ``0 .. ivnum-1`` are the *inner* vertices (owned
by this fragment, ascending global id), ``ivnum .. vnum-1`` the *outer* (mirror) vertices that
inner vertices' edges reach (ascending global id). Attributes:

* ``fid``, ``fnum``, ``directed``, ``ivnum``, ``ovnum``, ``vnum = ivnum + ovnum``;
* ``gids``: int64 global id of every lid (``gids[:ivnum]`` inner, ``gids[ivnum:]`` outer);
* ``total_vertex_count``: vertices in the whole graph; ``id_space``: every gid is below it;
* ``out_indptr`` (length ``ivnum + 1``), ``out_nbrs`` (neighbor **lids**), ``out_eids`` (global
  edge ids), and ``in_indptr`` / ``in_nbrs`` / ``in_eids`` (for an undirected graph the in-lists
  are the out-lists; each undirected edge is in both endpoints' lists, a self loop twice);
* ``out_edge_values(name)`` / ``in_edge_values(name)``: an edge property aligned with
  ``out_nbrs`` / ``in_nbrs``, for the names listed in :attr:`App.edge_properties` (the
  in-lists only for those also in :attr:`App.in_edge_properties`);
* ``inputs``: the arrays :meth:`App.fragment_inputs` computed for this fragment;
* ``lids(gids)``: local ids of global ids (-1 for vertices neither inner nor outer);
  ``owner(gids)``: the fragment owning each global id;
* ``mirror_lids[d]``: inner lids that fragment ``d`` has as outer vertices.

Every array is read-only; state lives in the app's own arrays.

Exchanging values between fragments (:class:`graphengine.pie.messages.Messages`)
---------------------------------------------------------------------------------
1. **Synchronized arrays** (libgrape-lite's auto-parallel sync buffers). :attr:`App.sync` maps
   an attribute of the state to an aggregator; the attribute is a numpy array of length
   ``vnum`` (inner then outer slots). After every step the runtime compares it with its value
   before the step and ships what changed:

   * ``"min"`` / ``"max"``: changed **outer** slots go to the owner, which folds them into the
     inner slot with ``min`` / ``max``. Mirror slots keep their value.
   * ``"sum"``: non-zero **outer** slots go to the owner, which adds them to the inner slot;
     the outer slots are then reset to 0.
   * ``"copy"``: changed **inner** slots are copied to their outer slots in every fragment that
     has that vertex as an outer vertex (owner -> mirrors, for pull-style apps).

   In the next step ``messages.changed(name)`` lists the lids this synchronization changed
   (inner lids for min/max/sum, outer lids for copy). An app that knows which slots a step
   changed lists the array in ``sync_tracked`` (min / max / copy) and calls
   ``messages.report_changed(name, lids)``: the runtime then ships those slots and skips the
   whole-array comparison (the BFS app does).
2. **Explicit messages**. ``messages.send(gids, values)`` delivers ``(gid, value)`` pairs to
   the fragment owning each gid, where ``messages.received()`` returns ``(lids, values)`` (inner
   lids). ``messages.send_to_mirrors(lids, values)`` delivers an inner vertex's values to every
   fragment that has it as an outer vertex, where ``messages.received_on_mirrors()`` returns
   ``(lids, values)`` (outer lids). ``values`` is a numpy array whose first axis is aligned
   with the ids (any dtype, 2-D allowed; one dtype per app). Received messages come in a
   deterministic order (by sending fragment, then send order); fold them commutatively when
   the result must not depend on the number of fragments.
3. **Global aggregates**. ``messages.reduce(name, value, op)`` (``op`` ``"sum"``, ``"min"``,
   ``"max"``) contributes a scalar; the next step reads the reduction over all fragments with
   ``messages.reduced(name)``. Aggregates alone do not keep the computation running.

Termination
-----------
``messages.round`` is 0 in PEval and counts the IncEval rounds. A fragment votes to halt after
a step unless it calls ``messages.force_continue()``. The run ends when, after a round, no
message is in flight (no explicit message and no synchronized change) and every fragment voted
to halt. Explicit messages sent to a fragment are delivered even if it voted to halt.

Writing an app
--------------
Subclass :class:`App`; keep the parameters on the instance; allocate the state in
:meth:`App.init`; read the result from :meth:`App.output` (arrays over inner vertices). The same
app object runs on every executor (``"local"`` or ``"ray"``), so it must pickle (module-level
classes and njit kernels do). Run it with :func:`graphengine.pie.run_app`::

    class MaxNeighborDegree(App):
        sync = {"best": "max"}

        def init(self, frag):
            return State(best=np.zeros(frag.vnum, dtype=np.int64))

        def peval(self, frag, state, messages):
            push_degrees(frag.out_indptr, frag.out_nbrs, state.best)   # an njit kernel

        def inceval(self, frag, state, messages):
            pass                                 # the runtime already folded the mirrors

        def output(self, frag, state):
            return {"r": state.best[:frag.ivnum]}

See ``examples/custom_pie_app.py`` and ``graphengine/pie/algorithms/`` for complete apps.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import SimpleNamespace
from typing import TYPE_CHECKING, ClassVar

import numpy as np

if TYPE_CHECKING:
    from .messages import Messages
    from .view import FragmentView

#: Aggregators accepted in :attr:`App.sync`.
SYNC_AGGREGATORS = ("min", "max", "sum", "copy")


class State(SimpleNamespace):
    """An app's per-fragment state: named numpy arrays and scalars (``state.dist``)."""


class App:
    """Base class of a PIE app (see the module docstring for the full contract).

    Class attributes:
        sync: state attribute name -> aggregator (``"min"``, ``"max"``, ``"sum"``, ``"copy"``)
            for arrays of length ``frag.vnum`` that the runtime synchronizes between fragments.
        edge_properties: edge property names the fragment view must carry
            (``frag.out_edge_values(name)``); an instance may override it.
        in_edge_properties: those of them needed along the in-lists too
            (``frag.in_edge_values(name)``: a second gather on a directed graph).
        result: name of the default result column (the ``"r"`` selector of a context).
    """

    sync: ClassVar[Mapping[str, str]] = {}
    edge_properties: tuple[str, ...] = ()
    in_edge_properties: tuple[str, ...] = ()
    result: ClassVar[str] = "r"

    @property
    def name(self) -> str:
        """The app's name in logs (its class name)."""
        return type(self).__name__

    def check(self, graph) -> None:
        """Validate the app against the whole graph before it runs (driver side).

        Raise :class:`graphengine.errors.AnalyticsError` for unsupported inputs. Default: no check.
        """

    def fragment_inputs(self, graph, fragment) -> dict[str, np.ndarray]:
        """Extra per-fragment arrays computed on the driver (``frag.inputs[name]`` on workers).

        For what a fragment cannot know alone, e.g. user ids (:func:`graphengine.pie.inputs.
        inner_user_ids`). Default: none.
        """
        return {}

    def init(self, frag: FragmentView) -> State:
        """Allocate the state of one fragment (arrays of ``frag.vnum`` for synced values)."""
        return State()

    def peval(self, frag: FragmentView, state: State, messages: Messages) -> None:
        """Partial evaluation: the sequential algorithm over this fragment, round 0."""
        raise NotImplementedError

    def inceval(self, frag: FragmentView, state: State, messages: Messages) -> None:
        """Incremental evaluation: fold in what the last round delivered, rounds 1, 2, ..."""
        raise NotImplementedError

    def output(self, frag: FragmentView, state: State) -> dict[str, np.ndarray]:
        """Result columns over the inner vertices (length ``frag.ivnum`` each)."""
        raise NotImplementedError
