"""The settings dock: a pyqtgraph ParameterTree built from core.settings' own field descriptions,
so a new setting appears here without an edit. Values go back through ``Settings`` validation."""
from __future__ import annotations

from pyqtgraph.parametertree import Parameter, ParameterTree
from PyQt6.QtWidgets import QHeaderView

from core.settings import ARCHITECTURE, LIVE, Settings, SettingsError, field_info

GROUP_TITLES = {LIVE: "Training (applies at once)", ARCHITECTURE: "Network (applies on Reset)"}
OPEN_END = 1e-6   # a spin box cannot exclude its end: an open limit stops this far inside


def parse_hidden(text: str) -> list:
    """'100 64' or '100, 64' → [100, 64]; raises SettingsError with a readable message."""
    parts = str(text).replace(",", " ").split()
    try:
        sizes = [int(p) for p in parts]
    except ValueError:
        raise SettingsError(f"hidden sizes must be whole numbers, like '100' or '100 64', not {text!r}") from None
    return list(Settings(hidden=sizes).hidden)


def choice_title(name: str, kind_name: str) -> str:
    """What a person reads for an activation or output/cost name (the object's ``title`` if it has one)."""
    from core.activations import ACTIVATIONS
    from core.costs import COSTS
    registry = COSTS if kind_name == "cost" else ACTIVATIONS
    return getattr(registry.get(name), "title", None) or name


def _child(name: str, value) -> dict:
    """One parameter for the setting ``name``, from its FieldInfo."""
    info = field_info(name)
    spec = dict(name=name, title=info.title, tip=info.help)
    if info.kind == "sizes":
        return {**spec, "type": "str", "value": " ".join(map(str, value))}
    if info.kind == "choice":
        return {**spec, "type": "list", "value": value,
                "limits": {choice_title(c, name): c for c in info.choices}}
    low = info.low + (OPEN_END if info.low_open else 0)
    high = info.high - (OPEN_END if info.high_open else 0)
    kind = "float" if info.kind == "number" else "int"
    ui = {k: v for k, v in info.ui.items() if k in ("step", "dec", "decimals")}
    return {**spec, "type": kind, "value": value, "limits": (low, high), "siPrefix": False, **ui}


def build_parameters(settings: Settings) -> Parameter:
    """The parameter tree's model, filled from ``settings`` (a Settings or a dict of settings)."""
    values = Settings.from_mapping(settings).to_dict() if not isinstance(settings, Settings) else settings.to_dict()
    groups = [dict(name=group, title=GROUP_TITLES[group], type="group",
                   children=[_child(name, values[name]) for name in Settings.fields_in(group)])
              for group in (LIVE, ARCHITECTURE)]
    return Parameter.create(name="settings", type="group", children=groups)


def make_tree(params: Parameter) -> ParameterTree:
    tree = ParameterTree(showHeader=False)
    tree.setParameters(params, showTop=False)
    # Names as wide as they need, values get the rest (so "softmax + cross-entropy" is not cut).
    tree.setIndentation(12)
    header = tree.header()
    header.setStretchLastSection(True)
    header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
    return tree


def read_settings(params: Parameter) -> Settings:
    """The tree's values as Settings; SettingsError (one line) for a value that cannot be used."""
    values = {name: params.child(group, name).value()
              for group in (LIVE, ARCHITECTURE) for name in Settings.fields_in(group)}
    values["hidden"] = parse_hidden(values["hidden"])
    return Settings.from_mapping(values)


def show_settings(params: Parameter, settings: Settings) -> None:
    """Put ``settings`` into the tree (the tree's listeners see values equal to what they have)."""
    values = settings.to_dict()
    for group in (LIVE, ARCHITECTURE):
        for name in Settings.fields_in(group):
            shown = " ".join(map(str, values[name])) if name == "hidden" else values[name]
            if params.child(group, name).value() != shown:
                params.child(group, name).setValue(shown)
