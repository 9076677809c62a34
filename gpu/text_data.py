"""Word-level text for the language model: a Penn Treebank reader, and a default corpus shipped with Python.

Nothing is downloaded.  The default corpus is the documentation topics of the standard library's `pydoc_data`
(about 80,000 words of English prose and grammar), tokenised the way PTB is: lower case, numbers as "N", rare
words as "<unk>", one "<eos>" per line.
"""
import collections
import re
from dataclasses import dataclass
from pathlib import Path

import torch

UNKNOWN, END_OF_LINE = "<unk>", "<eos>"
# PTB ships in two layouts: the original simple-examples/data (ptb.train.txt) and the one of the PyTorch
# word_language_model and AWD-LSTM repositories (train.txt).
_PTB_NAMES = ({"train": "ptb.train.txt", "valid": "ptb.valid.txt", "test": "ptb.test.txt"},
              {"train": "train.txt", "valid": "valid.txt", "test": "test.txt"})
_TOKEN = re.compile(r"[a-z]+(?:'[a-z]+)?|[0-9][0-9.,]*|[^\sa-z0-9]")


@dataclass
class Corpus:
    """Token ids (1-D int64 tensors) per split and the vocabulary (id -> word)."""

    train: torch.Tensor
    valid: torch.Tensor
    vocabulary: list
    source: str


def is_ptb_folder(path):
    """True when `path` is a folder holding PTB-layout train/valid/test text files."""
    return _ptb_names(Path(path)) is not None


def _ptb_names(folder):
    for names in _PTB_NAMES:
        if all((folder / name).is_file() for name in names.values()):
            return names
    return None


def read_ptb(path):
    """Read a Penn Treebank folder (word level, already tokenised; vocabulary from the training split)."""
    folder = Path(path)
    names = _ptb_names(folder)
    if names is None:
        raise ValueError(f"--data {path}: no PTB layout (expected {', '.join(_PTB_NAMES[0].values())} "
                         f"or {', '.join(_PTB_NAMES[1].values())})")
    lines = {split: (folder / name).read_text(encoding="utf-8").splitlines() for split, name in names.items()}
    words = {split: [w for line in text for w in line.split() + [END_OF_LINE]] for split, text in lines.items()}
    vocabulary = sorted(set(words["train"]) | {UNKNOWN})
    index = {w: i for i, w in enumerate(vocabulary)}
    ids = {split: torch.tensor([index.get(w, index[UNKNOWN]) for w in ws], dtype=torch.long)
           for split, ws in words.items()}
    return Corpus(ids["train"], ids["valid"], vocabulary, f"ptb:{folder}")


def tokenise(line):
    """PTB-style tokens of one line of prose: lower case, punctuation split off, numbers replaced by "N"."""
    return ["N" if t[0].isdigit() else t for t in _TOKEN.findall(line.lower())]


def pydoc_corpus(vocabulary_size=5000, valid_fraction=0.1):
    """The standard library's pydoc topics as a corpus; the last `valid_fraction` of the topics is held out."""
    if vocabulary_size < 2:
        raise ValueError(f"vocabulary_size must be at least 2, got {vocabulary_size}")
    from pydoc_data.topics import topics

    lines = [line for key in sorted(topics) for line in topics[key].splitlines()]
    tokens = [tokenise(line) + [END_OF_LINE] for line in lines if re.search("[A-Za-z]", line)]
    cut = int(len(tokens) * (1 - valid_fraction))
    train = [t for line in tokens[:cut] for t in line]
    valid = [t for line in tokens[cut:] for t in line]
    counts = collections.Counter(train)
    # Most frequent first, ties alphabetically: the same vocabulary on every machine.
    common = sorted(counts, key=lambda w: (-counts[w], w))[: vocabulary_size - 1]
    vocabulary = sorted(set(common) | {UNKNOWN})
    index = {w: i for i, w in enumerate(vocabulary)}
    unknown = index[UNKNOWN]

    def ids(words):
        return torch.tensor([index.get(w, unknown) for w in words], dtype=torch.long)

    return Corpus(ids(train), ids(valid), vocabulary, "pydoc_data.topics")


def sequences(tokens, length):
    """Non-overlapping windows of length+1 tokens as rows of a (n, length+1) tensor: inputs [:-1], targets [1:]."""
    n = (len(tokens) - 1) // length
    if n < 1:
        raise ValueError(f"text of {len(tokens)} tokens is too short for sequences of length {length}")
    starts = torch.arange(n) * length
    return tokens[starts[:, None] + torch.arange(length + 1)]
