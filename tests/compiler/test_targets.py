"""Targets: `native` picks among the targets of this machine's architecture, a target of
another architecture is built with its cross compiler and run under its emulator (the
executable's ELF header says which)."""
from __future__ import annotations

from pathlib import Path

import pytest

from compiler import targets
from compiler.targets import TARGETS, launcher, resolve


@pytest.mark.parametrize("arch,macros,want", [
    ("x86_64", {"__AVX2__", "__FMA__", "__AVX512F__", "__AVX512BW__", "__AVX512DQ__",
                "__AVX512VL__"}, "x86-64-v4"),
    ("x86_64", {"__AVX2__", "__FMA__"}, "x86-64-v3"),
    ("x86_64", {"__SSE2__"}, "generic"),
    ("aarch64", {"__aarch64__", "__ARM_NEON"}, "aarch64"),
    ("riscv64", {"__riscv"}, "generic"),
])
def test_native_picks_the_machines_best(monkeypatch: pytest.MonkeyPatch, arch: str,
                                        macros: set[str], want: str) -> None:
    monkeypatch.setattr(targets, "host_arch", lambda: arch)
    monkeypatch.setattr(targets, "native_macros", lambda: macros)
    assert resolve("native").name == want


def elf(path: Path, machine: int) -> Path:
    head = bytearray(b"\x7fELF" + bytes(60))
    head[18:20] = machine.to_bytes(2, "little")
    path.write_bytes(bytes(head))
    return path


def test_launcher_reads_the_elf_machine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(targets, "host_arch", lambda: "x86_64")
    monkeypatch.setattr(targets.shutil, "which", lambda cmd: f"/usr/bin/{cmd}")
    assert launcher(elf(tmp_path / "x86", 0x3E)) == []
    assert launcher(elf(tmp_path / "arm", 0xB7))[0] == "qemu-aarch64"
    (tmp_path / "script").write_text("#!/bin/sh\n")
    assert launcher(tmp_path / "script") == []
    monkeypatch.setattr(targets, "host_arch", lambda: "aarch64")
    assert launcher(elf(tmp_path / "arm2", 0xB7)) == []


def test_missing_cross_tools_are_named(monkeypatch: pytest.MonkeyPatch) -> None:
    from compiler.errors import MobilecError
    monkeypatch.setattr(targets, "host_arch", lambda: "x86_64")
    monkeypatch.setattr(targets.shutil, "which", lambda cmd: None)
    with pytest.raises(MobilecError, match="aarch64-linux-gnu-gcc .Debian: apt-get install "
                                           "gcc-aarch64-linux-gnu"):
        targets.c_compiler(TARGETS["aarch64"])
    with pytest.raises(MobilecError, match="qemu-aarch64"):
        targets.emulator("aarch64")
    assert not targets.runs_here(TARGETS["aarch64"])
