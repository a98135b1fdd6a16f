"""How SR and SSIM trade against the L-inf budget, on the models of a finished update loop.

`hardening_updates.py` runs each protocol at one budget. This benchmark takes the models one
of its protocols kept in --work after each round (the fine-tuned substitute, the shadows and
the updated attacker) and re-hardens the same test captchas at several L-inf budgets: the
updated attacker's SR against each budget, next to SSIM, shows where the SSIM >= 0.8 proxy
and the SR target meet. It is a probe, not the loop: the models were fitted at the protocol's
own budget, so a protocol run at the chosen budget is the measurement to trust.

    python benchmarks/hardening_linf_sweep.py --work runs/hardening_updates_glyph \\
        --protocol glyph_combined_shadows3 --linf 0.25 0.27 0.28 0.29 0.3
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import torch
from bench_common import REPO_ROOT, command_line, machine_lines, markdown_table, percent, publish
from hardening import ANALYSIS_THREADS, TARGET, Benchmark, console, harden, target_budget
from hardening_updates import mean_ssim, protocol_settings, saved_shadows

from captchalab.adversarial.zoo import CheckpointAttacker, success_rate

HEADERS = ["round", "L-inf", "SR of the updated attacker", "white-box SR", "SSIM"]


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--work", type=Path, required=True, help="hardening_updates.py's --work")
    parser.add_argument("--protocol", required=True, help="a protocol with finished rounds there")
    parser.add_argument("--linf", type=float, nargs="+", default=[0.25, 0.27, 0.28, 0.29, 0.3])
    parser.add_argument("--count", type=int, default=150, help="test captchas per budget")
    parser.add_argument("--scheme", default=TARGET, help="the protected scheme of --work")
    parser.add_argument("--quick", action="store_true", help="--work came from a --quick run")
    parser.add_argument("--out", type=Path, default=None, help="markdown report")
    args = parser.parse_args(argv)
    saved = args.work / "rounds" / f"{args.protocol}.json"
    if not saved.is_file():
        parser.error(f"no finished rounds of {args.protocol} in {args.work} ({saved} is missing)")
    if any(not 0 < eps <= 1 for eps in args.linf):
        parser.error("--linf budgets are on [0, 1] pixels, above 0")
    rounds = json.loads(saved.read_text())
    budget = target_budget(args.quick, args.scheme)
    settings = protocol_settings(budget)[args.protocol]
    torch.set_num_threads(ANALYSIS_THREADS)
    started = time.perf_counter()
    bench = Benchmark(budget, args.work, args.quick)
    images, texts = bench.test_images[: args.count], bench.test_texts[: args.count]
    rows = []
    for number, record in enumerate(rounds, start=1):
        substitute = Path(str(record["substitute"]))
        defence = [substitute, *saved_shadows(record)]
        attacker = CheckpointAttacker(f"updated {number}", Path(str(record["attacker"])))
        white = CheckpointAttacker("substitute", substitute)
        for eps in sorted(args.linf):
            hardened = harden(defence, replace(settings, linf=eps), images, texts, 400 + number)
            rows.append(
                [
                    str(number),
                    f"{eps:g}",
                    percent(success_rate(attacker.read(hardened), texts, False)),
                    percent(success_rate(white.read(hardened), texts, False)),
                    f"{mean_ssim(images, hardened):.3f}",
                ]
            )
            console.print(" | ".join(rows[-1]))
    out = args.out or REPO_ROOT / "benchmarks" / "results" / f"hardening_linf_{args.protocol}.md"
    lines = [
        f"# L-inf budget against SR and SSIM: `{args.protocol}`",
        "",
        f"Command: `{command_line()}`; {(time.perf_counter() - started) / 60:.1f} min wall.",
        "",
        *machine_lines(["torch"]),
        "",
        f"The models `{args.protocol}` kept after each round in `{args.work}` (the fine-tuned "
        f"substitute, {len(saved_shadows(rounds[-1]))} shadow(s), the attacker updated in that "
        f"round); the first {len(texts)} test captchas of `{budget.target}`, re-hardened with "
        f"the protocol's settings ({settings.method}, mask {settings.mask}) at each budget. "
        "A probe on models fitted at the protocol's own budget, not a run of the loop.",
        "",
        *markdown_table(HEADERS, rows),
        "",
    ]
    publish("\n".join(lines), out)


if __name__ == "__main__":
    main()
