"""Warm start (model.init_from): begin training from another run's weights.

    model:
      init_from: runs/iris                               # every layer; each shape must match
      init_from: {run: runs/iris, layers: [0]}           # only these; the rest as the initializers draw them
      init_from: {run: runs/iris, preprocessing: refit}  # fit the preprocessing on this data instead

By default the source run's feature preprocessing (features, one-hot categories, fill values,
scaling) is reused, so an input means what it meant when those weights were learned; targets and
classes come from the new data. The choice lands in metrics.json under "init_from".
"""

from __future__ import annotations

from .errors import NncliError, RunDirError


def _where(cfg) -> str:
    return f"{cfg.where('model', 'init_from')}: model.init_from"


def source_run(cfg):
    """The run named by model.init_from, loaded and checked as nncli predict loads a run (a
    run.store.StoredRun: config, network, preprocessor, ...), or None without a warm start."""
    init = cfg.model.init_from
    if init is None:
        return None
    from .run import store

    try:
        return store.load(cfg.resolve_path(init.run), _stored_network)
    except NncliError as exc:  # one line: where the config names the run, then what is wrong with it
        raise RunDirError(f"{_where(cfg)}: {exc.message.splitlines()[0]}") from None


def _stored_network(cfg, n_inputs: int):
    """The network a stored run's config.yaml describes, to receive its weights. (Not
    api.build_network: that one applies init_from, and api imports this module.)"""
    import numpy as np

    from .nn.network import LayerSpec, Network

    specs = [LayerSpec(l.units, l.activation, l.dropout, l.initializer) for l in cfg.model.layers]
    return Network(n_inputs, specs, dtype=np.dtype(cfg.training.dtype))


def source_preprocessor(cfg):
    """The preprocessing prepare() should reuse (preprocessing: source), or None (refit, or no
    warm start)."""
    init = cfg.model.init_from
    if init is None or init.preprocessing != "source":
        return None
    return source_run(cfg).preprocessor


def check_layers(cfg, n_inputs: int):
    """Every layer model.init_from takes must exist in both networks and have the run's shape
    (fan_in × units); raises one line naming the layer and both shapes. Returns the source (a
    StoredRun) and the layer indices taken. Runs before training (and in nncli validate)."""
    init = cfg.model.init_from
    source = source_run(cfg)
    sizes = [n_inputs] + [layer.units for layer in cfg.model.layers]
    shapes = list(zip(sizes[:-1], sizes[1:]))
    theirs = [layer.W.shape for layer in source.network.layers]
    chosen = list(range(len(shapes))) if init.layers is None else list(init.layers)
    for i in chosen:
        if i >= len(shapes) or i >= len(theirs):
            raise RunDirError(f"{_where(cfg)}.layers: layer {i} does not exist (this network has {len(shapes)} "
                              f"layers, the run {cfg.resolve_path(init.run)} has {len(theirs)}, counting from 0)")
        if tuple(shapes[i]) != tuple(theirs[i]):
            hint = ("list the layers to take in model.init_from.layers" if init.layers is None
                    else "leave it out of model.init_from.layers")
            raise RunDirError(f"{_where(cfg)}: layer {i} has shape {shapes[i][0]}×{shapes[i][1]} here but "
                              f"{theirs[i][0]}×{theirs[i][1]} in {cfg.resolve_path(init.run)}; {hint}")
    return source, chosen


def load_layers(cfg, network) -> None:
    """Copy the chosen layers of the source run into ``network`` (after its initializers drew
    every weight, so the layers not taken keep their usual start)."""
    source, chosen = check_layers(cfg, network.n_inputs)
    for i in chosen:
        network.layers[i].W[...] = source.network.layers[i].W
        network.layers[i].b[...] = source.network.layers[i].b


def record(cfg) -> dict:
    """What metrics.json records of a warm start: the run (absolute), the layers taken, and
    whether its preprocessing was reused ("source") or refitted ("refit")."""
    init = cfg.model.init_from
    layers = list(range(len(cfg.model.layers))) if init.layers is None else list(init.layers)
    return {"run": str(cfg.resolve_path(init.run).resolve()), "layers": layers, "preprocessing": init.preprocessing}
