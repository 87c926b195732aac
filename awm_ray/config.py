"""Configuration: `configs/*.yaml`, validated with pydantic; CLI flags override fields."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

BackendName = Literal["subprocess", "inprocess"]


class _Strict(BaseModel):
    # unknown keys are typos; inf and NaN are never a meaningful number of seconds, CPUs or MB
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


class HostingConfig(_Strict):
    """How one machine hosts scenario servers (a Slot = one app + its own DB file)."""

    backend: BackendName = Field(
        "inprocess",
        description="inprocess: the app is imported into the hosting process and served over ASGI (faster, "
        "~50x denser, no port); subprocess: each slot is a uvicorn process on a leased loopback port (isolation "
        "for untrusted code: its own process, no secrets in its environment).",
    )
    start_timeout_s: float = Field(30.0, gt=0, description="Seconds a server may take to import and answer.")
    start_attempts: int = Field(2, ge=1, description="Attempts to start a server (each on a new port) before failing.")
    call_timeout_s: float = Field(30.0, gt=0, description="Seconds one tool call may take before it is abandoned.")
    max_response_chars: int = Field(
        20_000, ge=100, description="Response bodies longer than this are truncated in the text the model sees."
    )
    max_argument_bytes: int = Field(
        1_000_000, ge=1_000, description="Tool-call arguments longer than this are rejected before parsing."
    )
    failed_start_ttl_s: float = Field(
        60.0,
        ge=0,
        description="A scenario whose server failed to start (import error, hang past start_timeout_s) is not "
        "started again on that worker for this long: its leases fail at once with the same reason (0 = always retry).",
    )
    max_output_bytes: int = Field(
        1_000_000,
        ge=10_000,
        description="What scenario code may write to stdout/stderr: per server log (subprocess; the tail of the "
        "rest is kept for crash reports) or per farm worker process (inprocess); past it, output is dropped.",
    )
    scrub_environment: bool = Field(
        True,
        description="inprocess, in farm workers: before any scenario code runs, remove from the worker's os.environ "
        "every variable but PATH, HOME, LANG, LC_*, TZ, TMPDIR, PYTHON*, VIRTUAL_ENV, RAY_* and the like, and any "
        "whose name holds TOKEN, SECRET, PASSWORD, KEY, CREDENTIAL or AUTH. (/proc/self/environ still shows them; "
        "subprocess servers always get a minimal environment.)",
    )
    loopback_only: bool = Field(
        True,
        description="Refuse Python-level sockets that could leave the machine (connect, send, bind or name lookup "
        "beyond loopback; Unix sockets stay allowed) in each subprocess server, and in farm workers that host "
        "inprocess. Native code and child processes are not covered.",
    )
    fresh_app: Literal["auto", "always", "never"] = Field(
        "auto",
        description="When an episode gets a freshly started app instead of a warm one whose database was reset. "
        "auto: for scenarios whose val_report says the app keeps state in memory across resets (`awm-ray "
        "validate` finds them: app_state.kept_in_memory); always: for every scenario; never: warm apps are always "
        "reused. A fresh app is started in the background when the last episode's slot is released, so a lease "
        "rarely waits for it.",
    )
    preflight: bool = Field(
        True,
        description="inprocess: import each new scenario code (per code hash, per node) first in a sandboxed child "
        "(awm_ray.hosting.sandbox: import_memory_mb, start_timeout_s of CPU and wall time, no processes), so code "
        "that exits, kills, exhausts memory, loops or forks at import never reaches the hosting process. "
        "`awm-ray validate` with inprocess runs each scenario's whole validation in such a child.",
    )
    import_memory_mb: int = Field(
        1024, ge=64, description="Memory (MB of address space) a sandboxed in-process import or validation may add."
    )
    server_memory_mb: int | None = Field(
        2048,
        ge=128,
        description="subprocess: address-space limit (RLIMIT_AS, MB) of each scenario server; past it, its "
        "allocations fail (MemoryError) instead of starving the machine. null = no limit.",
    )
    server_cpu_s: float | None = Field(
        3600.0,
        gt=0,
        description="subprocess: CPU seconds (RLIMIT_CPU) a scenario server may use in its life; a server past it is "
        "killed, counted as its scenario's failure, and replaced. null = no limit.",
    )
    worker_memory_mb: int | None = Field(
        None,
        ge=256,
        description="inprocess, in farm workers: a worker whose resident memory passes this is stopped (Ray restarts "
        "it) and the scenario that grew it is charged a failure (see farm.max_scenario_failures). null = the "
        "worker's share of its node's memory (memory * farm.memory_fraction / workers) + 1024 MB.",
    )
    port_range: tuple[int, int] | None = Field(
        None, description="Inclusive [low, high] ports to lease from; null lets the kernel pick free ports."
    )
    workdir: Path | None = Field(
        None, description="Where slot directories (live DBs, logs) and templates go; null = a fresh temp dir."
    )

    @field_validator("port_range")
    @classmethod
    def _ordered(cls, value: tuple[int, int] | None) -> tuple[int, int] | None:
        if value is not None and not (1024 <= value[0] <= value[1] <= 65535):
            raise ValueError("port_range must be [low, high] with 1024 <= low <= high <= 65535")
        return value


class DataConfig(_Strict):
    """Which scenarios to load and how tasks are drawn from them."""

    dataset: str = Field("bundled", description="'bundled', a hub dataset name, or a local file/directory.")
    split: str = Field("train", description="Dataset split (hub and local arcee-layout datasets).")
    max_scenarios: int | None = Field(None, ge=1, description="Load at most this many scenarios.")
    scenario_filter: list[str] | None = Field(
        None, description="Scenario names or glob patterns to keep (null keeps all)."
    )
    tasks: Literal["endpoint", "native"] = Field(
        "endpoint",
        description="endpoint: tasks sampled from endpoints that passed validation, rewarded by endpoint_hit (the "
        "seed's harness); native: each scenario's own tasks, rewarded by task_complete from their verifiers "
        "(verification.*).",
    )


class FarmConfig(_Strict):
    """The Ray farm: worker actors that own slots, and the scheduler that leases them."""

    address: str | None = Field(
        None,
        description="Ray cluster address ('auto', 'ray://host:10001', host:port); null starts a new local Ray "
        "(inside `ray job submit`, the job's cluster).",
    )
    namespace: str = Field("awm-ray", description="Ray namespace of the farm's named actors.")
    name: str = Field("awm-ray-farm", description="Name of the scheduler actor; clients connect to it by name.")
    workers_per_node: int | None = Field(
        None, ge=1, description="Worker actors per node; null = one per CPU of the node (at least 1)."
    )
    slots_per_worker: int | None = Field(
        None, ge=1, description="Slots a worker may hold at once; null = sized from node memory and backend."
    )
    memory_fraction: float = Field(
        0.5, gt=0, le=0.9, description="Share of a node's memory the automatic slots_per_worker may plan for."
    )
    worker_num_cpus: float = Field(0.0, ge=0, description="CPUs Ray reserves for each worker actor.")
    worker_max_restarts: int = Field(-1, ge=-1, description="Times Ray restarts a dead worker (-1 = always).")
    lease_ttl_s: float = Field(
        600.0,
        gt=0,
        description="A lease with no call or renewal for this long expires and its slot is reset. A live holder "
        "(a Farm or RemoteFarm handle) renews its leases every lease_ttl_s/3 by itself, so this is how long a dead "
        "holder's leases outlive it.",
    )
    lease_timeout_s: float = Field(
        120.0, gt=0, description="How long a lease request may wait for a free slot before failing."
    )
    max_queue: int = Field(10_000, ge=0, description="Lease requests that may wait at once; more fail at once.")
    heartbeat_s: float = Field(
        1.0, gt=0, description="Period of the scheduler's worker check (liveness, expiry, inventory)."
    )
    max_scenario_failures: int = Field(
        3,
        ge=1,
        description="A scenario that failed this many times on the farm (a start attempt that failed, not counting a "
        "worker repeating a failure it remembers for failed_start_ttl_s; or a server or worker death "
        "its own code caused: exit, signal, memory or CPU limit, a blocked event loop) is unavailable for the "
        "farm's life: its leases fail at once with ScenarioUnavailable and the last reason. A successful start "
        "clears the failed starts, not the deaths; add_scenarios() with the scenario again clears both.",
    )
    worker_dead_after_s: float = Field(
        30.0, gt=0, description="A worker that has not answered for this long is replaced (if its node lives)."
    )


class GatewayConfig(_Strict):
    """The HTTP gateway for processes that are not Ray drivers."""

    host: str = Field("127.0.0.1", description="Address to bind; anything but loopback needs allow_remote.")
    port: int = Field(8765, ge=0, le=65535, description="Port to bind (0 = any free port).")
    allow_remote: bool = Field(False, description="Allow binding a non-loopback address.")
    max_request_bytes: int = Field(
        4 * 2**20,
        ge=64 * 2**10,
        description="Largest request body the gateway reads; a larger one is refused with 413 before it is parsed. "
        "The default fits a tool call with hosting.max_argument_bytes of arguments, escaped, and a renewal of "
        "10,000 leases.",
    )


class JudgeConfig(_Strict):
    """The LLM judge of sql-mode verification (an OpenAI-compatible chat-completions endpoint)."""

    model: str | None = Field(None, description="Judge model name; null = no judge (sql-mode rows get no verdict).")
    base_url: str | None = Field(None, description="Base URL of the judge's endpoint; null = the openai default.")
    api_key_var: str = Field("OPENAI_API_KEY", description="Environment variable that holds the judge's API key.")
    concurrency: int = Field(8, ge=1, description="Judge requests in flight at once (per process).")
    timeout_s: float = Field(60.0, gt=0, description="Seconds one judge request may take.")
    max_retries: int = Field(2, ge=0, description="Retries of a judge request that failed to connect or got 429/5xx.")
    max_tokens: int = Field(512, ge=16, description="Largest judge reply.")


class VerificationConfig(_Strict):
    """AWM's own tasks: which verifiers, and the limits their (untrusted, generated) code runs under."""

    mode: Literal["code", "sql"] = Field(
        "code",
        description="code: the verifier's own verdict (verify_task_completion -> complete/others); sql: the "
        "verifier's evidence (verify_task) plus an LLM judge (verification.judge).",
    )
    include_degenerate: bool = Field(
        False,
        description="Keep tasks `awm-ray validate` marked degenerate (complete before the agent did anything) or "
        "broken (the verifier does not compile or raises); by default they are skipped with a warning.",
    )
    wall_s: float = Field(10.0, gt=0, description="Seconds one verifier may run before it is killed (error timeout).")
    cpu_s: float | None = Field(None, gt=0, description="CPU seconds one verifier may use; null = wall_s.")
    memory_mb: float = Field(512.0, gt=0, description="Memory one verifier may add to its sandbox (error memory).")
    max_concurrent: int = Field(2, ge=1, description="Verifiers one owner (farm worker, validator) runs at once.")
    evidence_chars: int = Field(
        20_000, ge=100, description="A verifier's result longer than this (as JSON) is cut in rows and the judge prompt."
    )
    judge: JudgeConfig = Field(default_factory=JudgeConfig, description="The sql-mode judge.")


class Config(_Strict):
    """Top-level awm-ray configuration."""

    hosting: HostingConfig = Field(default_factory=HostingConfig, description="Scenario servers on one machine.")
    data: DataConfig = Field(default_factory=DataConfig, description="Which scenarios to load.")
    farm: FarmConfig = Field(default_factory=FarmConfig, description="Ray workers, scheduler and leases.")
    gateway: GatewayConfig = Field(default_factory=GatewayConfig, description="HTTP access to the farm.")
    verification: VerificationConfig = Field(
        default_factory=VerificationConfig, description="AWM's own tasks: verifier mode, limits and judge."
    )


class ConfigError(ValueError):
    """A config file or value that cannot be used; the message is one line naming the file, field and problem."""


def load_config(path: str | Path | None = None, overrides: dict[str, Any] | None = None) -> Config:
    """Read a YAML config (or the defaults), then apply dotted overrides like `{"hosting.backend": "inprocess"}`.

    Raises `OSError` (unreadable file) or `ConfigError` (not YAML, unknown field, value out of range).
    """
    raw: dict[str, Any] = {}
    if path is not None:
        with open(path) as fh:
            try:
                raw = yaml.safe_load(fh) or {}
            except yaml.YAMLError as exc:
                mark = getattr(exc, "problem_mark", None)
                where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
                problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
                raise ConfigError(f"{path}: not valid YAML: {problem}{where}") from None
        if not isinstance(raw, dict):
            raise ConfigError(f"{path}: expected a mapping at the top level, got {type(raw).__name__}")
    for dotted, value in (overrides or {}).items():
        if value is None:
            continue
        node = raw
        *parents, leaf = dotted.split(".")
        for key in parents:
            node = node.setdefault(key, {})
        node[leaf] = value
    try:
        return Config.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(map(str, e['loc']))}: {e['msg'].removeprefix('Value error, ')} (got {e['input']!r:.80})"
            for e in exc.errors()
        )
        raise ConfigError(f"{path or 'configuration'}: {problems}") from None
