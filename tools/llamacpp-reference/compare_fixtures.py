#!/usr/bin/env python3
"""Compare two directories of dump_reference fixtures (e.g. 2 threads vs 1 thread).

For every <name>.json present in both: are the generated ids identical, and what is
the max |logit difference| over the top-10 entries (matched by token id; a token
missing from the other run's top-10 is counted separately) at the steps before the
first divergence of the generated ids.
"""
import json, pathlib, sys

a_dir, b_dir = map(pathlib.Path, sys.argv[1:3])
worst = 0.0
for fa in sorted(a_dir.glob("*.json")):
    fb = b_dir / fa.name
    if not fb.exists():
        continue
    A, B = json.loads(fa.read_text()), json.loads(fb.read_text())
    same_prompt = A["prompt_ids"] == B["prompt_ids"]
    diverge = next((i for i, (x, y) in enumerate(zip(A["generated_ids"], B["generated_ids"])) if x != y), None)
    n = diverge if diverge is not None else len(A["steps"])
    maxd, maxstep, missing, top1_maxd = 0.0, -1, 0, 0.0
    for sa, sb in zip(A["steps"][:n], B["steps"][:n]):
        lb = {t: l for t, l in sb["top"]}
        top1_maxd = max(top1_maxd, abs(sa["top"][0][1] - sb["top"][0][1]))
        for t, l in sa["top"]:
            if t in lb:
                d = abs(l - lb[t])
                if d > maxd:
                    maxd, maxstep = d, sa["step"]
            else:
                missing += 1
    worst = max(worst, maxd)
    print(f"{fa.stem:16s} threads {A['meta']['n_threads']} vs {B['meta']['n_threads']}: "
          f"prompt_ids {'same' if same_prompt else 'DIFFER'}, generated ids "
          f"{'identical' if diverge is None else f'diverge at step {diverge}'}, "
          f"max|d top10 logit| = {maxd:.3g} (step {maxstep}), max|d top1 logit| = {top1_maxd:.3g}, "
          f"top10 membership mismatches = {missing}")
print(f"overall max |d top-10 logit| = {worst:.3g}")
