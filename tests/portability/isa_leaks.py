#!/usr/bin/env python3
"""No AVX code outside the per-ISA kernels (quant/simd.h).

The binaries run on any x86-64 CPU only if every instruction beyond the
baseline (VEX/EVEX-encoded: AVX, AVX2, FMA, F16C, AVX-512) sits in a function
of an ISA namespace (`...::avx2::...`, `...::avx512::...`) that is called only
after the CPU was checked (util/simd_level.h). An inline or template function
emitted with AVX code in an ISA translation unit and kept by the linker for
generic callers would break that (SIGILL on an older CPU): this test
disassembles every object file of a build and names any such function.

usage: isa_leaks.py BUILD_DIR
"""
import pathlib
import re
import subprocess
import sys

ALLOWED = re.compile(r"::avx2::|::avx512::")
FUNCTION = re.compile(r"^[0-9a-f]+ <(.*)>:$")
# VEX/EVEX instructions: AVX mnemonics start with v and use vector registers;
# any ymm/zmm/mask register is AVX or AVX-512 whatever the mnemonic.
AVX_INSN = re.compile(r"^\s*[0-9a-f]+:\s+(v[a-z0-9]+)\b(.*)$")
WIDE_REG = re.compile(r"%[yz]mm\d+|%k[0-7]\b")


def avx_functions(obj: pathlib.Path):
    """{function: its first AVX instruction} for every function using AVX."""
    out = subprocess.run(["objdump", "-d", "-C", "--no-show-raw-insn", str(obj)],
                         capture_output=True, text=True, check=True).stdout
    function = None
    found = {}
    for line in out.splitlines():
        m = FUNCTION.match(line)
        if m:
            function = m.group(1)
            continue
        if function is None or function in found:
            continue
        a = AVX_INSN.match(line)
        if (a and "mm" in a.group(2)) or WIDE_REG.search(line):
            found[function] = line.strip()
    return found


def main() -> int:
    build = pathlib.Path(sys.argv[1])
    objects = sorted(p for p in build.rglob("*.o") if "CMakeFiles" in p.parts)
    if not objects:
        print(f"isa_leaks: no object files under {build}", file=sys.stderr)
        return 1
    # The detector must see the intended AVX kernels, or a build that lost
    # them (or a disassembler whose syntax changed) would pass trivially.
    isa_functions = 0
    failures = 0
    for obj in objects:
        for function, insn in avx_functions(obj).items():
            if ALLOWED.search(function):
                isa_functions += 1
                continue
            print(f"LEAK: {obj.relative_to(build)}: {function}: {insn}", file=sys.stderr)
            failures += 1
    if isa_functions == 0:
        print("isa_leaks: no AVX code found in the ISA kernels either; the check sees nothing", file=sys.stderr)
        return 1
    if failures:
        print(f"isa_leaks: {failures} function(s) outside the ISA namespaces use AVX instructions", file=sys.stderr)
        return 1
    print(f"isa_leaks: {len(objects)} objects; AVX only in the {isa_functions} functions of the ISA kernels")
    return 0


if __name__ == "__main__":
    sys.exit(main())
