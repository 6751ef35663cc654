"""Make the offline fallback: 5,000 real MNIST training digits, 500 of each, as two small IDX files.

    python tools/make_offline_digits.py [MNIST_FOLDER] [OUT_FOLDER]

reads the original ``train-images-idx3-ubyte.gz`` and ``train-labels-idx1-ubyte.gz`` (default
``../shared/mnist``) and writes ``assets/mnist-5k/{images-idx3-ubyte.gz,labels-idx1-ubyte.gz}``.

Which digits: for each digit 0..9, 500 of its training images evenly spaced through the
training file (the file's first and last image of that digit included), so that they come from
across its writers; stored by digit, then in training-file order. Training digits rather than
test digits, so that a network trained offline can later be measured on the real MNIST test set
without having seen any of it. The bytes are the original ones, unchanged; the files are
gzipped with a fixed timestamp, so running this again gives identical files.

MNIST is by Yann LeCun and Corinna Cortes (with Christopher J. C. Burges) and is licensed under
CC BY-SA 3.0; ``assets/mnist-5k/README.md`` says so beside the files.
"""
from __future__ import annotations

import gzip
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from core.data import read_idx  # noqa: E402

PER_DIGIT = 500


def choose(labels: np.ndarray, per_digit: int = PER_DIGIT) -> np.ndarray:
    """Training-file indices of ``per_digit`` images of each digit, evenly spaced, by digit."""
    chosen = []
    for digit in range(10):
        where = np.flatnonzero(labels == digit)
        picks = np.linspace(0, len(where) - 1, per_digit).round().astype(int)
        chosen.append(where[picks])
    return np.concatenate(chosen)


def idx_bytes(magic: int, array: np.ndarray) -> bytes:
    """An IDX file: big-endian magic, each dimension as 4 bytes, then the uint8 data."""
    dims = b"".join(int(d).to_bytes(4, "big") for d in array.shape)
    return magic.to_bytes(4, "big") + dims + np.ascontiguousarray(array, dtype=np.uint8).tobytes()


def main(source: Path, out: Path) -> None:
    images = read_idx(source / "train-images-idx3-ubyte.gz", expect="images")
    labels = read_idx(source / "train-labels-idx1-ubyte.gz", expect="labels")
    index = choose(labels)
    out.mkdir(parents=True, exist_ok=True)
    for name, magic, array in (("images-idx3-ubyte.gz", 0x803, images[index]),
                               ("labels-idx1-ubyte.gz", 0x801, labels[index])):
        (out / name).write_bytes(gzip.compress(idx_bytes(magic, array), compresslevel=9, mtime=0))
        print(f"{out / name}: {array.shape}, {(out / name).stat().st_size:,} bytes")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT.parent / "shared" / "mnist",
         Path(sys.argv[2]) if len(sys.argv) > 2 else ROOT / "assets" / "mnist-5k")
