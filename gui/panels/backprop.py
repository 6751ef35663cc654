"""Backprop panel: the chain rule for one neuron on the probe digit, every formula with its numbers.

The numbers come from core.inspect.explain_neuron, which reads the core's own forward and backward
pass; this file only writes them out as maths (Qt rich text: <i>, <sub>, <sup> and Greek letters,
so nothing beyond Qt is needed) and draws ∂C0/∂w_jk = a_k δ_j.
"""
from __future__ import annotations

import html
import math
import re

import numpy as np
import pyqtgraph as pg
from PyQt6.QtCore import QSignalBlocker, Qt, pyqtSignal
from PyQt6.QtGui import QFont
from PyQt6.QtWidgets import (QCheckBox, QComboBox, QFrame, QGridLayout, QHBoxLayout, QLabel,
                             QPushButton, QScrollArea, QSpinBox, QStackedWidget, QVBoxLayout, QWidget)

from core.activations import get_activation
from core.control import TraceBatch
from core.costs import get_cost
from core.gradcheck import TOLERANCE, GradCheck, fingerprint
from core.inspect import NeuronExplanation, explain_neuron
from core.snapshot import Snapshot
from gui import theme
from gui.panels.base import Panel
from gui.widgets import TILE, RedrawPacer, digit_image, finite_for_display

SUPERSCRIPT = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")
MINUS = "−"
GOOD, BAD, MUTED = "#2c8c2c", "#c82828", "#666666"
CHECK_ROWS = 4        # gradient-check entries listed: the bias and the largest weights
CHECK_DIGITS = 8      # the check shows more digits than elsewhere: agreement beyond 4 is the point


# --- numbers and symbols ---------------------------------------------------------------------------
def num(x, digits: int = 4) -> str:
    """``x`` to ``digits`` significant digits with a real minus sign and 10ⁿ exponents; NaN-safe."""
    x = float(x)
    if math.isnan(x):
        return "NaN"
    if math.isinf(x):
        return "∞" if x > 0 else MINUS + "∞"
    if x == 0:
        return "0"
    return _tidy(f"{x:#.{digits}g}".replace(".e", "e").rstrip("."))


def plain(x) -> str:
    """A setting such as η = 0.1 or an integer target y = 1, without padding zeros."""
    return _tidy(f"{float(x):g}") if math.isfinite(float(x)) else num(x)


def _tidy(text: str) -> str:
    """Real minus signs and 10ⁿ for exponents: '-1.5e-05' → '−1.5×10⁻⁵', '1e-06' → '10⁻⁶'."""
    if "e" in text:
        mantissa, exponent = text.split("e")
        power = "10" + str(int(exponent)).translate(SUPERSCRIPT)
        text = power if mantissa == "1" else f"{mantissa}×{power}"
    return text.replace("-", MINUS)


def term(x, fmt=num) -> str:
    """``fmt(x)`` in brackets when it would not read cleanly inside a sum or product."""
    text = fmt(x)
    return f"({text})" if text.startswith(MINUS) or "×" in text else text


def var(name: str, sub="", sup="") -> str:
    """An italic symbol with optional subscript/superscript (already HTML)."""
    out = f"<i>{name}</i>" if name.isascii() else name
    if sub != "":
        out += f"<sub>{sub}</sub>"
    if sup != "":
        out += f"<sup>{sup}</sup>"
    return out


def d(top: str, bottom: str) -> str:
    """A partial derivative ∂top/∂bottom."""
    return f"∂{top}/∂{bottom}"


K, I = "<i>k</i>", "<i>i</i>"
C0 = var("C", "0")


def maths(text: str, j=None, label=None) -> str:
    """Plain-Unicode maths from the core (zⱼ, C₀, Σᵢ, δᴸ) as Qt rich text: single letters in italics,
    subscripts as <sub>; ⱼ becomes the neuron's number ``j`` and ₗ the digit's ``label`` when given."""
    out = html.escape(text, quote=False)
    out = re.sub(r"(?<![A-Za-z])([A-Za-z])(?![A-Za-z])", r"<i>\1</i>", out)
    out = re.sub(f"[{''.join(SUBSCRIPTS)}]+", lambda m: "<sub>" + "".join(
        _subscript(c, j, label) for c in m.group(0)) + "</sub>", out)
    return out.replace("ᴸ", "<sup><i>L</i></sup>")


SIGMA_PRIME = "σ'(zⱼ)"
SUBSCRIPTS = {"ⱼ": "j", "ᵢ": "i", "ₖ": "k", "ₗ": "ℓ", **{chr(0x2080 + n): str(n) for n in range(10)}}


def _subscript(char: str, j, label) -> str:
    if char == "ⱼ" and j is not None:
        return str(j)
    if char == "ₗ" and label is not None:
        return str(label)
    name = SUBSCRIPTS[char]
    return name if name.isdigit() else f"<i>{name}</i>"


def fill(rule: str, e: NeuronExplanation) -> str:
    """``rule`` with neuron j's numbers in place of σ(zⱼ), zⱼ, aⱼ, sⱼ and yⱼ (bracketed when negative)."""
    values = {"σ(zⱼ)": term(e.sigma_z), "zⱼ": term(e.z), "aⱼ": term(e.a), "sⱼ": term(e.a), "yⱼ": term(e.y, plain)}
    for symbol, value in values.items():
        rule = rule.replace(symbol, value)
    return rule


def _pair(e: NeuronExplanation):
    return get_cost(e.cost)


def neuron_heading(e: NeuronExplanation, step: int) -> str:
    kind = (f"Output neuron {e.j} (digit {e.j})" if e.is_output
            else f"Hidden neuron {e.j} of hidden layer {e.layer + 1}")
    if e.train_index >= 0:
        which = f"training digit #{e.train_index} of the next mini-batch, a {e.probe_label}"
    elif e.probe_index >= 0:
        which = f"probe digit test #{e.probe_index}, a {e.probe_label}"
    elif e.label_known:
        which = f"your drawing, a {e.probe_label} (yours)"
    else:   # δ needs a target: the network's own answer stands in, and the heading says so
        which = f"your drawing, label ? (y is taken as its answer, {e.probe_label})"
    unit = "" if e.is_output else f"{get_activation(e.activation).symbol} unit, "
    return f"{kind} — {which} — {unit}{_pair(e).title} — step {step}"


# --- the formulas ------------------------------------------------------------------------------------
def forward_lines(e: NeuronExplanation) -> dict:
    j = e.j
    z_line = (f"{var('z', j)} = Σ<sub>{K}</sub> {var('w', f'{j}{K}')} {var('a', K)} + {var('b', j)}"
              f" = {num(e.weighted_sum)} + {term(e.bias)} = <b>{num(e.z)}</b>")
    if e.is_output:
        pair = _pair(e)
        middle = "" if pair.probabilities else f" = {pair.output_symbol}({num(e.z)})"
        inner = (f" &nbsp;(σ({var('z', j)}) = {num(e.sigma_z)})"
                 if pair.probabilities and not math.isnan(e.sigma_z) else "")
        a_line = f"{maths(pair.output_formula, j)}{middle} = <b>{num(e.a)}</b>{inner}"
    else:
        act = get_activation(e.activation)
        a_line = f"{maths(act.formula, j)} = {act.symbol}({num(e.z)}) = <b>{num(e.a)}</b>"
    return {"z": z_line, "a": a_line}


def cost_lines(e: NeuronExplanation) -> dict:
    """C0 of the digit and the cost's factor of δ_j: from the pair at the output, from the next
    layer's δ inside."""
    j, label, pair = e.j, e.probe_label, _pair(e)
    by_label = f" = {maths(pair.cost_of_label, j, label)}" if pair.cost_of_label else ""
    cost = (f"{maths(pair.cost_formula, j, label)}{by_label} = <b>{num(e.cost_value)}</b> &nbsp;"
            f"(the digit is a {label}: {var('y', label)} = 1, other {var('y', I)} = 0)")
    if not e.is_output:
        return {"cost": cost, "dC_da": _hidden_dC_da(e)}
    if e.shortcut:
        dC = (f"{maths('∂C₀/∂zⱼ = ' + pair.delta_rule, j)} = {maths(fill(pair.delta_rule, e))} = "
              f"<b>{num(e.a - e.y)}</b>")
    else:
        dC = (f"{maths(pair.dC_da_formula, j)} = {maths(fill(pair.dC_da_rule, e))} = "
              f"<b>{num(e.dC_da)}</b>")
    return {"cost": cost, "dC_da": dC}


def _hidden_dC_da(e: NeuronExplanation) -> str:
    if e.layer + 1 == e.n_layers - 1:
        where, rule = "the output layer", _pair(e).delta_rule.replace("ⱼ", "ᵢ")
    else:
        where, rule = f"hidden layer {e.layer + 2}", "σ'(zᵢ) ∂C₀/∂aᵢ"
    return (f"{maths('∂C₀/∂aⱼ = Σᵢ wᵢⱼ δᵢ', e.j)} = <b>{num(e.dC_da)}</b> &nbsp;({I} over {where}, "
            f"{maths('δᵢ = ' + rule)})")


def delta_lines(e: NeuronExplanation) -> dict:
    """σ'(z_j) and δ_j, with the core's δ beside the one rebuilt from the pieces."""
    j = e.j
    check = _agreement(e.delta_from_parts, e.delta)
    if e.shortcut:
        pair = _pair(e)
        sigma = f"no σ'({var('z', j)}) here: {maths(pair.note, j)}"
        delta = f"{maths('δⱼ = ∂C₀/∂zⱼ = ' + pair.delta_rule, j)} = <b>{num(e.delta_from_parts)}</b>{check}"
        return {"sigma_prime": sigma, "delta": delta}
    if e.is_output:
        pair = _pair(e)
        rule, formula, cost_factor = pair.prime_rule, f"{SIGMA_PRIME} = {pair.prime_rule}", pair.dC_da_symbol
    else:
        act = get_activation(e.activation)
        rule, formula, cost_factor = act.prime_rule, act.prime_formula, "∂C₀/∂aⱼ"
    sigma = f"{maths(formula, j)} = {maths(fill(rule, e))} = <b>{num(e.sigma_prime)}</b>"
    delta = (f"{maths(f'δⱼ = ∂C₀/∂zⱼ = {SIGMA_PRIME} · {cost_factor}', j)} = "
             f"{term(e.sigma_prime)} × {term(e.dC_da)} = <b>{num(e.delta_from_parts)}</b>{check}")
    return {"sigma_prime": sigma, "delta": delta}


def _agreement(mine: float, core: float) -> str:
    """A second line '✓ the same as the core's δ …: x', in red with ✗ when the two differ."""
    same = math.isclose(mine, core, rel_tol=1e-4, abs_tol=1e-12) if math.isfinite(mine + core) else False
    colour, mark = (GOOD, "✓") if same else (BAD, "✗")
    verdict = "the same as" if same else "differs from"
    return (f"<br><span style='color:{colour}'>{mark} {verdict} the core's δ from Network.backward: "
            f"{num(core)}</span>")


def gradient_lines(e: NeuronExplanation) -> dict:
    """This digit's ∂C0/∂b_j and ∂C0/∂w_jk, then the mini-batch average and the step it causes."""
    j = e.j
    k = e.z_terms[0].index if e.z_terms else 0
    a_k = float(e.a_in[k]) if e.a_in.size else float("nan")
    n = e.batch_size
    lines = {
        "db0": f"{d(C0, var('b', j))} = δ<sub>{j}</sub> = <b>{num(e.delta)}</b>",
        "dw0": (f"{d(C0, var('w', f'{j}{K}'))} = {var('a', K)} δ<sub>{j}</sub>, e.g. {K} = {k}: "
                f"{term(a_k)} × {term(e.delta)} = <b>{num(e.dC0_dw[k])}</b>"),
        "batch_db": (f"{d('<i>C</i>', var('b', j))} = <sup>1</sup>/<sub><i>n</i></sub> Σ<sub><i>x</i></sub> "
                     f"{d(var('C', '<i>x</i>'), var('b', j))} = <b>{num(e.batch_db)}</b> &nbsp;"
                     f"(the next mini-batch, <i>n</i> = {n})"),
        "update_b": (f"Δ{var('b', j)} = {MINUS}η {d('<i>C</i>', var('b', j))} = "
                     f"{MINUS}{term(e.lr, plain)} × {term(e.batch_db)} = <b>{num(e.update_b)}</b>"),
        "update_w": f"Δ{var('w', f'{j}{K}')} = {MINUS}η {d('<i>C</i>', var('w', f'{j}{K}'))}"
                    + (f" {MINUS} ηλ {var('w', f'{j}{K}')}" if e.l2 > 0 else "")
                    + f" &nbsp;(η = {plain(e.lr)}; the weights that move most:)",
    }
    notes = []
    if e.momentum > 0:
        notes.append(f"With momentum μ = {plain(e.momentum)} the step taken adds μ·<i>v</i>, "
                     f"<i>v</i> being the previous step.")
    if e.l2 > 0:
        notes.append(f"L2 decay λ = {plain(e.l2)} adds {MINUS}ηλ<i>w</i> to every weight step.")
    lines["notes"] = " ".join(notes)
    return lines


def formulas(e: NeuronExplanation) -> dict:
    """Every formula line of the panel as rich text, keyed by name."""
    return {**forward_lines(e), **cost_lines(e), **delta_lines(e), **gradient_lines(e)}


def top_update_rows(e: NeuronExplanation, top: int = 5) -> list:
    """(k, a_k δ_j, ∂C/∂w_jk, Δw_jk) of the weights with the largest batch gradient."""
    size = np.nan_to_num(np.abs(np.asarray(e.batch_dw, np.float64)), nan=-1.0)
    order = np.argsort(-size, kind="stable")[:top]
    update = e.update_w
    return [(str(k), num(e.dC0_dw[k]), num(e.batch_dw[k]), num(update[k])) for k in order]


def check_lines(result, name: str, stale: bool = False) -> tuple:
    """(summary rich text, rows of (entry, backprop, numeric)) for a core.gradcheck.GradCheck of the
    neuron called ``name``: the bias first, then the weights with the largest gradient. ``stale``:
    the network or the digit has changed since, so the result is greyed and marked as such."""
    err = float(result.relative_error)
    if result.n_checked == 0:
        colour, mark = BAD, "✗ nothing could be compared"
    elif result.agrees:
        colour, mark = GOOD, f"✓ agree (under {plain(TOLERANCE)})"
    else:
        colour, mark = BAD, f"✗ disagree (over {plain(TOLERANCE)})"
    count, n_in = len(result.weights), result.n_inputs
    which = f"all {count} weights" if count >= n_in else f"{count} largest of {n_in} weights"
    digits = "probe digit" if result.n_samples == 1 else f"{result.n_samples} digits"
    bp, fd = var("g", "backprop"), var("g", "numeric")
    summary = (f"{name}: {which} + bias, {digits}, ε = {plain(result.eps)}<br>"
               f"‖{bp} {MINUS} {fd}‖ / max(‖{bp}‖ + ‖{fd}‖, {num(result.floor, 2)}) = <b>{num(err)}</b> "
               f"<span style='color:{colour}'>{mark}</span>")
    notes = _check_notes(result)
    if notes:
        summary += f"<br><span style='color:{MUTED}'>{notes}</span>"
    if stale:  # the verdict greyed, a line above saying why
        summary = (f"<span style='color:{BAD}'>⟲ Stale: the weights or the probe digit have changed since "
                   f"this check; press “Gradient check” again.</span><br>"
                   + summary.replace(f"color:{colour}", f"color:{MUTED}"))
    j, bias = result.j, len(result.backprop) - 1
    size = np.nan_to_num(np.abs(np.asarray(result.backprop[:bias], np.float64)), nan=-1.0)
    order = [bias] + [int(i) for i in np.argsort(-size, kind="stable")[:CHECK_ROWS - 1]]
    label = [var("w", f"{j},{k}") for k in result.weights] + [var("b", j)]
    skipped = result.skipped if result.skipped.size == result.backprop.size else np.zeros(bias + 1, bool)
    digits = CHECK_DIGITS
    return summary, [(label[i] + (" (corner)" if skipped[i] else ""), num(result.backprop[i], digits),
                      num(result.numeric[i], digits)) for i in order]


def _check_notes(result) -> str:
    """Why the floor, or skipped entries, matter for this result (empty when neither does)."""
    notes = []
    kept = ~result.skipped if result.skipped.size == result.backprop.size else slice(None)
    size = float(np.linalg.norm(result.backprop[kept]) + np.linalg.norm(result.numeric[kept]))
    if size < result.floor:
        notes.append(f"The gradient ({num(size, 2)}) is under the floor: finite differences round off by "
                     f"about {num(result.noise, 2)} per entry here, so its error is measured against the floor.")
    skipped = int(np.count_nonzero(result.skipped))
    if skipped:
        notes.append(f"{skipped} entr{'y' if skipped == 1 else 'ies'} left out: a unit sat within ±ε of a "
                     f"corner of σ, where σ' jumps and a difference is no slope.")
    return " ".join(notes)


# --- widgets ---------------------------------------------------------------------------------------
def rich_label(text: str = "", wrap: bool = True) -> QLabel:
    label = QLabel(text)
    label.setTextFormat(Qt.TextFormat.RichText)
    label.setWordWrap(wrap)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    return label


def set_text(label: QLabel, text: str) -> None:
    """Set ``label``'s text only when it changed: laying out rich text is the panel's main cost."""
    if label.text() != text:
        label.setText(text)


def scaled_font(widget: QWidget, factor: float, bold=False, family=None) -> QFont:
    font = QFont(widget.font())
    if family:
        font.setFamily(family)
    font.setPointSizeF(font.pointSizeF() * factor)
    font.setBold(bold)
    return font


class _Table(QWidget):
    """A small table of labels: a rich-text header row, a rule, then up to ``rows`` rows of numbers
    (plain text, except in ``rich_columns``)."""

    def __init__(self, headers, rows: int, rich_columns=()):
        super().__init__()
        grid = QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setHorizontalSpacing(16)
        grid.setVerticalSpacing(1)
        for c, text in enumerate(headers):
            grid.addWidget(self._cell(text), 0, c)
        rule = QFrame()
        rule.setFrameShape(QFrame.Shape.HLine)
        rule.setStyleSheet(f"color: {MUTED}")
        grid.addWidget(rule, 1, 0, 1, len(headers))
        self.cells = [[self._cell("", c in rich_columns) for c in range(len(headers))] for _ in range(rows)]
        for r, row in enumerate(self.cells):
            for c, cell in enumerate(row):
                grid.addWidget(cell, r + 2, c)
        grid.setColumnStretch(len(headers), 1)
        grid.addWidget(QWidget(), 0, len(headers))  # the stretch column keeps the numbers together

    @staticmethod
    def _cell(text: str, rich: bool = True) -> QLabel:
        label = rich_label(text, wrap=False)
        if not rich:  # plain text lays out several times faster, and numbers need nothing more
            label.setTextFormat(Qt.TextFormat.PlainText)
        label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return label

    def show_rows(self, rows) -> None:
        """Fill the table with ``rows`` (tuples of rich text), blanking any rows left over."""
        for r, cells in enumerate(self.cells):
            values = rows[r] if r < len(rows) else ("",) * len(cells)
            for cell, value in zip(cells, values):
                set_text(cell, value)

    def texts(self) -> list:
        return [[cell.text() for cell in row] for row in self.cells]


class _GradientPlot(QStackedWidget):
    """∂C0/∂w_jk = a_k δ_j: a 28×28 image for a first-layer neuron, signed bars over k otherwise."""

    def __init__(self):
        super().__init__()
        self.image_widget, self.image, self.bar = self._build_image()
        self.bars_widget, self.bars_plot, self.positive, self.negative = self._build_bars()
        self.addWidget(self.image_widget)
        self.addWidget(self.bars_widget)
        self.level = 1.0

    @staticmethod
    def _build_image():
        widget = pg.PlotWidget()
        image, bar = digit_image(widget, "<i>a</i><sub><i>k</i></sub> δ<sub><i>j</i></sub>")
        return widget, image, bar

    @staticmethod
    def _build_bars():
        widget = pg.PlotWidget()
        plot = widget.getPlotItem()
        positive = pg.BarGraphItem(x=[], height=[], width=0.8, brush=theme.POSITIVE, pen=None)
        negative = pg.BarGraphItem(x=[], height=[], width=0.8, brush=theme.NEGATIVE, pen=None)
        plot.addItem(positive)
        plot.addItem(negative)
        plot.addLine(y=0, pen=pg.mkPen((90, 90, 90)))
        plot.setMenuEnabled(False)
        plot.setMouseEnabled(False, False)
        plot.hideButtons()
        plot.getAxis("left").enableAutoSIPrefix(False)
        plot.getAxis("left").setWidth(64)  # room for "-0.0015"; a narrower axis drops the labels
        return widget, plot, positive, negative

    def show_gradient(self, e: NeuronExplanation) -> None:
        values = np.asarray(e.dC0_dw, np.float64)
        self.level = theme.symmetric_level(values, quantile=1.0)
        shown = finite_for_display(values, self.level)
        title = f"{d(C0, var('w', f'{e.j}{K}'))} = {var('a', K)} δ<sub>{e.j}</sub> for this digit"
        image = e.gradient_image
        if image is not None:
            self.image.setImage(shown.reshape(TILE, TILE), autoLevels=False)
            self.image.setLevels((-self.level, self.level))
            self.bar.setLevels(low=-self.level, high=self.level)
            self.image_widget.getPlotItem().setTitle(title)
            self.setCurrentWidget(self.image_widget)
            return
        x = np.arange(len(shown))
        self.positive.setOpts(x=x, height=np.maximum(shown, 0))
        self.negative.setOpts(x=x, height=np.minimum(shown, 0))
        low, high = min(float(shown.min(initial=0)), 0.0), max(float(shown.max(initial=0)), 0.0)
        if low == high:
            low, high = -1.0, 1.0
        self.bars_plot.setRange(xRange=(-0.6, len(shown) - 0.4), yRange=(low, high), padding=0.05)
        self.bars_plot.setTitle(title)
        self.bars_plot.setLabel("bottom", f"k: neuron of {'hidden layer ' + str(e.layer)}")
        self.setCurrentWidget(self.bars_widget)


SECTIONS = (
    ("1 · Forward pass: what the neuron computed", ("z", "a")),
    ("2 · The cost of this digit, and how it depends on the neuron", ("cost", "dC_da")),
    ("3 · The error δ of the neuron", ("sigma_prime", "delta")),
    ("4 · Gradient for this one digit", ("db0", "dw0")),
    ("5 · The mini-batch average and the step", ("batch_db", "update_b", "update_w")),
)
CHECK_PROMPT = "Press “Gradient check” to compare backprop with finite differences for this neuron."


class BackpropPanel(Panel):
    """Backpropagation written out for one neuron on the probe digit, refreshed on every snapshot.

    ``set_neuron(l, j)`` picks neuron j of weight layer l (0 = first hidden layer, last = output).
    ``gradient_check_requested(l, j)`` asks the window to run core.gradcheck.check_neuron on the probe
    digit; it answers with ``show_gradient_check(result)``. ``step_one_digit_toggled(on)`` asks for
    mini-batches of one digit.
    """

    title = "Backprop"
    area = "bottom"
    tab_with = "Activations"
    workspaces = ("Backprop",)
    help = ('The chain rule for one neuron and one digit, with the live numbers: z and a going forward, '
            '∂C0/∂a, σ′(z), δ, ∂C0/∂b and ∂C0/∂w, then the mini-batch average and the update Δw = −η '
            '∂C/∂w the next step will apply.')
    REDRAW_INTERVAL = 0.02  # s between redraws while running: rich text costs ~15 ms a frame, on the window's own core
    gradient_check_requested = pyqtSignal(int, int)
    step_one_digit_toggled = pyqtSignal(bool)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.neuron = (0, 0)
        self.explanation: NeuronExplanation | None = None
        self._snapshot: Snapshot | None = None
        self._sizes = None
        self._pacer = RedrawPacer(self, self.draw_if_dirty, self.REDRAW_INTERVAL)
        self.formula_labels: dict = {}
        self.check: GradCheck | None = None   # the gradient check shown, and whether it is stale
        self.check_stale = False
        self._follow_batch = False            # Step one digit: explain the digit the next step trains on
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 4, 6, 4)
        layout.addLayout(self._build_controls())
        self.heading = rich_label("Waiting for the first snapshot…")
        self.heading.setFont(scaled_font(self.heading, 1.15, bold=True))
        layout.addWidget(self.heading)
        body = QHBoxLayout()
        body.addWidget(self._build_formulas(), 3)
        body.addLayout(self._build_side(), 2)
        layout.addLayout(body, 1)

    # --- construction -----------------------------------------------------------------------
    def _build_controls(self) -> QHBoxLayout:
        self.layer_box = QComboBox(objectName="layer")
        self.layer_box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.neuron_box = QSpinBox(objectName="neuron")
        self.digit_box = QComboBox(objectName="digit")
        self.digit_box.addItem("probe digit")
        self.digit_box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.digit_box.setToolTip("The probe digit (choose it in the Activations panel), or one digit of "
                                  "the mini-batch the next step will train on")
        self.digit_box.currentIndexChanged.connect(self._on_digit_changed)
        self.check_button = QPushButton("Gradient check", objectName="gradient_check")
        self.check_button.setToolTip("Compare backprop's gradient of this neuron with finite differences")
        self.one_digit_box = QCheckBox("Step one digit", objectName="step_one_digit")
        self.one_digit_box.setToolTip("Train on mini-batches of a single digit")
        self.layer_box.currentIndexChanged.connect(self._on_layer_changed)
        self.neuron_box.valueChanged.connect(self._on_neuron_changed)
        self.check_button.clicked.connect(self._on_check_clicked)
        self.one_digit_box.toggled.connect(self.step_one_digit_toggled)
        self.one_digit_box.toggled.connect(self._on_one_digit_toggled)
        row = QHBoxLayout()
        for text, widget in (("Layer", self.layer_box), ("Neuron", self.neuron_box), ("Digit", self.digit_box)):
            row.addWidget(QLabel(text))
            row.addWidget(widget)
            row.addSpacing(10)
        row.addWidget(self.check_button)
        row.addWidget(self.one_digit_box)
        row.addStretch(1)
        return row

    def _build_formulas(self) -> QScrollArea:
        content = QWidget()
        column = QVBoxLayout(content)
        column.setContentsMargins(0, 0, 8, 0)
        maths = scaled_font(self, 1.12, family="DejaVu Serif")
        for title, keys in SECTIONS:
            column.addWidget(self._section_header(title))
            for key in keys:
                label = rich_label()
                label.setFont(maths)
                label.setContentsMargins(12, 0, 0, 0)
                self.formula_labels[key] = label
                column.addWidget(label)
        self.update_table = _Table(["<i>k</i>", "<i>a</i><sub><i>k</i></sub> δ<sub><i>j</i></sub> (this digit)",
                                    "∂<i>C</i>/∂<i>w</i><sub><i>jk</i></sub> (batch)",
                                    "Δ<i>w</i><sub><i>jk</i></sub>"], 5)
        self.update_table.setContentsMargins(12, 0, 0, 0)
        column.addWidget(self.update_table)
        notes = rich_label()
        notes.setStyleSheet(f"color: {MUTED}")
        notes.setContentsMargins(12, 0, 0, 0)
        self.formula_labels["notes"] = notes
        column.addWidget(notes)
        column.addWidget(self._section_header("6 · Gradient check: backprop against finite differences"))
        self.check_summary = rich_label(CHECK_PROMPT)
        self.check_table = _Table(["entry", "backprop", "numeric"], CHECK_ROWS, rich_columns=(0,))
        for widget in (self.check_summary, self.check_table):
            widget.setContentsMargins(12, 0, 0, 0)
            column.addWidget(widget)
        column.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidget(content)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        return scroll

    def _section_header(self, title: str) -> QLabel:
        header = rich_label(title)
        header.setFont(scaled_font(self, 1.0, bold=True))
        header.setStyleSheet(f"color: rgb{theme.TRAIN}; margin-top: 6px")
        return header

    def _build_side(self) -> QVBoxLayout:
        side = QVBoxLayout()
        self.z_title = rich_label()
        self.z_table = _Table(["<i>k</i>", "<i>w</i><sub><i>jk</i></sub>", "<i>a</i><sub><i>k</i></sub>",
                               "<i>w</i><sub><i>jk</i></sub> <i>a</i><sub><i>k</i></sub>"], 5)
        self.back_title = rich_label()
        self.back_table = _Table(["<i>i</i>", "<i>w</i><sub><i>ij</i></sub>", "δ<sub><i>i</i></sub>",
                                  "<i>w</i><sub><i>ij</i></sub> δ<sub><i>i</i></sub>"], 5)
        self.plot = _GradientPlot()
        self.plot.setMinimumHeight(220)
        for widget in (self.z_title, self.z_table, self.back_title, self.back_table):
            side.addWidget(widget)
        side.addSpacing(6)
        side.addWidget(self.plot, 1)
        return side

    # --- public ------------------------------------------------------------------------------
    def attach(self, view, training) -> None:
        super().attach(view, training)
        self._training, self._trace_wanted = training, None
        view.run_started.connect(lambda _run_id: self._want_trace(self.on_screen(), again=True))
        self._want_trace(self.on_screen())
        view.neuron_selected.connect(self.set_neuron)
        self.gradient_check_requested.connect(training.check_gradient)
        training.gradient_checked.connect(self.show_gradient_check)
        self.step_one_digit_toggled.connect(lambda on: self._step_one_digit(training, on))

    # --- the next batch's trace: the trainer makes it for running snapshots only while we are seen
    def _want_trace(self, on: bool, again: bool = False) -> None:
        """Ask the trainer for the next mini-batch's trace in running snapshots while this panel
        is on screen (it costs a forward and backward pass a snapshot); paused ones always have it."""
        training = getattr(self, "_training", None)
        if training is not None and (on != self._trace_wanted or again):
            self._trace_wanted = on
            training.request(TraceBatch(running=on))

    def showEvent(self, event):
        super().showEvent(event)
        dock = self.dock()
        if dock is not None and not getattr(self, "_watching_dock", False):
            self._watching_dock = True          # a dock tab raised or hidden behind another
            dock.visibilityChanged.connect(lambda seen: self._want_trace(bool(seen)))
        self._want_trace(self.on_screen())

    def hideEvent(self, event):
        super().hideEvent(event)
        self._want_trace(False)

    def _step_one_digit(self, training, on: bool) -> None:
        """Mini-batches of one digit (the batch-size setting shows 1), or back to the size before."""
        if on:
            self._batch_before_one_digit = training.settings.batch_size
        training.change_live(batch_size=1 if on else getattr(self, "_batch_before_one_digit", training.settings.batch_size))

    def set_neuron(self, l: int, j: int) -> None:
        """Explain neuron j of weight layer l; redraws from the last snapshot."""
        if (int(l), int(j)) != self.neuron:
            self._clear_check()
        self.neuron = (int(l), int(j))
        if self._snapshot is not None:
            self.draw_snapshot(self._snapshot)

    # While training runs it redraws at most every REDRAW_INTERVAL (the text is read, not watched);
    # paused, every snapshot draws at once.
    show_snapshot = Panel.show_paced

    @property
    def digit(self):
        """None for the probe digit, else the row of the next mini-batch being explained."""
        return None if self.digit_box.currentIndex() <= 0 else self.digit_box.currentIndex() - 1

    def _sync_digits(self, snapshot: Snapshot):
        """Offer the probe and every digit of the next mini-batch; with Step one digit on, pick the
        digit the next step trains on."""
        batch = snapshot.next_batch
        n, whole = (len(batch), batch.n) if batch is not None else (0, 0)
        with QSignalBlocker(self.digit_box):
            if self.digit_box.count() != n + 1:
                keep = min(self.digit_box.currentIndex(), n)
                self.digit_box.clear()
                self.digit_box.addItems(["probe digit"] + [f"mini-batch digit {k + 1} of {whole}" for k in range(n)])
                self.digit_box.setCurrentIndex(max(keep, 0))
            if self._follow_batch and n and self.digit_box.currentIndex() == 0:
                self.digit_box.setCurrentIndex(1)

    def _on_digit_changed(self, index):
        # the user's own pick of the probe ends following the trained digit; a batch digit resumes it
        self._follow_batch = self.one_digit_box.isChecked() and index > 0
        if self._snapshot is not None:
            self.draw_snapshot(self._snapshot)

    def _on_one_digit_toggled(self, on: bool):
        """Step one digit: sections 1–5 explain the digit the next step trains on (issue 12 item 9);
        off: back to the probe digit."""
        self._follow_batch = on
        with QSignalBlocker(self.digit_box):
            self.digit_box.setCurrentIndex(1 if on and self.digit_box.count() > 1 else 0)
        if self._snapshot is not None:
            self.draw_snapshot(self._snapshot)

    def draw_snapshot(self, snapshot: Snapshot) -> None:
        """Explain the chosen neuron in ``snapshot`` (the user's own choices draw at once)."""
        self._sync_controls(snapshot.sizes)
        self._sync_digits(snapshot)
        l, j = self.neuron
        with np.errstate(all="ignore"):
            e = explain_neuron(snapshot, l, j, self.digit)
            self.explanation = e
            set_text(self.heading, neuron_heading(e, snapshot.step))
            for key, text in formulas(e).items():
                set_text(self.formula_labels[key], text)
            self._fill_tables(e)
            self.plot.show_gradient(e)
        self._update_check(snapshot)

    def show_gradient_check(self, result) -> None:
        """Show a core.gradcheck.GradCheck (or an error message string) from the window."""
        if isinstance(result, str):
            self.check = None
            self.check_summary.setText(f"<span style='color:{BAD}'>{result}</span>")
            self.check_table.show_rows([])
            return
        self.check, self.check_stale = result, False
        self._show_check()
        if self._snapshot is not None:
            self._update_check(self._snapshot)

    def _update_check(self, snapshot: Snapshot) -> None:
        """Mark the check shown stale once the weights, the probe digit or the neuron differ from
        what it checked (its fingerprint), and fresh again if they come back."""
        if self.check is None:
            return
        checked = self.check.fingerprint, (self.check.layer, self.check.j)
        now = fingerprint(snapshot.W, snapshot.b, np.asarray(snapshot.probe_a[0])[None]), self.neuron
        if (checked != now) != self.check_stale:
            self.check_stale = checked != now
            self._show_check()

    def _show_check(self) -> None:
        result = self.check
        summary, rows = check_lines(result, self._neuron_name(result.layer, result.j), self.check_stale)
        self.check_summary.setText(summary)
        self.check_table.show_rows(rows)

    def reset(self) -> None:
        self._clear_check()

    # --- internals ----------------------------------------------------------------------------
    def _neuron_name(self, l: int, j: int) -> str:
        if self._sizes is not None and l == len(self._sizes) - 2:
            return f"output neuron {j}"
        return f"neuron {j} of hidden layer {l + 1}"

    def _fill_tables(self, e: NeuronExplanation):
        self.z_title.setText(f"<b>Largest terms of</b> {var('z', e.j)} = Σ<sub>{K}</sub> "
                             f"{var('w', f'{e.j}{K}')} {var('a', K)} + {var('b', e.j)}")
        self.z_table.show_rows([(str(t.index), num(t.left), num(t.right), num(t.product)) for t in e.z_terms])
        hidden = not e.is_output
        self.back_title.setVisible(hidden)
        self.back_table.setVisible(hidden)
        if hidden:
            self.back_title.setText(f"<b>Largest terms of</b> {d(C0, var('a', e.j))} = "
                                    f"Σ<sub>{I}</sub> {var('w', f'{I}{e.j}')} δ<sub>{I}</sub>")
            self.back_table.show_rows([(str(t.index), num(t.left), num(t.right), num(t.product))
                                       for t in e.back_terms])
        self.update_table.show_rows(top_update_rows(e))

    def _sync_controls(self, sizes: tuple):
        """Fit the layer list and the neuron range to the network, keeping the choice when it fits."""
        l, j = self.neuron
        L = len(sizes) - 1
        if sizes != self._sizes:
            self._sizes = sizes
            with QSignalBlocker(self.layer_box):
                self.layer_box.clear()
                self.layer_box.addItems([f"Hidden {i + 1}" for i in range(L - 1)] + ["Output"])
        l = min(max(l, 0), L - 1)
        j = min(max(j, 0), sizes[l + 1] - 1)
        self.neuron = (l, j)
        with QSignalBlocker(self.layer_box), QSignalBlocker(self.neuron_box):
            self.neuron_box.setRange(0, sizes[l + 1] - 1)
            self.layer_box.setCurrentIndex(l)
            self.neuron_box.setValue(j)

    def _clear_check(self):
        self.check, self.check_stale = None, False
        self.check_summary.setText(CHECK_PROMPT)
        self.check_table.show_rows([])

    def _on_layer_changed(self, index: int):
        if index >= 0:
            self.set_neuron(index, self.neuron[1])

    def _on_neuron_changed(self, value: int):
        self.set_neuron(self.neuron[0], value)

    def _on_check_clicked(self):
        self.check = None
        self.check_summary.setText("Checking…")
        self.check_table.show_rows([])
        self.gradient_check_requested.emit(*self.neuron)

    def __repr__(self):
        return f"BackpropPanel(neuron={self.neuron})"
