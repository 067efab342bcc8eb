"""Reference-named state dicts (Audio/code/models.py ATC_net, render-to-video unet_generator_ac_adain) map onto
ours and give the same outputs (parity)."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from avs_phadtf.importer import kind_of, map_atc, map_generator


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


def test_atc_parity_with_reference_names() -> None:
    from avs_phadtf.config import AtcConfig
    from avs_phadtf.model import ATCNet

    torch.manual_seed(1)
    ref = ATCNet(AtcConfig(conv_widths=[8, 8, 16, 16, 16], fc_hidden=32))  # same tree as models.py::ATC_net
    state = {f"module.{k}": v for k, v in ref.state_dict().items()}
    assert "audio_eocder.0.0.weight" in map_atc(state) and "lstm.weight_ih_l2" in map_atc(state)
    ours = ATCNet(AtcConfig(conv_widths=[8, 8, 16, 16, 16], fc_hidden=32))
    ours.load_state_dict(map_atc(state), strict=True)
    x = torch.randn(1, 5, 28, 12)
    ref.eval(), ours.eval()
    torch.testing.assert_close(ours(x), ref(x))


def test_unknown_state_dict_is_refused() -> None:
    from avs.errors import AvsError

    with pytest.raises(AvsError):
        kind_of({"foo.weight": torch.zeros(1)})
    with pytest.raises(AvsError):
        map_generator({"e9.body.1.weight": torch.zeros(1)}, 8)
