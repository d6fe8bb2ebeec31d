"""nncli gradcheck CONFIG: backpropagation against central finite differences, per layer."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, List

import typer

from .common import reporting


def gradcheck_command(
    config: Annotated[Path, typer.Argument(metavar="CONFIG", help="YAML config file.", show_default=False)],
    tolerance: Annotated[float, typer.Option("--tolerance", metavar="T", help="Largest relative error that passes.")] = 1e-6,
    batch: Annotated[int, typer.Option("--batch", metavar="K", help="Check on the first K training rows.")] = 8,
    set_: Annotated[List[str], typer.Option("--set", metavar="KEY=VALUE",
                                            help="Override a config key, as in nncli train (repeatable).")] = [],
) -> None:
    """Compare backprop's ∂L/∂W and ∂L/∂b with finite differences (float64); exit 1 above the tolerance."""
    with reporting():
        from ..config.schema import load_config
        from ..errors import CheckFailed
        from ..inspect.gradcheck import gradcheck
        from .render import Out

        cfg = load_config(config, list(set_))
        result = gradcheck(cfg, tolerance=tolerance, batch=batch)
        render(result, Out())
        if not result.passed:
            w = result.worst
            raise CheckFailed(f"{config}: gradcheck failed: {w.name} relative error {w.error:.3e} > tolerance "
                              f"{result.tolerance:g} — backpropagation disagrees with finite differences there")


def render(r, out) -> None:
    from .render import num

    out.title(f"gradcheck {r.name}: network {r.architecture} · loss {r.loss_name} · float64")
    out.line(f"central differences (L(θ+ε) − L(θ−ε))/2ε, ε = {r.epsilon:g}, on the first {r.batch} training rows "
             f"(L = {num(r.loss)})", indent=0)
    out.line("relative error = ‖numerical − backprop‖ / (‖numerical‖ + ‖backprop‖)", indent=0)
    rows = []
    for a in r.arrays:
        status = ("ok (≈ 0)" if a.at_noise_level else "ok") if a.ok else "FAIL"
        checked = f"{a.checked}" + (f" (+{a.skipped} at a kink)" if a.skipped else "")
        rows.append([a.name, "×".join(map(str, a.shape)), checked, f"{a.norm:.3e}", f"{a.error:.3e}",
                     status])
    out.line("")
    out.table(["array", "shape", "entries", "‖∂L/∂θ‖", "rel. error", ""], rows)
    out.line("")
    if r.passed:
        out.line(f"passed: every relative error ≤ {r.tolerance:g} (worst {r.worst.error:.3e}, {r.worst.name})"
                 + ("; arrays marked ≈ 0 have gradients at rounding level" if any(a.at_noise_level for a in r.arrays) else ""),
                 "good", indent=0)
    else:
        out.line(f"FAILED: {sum(not a.ok for a in r.arrays)} array(s) above {r.tolerance:g}", "bad",
                 indent=0)
