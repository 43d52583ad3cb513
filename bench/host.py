"""The host a benchmark ran on: sessions land on different CPUs, and the speed ratios (bf16
above all: in hardware or emulated) depend on it."""

from __future__ import annotations

import os
import platform
from pathlib import Path

CPUINFO = Path("/proc/cpuinfo")
BF16_FLAGS = ("amx_bf16", "avx512_bf16")


def _cpuinfo(field: str) -> list[str]:
    """The values of ``field``, one per CPU, or none where /proc/cpuinfo cannot be read."""
    try:
        lines = CPUINFO.read_text().splitlines()
    except OSError:
        return []
    pairs = (line.split(":", 1) for line in lines if ":" in line)
    return [value.strip() for key, value in pairs if key.strip() == field]


def cpu_description() -> str:
    names = _cpuinfo("model name")
    model = names[0] if names else platform.processor() or platform.machine()
    return f"{model} x {os.cpu_count()} CPUs, {platform.machine()}"


def bf16_hardware() -> str:
    """The CPU flags that make bf16 fast (AMX tiles, AVX-512 BF16), or a line saying none."""
    flags = _cpuinfo("flags")
    if not flags:
        return "CPU flags unknown"
    found = [flag for flag in BF16_FLAGS if flag in flags[0].split()]
    return f"CPU has {', '.join(found)}" if found else "CPU has neither amx_bf16 nor avx512_bf16"
