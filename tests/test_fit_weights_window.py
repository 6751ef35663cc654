"""Issue 12 in the real window: the Weights workspace shows the weight tiles at 2× or more at common
screen sizes, and a neuron selected in one panel is highlighted in the Weights and Network panels."""
import json

import pytest
from PyQt6.QtCore import Qt

from screens import run_on_screen
from test_window import window  # noqa: F401  (a fixture)

MEASURE = r'''
w = MainWindow({"hidden": json.loads(sys.argv[2])}, data=small_data())
w.show(); pump(0.6)
out = {}
for name in ("Overview", "Weights"):
    w.show_workspace(name); pump(0.4)
    m = w.panels["Weights"].mosaic
    out[name] = {"tile": m.on_screen_tile_size(), "scale": m.scale, "scrolls": m.scrolls}
print(json.dumps(out))
w.close()
'''


def measure(tmp_path, width, height, hidden) -> dict:
    return run_on_screen(tmp_path, MEASURE, width, height, 1.0, json.dumps(hidden))


@pytest.mark.parametrize("width, height", [(1366, 768), (1920, 1080)])
def test_weights_workspace_shows_tiles_at_2x_or_more(tmp_path, width, height):
    result = measure(tmp_path, width, height, [128, 64])
    for name, least in (("Weights", 56), ("Overview", 28)):
        tile, scale = result[name]["tile"], result[name]["scale"]
        assert tile == 28 * scale and tile >= least, (name, result)


def test_a_tile_clicked_in_weights_is_ringed_in_the_network(qtbot, window):  # noqa: F811
    w = window
    weights, network = w.panels["Weights"], w.panels["Network"]
    w.show_workspace("Weights")
    qtbot.waitUntil(lambda: weights.on_screen() and weights.mosaic is not None)
    qtbot.wait(50)
    j = 9
    where = weights.mosaic.tile_centre(j)
    weights.mosaic.scroll.ensureVisible(where.x(), where.y(), 40, 40)
    qtbot.mouseClick(weights.mosaic.canvas.viewport(), Qt.MouseButton.LeftButton, pos=where)
    assert weights.selected == (0, j) and weights.mosaic.selection.isVisible()
    assert network.selected == (0, j)
    w.show_workspace("Overview")
    qtbot.waitUntil(network.on_screen)
    assert len(network.ring.data) == 1
    x, y = network.node_items[0].getData()
    spot = network.ring.data[0]
    assert (spot["x"], spot["y"]) == pytest.approx((x[j], y[j]))
    nodes = network.node_items[0]                   # and back: a node clicked in the Network
    nodes.sigClicked.emit(nodes, [nodes.points()[3]], None)
    assert weights.selected == (0, 3) and weights.mosaic.selected == 3
