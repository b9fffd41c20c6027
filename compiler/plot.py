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


def plot_errors(points: list[tuple[str, float]], path: Path, title: str, tolerance: float,
                first: str | None) -> None:
    """`mobilec diff --plot`: each compared tensor's max|diff|/max|ref| against its depth
    (its place in graph order), log scale: how the error grows through the network."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise MobilecError("--plot needs matplotlib (pip install matplotlib)") from None
    fig, ax = plt.subplots(figsize=(12, 5), dpi=110)
    floor = 1e-10  # exact agreement drawn at the floor: a log scale has no 0
    ys = [max(rel, floor) if rel == rel else 1e3 for _, rel in points]
    ax.semilogy(range(len(ys)), ys, marker=".", linewidth=0.6, markersize=3,
                label="max|diff| / max|ref|")
    ax.axhline(tolerance, color="red", linewidth=1, linestyle="--",
               label=f"tolerance {tolerance:.1e}")
    if first is not None:
        k = [n for n, _ in points].index(first)
        ax.axvline(k, color="orange", linewidth=1, label=f"first divergence: {first}"[:80])
    ax.set_xlabel("depth (compared tensors in graph order)")
    ax.set_ylabel("relative error vs onnxruntime")
    ax.set_title(title)
    ax.legend(loc="best", fontsize="small")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
