"""A/B of two mobilec trees on one model, inside one process.

Each tree's own compiler writes the model's C, which is built with that tree's runtime into
a shared library; a small C harness loads both (dlopen, each library resolving its own
symbols) and alternates their inferences, A then B, B then A, on the same input, each with
its own arena. Prints the medians and the fastest inferences of both, their ratios B/A, and
the largest difference between the two outputs (0 when a change keeps the bits).

Why in one process: on a shared VM the speed of memory-bound code drifts by a quarter for
tens of seconds at a time (ARCHITECTURE.md, "Speed measurement"), so two programs timed
one after the other, even alternating, differ by more than most changes do; alternating
single inferences inside one process puts both through the same drift.

Usage: python tests/models/ab.py OLD_TREE NEW_TREE MODEL.onnx [--model-b MODEL_B.onnx]
       [--target T] [--rounds R]
(a tree: a checkout of mobilec, e.g. `git worktree add /tmp/old HEAD~1`). With --model-b, B
runs that export instead (same inputs and outputs), e.g. a train-form export against its
reparameterized form through one tree; max|B-A| then compares two models' outputs.
"""
from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from compiler.build import cc  # noqa: E402
from compiler.targets import resolve, runs_here  # noqa: E402
from shared_lib import build_shared  # noqa: E402

HARNESS = r"""
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
typedef int (*run_fn)(%(params)s);
static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}
static int cmp(const void *a, const void *b)
{
    const double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}
static const long in_size[] = {%(in_sizes)s}, out_size[] = {%(out_sizes)s};
enum { NIN = %(nin)d, NOUT = %(nout)d };
/* argv: A.so B.so arena_bytes rounds in0.bin ... (the inputs) */
int main(int argc, char **argv)
{
    if (argc != 5 + NIN) return 2;
    const long arena_bytes = atol(argv[3]);
    const int rounds = atoi(argv[4]);
    float *in[NIN], *out[2][NOUT];
    for (int i = 0; i < NIN; i++) {
        FILE *f = fopen(argv[5 + i], "rb");
        in[i] = malloc((size_t)in_size[i] * sizeof(float));
        if (!f || fread(in[i], sizeof(float), (size_t)in_size[i], f) != (size_t)in_size[i]) return 1;
        fclose(f);
    }
    run_fn run[2];
    void *arena[2];
    for (int v = 0; v < 2; v++) {
        void *lib = dlopen(argv[1 + v], RTLD_NOW | RTLD_LOCAL);
        if (!lib) {
            fprintf(stderr, "%%s\n", dlerror());
            return 1;
        }
        *(void **)&run[v] = dlsym(lib, "%(name)s_run");
        if (!run[v]) {
            fprintf(stderr, "%%s: no %(name)s_run\n", argv[1 + v]);
            return 1;
        }
        arena[v] = aligned_alloc(64, (size_t)(arena_bytes + 63) / 64 * 64);
        for (int o = 0; o < NOUT; o++) out[v][o] = malloc((size_t)out_size[o] * sizeof(float));
    }
    double *t[2] = {malloc(sizeof(double) * rounds), malloc(sizeof(double) * rounds)};
    for (int r = -1; r < rounds; r++) { /* round -1: the warm-up (page faults) */
        for (int q = 0; q < 2; q++) {
            const int v = q ^ (r & 1);
            const double t0 = now();
            if (run[v](%(args)s) != 0) return 1;
            if (r >= 0) t[v][r] = (now() - t0) * 1e3;
        }
    }
    double diff = 0;
    for (int o = 0; o < NOUT; o++)
        for (long i = 0; i < out_size[o]; i++) {
            const double d = (double)out[0][o][i] - out[1][o][i];
            if (d > diff || -d > diff) diff = d > 0 ? d : -d;
        }
    for (int v = 0; v < 2; v++) qsort(t[v], rounds, sizeof(double), cmp);
    printf("%%.9g %%.9g %%.9g %%.9g %%.3g\n", t[0][rounds / 2], t[0][0], t[1][rounds / 2], t[1][0],
           diff);
    return 0;
}
"""


def build(tree: Path, model: Path, target: str, out: Path) -> tuple[Path, str]:
    """tree's compiler and runtime: the model as a shared library, and its header's text."""
    if not (tree / "compiler" / "cli.py").is_file() or not (tree / "runtime" / "src").is_dir():
        raise SystemExit(f"ab: {tree}: not a mobilec tree (no compiler/cli.py, runtime/src)")
    out.mkdir(parents=True, exist_ok=True)
    src = out / "ab_model.c"
    proc = subprocess.run([sys.executable, "-m", "compiler.cli", "compile", str(model),
                           "--name", "ab", "--target", target, "-q", "-o", str(src)],
                          cwd=tree, text=True, capture_output=True)
    if proc.returncode != 0:
        raise SystemExit(f"ab: {tree}: compile failed: {proc.stderr.strip()}")
    lib = build_shared("ab", tree, target, out / "ab_model.so", (src,))
    return lib, (out / "ab_model.h").read_text()


def interface(header: str) -> tuple[list[str], list[str], dict[str, int]]:
    """A generated header's inputs, outputs and their sizes in floats."""
    ins = re.findall(r"^ \* input  (\w+):", header, re.M)
    outs = re.findall(r"^ \* output (\w+):", header, re.M)
    size = {n: int(m.group(1)) for n in ins + outs
            if (m := re.search(rf"#define AB_{n.upper()}_SIZE (\d+)", header))}
    return ins, outs, size


def ratio(new: float, old: float) -> str:
    """new / old to four places, or "-" when old timed as 0 (a tiny model's inference)."""
    return f"{new / old:.4f}" if old > 0 else "-"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("old", type=Path, help="tree A (a mobilec checkout)")
    ap.add_argument("new", type=Path, help="tree B")
    ap.add_argument("model", type=Path, help="the .onnx file")
    ap.add_argument("--model-b", type=Path, help="B's .onnx file, when not the same as A's")
    ap.add_argument("--target", default="native")
    ap.add_argument("--rounds", type=int, default=21, help="inferences of each (default 21)")
    args = ap.parse_args()
    if args.rounds < 1:
        raise SystemExit("ab: --rounds must be at least 1")
    if not runs_here(resolve(args.target)):
        raise SystemExit(f"ab: this machine cannot run {args.target} code")
    with tempfile.TemporaryDirectory(prefix="mobilec-ab-") as tmp:
        d = Path(tmp)
        model_b = args.model_b or args.model
        (a, header), (b, header_b) = (build(t.resolve(), m.resolve(), args.target, d / tag)
                                      for t, m, tag in ((args.old, args.model, "a"),
                                                        (args.new, model_b, "b")))
        ins, outs, size = interface(header)
        if interface(header_b) != (ins, outs, size):
            raise SystemExit("ab: the two programs take different inputs or outputs")
        arena = max(int(re.search(r"#define AB_ARENA_BYTES (\d+)", h).group(1))
                    for h in (header, header_b))
        rng = np.random.default_rng(0)
        files = []
        for n in ins:
            files.append(str(d / f"{n}.bin"))
            rng.standard_normal(size[n]).astype("<f4").tofile(files[-1])
        params = ", ".join(["const float *"] * len(ins) + ["float *"] * len(outs) + ["void *"])
        call = ", ".join([f"in[{i}]" for i in range(len(ins))]
                         + [f"out[v][{o}]" for o in range(len(outs))] + ["arena[v]"])
        (d / "harness.c").write_text(HARNESS % {
            "params": params, "args": call, "name": "ab", "nin": len(ins), "nout": len(outs),
            "in_sizes": ", ".join(str(size[n]) for n in ins),
            "out_sizes": ", ".join(str(size[n]) for n in outs)})
        subprocess.run([cc(), "-std=c99", "-O2", "-Wall", "-Wextra", "-Werror",
                        "-D_DEFAULT_SOURCE", "-D_ISOC11_SOURCE", str(d / "harness.c"), "-ldl",
                        "-o", str(d / "harness")], check=True)
        proc = subprocess.run([str(d / "harness"), str(a), str(b), str(arena),
                               str(args.rounds), *files], text=True, capture_output=True)
        if proc.returncode != 0:
            raise SystemExit(f"ab: the harness failed (exit {proc.returncode}): {proc.stderr}")
        med_a, min_a, med_b, min_b, diff = (float(x) for x in proc.stdout.split())
    names = args.model.name + (f" / {model_b.name}" if args.model_b else "")
    print(f"ab: {names} {args.target}, {args.rounds} inferences each: "
          f"A median {med_a:.4g} ms fastest {min_a:.4g} | B median {med_b:.4g} ms fastest "
          f"{min_b:.4g} | B/A median {ratio(med_b, med_a)} fastest {ratio(min_b, min_a)} | "
          f"max|B-A| {diff:.3g}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
