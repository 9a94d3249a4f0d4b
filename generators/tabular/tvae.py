"""TVAE: a variational autoencoder over the mode-normalised table (PyTorch).

The decoder outputs the ``alpha`` of each continuous column (through tanh, with a learned noise
scale per output) and logits for every one-hot block (sampled from, not arg-maxed); the loss is
the reconstruction negative log-likelihood plus the KL divergence of the latent code. Rows sitting
in a spike mode (an exact value such as 0, see :class:`ModeNormalizer`) have no ``alpha`` to learn,
so they leave it out of the loss.

With ``condition_column`` (a categorical or boolean column) the model is a *conditional* VAE: the
decoder also gets that column's one-hot, which it reproduces exactly; sampling draws the column
from its training frequencies, and a condition on it is met by feeding the requested category (no
rejection). Other category conditions are met by drawing decoder samples and keeping the rows that
have the requested categories (bounded; a category too rare to be drawn raises :class:`BadInput`);
numeric conditions are set on the rows as given.
"""

from __future__ import annotations

import numpy as np

from catalog.errors import BadInput
from generators.tabular.deep_base import DeepSynthesizer
from generators.tabular.registry import register_synthesizer

MAX_REJECTION_DRAWS = 200


@register_synthesizer
class TVAESynthesizer(DeepSynthesizer):
    method = "tvae"
    native_conditions = True

    @classmethod
    def default_params(cls) -> dict:
        return {**super().default_params(), "embedding_dim": 128, "hidden": 128, "loss_factor": 2.0,
                "l2scale": 1e-5, "temperature": 1.0, "condition_column": None}

    # ------------------------------------------------------------------ conditional column
    def _prepare(self, data: np.ndarray, codes: np.ndarray) -> None:
        self._cond_j = self._condition_index()
        if self._cond_j is not None:
            k = self._fitted().discrete[self._cond_j].n_levels
            self._cond_freq = np.bincount(codes[:, self._cond_j], minlength=k) / len(codes)

    def _restore_extra(self, meta: dict, arrays: dict[str, np.ndarray]) -> None:
        self._cond_j = self._condition_index()
        if self._cond_j is not None:
            self._cond_freq = np.asarray(arrays["cond_freq"], dtype=float)

    def _state(self) -> tuple[dict, dict[str, np.ndarray]]:
        meta, arrays = super()._state()
        if self._cond_j is not None:
            arrays["cond_freq"] = self._cond_freq
        return meta, arrays

    def _condition_index(self) -> int | None:
        name = self.params["condition_column"]
        if name is None:
            return None
        schema = self._fitted()
        names = [m.name for m in schema.discrete]
        if name in names:
            return names.index(name)
        if name in schema.by_name:
            raise BadInput(f"condition_column must be a categorical or boolean column, '{name}' is "
                           f"{schema.by_name[name].kind}", param="condition_column")
        raise BadInput(f"condition_column names an unknown column (columns: {', '.join(schema.by_name)})",
                       param="condition_column")

    # ------------------------------------------------------------------ networks
    def _build(self) -> None:
        import torch
        from torch import nn

        d, h, e = self.norm.dim, int(self.params["hidden"]), int(self.params["embedding_dim"])
        self._cond_span = self.norm.discrete_spans[self._cond_j] if self._cond_j is not None else (0, 0)
        c = self._cond_span[1]
        self.encoder = nn.Sequential(nn.Linear(d, h), nn.ReLU(), nn.Linear(h, h), nn.ReLU(), nn.Linear(h, 2 * e))
        self.decoder = nn.Sequential(nn.Linear(e + c, h), nn.ReLU(), nn.Linear(h, h), nn.ReLU(), nn.Linear(h, d))
        self.log_sigma = nn.ParameterDict({"value": nn.Parameter(torch.full((d,), np.log(0.1)))})
        params = [*self.encoder.parameters(), *self.decoder.parameters(), *self.log_sigma.parameters()]
        self.opt = torch.optim.Adam(params, lr=float(self.params["lr"]), weight_decay=float(self.params["l2scale"]))
        alpha = [s for s, _, kind in self.norm.spans if kind == "alpha"]
        self._alpha_idx = torch.tensor(alpha, dtype=torch.long)
        spike = torch.zeros((d, len(alpha)))  # x @ spike = 1 where the row's value is a spike mode
        for i, (_, positions) in enumerate(self.norm.spike_positions):
            spike[torch.as_tensor(positions, dtype=torch.long), i] = 1.0
        self._spike = spike
        self._softmax = [(s, w) for s, w, kind in self.norm.spans
                         if kind == "softmax" and (s, w) != tuple(self._cond_span)]

    def _networks(self) -> dict:
        return {"encoder": self.encoder, "decoder": self.decoder, "log_sigma": self.log_sigma}

    def _train_epoch(self, data: np.ndarray, rng: np.random.Generator) -> float:
        import torch
        import torch.nn.functional as F

        self.encoder.train()
        self.decoder.train()
        x_all = torch.from_numpy(data)
        order = torch.from_numpy(rng.permutation(len(data)))
        bs, e = int(self.params["batch_size"]), int(self.params["embedding_dim"])
        cs, cw = self._cond_span
        total, batches = 0.0, 0
        for start in range(0, len(data), bs):
            x = x_all[order[start:start + bs]]
            if len(x) < 2:
                continue
            mu, logvar = self.encoder(x).split(e, dim=1)
            z = mu + torch.randn_like(mu) * torch.exp(0.5 * logvar)
            out = self.decoder(torch.cat([z, x[:, cs:cs + cw]], dim=1) if cw else z)
            log_sigma = self.log_sigma["value"].clamp(np.log(0.01), np.log(1.0))
            rec: float | torch.Tensor = 0.0
            if len(self._alpha_idx):
                a = self._alpha_idx
                sig = log_sigma[a]
                nll = ((x[:, a] - torch.tanh(out[:, a])) ** 2) / (2 * torch.exp(2 * sig)) + sig
                rec = rec + (nll * (1.0 - x @ self._spike)).sum()
            for s, w in self._softmax:
                rec = rec + F.cross_entropy(out[:, s:s + w], x[:, s:s + w].argmax(dim=1), reduction="sum")
            kl = -0.5 * torch.sum(1 + logvar - mu ** 2 - logvar.exp())
            loss = (float(self.params["loss_factor"]) * rec + kl) / len(x)
            self.opt.zero_grad()
            loss.backward()
            self.opt.step()
            total += float(loss.detach())
            batches += 1
        return total / max(batches, 1)

    # ------------------------------------------------------------------ sampling
    def _decode_batch(self, n: int, gen, cond_code: int | None = None) -> tuple[np.ndarray, np.ndarray]:  # noqa: ANN001
        import torch

        e = int(self.params["embedding_dim"])
        temperature = float(self.params["temperature"])
        cs, cw = self._cond_span
        with torch.no_grad():
            z = torch.randn((n, e), generator=gen)
            if cw:
                if cond_code is None:
                    cum = torch.from_numpy(np.cumsum(self._cond_freq)).float()
                    codes = torch.searchsorted(cum, torch.rand(n, generator=gen) * cum[-1], right=True)
                    codes = codes.clamp(max=cw - 1)
                else:
                    codes = torch.full((n,), int(cond_code), dtype=torch.long)
                c = torch.nn.functional.one_hot(codes, cw).float()
                z = torch.cat([z, c], dim=1)
            out = self.decoder(z)
            data = out.clone()
            for s, w, kind in self.norm.spans:
                if kind == "alpha":
                    data[:, s] = torch.tanh(out[:, s])
                elif cw and s == cs:  # the conditioning column is given, not drawn
                    data[:, s:s + w] = c
                else:  # draw the category from the decoder's distribution (Gumbel-max at a temperature)
                    u = torch.rand((n, w), generator=gen).clamp(1e-10, 1 - 1e-10)
                    data[:, s:s + w] = out[:, s:s + w] - temperature * torch.log(-torch.log(u))
            sigma = self.log_sigma["value"].clamp(np.log(0.01), np.log(1.0)).exp().numpy()
        noise_rng = np.random.default_rng(int(torch.randint(0, 2**62, (1,), generator=gen)))
        return self.norm.inverse(data.numpy(), sigma, noise_rng)

    def _sample_encoded(self, n: int, rng: np.random.Generator, cont_cond: dict[int, float],
                        disc_cond: dict[int, int]) -> tuple[np.ndarray, np.ndarray]:
        gen = self._torch_generator(rng)
        disc_cond = dict(disc_cond)
        cond_code = disc_cond.pop(self._cond_j, None) if self._cond_j is not None else None
        if not disc_cond:
            return self._decode_batch(n, gen, cond_code)
        conts, codes_list, got, drawn = [], [], 0, 0
        while got < n:
            if drawn >= MAX_REJECTION_DRAWS * max(n, 100):
                names = [self._fitted().discrete[j].name for j in disc_cond]
                raise BadInput(f"the TVAE model almost never produces the requested value(s) of "
                               f"{', '.join(names)}; use the copula, gmm or ctgan method for this condition, "
                               f"or fit the TVAE with condition_column set to one of them")
            batch = max(2 * (n - got), 256)
            cont, codes = self._decode_batch(batch, gen, cond_code)
            keep = np.ones(batch, dtype=bool)
            for j, c in disc_cond.items():
                keep &= codes[:, j] == c
            conts.append(cont[keep])
            codes_list.append(codes[keep])
            got += int(keep.sum())
            drawn += batch
        return np.concatenate(conts)[:n], np.concatenate(codes_list)[:n]
