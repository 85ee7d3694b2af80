"""Chapter 15 beyond the spec entries: the book's models (BiRNN, TextCNN, decomposable
attention) from canonical weights against their NumPy forward passes, each framework's
loader layouts and dtypes, the neutral padding and parse stripping on drawn inputs, and bad
SNLI files."""

import contextlib
import io
import os
import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from d2l.common import nlp_data
from d2l.common.text import Vocab
from spec import natural_language_processing_applications as chapter
from spec import nlp_files, nlp_models
from spec.entry import Tol, within

TOL = Tol(1e-4, 1e-5)
ID_DTYPES = {"mxnet": "float32", "torch": "int64", "tensorflow": "int32"}


def _ids(rng, vocab_size, shape):
    return rng.integers(0, vocab_size, shape).astype(np.int64)


def test_birnn_matches_numpy(backend):
    rng = np.random.default_rng(0)
    params = nlp_models.init_birnn(11, 4, 3, 2, seed=1)
    X = _ids(rng, 11, (3, 5))
    net = nlp_models.loaded(backend, nlp_models.birnn(backend, 11, 4, 3, 2), params,
                            backend.tensor(X))
    observed = nlp_models.run(backend, net, backend.tensor(X))
    assert within(observed, nlp_models.birnn_reference(params, X), TOL)


def test_textcnn_matches_numpy_and_exports_its_conv1d_weights(backend):
    rng = np.random.default_rng(1)
    params = nlp_models.init_textcnn(13, 3, [2, 4], [5, 2], seed=2)
    X = _ids(rng, 13, (4, 7))
    net = nlp_models.loaded(backend, nlp_models.textcnn(backend, 13, 3, [2, 4], [5, 2]),
                            params, backend.tensor(X))
    observed = nlp_models.run(backend, net, backend.tensor(X))
    assert within(observed, nlp_models.textcnn_reference(params, X), TOL)
    exported = backend.d2l.export_params(net)
    assert exported.keys() == params.keys()
    assert all(np.array_equal(exported[k], params[k]) for k in params)


def test_decomposable_attention_matches_numpy(backend):
    rng = np.random.default_rng(2)
    vocab = Vocab([["a", "b", "c", "d"]])
    params = nlp_models.init_decomposable(len(vocab), 4, 6, seed=3)
    P, H = _ids(rng, len(vocab), (3, 6)), _ids(rng, len(vocab), (3, 4))
    inputs = [backend.tensor(P), backend.tensor(H)]
    net = nlp_models.loaded(backend, nlp_models.decomposable(backend, vocab, 4, 6), params,
                            inputs)
    observed = nlp_models.run(backend, net, inputs)
    assert within(observed, nlp_models.decomposable_reference(params, P, H), TOL)


def test_the_spec_predictions_are_far_from_ties_and_of_every_class():
    for logits in chapter.sentiment_logits_reference().values():
        margins = [float(z[0, 1] - z[0, 0]) for z in logits]
        assert min(map(abs, margins)) > 1e-3
        assert min(margins) < 0 < max(margins)
    snli = [np.sort(z[0])[::-1] for z in chapter.snli_logits_reference()]
    assert min(z[0] - z[1] for z in snli) > 1e-3
    assert set(chapter._predict_snli_expect()) == set(nlp_data.SNLI_CLASSES)


def test_predict_sentiment_runs_textcnn_without_dropout(backend):
    """TextCNN's dropout is off in the prediction (a PyTorch net is put in eval mode), so
    repeated predictions agree."""
    vocab = chapter._sentiment_vocab(backend)
    _, textcnn = chapter._sentiment_models(backend, vocab)
    if backend.name == "torch":
        textcnn.train()
    answers = {backend.d2l.predict_sentiment(textcnn, vocab, "a boring plot")
               for _ in range(8)}
    assert len(answers) == 1
    assert backend.name != "torch" or not textcnn.training


def test_load_data_imdb_layout(backend):
    with nlp_files.imdb_served(nlp_files.imdb_reviews()):
        train_iter, test_iter, vocab = backend.d2l.load_data_imdb(4, 10)
    X, y = next(iter(train_iter))
    assert tuple(X.shape) == (4, 10) and tuple(y.shape) == (4,)
    assert backend.numpy(X).dtype == ID_DTYPES[backend.name]
    assert "<pad>" not in vocab.token_to_idx  # the book's loader reserves none
    labels = np.concatenate([backend.numpy(y) for _, y in test_iter])
    assert sorted(labels.tolist()) == [0] * 4 + [1] * 4


def test_load_data_snli_layout(backend):
    train_rows, test_rows = chapter._snli_rows()
    with nlp_files.snli_served(train_rows, test_rows):
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            train_iter, _, vocab = backend.d2l.load_data_snli(8, 50)
    (P, H), y = next(iter(train_iter))
    assert [tuple(t.shape) for t in (P, H, y)] == [(8, 50), (8, 50), (8,)]
    assert {backend.numpy(t).dtype.name for t in (P, H)} == {ID_DTYPES[backend.name]}
    assert vocab.idx_to_token[:2] == ["<unk>", "<pad>"]
    assert backend.numpy(P)[:, -1].tolist() == [1] * 8  # padded with '<pad>' (id 1)


def test_split_batch_multi_inputs_places_shards_on_their_devices(backend):
    X = [backend.tensor(np.arange(10).reshape(5, 2)), backend.tensor(np.arange(5))]
    X_shards, y_shards = backend.d2l.split_batch_multi_inputs(X, backend.tensor(np.arange(5)),
                                                              [backend.device] * 3)
    assert [type(s) for s in X_shards] == [tuple] * 3
    assert [len(backend.numpy(y)) for y in y_shards] == [2, 2, 1]
    if backend.name == "torch":
        assert {x.device.type for shard in X_shards for x in shard} == {"cpu"}


@settings(max_examples=40)
@given(st.lists(st.lists(st.sampled_from(["a", "b", "c", "zz", "<pad>"]), max_size=8),
                max_size=6), st.integers(1, 7), st.booleans())
def test_padded_ids_is_truncate_pad_of_each_line(lines, num_steps, reserve):
    vocab = Vocab([["a", "b", "b", "c"]], reserved_tokens=["<pad>"] if reserve else None)
    observed = nlp_data.padded_ids(*nlp_data.token_stream([" ".join(t) for t in lines]),
                                   vocab, num_steps, vocab["<pad>"])
    expected = nlp_files.pad_reference(lines, vocab.idx_to_token, num_steps, "<pad>")
    assert observed.dtype == np.int64 and np.array_equal(observed, expected)


def _book_strip(s):
    """The book's three regex substitutions, then strip."""
    s = re.sub("\\(", "", s)
    s = re.sub("\\)", "", s)
    return re.sub("\\s{2,}", " ", s).strip()


@given(st.lists(st.text(st.sampled_from("( )a\t\xa0\x00\u2003b"), max_size=12), max_size=6))
def test_parse_stripping_is_the_books_regexes(parses):
    assert nlp_data._strip_parses(parses) == [_book_strip(p) for p in parses]


def test_read_snli_rejects_a_dropped_line_with_missing_fields_too(tmp_path):
    folder = chapter.bad_snli_dir(line="-")
    with pytest.raises(ValueError, match="snli_1.0_train.txt, line 6"):
        nlp_data.read_snli(folder, True)


def test_read_snli_skips_blank_lines_and_reads_crlf_files(tmp_path):
    rows = nlp_files.snli_rows(9)
    text = nlp_files.snli_text(rows).replace("\n", "\r\n") + "\r\n"
    (tmp_path / "snli_1.0_test.txt").write_bytes(text.encode())
    assert list(nlp_data.read_snli(str(tmp_path), False)) == list(
        nlp_files.read_snli_reference(rows))


def test_read_imdb_ignores_unsup_and_reads_utf8():
    reviews = nlp_files.imdb_reviews()
    with nlp_files.imdb_served(reviews) as cache:
        from d2l.common.data_hub import download_extract

        data_dir = download_extract("aclImdb", "aclImdb")
        data, labels = nlp_data.read_imdb(data_dir, True)
        assert os.path.dirname(data_dir) == str(cache)
    assert len(data) == len(labels) == 16 and "unlabeled" not in " ".join(data)
    assert any("café" in text for text in data) and not any("\n" in t for t in data)


@pytest.mark.gpu
def test_predictions_with_models_on_the_gpu(gpu_backend):
    """The book's models on the first GPU: the ids follow the net there, the answers are
    the CPU's (the NumPy forward passes')."""
    assert chapter._predict_sentiment_probe(gpu_backend) == chapter._predict_sentiment_expect()
    assert chapter._predict_snli_probe(gpu_backend) == chapter._predict_snli_expect()


@given(st.lists(st.text(st.sampled_from(" ab\t\xa0\n"), max_size=8), max_size=6))
def test_token_stream_is_tokenize_chained(lines):
    tokens, lengths = nlp_data.token_stream(lines)
    expected = [line.split() for line in lines]
    assert tokens == [t for line in expected for t in line]
    assert lengths.tolist() == [len(line) for line in expected]
