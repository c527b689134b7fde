#!/usr/bin/env python3
"""Which failed tests of a sanitizer run failed only because LeakSanitizer's own
tracer crashed at exit.

LeakSanitizer stops the process's threads with a ptrace-based tracer before it
scans for leaks; that tracer sometimes segfaults at exit ("Tracer caught signal
11 ... LeakSanitizer has encountered a fatal error"), after every test of the
binary has passed. It is a known flake of the sanitizer runtime, not a leak
report (google/sanitizers#1353, #1170). scripts/test reruns such tests once.

Usage: lsan_tracer_flakes.py JUNIT_XML
Prints the names of the failed tests whose output carries that signature, one
per line, and exits 0 when every failed test is one of them; exits 1 (naming
the others on stderr) when some test failed for another reason.
"""

import sys
import xml.etree.ElementTree as ET

SIGNATURE = ("Tracer caught signal", "LeakSanitizer has encountered a fatal error")
# A test that also failed by itself (Qt Test, GoogleTest, a sanitizer report) is
# not retried: its failure is real.
FAILURE_MARKS = ("FAIL!  :", "[  FAILED  ]", "ERROR: LeakSanitizer: detected memory leaks",
                 "ERROR: AddressSanitizer", "runtime error:")


def main(path: str) -> int:
    root = ET.parse(path).getroot()
    flakes, others = [], []
    for case in root.iter("testcase"):
        if case.get("status") not in ("fail", "failed") and case.find("failure") is None:
            continue
        out = "".join(node.text or "" for node in case.iter("system-out"))
        name = case.get("name", "?")
        failed_inside = any(m in out for m in FAILURE_MARKS)
        if all(s in out for s in SIGNATURE) and not failed_inside:
            flakes.append(name)
        else:
            others.append(name)
    for name in others:
        print(f"lsan_tracer_flakes: {name} failed for another reason", file=sys.stderr)
    for name in flakes:
        print(name)
    return 1 if others else 0


if __name__ == "__main__":
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    sys.exit(main(sys.argv[1]))
