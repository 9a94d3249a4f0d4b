"""CTGAN: a conditional Wasserstein GAN with gradient penalty over the mode-normalised table.

The generator takes noise plus a conditional vector (one category of one discrete column); during
training the conditional vectors are drawn by log-frequency and paired with real rows having that
category (training-by-sampling), and the generator is also penalised by the cross-entropy between
the requested category and what it produced. The critic sees ``pac`` rows at a time. Sampling with
a category condition feeds that category's conditional vector, so no rejection is needed.
"""

from __future__ import annotations

import numpy as np

from generators.tabular.deep_base import DeepSynthesizer
from generators.tabular.deep_data import ConditionSampler
from generators.tabular.registry import register_synthesizer


@register_synthesizer
class CTGANSynthesizer(DeepSynthesizer):
    method = "ctgan"
    native_conditions = True

    @classmethod
    def default_params(cls) -> dict:
        return {**super().default_params(), "lr": 2e-4, "embedding_dim": 128, "hidden": 256, "pac": 10,
                "discriminator_steps": 1, "gp_lambda": 10.0}

    def _prepare(self, data: np.ndarray, codes: np.ndarray) -> None:
        levels = [m.n_levels for m in self._fitted().discrete]
        self.cond = ConditionSampler(codes, levels) if levels else None

    def _restore_extra(self, meta: dict, arrays: dict[str, np.ndarray]) -> None:
        levels = [m.n_levels for m in self._fitted().discrete]
        if not levels:
            self.cond = None
            return
        freq = arrays["cond_freq"]
        offsets = np.concatenate([[0], np.cumsum(levels)]).astype(int)
        fake_codes = np.zeros((1, len(levels)), dtype=np.int64)
        self.cond = ConditionSampler(fake_codes, levels)
        self.cond.freq = [freq[offsets[j]:offsets[j + 1]] for j in range(len(levels))]

    def _state(self) -> tuple[dict, dict[str, np.ndarray]]:
        meta, arrays = super()._state()
        if self.cond is not None:
            arrays["cond_freq"] = np.concatenate(self.cond.freq)
        return meta, arrays

    def _build(self) -> None:
        import torch
        from torch import nn

        d, h = self.norm.dim, int(self.params["hidden"])
        c = self.cond.dim if self.cond is not None else 0
        e, pac = int(self.params["embedding_dim"]), int(self.params["pac"])
        self.generator = _Generator(e + c, h, d)
        self.critic = nn.Sequential(nn.Linear(pac * (d + c), h), nn.LeakyReLU(0.2), nn.Dropout(0.5),
                                    nn.Linear(h, h), nn.LeakyReLU(0.2), nn.Dropout(0.5), nn.Linear(h, 1))
        lr = float(self.params["lr"])
        self.opt_g = torch.optim.Adam(self.generator.parameters(), lr=lr, betas=(0.5, 0.9), weight_decay=1e-6)
        self.opt_d = torch.optim.Adam(self.critic.parameters(), lr=lr, betas=(0.5, 0.9), weight_decay=1e-6)

    def _networks(self) -> dict:
        return {"generator": self.generator, "critic": self.critic}

    def _activate(self, out, hard: bool, gen=None):  # noqa: ANN001, ANN202 - torch tensors
        import torch
        import torch.nn.functional as F

        parts = []
        for s, w, kind in self.norm.spans:
            block = out[:, s:s + w]
            if kind == "alpha":
                parts.append(torch.tanh(block))
            elif hard:  # sample a category: Gumbel-max with the seeded generator
                u = torch.rand(block.shape, generator=gen).clamp(1e-10, 1 - 1e-10)
                idx = (block - torch.log(-torch.log(u))).argmax(dim=1)
                parts.append(F.one_hot(idx, w).float())
            else:
                parts.append(F.gumbel_softmax(block, tau=0.2))
        return torch.cat(parts, dim=1)

    def _train_epoch(self, data: np.ndarray, rng: np.random.Generator) -> float:
        import torch
        import torch.nn.functional as F

        self.generator.train()
        self.critic.train()
        pac, e = int(self.params["pac"]), int(self.params["embedding_dim"])
        bs = max(pac, int(self.params["batch_size"]) // pac * pac)
        real_all = torch.from_numpy(data)
        steps = max(1, len(data) // bs)
        total = 0.0
        disc_spans = self.norm.discrete_spans
        for _ in range(steps):
            for _ in range(int(self.params["discriminator_steps"])):
                cond, cols, cats, rows = self._cond_batch(bs, rng)
                fake = self._activate(self.generator(torch.cat([torch.randn(bs, e), cond], dim=1)), hard=False)
                real = real_all[torch.from_numpy(rows)] if self.cond is not None else \
                    real_all[torch.from_numpy(rng.integers(len(data), size=bs))]
                real_in, fake_in = torch.cat([real, cond], dim=1), torch.cat([fake, cond], dim=1)
                loss_d = self.critic(fake_in.view(-1, pac * fake_in.shape[1])).mean() - \
                    self.critic(real_in.view(-1, pac * real_in.shape[1])).mean()
                gp = self._gradient_penalty(real_in, fake_in.detach(), pac)
                self.opt_d.zero_grad()
                (loss_d + gp).backward()
                self.opt_d.step()
            cond, cols, cats, rows = self._cond_batch(bs, rng)
            raw = self.generator(torch.cat([torch.randn(bs, e), cond], dim=1))
            fake = self._activate(raw, hard=False)
            fake_in = torch.cat([fake, cond], dim=1)
            loss_g = -self.critic(fake_in.view(-1, pac * fake_in.shape[1])).mean()
            if self.cond is not None:  # the generator must produce the category it was asked for
                cols_t, cats_t = torch.tensor(cols), torch.tensor(cats)
                ce: float | torch.Tensor = 0.0
                for j, (s, w) in enumerate(disc_spans):
                    rows_j = cols_t == j
                    if rows_j.any():
                        ce = ce + F.cross_entropy(raw[rows_j, s:s + w], cats_t[rows_j], reduction="sum")
                loss_g = loss_g + ce / bs
            self.opt_g.zero_grad()
            loss_g.backward()
            self.opt_g.step()
            total += float(loss_g.detach())
        return total / steps

    def _cond_batch(self, bs: int, rng: np.random.Generator):  # noqa: ANN202
        import torch

        if self.cond is None:
            return torch.zeros((bs, 0)), [], [], None
        cond, cols, cats, rows = self.cond.train_batch(bs, rng)
        return torch.from_numpy(cond), cols.tolist(), cats.tolist(), rows

    def _gradient_penalty(self, real, fake, pac: int):  # noqa: ANN001, ANN202
        import torch

        alpha = torch.rand(real.shape[0] // pac, 1, 1).repeat(1, pac, real.shape[1]).view(-1, real.shape[1])
        mixed = (alpha * real + (1 - alpha) * fake).requires_grad_(True)
        score = self.critic(mixed.view(-1, pac * real.shape[1]))
        grad = torch.autograd.grad(score.sum(), mixed, create_graph=True)[0]
        norm = grad.view(-1, pac * real.shape[1]).norm(2, dim=1)
        return float(self.params["gp_lambda"]) * ((norm - 1) ** 2).mean()

    def _sample_encoded(self, n: int, rng: np.random.Generator, cont_cond: dict[int, float],
                        disc_cond: dict[int, int]) -> tuple[np.ndarray, np.ndarray]:
        import torch

        gen = self._torch_generator(rng)
        e = int(self.params["embedding_dim"])
        fixed = next(iter(disc_cond.items())) if disc_cond else None
        cond_np = self.cond.sample_cond(n, rng, fixed) if self.cond is not None else np.zeros((n, 0), np.float32)
        with torch.no_grad():
            noise = torch.randn((n, e), generator=gen)
            out = self._activate(self.generator(torch.cat([noise, torch.from_numpy(cond_np)], dim=1)),
                                 hard=True, gen=gen)
        return self.norm.inverse(out.numpy())


def _residual(i: int, o: int):  # noqa: ANN202
    from torch import nn

    class Residual(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.fc, self.bn, self.relu = nn.Linear(i, o), nn.BatchNorm1d(o), nn.ReLU()

        def forward(self, x):  # noqa: ANN001, ANN202
            import torch

            return torch.cat([self.relu(self.bn(self.fc(x))), x], dim=1)

    return Residual()


def _Generator(i: int, h: int, d: int):  # noqa: ANN202, N802 - builds a torch module lazily
    from torch import nn

    return nn.Sequential(_residual(i, h), _residual(i + h, h), nn.Linear(i + 2 * h, d))
