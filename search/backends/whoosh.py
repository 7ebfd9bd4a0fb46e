"""A Wagtail (django-modelsearch) search backend on an on-disk Whoosh index.

Layout: one index per root model (like the Elasticsearch backend) in
``PATH/<app_label>_<model>/``. Each index folder holds generations (``gen-*``, each a
complete Whoosh index) and a ``CURRENT`` pointer file naming the live one; a rebuild
writes a new generation and swaps the pointer with ``os.replace``, so searches keep
answering while it runs.

Documents: text of every ``SearchField`` goes to ``tx.<language group>.<column>``
(analysed with that language's analyser, see ``search.analysis``), autocomplete text to
``ac.<column>``, filter values to ``f.<i|f|s>.<column>`` (sortable, single-valued) or
``m.<i|f|s>.<column>`` (multi-valued). Filter fields reached through a to-many relation
are stored in child documents (Whoosh nested documents), so that several lookups on
one relation must hold for the same related object, as in the ORM.
"""

import ctypes
import datetime
import heapq
import logging
import multiprocessing
import os
import pickle
import random
import re
import shutil
import signal
import struct
import sys
import threading
import time
import traceback
import uuid
from array import array
from collections import OrderedDict, defaultdict
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from django.core.exceptions import FieldDoesNotExist, ImproperlyConfigured
from django.db import DEFAULT_DB_ALIAS, DatabaseError, models
from django.db.models import F, OrderBy, Subquery
from django.db.models.expressions import Col
from django.db.models.lookups import Lookup
from django.db.models.sql import Query
from django.db.models.sql.constants import MULTI, SINGLE
from django.db.models.sql.where import WhereNode
from django.utils import dateparse, timezone
from modelsearch.backends.base import (
    BaseIndex,
    BaseSearchBackend,
    BaseSearchQueryCompiler,
    BaseSearchResults,
    FieldError,
    FilterError,
    FilterFieldError,
    OrderByFieldError,
    get_model_root,
)
from modelsearch.index import (
    AutocompleteField,
    FilterField,
    RelatedFields,
    SearchField,
    class_is_indexed,
    get_indexed_models,
)
from modelsearch.query import And, Boost, Fuzzy, MatchAll, Not, Or, Phrase, PlainText
from whoosh import fields as whoosh_fields
from whoosh import index as whoosh_index
from whoosh import query as wq
from whoosh import sorting
from whoosh.analysis import Token, Tokenizer
from whoosh.codec import whoosh3
from whoosh.filedb.filestore import FileStorage
from whoosh.index import LockError
from whoosh.scoring import BM25F
from whoosh.writing import SegmentWriter

from search import analysis
from search.backends import whoosh_vector

logger = logging.getLogger("kb.search")

POINTER_FILE = "CURRENT"
# Rewritten (with a new random token) after every change to any live index of the
# backend, so result caches in every process can tell, with one small read, that
# what they hold is out of date.
CHANGES_FILE = "CHANGES"
BUILDING_FILE = "BUILDING"
# A rebuild refreshes BUILDING with every chunk; an older file is a crashed rebuild.
BUILDING_STALE_AFTER = 15 * 60
# Keys of objects saved or deleted while a rebuild runs, in the new generation's folder:
# the rebuild must not overwrite what those saves wrote with what it read earlier.
TOUCHED_FILE = "TOUCHED"
# A rebuild writes its documents in batches of this many objects: each batch is one
# segment per process (REBUILD_PROCS), and fewer segments need less merging at the
# end. The last batch takes whatever remains (up to twice this), so a rebuild of up to
# 2 * REBUILD_BATCH objects is written as one segment per process and needs no merge.
REBUILD_BATCH = 10_000
# Memory (estimated, in MB) a rebuild's postings may take before they go to disk.
REBUILD_POOL_MB = 384
# A rebuild's batch of at least this many documents is split between the backend's
# REBUILD_PROCS processes (one segment each); a smaller one is not worth a fork.
PARALLEL_MIN_DOCUMENTS = 500
# A child writing part of a rebuild may take this many times as long as the rebuilding
# process took for its own part, plus this many seconds, before it counts as stuck.
CHILD_PATIENCE = 10
CHILD_PATIENCE_S = 60
PR_SET_PDEATHSIG = 1  # linux/prctl.h
MAX_FILTER_STRING = 2000
DB_CHUNK = 500

# Errors that mean a generation cannot be opened at all (as opposed to a busy disk).
_UNREADABLE = (
    FileNotFoundError,
    NotADirectoryError,
    whoosh_index.IndexError,
    EOFError,
    ValueError,
    KeyError,
    TypeError,
    AttributeError,
    ImportError,
    pickle.UnpicklingError,
    struct.error,
)


# --- Values ------------------------------------------------------------------------

_KIND_BY_TYPE = {
    "AutoField": "int",
    "BigAutoField": "int",
    "SmallAutoField": "int",
    "IntegerField": "int",
    "BigIntegerField": "int",
    "SmallIntegerField": "int",
    "PositiveIntegerField": "int",
    "PositiveSmallIntegerField": "int",
    "PositiveBigIntegerField": "int",
    "FloatField": "float",
    "DecimalField": "float",
    "BooleanField": "bool",
    "NullBooleanField": "bool",
    "DateField": "date",
    "DateTimeField": "datetime",
    "TimeField": "time",
}
_STORAGE = {"float": "f", "str": "s"}  # every other kind is stored as an integer
_EPOCH = datetime.datetime(1970, 1, 1)


def _encode(kind: str, value):
    """Converts a filter value to what the index stores; None when it cannot."""
    if value is None:
        return None
    if isinstance(value, models.Model):
        value = value.pk
    try:
        if kind == "int":
            return int(value)
        if kind == "float":
            return float(value)
        if kind == "bool":
            return int(bool(value))
        if kind in ("date", "datetime"):
            if isinstance(value, str):
                value = dateparse.parse_datetime(value) or dateparse.parse_date(value)
            if not isinstance(value, datetime.datetime):
                value = datetime.datetime.combine(value, datetime.time.min)
            if timezone.is_aware(value):
                value = timezone.make_naive(value, datetime.UTC)
            return (value - _EPOCH) // datetime.timedelta(microseconds=1)
        if kind == "time":
            if isinstance(value, str):
                value = dateparse.parse_time(value)
            return (
                (value.hour * 60 + value.minute) * 60 + value.second
            ) * 1_000_000 + (value.microsecond)
        return str(value)[:MAX_FILTER_STRING]
    except (TypeError, ValueError, AttributeError, OverflowError):
        return None


def _decode(kind: str, value):
    if value is None:
        return None
    if kind == "bool":
        return bool(value)
    if kind in ("date", "datetime"):
        moment = _EPOCH + datetime.timedelta(microseconds=value)
        if kind == "date":
            return moment.date()
        return (
            timezone.make_aware(moment, datetime.UTC)
            if timezone.is_naive(moment)
            else moment
        )
    if kind == "time":
        seconds, micro = divmod(value, 1_000_000)
        return datetime.time(seconds // 3600, seconds // 60 % 60, seconds % 60, micro)
    return value


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, (models.Manager, models.QuerySet)):
        value = value.all()
    if isinstance(value, (list, tuple, models.QuerySet)):
        return "\n".join(filter(None, (_text(item) for item in value)))
    return str(value)


def _flatten(value) -> list:
    if value is None:
        return []
    if isinstance(value, (models.Manager, models.QuerySet)):
        return list(value.all())
    if isinstance(value, (list, tuple, set)):
        return list(value)
    return [value]


# --- Columns -----------------------------------------------------------------------


def _django_field(field, model):
    try:
        return field.get_field(model)
    except FieldDoesNotExist:
        return None


def _is_to_many(django_field) -> bool:
    return bool(
        getattr(django_field, "many_to_many", False)
        or getattr(django_field, "one_to_many", False)
    )


def _filter_kind(field, model) -> str:
    try:
        return _KIND_BY_TYPE.get(field.get_type(model), "str")
    except (AttributeError, FieldDoesNotExist):
        return "str"


@dataclass(frozen=True)
class _Target:
    """Where one filter field lives in the index."""

    name: str
    kind: str
    # Relation prefix ("books.") when the value sits in child documents.
    nested: str | None = None


def _filter_target(field, model, prefix="", multi=False, nested=None) -> _Target:
    kind = _filter_kind(field, model)
    many = multi or _is_to_many(_django_field(field, model))
    storage = _STORAGE.get(kind, "i")
    name = f"{'m' if many else 'f'}.{storage}.{prefix}{field.get_attname(model)}"
    return _Target(name, kind, nested)


def _related_objects(field, objs) -> list:
    related = []
    for obj in objs:
        related.extend(_flatten(field.get_value(obj)))
    return related


def _search_columns(fields, model, prefix="") -> dict[str, float]:
    """Text columns of a search_fields list, with their boosts."""
    columns: dict[str, float] = {}
    for field in fields:
        if isinstance(field, RelatedFields):
            related = field.get_field(model).related_model
            for column, boost in _search_columns(
                field.fields, related, prefix + field.field_name + "."
            ).items():
                columns[column] = max(boost, columns.get(column, 0))
        elif isinstance(field, SearchField):
            column = prefix + field.field_name
            columns[column] = max(float(field.boost or 1), columns.get(column, 0))
    return columns


def _autocomplete_columns(fields, model, prefix="") -> list[str]:
    columns = []
    for field in fields:
        if isinstance(field, RelatedFields):
            related = field.get_field(model).related_model
            columns += _autocomplete_columns(
                field.fields, related, prefix + field.field_name + "."
            )
        elif isinstance(field, AutocompleteField) or (
            isinstance(field, SearchField) and field.kwargs.get("partial_match")
        ):
            columns.append(prefix + field.field_name)
    return columns


# --- Documents -----------------------------------------------------------------------


class _DocumentBuilder:
    """Turns model instances into Whoosh documents (a parent plus its children)."""

    def __init__(self, model):
        self.model = model
        self.search_fields = model.get_search_fields()
        content_types, cls = [], model
        while cls is not None:
            content_types.append(cls._meta.label_lower)
            cls = cls.indexed_get_parent()
        self.content_types = " ".join(content_types)

    def documents(self, obj, group: str) -> list[dict]:
        key = str(obj.pk)
        parent = {
            "pk": key,
            "owner": key,
            "kind": "p",
            "ct": self.content_types,
            "lang": group,
        }
        if isinstance(obj.pk, int):
            parent["pkn"] = obj.pk
        text, autocomplete = defaultdict(list), defaultdict(list)
        self._text_values(self.search_fields, [obj], self.model, "", text, autocomplete)
        for column, values in text.items():
            if value := "\n".join(filter(None, values)):
                parent[f"tx.{group}.{column}"] = value
        for column, values in autocomplete.items():
            if value := "\n".join(filter(None, values)):
                parent[f"ac.{column}"] = value
        children: list[dict] = []
        self._filter_values(
            self.search_fields, [obj], self.model, "", parent, False, children
        )
        return [parent] + [{"owner": key, "kind": "c", **child} for child in children]

    def _text_values(self, fields, objs, model, prefix, text, autocomplete):
        for field in fields:
            if isinstance(field, RelatedFields):
                related_model = field.get_field(model).related_model
                self._text_values(
                    field.fields,
                    _related_objects(field, objs),
                    related_model,
                    prefix + field.field_name + ".",
                    text,
                    autocomplete,
                )
                continue
            is_search = isinstance(field, SearchField)
            is_autocomplete = isinstance(field, AutocompleteField) or (
                is_search and field.kwargs.get("partial_match")
            )
            if not (is_search or is_autocomplete):
                continue
            values = [_text(field.get_value(obj)) for obj in objs]
            if is_search:
                text[prefix + field.field_name] += values
            if is_autocomplete:
                autocomplete[prefix + field.field_name] += values

    def _filter_values(self, fields, objs, model, prefix, out, multi, children):
        for field in fields:
            if isinstance(field, RelatedFields):
                django_field = field.get_field(model)
                related_model = django_field.related_model
                related_prefix = prefix + field.field_name + "."
                to_many = _is_to_many(django_field)
                if to_many and children is not None:
                    for related in _related_objects(field, objs):
                        child: dict = {}
                        self._filter_values(
                            field.fields,
                            [related],
                            related_model,
                            related_prefix,
                            child,
                            False,
                            None,
                        )
                        if child:
                            children.append(child)
                else:
                    self._filter_values(
                        field.fields,
                        _related_objects(field, objs),
                        related_model,
                        related_prefix,
                        out,
                        multi or to_many,
                        children,
                    )
            elif isinstance(field, FilterField):
                target = _filter_target(field, model, prefix, multi)
                values = []
                for obj in objs:
                    for value in _flatten(field.get_value(obj)):
                        encoded = _encode(target.kind, value)
                        if encoded is not None:
                            values.append(encoded)
                if target.name.startswith("m."):
                    if values:
                        out.setdefault(target.name, []).extend(values)
                elif values:
                    out[target.name] = values[0]


def _language_groups(model, items) -> dict[str, str]:
    """Analysis group of each object, from its ``locale`` (one query per batch)."""
    try:
        locale_field = model._meta.get_field("locale")
    except FieldDoesNotExist:
        locale_field = None
    codes: dict = {}
    if locale_field is not None and locale_field.is_relation:
        ids = {getattr(obj, locale_field.attname, None) for obj in items} - {None}
        try:
            codes = dict(
                locale_field.related_model._default_manager.filter(
                    pk__in=ids
                ).values_list("pk", "language_code")
            )
        except FieldDoesNotExist:
            codes = {}
    groups = {}
    for obj in items:
        if locale_field is not None and locale_field.is_relation:
            code = codes.get(getattr(obj, locale_field.attname, None))
        else:
            locale = getattr(obj, "locale", None)
            code = (
                locale
                if isinstance(locale, str)
                else getattr(locale, "language_code", None)
            )
        groups[str(obj.pk)] = analysis.language_group(code)
    return groups


# --- Storage -------------------------------------------------------------------------


def _cached_length_reader(self, fieldname, column):
    """Whoosh's W3PerDocReader._cached_reader, remembering absent columns too.

    Writing a segment asks for the length of every posting's field; for fields
    without lengths (ids, numbers, keywords) the original checks the disk again each
    time (a third of a rebuild's time here). A finished segment's columns never
    change, so the answer can be kept."""
    try:
        return self._readers[fieldname]
    except KeyError:
        reader = (
            self.column_reader(fieldname, column)
            if self.has_column(fieldname)
            else None
        )
        self._readers[fieldname] = reader
        return reader


whoosh3.W3PerDocReader._cached_reader = _cached_length_reader


class _TermPool:
    """Whoosh's PostingPool for a rebuild: postings kept per term, in document order.

    Whoosh's pool holds every posting as a tuple, sorts them all at commit and, past
    ``limitmb``, pickles sorted runs to disk and merges them posting by posting (at
    10k articles that was most of a rebuild). A rebuild's writer adds documents in
    order, so each term's postings arrive already sorted: this pool appends them to
    the term's arrays, sorts only the terms, and when it outgrows ``limitmb`` writes
    the terms to a run on disk; runs are merged term by term. Postings that arrive
    out of order (which no rebuild produces) are sorted when read."""

    def __init__(self, tempstore, limitmb: float | None = None):
        self.tempstore = tempstore
        self.limit = (REBUILD_POOL_MB if limitmb is None else limitmb) * 1024 * 1024
        self.fieldnames = set()
        self._terms: dict = {}
        self._size = 0
        self._runs: list[str] = []
        self._unsorted: set = set()

    def add(self, item):
        fieldname, tbytes, docnum, weight, vbytes = item
        key = (fieldname, tbytes)
        entry = self._terms.get(key)
        if entry is None:
            self.fieldnames.add(fieldname)
            entry = self._terms[key] = (array("q"), array("d"), [])
            self._size += 320 + len(tbytes)
        docnums, weights, values = entry
        if docnums and docnum < docnums[-1]:
            self._unsorted.add(key)
        docnums.append(docnum)
        weights.append(weight)
        values.append(vbytes or None)
        self._size += 24 + (len(vbytes) + 33 if vbytes else 0)
        if self._size > self.limit:
            self._save()

    def _sorted_terms(self):
        terms, unsorted = self._terms, self._unsorted
        for key in sorted(terms):
            docnums, weights, values = terms[key]
            yield key, list(docnums), list(weights), values, key in unsorted

    def _save(self):
        name = f"{uuid.uuid4().hex}.terms"
        with self.tempstore.create_file(name) as handle:
            for term in self._sorted_terms():
                pickle.dump(term, handle, pickle.HIGHEST_PROTOCOL)
        self._runs.append(name)
        self._terms, self._unsorted, self._size = {}, set(), 0

    def _read_run(self, name):
        with self.tempstore.open_file(name) as handle:
            while True:
                try:
                    yield pickle.load(handle)  # noqa: S301 -- our own run file
                except EOFError:
                    return

    def iter_postings(self):
        sources = [self._read_run(name) for name in self._runs]
        sources.append(self._sorted_terms())
        merged = heapq.merge(*sources, key=lambda term: term[0])
        current = None
        for key, docnums, weights, values, unsorted in merged:
            # Runs come in the order they were written, so a term found in several
            # runs continues where the previous run left off.
            if current is not None and current[0] == key:
                current[1].extend(docnums)
                current[2].extend(weights)
                current[3].extend(values)
                current[4] = True
                continue
            if current is not None:
                yield from self._postings(*current)
            current = [key, docnums, weights, values, unsorted]
        if current is not None:
            yield from self._postings(*current)

    @staticmethod
    def _postings(key, docnums, weights, values, check):
        fieldname, tbytes = key
        postings = zip(docnums, weights, values, strict=True)
        if check and any(a > b for a, b in zip(docnums, docnums[1:], strict=False)):
            postings = sorted(postings, key=lambda posting: posting[0])
        for docnum, weight, value in postings:
            yield fieldname, tbytes, docnum, weight, value

    def cleanup(self):
        for name in self._runs:
            try:
                self.tempstore.delete_file(name)
            except OSError:
                pass
        self._runs = []
        self._terms, self._unsorted, self._size = {}, set(), 0


def _rebuild_writer(ix, timeout: float):
    """A writer for a rebuild's generation, with the per-term posting pool."""
    writer = _open_writer(ix, timeout)
    writer.pool = _TermPool(writer.temp_storage())
    return writer


class ValuesTokenizer(Tokenizer):
    """Indexes each item of a list as one term (multi-valued string filters)."""

    def __call__(self, value, positions=False, chars=False, mode="", **kwargs):
        token = Token(positions, chars, mode=mode, **kwargs)
        for pos, item in enumerate([value] if isinstance(value, str) else value):
            token.text = item
            token.boost = 1.0
            token.stopped = False
            token.pos = pos
            token.startchar, token.endchar = 0, len(item)
            yield token


class _Schema(whoosh_fields.Schema):
    """A Whoosh schema that remembers which glob field each name resolved to.

    Every field here is a glob field (``tx.en.*``, ``f.i.*``...), and Whoosh tries
    each pattern on every lookup, several times per posting while writing: a fifth of
    a rebuild's time went to those regular expressions."""

    def __getitem__(self, name):
        lookups = self.__dict__.setdefault("_kb_lookups", {})
        try:
            return lookups[name]
        except KeyError:
            field = lookups[name] = super().__getitem__(name)
            return field

    def add(self, *args, **kwargs):
        self.__dict__.pop("_kb_lookups", None)
        super().add(*args, **kwargs)

    def remove(self, *args, **kwargs):
        self.__dict__.pop("_kb_lookups", None)
        super().remove(*args, **kwargs)

    def __getstate__(self):
        # The schema is pickled into every commit's table of contents.
        state = dict(self.__dict__)
        state.pop("_kb_lookups", None)
        return state


# Whoosh indexes a number once per ``shift_step`` bits of precision so that ranges
# need few terms; its default of 4 made 16 terms of every 64-bit filter value (ids,
# dates, booleans: a third of all postings). 8 bits halves that, and a range still
# reads at most 255 terms per edge and precision.
NUMERIC_SHIFT_STEP = 8


def _schema() -> whoosh_fields.Schema:
    def integer(**kwargs):
        return whoosh_fields.NUMERIC(int, 64, signed=True, **kwargs)

    schema = _Schema(
        pk=whoosh_fields.ID(stored=True, unique=True, sortable=True),
        pkn=integer(shift_step=NUMERIC_SHIFT_STEP, sortable=True),
        owner=whoosh_fields.ID(),
        kind=whoosh_fields.ID(),
        ct=whoosh_fields.KEYWORD(),
        lang=whoosh_fields.ID(stored=True),
    )
    schema.add(
        "f.i.*", integer(shift_step=NUMERIC_SHIFT_STEP, sortable=True), glob=True
    )
    schema.add(
        "f.f.*",
        whoosh_fields.NUMERIC(float, shift_step=NUMERIC_SHIFT_STEP, sortable=True),
        glob=True,
    )
    schema.add("f.s.*", whoosh_fields.ID(sortable=True), glob=True)
    schema.add("m.i.*", integer(shift_step=0), glob=True)
    schema.add("m.f.*", whoosh_fields.NUMERIC(float, shift_step=0), glob=True)
    schema.add("m.s.*", whoosh_fields.ID(analyzer=ValuesTokenizer()), glob=True)
    schema.add(
        "ac.*",
        whoosh_fields.TEXT(analyzer=analysis.autocomplete_analyzer(), phrase=False),
        glob=True,
    )
    return schema


def _ensure_text_fields(writer, groups):
    # A language's text fields are added the first time a document in it is written.
    for group in groups:
        if f"tx.{group}.x" not in writer.schema:
            writer.add_field(
                f"tx.{group}.*",
                whoosh_fields.TEXT(analyzer=analysis.group_analyzer(group)),
                glob=True,
            )


def _open_writer(ix, timeout: float):
    """Opens a writer, retrying with backoff while another process holds the lock."""
    deadline = time.monotonic() + timeout
    delay = 0.01
    while True:
        try:
            return ix.writer()
        except LockError:
            if time.monotonic() >= deadline:
                raise
            time.sleep(delay * (1 + random.random()))  # noqa: S311 -- jitter, not crypto
            delay = min(delay * 2, 0.5)


class _IndexStore:
    """The folder of one index: its generations and the pointer to the live one."""

    def __init__(self, path: Path, lock_timeout: float):
        self.path = path
        self.lock_timeout = lock_timeout

    def _read(self, filename: str) -> str | None:
        try:
            return (self.path / filename).read_text().strip() or None
        except FileNotFoundError:
            return None

    def _write_atomically(self, filename: str, text: str):
        _write_atomically(self.path, filename, text)

    def mark_changed(self):
        """Tells result caches of every process that the live index changed."""
        _write_atomically(self.path.parent, CHANGES_FILE, uuid.uuid4().hex, sync=False)

    def current(self) -> str | None:
        return self._read(POINTER_FILE)

    def pointer_stat(self):
        try:
            stat = os.stat(self.path / POINTER_FILE)
        except FileNotFoundError:
            return None
        return stat.st_ino, stat.st_mtime_ns, stat.st_size

    def publish(self, generation: str):
        self._write_atomically(POINTER_FILE, generation)

    def building(self) -> str | None:
        try:
            age = time.time() - os.stat(self.path / BUILDING_FILE).st_mtime
        except FileNotFoundError:
            return None
        return self._read(BUILDING_FILE) if age < BUILDING_STALE_AFTER else None

    def set_building(self, generation: str | None):
        if generation:
            self._write_atomically(BUILDING_FILE, generation)
        else:
            (self.path / BUILDING_FILE).unlink(missing_ok=True)

    def touch_building(self, generation: str):
        if self._read(BUILDING_FILE) == generation:
            os.utime(self.path / BUILDING_FILE)

    @contextmanager
    def locked(self):
        self.path.mkdir(parents=True, exist_ok=True)
        lock = FileStorage(str(self.path)).lock("pointer")
        lock.acquire(blocking=True)
        try:
            yield
        finally:
            lock.release()

    def new_generation(self) -> str:
        name = f"gen-{time.time_ns()}-{os.getpid()}"
        folder = self.path / name
        folder.mkdir(parents=True)
        whoosh_index.create_in(str(folder), _schema())
        return name

    def open(self, generation: str):
        return whoosh_index.open_dir(str(self.path / generation))

    def open_live(self):
        """Opens the live generation; a missing or unreadable index is replaced by an
        empty one, with a warning, so that searches answer (with nothing)."""
        generation = self.current()
        problem = "missing"
        if generation:
            try:
                return generation, self.open(generation)
            except _UNREADABLE as exc:
                problem = f"unreadable ({exc!r})"
        with self.locked():
            # Another process may have repaired it while we waited for the lock.
            repaired = self.current()
            if repaired and repaired != generation:
                try:
                    return repaired, self.open(repaired)
                except _UNREADABLE:
                    pass
            logger.warning(
                "Search index %s is %s; created an empty index. Searches return no "
                "results until you run `manage.py update_index`.",
                self.path,
                problem,
            )
            generation = self.new_generation()
            self.publish(generation)
            self.mark_changed()
            return generation, self.open(generation)

    def write(self, generation: str, keys, documents, merge=True):
        ix = self.open(generation)
        _write(ix, keys, documents, self.lock_timeout, merge=merge)

    def note_touched(self, generation: str, keys):
        """Records that live saves wrote these keys into a generation being rebuilt."""
        with open(self.path / generation / TOUCHED_FILE, "a") as handle:
            handle.write("".join(f"{key}\n" for key in keys))

    def touched(self, generation: str) -> set[str]:
        try:
            text = (self.path / generation / TOUCHED_FILE).read_text()
        except FileNotFoundError:
            return set()
        return set(text.splitlines())

    def write_rebuilt(self, generation: str, keys, documents, procs: int = 1) -> int:
        """Writes a rebuild's batch, leaving out objects that live saves wrote since;
        with ``procs`` > 1, as that many segments written at once. Returns the number
        of segments written."""
        ix = self.open(generation)
        writer = _rebuild_writer(ix, self.lock_timeout)
        # Read under the write lock: a save noted after this waits for the lock and
        # so lands after this batch.
        touched = self.touched(generation)
        keys = [key for key in keys if key not in touched]
        documents = [docs for docs in documents if docs[0]["owner"] not in touched]
        if procs > 1 and len(documents) >= max(PARALLEL_MIN_DOCUMENTS, procs):
            return _write_in_parallel(writer, keys, documents, procs)
        _write(ix, keys, documents, self.lock_timeout, merge=False, writer=writer)
        return 1 if documents else 0

    def optimize(self, generation: str, segments: int = 1):
        """Merges a rebuilt generation into one segment if it has more than
        ``segments`` (searches are exact on several segments, and merging the ones a
        batch's processes wrote at once would cost a good part of a rebuild)."""
        ix = self.open(generation)
        if len(ix._segments()) <= max(segments, 1):
            return
        writer = _rebuild_writer(ix, self.lock_timeout)
        writer.commit(optimize=True)

    def cleanup(self, keep):
        """Deletes generations other than ``keep`` and a running rebuild's."""
        keep = set(keep) | {self.building()}
        for folder in self.path.glob("gen-*"):
            if folder.name not in keep:
                shutil.rmtree(folder, ignore_errors=True)


def _write_atomically(folder: Path, filename: str, text: str, sync: bool = True):
    folder.mkdir(parents=True, exist_ok=True)
    temporary = folder / f".{filename}.{os.getpid()}.{threading.get_ident()}"
    with open(temporary, "w") as handle:
        handle.write(text)
        if sync:
            handle.flush()
            os.fsync(handle.fileno())
    os.replace(temporary, folder / filename)


def _write(ix, keys, documents, lock_timeout, merge=True, writer=None):
    writer = writer or _open_writer(ix, lock_timeout)
    try:
        _replace_keys(writer, keys, documents)
        _add_documents(writer, documents)
    except BaseException:
        writer.cancel()
        raise
    writer.commit(merge=merge)


def _replace_keys(writer, keys, documents):
    """Readies a writer for ``documents``: their languages' text fields exist and
    what the index held for ``keys`` is deleted."""
    _ensure_text_fields(writer, {docs[0]["lang"] for docs in documents})
    for key in keys:
        writer.delete_by_term("owner", key)


def _add_documents(writer, documents):
    for docs in documents:
        if len(docs) == 1:
            writer.add_document(**docs[0])
        else:
            with writer.group():
                for doc in docs:
                    writer.add_document(**doc)


class RebuildProcessError(RuntimeError):
    """A process writing part of a rebuild failed; the rebuild is abandoned."""


def _write_in_parallel(writer, keys, documents, procs: int):
    """Writes documents as ``procs`` new segments at once and commits them together.

    Whoosh's ``MpWriter(multisegment=True)`` without its job files: forked children
    inherit the documents and the schema (with the text fields this batch needs), each
    writes the first parts as a segment with a writer that relies on ``writer``'s lock,
    and sends the finished segment back; this process writes the last part, then
    commits every segment in one table of contents, in document order."""
    size = -(-len(documents) // procs)
    parts = [
        documents[start : start + size] for start in range(0, len(documents), size)
    ]
    children: list[_SegmentProcess] = []
    try:
        _replace_keys(writer, keys, documents)
        children = [_SegmentProcess(writer, part) for part in parts[:-1]]
        started = time.monotonic()
        _add_documents(writer, parts[-1])
        own = writer._finalize_segment()
        # A child has as much to write as this process: one that takes many times
        # as long is stuck, and the rebuild fails rather than wait for ever.
        patience = CHILD_PATIENCE * (time.monotonic() - started) + CHILD_PATIENCE_S
        segments = [child.segment(timeout=patience) for child in children]
    except BaseException:
        for child in children:
            child.stop()
        writer.cancel()
        raise
    # SegmentWriter.commit(merge=False), with the children's segments before ours.
    finalsegments = writer._merge_segments(None, None, False) + segments + [own]
    writer._commit_toc(finalsegments)
    writer._finish()
    return len(parts)


class _SegmentProcess:
    """A forked process writing some of a rebuild's documents as one segment."""

    def __init__(self, writer, documents):
        context = multiprocessing.get_context("fork")
        self.connection, child_end = context.Pipe(duplex=False)
        self.process = context.Process(
            target=_write_segment,
            args=(
                child_end,
                os.getpid(),
                writer.storage,
                writer.indexname,
                writer.schema,
                documents,
            ),
            daemon=True,
        )
        self.process.start()
        # The child holds the only writing end now, so a child that dies before it
        # answers makes recv() raise EOFError instead of waiting for ever.
        child_end.close()

    def segment(self, timeout: float):
        """Waits (at most ``timeout`` seconds) for the child's finished segment."""
        try:
            if self.connection.poll(timeout):
                kind, value = self.connection.recv()
            else:
                kind, value = "error", f"it was still writing after {timeout:.0f} s"
                self.process.kill()
        except EOFError:
            kind, value = "error", "it ended without sending its segment"
        finally:
            self.connection.close()
        self.process.join()
        if kind != "segment":
            raise RebuildProcessError(
                f"Rebuild process {self.process.pid} failed writing its part of the "
                f"index (exit code {self.process.exitcode}); the live index is "
                f"unchanged:\n{value}"
            )
        return value

    def stop(self):
        if self.process.is_alive():
            self.process.kill()
        self.process.join()
        self.connection.close()


def _write_segment(connection, parent_pid, storage, indexname, schema, documents):
    # Runs in the forked child, which must not touch the database connections it
    # inherited: multiprocessing ends it with os._exit, so no atexit handler or
    # connection teardown runs here.
    try:
        _end_with_parent(parent_pid)
        writer = SegmentWriter(storage.open_index(indexname), _lk=False)
        writer.schema = schema
        writer.pool = _TermPool(writer.temp_storage())
        _add_documents(writer, documents)
        # Not writer.commit(): the parent commits the segment; and not _finish(),
        # which would delete the temporary folder the parent shares.
        connection.send(("segment", writer._finalize_segment()))
    except BaseException:
        connection.send(("error", traceback.format_exc()))
        sys.exit(1)  # the parent reports the traceback
    finally:
        connection.close()


def _end_with_parent(parent_pid: int):
    """Has Linux kill this child when the rebuilding process dies (a SIGKILL gives it
    no chance to stop its children), so no orphan keeps writing."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):
        return  # not Linux: an orphan ends when it finds its pipe closed
    if os.getppid() != parent_pid:
        os._exit(1)  # the parent died before prctl took effect


class _Reader:
    """This process's warm searcher of one index, reopened when the index changes."""

    def __init__(self, store: _IndexStore):
        self.store = store
        self.lock = threading.Lock()
        self._stat = None
        self._searcher = None

    @contextmanager
    def searcher(self):
        # Whoosh searchers are not thread-safe; threads of one process take turns.
        with self.lock:
            yield self._fresh()

    def _fresh(self):
        stat = self.store.pointer_stat()
        if self._searcher is None or stat is None or stat != self._stat:
            self._reopen()
        elif not self._searcher.up_to_date():
            # Not Searcher.refresh(): it reuses segment readers whose deletions
            # have changed since, so replaced documents would still match.
            self._reopen()
        return self._searcher

    def _reopen(self):
        self.close()
        _, ix = self.store.open_live()
        self._stat = self.store.pointer_stat()
        # whoosh_vector scores with this model's formula and parameters.
        self._searcher = ix.searcher(weighting=BM25F())

    def close(self):
        if self._searcher is not None:
            try:
                self._searcher.close()
            except OSError:
                pass
        self._searcher = None
        self._stat = None


_readers: dict[str, _Reader] = {}
_readers_pid = os.getpid()
_readers_lock = threading.Lock()


def _reader_for(store: _IndexStore) -> _Reader:
    global _readers_pid
    key = str(store.path.resolve())
    with _readers_lock:
        if _readers_pid != os.getpid():
            # A forked worker must not share its parent's open files.
            _readers.clear()
            _readers_pid = os.getpid()
        reader = _readers.get(key)
        if reader is None:
            reader = _readers[key] = _Reader(store)
        return reader


def reset_process_state():
    """Closes this process's warm searchers (after a fork, or in tests)."""
    with _readers_lock:
        for reader in _readers.values():
            with reader.lock:
                reader.close()
        _readers.clear()


# --- Index -------------------------------------------------------------------------


class WhooshIndex(BaseIndex):
    """One root model's index; ``generation`` pins it to a generation being rebuilt."""

    def __init__(self, backend, name: str, generation: str | None = None):
        super().__init__(backend)
        self.name = name
        self.generation = generation
        self.store = _IndexStore(backend.path / name, backend.lock_timeout)
        self._batch: dict[str, list[dict]] = {}
        # Segments each of a rebuild's batches was written as.
        self.written: list[int] = []

    def get_key(self):
        """Identifies the index by its root model (its folder name)."""
        return self.name

    def __str__(self):
        return self.name

    def add_model(self, model):
        """Nothing to do: the schema's glob fields accept any model's fields."""

    def refresh(self):
        """Nothing to do: each process's searcher notices new commits on its own."""

    def reset(self):
        """Swaps in an empty generation, deleting all documents."""
        with self.store.locked():
            previous = self.store.current()
            generation = self.store.new_generation()
            self.store.publish(generation)
            self.store.cleanup({generation, previous})
        self.store.mark_changed()

    def add_items(self, model, items):
        """Adds (or replaces) multiple objects of the same model in the index."""
        if not class_is_indexed(model):
            return
        by_key = {str(obj.pk): obj for obj in items}
        if not by_key:
            return
        builder = _DocumentBuilder(model)
        groups = _language_groups(model, list(by_key.values()))
        documents = [builder.documents(obj, groups[key]) for key, obj in by_key.items()]
        self._write(list(by_key), documents)

    def delete_item(self, item):
        """Deletes a single object (and its child documents) from the index."""
        if not class_is_indexed(type(item)):
            return
        self._write([str(item.pk)], [])

    def _write(self, keys, documents):
        if self.generation:
            self.store.touch_building(self.generation)
            by_key = {docs[0]["owner"]: docs for docs in documents}
            for key in keys:
                self._batch[key] = by_key.get(key, [])
            if len(self._batch) >= 2 * REBUILD_BATCH:
                self._flush(REBUILD_BATCH)
            return
        # Read BUILDING before CURRENT: a rebuild publishes CURRENT before it clears
        # BUILDING, so this order never misses the generation that is about to go live.
        building = self.store.building()
        live, ix = self.store.open_live()
        _write(ix, keys, documents, self.backend.lock_timeout)
        self.store.mark_changed()
        if building and building != live:
            try:
                self.store.note_touched(building, keys)
                self.store.write(building, keys, documents)
            except _UNREADABLE:
                pass  # the rebuild finished (or was abandoned) in the meantime

    def flush(self):
        """Writes what a rebuild has batched up into its generation."""
        self._flush(len(self._batch))

    def _flush(self, count: int):
        """Writes the first ``count`` batched objects (one segment per process)."""
        if not count:
            return
        keys = list(self._batch)[:count]
        batch = {key: self._batch.pop(key) for key in keys}
        written = self.store.write_rebuilt(
            self.generation,
            keys,
            [docs for docs in batch.values() if docs],
            procs=self.backend.rebuild_procs,
        )
        self.written.append(written)

    @contextmanager
    def searcher(self):
        """The process's warm searcher of the live generation."""
        with _reader_for(self.store).searcher() as searcher:
            yield searcher

    def forget_searcher(self):
        """Closes the process's searcher, so the next search reopens the index."""
        reader = _reader_for(self.store)
        with reader.lock:
            reader.close()


class WhooshIndexRebuilder:
    """Builds a new generation beside the live one and swaps it in when complete."""

    def __init__(self, index: WhooshIndex):
        self.live = index
        self.index = None

    def start(self):
        """Creates the new generation and returns the index that fills it."""
        generation = self.live.store.new_generation()
        self.live.store.set_building(generation)
        self.index = WhooshIndex(
            self.live.backend, self.live.name, generation=generation
        )
        return self.index

    def finish(self):
        """Optimises the new generation, makes it live and deletes older ones."""
        store, generation = self.live.store, self.index.generation
        self.index.flush()
        # One batch's segments (written at once) stay; anything more is merged.
        written = self.index.written
        store.optimize(generation, segments=written[0] if len(written) == 1 else 1)
        with store.locked():
            previous = store.current()
            store.publish(generation)
            store.set_building(None)
            # The previous generation stays for searchers still reading it.
            store.cleanup({generation, previous})
        store.mark_changed()


# --- Queries -------------------------------------------------------------------------


def _is_every(query) -> bool:
    return isinstance(query, wq.Every) and not query.fieldname


def _and(queries):
    queries = [query for query in queries if not _is_every(query)] or [wq.Every()]
    if any(query is wq.NullQuery for query in queries):
        return wq.NullQuery
    return queries[0] if len(queries) == 1 else wq.And(queries)


def _or(queries, boost=1.0):
    queries = [query for query in queries if query is not wq.NullQuery]
    if not queries:
        return wq.NullQuery
    if len(queries) == 1:
        return _boosted(queries[0], boost)
    return wq.Or(queries, boost=boost)


def _not(query):
    if query is wq.NullQuery:
        return wq.Every()
    if _is_every(query):
        return wq.NullQuery
    return wq.Not(query)


def _boosted(query, boost: float):
    if boost == 1 or query is wq.NullQuery:
        return query
    return query.with_boost(query.boost * boost)


def _nested(query):
    return wq.NestedParent(wq.Term("kind", "p"), query)


@dataclass
class _Clause:
    """A translated filter; ``nested`` groups lookups that must hold for one related
    object (same relation, same join alias)."""

    query: object
    nested: tuple | None = None

    def resolved(self):
        return _nested(self.query) if self.nested else self.query


# A typo is expanded to at most this many indexed words (the exact word, then the
# most frequent neighbours): an open-ended FuzzyTerm over a large body vocabulary
# ORs in dozens of rare words and costs hundreds of milliseconds.
FUZZY_EXPANSIONS = 4
FUZZY_NEIGHBOUR_WEIGHT = 0.8


def _fuzzy_term(fieldname, text, boost, reader=None):
    # Edit distance by word length keeps short words exact and fuzzy queries cheap.
    if len(text) < 4:
        return wq.Term(fieldname, text, boost=boost)
    long_word = len(text) > 7
    maxdist, prefix = (2, 2) if long_word else (1, 1)
    if reader is None:
        return wq.FuzzyTerm(
            fieldname,
            text,
            boost=boost,
            maxdist=maxdist,
            prefixlength=prefix,
            constantscore=False,
        )
    words = sorted(
        reader.terms_within(fieldname, text, maxdist, prefix=prefix),
        key=lambda word: (word != text, -reader.doc_frequency(fieldname, word)),
    )[:FUZZY_EXPANSIONS]
    return _or(
        [
            wq.Term(
                fieldname,
                word,
                boost=boost if word == text else boost * FUZZY_NEIGHBOUR_WEIGHT,
            )
            for word in words
        ]
    )


@dataclass
class _Context:
    """What the index holds that a query is compiled against."""

    groups: list[str]
    text_fields: dict[str, list[tuple[str, float]]]
    autocomplete_fields: list[tuple[str, float]]
    # For expanding fuzzy terms against the words the index holds.
    reader: object = None


class WhooshSearchQueryCompiler(BaseSearchQueryCompiler):
    DEFAULT_OPERATOR = "or"
    HANDLES_ORDER_BY_EXPRESSIONS = True

    _NO_FILTER = object()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._filter_cache = self._NO_FILTER

    # Filters

    def _get_filters_from_where_node(self, where_node, check_only=False):
        # The base class ignores "<parent>_ptr_id" columns, which is what Django
        # leaves of pk/id filters on multi-table children; they are pk filters.
        if isinstance(where_node, Lookup) and self._is_own_pk(where_node.lhs):
            if check_only:
                return None
            query = self._lookup_query(
                self._pk_target(), where_node.lookup_name, where_node.rhs
            )
            return _Clause(query) if query is not None else None
        return super()._get_filters_from_where_node(where_node, check_only=check_only)

    def _is_own_pk(self, lhs) -> bool:
        target = getattr(lhs, "target", None)
        return (
            isinstance(lhs, Col)
            and target is not None
            and target.primary_key
            and target.attname.endswith("_ptr_id")
            and issubclass(self.queryset.model, target.model)
        )

    def _pk_target(self) -> _Target:
        pk = self.queryset.model._meta.pk
        # A multi-table child's pk is its parent link (a OneToOneField): ranges must
        # compare the parent's integer ids, not their strings ("7" > "10").
        while pk.is_relation:
            pk = pk.target_field
        if _KIND_BY_TYPE.get(pk.get_internal_type()) == "int":
            return _Target("pkn", "int")
        return _Target("pk", "str")

    def _target_for_path(self, field_path) -> _Target:
        model, prefix, nested, multi = self.queryset.model, "", None, False
        for related_fields in field_path[:-1]:
            django_field = related_fields.get_field(model)
            prefix += related_fields.field_name + "."
            if _is_to_many(django_field):
                if nested is None:
                    nested = prefix
                else:
                    multi = True
            model = django_field.related_model
        return _filter_target(field_path[-1], model, prefix, multi, nested)

    def _process_filter(self, column, lookup, value, check_only=False):
        field_path = self._get_filter_field_path_for_column(column)
        if check_only:
            return None
        target = self._target_for_path(field_path)
        query = self._lookup_query(target, lookup, value)
        if query is None:
            raise FilterError(
                "Could not apply filter on search results: "
                f'"{column.target.attname}__{lookup} = {value}". '
                f'Lookup "{lookup}" not recognised.'
            )
        return _Clause(query, (target.nested, column.alias) if target.nested else None)

    def _process_lookup(self, field_path, lookup, value):
        return self._lookup_query(self._target_for_path(field_path), lookup, value)

    def _process_match_none(self):
        return _Clause(wq.NullQuery)

    def _connect_filters(self, filters, connector, negated):
        clauses = [clause for clause in filters if clause is not None]
        if not clauses:
            return None
        if connector == "AND":
            plain, nested = [], OrderedDict()
            for clause in clauses:
                if clause.nested:
                    nested.setdefault(clause.nested, []).append(clause.query)
                else:
                    plain.append(clause.query)
            if not plain and len(nested) == 1 and not negated:
                ((key, queries),) = nested.items()
                return _Clause(_and(queries), key)
            query = _and(
                plain + [_nested(_and(queries)) for queries in nested.values()]
            )
        else:
            if len(clauses) == 1 and not negated:
                return clauses[0]
            query = _or([clause.resolved() for clause in clauses])
        return _Clause(_not(query) if negated else query)

    def _single_value(self, value):
        if isinstance(value, (Query, Subquery)):
            query = value.query if isinstance(value, Subquery) else value
            row = query.get_compiler(self.queryset.db or DEFAULT_DB_ALIAS).execute_sql(
                result_type=SINGLE
            )
            return row[0] if row else None
        return value

    def _many_values(self, value) -> list:
        if isinstance(value, (Query, Subquery)):
            query = value.query if isinstance(value, Subquery) else value
            chunks = query.get_compiler(
                self.queryset.db or DEFAULT_DB_ALIAS
            ).execute_sql(result_type=MULTI)
            return [row[0] for chunk in chunks for row in chunk]
        return list(value)

    def _term(self, target: _Target, value):
        encoded = _encode(target.kind, value)
        if encoded is None:
            return wq.NullQuery
        return wq.Term(target.name, encoded)

    def _range(self, target: _Target, start, end, startexcl=False, endexcl=False):
        start, end = _encode(target.kind, start), _encode(target.kind, end)
        if target.kind == "str":
            return wq.TermRange(target.name, start, end, startexcl, endexcl)
        return wq.NumericRange(target.name, start, end, startexcl, endexcl)

    def _lookup_query(self, target: _Target, lookup: str, value):
        """Translates one ORM lookup into a Whoosh query (None if unsupported)."""
        name = target.name
        if lookup == "exact":
            value = self._single_value(value)
            return (
                wq.Not(wq.Every(name)) if value is None else self._term(target, value)
            )
        if lookup == "in":
            return _or(
                [
                    self._term(target, item)
                    for item in self._many_values(value)
                    if item is not None
                ]
            )
        if lookup == "isnull":
            return wq.Not(wq.Every(name)) if value else wq.Every(name)
        if lookup == "lt":
            return self._range(target, None, value, endexcl=True)
        if lookup == "lte":
            return self._range(target, None, value)
        if lookup == "gt":
            return self._range(target, value, None, startexcl=True)
        if lookup == "gte":
            return self._range(target, value, None)
        if lookup == "range":
            start, end = value
            return self._range(target, start, end)
        if target.kind == "str" and lookup in ("startswith", "prefix"):
            return wq.Prefix(name, _encode("str", value))
        if target.kind == "str" and lookup == "contains":
            return wq.Regex(name, ".*" + re.escape(_encode("str", value)) + ".*")
        return None

    def filter_query(self):
        """The queryset's filters (with the content type) as one Whoosh query."""
        if self._filter_cache is self._NO_FILTER:
            clauses = [wq.Term("ct", self.queryset.model._meta.label_lower)]
            translated = self._get_filters_from_queryset()
            if translated is not None:
                clauses.append(translated.resolved())
            self._filter_cache = _and(clauses)
        return self._filter_cache

    # Ordering

    def _order_item(self, item) -> tuple[bool, str]:
        if isinstance(item, OrderBy):
            expression = item.expression
            if isinstance(expression, F):
                return item.descending, expression.name
            if isinstance(expression, Col):
                return item.descending, expression.target.attname
        elif isinstance(item, str) and item != "?":
            return item.startswith("-"), item.lstrip("-")
        raise OrderByFieldError(
            f'Sorting search results with "{item}" is not supported by this search '
            "backend.",
            field_name=item,
        )

    def _get_order_by(self):
        if self.order_by_relevance:
            return
        for item in self.queryset.query.order_by:
            reverse, name = self._order_item(item)
            if name == "pk":
                yield reverse, None
                continue
            field = self._get_filterable_field(name)
            if field is None:
                raise OrderByFieldError(
                    f'Cannot sort search results with field "{name}". Please add '
                    f'index.FilterField("{name}") to '
                    f"{self.queryset.model.__name__}.search_fields.",
                    field_name=name,
                )
            if _filter_target(field, self.queryset.model).name.startswith("m."):
                raise OrderByFieldError(
                    f'Cannot sort search results by the multi-valued field "{name}".',
                    field_name=name,
                )
            yield reverse, field

    def sort_facets(self):
        """Whoosh sort facets, or None to order by relevance."""
        if self.order_by_relevance:
            return None
        facets = []
        for reverse, field in self._get_order_by():
            name = (
                self._pk_target().name
                if field is None
                else _filter_target(field, self.queryset.model).name
            )
            facets.append(sorting.FieldFacet(name, reverse=reverse))
        return facets or [sorting.FieldFacet(self._pk_target().name, reverse=True)]

    # Text

    def _model_and_subclasses(self):
        model = self.queryset.model
        return [model] + [
            other
            for other in get_indexed_models()
            if other is not model and issubclass(other, model)
        ]

    def _search_columns(self) -> dict[str, float]:
        model = self.queryset.model
        if self.fields:
            searchable = {
                field.field_name: field
                for field in model.get_searchable_search_fields()
            }
            return {
                name: float(searchable[name].boost or 1)
                for name in self.fields
                if name in searchable
            }
        columns: dict[str, float] = {}
        for each in self._model_and_subclasses():
            for column, boost in _search_columns(
                each.get_search_fields(), each
            ).items():
                columns[column] = max(boost, columns.get(column, 0))
        return columns

    def _autocomplete_columns(self) -> list[str]:
        columns: list[str] = []
        for each in self._model_and_subclasses():
            columns += _autocomplete_columns(each.get_search_fields(), each)
        if self.fields:
            columns = [column for column in columns if column in self.fields]
        return list(dict.fromkeys(columns))

    def _locale_ids(self) -> set | None:
        """Locale ids the queryset is limited to by ``locale``/``locale_id`` filters."""
        stack = [self.queryset.query.where]
        while stack:
            node = stack.pop()
            if isinstance(node, WhereNode):
                if node.connector == "AND" and not node.negated:
                    stack.extend(node.children)
                continue
            if not isinstance(node, Lookup) or not isinstance(node.lhs, Col):
                continue
            if node.lhs.target.attname != "locale_id" or node.lookup_name not in (
                "exact",
                "in",
            ):
                continue
            try:
                if len(self._get_filter_field_path_for_column(node.lhs)) != 1:
                    continue
            except FieldError:
                continue
            values = (
                [node.rhs]
                if node.lookup_name == "exact"
                else self._many_values(node.rhs)
            )
            return {
                value.pk if isinstance(value, models.Model) else value
                for value in values
            }
        return None

    def _locale_groups(self, searcher) -> set[str]:
        locale_ids = self._locale_ids()
        if not locale_ids:
            return set()
        field = self._get_filterable_field("locale_id")
        if field is None:
            return set()
        name = _filter_target(field, self.queryset.model).name
        known = searcher.__dict__.setdefault("_kb_locale_groups", {})
        groups = set()
        for locale_id in locale_ids:
            if (name, locale_id) not in known:
                # The analyser is the one the locale's documents were indexed with.
                hits = searcher.search(
                    wq.And(
                        [wq.Term(name, _encode("int", locale_id)), wq.Term("kind", "p")]
                    ),
                    limit=1,
                    scored=False,
                    terms=False,
                )
                known[(name, locale_id)] = hits[0]["lang"] if len(hits) else None
            if known[(name, locale_id)]:
                groups.add(known[(name, locale_id)])
        return groups

    def context(self, searcher) -> _Context:
        """The language groups and fields this query runs against in the index."""
        indexed = getattr(searcher, "_kb_indexed_fields", None)
        if indexed is None:
            indexed = searcher._kb_indexed_fields = frozenset(
                searcher.reader().indexed_field_names()
            )
        present = sorted(
            {name.split(".")[1] for name in indexed if name.startswith("tx.")}
        )
        groups = sorted(self._locale_groups(searcher) & set(present)) or present
        columns = self._search_columns()
        return _Context(
            groups=groups,
            text_fields={
                group: [
                    (f"tx.{group}.{column}", boost)
                    for column, boost in columns.items()
                    if f"tx.{group}.{column}" in indexed
                ]
                for group in groups
            },
            autocomplete_fields=[
                (f"ac.{column}", 1.0)
                for column in self._autocomplete_columns()
                if f"ac.{column}" in indexed
            ],
            reader=searcher.reader(),
        )

    def text_query(self, searcher):
        """The search query as a Whoosh query, against what this index holds."""
        return self._compile(self.query, self.context(searcher))

    def _compile(self, query, context: _Context):
        if isinstance(query, MatchAll):
            return wq.Every()
        if isinstance(query, PlainText):
            return _boosted(
                self._words(query.query_string, query.operator, context), query.boost
            )
        if isinstance(query, Fuzzy):
            return self._words(query.query_string, query.operator, context, fuzzy=True)
        if isinstance(query, Phrase):
            return self._phrase(query.query_string, context)
        if isinstance(query, Boost):
            return _boosted(self._compile(query.subquery, context), query.boost)
        if isinstance(query, And):
            return _and([self._compile(sub, context) for sub in query.subqueries])
        if isinstance(query, Or):
            return _or([self._compile(sub, context) for sub in query.subqueries])
        if isinstance(query, Not):
            return _not(self._compile(query.subquery, context))
        raise NotImplementedError(
            f"`{query.__class__.__name__}` is not supported by the Whoosh search "
            "backend."
        )

    def _words(self, text, operator, context: _Context, fuzzy=False):
        per_group = []
        for group in context.groups:
            fields = context.text_fields[group]
            clauses = analysis.query_clauses(text, group) if fields else []
            if clauses:
                parts = [
                    self._clause(clause, fields, fuzzy, context.reader)
                    for clause in clauses
                ]
                per_group.append(_and(parts) if operator == "and" else _or(parts))
        return _or(per_group)

    def _clause(self, clause, fields, fuzzy=False, reader=None):
        per_field = []
        for name, boost in fields:
            if clause.cjk and len(clause.terms) > 1:
                # Any bigram of a CJK word may match (an AND of all of them would
                # miss paraphrases); the whole run in sequence scores extra.
                terms = [wq.Term(name, term) for term in clause.terms]
                per_field.append(
                    wq.Or([wq.Phrase(name, list(clause.terms)), *terms], boost=boost)
                )
            elif fuzzy and not clause.cjk:
                per_field.append(_fuzzy_term(name, clause.terms[0], boost, reader))
            else:
                per_field.append(wq.Term(name, clause.terms[0], boost=boost))
        return _or(per_field)

    def _phrase(self, text, context: _Context):
        per_field = []
        for group in context.groups:
            terms = analysis.phrase_terms(text, group)
            for name, boost in context.text_fields[group] if terms else []:
                if len(terms) == 1:
                    per_field.append(wq.Term(name, terms[0], boost=boost))
                else:
                    per_field.append(wq.Phrase(name, terms, boost=boost))
        return _or(per_field)


class WhooshAutocompleteQueryCompiler(WhooshSearchQueryCompiler):
    def check(self):
        """Like the base check, but ``fields`` may name AutocompleteFields."""
        if self.fields:
            allowed = {
                field.field_name
                for field in self.queryset.model.get_autocomplete_search_fields()
            }
            allowed |= {
                field.field_name
                for field in self.queryset.model.get_searchable_search_fields()
            }
            for name in self.fields:
                if name not in allowed:
                    raise FieldError(
                        f'Cannot autocomplete with field "{name}". Please add '
                        f'index.AutocompleteField("{name}") to '
                        f"{self.queryset.model.__name__}.search_fields.",
                        field_name=name,
                    )
        self._get_filters_from_queryset(check_only=True)
        list(self._get_order_by())

    def _compile(self, query, context: _Context):
        if isinstance(query, MatchAll):
            return wq.Every()
        if not isinstance(query, PlainText):
            raise NotImplementedError(
                f"`{query.__class__.__name__}` is not supported for autocomplete "
                "queries."
            )
        parts = []
        for clause in analysis.autocomplete_clauses(query.query_string):
            parts.append(
                _or(
                    [
                        wq.Term(name, term)
                        for name, _ in context.autocomplete_fields
                        for term in clause.terms
                    ]
                )
            )
        if not parts:
            return wq.NullQuery
        return _boosted(
            _and(parts) if query.operator == "and" else _or(parts), query.boost
        )


# --- Results -------------------------------------------------------------------------


FILTER_SETS_PER_SEARCHER = 64


def _filter_set(searcher, filter_query):
    """The documents a filter allows, as a bit set kept with the warm searcher.

    Whoosh turns a filter query into a set of document numbers on every search; the
    same few filters (live, public, this locale) come with nearly every search, so
    the set is built once per searcher (a new searcher comes with every index
    change). None when no document passes."""
    cache = searcher.__dict__.setdefault("_kb_filter_sets", OrderedDict())
    key = repr(filter_query)
    if key not in cache:
        allowed = searcher._query_to_comb(filter_query)
        # Whoosh takes an empty set for "no filter", so it must never be passed.
        cache[key] = allowed if len(allowed) else None
        if len(cache) > FILTER_SETS_PER_SEARCHER:
            cache.popitem(last=False)
    return cache[key]


class WhooshSearchResults(BaseSearchResults):
    supports_facet = True

    def _index(self) -> WhooshIndex:
        return self.backend.get_index_for_model(self.query_compiler.queryset.model)

    def _execute(self, action, default):
        compiler = self.query_compiler
        # ORM subqueries of the filters run here, before the searcher lock is taken.
        filter_query = compiler.filter_query()
        index = self._index()
        try:
            with index.searcher() as searcher:
                allowed = _filter_set(searcher, filter_query)
                if allowed is None:
                    return default  # the filters leave nothing to search
                return action(searcher, compiler.text_query(searcher), allowed)
        except (NotImplementedError, FieldError, FilterError, DatabaseError):
            raise
        except Exception:
            # A broken index must not break the page: log it, answer with nothing.
            logger.exception(
                "Search on index %s failed; returning no results.", index.name
            )
            index.forget_searcher()
            return default

    def _hits(self, searcher, query, filter_query):
        sortedby = self.query_compiler.sort_facets()
        if sortedby is None:
            docnums, scores, total = whoosh_vector.top_documents(
                searcher, query, filter_query, self.stop
            )
            self.query_compiler.known_total = total
            return [
                (searcher.stored_fields(docnum)["pk"], score)
                for docnum, score in zip(
                    docnums[self.start :], scores[self.start :], strict=True
                )
            ]
        # Sorted by fields, not scored: Whoosh's sorting collector sees every match,
        # so the count() that follows a page of results costs nothing (see _do_count).
        results = searcher.search(
            query, filter=filter_query, limit=self.stop, sortedby=sortedby, terms=False
        )
        if results.has_exact_length():
            self.query_compiler.known_total = len(results)
        return [(hit["pk"], None) for hit in results[self.start : self.stop]]

    def _do_search(self):
        hits = self._execute(self._hits, [])
        if not hits:
            return []
        queryset = self.query_compiler.queryset
        found = {}
        pks = [pk for pk, _ in hits]
        for offset in range(0, len(pks), DB_CHUNK):
            for obj in queryset.filter(pk__in=pks[offset : offset + DB_CHUNK]):
                found[str(obj.pk)] = obj
        results = []
        for pk, score in hits:
            obj = found.get(pk)
            if obj is None:
                continue  # deleted from the database, not yet from the index
            if self._score_field:
                setattr(obj, self._score_field, score)
            results.append(obj)
        return results

    def _do_count(self):
        # Slices of one search share its compiler: a page already fetched knows the
        # total.
        known = getattr(self.query_compiler, "known_total", None)
        if known is not None:
            total = known - self.start
            if self.stop is not None:
                total = min(total, self.stop - self.start)
            return max(total, 0)

        def count(searcher, query, filter_query):
            return whoosh_vector.top_documents(searcher, query, filter_query, 0)[2]

        total = self._execute(count, 0) - self.start
        if self.stop is not None:
            total = min(total, self.stop - self.start)
        return max(total, 0)

    def facet(self, field_name):
        """Counts results per value of a FilterField, most frequent first."""
        compiler = self.query_compiler
        field = compiler._get_filterable_field(field_name)
        if field is None:
            raise FilterFieldError(
                f'Cannot facet search results with field "{field_name}". Please add '
                f'index.FilterField("{field_name}") to '
                f"{compiler.queryset.model.__name__}.search_fields.",
                field_name=field_name,
            )
        target = _filter_target(field, compiler.queryset.model)
        facet = sorting.FieldFacet(
            target.name, allow_overlap=True, maptype=sorting.Count
        )

        def groups(searcher, query, filter_query):
            results = searcher.search(
                query,
                filter=filter_query,
                groupedby={"facet": facet},
                limit=None,
                scored=False,
            )
            return results.groups("facet")

        counts = self._execute(groups, {})
        ordered = sorted(counts.items(), key=lambda item: -item[1])
        return OrderedDict(
            (_decode(target.kind, value), count) for value, count in ordered
        )


# --- Backend -------------------------------------------------------------------------


class WhooshSearchBackend(BaseSearchBackend):
    """Search backend storing one Whoosh index per root model under ``PATH``.

    Options: ``PATH`` (required, the index folder), ``LOCK_TIMEOUT`` (seconds a
    writer waits for another process's write lock, default 60) and ``REBUILD_PROCS``
    (processes that write a rebuild's segments at once, default: up to 2 CPUs; 1
    writes in the rebuilding process only).
    """

    index_class = WhooshIndex
    query_compiler_class = WhooshSearchQueryCompiler
    autocomplete_query_compiler_class = WhooshAutocompleteQueryCompiler
    results_class = WhooshSearchResults
    rebuilder_class = WhooshIndexRebuilder
    # Saving content must not fail because the index is busy or broken; the error is
    # logged and `update_index` repairs the index.
    catch_indexing_errors = True

    def __init__(self, params):
        super().__init__(params)
        path = params.pop("PATH", None)
        if not path:
            raise ImproperlyConfigured("The Whoosh search backend needs a PATH option.")
        self.path = Path(path)
        self.lock_timeout = float(params.pop("LOCK_TIMEOUT", 60))
        procs = params.pop("REBUILD_PROCS", None)
        self.rebuild_procs = (
            min(2, os.cpu_count() or 1) if procs is None else int(procs)
        )
        if self.rebuild_procs < 1:
            raise ImproperlyConfigured("REBUILD_PROCS must be at least 1.")

    def change_token(self) -> str:
        """A value that changes whenever a live index of this backend changes, in any
        process (writes, deletes, a rebuild's swap); cheap enough to read per search."""
        try:
            token = (self.path / CHANGES_FILE).read_text()
        except FileNotFoundError:
            token = ""
        return f"{self.path}:{token}"

    def get_index_for_model(self, model):
        """Returns the index of the model's root model (one index per root model)."""
        root = get_model_root(model)
        return self.index_class(self, f"{root._meta.app_label}_{root._meta.model_name}")


SearchBackend = WhooshSearchBackend
