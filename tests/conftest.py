"""Shared fixtures. Qt must run headless, so the platform is set before anything imports Qt."""
import os
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
SHARED_MNIST = ROOT.parent / "shared" / "mnist"
MNIST_FILES = ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
               "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")


def have_shared_mnist() -> bool:
    return all((SHARED_MNIST / name).is_file() for name in MNIST_FILES)


@pytest.fixture(scope="session")
def mnist_dir() -> Path:
    """The original MNIST files beside the project (../shared/mnist); tests skip without them."""
    if not have_shared_mnist():
        pytest.skip(f"the full MNIST is not at {SHARED_MNIST} (tests and benchmarks read it from there)")
    return SHARED_MNIST


@pytest.fixture(scope="session")
def mnist(mnist_dir):
    """The full MNIST, loaded once per test session."""
    from core.data import load_mnist
    return load_mnist(mnist_dir, progress=False)
