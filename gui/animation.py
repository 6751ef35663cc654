"""Animations to share: a panel, or the whole window, across the Timeline's saved weights or a span
of live training, written as an animated GIF (Pillow) or an MP4 (H.264 through PyAV, optional).

Frames are the panel itself: each saved step's snapshot (the one the Timeline shows when scrubbed
there) is offered to the panel, which draws it as it always does, and the widget is grabbed
(``QWidget.grab``). A caption under each frame names the step. The work runs on the GUI thread a
frame per timer tick (drawing must happen there anyway), so the window stays responsive, a
progress dialog moves and Cancel stops between two frames; the MP4 is encoded as frames come, the
GIF's frames are kept as 8-bit palette images (one byte a pixel) and written at the end.
"""
from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np
from PyQt6.QtCore import QObject, QRect, Qt, QTimer, pyqtSignal
from PyQt6.QtGui import QColor, QFont, QImage, QPainter
from PyQt6.QtWidgets import (QApplication, QButtonGroup, QComboBox, QDialog, QDialogButtonBox, QFormLayout,
                             QHBoxLayout, QLabel, QProgressDialog, QRadioButton, QSpinBox, QWidget)

from core.atomic import PART_SUFFIX, atomic_write
from core.snapshot import Snapshot

MAX_FRAMES = 1000
MAX_FPS = 60
MAX_SIDE = 1920              # px: a larger frame (a 2× whole window) is scaled down to this width
MAX_GIF_BYTES = 400 * 2**20  # palette frames kept for a GIF at most (one byte a pixel)
CAPTION_PX = 22              # the caption strip under each frame
SETTLE_TIMEOUT = 20.0        # s a panel may take to draw a frame's step (its maths runs off the GUI thread)
SETTLE_POLL_MS = 5
WHOLE_WINDOW = "Whole window"


class ExportError(Exception):
    """An animation cannot be made as asked; the message is one line for the person."""


# --- frames ----------------------------------------------------------------------------------
def qimage_to_rgb(image: QImage) -> np.ndarray:
    """(H, W, 3) uint8 RGB copy of ``image``."""
    image = image.convertToFormat(QImage.Format.Format_RGB888)
    w, h, stride = image.width(), image.height(), image.bytesPerLine()
    buffer = np.frombuffer(image.constBits().asstring(stride * h), dtype=np.uint8).reshape(h, stride)
    return buffer[:, :w * 3].reshape(h, w, 3).copy()


def grab_rgb(widget: QWidget, caption: str | None = None, max_side: int = MAX_SIDE) -> np.ndarray:
    """The widget as it is drawn now, as (H, W, 3) uint8, with ``caption`` in a strip below it;
    scaled down to ``max_side`` px wide when larger. Sizes are made even (H.264 needs them so)."""
    image = widget.grab().toImage()
    if image.width() > max_side:
        image = image.scaledToWidth(max_side, Qt.TransformationMode.SmoothTransformation)
    if caption is not None:
        image = with_caption(image, caption)
    rgb = qimage_to_rgb(image)
    return rgb[:rgb.shape[0] // 2 * 2, :rgb.shape[1] // 2 * 2]


def with_caption(image: QImage, text: str) -> QImage:
    """``image`` with a white strip below it holding ``text`` (which step a frame shows)."""
    out = QImage(image.width(), image.height() + CAPTION_PX, QImage.Format.Format_RGB888)
    out.fill(QColor("white"))
    painter = QPainter(out)
    painter.drawImage(0, 0, image)
    font = QFont()
    font.setPixelSize(CAPTION_PX - 8)
    painter.setFont(font)
    painter.setPen(QColor(40, 40, 40))
    painter.drawText(QRect(6, image.height(), image.width() - 12, CAPTION_PX),
                     Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft, text)
    painter.end()
    return out


def evenly_chosen(items: list, count: int) -> list:
    """``count`` of ``items`` spread evenly from the first to the last (all when there are fewer)."""
    if count >= len(items):
        return list(items)
    if count < 2:
        return list(items[-1:])
    picks = np.unique(np.round(np.linspace(0, len(items) - 1, count)).astype(int))
    return [items[i] for i in picks]


def timeline_snapshots(latest: Snapshot, entries, count: int) -> list:
    """The snapshots the Timeline shows at ``count`` evenly chosen saved ``entries`` (its own
    historical_snapshot: the saved weights with the probe digit's z, a and δ recomputed)."""
    from core.past import historical_snapshot
    return [historical_snapshot(latest, e) for e in evenly_chosen(list(entries), count)]


def draw_now(panel, snapshot: Snapshot) -> None:
    """Have ``panel`` draw ``snapshot`` at once, as it would on screen (pacing skipped)."""
    panel.show_snapshot(snapshot)
    if getattr(panel, "_dirty", False):
        panel._draw()
    QApplication.sendPostedEvents()     # layout requests of the items just changed


def render_panel(panel, snapshot: Snapshot, caption: str | None = None) -> np.ndarray:
    """``panel`` drawing ``snapshot``, grabbed as RGB."""
    draw_now(panel, snapshot)
    return grab_rgb(panel, caption)


def quantised(rgb: np.ndarray):
    """A PIL palette image of ``rgb``: 256 colours, fast octree, no dithering (deterministic)."""
    from PIL import Image
    return Image.fromarray(rgb).quantize(256, method=Image.Quantize.FASTOCTREE, dither=Image.Dither.NONE)


# --- writers ---------------------------------------------------------------------------------
class GifWriter:
    """Collects palette frames and writes the animated GIF on ``close`` (Pillow)."""

    def __init__(self, path, fps: float, expected_frames: int):
        try:
            import PIL.Image  # noqa: F401
        except ImportError as e:
            raise ExportError("GIF export needs Pillow: pip install pillow (or export an MP4)") from e
        self.path, self.fps, self.expected = Path(path), float(fps), int(expected_frames)
        self.frames: list = []
        self.size = None

    def add(self, rgb: np.ndarray) -> None:
        if self.size is None:
            self.size = rgb.shape[1], rgb.shape[0]
            need = self.size[0] * self.size[1] * self.expected
            if need > MAX_GIF_BYTES:      # checked before the frames pile up
                raise ExportError(f"{self.expected} frames of {self.size[0]}×{self.size[1]} px need "
                                  f"{need / 2**20:.0f} MB for a GIF (at most {MAX_GIF_BYTES // 2**20} MB): "
                                  f"take fewer frames, a smaller panel, or MP4")
        self.frames.append(quantised(self._fit(rgb)))

    def _fit(self, rgb):
        w, h = self.size
        return rgb if rgb.shape[:2] == (h, w) else _padded(rgb, w, h)

    def close(self) -> Path:
        if not self.frames:
            raise ExportError("no frames to write")
        first, *rest = self.frames
        with atomic_write(self.path) as f:     # a crash or a full disk never leaves half a GIF
            first.save(f, format="GIF", save_all=True, append_images=rest, duration=round(1000 / self.fps),
                       loop=0, optimize=False)
        self.frames = []
        return self.path

    def abort(self) -> None:
        self.frames = []


class Mp4Writer:
    """Encodes frames to H.264 (yuv420p, for every player) as they come, through PyAV."""

    def __init__(self, path, fps: float, expected_frames: int = 0):
        try:
            import av
        except ImportError as e:
            raise ExportError("MP4 export needs PyAV: pip install av (or export a GIF)") from e
        from fractions import Fraction
        self.av, self.path, self.fps = av, Path(path), float(fps)
        self.rate = Fraction(round(float(fps) * 1000), 1000).limit_denominator(1000)
        self.container = None
        self.stream = None
        self.size = None
        self.part = None                  # the file being written, renamed onto ``path`` on close

    def add(self, rgb: np.ndarray) -> None:
        if self.container is None:
            h, w = rgb.shape[:2]
            self.size = w, h
            # written beside the destination and renamed on close: a crash never leaves half a video
            self.part = self.path.with_name(self.path.name + PART_SUFFIX)
            self.container = self.av.open(str(self.part), mode="w", format="mp4")
            codec = "libx264" if "libx264" in self.av.codecs_available else "h264"
            self.stream = self.container.add_stream(codec, rate=self.rate)
            self.stream.width, self.stream.height, self.stream.pix_fmt = w, h, "yuv420p"
            self.stream.options = {"crf": "20"}
        w, h = self.size
        rgb = rgb if rgb.shape[:2] == (h, w) else _padded(rgb, w, h)
        frame = self.av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb), format="rgb24")
        for packet in self.stream.encode(frame):
            self.container.mux(packet)

    def close(self) -> Path:
        if self.container is None:
            raise ExportError("no frames to write")
        for packet in self.stream.encode():
            self.container.mux(packet)
        self.container.close()
        self.container = None
        os.replace(self.part, self.path)
        return self.path

    def abort(self) -> None:
        if self.container is not None:
            self.container.close()
            self.container = None
        if self.part is not None:
            self.part.unlink(missing_ok=True)


def _padded(rgb: np.ndarray, w: int, h: int) -> np.ndarray:
    """``rgb`` cropped or padded with white to w × h (a window resized during a live recording)."""
    out = np.full((h, w, 3), 255, dtype=np.uint8)
    hh, ww = min(h, rgb.shape[0]), min(w, rgb.shape[1])
    out[:hh, :ww] = rgb[:hh, :ww]
    return out


def check_request(path, fps: float, frames: int) -> str:
    """The suffix (".gif" or ".mp4") of a sensible request; ExportError naming what is wrong."""
    suffix = Path(path).suffix.lower()
    if suffix not in (".gif", ".mp4"):
        raise ExportError(f"{Path(path).name}: save an animation as .gif or .mp4, not {suffix or 'no suffix'}")
    if not 0 < float(fps) <= MAX_FPS:
        raise ExportError(f"frames per second must be above 0 and at most {MAX_FPS}, not {fps}")
    if not 1 <= int(frames) <= MAX_FRAMES:
        raise ExportError(f"an animation has 1 to {MAX_FRAMES} frames, not {frames}")
    folder = Path(path).parent
    if not folder.is_dir():           # said now, not after every frame has been drawn
        raise ExportError(f"{folder} is not a folder: choose where the animation goes")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise ExportError(f"{folder}: this account may not write there; choose another folder")
    return suffix


def writer_for(path, fps: float, frames: int):
    """A GifWriter or Mp4Writer by the suffix of ``path``; ExportError for anything else."""
    if check_request(path, fps, frames) == ".gif":
        return GifWriter(path, fps, frames)
    return Mp4Writer(path, fps, frames)


# --- the export, a frame per timer tick ------------------------------------------------------
class AnimationExport(QObject):
    """Writes ``target`` (a panel, or the window) to ``path`` frame by frame.

    ``snapshots``: the Timeline's past snapshots to draw, in order; with ``live_frames`` instead,
    the next ``live_frames`` live snapshots as the window shows them (``live`` is a signal emitted
    after the panels drew each one: MainWindow.snapshot_shown). A panel draws each past snapshot
    itself; the whole window shows it through ``view.set_past`` (every panel that follows the
    Timeline), and is put back as it was afterwards. A panel whose drawing waits for maths off the
    GUI thread says so with a ``busy_drawing`` property (and answers at once while its ``exporting``
    is True); the frame is grabbed once no panel shown is busy. Signals: ``progress(done, total)``,
    ``finished(path)``, ``failed(message)`` (also after ``cancel()``: "cancelled")."""

    progress = pyqtSignal(int, int)
    finished = pyqtSignal(str)
    failed = pyqtSignal(str)

    def __init__(self, target: QWidget, path, fps: float = 10, snapshots=None, live_frames: int = 0,
                 live=None, view=None, name: str = "", parent=None):
        super().__init__(parent)
        self.target, self.view, self.name = target, view, name or getattr(target, "title", "window")
        self.snapshots = list(snapshots or [])
        self.live_frames, self.live = int(live_frames), live
        self.total = len(self.snapshots) if not self.live_frames else self.live_frames
        self.writer = writer_for(path, fps, max(self.total, 1))
        if not self.total:
            raise ExportError("no saved weights to animate yet: train a while first (the Timeline keeps them)")
        self.done = 0
        self.running = False
        self._grabbed_at = -float("inf")
        self._restore = view.past if view is not None else None
        self._timer = QTimer(self, singleShot=True, interval=0)
        self._timer.timeout.connect(self._next)
        self._settle_timer = QTimer(self, singleShot=True, interval=SETTLE_POLL_MS)
        self._settle_timer.timeout.connect(self._settle)
        self._offered_at = 0.0

    @property
    def panels(self) -> list:
        """The panels drawn into the frames: the target, or every panel of the window."""
        return list(self.target.panels.values()) if self.whole_window else [self.target]

    def _set_exporting(self, on: bool) -> None:
        for panel in self.panels:
            if hasattr(panel, "exporting"):
                panel.exporting = on

    def busy(self) -> list:
        """Titles of the panels still computing what they are to draw."""
        return [getattr(p, "title", "panel") for p in self.panels
                if getattr(p, "busy_drawing", False) and (not self.whole_window or p.isVisible())]

    @property
    def whole_window(self) -> bool:
        return not hasattr(self.target, "show_snapshot")

    def start(self) -> None:
        self.running = True
        if self.live_frames:
            self.live.connect(self._on_live)
            return
        self._set_exporting(True)
        if not self.whole_window:
            # a panel drawn for the first time lays its items out while drawing: the first frame is
            # taken once it has settled, as a person would see it
            draw_now(self.target, self.snapshots[0])
            QApplication.processEvents()
        self._timer.start()

    def cancel(self) -> None:
        if self.running:
            self._end()
            self.writer.abort()
            self.failed.emit("cancelled")

    def _on_live(self, snapshot) -> None:
        """A live snapshot was drawn: grab it, at most ``fps`` times a second (the animation then
        plays at the speed training ran)."""
        now = time.monotonic()
        if now - self._grabbed_at < 1 / self.writer.fps * 0.98 or not self.running:
            return
        self._grabbed_at = now
        self._add(grab_rgb(self.target, self._caption(snapshot)))

    def _next(self) -> None:
        """Offer the next frame's snapshot; it is grabbed once drawn (``_settle``)."""
        if not self.running:
            return
        snapshot = self.snapshots[self.done]
        if self.whole_window:
            self.view.set_past(snapshot)
        else:
            draw_now(self.target, snapshot)
        self._offered_at = time.monotonic()
        self._settle()

    def _settle(self) -> None:
        """Grab the frame once no panel is still computing it (polling; the GUI stays live)."""
        if not self.running:
            return
        busy = self.busy()
        if busy:
            if time.monotonic() - self._offered_at > SETTLE_TIMEOUT:
                self._end()
                self.writer.abort()
                step = self.snapshots[self.done].step
                self.failed.emit(f"the {', '.join(busy)} panel did not finish drawing step {step:,} in "
                                 f"{SETTLE_TIMEOUT:.0f} s; nothing was written")
                return
            self._settle_timer.start()
            return
        QApplication.sendPostedEvents()
        rgb = grab_rgb(self.target, self._caption(self.snapshots[self.done]))
        if self._add(rgb) and self.running:
            self._timer.start()

    def _caption(self, snapshot) -> str:
        return f"Backprop Lens · {self.name} · step {snapshot.step:,}"

    def _add(self, rgb) -> bool:
        try:
            self.writer.add(rgb)
        except (ExportError, OSError, ValueError) as e:
            self._end()
            self.writer.abort()
            self.failed.emit(str(e))
            return False
        self.done += 1
        self.progress.emit(self.done, self.total)
        if self.done >= self.total:
            self._end()
            try:
                path = self.writer.close()
            except (ExportError, OSError, ValueError) as e:
                self.failed.emit(f"{self.writer.path}: {e}")
                return False
            self.finished.emit(str(path))
            return False
        return True

    def _end(self) -> None:
        """Stop taking frames; put the window (or the panel) back to what it showed."""
        self.running = False
        self._timer.stop()
        self._settle_timer.stop()
        if not self.live_frames:
            self._set_exporting(False)
        if self.live_frames:
            try:
                self.live.disconnect(self._on_live)
            except TypeError:
                pass
        elif self.whole_window:
            self.view.set_past(self._restore)
        elif self.view is not None:
            shown = self.view.shown(getattr(self.target, "follows_past", False))
            if shown is not None:
                draw_now(self.target, shown)


def run_with_progress(export: AnimationExport, parent: QWidget) -> QProgressDialog:
    """Show ``export``'s progress in a dialog whose Cancel stops it; start it."""
    dialog = QProgressDialog(f"Writing {export.writer.path.name}…", "Cancel", 0, export.total, parent)
    dialog.setWindowTitle("Export animation")
    dialog.setMinimumDuration(0)
    dialog.setAutoClose(True)
    dialog.setAutoReset(False)
    dialog.canceled.connect(export.cancel)
    export.progress.connect(lambda done, total: dialog.setValue(done))
    export.finished.connect(lambda _: dialog.close())
    export.failed.connect(lambda _: dialog.close())
    dialog.show()
    export.start()
    return dialog


class ExportDialog(QDialog):
    """What to animate: a panel of the workspace or the whole window; the Timeline's saved weights
    (how many frames) or the next live snapshots; frames per second."""

    def __init__(self, parent, titles: list, saved: int):
        super().__init__(parent)
        self.setWindowTitle("Export an animation")
        self.target = QComboBox()
        self.target.addItems([*titles, WHOLE_WINDOW])
        self.timeline = QRadioButton(f"the Timeline's saved weights ({saved} saved)")
        self.live = QRadioButton("live training from now on")
        group = QButtonGroup(self)
        for button in (self.timeline, self.live):
            group.addButton(button)
        (self.timeline if saved >= 2 else self.live).setChecked(True)
        self.timeline.setEnabled(saved >= 2)
        self.frames = QSpinBox()
        self.frames.setRange(2, MAX_FRAMES)
        self.frames.setValue(max(2, min(saved, 100)) if saved >= 2 else 100)
        self.fps = QSpinBox()
        self.fps.setRange(1, MAX_FPS)
        self.fps.setValue(10)
        form = QFormLayout(self)
        form.addRow("Show:", self.target)
        form.addRow("Across:", self.timeline)
        form.addRow("", self.live)
        frames_row = QHBoxLayout()
        frames_row.addWidget(self.frames)
        frames_row.addWidget(QLabel("frames at"))
        frames_row.addWidget(self.fps)
        frames_row.addWidget(QLabel("per second"))
        form.addRow("Frames:", frames_row)
        form.addRow(QLabel("GIF (Pillow) or MP4 (PyAV): chosen by the file name next."))
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def choice(self) -> dict:
        return {"target": self.target.currentText(), "live": self.live.isChecked(),
                "frames": self.frames.value(), "fps": self.fps.value()}


def export_from_window(window, target: str, path, frames: int, fps: float, live: bool) -> AnimationExport:
    """An AnimationExport of panel ``target`` (or WHOLE_WINDOW) of ``window`` across the Timeline's
    saved weights (``frames`` of them, evenly chosen) or the next ``frames`` live snapshots."""
    check_request(path, fps, frames)
    widget = window if target == WHOLE_WINDOW else window.panels.get(target)
    if widget is None:
        raise ExportError(f"there is no panel called {target!r}")
    if widget is not window:
        dock = widget.dock()
        if dock is not None and dock.isHidden():
            raise ExportError(f"the {target} panel is not in this workspace: open its workspace first")
        widget.bring_forward()     # a tab behind another is not drawn
    if live:
        return AnimationExport(widget, path, fps, live_frames=frames, live=window.snapshot_shown,
                               view=window.view, name=target, parent=window)
    if widget is not window and not getattr(widget, "follows_past", False):
        raise ExportError(f"the {target} panel does not show saved weights: record it during live training")
    timeline = window.panels.get("Timeline")
    latest = getattr(timeline, "latest", None)
    if timeline is None or latest is None or len(timeline.timeline) < 2:
        raise ExportError("no saved weights to animate yet: train a while first (the Timeline keeps them)")
    snapshots = timeline_snapshots(latest, timeline.timeline.entries, frames)
    return AnimationExport(widget, path, fps, snapshots=snapshots, view=window.view, name=target, parent=window)
