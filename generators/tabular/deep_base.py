"""What TVAE and CTGAN share: the training loop (epochs, batches, early stopping, progress),
seeding, and saving torch weights as plain arrays in the npz (never pickle)."""

from __future__ import annotations

import time

import numpy as np

from generators.tabular.base import Progress, Synthesizer
from generators.tabular.deep_data import ModeNormalizer, set_torch_threads


class DeepSynthesizer(Synthesizer):
    @classmethod
    def default_params(cls) -> dict:
        # patience: stop when the epoch loss has not improved by min_delta for this many epochs
        # spike_share: a numeric value held by at least this share of rows gets an exact mode of its own
        return {"epochs": 300, "batch_size": 500, "patience": 30, "min_delta": 1e-3, "lr": 1e-3,
                "spike_share": 0.05}

    # subclasses: _networks() -> dict[name, torch.nn.Module]; _build(); _train_epoch(...) -> loss
    def _fit_encoded(self, cont: np.ndarray, codes: np.ndarray, rng: np.random.Generator,
                     progress: Progress | None) -> None:
        import torch

        set_torch_threads()
        torch.manual_seed(self.seed)
        levels = [m.n_levels for m in self._fitted().discrete]
        self.norm = ModeNormalizer.fit(cont, levels, rng, spike_share=float(self.params["spike_share"]))
        data = self.norm.transform(cont, codes, rng)
        self._prepare(data, codes)
        self._build()
        epochs, best, stale = int(self.params["epochs"]), np.inf, 0
        history = []
        start = time.perf_counter()
        for epoch in range(1, epochs + 1):
            loss = self._train_epoch(data, rng)
            history.append(loss)
            if progress:
                progress({"epoch": epoch, "epochs": epochs, "loss": loss,
                          "seconds": round(time.perf_counter() - start, 2)})
            if not np.isfinite(best) or loss < best - float(self.params["min_delta"]) * max(abs(best), 1.0):
                best, stale = loss, 0
            else:
                stale += 1
                if stale >= int(self.params["patience"]):
                    break
        self.history = history
        self.fit_threads = torch.get_num_threads()
        for net in self._networks().values():
            net.eval()

    def _prepare(self, data: np.ndarray, codes: np.ndarray) -> None:
        """Hook for per-model training structures (CTGAN's condition sampler)."""

    def _torch_generator(self, rng: np.random.Generator):  # noqa: ANN202 - torch is imported lazily
        import torch

        set_torch_threads()
        g = torch.Generator()
        g.manual_seed(int(rng.integers(2**62)))
        return g

    def _state(self) -> tuple[dict, dict[str, np.ndarray]]:
        meta, arrays = self.norm.to_state()
        for name, net in self._networks().items():
            for key, tensor in net.state_dict().items():
                arrays[f"net.{name}.{key}"] = tensor.detach().cpu().numpy()
        return {"norm": meta, "epochs_run": len(getattr(self, "history", []))}, arrays

    def _set_state(self, meta: dict, arrays: dict[str, np.ndarray]) -> None:
        import torch

        self.norm = ModeNormalizer.from_state(meta["norm"], arrays)
        self._restore_extra(meta, arrays)
        self._build()
        for name, net in self._networks().items():
            prefix = f"net.{name}."
            net.load_state_dict({k[len(prefix):]: torch.from_numpy(np.array(v)) for k, v in arrays.items()
                                 if k.startswith(prefix)})
            net.eval()

    def _restore_extra(self, meta: dict, arrays: dict[str, np.ndarray]) -> None:
        """Hook: rebuild what _prepare made, from saved arrays."""

    def _build(self) -> None:
        raise NotImplementedError

    def _networks(self) -> dict:
        raise NotImplementedError

    def _train_epoch(self, data: np.ndarray, rng: np.random.Generator) -> float:
        raise NotImplementedError
