#!/usr/bin/env python3
"""Gemma 3's tokenisation by llama.cpp, for tests/data/reference-gemma3/tokenizer/llama_tokenize.json.

    gemma3_tokenizer_fixture.py LLAMA_TOKENIZE MODEL.gguf COMMIT > tests/data/reference-gemma3/tokenizer/llama_tokenize.json

Runs llama.cpp's own llama-tokenize (built outside this repository, see
tests/data/reference-gemma3/NOTES.md) on every string of
prompts/gemma3/tokenizer_strings.json, each from a file (--no-escape: the text as
it is), with BOS and special-token parsing as llama.cpp's defaults, and writes
the ids. Only the ids are committed, never llama.cpp.
"""
import json
import os
import subprocess
import sys
import tempfile

def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    tool, model, commit = sys.argv[1:]
    here = os.path.dirname(os.path.abspath(__file__))
    with open(os.path.join(here, "prompts", "gemma3", "tokenizer_strings.json"), encoding="utf-8") as f:
        strings = json.load(f)
    cases = []
    for text in strings:
        with tempfile.NamedTemporaryFile("w", encoding="utf-8", delete=False, suffix=".txt") as t:
            t.write(text)
            path = t.name
        try:
            out = subprocess.run([tool, "-m", model, "-f", path, "--ids", "--no-escape", "--log-disable"],
                                 check=True, capture_output=True, text=True).stdout
        finally:
            os.unlink(path)
        line = [l for l in out.splitlines() if l.startswith("[")][-1]
        cases.append({"text": text, "ids": json.loads(line)})
    json.dump({"generator": "tools/llamacpp-reference/gemma3_tokenizer_fixture.py",
               "llama_cpp_commit": commit,
               "command": "llama-tokenize -m " + os.path.basename(model) + " -f TEXT --ids --no-escape --log-disable",
               "add_bos": True, "parse_special": True, "cases": cases},
              sys.stdout, ensure_ascii=False, indent=1)
    sys.stdout.write("\n")

if __name__ == "__main__":
    main()
