"""Measuring search quality: datasets, ranking metrics, answer calibration.

A dataset folder holds `docs.jsonl` (`{"id", "lang", "title", "body"}`, optionally
`"kind"`), `queries.jsonl` (`{"id", "lang", "text"}`) and `qrels.tsv`
(`query_id<TAB>doc_id<TAB>grade`), the format of the shared benchmark datasets.
Metrics follow the usual definitions (trec_eval): a query's relevant documents are
those with a grade above 0; queries with none are left out; a query that returned
nothing scores 0. nDCG uses binary gains by default (as the plain-BM25 baselines we
compare with), graded gains (`2**grade - 1`) on request.
"""

from __future__ import annotations

import json
import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

K = 10
METRICS = ("mrr@10", "success@1", "ndcg@10", "recall@10")


@dataclass(frozen=True)
class Doc:
    id: str
    lang: str
    title: str
    body: str
    kind: str | None = None


@dataclass(frozen=True)
class Query:
    id: str
    lang: str
    text: str


@dataclass
class Dataset:
    name: str
    docs: list[Doc]
    queries: list[Query]
    qrels: dict[str, dict[str, int]] = field(default_factory=dict)

    def judged_queries(self) -> list[Query]:
        """Queries with at least one relevant document."""
        return [
            q
            for q in self.queries
            if any(g > 0 for g in self.qrels.get(q.id, {}).values())
        ]


def _jsonl(path: Path) -> Iterable[dict]:
    with path.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, start=1):
            if line.strip():
                try:
                    yield json.loads(line)
                except json.JSONDecodeError as error:
                    raise ValueError(f"{path}:{number}: {error.msg}") from error


def dataset_load(path: Path | str) -> Dataset:
    """Reads a dataset folder; raises ValueError naming the file and line at fault."""
    path = Path(path)
    for name in ("docs.jsonl", "queries.jsonl", "qrels.tsv"):
        if not (path / name).is_file():
            raise ValueError(f"{path} has no {name}.")
    docs = [
        Doc(
            id=str(row["id"]),
            lang=row.get("lang") or "en",
            title=row.get("title") or "",
            body=row.get("body") or "",
            kind=row.get("kind"),
        )
        for row in _jsonl(path / "docs.jsonl")
    ]
    queries = [
        Query(id=str(row["id"]), lang=row.get("lang") or "en", text=row["text"])
        for row in _jsonl(path / "queries.jsonl")
    ]
    qrels: dict[str, dict[str, int]] = defaultdict(dict)
    with (path / "qrels.tsv").open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            parts = line.rstrip("\n").split("\t")
            if len(parts) < 3:
                raise ValueError(f"{path / 'qrels.tsv'}:{number}: expected 3 columns")
            try:
                qrels[parts[0]][parts[1]] = int(parts[2])
            except ValueError as error:
                raise ValueError(
                    f"{path / 'qrels.tsv'}:{number}: grade is not a number"
                ) from error
    return Dataset(name=path.name, docs=docs, queries=queries, qrels=dict(qrels))


# --- Metrics of one ranked list ----------------------------------------------------


def reciprocal_rank(ranked: Sequence[str], qrels: dict[str, int], k: int = K) -> float:
    for rank, doc in enumerate(ranked[:k], start=1):
        if qrels.get(doc, 0) > 0:
            return 1.0 / rank
    return 0.0


def success(ranked: Sequence[str], qrels: dict[str, int], k: int = 1) -> float:
    return float(any(qrels.get(doc, 0) > 0 for doc in ranked[:k]))


def recall(ranked: Sequence[str], qrels: dict[str, int], k: int = K) -> float:
    relevant = {doc for doc, grade in qrels.items() if grade > 0}
    if not relevant:
        return 0.0
    return len(relevant & set(ranked[:k])) / len(relevant)


def ndcg(
    ranked: Sequence[str], qrels: dict[str, int], k: int = K, graded: bool = False
) -> float:
    def gain(grade: int) -> float:
        if grade <= 0:
            return 0.0
        return (2.0**grade - 1.0) if graded else 1.0

    dcg = sum(
        gain(qrels.get(doc, 0)) / math.log2(rank + 1)
        for rank, doc in enumerate(ranked[:k], start=1)
    )
    ideal = sorted((gain(g) for g in qrels.values()), reverse=True)[:k]
    idcg = sum(g / math.log2(rank + 1) for rank, g in enumerate(ideal, start=1))
    return dcg / idcg if idcg else 0.0


def query_metrics(ranked: Sequence[str], qrels: dict[str, int]) -> dict[str, float]:
    """MRR@10, success@1, nDCG@10 (binary) and recall@10 of one ranked list."""
    return {
        "mrr@10": reciprocal_rank(ranked, qrels),
        "success@1": success(ranked, qrels),
        "ndcg@10": ndcg(ranked, qrels),
        "recall@10": recall(ranked, qrels),
    }


def run_metrics(
    run: dict[str, Sequence[str]], dataset: Dataset
) -> dict[str, dict[str, float]]:
    """Mean metrics per language of the judged queries (plus "n", the query count).

    `run` maps a query id to its ranked document ids; a missing query ranks nothing.
    """
    per_lang: dict[str, list[dict[str, float]]] = defaultdict(list)
    for query in dataset.judged_queries():
        per_lang[query.lang].append(
            query_metrics(run.get(query.id, []), dataset.qrels[query.id])
        )
    return {
        lang: {"n": len(rows)}
        | {name: sum(row[name] for row in rows) / len(rows) for name in METRICS}
        for lang, rows in sorted(per_lang.items())
    }


# --- Answer confidence ---------------------------------------------------------------


@dataclass(frozen=True)
class ThresholdRow:
    threshold: float
    answered: float  # share of questions answered (not handed off)
    precision: float  # share of answered questions whose answer is right
    handed_off: float


def threshold_table(
    outcomes: Sequence[tuple[float, bool]], thresholds: Iterable[float]
) -> list[ThresholdRow]:
    """For each threshold: how many questions a bot answers (confidence at or above
    it), how many of those answers are right, and how many it hands off."""
    total = len(outcomes)
    rows = []
    for threshold in thresholds:
        answered = [right for confidence, right in outcomes if confidence >= threshold]
        rows.append(
            ThresholdRow(
                threshold=threshold,
                answered=len(answered) / total if total else 0.0,
                precision=sum(answered) / len(answered) if answered else 0.0,
                handed_off=(total - len(answered)) / total if total else 0.0,
            )
        )
    return rows


def logistic_fit(
    rows: Sequence[Sequence[float]],
    labels: Sequence[bool],
    l2: float = 1.0,
    iterations: int = 25,
) -> list[float]:
    """Logistic-regression weights by Newton's method with an L2 penalty (the first
    column, the bias, is not penalised)."""
    width = len(rows[0])
    weights = [0.0] * width
    for _ in range(iterations):
        gradient = [0.0] * width
        hessian = [[0.0] * width for _ in range(width)]
        for x, y in zip(rows, labels, strict=True):
            z = max(
                -30.0, min(30.0, sum(w * v for w, v in zip(weights, x, strict=True)))
            )
            p = 1.0 / (1.0 + math.exp(-z))
            for i in range(width):
                gradient[i] += (p - float(y)) * x[i]
                for j in range(width):
                    hessian[i][j] += p * (1 - p) * x[i] * x[j]
        for i in range(1, width):
            gradient[i] += l2 * weights[i]
            hessian[i][i] += l2
        hessian[0][0] += 1e-9
        step = _solve(hessian, gradient)
        weights = [w - s for w, s in zip(weights, step, strict=True)]
        if max(abs(s) for s in step) < 1e-7:
            break
    return weights


def _solve(matrix: list[list[float]], vector: list[float]) -> list[float]:
    """Solves matrix @ x = vector by Gaussian elimination with partial pivoting."""
    n = len(vector)
    a = [row[:] + [vector[i]] for i, row in enumerate(matrix)]
    for col in range(n):
        pivot = max(range(col, n), key=lambda r: abs(a[r][col]))
        a[col], a[pivot] = a[pivot], a[col]
        if abs(a[col][col]) < 1e-12:
            continue
        for r in range(n):
            if r != col:
                factor = a[r][col] / a[col][col]
                for c in range(col, n + 1):
                    a[r][c] -= factor * a[col][c]
    return [a[i][n] / a[i][i] if abs(a[i][i]) >= 1e-12 else 0.0 for i in range(n)]


def log_loss(probabilities: Sequence[float], labels: Sequence[bool]) -> float:
    eps = 1e-9
    return -sum(
        math.log(max(eps, p if y else 1.0 - p))
        for p, y in zip(probabilities, labels, strict=True)
    ) / max(1, len(labels))
