"""Reference-named state dicts (Audio/code/models.py ATC_net, render-to-video unet_generator_ac_adain) map onto
ours and give the same outputs (parity)."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from avs_phadtf.importer import kind_of, map_generator


class _RefAdaIN(nn.Module):
    """The reference's AdaIN layout: dummy running buffers; weight/bias assigned per call."""

    def __init__(self, c: int) -> None:
        super().__init__()
        self.num_features = c
        self.register_buffer("running_mean", torch.zeros(c))
        self.register_buffer("running_var", torch.ones(c))
        self.weight = self.bias = None

    def forward(self, x):
        b, c = x.shape[:2]
        y = F.batch_norm(x.reshape(1, b * c, *x.shape[2:]), self.running_mean.repeat(b), self.running_var.repeat(b),
                         self.weight, self.bias, True, 0.1, 1e-5)
        return y.reshape(x.shape)


def _enc(cin, cout, norm=True):
    m = nn.Module()
    m.body = nn.Sequential(nn.LeakyReLU(0.2), nn.Conv2d(cin, cout, 4, 2, 1), *([_RefAdaIN(cout)] if norm else []))
    return m


def _dec(cin, cout, drop):
    m = nn.Module()
    m.body = nn.Sequential(nn.ReLU(), nn.ConvTranspose2d(cin, cout, 4, 2, 1), _RefAdaIN(cout),
                           *([nn.Dropout(0.5)] if drop else []))
    return m


class _RefUNet(nn.Module):
    """unet_generator_ac_adain's module tree (names e1..e8, d1..d8, mlp.model) and forward, 256², 8 levels."""

    def __init__(self, in_nc=9, ngf=4, feat=512):
        super().__init__()
        w = [ngf, ngf * 2, ngf * 4, ngf * 8, ngf * 8, ngf * 8, ngf * 8, ngf * 8]
        self.e1 = nn.Conv2d(in_nc, ngf, 4, 2, 1)
        for k in range(2, 9):
            setattr(self, f"e{k}", _enc(w[k - 2], w[k - 1], norm=k < 8))
        cins = [w[7]] + [2 * w[7 - j] for j in range(1, 7)]
        for j in range(7):
            setattr(self, f"d{j + 1}", _dec(cins[j], w[6 - j], j < 3))
        d8 = nn.Module()
        d8.body = nn.Sequential(nn.ReLU(), nn.ConvTranspose2d(2 * ngf, ngf, 4, 2, 1), _RefAdaIN(ngf), nn.ReLU())
        d8.img_reg = nn.Sequential(nn.Conv2d(ngf, 3, 7, 1, 3), nn.Tanh())
        d8.attention_reg = nn.Sequential(nn.Conv2d(ngf, 1, 7, 1, 3), nn.Sigmoid())
        self.d8 = d8
        self.adain = [m for m in self.modules() if isinstance(m, _RefAdaIN)]
        p = sum(2 * m.num_features for m in self.adain)
        self.mlp = nn.Module()
        self.mlp.model = nn.Sequential(nn.Linear(feat, p), nn.ReLU(), nn.Linear(p, p), nn.ReLU(), nn.Linear(p, p))

    def forward(self, x, feat):
        p = self.mlp.model(feat)
        for m in self.adain:
            m.bias, m.weight = p[:, :m.num_features].reshape(-1), p[:, m.num_features:2 * m.num_features].reshape(-1)
            p = p[:, 2 * m.num_features:]
        es = [self.e1(x)]
        for k in range(2, 9):
            es.append(getattr(self, f"e{k}").body(es[-1]))
        y = es[-1]
        for j in range(7):
            y = torch.cat([getattr(self, f"d{j + 1}").body(y), es[6 - j]], 1)
        f = self.d8.body(y)
        return self.d8.img_reg(f), self.d8.attention_reg(f)


def test_generator_parity_with_reference_names() -> None:
    from avs.config import build_config
    from avs_phadtf.config import PhadtfConfig
    from avs_phadtf.model import UNetAdaIN

    torch.manual_seed(0)
    ref = _RefUNet().eval()
    for prm in ref.parameters():
        nn.init.normal_(prm, 0.0, 0.05)
    state = {f"module.{k}": v for k, v in ref.state_dict().items()}  # as saved from DataParallel
    assert kind_of({k.removeprefix("module."): v for k, v in state.items()}) == "generator"
    cfg = build_config(PhadtfConfig, overrides=["gan.ngf=4", "gan.identity_dim=512"])
    ours = UNetAdaIN(cfg.gan).eval()
    ours.load_state_dict(map_generator(state, 8), strict=True)
    x, feat = torch.rand(2, 9, 256, 256) * 2 - 1, torch.randn(2, 512)
    with torch.no_grad():
        (c1, m1), (c2, m2) = ref(x, feat), ours(x, feat)
    torch.testing.assert_close(c2, c1, atol=1e-5, rtol=1e-4)
    torch.testing.assert_close(m2, m1, atol=1e-5, rtol=1e-4)


def _reference_atc_state(seed: int) -> dict[str, torch.Tensor]:
    """Random tensors under the names and shapes of the reference ``models.py::ATC_net(70)`` (paper size):
    ``ops.conv2d`` = Conv2d 3×3 without bias + BatchNorm2d + ReLU at indices 0, 1, 3, 4, 5 of ``audio_eocder``;
    ``audio_eocder_fc`` Linear 12288→2048 (index 0) and 2048→256 (index 2); LSTM 256, 3 layers; ``lstm_fc.0``."""
    g = torch.Generator().manual_seed(seed)
    state: dict[str, torch.Tensor] = {}
    for idx, (cin, cout) in zip((0, 1, 3, 4, 5), ((1, 64), (64, 128), (128, 256), (256, 256), (256, 512)),
                                strict=True):
        state[f"audio_eocder.{idx}.0.weight"] = torch.randn(cout, cin, 3, 3, generator=g) * (2 / (9 * cin)) ** 0.5
        state[f"audio_eocder.{idx}.1.weight"] = 1 + 0.1 * torch.randn(cout, generator=g)
        state[f"audio_eocder.{idx}.1.bias"] = 0.1 * torch.randn(cout, generator=g)
        state[f"audio_eocder.{idx}.1.running_mean"] = 0.1 * torch.randn(cout, generator=g)
        state[f"audio_eocder.{idx}.1.running_var"] = 0.5 + torch.rand(cout, generator=g)
        state[f"audio_eocder.{idx}.1.num_batches_tracked"] = torch.tensor(1234)
    for idx, (cin, cout) in ((0, (12288, 2048)), (2, (2048, 256))):
        state[f"audio_eocder_fc.{idx}.weight"] = torch.randn(cout, cin, generator=g) / cin ** 0.5
        state[f"audio_eocder_fc.{idx}.bias"] = 0.1 * torch.randn(cout, generator=g)
    for layer in range(3):
        for kind in ("ih", "hh"):
            state[f"lstm.weight_{kind}_l{layer}"] = torch.randn(4 * 256, 256, generator=g) / 16
            state[f"lstm.bias_{kind}_l{layer}"] = 0.1 * torch.randn(4 * 256, generator=g)
    state["lstm_fc.0.weight"] = torch.randn(70, 256, generator=g) / 16
    state["lstm_fc.0.bias"] = 0.1 * torch.randn(70, generator=g)
    return state


def _restated_atc_forward(s: dict[str, torch.Tensor], mfcc: torch.Tensor) -> torch.Tensor:
    """ATC_net's forward restated from the spec with plain functionals (eval-mode BatchNorm; LSTM gates i, f, g, o
    in PyTorch's row order; zero initial state): (B, T, 28, 12) → (B, T, 70)."""
    b, t = mfcc.shape[:2]
    x = mfcc.reshape(b * t, 1, 28, 12)
    for idx in (0, 1, 3, 4, 5):
        x = F.conv2d(x, s[f"audio_eocder.{idx}.0.weight"], padding=1)
        x = F.batch_norm(x, s[f"audio_eocder.{idx}.1.running_mean"], s[f"audio_eocder.{idx}.1.running_var"],
                         s[f"audio_eocder.{idx}.1.weight"], s[f"audio_eocder.{idx}.1.bias"], False, 0.0, 1e-5)
        x = F.relu(x)
        if idx == 1:
            x = F.max_pool2d(x, 3, stride=(1, 2))
    x = F.max_pool2d(x, 3, stride=(2, 2))
    assert x.shape[1:] == (512, 12, 2)  # 12288 features per frame
    x = F.relu(F.linear(x.reshape(b * t, -1), s["audio_eocder_fc.0.weight"], s["audio_eocder_fc.0.bias"]))
    x = F.relu(F.linear(x, s["audio_eocder_fc.2.weight"], s["audio_eocder_fc.2.bias"])).reshape(b, t, 256)
    for layer in range(3):
        h, c, out = torch.zeros(b, 256), torch.zeros(b, 256), []
        for k in range(t):
            z = (x[:, k] @ s[f"lstm.weight_ih_l{layer}"].T + s[f"lstm.bias_ih_l{layer}"]
                 + h @ s[f"lstm.weight_hh_l{layer}"].T + s[f"lstm.bias_hh_l{layer}"])
            i, f, gg, o = z.chunk(4, dim=1)
            c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(gg)
            h = torch.sigmoid(o) * torch.tanh(c)
            out.append(h)
        x = torch.stack(out, dim=1)
    return F.linear(x, s["lstm_fc.0.weight"], s["lstm_fc.0.bias"])


def test_atc_import_parity_with_reference_names(tmp_path) -> None:
    """A reference-named, reference-shaped ATC_net state (as DataParallel saved it) through ``avs import``'s
    reader: every tensor lands unchanged in a strict load of our paper-size ATC_net, whose output equals the
    restated forward pass with those tensors."""
    from avs.config import build_config
    from avs_phadtf.config import PhadtfConfig
    from avs_phadtf.importer import import_reference
    from avs_phadtf.model import ATCNet

    state = _reference_atc_state(seed=1)
    torch.save({f"module.{k}": v for k, v in state.items()}, tmp_path / "atcnet_lstm_general.pth")
    cfg = build_config(PhadtfConfig, overrides=["variant=general"])
    nets, stats = import_reference(tmp_path / "atcnet_lstm_general.pth", cfg)
    ours = ATCNet(cfg.atc)
    ours.load_state_dict(nets["generator"], strict=True)  # complete: no missing, no unexpected key
    mine = ours.state_dict()
    assert mine.keys() == state.keys()
    for key, value in state.items():
        assert torch.equal(mine[key], value), key
    assert stats["coeff_std"].shape == (70,)
    x = torch.randn(2, 5, 28, 12, generator=torch.Generator().manual_seed(2))
    ours.eval()
    with torch.no_grad():
        got, want = ours(x), _restated_atc_forward(state, x)
    assert want.abs().mean() > 0.05  # the random weights give a non-trivial output
    torch.testing.assert_close(got, want, atol=1e-5, rtol=1e-4)


def test_unknown_state_dict_is_refused() -> None:
    from avs.errors import AvsError

    with pytest.raises(AvsError):
        kind_of({"foo.weight": torch.zeros(1)})
    with pytest.raises(AvsError):
        map_generator({"e9.body.1.weight": torch.zeros(1)}, 8)
