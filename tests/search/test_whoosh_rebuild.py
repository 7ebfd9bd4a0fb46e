"""A rebuild written by several processes (REBUILD_PROCS): the same index as one
process writes, a clear failure when a process fails, and live saves kept."""

import multiprocessing
import os
import random
import time
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from modelsearch.query import MATCH_ALL, Phrase
from wagtail.models import Locale
from wagtail.search.backends import get_search_backend
from whoosh import index as whoosh_index

from articles.models import ArticlePage
from search.backends import whoosh as whoosh_backend
from search.backends.whoosh import RebuildProcessError, reset_process_state
from search.selectors import article_search
from tests import factories

WORDS = {
    "en": "invoice refund password account login shipping delivery order payment "
    "receipt subscription cancel email address phone update reset verify".split(),
    "sv": "faktura återbetalning lösenord konto inloggning leverans beställning "
    "betalning kvitto prenumeration avbryta adress telefon uppdatera".split(),
    "ru": "счёт возврат пароль аккаунт вход доставка заказ оплата чек подписка "
    "отмена адрес телефон обновление".split(),
    "id": "tagihan pengembalian kata sandi akun masuk pengiriman pesanan pembayaran "
    "kuitansi langganan batal alamat telepon perbarui".split(),
    "zh-hant": "帳單 退款 密碼 帳戶 登入 運送 訂單 付款 收據 訂閱 取消 地址 電話 更新".split(),
}
QUERIES = {
    "en": ["invoice", "refunds", "password reset", "shipping order", "verify email"],
    "sv": ["faktura", "betalningar", "lösenord konto"],
    "ru": ["пароля", "доставка заказа", "подписки"],
    "id": ["pembayaran", "kata sandi", "membayar"],
    "zh-hant": ["密碼", "退款", "訂單付款"],
}


@pytest.fixture
def corpus(db, settings):
    """Articles in every language, with tags (child documents) and several kinds."""
    settings.KB_SEARCH_CACHE_SIZE = 0
    rng = random.Random(5)
    articles = []
    for language_code, words in WORDS.items():
        home = factories.help_center(language_code)
        joiner = "" if language_code == "zh-hant" else " "
        for number in range(2):
            category = factories.category(
                home, title=f"Topic {number}", slug=f"topic-{number}"
            )
            for _ in range(6):
                articles.append(
                    factories.article(
                        category,
                        title=joiner.join(rng.sample(words, 3)),
                        summary=joiner.join(rng.sample(words, 5)),
                        body=joiner.join(rng.choices(words, k=40)),
                        kind=rng.choice(["guide", "faq", "troubleshooting"]),
                        tags=rng.sample(["billing", "security", "mobile"], 2),
                    )
                )
    return articles


def rebuild(settings, procs: int):
    settings.WAGTAILSEARCH_BACKENDS = {
        "default": {
            **settings.WAGTAILSEARCH_BACKENDS["default"],
            "REBUILD_PROCS": procs,
        }
    }
    call_command("update_index", backend_name="default", stdout=StringIO())
    reset_process_state()


def live_segments() -> int:
    backend = get_search_backend("default")
    _, ix = backend.get_index_for_model(ArticlePage).store.open_live()
    return len(ix._segments())


def answers(articles) -> dict:
    """What many searches return, in order, with scores."""
    backend = get_search_backend("default")
    everything = ArticlePage.objects.all()
    ids = sorted(article.pk for article in articles)
    middle = ids[len(ids) // 2]
    out = {}

    def hits(results):
        return [
            (hit.pk, round(hit.score, 6)) for hit in results.annotate_score("score")
        ]

    for language_code, queries in QUERIES.items():
        locale = Locale.objects.get(language_code=language_code)
        in_locale = everything.filter(locale=locale)
        for query in queries:
            key = f"{language_code}:{query}"
            out[key] = hits(backend.search(query, in_locale))
            out[f"{key}:and"] = hits(backend.search(query, in_locale, operator="and"))
            out[f"{key}:phrase"] = hits(backend.search(Phrase(query), in_locale))
            out[f"{key}:faq"] = hits(
                backend.search(query, in_locale.filter(kind="faq"))
            )
            out[f"{key}:upper"] = hits(
                backend.search(query, in_locale.filter(pk__gte=middle))
            )
            out[f"{key}:api"] = [
                (hit.article.pk, round(hit.score, 6), str(hit.snippet))
                for tag in (None, "billing")
                for hit in article_search(query=query, locale=locale, tag=tag).hits
            ]
        out[f"{language_code}:autocomplete"] = [
            hit.pk for hit in backend.autocomplete(queries[0][:2], in_locale)
        ]
    out["all:range"] = [
        hit.pk
        for hit in backend.search(
            MATCH_ALL,
            everything.filter(pk__gte=ids[3], pk__lt=middle),
            order_by_relevance=False,
        )
    ]
    out["all:count"] = backend.search(MATCH_ALL, everything).count()
    return out


@pytest.mark.django_db
def test_a_rebuild_in_two_processes_finds_exactly_what_one_process_finds(
    settings, corpus, monkeypatch
):
    monkeypatch.setattr(whoosh_backend, "PARALLEL_MIN_DOCUMENTS", 2)
    rebuild(settings, procs=1)
    assert live_segments() == 1
    one_process = answers(corpus)

    rebuild(settings, procs=2)

    assert live_segments() == 2
    assert answers(corpus) == one_process
    assert one_process["all:count"] == len(corpus)
    for language_code in WORDS:
        assert one_process[f"{language_code}:{QUERIES[language_code][0]}"]


@pytest.mark.django_db
def test_a_rebuild_in_three_processes_finds_exactly_what_one_process_finds(
    settings, corpus, monkeypatch
):
    monkeypatch.setattr(whoosh_backend, "PARALLEL_MIN_DOCUMENTS", 2)
    rebuild(settings, procs=1)
    one_process = answers(corpus)

    rebuild(settings, procs=3)

    assert live_segments() == 3
    assert answers(corpus) == one_process


@pytest.mark.django_db
def test_a_two_process_rebuild_in_many_batches_is_merged_into_one_segment(
    settings, corpus, monkeypatch
):
    monkeypatch.setattr(whoosh_backend, "PARALLEL_MIN_DOCUMENTS", 2)
    monkeypatch.setattr(whoosh_backend, "REBUILD_BATCH", 6)
    # Compared with one process in the same batches: a merged segment's field length
    # totals add up Whoosh's one-byte (rounded) document lengths, so long CJK fields
    # score a little differently than in an index written in one batch.
    rebuild(settings, procs=1)
    one_process = answers(corpus)
    parallel_writes = []
    write_in_parallel = whoosh_backend._write_in_parallel
    monkeypatch.setattr(
        whoosh_backend,
        "_write_in_parallel",
        lambda *args, **kwargs: (
            parallel_writes.append(len(args[2])) or write_in_parallel(*args, **kwargs)
        ),
    )

    rebuild(settings, procs=2)

    assert len(parallel_writes) > 3
    assert live_segments() == 1
    assert answers(corpus) == one_process


def _fail_in_the_child(*args, **kwargs):
    raise RuntimeError("disk full in the child")


def _die_in_the_child(*args, **kwargs):
    os._exit(3)


def _hang_in_the_child(*args, **kwargs):
    time.sleep(600)


@pytest.mark.parametrize(
    ("failure", "message"),
    [
        (_fail_in_the_child, "RuntimeError: disk full in the child"),
        (_die_in_the_child, "exit code 3"),
        (_hang_in_the_child, "still writing after 2 s"),
    ],
)
@pytest.mark.django_db
def test_a_failing_rebuild_process_fails_the_rebuild_and_the_live_index_stays(
    settings, corpus, monkeypatch, failure, message
):
    monkeypatch.setattr(whoosh_backend, "PARALLEL_MIN_DOCUMENTS", 2)
    monkeypatch.setattr(whoosh_backend, "CHILD_PATIENCE", 0)
    monkeypatch.setattr(whoosh_backend, "CHILD_PATIENCE_S", 2)
    rebuild(settings, procs=2)
    before = answers(corpus)
    index_folder = get_search_backend("default").get_index_for_model(ArticlePage)
    live = index_folder.store.current()
    # Only the children's writers are SegmentWriters made by name.
    monkeypatch.setattr(whoosh_backend, "SegmentWriter", failure)

    with pytest.raises(RebuildProcessError, match="failed writing its part") as error:
        rebuild(settings, procs=2)

    assert message in str(error.value)
    assert multiprocessing.active_children() == []
    assert index_folder.store.current() == live
    assert answers(corpus) == before


@pytest.mark.parametrize("position", [0, -1])
@pytest.mark.django_db
def test_a_save_during_a_two_process_rebuild_is_not_overwritten(
    settings, home, monkeypatch, position
):
    monkeypatch.setattr(whoosh_backend, "PARALLEL_MIN_DOCUMENTS", 2)
    parallel_writes = []
    write_in_parallel = whoosh_backend._write_in_parallel
    monkeypatch.setattr(
        whoosh_backend,
        "_write_in_parallel",
        lambda *args: parallel_writes.append(len(args[2])) or write_in_parallel(*args),
    )
    backend = whoosh_backend.WhooshSearchBackend(
        {**settings.WAGTAILSEARCH_BACKENDS["default"], "REBUILD_PROCS": 2}
    )
    category = factories.category(home, title="Orders", slug="orders")
    articles = [
        factories.article(category, title=f"Invoice question {word}", body="Fees.")
        for word in ("amber", "birch", "cedar", "delta", "ember")
    ]
    stale = factories.article(category, title="Shipping times", body="Days.")
    # The stale article in the child's part (first) or in this process's (last).
    articles.insert(0 if position == 0 else len(articles), stale)
    rebuilder = backend.rebuilder_class(backend.get_index_for_model(ArticlePage))
    new_index = rebuilder.start()
    new_index.add_items(ArticlePage, articles)  # read before the save below

    ArticlePage.objects.filter(pk=stale.pk).update(title="Delivery times")
    backend.add(ArticlePage.objects.get(pk=stale.pk))
    rebuilder.finish()
    reset_process_state()

    assert parallel_writes == [len(articles) - 1]
    everything = ArticlePage.objects.all()
    assert [hit.pk for hit in backend.search("delivery", everything)] == [stale.pk]
    assert backend.search("shipping", everything).count() == 0
    assert backend.search("invoice", everything).count() == len(articles) - 1
    assert backend.search(MATCH_ALL, everything).count() == len(articles)


def _rebuild_with_a_stuck_child(folder: str, child_pids):
    """update_index's part: a parallel write whose child never finishes."""

    def stuck(*args, **kwargs):
        child_pids.put(os.getpid())
        time.sleep(600)

    whoosh_backend.SegmentWriter = stuck  # in this forked process only
    ix = whoosh_index.create_in(folder, whoosh_backend._schema())
    writer = whoosh_backend._rebuild_writer(ix, timeout=5)
    documents = [
        [{"pk": str(n), "owner": str(n), "kind": "p", "lang": "en", "tx.en.t": "x"}]
        for n in range(10)
    ]
    whoosh_backend._write_in_parallel(writer, [], documents, procs=2)


def test_a_killed_rebuild_takes_its_writing_children_with_it(tmp_path):
    context = multiprocessing.get_context("fork")
    child_pids = context.Queue()
    rebuild_process = context.Process(
        target=_rebuild_with_a_stuck_child, args=(str(tmp_path), child_pids)
    )
    rebuild_process.start()
    child_pid = child_pids.get(timeout=60)

    rebuild_process.kill()  # as a SIGKILL of update_index would
    rebuild_process.join()

    deadline = time.monotonic() + 30
    while _running(child_pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _running(child_pid), "the writing child outlived update_index"


def _running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state not in {"Z", "X"}  # a zombie has ended; only its parent may reap it
