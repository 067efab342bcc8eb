"""SDT-BP training step: avs vs a re-statement of the reference's step, alternated in one process.

Same network (avs's ``SequenceGeneratorCNN`` at paper width, a 256-row template table), same batch
(32 windows of 64 frames: mel (32, 80, 427), pose (32, 64, 242)), same threads. The reference step
is re-stated from the paper and its public description, not copied: the generator and the template
table have *separate* Adam optimisers (lr 1e-4); loss = L1(pred, pose) + 0.1·½·mean(−log var_b + μ_b²
+ var_b − 1) over the batch's codes; zero both, backward, step both. The avs step is the plugin's
``generator_loss`` with core's single Adam over every generator parameter (templates included).

Variants of the avs step (levers): ``fused`` (``Adam(fused=True)``: one kernel for the update, no
per-parameter temporaries), ``channels_last`` (the 2-D audio encoder in NHWC), ``deterministic``
(``torch.use_deterministic_algorithms(True)``, what ``Trainer.fit`` turns on for bit-identical resume),
``compile`` (``torch.compile`` of the generator; first call excluded).

Run: .venv/bin/python benchmarks/bench_sdt_step.py [--rounds 5] [--threads 2] [--variants fused channels_last]
"""

from __future__ import annotations

import argparse
import copy
import json
import statistics
import time

import torch
import torch.nn.functional as F


def make(threads: int, num_templates: int = 256):
    from avs.config import build_config
    from avs_sdt.config import SDTConfig
    from avs_sdt.model import build_generator

    torch.set_num_threads(threads)
    cfg = build_config(SDTConfig, overrides=["variant=sdt-bp", f"model.num_templates={num_templates}"])
    torch.manual_seed(0)
    G = build_generator(cfg)
    g = torch.Generator().manual_seed(1)
    batch = {"mel": torch.rand(32, 80, 427, generator=g) * 100, "pose": torch.randn(32, 64, 242, generator=g),
             "template_index": torch.randperm(num_templates, generator=g)[:32]}
    return cfg, G, batch


def reference_step(G: torch.nn.Module, table: torch.nn.Parameter, opt_g, opt_t, batch) -> float:
    code = table[batch["template_index"]]
    pred = G(batch["mel"], batch["pose"].shape[1], code)
    loss = F.l1_loss(pred, batch["pose"])
    var = code.var(dim=0)
    if bool((var != 0).all()):
        loss = loss + 0.1 * 0.5 * (-torch.log(var) + code.mean(dim=0) ** 2 + var - 1).mean()
    opt_g.zero_grad()
    opt_t.zero_grad()
    loss.backward()
    opt_g.step()
    opt_t.step()
    return float(loss.detach())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--variants", nargs="*", default=["fused", "channels_last", "deterministic"],
                        help="levers to measure besides plain avs: fused channels_last deterministic compile")
    args = parser.parse_args()
    from avs_sdt.recipe import generator_loss

    cfg, G0, batch = make(args.threads)

    # reference: separate table and optimisers
    ref = copy.deepcopy(G0)
    table = torch.nn.Parameter(ref.templates.detach().clone())
    del ref.templates
    ref.templates = None  # the table lives outside the network in the reference
    opt_g = torch.optim.Adam([p for p in ref.parameters()], lr=1e-4)
    opt_t = torch.optim.Adam([table], lr=1e-4)

    def ref_step() -> None:
        reference_step(ref, table, opt_g, opt_t, batch)

    steps = {"reference": ref_step}

    def avs_variant(name: str):
        G = copy.deepcopy(G0)
        fused = name == "fused"
        opt = torch.optim.Adam(G.parameters(), lr=1e-4, fused=fused or None)
        b = dict(batch)
        if name == "channels_last":
            G.audio_encoder.to(memory_format=torch.channels_last)
        model = torch.compile(G) if name == "compile" else G

        def step() -> None:
            det = torch.are_deterministic_algorithms_enabled()
            torch.use_deterministic_algorithms(name == "deterministic")
            loss, _ = generator_loss(model, None, b, cfg)
            opt.zero_grad()
            loss.backward()
            opt.step()
            torch.use_deterministic_algorithms(det)
        return G, step

    models = {}
    for name in ["avs", *args.variants]:
        models[name], steps[name] = avs_variant(name)
    for step in steps.values():  # warm-up (and compile)
        step()
    times: dict[str, list[float]] = {name: [] for name in steps}
    for _ in range(args.rounds):
        for name, step in steps.items():
            t0 = time.perf_counter()
            step()
            times[name].append(time.perf_counter() - t0)
    ref_s = statistics.median(times["reference"])
    for name, ts in times.items():
        s = statistics.median(ts)
        print(json.dumps({"bench": "sdt-bp-train-step", "step": name, "threads": args.threads, "batch": 32,
                          "seconds_per_step": round(s, 3), "windows_per_s": round(32 / s, 1),
                          "speed_vs_reference": round(ref_s / s, 3)}), flush=True)
    # parity: after the same number of identical steps, avs and reference weights agree
    reference = dict(ref.named_parameters())
    diff = max(float((p - reference[n]).abs().max()) for n, p in models["avs"].named_parameters() if n in reference)
    print(json.dumps({"bench": "sdt-bp-train-step", "parity_max_abs_weight_diff_avs_vs_reference": diff}))


if __name__ == "__main__":
    main()
