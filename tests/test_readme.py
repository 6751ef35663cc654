"""The README's Python examples run as printed, against the full MNIST beside the project."""
import contextlib
import io
import re
from pathlib import Path

README = Path(__file__).resolve().parent.parent / "README.md"


def python_blocks() -> list:
    return re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), flags=re.S)


def test_readme_examples_train_and_step(mnist_dir):
    blocks = python_blocks()
    assert len(blocks) >= 2, "the README should show the Trainer and the bare loop"
    source = "\n".join(blocks).replace('"../shared/mnist"', repr(str(mnist_dir)))
    namespace: dict = {}
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(compile(source, str(README), "exec"), namespace)  # noqa: S102 - our own README
    assert "EpochRecord(epoch=1" in printed.getvalue()
    assert namespace["trainer"].epochs[0].test_accuracy > 0.95
    # The bare-loop block ran: its step has one array per parameter, each −η times a gradient.
    step, net = namespace["step"], namespace["net"]
    assert [d.shape for d in step.params()] == [p.shape for p in net.params()]
