"""Peak memory of the loaders on hostile files and on the largest files they accept.

    python bench/hostile_memory.py [--keep DIR]

Builds each file of issue 11's classes 2 and 3 (and the largest accepted model and data) in a
temporary folder (bombs are built small, 4 GB files are sparse), then loads each in a fresh
``/usr/bin/time -v python -c ...`` and prints its "Maximum resident set size", the seconds it
took and the first line of what it said. Needs Linux's GNU time at /usr/bin/time.
"""
from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from core.checkpoint import save_model  # noqa: E402
from core.network import Network  # noqa: E402
from hostile_files import (  # noqa: E402
    deflate_repeat, gzip_bomb, idx_header, model_members, npy_bytes, npy_header, sparse_file, zip_archive)


def build(folder: Path) -> list[tuple[str, str]]:
    """Write the files; return (description, Python call) pairs."""
    cases = []
    members = model_members()

    lie = {"format": "backprop-lens-model/1",
           "network": {"sizes": [784, 100_000_000, 10], "activation": "sigmoid", "cost": "cross-entropy"}}
    huge = [(n, npy_bytes(np.array(json.dumps(lie))) if n == "header.npy" else c) for n, c in members]
    (folder / "huge-layer.npz").write_bytes(zip_archive(huge))
    cases.append(("model: header claims a 100,000,000-neuron layer", "load_model('huge-layer.npz')"))

    bomb = deflate_repeat(npy_header((750_000_000,), np.float32), b"\0", 3_000_000_000)
    (folder / "unused-3gb.npz").write_bytes(zip_archive([*members, ("junk.npy", bomb, 128 + 3_000_000_000)]))
    cases.append(("model: 3 MB file with a 3 GB unused member", "load_model('unused-3gb.npz')"))

    w0 = deflate_repeat(npy_header((5, 784), np.float32), b"\0", 3_000_000_000)
    (folder / "w0-3gb.npz").write_bytes(zip_archive([(n, w0, 128 + 3_000_000_000) if n == "W0.npy" else (n, c)
                                                     for n, c in members]))
    cases.append(("model: W0 member inflating to 3 GB", "load_model('w0-3gb.npz')"))

    save_model(folder / "largest-float32.npz", Network((784, 4096, 4096, 4096, 10)))
    cases.append(("model: largest accepted kind, 784-4096-4096-4096-10 float32 (36.9 M parameters)",
                  "load_model('largest-float32.npz')"))
    save_model(folder / "largest-float64.npz", Network((784, 4096, 4096, 10), dtype=np.float64))
    cases.append(("model: 784-4096-4096-10 float64 (20.0 M parameters, 160 MB)", "load_model('largest-float64.npz')"))

    sparse_file(folder / "4gb-idx", 4_000_000_000, idx_header(0x803, (60_000, 28, 28)))
    cases.append(("data: 4 GB IDX file", "read_idx('4gb-idx')"))

    (folder / "bomb-idx.gz").write_bytes(gzip_bomb(idx_header(0x803, (60_000, 28, 28)), b"\0", 4_000_000_000))
    cases.append(("data: 4 MB gzip inflating to 4 GB (header promises 60,000 images)", "read_idx('bomb-idx.gz')"))

    x = deflate_repeat(npy_header((100_000, 28, 28), np.uint8), b"\0", 100_000 * 784)
    (folder / "count.npz").write_bytes(zip_archive([
        ("x_train.npy", x, 128 + 100_000 * 784), ("y_train.npy", npy_bytes(np.zeros(99_999, np.uint8))),
        ("x_test.npy", npy_bytes(np.zeros((5, 28, 28), np.uint8))), ("y_test.npy", npy_bytes(np.zeros(5, np.uint8)))]))
    cases.append(("data: npz, 100,000 images but 99,999 labels", "read_npz('count.npz')"))

    x = deflate_repeat(npy_header((20, 28, 28), np.uint8), b"\0", 3_000_000_000)
    (folder / "bomb.npz").write_bytes(zip_archive([
        ("x_train.npy", x, 128 + 3_000_000_000), ("y_train.npy", npy_bytes(np.zeros(20, np.uint8))),
        ("x_test.npy", npy_bytes(np.zeros((5, 28, 28), np.uint8))), ("y_test.npy", npy_bytes(np.zeros(5, np.uint8)))]))
    cases.append(("data: npz member inflating to 3 GB", "read_npz('bomb.npz')"))

    with open(folder / "line.csv", "wb") as f:
        for _ in range(50):
            f.write(b"0," * 1_000_000)
    cases.append(("data: one 100 MB CSV line", "read_csv('line.csv')"))

    (folder / "blank.csv.gz").write_bytes(gzip_bomb(b"", b"\n", 4_000_000_000))
    cases.append(("data: csv.gz of 4 billion empty lines", "read_csv('blank.csv.gz')"))

    big = folder / "largest-idx"
    big.mkdir(exist_ok=True)
    rng = np.random.default_rng(0)
    for stem in ("train", "t10k"):
        pixels = rng.integers(0, 256, 100_000 * 784, dtype=np.uint8).tobytes()
        (big / f"{stem}-images-idx3-ubyte").write_bytes(idx_header(0x803, (100_000, 28, 28)) + pixels)
        (big / f"{stem}-labels-idx1-ubyte").write_bytes(idx_header(0x801, (100_000,)) + bytes(100_000))
    cases.append(("data: largest accepted, IDX folder of 100,000 + 100,000 images", "load_mnist('largest-idx')"))

    row = ",".join(["7", *["255"] * 784]) + "\n"
    (folder / "largest.csv").write_text(row * 100_000)
    cases.append(("data: largest accepted CSV, 100,000 rows (314 MB)", "load_mnist('largest.csv')"))
    return cases


def run(folder: Path, call: str) -> tuple[float, float, str]:
    code = (f"import sys; sys.path.insert(0, {str(ROOT)!r})\nfrom core.data import *\nfrom core.checkpoint import *\n"
            f"try:\n    r = {call}\n    print('accepted')\nexcept (DataError, CheckpointError) as e:\n    print(e)\n")
    started = time.perf_counter()
    out = subprocess.run(["/usr/bin/time", "-v", sys.executable, "-c", code], cwd=folder, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    peak_kb = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", out.stderr).group(1))
    said = (out.stdout.strip().splitlines() or [out.stderr.strip().splitlines()[-1]])[0]
    return peak_kb / 1024, seconds, said


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", metavar="DIR", help="build the files in DIR and keep them")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(args.keep or tmp)
        folder.mkdir(parents=True, exist_ok=True)
        for description, call in build(folder):
            peak, seconds, said = run(folder, call)
            print(f"| {description} | {peak:,.0f} MB | {seconds:.1f} s | {said[:110]} |", flush=True)


if __name__ == "__main__":
    main()
