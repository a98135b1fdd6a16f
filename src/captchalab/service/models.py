"""The models a service instance serves: loaded once at startup, each behind its own runner."""

from __future__ import annotations

import asyncio
import logging
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

import numpy as np

from captchalab.charset import UnknownSymbolError
from captchalab.data.preprocess import Preprocessing
from captchalab.service.batching import DirectRunner, MicroBatcher, Runner
from captchalab.service.errors import InvalidRequest, NotReady, UnknownModel
from captchalab.service.metrics import ServiceMetrics
from captchalab.service.settings import ServiceSettings

logger = logging.getLogger(__name__)


class SolverLike(Protocol):
    """What the service needs from ``captchalab.inference.Solver``."""

    @property
    def preprocessing(self) -> Preprocessing: ...

    def solve_arrays(self, batch: np.ndarray) -> Sequence[Any]: ...


SolverLoader = Callable[[str, int | None], SolverLike]

# Solver views kept per model (``LoadedModel.solver_for``): requests with the same hints share
# one, and so share batches; a client cycling through symbol sets only evicts old ones.
MAX_VIEWS = 64


@dataclass(frozen=True, slots=True)
class Hints:
    """A request's reading hints (None: not given): the ``case`` policy, the ``symbols`` the
    answer may use (named sets expanded), the answer ``lengths`` and the ``second_look``
    threshold."""

    case: str | None = None
    symbols: str | None = None
    lengths: frozenset[int] | None = None
    second_look: float | None = None


def load_solver(path: str, threads: int | None) -> SolverLike:
    from captchalab.inference import Solver

    return Solver.load(path, threads=threads)


@dataclass
class LoadedModel:
    name: str
    solver: SolverLike
    runner: Runner
    # The same model read case-insensitively (``Solver.case_insensitive``), batched on its
    # own; None for a solver that cannot fold case.
    insensitive_runner: Runner | None = None
    _views: OrderedDict[Hints, Any] = field(default_factory=OrderedDict, repr=False)
    # solver_for runs on the event loop and in worker threads
    _views_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def runner_for(self, case: str | None) -> Runner:
        """The runner for a request's ``case`` field (None: case-sensitive)."""
        if case != "insensitive":
            return self.runner
        if self.insensitive_runner is None:
            raise InvalidRequest(f"model {self.name!r} cannot read case-insensitively")
        return self.insensitive_runner

    def check_lengths(self) -> None:
        """An InvalidRequest unless this model can answer under a known length."""
        metadata = getattr(self.solver, "metadata", None)
        objective = getattr(metadata, "objective", None)
        if not callable(getattr(self.solver, "with_lengths", None)) or objective not in (
            "ctc",
            "fixed_length",
        ):
            raise InvalidRequest(
                f"model {self.name!r} cannot take a length: it needs a CTC or fixed-length model"
            )

    def solver_for(self, hints: Hints) -> Any:
        """The Solver that reads under ``hints``: a view sharing this model's session
        (``Solver.restricted``, ``case_insensitive``, ``with_lengths``), kept for reuse so that
        requests with the same hints share it. An InvalidRequest for hints this model cannot
        take (a symbol it cannot read, a length for an attention model)."""
        if hints.symbols is not None:  # order and repeats do not change the view
            hints = replace(hints, symbols="".join(sorted(set(hints.symbols))))
        with self._views_lock:
            view = self._views.get(hints)
            if view is not None:
                self._views.move_to_end(hints)
                return view
        view = self._configure(hints)
        with self._views_lock:
            self._views[hints] = view
            if len(self._views) > MAX_VIEWS:
                self._views.popitem(last=False)
        return view

    def _configure(self, hints: Hints) -> Any:
        solver: Any = self.solver
        if hints.symbols is not None:
            if not callable(getattr(solver, "restricted", None)):
                raise InvalidRequest(f"model {self.name!r} cannot take symbols")
            try:
                solver = solver.restricted(hints.symbols)
            except UnknownSymbolError as exc:
                raise InvalidRequest(
                    f"symbols: model {self.name!r} cannot read {exc.symbol!r} "
                    f"(it reads {solver.charset.symbols})"
                ) from None
        if hints.case == "insensitive":
            if not callable(getattr(solver, "case_insensitive", None)):
                raise InvalidRequest(f"model {self.name!r} cannot read case-insensitively")
            solver = solver.case_insensitive()
        if hints.lengths is not None:
            self.check_lengths()
            solver = solver.with_lengths(hints.lengths)
        if hints.second_look is not None:
            if not callable(getattr(solver, "with_second_look", None)):
                raise InvalidRequest(f"model {self.name!r} cannot take a second look")
            solver = solver.with_second_look(hints.second_look)
        return solver

    def describe(self, default: bool) -> dict[str, Any]:
        spec = self.solver.preprocessing
        info: dict[str, Any] = {
            "name": self.name,
            "default": default,
            "input": {"height": spec.height, "width": spec.width, "channels": spec.channels},
        }
        metadata = getattr(self.solver, "metadata", None)  # the file path is never exposed
        if metadata is not None:
            info["architecture"] = metadata.model_name
            info["objective"] = metadata.objective
            info["max_length"] = metadata.max_length
        return info


class ModelRegistry:
    def __init__(
        self,
        settings: ServiceSettings,
        metrics: ServiceMetrics,
        loader: SolverLoader = load_solver,
    ) -> None:
        self.settings = settings
        self.metrics = metrics
        self.loader = loader
        self.models: dict[str, LoadedModel] = {}
        self.ready = False

    async def start(self) -> None:
        for name, path in self.settings.models.items():
            solver = await asyncio.to_thread(self.loader, path, self.settings.threads)
            runner = self._runner(name, solver)
            await runner.start()
            insensitive: Runner | None = None
            fold = getattr(solver, "case_insensitive", None)  # shares the solver's session
            if callable(fold):
                insensitive = self._runner(name, fold())
                await insensitive.start()
            self.models[name] = LoadedModel(name, solver, runner, insensitive)
            logger.info("serving model %r (batching=%s)", name, self.settings.batching)
        self.ready = True

    async def stop(self) -> None:
        self.ready = False
        for model in self.models.values():
            await model.runner.stop()
            if model.insensitive_runner is not None:
                await model.insensitive_runner.stop()

    def get(self, name: str | None) -> LoadedModel:
        if not self.ready:
            raise NotReady("models are not loaded")
        key = name or self.settings.default_model
        if key not in self.models:
            raise UnknownModel(f"unknown model {key!r}; see GET /v1/models")
        return self.models[key]

    def describe(self) -> list[dict[str, Any]]:
        default = self.settings.default_model
        return [model.describe(name == default) for name, model in self.models.items()]

    def _runner(self, name: str, solver: SolverLike) -> Runner:
        s = self.settings

        def observe(size: int) -> None:
            self.metrics.observe_batch(name, size)

        if not s.batching:
            return DirectRunner(solver.solve_arrays, s.queue_size, observe)
        return MicroBatcher(solver.solve_arrays, s.max_batch_size, s.queue_size, observe)
