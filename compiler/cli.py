"""The `mobilec` command: export, compile, verify, bench."""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from . import __version__
from .codegen import WEIGHT_FORMATS, c_ident
from .export import MODELS
from .targets import CHOICES
from .errors import MobilecError


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="mobilec",
        description="Ahead-of-time compiler from ONNX MobileCLIP image encoders to C.")
    p.add_argument("--version", action="version", version=f"mobilec {__version__}")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    e = sub.add_parser("export", help="export a MobileCLIP image encoder to ONNX (needs torch, timm)",
                       description="Export a MobileCLIP image encoder from timm's definitions to "
                                   "ONNX, with deterministic random weights or a checkpoint.")
    e.add_argument("model", choices=list(MODELS),
                   help="MCi0-2 (MobileCLIP-S0-S2, 512-d), MCi3/MCi4 (MobileCLIP2-S3/S4, "
                        "768-d) or ViT-B/16 (MobileCLIP-B)")
    e.add_argument("-o", "--output", required=True, help="the .onnx file to write")
    e.add_argument("--resolution", type=int, help="input height and width (default 256 for "
                   "MCi, 224 for ViT-B/16)")
    e.add_argument("--form", choices=["train", "reparam"], default="train",
                   help="train: multi-branch blocks as trained; reparam: the model's own "
                        "reparameterization applied before export (default train)")
    e.add_argument("--exporter", choices=["torchscript", "dynamo"], default="torchscript",
                   help="torch's ONNX exporter (default torchscript)")
    e.add_argument("--checkpoint", help="weights to load instead of random ones: a .pt/.pth "
                   "(torch.save) or .safetensors file in Apple's release layout "
                   "(image_encoder.model.*), OpenCLIP/Hugging Face's (visual.trunk.*) or "
                   "timm's; text-tower keys are ignored, every other key must fit. ViT-B/16 "
                   "is built as Apple defines it for random weights and Apple's files, as "
                   "timm does for OpenCLIP/timm files")
    e.add_argument("--seed", type=int, default=0, help="seed of the random weights and input")
    e.add_argument("--keep-bn", action="store_true",
                   help="keep BatchNormalization unfolded in the export")
    e.add_argument("--opset", type=int, help="ONNX opset (default 17 for torchscript, 18 for dynamo)")
    e.add_argument("--dynamic-batch", action="store_true",
                   help="export the batch dimension as dynamic (compile with --input-shape "
                        "image=Nx3xHxW)")
    e.add_argument("--float16", action="store_true",
                   help="convert the export to float16 as fp16 files are published "
                        "(onnxconverter-common, float32 inputs and outputs); --reference "
                        "still writes the float32 model's float64 output")
    e.add_argument("--reference", action="store_true",
                   help="also write FILE_input.bin and FILE_output_fp64.bin (float64 PyTorch output)")

    def common(sp: argparse.ArgumentParser) -> None:
        sp.add_argument("model", help="the .onnx file")
        sp.add_argument("--name", help="C name prefix, a C identifier (default: from the file "
                        "name, other characters replaced by _)")
        sp.add_argument("--target", choices=CHOICES, default="generic",
                        help="generic (default): portable C99; x86-64-v3: AVX2+FMA; x86-64-v4: "
                             "AVX-512; aarch64: ARMv8-A NEON (on another machine: built with "
                             "aarch64-linux-gnu-gcc, run under qemu-aarch64 -- results, not "
                             "speed); native: the best of those this machine runs")
        sp.add_argument("--input-shape", action="append", metavar="NAME=1x3x256x256",
                        help="static shape for an input with dynamic dimensions (repeatable)")
        sp.add_argument("--weights", choices=WEIGHT_FORMATS, default="auto",
                        help="inline: weights as string literals inside the .c file; incbin: in "
                             "<name>_model.weights beside it, pulled in by the assembler (ELF "
                             "only; build with -Wa,-I,DIR); auto (default): inline up to 192 MB")
        sp.add_argument("--no-optimize", dest="optimize", action="store_false",
                        help="skip the optimizing passes (BatchNorm folding, branch merging, "
                             "pattern recognition, epilogue fusion, row slicing, the "
                             "channels-last layout, MLP fusion, conv-depthwise fusion, copy "
                             "composition): one kernel per ONNX op, NCHW")
        sp.add_argument("-q", "--quiet", action="store_true", help="no progress on stderr")

    c = sub.add_parser("compile", help="compile an ONNX model to <name>_model.c and .h",
                       description="Compile an ONNX model to one C file and its header.")
    common(c)
    c.add_argument("-o", "--output", help="the .c file to write (default "
                   "generated/<name>_model.c); the header is written beside it")
    c.add_argument("--report", action="store_true",
                   help="print each pass's node counts, the kernel calls and the memory plan")
    c.add_argument("--report-json", metavar="FILE", help="write the compile report as JSON")

    v = sub.add_parser("verify", help="compile, build, run and compare with onnxruntime",
                       description="Compile and build the model, run it and onnxruntime (graph "
                                   "optimizations off) on the same inputs and compare every "
                                   "output. Ends with 'verify: PASS' (exit 0) or "
                                   "'verify: FAIL' (exit 1).")
    common(v)
    v.add_argument("--seeds", type=int, default=1, help="random inputs to try (default 1)")
    v.add_argument("--input", help="a raw little-endian float32 input file instead")
    v.add_argument("--expect", help="also compare with this output (raw float32, or float64 "
                   "when its size says so)")
    v.add_argument("--keep", metavar="DIR", help="keep the generated sources and program in DIR")
    v.add_argument("--threads", type=int, default=1,
                   help="run the generated code on N threads of the runtime's pthread pool "
                        "(<name>_run_parallel; default 1)")

    d = sub.add_parser("diff", help="find the first tensor where the C code and onnxruntime "
                       "part ways",
                       description="Compile the model and build it with -DMOBILEC_TRACE (each "
                                   "kernel call hands its outputs to a tracer; product builds "
                                   "are unchanged), run it and onnxruntime (graph optimizations "
                                   "off, every intermediate tensor exposed) on the same input, "
                                   "and compare each ONNX tensor a kernel writes, in ONNX's "
                                   "layout, in graph order. Tensors no kernel writes are listed "
                                   "as fused into the kernel of the first compared tensor after "
                                   "them. Ends with 'diff: no divergence (N tensors compared, M "
                                   "fused)' (exit 0) or 'diff: first divergence at ...' (exit 1).")
    common(d)
    d.add_argument("--input", help="a raw little-endian float32 input file (default: random "
                   "values in [0, 1), seed 0)")
    d.add_argument("--tolerance", type=float, metavar="REL",
                   help="a tensor diverges when max|diff|/max|ref| exceeds this (default 1e-4, "
                        "verify's bar; 8 * 2^-11 for a float16 model)")
    d.add_argument("--reference", choices=["onnxruntime", "float64"], default="onnxruntime",
                   help="what the C code is compared with: onnxruntime (default, graph "
                        "optimizations off) or float64 (onnx's reference evaluator on a float64 "
                        "copy of the model: each row is then an error against exact arithmetic, "
                        "and --isolate gives each kernel's own error)")
    d.add_argument("--isolate", action="store_true",
                   help="run each kernel on the reference's values of its inputs instead of its "
                        "own upstream values: each row shows that kernel's own error")
    d.add_argument("--json", metavar="FILE", help="also write the rows as JSON")
    d.add_argument("--plot", metavar="PNG", help="draw relative error against depth (log "
                   "scale) into this PNG file (needs matplotlib)")
    d.add_argument("--inject", metavar="TENSOR",
                   help="test switch: perturb the output of the kernel that writes TENSOR by "
                        "1%% of its largest magnitude in the trace build; diff must then name "
                        "it as the first divergence")

    pl = sub.add_parser("plan", help="show the static memory plan, optionally as a picture",
                        description="Compile the model and print its memory plan: arena size, "
                                    "lower bound, ratio, the largest tensors.")
    common(pl)
    pl.add_argument("--plot", metavar="PNG", help="draw the memory timeline (buffers as "
                    "rectangles, offset against step) into this PNG file")
    pl.add_argument("--measure", action="store_true",
                    help="also build and run it, and print the peak resident memory of one "
                         "inference beside onnxruntime's (process peak minus a process that "
                         "only imported onnxruntime)")

    b = sub.add_parser("bench", help="time the generated code beside onnxruntime",
                       description="Compile and build the model, then time it and onnxruntime "
                                   "(all graph optimizations on) on the same input in "
                                   "interleaved rounds. Ends with 'bench: NAME mobilec_ms=... "
                                   "onnxruntime_ms=... ratio=... round_ratios=MIN-MAX "
                                   "best_ratio=...' (medians; ratio = mobilec / onnxruntime; "
                                   "then its range over the rounds, and mobilec's fastest "
                                   "round over onnxruntime's), "
                                   "after a line with the target, "
                                   "the multiply-adds per inference and mobilec's GFLOP/s.")
    common(b)
    b.add_argument("--runs", type=int, default=5, help="timed rounds (default 5)")
    b.add_argument("--threads", type=int, default=1,
                   help="threads of both: the generated code on N threads of the runtime's "
                        "pthread pool, onnxruntime with N intra-op threads (default 1)")
    b.add_argument("--onnxruntime-isa", choices=["native", "avx2"], default="native",
                   help="native (default): onnxruntime as installed, with the best kernels "
                        "for this CPU; avx2: a copy of it that takes its AVX2/FMA kernels as on "
                        "a CPU without AVX-512 (made once in the build cache), to compare "
                        "--target x86-64-v3 with what such a CPU would run")
    b.add_argument("--profile", action="store_true",
                   help="also build a profiling version (-DMOBILEC_PROFILE) and print the time, "
                        "share and GFLOP/s of each kind of kernel call")
    b.add_argument("--profile-shapes", action="store_true",
                   help="as --profile, one row per kind of kernel call and its input and "
                        "output shapes (which shapes of a kernel are slow)")
    return p


def _default_name(model: str) -> str:
    return c_ident(Path(model).stem.split(".")[0])


def _print_report(report: dict) -> None:  # type: ignore[type-arg]
    for r in report["passes"]:
        print(f"pass {r['name']}: {r['nodes_before']} -> {r['nodes_after']} nodes")
        print(f"  before: {', '.join(f'{k} {v}' for k, v in r['ops_before'].items())}")
        print(f"  after:  {', '.join(f'{k} {v}' for k, v in r['ops_after'].items())}")
    print(f"kernel calls: {len(report['kernels'])}")
    for i, k in enumerate(report["kernels"]):
        print(f"  {i:4d} {k['op']:<15} {k['node']}  -> {k['outputs']}")
    _print_memory(report)


def _print_memory(report: dict) -> None:  # type: ignore[type-arg]
    lb = report["lower_bound_bytes"]
    ratio = report["arena_bytes"] / lb if lb else 1.0
    print(f"arena: {report['arena_bytes']} bytes, lower bound {lb} bytes, ratio {ratio:.3f}, "
          f"without planning {report['unplanned_bytes']} bytes")
    print(f"  {len(report['inplace'])} kernels write in place; schedule "
          f"{'reordered' if report['rescheduled'] else 'as lowered'} (peak as lowered "
          f"{report['lower_bound_lowered_order_bytes']} bytes)")
    big = sorted(report["plan"], key=lambda b: -b["size"])[:5]
    for b in big:
        print(f"  {b['size']:>10} bytes at {b['offset']:>10}  steps {b['first']}-{b['last']}  "
              f"{b['tensor']}")
    print(f"weights: {report['weights_bytes']} bytes")


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "export":
            from .export import ExportOptions, export
            export(ExportOptions(model=args.model, output=args.output,
                                 resolution=args.resolution, form=args.form,
                                 exporter=args.exporter, checkpoint=args.checkpoint,
                                 seed=args.seed, keep_bn=args.keep_bn, opset=args.opset,
                                 reference=args.reference, dynamic_batch=args.dynamic_batch,
                                 float16=args.float16))
            return 0
        from .frontend import parse_shape_overrides
        shapes = parse_shape_overrides(args.input_shape)
        if args.name is not None and c_ident(args.name) != args.name:
            # Not sanitized silently: '_' and 'é' would both become '_', one set of file
            # names, symbols and header guard for two models.
            raise MobilecError(f"--name '{args.name}' is not a C identifier (ASCII letters, "
                               "digits and _, not starting with a digit)")
        name = args.name or _default_name(args.model)
        if args.command == "compile":
            from .pipeline import compile_file, source_files, write_all
            out = Path(args.output) if args.output else Path("generated") / f"{name}_model.c"
            if out.suffix != ".c" or args.output and args.output.endswith(("/", os.sep)):
                raise MobilecError("-o must name a .c file (the header and weights are "
                                   "written beside it)", path=str(args.output))
            compiled = compile_file(args.model, name, args.target, shapes, quiet=args.quiet,
                                    weights=args.weights, optimize=args.optimize)
            report = compiled.report()
            files = source_files(compiled, out)
            if args.report_json:
                rj = Path(args.report_json)
                if rj.resolve() in {p.resolve() for p in files}:
                    raise MobilecError("--report-json would overwrite a generated source",
                                       path=str(rj))
                files[rj] = json.dumps(report, indent=1) + "\n"
            write_all(files)  # everything or nothing, only now that all of it succeeded
            header = out.with_name(f"{name}_model.h")
            if args.report:
                _print_report(report)
            if not args.quiet:
                print(f"mobilec: wrote {out} and {header} ({len(report['kernels'])} kernel "
                      f"calls, arena {report['arena_bytes']} bytes)", file=sys.stderr)
            return 0
        if args.command == "plan":
            from .pipeline import compile_file
            compiled = compile_file(args.model, name, args.target, shapes, quiet=args.quiet,
                                    weights=args.weights, optimize=args.optimize)
            report = compiled.report()
            _print_memory(report)
            if args.plot:
                from .plot import plot_plan
                plot_plan(compiled.plan, Path(args.plot), f"{name}: memory plan")
                print(f"mobilec: wrote {args.plot}", file=sys.stderr)
            if args.measure:
                from .memory import measure
                m = measure(compiled, args.model)
                print(f"peak RSS: mobilec {m['mobilec_kib'] / 1024:.1f} MiB, onnxruntime "
                      f"{m['onnxruntime_kib'] / 1024:.1f} MiB (process "
                      f"{m['onnxruntime_process_kib'] / 1024:.1f} - import only "
                      f"{m['import_only_kib'] / 1024:.1f}), ratio "
                      f"{m['mobilec_kib'] / max(m['onnxruntime_kib'], 1):.3f}")
            return 0
        if args.command == "bench":
            from .bench import bench
            if args.runs < 1 or args.threads < 1:
                raise MobilecError("--runs and --threads must be at least 1")
            bench(args.model, name=name, target=args.target, runs=args.runs,
                  threads=args.threads, input_shapes=shapes, quiet=args.quiet,
                  weights=args.weights, optimize=args.optimize, profile=args.profile,
                  profile_shapes=args.profile_shapes, onnxruntime_isa=args.onnxruntime_isa)
            return 0
        if args.command == "diff":
            from .diff import diff
            if args.tolerance is not None and not args.tolerance > 0:
                raise MobilecError("--tolerance must be a positive number")
            ok = diff(args.model, name=name, target=args.target, input_file=args.input,
                      input_shapes=shapes, optimize=args.optimize, tolerance=args.tolerance,
                      isolate=args.isolate, json_path=args.json, plot_path=args.plot,
                      inject=args.inject, quiet=args.quiet, weights=args.weights,
                      reference=args.reference)
            return 0 if ok else 1
        if args.command == "verify":
            from .verify import verify
            if args.threads < 1:
                raise MobilecError("--threads must be at least 1")
            ok = verify(args.model, name=name, target=args.target, seeds=args.seeds,
                        input_file=args.input, expect=args.expect, input_shapes=shapes,
                        keep=args.keep, quiet=args.quiet, weights=args.weights,
                        optimize=args.optimize, threads=args.threads)
            return 0 if ok else 1
    except MobilecError as err:
        print(f"mobilec: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("mobilec: interrupted", file=sys.stderr)
        return 130
    return 2


if __name__ == "__main__":
    sys.exit(main())
