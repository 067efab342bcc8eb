"""SDT-BP training step and 60 s inference: avs vs a re-statement of the reference, alternated in one process.

Same network (avs's ``SequenceGeneratorCNN`` at paper width, a 256-row template table), same batch
(``--batch`` windows of 64 frames, default 32: audio (B, 68266) → mel (B, 80, 427), pose (B, 64, 242)),
same threads. Each step includes its front-end: the mel spectrogram of the batch's audio.

The reference step is re-stated from the paper and from what SpeechDrivesTemplates computes per step
(``core/pipelines/voice2pose.py``, ``core/networks/keypoints_generation/generator.py``), not copied:
the mel spectrogram on the batch's audio inside the step (torchaudio there; ``torch.stft`` and the same
filterbank here); the generator, whose forward also runs its ``CodeMapper`` (seven 256-channel
conv → batch norm → LeakyReLU blocks and a 1×1 conv to 32 channels, fed with Gaussian noise of the
audio features' shape; the output is not used when a template code is given, so it costs time and
changes nothing); the template table and the generator with *separate* Adam optimisers (lr 1e-4);
loss = L1(pred, pose) + 0.1·½·mean(−log var_b + μ_b² + var_b − 1) over the batch's codes; zero both,
backward, step both. (Its per-step de-normalisation and metrics are left out: cheap.)

The avs step is the plugin's ``generator_loss`` with core's single Adam over every generator parameter
(templates included), on mels from :func:`avs_sdt.data.melspectrogram` (numpy, as the data set computes
them). Variants (levers): ``inplace`` (LeakyReLU in place, avs's default until issue 13: it writes into
the view that instance norm returns, so autograd keeps a copy of every activation; now out of place),
``fused`` (``Adam(fused=True)``),
``channels_last`` (the 2-D audio encoder in NHWC), ``deterministic``
(``torch.use_deterministic_algorithms(True)``, as ``Trainer.fit`` did until issue 13: PyTorch then also fills
every new tensor with NaN), ``deterministic_nofill`` (the same without the NaN filling, as ``Trainer.fit``
now), ``compile`` (``torch.compile`` of
the generator; compilation excluded from the timings); ``+`` combines them (``fused+compile``).

Parity (first): after ``--parity-steps`` identical steps on the same batch of 8 (the same numpy mels for
both, so that only the network and optimiser numerics differ), every variant's weights and templates are
compared with the reference's (max absolute difference).

Inference (``--inference``): 60 s of audio, SDT-BP one template code, eval mode, no gradient. The
reference re-stated: its demo runs one window of at most 360 frames (24 s) per forward over that window's
audio (and crops longer audio to a random 24 s); here consecutive 360-frame windows, one forward each,
with the mel in torch and the CodeMapper. avs: :func:`avs_sdt.inference.predict_normalised` (360-frame
windows overlapping by 30 frames, batched, cross-faded), in float32 and with ``infer.dtype=bfloat16``
(bfloat16 autocast; its difference from float32 is printed).

Run: .venv/bin/python benchmarks/bench_sdt_step.py [--rounds 3] [--threads 2] [--variants inplace fused]
     [--inference]
"""

from __future__ import annotations

import argparse
import copy
import json
import statistics
import time

import numpy as np
import torch
import torch.nn.functional as F

SAMPLES_64 = 68266
"""Audio samples of a 64-frame window (the reference's ``int(64 · 16000 / 15)``)."""


def make(threads: int, num_templates: int = 256, batch: int = 32):
    from avs.config import build_config
    from avs_sdt.config import SDTConfig
    from avs_sdt.model import build_generator

    torch.set_num_threads(threads)
    cfg = build_config(SDTConfig, overrides=["variant=sdt-bp", f"model.num_templates={num_templates}"])
    torch.manual_seed(0)
    G = build_generator(cfg)
    g = torch.Generator().manual_seed(1)
    audio = (torch.rand(batch, SAMPLES_64, generator=g) - 0.5) * 0.2
    data = {"audio": audio.numpy(), "pose": torch.randn(batch, 64, 242, generator=g),
            "template_index": torch.randperm(num_templates, generator=g)[:batch]}
    return cfg, G, data


def code_mapper(width: int = 256, code_dim: int = 32) -> torch.nn.Module:
    """The reference's unused noise branch: 7 × (conv1d k3 → batch norm → LeakyReLU 0.2) + 1×1 conv."""
    from avs_sdt.model import ConvNormRelu

    return torch.nn.Sequential(*(ConvNormRelu(1, width, width, "batch") for _ in range(7)),
                               torch.nn.Conv1d(width, code_dim, 1, bias=True))


class TorchMel(torch.nn.Module):
    """Mel power in torch (the reference's torchaudio ``MelSpectrogram``: n_fft 512, win 400, hop 160,
    f_min 55, f_max 7500, 80 mels, power 2, centred), with avs's filterbank."""

    def __init__(self) -> None:
        super().__init__()
        from avs.audio import mel_filterbank

        fb = mel_filterbank(16000, 512, 80, 55.0, 7500.0)
        self.register_buffer("fb", torch.as_tensor(np.asarray(fb), dtype=torch.float32))
        self.register_buffer("window", torch.hann_window(400))

    def forward(self, audio: torch.Tensor) -> torch.Tensor:
        spec = torch.stft(audio, 512, 160, 400, self.window, center=True, pad_mode="reflect", return_complex=True)
        return torch.matmul(self.fb, spec.abs() ** 2)


def reference_forward(G: torch.nn.Module, mapper: torch.nn.Module, mel: torch.Tensor, num_frames: int,
                      code: torch.Tensor) -> torch.Tensor:
    x = G.audio_encoder(mel, num_frames)
    mapper(torch.randn(x.shape))  # computed every forward, unused with a template code
    x = torch.cat([x, code[:, :, None].expand(-1, -1, num_frames)], dim=1)
    return G.decoder(G.unet(x)).transpose(1, 2)


def reference_loss(pred: torch.Tensor, pose: torch.Tensor, code: torch.Tensor) -> torch.Tensor:
    loss = F.l1_loss(pred, pose)
    var = code.var(dim=0)
    if bool((var != 0).all()):
        loss = loss + 0.1 * 0.5 * (-torch.log(var) + code.mean(dim=0) ** 2 + var - 1).mean()
    return loss


def numpy_mels(audio: np.ndarray) -> torch.Tensor:
    from avs_sdt.data import melspectrogram

    return torch.from_numpy(np.stack([melspectrogram(a) for a in audio]))


def build_reference(G0: torch.nn.Module):
    ref = copy.deepcopy(G0)
    table = torch.nn.Parameter(ref.templates.detach().clone())
    del ref.templates
    ref.templates = None  # the table lives outside the network in the reference
    torch.manual_seed(2)
    mapper = code_mapper()
    mel = TorchMel()
    opt_g = torch.optim.Adam([*ref.parameters(), *mapper.parameters()], lr=1e-4)
    opt_t = torch.optim.Adam([table], lr=1e-4)
    return ref, table, mapper, mel, opt_g, opt_t


def avs_variant(G0: torch.nn.Module, cfg, name: str):
    from avs_sdt.recipe import generator_loss

    levers = set(name.split("+")) - {"avs"}
    G = copy.deepcopy(G0)
    if "inplace" in levers:
        for m in G.modules():
            if isinstance(m, torch.nn.LeakyReLU):
                m.inplace = True
    if "channels_last" in levers:
        G.audio_encoder.to(memory_format=torch.channels_last)
    opt = torch.optim.Adam(G.parameters(), lr=1e-4, fused=True if "fused" in levers else None)
    model = torch.compile(G) if "compile" in levers else G

    def step(data) -> None:
        det, fill = torch.are_deterministic_algorithms_enabled(), torch.utils.deterministic.fill_uninitialized_memory
        torch.use_deterministic_algorithms(bool(levers & {"deterministic", "deterministic_nofill"}), warn_only=True)
        torch.utils.deterministic.fill_uninitialized_memory = "deterministic_nofill" not in levers
        batch = {"mel": numpy_mels(data["audio"]), "pose": data["pose"], "template_index": data["template_index"]}
        loss, _ = generator_loss(model, None, batch, cfg)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        torch.use_deterministic_algorithms(det)
        torch.utils.deterministic.fill_uninitialized_memory = fill
    return G, step


def reference_step_fn(ref, table, mapper, mel_fn, opt_g, opt_t, precomputed: bool = False):
    def step(d) -> None:
        code = table[d["template_index"]]
        mel = numpy_mels(d["audio"]) if precomputed else mel_fn(torch.from_numpy(d["audio"]))
        pred = reference_forward(ref, mapper, mel, d["pose"].shape[1], code)
        loss = reference_loss(pred, d["pose"], code)
        opt_g.zero_grad()
        opt_t.zero_grad()
        loss.backward(retain_graph=True)
        opt_t.step()
        opt_g.step()
    return step


def train_steps(args) -> None:
    cfg, G0, data = make(args.threads, batch=args.batch)
    steps = {"reference": reference_step_fn(*build_reference(G0))}
    for name in ["avs", *args.variants]:
        steps[name] = avs_variant(G0, cfg, name)[1]
    for step in steps.values():  # warm-up (and compilation)
        step(data)
    cpu: dict[str, list[float]] = {name: [] for name in steps}
    wall: dict[str, list[float]] = {name: [] for name in steps}
    for _ in range(args.rounds):
        for name, step in steps.items():
            c0, t0 = time.process_time(), time.perf_counter()
            step(data)
            cpu[name].append(time.process_time() - c0)
            wall[name].append(time.perf_counter() - t0)
    ref_cpu, ref_wall = statistics.median(cpu["reference"]), statistics.median(wall["reference"])
    for name in steps:
        c, w = statistics.median(cpu[name]), statistics.median(wall[name])
        print(json.dumps({"bench": "sdt-bp-train-step", "step": name, "threads": args.threads, "batch": args.batch,
                          "cpu_s_per_step": round(c, 3), "wall_s_per_step": round(w, 3),
                          "windows_per_wall_s": round(args.batch / w, 2),
                          "speed_vs_reference_cpu": round(ref_cpu / c, 3),
                          "speed_vs_reference_wall": round(ref_wall / w, 3), "rounds": args.rounds}), flush=True)


def parity(args) -> None:
    """Weights after ``--parity-steps`` identical steps (batch 8, the same numpy mels for both): each avs
    variant against the reference (separate optimisers, CodeMapper), max absolute difference."""
    cfg, G0, data = make(args.threads, batch=8)
    ref, table, mapper, mel_fn, opt_g, opt_t = build_reference(G0)
    ref_step = reference_step_fn(ref, table, mapper, mel_fn, opt_g, opt_t, precomputed=True)
    for _ in range(args.parity_steps):
        ref_step(data)
    reference = dict(ref.named_parameters())
    for name in ["avs", *args.variants]:
        G, step = avs_variant(G0, cfg, name)
        for _ in range(args.parity_steps):
            step(data)
        weights = max(float((p.detach() - reference[n].detach()).abs().max())
                      for n, p in G.named_parameters() if n in reference)
        print(json.dumps({"bench": "sdt-bp-parity", "step": name, "steps": args.parity_steps,
                          "max_abs_weight_diff": weights,
                          "max_abs_template_diff": float((G.templates.detach() - table.detach()).abs().max())}),
              flush=True)


def inference(args) -> None:
    from avs_sdt.inference import predict_normalised

    cfg, G, _ = make(args.threads)
    torch.manual_seed(3)
    with torch.no_grad():
        G.templates.normal_()
    G.eval()
    torch.manual_seed(2)
    mapper = code_mapper().eval()
    mel_fn = TorchMel()
    rng = np.random.default_rng(0)
    audio = (rng.random(60 * 16000, dtype=np.float32) - 0.5) * 0.2
    code = G.templates[0].detach()
    window = int(cfg.infer.window_frames)
    total = 15 * audio.size // 16000

    def reference_run() -> np.ndarray:
        out = []
        with torch.no_grad():
            for start in range(0, total, window):
                n = min(window, total - start)
                chunk = audio[int(start * 16000 / 15): int(start * 16000 / 15) + int(n * 16000 / 15)]
                mel = mel_fn(torch.from_numpy(np.ascontiguousarray(chunk))[None])
                out.append(reference_forward(G, mapper, mel, n, code[None])[0].numpy())
        return np.concatenate(out)

    def avs_run(dtype: str = "float32"):
        def run() -> np.ndarray:
            cfg.infer.dtype = dtype
            return predict_normalised(G, audio, cfg, code.numpy())
        return run

    runs = {"reference": reference_run, "avs": avs_run(), "avs_bfloat16": avs_run("bfloat16")}
    exact = runs["avs"]()
    low = runs["avs_bfloat16"]()
    print(json.dumps({"bench": "sdt-bp-inference-60s", "bfloat16_vs_float32_max_abs": float(np.abs(low - exact).max()),
                      "bfloat16_vs_float32_mean_abs": float(np.abs(low - exact).mean()),
                      "float32_abs_mean": float(np.abs(exact).mean())}), flush=True)
    for run in runs.values():
        run()
    cpu: dict[str, list[float]] = {name: [] for name in runs}
    wall: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(args.rounds):
        for name, run in runs.items():
            c0, t0 = time.process_time(), time.perf_counter()
            run()
            cpu[name].append(time.process_time() - c0)
            wall[name].append(time.perf_counter() - t0)
    for name in runs:
        c, w = statistics.median(cpu[name]), statistics.median(wall[name])
        print(json.dumps({"bench": "sdt-bp-inference-60s", "run": name, "threads": args.threads,
                          "cpu_s": round(c, 3), "wall_s": round(w, 3),
                          "speed_vs_reference_cpu": round(statistics.median(cpu["reference"]) / c, 3),
                          "speed_vs_reference_wall": round(statistics.median(wall["reference"]) / w, 3)}),
              flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--variants", nargs="*", default=["inplace", "fused", "channels_last", "deterministic"],
                        help="levers besides plain avs: inplace fused channels_last deterministic compile, "
                             "or combinations joined by +")
    parser.add_argument("--inference", action="store_true", help="time 60 s of inference instead of training")
    parser.add_argument("--parity-steps", type=int, default=3, help="steps of the parity check (0: none)")
    args = parser.parse_args()
    if args.inference:
        inference(args)
        return
    if args.parity_steps:
        parity(args)
    if args.rounds:
        train_steps(args)


if __name__ == "__main__":
    main()
