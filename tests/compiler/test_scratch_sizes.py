"""The compiler sizes each conv, attention and MLP kernel's scratch with the same formula as
the runtime: check the Python copies against the C functions (a mismatch would overflow the
arena)."""
from __future__ import annotations

import itertools
import subprocess
from pathlib import Path

from compiler.build import RUNTIME, cc, runtime_library
from compiler.kernels import (attention_scratch_floats, conv_dw_nhwc_scratch_floats,
                              conv_gemm_nhwc_scratch_floats, conv_gemm_scratch_floats,
                              dwconv_nhwc_scratch_floats, dwconv_scratch_floats,
                              mlp_packed_scratch_floats)

SHAPES = [  # c, oh, ow, kh, kw, sh, sw, groups
    (3, 128, 128, 3, 3, 2, 2, 1), (64, 64, 64, 7, 7, 1, 1, 64), (64, 32, 32, 7, 7, 2, 2, 64),
    (5, 1, 9, 1, 3, 1, 1, 1), (768, 14, 14, 16, 16, 16, 16, 1), (8, 3, 1000, 3, 5, 1, 3, 2),
    (320, 16, 16, 3, 3, 1, 1, 320), (640, 8, 8, 7, 7, 1, 1, 640),  # channel groups of 112, 48
]
ATTENTION = [(197, 197, 64, 64), (64, 64, 32, 32), (5, 300, 7, 9), (300, 5, 3, 40)]  # m, n, d, dv
HIDDEN = [1, 7, 192, 384, 768, 1024, 1025, 3072, 100000]  # mlp_packed's h
# conv_dw_nhwc's c, kh, kw, k, ow, kh2, kw2, sw2
CONV_DW = [(3, 3, 3, 64, 64, 3, 3, 2), (5, 2, 2, 19, 12, 7, 7, 1), (2, 1, 3, 8, 300, 3, 3, 1)]


def test_scratch_formulas_match_the_runtime(tmp_path: Path) -> None:
    calls = []
    for c, oh, ow, kh, kw, sh, sw, g in SHAPES:
        calls.append(f'printf("%ld %ld\\n", mcr_dwconv2d_scratch_floats({oh}, {ow}, {kh}, {kw}, '
                     f'{sh}, {sw}), mcr_conv2d_gemm_scratch_floats({c}, {oh}, {ow}, {kh}, {kw}, '
                     f'{g}));')
        h, wd = oh * sh, ow * sw  # an input these outputs come from
        calls.append(f'printf("%ld %ld\\n", mcr_dwconv2d_nhwc_scratch_floats({c}, {h}, {wd}, '
                     f'{c // g}, {ow}, {kh}, {kw}, {sw}), '
                     f'mcr_conv2d_gemm_nhwc_scratch_floats({c}, {kh}, {kw}));')
    for m, n, d, dv in ATTENTION:
        calls.append(f'printf("%ld\\n", mcr_attention_scratch_floats({m}, {n}, {d}, {dv}));')
    calls += [f'printf("%ld\\n", mcr_mlp_packed_scratch_floats({h}));' for h in HIDDEN]
    calls += [f'printf("%ld\\n", mcr_conv_dw_nhwc_scratch_floats({", ".join(map(str, s))}));'
              for s in CONV_DW]
    src = tmp_path / "sizes.c"
    src.write_text('#include <stdio.h>\n#include "mcr.h"\nint main(void)\n{\n'
                   + "\n".join(calls) + "\nreturn 0;\n}\n")
    exe = tmp_path / "sizes"
    subprocess.run([cc(), "-std=c99", "-I", str(RUNTIME / "include"), str(src),
                    str(runtime_library("generic")), "-lm", "-o", str(exe)], check=True)
    out = subprocess.run([str(exe)], capture_output=True, text=True, check=True).stdout.split()
    want = list(itertools.chain.from_iterable(
        (dwconv_scratch_floats(oh, ow, kh, kw, sh, sw), conv_gemm_scratch_floats(c, oh, ow, kh, kw, g),
         dwconv_nhwc_scratch_floats(c, oh * sh, ow * sw, c // g, ow, kh, kw, sw),
         conv_gemm_nhwc_scratch_floats(c, kh, kw))
        for c, oh, ow, kh, kw, sh, sw, g in SHAPES))
    want += [attention_scratch_floats(m, n, d, dv) for m, n, d, dv in ATTENTION]
    want += [mlp_packed_scratch_floats(h) for h in HIDDEN]
    want += [conv_dw_nhwc_scratch_floats(*s) for s in CONV_DW]
    assert [int(v) for v in out] == want
