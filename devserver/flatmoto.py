"""moto's DynamoDB at a cost in proportion to the items a request touches, not to all the data.

moto 5.2.5 has two costs that grow with the tables, paid under the local runtime's one lock:
- TransactWriteItems deep-copies every table it names, to put the copies back if the transaction is
  cancelled (and the copies' memory is not given back to the system). Here moto's own code still
  runs every check and every write, so conditions, CancellationReasons (with ALL_OLD items),
  validation errors and their order are exactly moto's; only its table copies become no-ops. The
  items the transaction names are copied beforehand instead, and put back in exactly the cases
  where moto would have put its tables back, and the stream records it wrote are taken back off
  the table's stream. Nothing else in a table changes in a transaction: secondary indexes are
  computed from the items at query time.
- A Query on a table's own key lists and sorts every item of the table, then keeps the partition's.
  Here it is handed only the queried partition, which holds exactly the items it would keep. A Query
  on an index also sorted the whole table first, though it sorts what it keeps again by the index's
  key and the table's (a total order): here it is handed the items unsorted.
And strictness: moto pages from an ExclusiveStartKey that lies outside the Query's key condition
(another partition, a sort key outside its range), which DynamoDB refuses with a ValidationException
("The provided starting key is outside query boundaries based on provided conditions"); here it is
refused too, so a cursor bug shows up locally and not first in AWS.
And memory: moto keeps every model object it ever made in a class-level list (for its dashboard),
so every item, every query result's copy and every table copy stayed in memory for good. Items,
stream records and queue messages (the local bus's, devserver/streams.py) are not listed there any
more; tables and the rest still are. And each item held its own copy of every
attribute name and short string (ids, statuses, names) that other items repeat: those are stored
once (interned), which makes a booking's items about a third smaller.
And answers: moto serialises every response member by member against botocore's shapes, looking
each of an attribute value's ten possible members up under several spellings: ~40% of a call's
time. An attribute value that is already in DynamoDB's JSON form, of only the types that serialiser
passes through unchanged (S, N, BOOL, NULL, SS, NS, M and L of them), is now put in the answer as
it is; any other (B, BS, anything unexpected) still goes through moto's serialiser.
And limits: moto refuses a TransactGetItems of more than 25 items, DynamoDB's limit until 2022; it takes 100
(an event's atomic read of its up to 90 stock shards).
And repeats: moto parses an UpdateExpression from its text for every update, twice inside a transaction (to
check the names it uses, then to run it), lexes every ConditionExpression from its text, and lists a handler
class's methods by introspection on every call. Each depends on its input only (and nothing changes the parsed
tree: moto copies it before filling it in), so they are kept: the same few dozen expressions are all this API
sends.
And hosts: moto's server finds the service a request is for by trying each of its hundreds of URL patterns
against the request's host, on every request; the answer depends on the host alone, so it is kept.
And walks: moto validates an update by ten passes over the expression's tree, each asking of every node
whether it is a Node and whether the pass processes its class (abstract-class checks: a third of an update's
time), after a generic deep copy of the tree. The passes are the same, in the same order, doing the same to
the same nodes; the answer for a class is looked up once per pass class, and the tree is copied node by node.
"""

from __future__ import annotations

import copy
import functools
import sys
import threading
from collections import deque
from collections.abc import Callable
from typing import Any, cast

from moto.core import responses as core_responses
from moto.core.serialize import BaseJSONSerializer
from moto.dynamodb import comparisons, models, responses
from moto.dynamodb.exceptions import (
    MockValidationException,
    TransactionCanceledException,
)
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.dynamo_type import DynamoType, Item
from moto.dynamodb.models.table import StreamRecord, Table
from moto.dynamodb.parsing import validators
from moto.dynamodb.parsing.ast_nodes import DepthFirstTraverser, Node  # type: ignore[attr-defined]
from moto.dynamodb.parsing.expressions import UpdateExpressionParser  # type: ignore[attr-defined]
from moto.moto_server.werkzeug_app import DomainDispatcherApplication
from moto.sqs.models import Message

Transact = Callable[[DynamoDBBackend, list[dict[str, Any]]], None]
ItemKey = tuple[str, DynamoType, DynamoType | None]  # table name, hash key, range key (None: no range key)

# moto's own implementations, kept before install() replaces them on the classes.
moto_transact_write_items: Transact = DynamoDBBackend.__dict__["transact_write_items"]
moto_query = Table.__dict__["query"]
moto_all_items = Table.__dict__["all_items"]
_moto_item_init = Item.__dict__["__init__"]
_moto_value_init = DynamoType.__dict__["__init__"]
moto_serialize_structure = BaseJSONSerializer.__dict__["_serialize_type_structure"]
moto_lex = comparisons.ConditionExpressionParser.__dict__["_lex_condition_expression"]
moto_traverse = DepthFirstTraverser.__dict__["traverse_node_recursively"]
moto_validator_init = validators.UpdateExpressionValidator.__init__
moto_validate = validators.UpdateExpressionValidator.__dict__.get("validate", validators.Validator.validate)
_SHARED_UP_TO = 64  # characters: ids, statuses, names and numbers; longer text is rarely repeated
_INDEX_NAME = 7  # Table.query's positional parameters: hash_key, ..., projection_expressions, index_name
_ANY_PARTITION = object()  # a Query on an index: every partition, in no particular order
# This thread's transaction running with table copies turned off (`active`), or the table and
# partition key of its Query on a table's own key, _ANY_PARTITION on an index (`partition`).
_state = threading.local()


class _CopyWithoutTables:
    """Stands in for the `copy` module inside moto.dynamodb.models: while a transaction runs here, a
    table "copy" is the table itself (moto's rollback then puts back the same object: a no-op)."""

    def __getattr__(self, name: str) -> Any:
        return getattr(copy, name)

    @staticmethod
    def deepcopy(value: Any, memo: dict[int, Any] | None = None) -> Any:
        if isinstance(value, Table) and getattr(_state, "active", False):
            return value
        return copy.deepcopy(value, memo)


def transact_write_items(backend: DynamoDBBackend, transact_items: list[dict[str, Any]]) -> None:
    """moto's TransactWriteItems, at a cost in proportion to the items it names."""
    saved = _touched_items(backend, transact_items)
    if saved is None:  # an action this cannot read: moto's whole-table copy
        moto_transact_write_items(backend, transact_items)
        return
    streams = _stream_lengths(backend, transact_items)
    _state.active = True
    try:
        moto_transact_write_items(backend, transact_items)
    except (TransactionCanceledException, MockValidationException):
        _restore(backend, saved)  # the two cases where moto puts its tables back
        for name, length in streams.items():
            del backend.tables[name].stream_shard.items[length:]  # type: ignore[union-attr]
        raise
    finally:
        _state.active = False


def install() -> None:
    """Give every moto DynamoDB backend in this process (server or mock_aws) flat costs. Idempotent."""
    models.copy = _CopyWithoutTables()  # type: ignore[attr-defined,assignment]
    DynamoDBBackend.transact_write_items = _transact_method  # type: ignore[method-assign]
    Table.query = _query  # type: ignore[method-assign]
    Table.all_items = _all_items  # type: ignore[method-assign]
    Item.__new__ = _untracked  # type: ignore[method-assign]
    StreamRecord.__new__ = _untracked  # type: ignore[method-assign]
    Message.__new__ = _untracked  # type: ignore[method-assign]
    Item.__init__ = _item_init  # type: ignore[method-assign]
    DynamoType.__init__ = _value_init  # type: ignore[method-assign]
    BaseJSONSerializer._serialize_type_structure = _serialize_structure  # type: ignore[method-assign]
    responses.TRANSACTION_MAX_ITEMS = 100  # DynamoDB's TransactGetItems limit since 2022 (moto keeps 25)
    if not hasattr(UpdateExpressionParser.make, "cache_info"):
        UpdateExpressionParser.make = functools.lru_cache(maxsize=1024)(UpdateExpressionParser.make)
        core_responses.method_names_from_class = functools.cache(core_responses.method_names_from_class)  # type: ignore[attr-defined]
    comparisons.ConditionExpressionParser._lex_condition_expression = _lexed  # type: ignore[method-assign]
    if not hasattr(DomainDispatcherApplication.get_backend_for_host, "cache_info"):
        DomainDispatcherApplication.get_backend_for_host = functools.lru_cache(maxsize=256)(  # type: ignore[method-assign]
            DomainDispatcherApplication.get_backend_for_host
        )
    DepthFirstTraverser.traverse_node_recursively = _traverse
    validators.deepcopy = copy_tree  # type: ignore[attr-defined,assignment]
    validators.UpdateExpressionValidator.__init__ = _validator_init  # type: ignore[method-assign]
    validators.UpdateExpressionValidator.validate = _validate  # type: ignore[method-assign]


@functools.lru_cache(maxsize=1024)
def _lexed_text(expression: str) -> tuple[Any, ...]:
    """moto's tokens of a condition expression (immutable tuples, in order; its parser consumes a deque of them)."""
    return tuple(moto_lex(comparisons.ConditionExpressionParser(expression, {}, {})))


def _lexed(self: comparisons.ConditionExpressionParser) -> deque[Any]:
    return deque(_lexed_text(self.condition_expression))


# Per pass class and node class: the processing map's first key the node is an instance of (None: none is),
# which is the one moto's `process` picks; every pass's map has a fixed set of classes.
_processed_as: dict[tuple[type[Any], type[Any]], type[Any] | None] = {}
_is_node: dict[type[Any], bool] = {}


def _traverse(self: DepthFirstTraverser, node: Any, child_id: int = -1) -> Any:
    """moto's DepthFirstTraverser.traverse_node_recursively, with its class checks answered once per class."""
    kind = type(node)
    is_node = _is_node.get(kind)
    if is_node is None:
        is_node = _is_node[kind] = isinstance(node, Node)
    if not is_node:
        return node
    parent_node = node.parent
    if node.children is not None:
        for i, child_node in enumerate(node.children):
            self.pre_processing_of_child(node, i)
            _traverse(self, child_node, i)
    key = (type(self), kind)
    if key not in _processed_as:
        _processed_as[key] = next((c for c in self._processing_map() if isinstance(node, c)), None)
    processed_as = _processed_as[key]
    if processed_as is not None:
        node = self._processing_map()[processed_as](node)
        node.parent = parent_node
        if parent_node:
            parent_node.children[child_id] = node
    return node


# The update validator's first passes only check the expression against its names and the table's key (the
# clause counts, overlapping paths, no key attribute updated) and change nothing: what they passed once, for
# the same parsed expression (UpdateExpressionParser.make's, kept), names and key, they pass again.
_CHECKS_ONLY = (
    validators.ActionCountValidator,
    validators.OverlappingPathsValidator,
    validators.UpdateHashRangeKeyValidator,
)
_checked: set[tuple[Any, ...]] = set()


def _validator_init(self: Any, expression: Any, *args: Any, **kwargs: Any) -> None:
    moto_validator_init(self, expression, *args, **kwargs)
    names = self.expression_attribute_names or {}
    self.checked_as = (expression, tuple(sorted(names.items())), tuple(self.table.table_key_attrs))


def _validate(self: Any) -> Any:
    n = self.node_to_validate
    checked = self.checked_as in _checked
    for processor in self.processors:
        if not (checked and isinstance(processor, _CHECKS_ONLY)):
            n = processor.traverse(n)
    if not checked and len(_checked) < 4096:
        _checked.add(self.checked_as)
    return n


def copy_tree(value: Any, memo: dict[int, Any] | None = None) -> Any:
    """copy.deepcopy, node by node for a parsed expression's tree whose nodes hold their children and point
    back at their parents (what moto's parser makes); anything else, or any other shape, by copy.deepcopy."""
    if memo is None and isinstance(value, Node) and value.parent is None:
        copied = _copy_node(value, None)
        if copied is not None:
            return copied
    return copy.deepcopy(value, memo)


_IMMUTABLE = (str, int, float, bool, type(None))


def _copy_node(node: Any, parent: Any) -> Any:
    """A copy of `node` under `parent` (None where a node's shape is not the plain one: deepcopy it)."""
    attrs = dict(node.__dict__)
    twin = object.__new__(type(node))
    attrs["parent"] = parent
    for name, value in attrs.items():
        if name == "children" and type(value) is list:
            children = []
            for child in value:
                if isinstance(child, Node):
                    if child.parent is not node:
                        return None
                    child = _copy_node(child, twin)
                    if child is None:
                        return None
                elif not isinstance(child, _IMMUTABLE):
                    return None
                children.append(child)
            attrs[name] = children
        elif name != "parent" and not isinstance(value, _IMMUTABLE):
            return None
    twin.__dict__.update(attrs)
    return twin


def _untracked(cls: type[Any], *args: Any, **kwargs: Any) -> Any:
    """A model without BaseModel.__new__, which lists every instance (and so never frees one)."""
    return object.__new__(cls)


def _item_init(self: Item, hash_key: DynamoType, range_key: DynamoType | None, attrs: dict[str, Any]) -> None:
    _moto_item_init(self, hash_key, range_key, {sys.intern(name): value for name, value in attrs.items()})


def _value_init(self: DynamoType, type_as_dict: DynamoType | dict[str, Any]) -> None:
    if type(type_as_dict) is dict and len(type_as_dict) == 1 and isinstance(type_as_dict.get("M"), dict):
        type_as_dict = {"M": {sys.intern(name): value for name, value in type_as_dict["M"].items()}}
    _moto_value_init(self, type_as_dict)
    if type(self.value) is str and len(self.value) <= _SHARED_UP_TO:
        self.value = sys.intern(self.value)


_AS_IS = {"S": str, "N": str, "BOOL": bool, "NULL": bool}  # members moto's serialiser copies unchanged
_ATTRIBUTE_VALUE = "AttributeValue"  # the shape of one DynamoDB attribute value in botocore's model


def in_wire_form(value: Any) -> bool:
    """An attribute value in DynamoDB's JSON form that moto's serialiser would give back unchanged."""
    if type(value) is not dict or len(value) != 1:
        return False
    ((kind, inner),) = value.items()
    if kind in _AS_IS:
        return type(inner) is _AS_IS[kind]
    if kind in ("SS", "NS"):
        return type(inner) is list and all(type(member) is str for member in inner)
    if kind == "M":
        return type(inner) is dict and all(type(name) is str and in_wire_form(v) for name, v in inner.items())
    if kind == "L":
        return type(inner) is list and all(in_wire_form(v) for v in inner)
    return False  # B and BS are base64-encoded by the serialiser


def _serialize_structure(self: BaseJSONSerializer, serialized: Any, value: Any, shape: Any, key: str) -> None:
    if key and shape.name == _ATTRIBUTE_VALUE and in_wire_form(value):
        serialized[key] = value
        return
    moto_serialize_structure(self, serialized, value, shape, key)


def _transact_method(self: DynamoDBBackend, transact_items: list[dict[str, Any]]) -> None:
    transact_write_items(self, transact_items)


_OUTSIDE = "The provided starting key is outside query boundaries based on provided conditions"


def _key_attrs(table: Table, index_name: str | None) -> tuple[str, str | None]:
    """The hash and range key attributes a Query on the table or one of its indexes is keyed by."""
    if not index_name:
        return table.hash_key_attr, table.range_key_attr
    index = next(i for i in table.all_indexes() if i.name == index_name)
    kinds = {key["KeyType"]: key["AttributeName"] for key in index.schema}
    return kinds["HASH"], kinds.get("RANGE")


def _check_start(table: Table, hash_key: DynamoType | None, args: tuple[Any, ...], index_name: str | None) -> None:
    """Refuse an ExclusiveStartKey outside the key condition, as DynamoDB does (moto pages from it)."""
    range_comparison, range_objs, _, start = args[:4]
    if not start or hash_key is None:
        return
    hash_attr, range_attr = _key_attrs(table, index_name)
    inside = hash_attr in start and DynamoType(start[hash_attr]) == hash_key
    if inside and range_comparison and range_attr is not None:
        inside = range_attr in start and DynamoType(start[range_attr]).compare(range_comparison, range_objs)
    if not inside:
        raise MockValidationException(_OUTSIDE)


def _query(self: Table, hash_key: DynamoType | None, *args: Any, **kwargs: Any) -> Any:
    index_name = args[_INDEX_NAME - 1] if len(args) >= _INDEX_NAME else kwargs.get("index_name")
    _check_start(self, hash_key, args, index_name)
    if not index_name and hash_key is None:
        return moto_query(self, hash_key, *args, **kwargs)
    _state.partition = (self, _ANY_PARTITION if index_name else hash_key)
    try:
        return moto_query(self, hash_key, *args, **kwargs)
    finally:
        _state.partition = None


def _all_items(self: Table) -> list[Item]:
    """moto's list of every item, sorted by key; only the queried partition's within a Query on the key,
    and unsorted within a Query on an index (which sorts its matches by the index's key and then the
    table's: an order the items' own cannot change)."""
    table, hash_key = getattr(_state, "partition", None) or (None, None)
    if table is not self:
        items: list[Item] = moto_all_items(self)
        return items
    if hash_key is _ANY_PARTITION:
        if self.range_key_attr is None:
            return list(self.items.values())
        return [item for partition in self.items.values() for item in partition.values()]
    partition = self.items.get(hash_key)
    if not partition:
        return []
    if self.range_key_attr is None:
        return [partition]
    return sorted(partition.values(), key=lambda item: item.range_key)


def _touched_items(backend: DynamoDBBackend, transact_items: list[dict[str, Any]]) -> dict[ItemKey, Item | None] | None:
    """A copy of each item the transaction names (None where there is none), keyed by table and key;
    None when an action cannot be read as moto will read it (moto also leaves earlier actions
    applied when an action has more than one operation)."""
    saved: dict[ItemKey, Item | None] = {}
    for action in transact_items:
        if len(action) != 1:
            return None
        kind, op = next(iter(action.items()))
        table = backend.tables.get(op.get("TableName", "")) if isinstance(op, dict) else None
        if table is None:
            continue  # moto cancels the action (no such table) without writing anything
        try:
            hash_key, range_key = key_of(table, op["Item"] if kind == "Put" else op["Key"])
        except Exception:  # noqa: BLE001 - any key moto may parse otherwise: leave it all to moto
            return None
        key = (table.name, hash_key, range_key)
        if key not in saved:
            current = item_at(table, hash_key, range_key)
            saved[key] = copy.deepcopy(current) if current is not None else None
    return saved


def _stream_lengths(backend: DynamoDBBackend, transact_items: list[dict[str, Any]]) -> dict[str, int]:
    """How many records the stream of each table the transaction names holds (tables with a stream)."""
    names = {op.get("TableName", "") for action in transact_items for op in action.values() if isinstance(op, dict)}
    tables = [backend.tables[name] for name in names if name in backend.tables]
    return {table.name: len(table.stream_shard.items) for table in tables if table.stream_shard is not None}


def key_of(table: Table, attrs: dict[str, Any]) -> tuple[DynamoType, DynamoType | None]:
    """The key moto stores an item under, from the item's or a request's attributes (raises if absent)."""
    hash_key = DynamoType(attrs[table.hash_key_attr])
    return hash_key, DynamoType(attrs[table.range_key_attr]) if table.range_key_attr else None


def item_at(table: Table, hash_key: DynamoType, range_key: DynamoType | None) -> Item | None:
    """The item stored under a key, or None (unlike moto's get_item, leaves no empty partition behind)."""
    stored: Any = table.items.get(hash_key)  # the item, or the partition when there is a range key
    if range_key is None or stored is None:
        return cast(Item | None, stored)
    return cast(Item | None, stored.get(range_key))


def _restore(backend: DynamoDBBackend, saved: dict[ItemKey, Item | None]) -> None:
    for (table_name, hash_key, range_key), item in saved.items():
        items: dict[DynamoType, Any] = backend.tables[table_name].items
        if range_key is None:
            if item is None:
                items.pop(hash_key, None)
            else:
                items[hash_key] = item
        elif item is not None:
            items[hash_key][range_key] = item
        elif hash_key in items:
            items[hash_key].pop(range_key, None)
            if not items[hash_key]:
                del items[hash_key]
