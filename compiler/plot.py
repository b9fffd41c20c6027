"""Draw a memory plan: each arena buffer a rectangle, step (x) against offset (y)."""
from __future__ import annotations

from pathlib import Path

from .errors import MobilecError
from .planner import Plan


def plot_plan(plan: Plan, path: Path, title: str) -> None:
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        from matplotlib.patches import Rectangle
    except ImportError:
        raise MobilecError("--plot needs matplotlib (pip install matplotlib)") from None
    fig, ax = plt.subplots(figsize=(12, 6), dpi=110)
    mib = 1024 * 1024
    cmap = plt.get_cmap("tab20")
    steps = max((b.last for b in plan.buffers), default=0) + 1
    for k, b in enumerate(plan.buffers):
        ax.add_patch(Rectangle((b.first, b.offset / mib), b.last - b.first + 1, b.size / mib,
                               facecolor=cmap(k % 20), edgecolor="black", linewidth=0.3))
    ax.axhline(plan.arena_bytes / mib, color="red", linewidth=1,
               label=f"arena {plan.arena_bytes / mib:.2f} MiB")
    ax.axhline(plan.lower_bound / mib, color="blue", linestyle="--", linewidth=1,
               label=f"lower bound {plan.lower_bound / mib:.2f} MiB")
    ax.set_xlim(0, max(steps, 1))
    ax.set_ylim(0, max(plan.arena_bytes / mib * 1.08, 1e-3))
    ax.set_xlabel("kernel step")
    ax.set_ylabel("arena offset (MiB)")
    ax.set_title(title)
    ax.legend(loc="upper right")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
