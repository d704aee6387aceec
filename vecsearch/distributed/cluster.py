"""The shard actors on Ray: creating them, calling them, and what happens when one dies.

Reads (search, explain, stats, lookups) go to one live replica of each shard, in turn; if it
dies or comes back as a restarted actor whose data cannot be trusted, another replica answers,
and with none left the call raises ShardError naming the shard. Writes go to every live
replica. A replica found dead is replaced, before the next write, by a new actor seeded with a
copy of a live replica's index (``heal``).
"""
from __future__ import annotations

import math
import tempfile
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np

from vecsearch.distributed.shard import Shard, ShardRestarted
from vecsearch.errors import ShardError

# Ray restarts a shard actor whose process died this many times (it reloads its save).
MAX_RESTARTS = 4
# Calls one actor serves at once: concurrent searches, and a progress poll during a build.
MAX_CONCURRENCY = 4
# Query batches up to this size travel inside each call instead of through the object store.
INLINE_BYTES = 64 << 10
# Seconds an actor may take to be placed and to load its shard before the index gives up.
START_TIMEOUT = 600


def _ray() -> Any:
    try:
        import ray
    except ImportError:
        raise ImportError("vecsearch.distributed needs Ray: pip install 'vecsearch[ray]'") from None
    if not ray.is_initialized():
        ray.init(log_to_driver=False)
    return ray


def cpus_per_actor(actors: int, num_cpus: Optional[float]) -> float:
    """CPUs Ray reserves for each actor: `num_cpus`, or an equal share of the CPUs still free
    (none when none are: every actor can be placed, rather than wait forever behind another
    index's actors)."""
    ray = _ray()
    if num_cpus is not None:
        if not num_cpus >= 0:
            raise ValueError(f"num_cpus must be >= 0, got {num_cpus!r}")
        return float(num_cpus)
    return cpu_share(float(ray.available_resources().get("CPU", 0.0)), actors)


def cpu_share(free: float, actors: int) -> float:
    """`free` CPUs split over `actors`, rounded down to the 0.0001 that Ray accepts."""
    return math.floor(free / actors * 10_000) / 10_000


class ShardGroup:
    """`shards` x `replicas` actors. `adoptable(shard, generation)` says whether an actor that
    Ray restarted (it reloaded the save of `generation`) still holds the shard's current data."""

    def __init__(self, shards: int, replicas: int, options: Dict[str, Any], directory: Optional[str],
                 load_options: Dict[str, Any], cpus: float, actor_options: Dict[str, Any],
                 adoptable: Callable[[int, int], bool]) -> None:
        self.shards, self.replicas = shards, replicas
        self._ray = _ray()
        self._actor_class = self._ray.remote(Shard).options(
            num_cpus=cpus, max_restarts=MAX_RESTARTS, max_concurrency=MAX_CONCURRENCY, **actor_options)
        self._args = (options, directory, load_options)
        self._adoptable = adoptable
        self._turn = 0
        self.actors = [[self._actor_class.remote(s, *self._args) for _ in range(replicas)] for s in range(shards)]
        self.tokens: List[List[Optional[str]]] = [[None] * replicas for _ in range(shards)]
        self.alive = [[True] * replicas for _ in range(shards)]
        hellos = [[a.hello.remote() for a in row] for row in self.actors]
        for s, row in enumerate(hellos):
            for r, ref in enumerate(row):
                try:
                    self.tokens[s][r] = self._ray.get(ref, timeout=START_TIMEOUT)[0]
                except self._ray.exceptions.GetTimeoutError:
                    self.kill()
                    raise ShardError(s, f"its actor was not placed within {START_TIMEOUT} s: the cluster lacks "
                                        f"the resources asked ({cpus} CPUs per actor, {actor_options})") from None
                except self._ray.exceptions.RayError as e:
                    self.kill()
                    raise ShardError(s, f"its actor failed to start: {_cause(e)}") from None

    def kill(self) -> None:
        """Ends every actor (they hold the index: use after a save, or to discard it)."""
        for row in self.actors:
            for actor in row:
                self._ray.kill(actor)

    # -- reads: one replica per shard, failing over ------------------------------------------

    def call(self, shard: int, method: str, *args: Any) -> Any:
        return self.call_many([(shard, method, args)])[0]

    def call_each(self, method: str, *args: Any) -> List[Any]:
        return self.call_many([(s, method, args) for s in range(self.shards)])

    def call_many(self, calls: Sequence[Tuple[int, str, tuple]]) -> List[Any]:
        """Runs each (shard, method, args) on one replica of the shard, all at once."""
        self._turn += 1
        pending = []
        for s, method, args in calls:
            r = self._replica(s)
            pending.append((s, r, method, args, self._submit(s, r, method, args)))
        try:  # the usual case: every shard answers, awaited in one call
            answers = self._ray.get([p[4] for p in pending])
        except (ShardRestarted, self._ray.exceptions.RayActorError):
            return [self._result(s, r, method, args, ref) for s, r, method, args, ref in pending]
        for s, r, *_ in pending:
            self.alive[s][r] = True
        return answers

    def scatter(self, method: str, data: np.ndarray, *args: Any) -> List[Any]:
        """`method(data, *args)` on every shard, `data` put in the object store once (a small
        batch goes inline with each call: cheaper than a store round trip)."""
        ref = self._ray.put(data) if data.nbytes > INLINE_BYTES else data
        return self.call_each(method, ref, *args)

    def _replica(self, shard: int) -> int:
        # With no replica known alive, ask one anyway: Ray may have restarted it since, and a
        # dead one fails fast with the error the caller should see.
        live = [r for r in range(self.replicas) if self.alive[shard][r]] or list(range(self.replicas))
        return live[(self._turn + shard) % len(live)]

    def _submit(self, s: int, r: int, method: str, args: tuple) -> Any:
        return getattr(self.actors[s][r], method).remote(self.tokens[s][r], *args)

    def _result(self, s: int, r: int, method: str, args: tuple, ref: Any) -> Any:
        while True:
            try:
                answer = self._ray.get(ref)
                self.alive[s][r] = True
                return answer
            except ShardRestarted as e:
                token, generation = _cause(e).args
                if self._adoptable(s, generation):
                    self.tokens[s][r] = token  # it reloaded exactly the data it held
                    ref = self._submit(s, r, method, args)
                    continue
                self.alive[s][r] = False
                why = (f"its actor restarted and reloaded the save of generation {generation}; the changes "
                       "made since are lost on it (load the directory again to continue from that save)")
            except self._ray.exceptions.RayActorError as e:
                self.alive[s][r] = False
                why = f"its actor died ({_first_line(e)})"
            live = [q for q in range(self.replicas) if self.alive[s][q]]
            if not live:
                raise ShardError(s, why + (" (Ray restarts it from its last save, if it has one)"
                                           if "died" in why else "")) from None
            r = live[0]  # another replica answers
            ref = self._submit(s, r, method, args)

    # -- writes: every live replica ----------------------------------------------------------

    def write_many(self, calls: Sequence[Tuple[int, str, tuple]]) -> None:
        """Runs each (shard, method, args) on every live replica of its shard."""
        self.heal()
        pending = [(s, r, self._submit(s, r, method, args)) for s, method, args in calls
                   for r in range(self.replicas) if self.alive[s][r]]
        done: Dict[int, bool] = {}
        failure: Dict[int, str] = {}
        for s, r, ref in pending:
            try:
                self._ray.get(ref)
                done[s] = True
            except (ShardRestarted, self._ray.exceptions.RayActorError) as e:
                self.alive[s][r] = False
                failure[s] = _first_line(e)
        for s, why in failure.items():
            if not done.get(s):
                raise ShardError(s, f"no replica applied the change ({why}); other shards did")

    def heal(self) -> int:
        """Replaces each dead replica by a new actor holding a copy of a live replica's index;
        returns how many were replaced."""
        # Every write calls this: with nothing to replace it returns before any scratch space.
        healable = [s for s in range(self.shards) if any(self.alive[s]) and not all(self.alive[s])]
        if not healable:
            return 0
        replaced = 0
        with tempfile.TemporaryDirectory() as scratch:
            for s in healable:
                data = self.call_many([(s, "export", (scratch,))])[0]
                for r in [r for r in range(self.replicas) if not self.alive[s][r]]:
                    self._ray.kill(self.actors[s][r])
                    actor = self._actor_class.remote(s, self._args[0], None, {})
                    self.tokens[s][r], _ = self._ray.get(actor.adopt.remote(data, scratch))
                    self.actors[s][r], self.alive[s][r] = actor, True
                    replaced += 1
        return replaced

    # -- long calls (builds) -----------------------------------------------------------------

    def start_each(self, method: str, *args: Any) -> List[Any]:
        """Starts `method(*args)` on the first replica of every shard; see finish()."""
        return [self._submit(s, 0, method, args) for s in range(self.shards)]

    def finish(self, refs: List[Any], poll: Callable[[np.ndarray], None], total: np.ndarray) -> List[Any]:
        """Waits for started calls, reporting the rows each shard streamed so far to `poll`
        twice a second. Ctrl-C (or any error) ends the actors."""
        try:
            waiting = list(refs)
            while waiting:
                _, waiting = self._ray.wait(waiting, num_returns=len(waiting), timeout=0.5)
                rows = self._ray.get([row[0].build_progress.remote() for row in self.actors])
                poll(np.minimum(rows, total))
            results = []
            for s, ref in enumerate(refs):
                try:
                    results.append(self._ray.get(ref))
                except self._ray.exceptions.RayActorError as e:
                    raise ShardError(s, f"its actor died during the build ({_first_line(e)})") from None
        except BaseException:
            self.kill()
            raise
        poll(total)
        return results

    def reload_replicas(self, directory: str) -> None:
        """The replicas past the first load the shard files the first ones wrote."""
        for r in range(1, self.replicas):
            self._ray.get([self._submit(s, r, "reload", (directory,)) for s in range(self.shards)])


def _cause(error: BaseException) -> BaseException:
    return getattr(error, "cause", None) or error


def _first_line(error: BaseException) -> str:
    text = str(_cause(error)).strip()
    return text.splitlines()[0] if text else type(error).__name__
