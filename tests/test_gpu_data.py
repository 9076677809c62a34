"""gpu.text_data and gpu.image_data: the readers on the shipped fixtures (gpu/fixtures/README.md), and the
bundled default data."""
import pickle
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from clipcheck.gpu import image_data, text_data  # noqa: E402

FIXTURES = Path(__file__).resolve().parents[1] / "gpu" / "fixtures"


def test_ptb_reader_parses_fixture():
    # Expected: the fixture's words by hand: 3 train lines; each line ends in <eos>; vocabulary from train only.
    corpus = text_data.read_ptb(FIXTURES / "ptb")
    train_lines = (FIXTURES / "ptb" / "ptb.train.txt").read_text().splitlines()
    assert len(corpus.train) == sum(len(line.split()) + 1 for line in train_lines)
    words = [corpus.vocabulary[i] for i in corpus.train.tolist()]
    assert words[:6] == ["no", "it", "was", "n't", "black", "monday"] and words[6] == "<eos>"
    assert words.count("<eos>") == 3
    # valid: "the stock exchange fell N points": "fell" is not in the training text, so it reads as <unk>
    valid = [corpus.vocabulary[i] for i in corpus.valid.tolist()]
    assert valid == ["the", "stock", "exchange", "<unk>", "N", "points", "<eos>"]
    assert text_data.is_ptb_folder(FIXTURES / "ptb") and not text_data.is_ptb_folder(FIXTURES / "cifar10")


def test_ptb_reader_other_layout_same_corpus(tmp_path):
    # Expected: the AWD-LSTM / PyTorch-example layout (train.txt, ...) holds the same files under other names.
    for split in ("train", "valid", "test"):
        (tmp_path / f"{split}.txt").write_text((FIXTURES / "ptb" / f"ptb.{split}.txt").read_text())
    original, renamed = text_data.read_ptb(FIXTURES / "ptb"), text_data.read_ptb(tmp_path)
    assert renamed.vocabulary == original.vocabulary and torch.equal(renamed.train, original.train)


def test_ptb_reader_names_the_argument_when_layout_missing(tmp_path):
    with pytest.raises(ValueError, match="--data"):
        text_data.read_ptb(tmp_path)


def test_cifar_reader_parses_fixture():
    # Expected: the fixture's construction (gpu/fixtures/README.md): pixel (image k, channel c) = 10k + c,
    # labels 3, 1, 4, 1, channel-major 32x32 planes.
    images, labels = image_data.read_cifar_batch(FIXTURES / "cifar10" / "data_batch_1")
    assert images.shape == (4, 3, 32, 32) and images.dtype == np.uint8
    expected = (10 * np.arange(4)[:, None] + np.arange(3)[None, :])[:, :, None, None]
    assert np.array_equal(images, np.broadcast_to(expected, images.shape))
    assert labels.tolist() == [3, 1, 4, 1]
    dataset = image_data.read_cifar10(FIXTURES / "cifar10")
    assert dataset.images.shape == (4, 3, 32, 32) and dataset.labels.tolist() == [3, 1, 4, 1]
    assert dataset.heldout_images.shape == (2, 3, 32, 32)
    assert image_data.is_cifar_folder(FIXTURES / "cifar10")


def test_cifar_reader_refuses_code_in_pickle(tmp_path):
    # Expected: a pickle that calls a function other than numpy's array constructors is refused, not run.
    class Exploit:
        def __reduce__(self):
            return (print, ("this must not run",))

    (tmp_path / "data_batch_1").write_bytes(pickle.dumps({b"data": Exploit(), b"labels": []}, protocol=2))
    with pytest.raises(pickle.UnpicklingError, match=r"\.print, which"):
        image_data.read_cifar_batch(tmp_path / "data_batch_1")


def test_default_text_is_pydoc_topics():
    # Expected: the stdlib's pydoc topics are English prose: "the" is among the most frequent words, and the
    # vocabulary has exactly the requested size (the size-1 most frequent words plus <unk>).
    corpus = text_data.pydoc_corpus(vocabulary_size=500)
    assert len(corpus.vocabulary) == 500 and "<unk>" in corpus.vocabulary and "the" in corpus.vocabulary
    assert len(corpus.train) > 10 * len(corpus.valid) / 2 > 0
    assert text_data.tokenise("Use 3 spaces, don't tab.") == ["use", "N", "spaces", ",", "don't", "tab", "."]
    windows = text_data.sequences(corpus.train[:23], 5)  # (23 - 1) // 5 = 4 windows of 6 tokens, overlapping by 1
    assert windows.shape == (4, 6) and torch.equal(windows[1, 0], corpus.train[5])


def test_default_images_are_digits_with_a_held_out_tail():
    # Expected: scikit-learn ships 1,797 digits in 10 classes; the last 297 are held out; resized to 12x12 in 3
    # identical channels; the training images are normalised per channel (mean 0, std 1 up to float32 rounding,
    # 1e-5) and the held-out ones with the training statistics (so theirs are near, not exactly, 0 and 1).
    data = image_data.digits_images(12)
    assert data.images.shape == (1500, 3, 12, 12) and data.heldout_images.shape == (297, 3, 12, 12)
    assert set(data.labels.tolist()) == set(range(10)) and len(data.heldout_labels) == 297
    assert torch.equal(data.images[:, 0], data.images[:, 2])
    assert abs(data.images.mean().item()) < 1e-5 and abs(data.images.std().item() - 1) < 1e-5
    from sklearn.datasets import load_digits

    raw = torch.from_numpy(load_digits().images).float()
    native = image_data.digits_images(8)  # no resizing at the native size: the pixels, affinely normalised
    scale = raw[:1500].std()
    assert torch.allclose(native.heldout_images[:, 0] * scale + raw[:1500].mean(), raw[1500:], atol=1e-4)


def test_cifar_reader_holds_out_test_batch_or_a_tail(tmp_path):
    # Expected: the fixture's test_batch (gpu/fixtures/README.md: 2 images, pixel 100 + 10k + c, labels 0, 2) is
    # the held-out set, normalised with the training images' statistics; without test_batch the last tenth of the
    # training images (at least one) is held out.
    dataset = image_data.read_cifar10(FIXTURES / "cifar10")
    assert dataset.heldout_labels.tolist() == [0, 2] and dataset.heldout_source == "test_batch"
    raw_train = torch.tensor([[10.0 * k + c for c in range(3)] for k in range(4)]) / 255
    mean = raw_train.mean(0)  # every pixel of a plane is equal; the unbiased std over the 4 x 1024 pixels:
    std = (1024 * ((raw_train - mean) ** 2).sum(0) / (4 * 1024 - 1)).sqrt()
    expected = (torch.tensor([[100.0 + 10 * k + c for c in range(3)] for k in range(2)]) / 255 - mean) / std
    assert torch.allclose(dataset.heldout_images[:, :, 0, 0], expected, rtol=1e-5)
    (tmp_path / "data_batch_1").write_bytes((FIXTURES / "cifar10" / "data_batch_1").read_bytes())
    tail = image_data.read_cifar10(tmp_path)
    assert tail.labels.tolist() == [3, 1, 4] and tail.heldout_labels.tolist() == [1]
