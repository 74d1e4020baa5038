"""The property graph schema: vertex labels and edge labels with typed Arrow schemas."""

from __future__ import annotations

from dataclasses import dataclass, replace

import pyarrow as pa

from ..errors import SchemaError


@dataclass(frozen=True)
class VertexLabel:
    """A vertex label: ``schema`` starts with the user id column ``id`` (int64 or string)."""

    name: str
    schema: pa.Schema

    @property
    def id_type(self) -> pa.DataType:
        return self.schema.field("id").type

    @property
    def properties(self) -> list[str]:
        return [f.name for f in self.schema][1:]


@dataclass(frozen=True)
class EdgeLabel:
    """An edge label: property ``schema`` and the (src label, dst label) pairs it relates."""

    name: str
    schema: pa.Schema
    relations: tuple[tuple[str, str], ...]

    @property
    def properties(self) -> list[str]:
        return [f.name for f in self.schema]


@dataclass(frozen=True)
class GraphSchema:
    """Labels in the order they were created; a label's index is its position."""

    directed: bool
    vertex_labels: tuple[VertexLabel, ...] = ()
    edge_labels: tuple[EdgeLabel, ...] = ()

    def vertex_label(self, name: str) -> VertexLabel:
        for v in self.vertex_labels:
            if v.name == name:
                return v
        raise SchemaError(f"unknown vertex label {name!r}; known: {self.vertex_label_names}")

    def edge_label(self, name: str) -> EdgeLabel:
        for e in self.edge_labels:
            if e.name == name:
                return e
        raise SchemaError(f"unknown edge label {name!r}; known: {self.edge_label_names}")

    @property
    def vertex_label_names(self) -> list[str]:
        return [v.name for v in self.vertex_labels]

    @property
    def edge_label_names(self) -> list[str]:
        return [e.name for e in self.edge_labels]

    def vertex_label_index(self, name: str) -> int:
        self.vertex_label(name)
        return self.vertex_label_names.index(name)

    def edge_label_index(self, name: str) -> int:
        self.edge_label(name)
        return self.edge_label_names.index(name)

    def with_vertex_label(self, label: VertexLabel) -> GraphSchema:
        names = self.vertex_label_names
        labels = list(self.vertex_labels)
        if label.name in names:
            labels[names.index(label.name)] = label
        else:
            labels.append(label)
        return replace(self, vertex_labels=tuple(labels))

    def with_edge_label(self, label: EdgeLabel) -> GraphSchema:
        names = self.edge_label_names
        labels = list(self.edge_labels)
        if label.name in names:
            labels[names.index(label.name)] = label
        else:
            labels.append(label)
        return replace(self, edge_labels=tuple(labels))

    def to_json(self) -> dict:
        return {
            "directed": self.directed,
            "vertex_labels": [{"name": v.name, "schema": _schema_json(v.schema)}
                              for v in self.vertex_labels],
            "edge_labels": [{"name": e.name, "schema": _schema_json(e.schema),
                             "relations": [list(r) for r in e.relations]} for e in self.edge_labels],
        }

    @classmethod
    def from_json(cls, data: dict) -> GraphSchema:
        return cls(
            directed=data["directed"],
            vertex_labels=tuple(VertexLabel(v["name"], _schema_from_json(v["schema"]))
                                for v in data["vertex_labels"]),
            edge_labels=tuple(EdgeLabel(e["name"], _schema_from_json(e["schema"]),
                                        tuple(tuple(r) for r in e["relations"]))
                              for e in data["edge_labels"]),
        )


def _schema_json(schema: pa.Schema) -> str:
    return schema.serialize().to_pybytes().hex()


def _schema_from_json(text: str) -> pa.Schema:
    return pa.ipc.read_schema(pa.py_buffer(bytes.fromhex(text)))


def conform(table: pa.Table, schema: pa.Schema, what: str) -> pa.Table:
    """Cast ``table`` to an existing label's ``schema``; a mismatch is a :class:`SchemaError`."""
    if table.schema.names != schema.names:
        raise SchemaError(f"{what}: columns {table.schema.names} do not match the label's"
                          f" columns {schema.names}")
    cols = []
    for name, field in zip(schema.names, schema):
        col = table.column(name)
        if col.type != field.type:
            try:
                col = col.cast(field.type, safe=True)
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as e:
                raise SchemaError(f"{what}: column {name!r} has type {col.type}, the label"
                                  f" has {field.type}") from e
        cols.append(col)
    return pa.Table.from_arrays(cols, schema=schema)
