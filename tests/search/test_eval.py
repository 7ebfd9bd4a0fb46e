"""Search-quality metrics on hand-computed examples, and `search_eval` end to end."""

import io
import math
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from articles.models import ArticlePage
from search.evaluation import (
    Dataset,
    Query,
    dataset_load,
    logistic_fit,
    ndcg,
    query_metrics,
    recall,
    reciprocal_rank,
    run_metrics,
    success,
    threshold_table,
)

TINY = Path(__file__).parent / "fixtures" / "tiny_dataset"


def test_metrics_of_one_ranked_list_match_hand_computed_values():
    ranked = ["a", "b", "c", "d"]
    qrels = {"b": 1, "d": 1, "e": 1, "c": 0}

    assert reciprocal_rank(ranked, qrels) == 0.5
    assert success(ranked, qrels, k=1) == 0.0
    assert success(ranked, qrels, k=2) == 1.0
    assert recall(ranked, qrels) == pytest.approx(2 / 3)
    # DCG = 1/log2(3) + 1/log2(5); ideal = 1 + 1/log2(3) + 1/log2(4)
    assert ndcg(ranked, qrels) == pytest.approx(
        (1 / math.log2(3) + 1 / math.log2(5)) / (1 + 1 / math.log2(3) + 0.5)
    )
    assert ndcg(ranked, qrels) == pytest.approx(0.49819, abs=1e-5)


def test_graded_ndcg_uses_exponential_gains_and_cutoff_applies():
    qrels = {"a": 1, "b": 2}

    # (1 + 3/log2(3)) / (3 + 1/log2(3))
    assert ndcg(["a", "b"], qrels, graded=True) == pytest.approx(0.79671, abs=1e-5)
    assert ndcg(["b", "a"], qrels, graded=True) == pytest.approx(1.0)
    assert ndcg(["a", "b"], qrels) == pytest.approx(1.0)
    assert reciprocal_rank(["x"] * 10 + ["a"], qrels) == 0.0
    assert query_metrics([], qrels) == {
        "mrr@10": 0.0,
        "success@1": 0.0,
        "ndcg@10": 0.0,
        "recall@10": 0.0,
    }


def test_run_metrics_average_per_language_over_judged_queries_only():
    dataset = Dataset(
        name="t",
        docs=[],
        queries=[
            Query("q1", "en", "one"),
            Query("q2", "en", "two"),
            Query("q3", "sv", "tre"),
            Query("q4", "en", "unjudged"),
        ],
        qrels={"q1": {"a": 1}, "q2": {"b": 1}, "q3": {"c": 1}, "q4": {"d": 0}},
    )
    run = {"q1": ["a"], "q2": ["x", "b"], "q4": ["d"]}  # q3 returned nothing

    table = run_metrics(run, dataset)

    assert table["en"]["n"] == 2
    assert table["en"]["mrr@10"] == pytest.approx(0.75)
    assert table["en"]["success@1"] == pytest.approx(0.5)
    assert table["en"]["recall@10"] == pytest.approx(1.0)
    assert table["sv"] == {
        "n": 1,
        "mrr@10": 0.0,
        "success@1": 0.0,
        "ndcg@10": 0.0,
        "recall@10": 0.0,
    }


def test_threshold_table_counts_answers_right_answers_and_handoffs():
    outcomes = [(0.9, True), (0.7, False), (0.4, True), (0.2, False)]

    half, low = threshold_table(outcomes, [0.5, 0.3])

    assert (half.answered, half.precision, half.handed_off) == (0.5, 0.5, 0.5)
    assert low.answered == 0.75
    assert low.precision == pytest.approx(2 / 3)
    assert low.handed_off == 0.25


def test_logistic_fit_recovers_the_log_odds_of_each_group():
    rows = [[1.0, 0.0]] * 4 + [[1.0, 1.0]] * 4
    labels = [True, False, False, False, True, True, True, False]

    bias, weight = logistic_fit(rows, labels, l2=0.0)

    assert bias == pytest.approx(math.log(1 / 3), abs=1e-4)
    assert bias + weight == pytest.approx(math.log(3), abs=1e-4)


def test_dataset_load_reads_the_shared_format_and_names_a_missing_file(tmp_path):
    dataset = dataset_load(TINY)

    assert len(dataset.docs) == 6
    assert dataset.docs[1].kind == "faq"
    assert [q.id for q in dataset.judged_queries()] == ["q1", "q2", "q3", "q5", "q6"]
    assert dataset.qrels["q3"] == {"ship": 2, "pw": 0}

    (tmp_path / "docs.jsonl").write_text("")
    with pytest.raises(ValueError, match="queries.jsonl"):
        dataset_load(tmp_path)


def test_search_eval_measures_both_backends_on_a_throwaway_site(db):
    out = io.StringIO()

    call_command("search_eval", str(TINY), "--answers", stdout=out)

    output = out.getvalue()
    assert "Dataset tiny_dataset: 6 documents, 5 judged queries" in output
    for backend in ("whoosh", "database"):
        assert f"| {backend} | en | 3 | 1.000 | 1.000 | 1.000 | 1.000 |" in output
        assert f"| {backend} | sv | 2 | 1.000 | 1.000 | 1.000 | 1.000 |" in output
    assert "Bot answers (shipped weights): 5 questions" in output
    # The user's site (here the test database) is untouched.
    assert not ArticlePage.objects.exists()


def test_search_eval_worker_refuses_to_run_on_a_real_site(db):
    with pytest.raises(CommandError, match="throwaway"):
        call_command("search_eval", str(TINY), "--worker", stdout=io.StringIO())
    assert not ArticlePage.objects.exists()


def test_search_eval_reports_a_folder_that_is_not_a_dataset(tmp_path):
    with pytest.raises(CommandError, match="docs.jsonl"):
        call_command("search_eval", str(tmp_path), stdout=io.StringIO())
